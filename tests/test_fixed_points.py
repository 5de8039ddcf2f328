"""Tests for keras_rg.fixed_points: Definition 2 report against closed forms and the realised flow."""

import keras
import numpy as np
import pytest

from keras_rg.fixed_points import fixed_point_report
from keras_rg.flow import apply_rg_step, resolve_targets
from keras_rg.layers import ScaleCovariantDense


@keras.saving.register_keras_serializable(package="keras_rg_tests")
def cube_beta(theta):
    """A nonlinear user beta, β(θ) = θ³."""
    return theta * theta * theta


def _model():
    """α < 1, = 1, > 1 (zero biases, the default initializer) and a plain Dense."""
    inputs = keras.Input((3,))
    h = ScaleCovariantDense(4, alpha=0.5, name="a05")(inputs)
    h = ScaleCovariantDense(4, alpha=1.0, name="a10")(h)
    h = ScaleCovariantDense(4, alpha=2.0, name="a20")(h)
    return keras.Model(inputs, keras.layers.Dense(2, name="plain")(h))


@pytest.mark.parametrize("direction", ["paper", "reverse"])
def test_factors_stability_and_fixed_points_match_closed_forms(direction):
    model = _model()
    eps, s = 0.1, (1.0 if direction == "paper" else -1.0)
    report = fixed_point_report(model, eps, direction, alpha=1.5, betas={"plain/bias": cube_beta})
    entries = {(e.layer, e.role): e for e in report.entries}
    assert len(entries) == 8
    for name, alpha in (("a05", 0.5), ("a10", 1.0), ("a20", 2.0), ("plain", 1.5)):
        kernel = entries[(name, "kernel")]
        assert kernel.coefficient == alpha - 1.0
        assert kernel.factor == pytest.approx(1.0 - s * eps * (alpha - 1.0), abs=1e-15)
        assert kernel.marginal == (alpha == 1.0)
        w = model.get_layer(name).kernel.numpy().astype(np.float64)
        assert kernel.beta_norm == pytest.approx(abs(alpha - 1.0) * np.linalg.norm(w), rel=1e-6)
        assert kernel.at_fixed_point == (alpha == 1.0)  # β ≡ 0 only when marginal
        if name != "plain":
            bias = entries[(name, "bias")]
            assert bias.factor == pytest.approx(1.0 + s * eps * alpha, abs=1e-15)
            # Zero-initialised biases sit at the fixed point b* = 0 ...
            assert bias.at_fixed_point and bias.beta_norm == 0.0
            # ... which the paper's sign makes unstable (it expands b) and the reverse one stable.
            assert bias.stability == ("expanding" if direction == "paper" else "contracting")
    paper_kernel = {"a05": "expanding", "a10": "marginal", "a20": "contracting"}
    for name, stability in paper_kernel.items():
        flipped = {"expanding": "contracting", "contracting": "expanding"}.get(stability, stability)
        expected = stability if direction == "paper" else flipped
        assert entries[(name, "kernel")].stability == expected
    user = entries[("plain", "bias")]
    assert user.coefficient is None and user.alpha is None
    assert np.isnan(user.factor) and user.stability == "unknown"  # θ = 0: no ratio
    assert report.total_beta_norm == pytest.approx(
        np.sqrt(sum(e.beta_norm**2 for e in report.entries)), rel=1e-12
    )
    assert set(report.select(marginal=True)) == {"a10/kernel"}
    text = str(report)
    assert "a20/kernel" in text and "contracting" in text and f"ε = {eps:g}" in text


def test_factor_predicts_the_realised_zero_gradient_flow(rng):
    """θ_t = f^t θ_0 for linear β; for a nonlinear β the factor is the one-step norm ratio."""
    model = _model()
    model.get_layer("plain").bias.assign(rng.normal(size=2).astype("float32"))
    selection = dict(alpha=1.5, betas={"plain/bias": cube_beta})
    eps, steps = 0.05, 10
    report = fixed_point_report(model, eps, **selection)
    nonlinear = {e.variable: e.factor for e in report.entries if e.coefficient is None}
    before = {
        t.path: t.variable.numpy().astype(np.float64) for t in resolve_targets(model, **selection)
    }
    pairs = [(t.variable, t.beta) for t in resolve_targets(model, **selection)]
    apply_rg_step(pairs, eps)
    one_step = {p: v.numpy().astype(np.float64) for p, v in ((v.path, v) for v, _ in pairs)}
    for path, factor in nonlinear.items():
        ratio = np.linalg.norm(one_step[path]) / np.linalg.norm(before[path])
        assert ratio == pytest.approx(factor, rel=1e-6)  # float32 step vs float64 report
    for _ in range(steps - 1):
        apply_rg_step(pairs, eps)
    for e in report.entries:
        if e.coefficient is None:
            continue
        var = next(v for v, _ in pairs if v.path == e.variable)
        norm0 = np.linalg.norm(before[e.variable])
        # 10 float32 steps, ≤ 3 roundings of 2^-24 each: 2e-6 relative.
        assert np.linalg.norm(var.numpy()) == pytest.approx(
            abs(e.factor) ** steps * norm0, rel=2e-6, abs=1e-12
        )


def test_atol_and_bad_input():
    model = _model()
    loose = fixed_point_report(model, 0.1, atol=1e6)
    assert all(e.at_fixed_point for e in loose.entries)
    zero = fixed_point_report(model, 0.0)
    assert {e.stability for e in zero.entries} == {"marginal"}  # ε = 0: f = 1 for every variable
    with pytest.raises(ValueError, match="`epsilon`.*epsilon=-1"):
        fixed_point_report(model, -1.0)
    with pytest.raises(ValueError, match="`atol`"):
        fixed_point_report(model, 0.1, atol=-1.0)
    with pytest.raises(ValueError, match="`direction`"):
        fixed_point_report(model, 0.1, "both")
    with pytest.raises(ValueError, match="`beta`"):
        fixed_point_report(model, 0.1, beta="other")
