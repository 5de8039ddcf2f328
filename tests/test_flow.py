"""Tests for keras_rg.flow: beta functions against closed forms, covariance, the RG step, resolution."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rg.activations import PowerLaw, ScaleAware
from keras_rg.flow import (
    LinearBeta,
    apply_rg_step,
    beta_coefficients,
    beta_norms,
    closed_form_flow,
    covariant_beta,
    fixed_point_distance,
    match_plan,
    paper_beta,
    resolve_targets,
    rg_step,
    run_to_scale,
    variable_betas,
)
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense
from tests.helpers import assert_config_roundtrip


@keras.saving.register_keras_serializable(package="keras_rg_tests")
def cubic_beta(theta):
    """A nonlinear user beta, β(θ) = θ³."""
    return theta * theta * theta


def wrong_shape_beta(theta):
    return keras.ops.sum(theta, axis=0)


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_paper_and_covariant_beta_equal_their_formulas(alpha, rng):
    w, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    bw, bb = paper_beta(w, b, alpha=alpha)
    np.testing.assert_allclose(bw, (alpha - 1.0) * w, rtol=1e-15)
    np.testing.assert_allclose(bb, -alpha * b, rtol=1e-15)
    for delta in (0.5, 1.0, 2.3):
        bw, bb = covariant_beta(w, b, alpha=alpha, delta=delta)
        np.testing.assert_allclose(bw, (alpha - delta) * w, rtol=1e-15)
        np.testing.assert_allclose(bb, -delta * b, rtol=1e-15)
    # Δ = α (the default) is Theorem 1's dimension: W does not run, b runs as in the paper.
    bw, bb = covariant_beta(w, b, alpha=alpha)
    assert np.all(np.asarray(bw) == 0.0)
    np.testing.assert_allclose(bb, -alpha * b, rtol=1e-15)
    assert paper_beta(w, alpha=alpha)[1] is None
    assert beta_coefficients(alpha) == (alpha - 1.0, -alpha)


def _dense_pair(alpha, rng, scale):
    """Two identical float64 dense layers (random W, b); the second will get run parameters."""
    act = ScaleAware("tanh", alpha=alpha)
    layers = [
        ScaleCovariantDense(5, activation=act, scale=scale, dtype="float64") for _ in range(2)
    ]
    for layer in layers:
        layer.build((None, 3))
    w, b = rng.normal(size=(3, 5)), rng.normal(size=(5,))
    layers[0].set_weights([w, b])
    return layers, w, b


def _covariance_error(alpha, delta, lam, c_w, c_b, rng, conv=False):
    """max |T(λx; s) − λ^Δ T(x; λs)| / max |T(λx; s)| with W, b run to λs by coefficients c."""
    s = 0.8
    if conv:
        act = PowerLaw(alpha) if alpha != 1.0 else ScaleAware("gelu", alpha=alpha)
        layers = [
            ScaleCovariantConv1D(4, 3, activation=act, scale=s, dtype="float64") for _ in range(2)
        ]
        for layer in layers:
            layer.build((None, 16, 2))
        w, b = rng.normal(size=(3, 2, 4)), rng.normal(size=(4,))
        layers[0].set_weights([w, b])
        x = rng.normal(size=(6, 16, 2))
    else:
        layers, w, b = _dense_pair(alpha, rng, s)
        x = rng.normal(size=(6, 3))
    layers[1].set_weights([run_to_scale(w, c_w, lam), run_to_scale(b, c_b, lam)])
    lhs = np.asarray(layers[0](lam * x))
    rhs = lam**delta * np.asarray(layers[1](x, scale=lam * s))
    return float(np.max(np.abs(lhs - rhs)) / np.max(np.abs(lhs)))


@pytest.mark.parametrize("conv", [False, True])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.7])
def test_covariant_beta_makes_the_layer_scale_covariant(alpha, conv, rng):
    # float64 layers: the identity is exact, so only float64 rounding (~1e-16 relative per op,
    # a few hundred ops) remains; 1e-12 leaves a wide margin.
    for delta in (0.5, 1.0, 2.3):
        c_w, c_b = beta_coefficients(alpha, "covariant", delta)
        for lam in (0.3, 2.5):
            err = _covariance_error(alpha, delta, lam, c_w, c_b, rng, conv=conv)
            assert err < 1e-12, (alpha, delta, lam, err)


@pytest.mark.parametrize("alpha", [0.5, 1.7])
def test_paper_beta_is_not_covariant_for_alpha_not_one(alpha, rng):
    """The paper's pair (W from Δ = 1, b from Δ = α) fits no Δ: the best Δ on a grid still leaves
    an O(1) relative error (measured ≈ 0.1-0.5, see the report), while α = 1 is exact."""
    c_w, c_b = beta_coefficients(alpha, "paper")
    lam = 2.5
    errors = {
        d: _covariance_error(alpha, d, lam, c_w, c_b, np.random.default_rng(7))
        for d in np.linspace(0.1, 4.0, 79)
    }
    best = min(errors.values())
    assert best > 0.05, errors
    c_w1, c_b1 = beta_coefficients(1.0, "paper")
    assert _covariance_error(1.0, 1.0, lam, c_w1, c_b1, rng) < 1e-12


def test_run_to_scale_is_the_exact_flow_and_reverse_steps_are_its_euler_scheme(rng):
    theta, c = rng.normal(size=(7,)), -0.8
    # Group law θ(λ1 λ2 s) = run(run(θ, λ1), λ2) and the logarithmic derivative at λ = 1 is β.
    np.testing.assert_allclose(
        run_to_scale(run_to_scale(theta, c, 1.7), c, 0.4), run_to_scale(theta, c, 0.68), rtol=1e-14
    )
    h = 1e-6
    deriv = (run_to_scale(theta, c, math.exp(h)) - run_to_scale(theta, c, math.exp(-h))) / (2 * h)
    np.testing.assert_allclose(deriv, c * theta, rtol=1e-8)
    # "reverse" steps θ ← θ + εβ(θ) with ε = log λ / n are Euler steps of dθ/dlog s = β:
    # (1 + εc)^n → λ^c with error ≈ n ε² c² / 2 relative.
    lam, n = 2.0, 4000
    eps = math.log(lam) / n
    euler = closed_form_flow(theta, c, eps, n, direction="reverse")
    exact = run_to_scale(theta, c, lam)
    bound = n * (eps * c) ** 2
    np.testing.assert_allclose(euler, exact, rtol=bound)
    assert np.max(np.abs(euler / exact - 1)) > bound / 10  # the Euler error is really there


@pytest.mark.parametrize("direction", ["paper", "reverse"])
def test_rg_step_iterates_to_the_closed_form(direction, rng):
    theta0 = rng.normal(size=(4, 3))
    for alpha in (0.5, 1.0, 2.0):
        c_w, c_b = beta_coefficients(alpha)
        for c in (c_w, c_b):
            theta = theta0
            for _ in range(20):
                theta = np.asarray(rg_step(theta, LinearBeta(c), 0.05, direction))
            # float64: 20 steps of one rounding each, far below 1e-13.
            np.testing.assert_allclose(
                theta, closed_form_flow(theta0, c, 0.05, 20, direction), rtol=1e-13
            )
    # The paper's sign expands b for every α > 0 and the reverse direction contracts it.
    s = 1.0 if direction == "paper" else -1.0
    assert (closed_form_flow([1.0], -0.7, 0.1, 5, direction)[0] > 1.0) == (s > 0)


def test_fixed_point_distance_and_beta_norms_match_numpy(rng):
    values = [rng.normal(size=(3, 4)), rng.normal(size=(4,)), rng.normal(size=(2,))]
    betas = [LinearBeta(-0.5), LinearBeta(2.0), cubic_beta]
    expected = math.sqrt(
        np.sum((-0.5 * values[0]) ** 2) + np.sum((2.0 * values[1]) ** 2) + np.sum(values[2] ** 6)
    )
    assert fixed_point_distance(values, betas) == pytest.approx(expected, rel=1e-14)
    variables = [keras.Variable(v.astype("float32")) for v in values]
    squares = np.asarray(beta_norms(list(zip(variables, betas, strict=True))))
    # float32 sums of ≤ 12 terms: relative error ≤ 12·2^-24 ≈ 7e-7.
    np.testing.assert_allclose(np.sqrt(squares.sum()), expected, rtol=2e-6)
    assert fixed_point_distance([np.zeros(3)], [LinearBeta(5.0)]) == 0.0


# ----------------------------------------------------------------------------- variable updates


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_apply_rg_step_eager_and_compiled(dtype):
    v = keras.Variable(np.array([1.0, -2.0, 4.0]), dtype=dtype)
    apply_rg_step([(v, LinearBeta(-0.5))], 0.1)  # paper: θ(1 + 0.05)
    step = tf.function(lambda: apply_rg_step([(v, LinearBeta(-0.5))], 0.1, "reverse"))
    step()  # reverse: θ(1 − 0.05)
    # float16 stores 11 significant bits: relative rounding 2^-11 per store, two stores.
    rtol = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-14}[dtype]
    np.testing.assert_allclose(
        np.asarray(v, dtype=np.float64), np.array([1.0, -2.0, 4.0]) * 1.05 * 0.95, rtol=rtol
    )
    assert keras.backend.standardize_dtype(v.dtype) == dtype


def test_apply_rg_step_cross_replica(two_cpu_strategy):
    with two_cpu_strategy.scope():
        v = keras.Variable(np.ones(3, dtype="float32"))
    with two_cpu_strategy.scope():
        tf.function(lambda: apply_rg_step([(v, LinearBeta(1.0))], 0.25))()
    for component in two_cpu_strategy.experimental_local_results(v.value):
        np.testing.assert_array_equal(np.asarray(component), np.full(3, 0.75, "float32"))


# ----------------------------------------------------------------------------- resolution


def _mixed_model():
    inputs = keras.Input((8, 2))
    h = ScaleCovariantConv1D(3, 3, alpha=0.5, name="conv_ours")(inputs)
    h = keras.layers.Conv1D(3, 3, name="conv_plain")(h)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Flatten()(h)
    h = ScaleCovariantDense(4, alpha=2.0, scale_mode="trainable", name="dense_ours")(h)
    frozen = keras.layers.Dense(4, name="frozen")
    frozen.trainable = False
    h = frozen(h)
    sub = keras.Sequential([keras.layers.Dense(2, name="head")], name="sub")
    return keras.Model(inputs, sub(h))


def test_resolution_defaults_from_each_layers_alpha():
    model = _mixed_model()
    targets = resolve_targets(model)
    got = {(t.layer, t.role): t.coefficient for t in targets}
    assert got == {
        ("conv_ours", "kernel"): -0.5,
        ("conv_ours", "bias"): -0.5,
        ("dense_ours", "kernel"): 1.0,
        ("dense_ours", "bias"): -2.0,
    }
    # log_scale (trainable mode) is never flowed.
    assert not any("log_scale" in t.path for t in targets)


def test_resolution_plain_layers_user_betas_and_selectors():
    model = _mixed_model()
    targets = resolve_targets(
        model,
        beta="covariant",
        delta=1.0,
        alpha={"conv_plain": 1.5, "head": 0.5},
        betas={"bn/gamma": cubic_beta, "head/bias": None, "conv_ours": LinearBeta(3.0)},
    )
    got = {(t.layer, t.role): (t.coefficient, t.beta) for t in targets}
    assert got[("conv_plain", "kernel")][0] == 0.5  # α − Δ
    assert got[("conv_plain", "bias")][0] == -1.0  # −Δ
    assert got[("head", "kernel")][0] == -0.5
    assert ("head", "bias") not in got  # excluded with None
    assert got[("bn", "gamma")][1] is cubic_beta
    assert ("bn", "beta") not in got  # only the keyed variable
    assert got[("conv_ours", "kernel")][1] == LinearBeta(3.0)  # a layer key overrides defaults
    assert got[("dense_ours", "kernel")][0] == 1.0  # ours: α − Δ with their own α = 2
    assert not any(t.layer == "frozen" for t in targets)  # non-trainable layer skipped

    by_type = resolve_targets(model, layer_types=[keras.layers.Conv1D], alpha=1.0)
    assert {t.layer for t in by_type} == {"conv_plain"}
    by_name = resolve_targets(model, layer_types="ScaleCovariantDense")
    assert {t.layer for t in by_name} == {"dense_ours"}
    by_glob = resolve_targets(model, layer_names=["conv_*"], alpha=1.0)
    assert {t.layer for t in by_glob} == {"conv_ours", "conv_plain"}
    by_pred = resolve_targets(model, predicate=lambda layer: layer.name.endswith("ours"))
    assert {t.layer for t in by_pred} == {"conv_ours", "dense_ours"}

    # With a global alpha, BatchNormalization's gamma/beta get no default beta: listed once.
    with pytest.warns(UserWarning, match="skips 2 trainable weight") as caught:
        plan = variable_betas(model, alpha=1.0)
    message = str(caught[0].message)
    assert "bn/gamma (BatchNormalization has no `kernel` or `bias`)" in message
    assert "bn/beta" in message and len(caught) == 1
    assert set(plan) == {
        f"{n}/{r}"
        for n in ("conv_ours", "conv_plain", "dense_ours", "head")
        for r in ("kernel", "bias")
    }
    pairs = match_plan(model.trainable_variables, plan)
    assert len(pairs) == 8


def test_linear_beta_serializes_and_validates():
    assert_config_roundtrip(LinearBeta(-0.25))
    with pytest.raises(ValueError, match="coefficient"):
        LinearBeta(float("nan"))
    with pytest.raises(TypeError, match="coefficient"):
        LinearBeta("1")


def test_bad_input_names_the_argument():
    model = _mixed_model()
    with pytest.raises(ValueError, match="Received an invalid value for `epsilon`.*epsilon=-0.1"):
        rg_step([1.0], LinearBeta(1.0), -0.1)
    with pytest.raises(ValueError, match="`epsilon`.*epsilon=inf"):
        closed_form_flow([1.0], 1.0, float("inf"), 3)
    with pytest.raises(ValueError, match="`direction`.*'sideways'"):
        rg_step([1.0], LinearBeta(1.0), 0.1, direction="sideways")
    with pytest.raises(ValueError, match="`beta`.*'wilson'"):
        beta_coefficients(1.0, beta="wilson")
    with pytest.raises(ValueError, match="`delta`"):
        beta_coefficients(1.0, beta="paper", delta=2.0)
    with pytest.raises(ValueError, match="`alpha`"):
        beta_coefficients(-1.0)
    # α = 0 is a scale-invariant layer: the paper's β is (−1, 0), the covariant one (0, 0)
    assert beta_coefficients(0.0) == (-1.0, 0.0)
    assert beta_coefficients(0.0, beta="covariant") == (0.0, 0.0)
    with pytest.raises(ValueError, match="`n_steps`"):
        closed_form_flow([1.0], 1.0, 0.1, -1)
    with pytest.raises(TypeError, match="`n_steps`"):
        closed_form_flow([1.0], 1.0, 0.1, 2.0)
    with pytest.raises(TypeError, match="`epsilon`.*'1e-3'"):
        rg_step([1.0], LinearBeta(1.0), "1e-3")
    with pytest.raises(TypeError, match="`epsilon`.*True"):
        closed_form_flow([1.0], 1.0, True, 1)
    with pytest.raises(ValueError, match="`betas`.*shape"):
        resolve_targets(model, betas={"head/kernel": wrong_shape_beta})
    with pytest.raises(ValueError, match="`betas`.*'no_such_layer'"):
        resolve_targets(model, betas={"no_such_layer": cubic_beta})
    with pytest.raises(ValueError, match="conflicting entries in `betas`"):
        resolve_targets(model, betas={"head/*": cubic_beta, "*/kernel": LinearBeta(1.0)})
    with pytest.raises(TypeError, match="`betas`"):
        resolve_targets(model, betas=[cubic_beta])
    with pytest.raises(TypeError, match="`predicate`"):
        resolve_targets(model, predicate="dense")
    with pytest.raises(ValueError, match="`alpha"):
        resolve_targets(model, alpha={"head": -0.5})
    # An unknown layer name (a typo) raises, listing the model's layers.
    with pytest.raises(
        ValueError, match="unknown layer names in `layer_names`: \\['hed'\\].*'head'"
    ):
        resolve_targets(model, layer_names=["conv_*", "hed"])
    with pytest.raises(ValueError, match="unknown layer names in `alpha`: \\['nope'\\]"):
        resolve_targets(model, alpha={"nope": 1.0})
    # Names that exist but select nothing with a default beta: a warning from the function.
    with pytest.warns(UserWarning, match="selected no variables.*layer_names=\\('bn',\\)"):
        assert resolve_targets(model, layer_names="bn") == []


def test_closed_form_flow_steps_is_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="`steps` is deprecated.*`n_steps`"):
        old = closed_form_flow([1.0], -0.5, 0.1, steps=2)
    np.testing.assert_allclose(old, closed_form_flow([1.0], -0.5, 0.1, n_steps=2), rtol=0)
    with pytest.raises(TypeError, match="pass `n_steps` only"):
        closed_form_flow([1.0], -0.5, 0.1, n_steps=3, steps=2)
