"""The Theorem 3.1 teacher-student experiment: its pieces against their definitions, the boundary-
aware coupling inference, the controls, the deprecated alias; the example runs."""

import importlib
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_rg.experiments.teacher_student import (
    TowardsReference,
    build_fcdnn,
    half_squared_error,
    teacher_student_experiment,
)
from keras_rg.plotting.couplings import plot_coupling_trajectory
from keras_rg.systems.coupling_fit import fit_couplings
from keras_rg.systems.coupling_inference import coupling_test, laplace_couplings, profile_interval
from keras_rg.systems.exponential_family import RadialExponentialFamily
from tests.helpers import assert_config_roundtrip, assert_model_roundtrip

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_loss_terms_are_eq_48():
    rng = np.random.default_rng(0)
    y, p = rng.uniform(size=(5, 3)), rng.uniform(size=(5, 3))
    got = np.asarray(half_squared_error(y.astype("float32"), p.astype("float32")))
    np.testing.assert_allclose(got, 0.5 * np.sum((p - y) ** 2, axis=1), rtol=1e-6)
    ref = rng.normal(size=(4, 2)).astype("float32")
    w = rng.normal(size=(4, 2)).astype("float32")
    reg = TowardsReference(0.3, ref)
    assert float(reg(keras.ops.convert_to_tensor(w))) == pytest.approx(
        0.3 * np.sum((w - ref) ** 2), rel=1e-6
    )
    back = assert_config_roundtrip(reg)
    np.testing.assert_array_equal(back.reference, reg.reference)
    with pytest.raises(ValueError, match="`tau`"):
        TowardsReference(-1.0, ref)


def test_student_regularisers_sum_to_tau_times_squared_weight_distance(tmp_path):
    teacher = build_fcdnn(3, (5,), 2, seed=1)
    refs = [np.asarray(w) for w in teacher.get_weights()]
    student = build_fcdnn(3, (5,), 2, seed=2, references=refs, tau=0.05)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    student(x)
    dist2 = sum(np.sum((a - b) ** 2) for a, b in zip(student.get_weights(), refs, strict=True))
    assert float(sum(student.losses)) == pytest.approx(0.05 * dist2, rel=1e-5)
    student.compile("sgd", half_squared_error)
    assert_model_roundtrip(student, x, tmp_path)


def test_experiment_records_what_it_claims():
    result = teacher_student_experiment(
        theta=(0.5, 0.1), dim=4, hidden=(6,), features=3, samples=200, epochs=6,
        steps_per_epoch=5, every_n_epochs=3, seed=3,
    )  # fmt: skip
    assert list(result.epochs) == [0, 3, 6] and result.theta_t.shape == (3, 2)
    np.testing.assert_array_equal(result.theta_star, [0.5, 0.1])  # Z(λ) = λ²: θ* = θ
    # θ̃(W*) is the fit of the teacher's outputs on the same inputs.
    x = RadialExponentialFamily((0.5, 0.1), dim=4).sample(200, seed=3).numpy()
    y = np.asarray(build_fcdnn(4, (6,), 3, seed=4)(x), dtype=np.float32)
    np.testing.assert_allclose(result.theta_teacher, fit_couplings(y.astype(float)).theta, 1e-12)
    assert result.loss.shape == (6,) and np.all(np.isfinite(result.loss))
    assert set(result.cumulants) == {"initial", "final", "teacher"}
    assert "θ̃(W*) = θ* within 3 SE" in result.summary()
    fig = plot_coupling_trajectory(result)
    assert len(fig.axes) == 2


def test_experiment_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`tau`"):
        teacher_student_experiment(tau=-1.0)
    with pytest.raises(ValueError, match="`optimizer`.*'adam'"):
        teacher_student_experiment(optimizer="adam")
    with pytest.raises(ValueError, match="`epochs`"):
        teacher_student_experiment(epochs=0)
    with pytest.raises(ValueError, match="θ_r > 0"):
        teacher_student_experiment(theta=(0.5, -0.1))
    with pytest.raises(ValueError, match="`trajectory`"):
        plot_coupling_trajectory({"epoch": [0, 1]})


def test_example_runs_quick():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "exponential_family_rg.py"), "--quick"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "θ*" in out.stdout and "W*" in out.stdout and "within 3 SE" in out.stdout


def test_deprecated_alias_warns():
    sys.modules.pop("keras_rg.systems.teacher_student", None)
    with pytest.warns(DeprecationWarning, match="keras_rg.experiments.teacher_student"):
        old = importlib.import_module("keras_rg.systems.teacher_student")
    assert old.teacher_student_experiment is teacher_student_experiment


def test_profile_interval_matches_fisher_inside_and_is_cut_at_the_bound():
    x = RadialExponentialFamily((0.5, 0.1), dim=4).sample(5000, seed=0).numpy()
    fit = fit_couplings(x, 2)
    for i in range(2):  # interior: the profile interval is the Wald interval to O(n^-1/2)
        lo, hi = profile_interval(x, i, 2, fit=fit)
        np.testing.assert_allclose([lo, hi], fit.theta[i] + np.array([-1.96, 1.96]) *
                                   fit.stderr[i], atol=0.15 * fit.stderr[i])  # fmt: skip
    test = coupling_test(x, (0.5, 0.1))
    assert test.p_value > 0.01 and test.covers((0.5, 0.1)).all()  # the truth is accepted
    assert coupling_test(x, (0.7, 0.1)).p_value < 1e-6  # 5 s.e. away is rejected
    # narrow radii (bounded features): theta_1 sits at the bound; the interval starts at 0
    f = 1.0 / (1.0 + np.exp(-0.3 * np.random.default_rng(0).normal(size=(1000, 4))))
    fit = fit_couplings(f, 2)
    assert fit.at_bound[0]
    lo, hi = profile_interval(f, 0, 2, fit=fit)
    assert lo == 0.0 and 0.0 < hi < fit.stderr[0]  # far narrower than the invalid Fisher error
    # the closed (Laplace) form of the natural-domain fit from the radius mean and variance
    rho = np.sum(f**2, axis=1)
    natural = fit_couplings(f, 2, domain="natural").theta
    np.testing.assert_allclose(laplace_couplings(rho.mean(), rho.var(), 4), natural, rtol=0.02)
    assert natural[0] < 0 and rho.mean() ** 2 / rho.var() > 4 - 2


def test_controls_run_and_are_recorded():
    kwargs = dict(dim=4, hidden=(6,), features=3, samples=200, epochs=4, steps_per_epoch=5,
                  every_n_epochs=2, jit_compile=False, seed=3)  # fmt: skip
    plain = teacher_student_experiment(optimizer="gradient_descent", **kwargs)
    free = teacher_student_experiment(tau=0.0, **kwargs)
    assert plain.config["optimizer"] == "gradient_descent" and free.config["tau"] == 0.0
    # without the tau term and without noise the loss is the plain feature-matching loss
    assert np.all(np.diff(plain.loss) <= 1e-6)
    for r in (plain, free):
        assert r.test.theta0.tolist() == [0.5, 0.1] and len(r.test.intervals) == 2
        assert 0.0 <= r.test.p_value <= 1.0
