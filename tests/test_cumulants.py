"""Connected correlation functions: k-statistics, jackknife errors, exact values under the family."""

import numpy as np
import pytest
from scipy import stats

from keras_rg.systems.cumulants import connected_correlations, model_connected_correlations
from keras_rg.systems.exponential_family import RadialExponentialFamily

A3 = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]])


def test_estimates_agree_with_scipy_k_statistics():
    x = np.random.default_rng(0).normal(size=(400, 3)) * [1.0, 2.0, 3.0] + 1.0
    est = connected_correlations(x)
    for i in range(3):
        assert abs(est.second[i] - stats.kstat(x[:, i], 2)) < 1e-12
        assert abs(est.fourth[i] - stats.kstat(x[:, i], 4)) < 1e-10
    rho = np.sum(x * x, axis=1)
    np.testing.assert_allclose(est.radial, [stats.kstat(rho, k) for k in range(1, 5)], rtol=1e-10)
    np.testing.assert_allclose(est.covariance, np.cov(x, rowvar=False), rtol=1e-12)


def test_gaussian_model_values_are_closed_form():
    # R = 1, A = I: x ~ N(0, I/(2θ)); ρ ~ Gamma(N/2, rate θ) with κ_n = (N/2)(n−1)!/θ^n.
    exact = model_connected_correlations([0.7], dim=1024)
    a, t = 512.0, 0.7
    np.testing.assert_allclose(exact.radial, [a / t, a / t**2, 2 * a / t**3, 6 * a / t**4], 1e-12)
    np.testing.assert_allclose(exact.second, 1 / (2 * t), rtol=1e-13)
    assert np.max(np.abs(exact.fourth)) < 1e-14 and abs(exact.kurtosis) < 1e-15


def test_estimates_match_model_values_within_jackknife_errors():
    theta = [0.3, 0.2]
    x = RadialExponentialFamily(theta, A=A3, dtype="float64").sample(60_000, seed=5).numpy()
    est = connected_correlations(x, A=A3)
    exact = model_connected_correlations(theta, A=A3)
    for key in ("covariance", "second", "fourth", "radial", "kurtosis"):
        z = (np.asarray(getattr(est, key)) - getattr(exact, key)) / est.stderr[key]
        # 4.5 jackknife standard errors (≈ 7e-6 two-sided per entry for a normal z; the
        # 20-block jackknife error is itself uncertain by ~16 %).
        assert np.all(np.abs(z) < 4.5), (key, z)
    # The family is platykurtic for θ_2 > 0: a negative fourth cumulant, resolved by the data.
    assert np.all(exact.fourth < 0) and np.all(est.fourth + 3 * est.stderr["fourth"] < 0)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="shape \\(n, N\\)"):
        connected_correlations(np.ones(10))
    with pytest.raises(ValueError, match="`blocks`"):
        connected_correlations(np.ones((100, 2)), blocks=1)
    with pytest.raises(ValueError, match="too few samples"):
        connected_correlations(np.ones((100, 2)), blocks=20)
    with pytest.raises(ValueError, match="mismatched dimensions"):
        connected_correlations(np.ones((400, 2)), A=A3)
    with pytest.raises(ValueError, match="θ_r > 0"):
        model_connected_correlations([0.0], dim=2)
    with pytest.raises(ValueError, match="mismatched dimensions"):
        model_connected_correlations([1.0], dim=2, A=A3)
