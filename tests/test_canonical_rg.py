"""Canonical RG (Gong & Xia, eq. 30–33): flow, fixed point, partition invariance, rescaled data."""

import numpy as np
import pytest

from keras_rg.systems.canonical_rg import (
    PowerLawFieldScale,
    canonical_flow,
    fixed_point,
    partition_invariance,
    rescale_samples,
    rg_couplings,
)
from keras_rg.systems.coupling_fit import fit_couplings
from keras_rg.systems.exponential_family import RadialExponentialFamily
from tests.helpers import assert_config_roundtrip

THETA = np.array([0.8, 0.3, 0.05])
R = np.arange(1, 4)


def test_power_law_flow_is_theta_lambda_to_minus_eta_r():
    lam = np.geomspace(1.0, 1e6, 25)
    for eta in (-0.3, 0.0, 0.25, 1.0):
        flow = canonical_flow(THETA, lam, field_scale=eta)
        np.testing.assert_allclose(flow.theta, THETA * lam[:, None] ** (-eta * R), rtol=1e-13)
        # g_r = θ_r/θ_1^r is invariant along every canonical flow.
        np.testing.assert_allclose(
            flow.dimensionless, np.broadcast_to(flow.dimensionless[0], (25, 3)), rtol=1e-12
        )
    np.testing.assert_allclose(
        rg_couplings(THETA, 10.0, PowerLawFieldScale(0.5)), THETA * 10 ** (-R / 2)
    )


def test_power_law_fixed_point_is_analytic():
    marginal = fixed_point(THETA, 0.0)
    np.testing.assert_array_equal(marginal.theta, THETA)
    assert marginal.kinds == ("marginal",) * 3 and marginal.method == "analytic"
    irrelevant = fixed_point(THETA, 0.4)
    np.testing.assert_array_equal(irrelevant.theta, 0.0)
    np.testing.assert_allclose(irrelevant.exponents, -0.4 * R)
    relevant = fixed_point(THETA, -0.1)
    assert np.all(np.isinf(relevant.theta)) and relevant.kinds == ("relevant",) * 3
    # The default Z(λ) = λ² is the η = 0 power law.
    np.testing.assert_array_equal(fixed_point(THETA).theta, THETA)


def test_numerical_fixed_point_of_callables():
    # Z(λ) = λ²(1 + 1/λ) → θ* = θ; Z(λ) = λ^1.9 log(1 + λ) → 0; Z = λ^2.05/log(e+λ) → ∞;
    # Z = λ²(2 + sin log λ) has no limit.
    finite = fixed_point(THETA, lambda lam: lam**2 * (1 + 1 / lam))
    assert finite.converged and finite.method == "numerical"
    np.testing.assert_allclose(finite.theta, THETA, rtol=1e-8 * 3)
    zero = fixed_point(THETA, lambda lam: lam**1.9 * np.log1p(lam))
    assert zero.converged and np.all(zero.theta == 0) and zero.kinds == ("irrelevant",) * 3
    inf = fixed_point(THETA, lambda lam: lam**2.05 / np.log(np.e + lam))
    assert inf.converged and np.all(np.isinf(inf.theta))
    none = fixed_point(THETA, lambda lam: lam**2 * (2 + np.sin(np.log(lam))))
    assert not none.converged and none.kinds == ("undetermined",) * 3


def test_z_equal_lambda_squared_keeps_theta_and_partition_function_invariant():
    lam = np.geomspace(1.0, 1e4, 9)
    flow = canonical_flow(THETA, lam)
    np.testing.assert_array_equal(flow.theta, np.broadcast_to(THETA, flow.theta.shape))
    check = partition_invariance(THETA, lam, dim=5)
    assert check.invariant and np.max(np.abs(check.log_ratio)) == 0.0


def test_partition_function_changes_exactly_as_predicted_otherwise():
    # Z_λ = (λ²/Z(λ))^(N/2) Z: computed from two exact log-partitions (magnitudes ~10-100), equal
    # to the analytic value to ~1e-12.
    lam = np.geomspace(1.0, 1e3, 7)
    A = np.array([[1.5, 0.3], [0.3, 0.8]])
    for field_scale in (0.3, lambda x: x**2 * (1 + 1 / x)):
        check = partition_invariance(THETA, lam, field_scale, A=A)
        assert not check.invariant
        np.testing.assert_allclose(check.log_ratio, check.expected, rtol=1e-12, atol=1e-12)


def test_rescaled_samples_have_the_flowed_couplings():
    # Samples of θ mapped by x ↦ λ Z(λ)^(-1/2) x: their MLE is exactly the flowed MLE and lies
    # within 4 standard errors of θ^λ.
    dist = RadialExponentialFamily(THETA[:2], dim=3)
    x = dist.sample(4000, seed=4).numpy()
    lam, eta = 7.0, 0.5
    fit = fit_couplings(x)
    moved = fit_couplings(rescale_samples(x, lam, eta))
    np.testing.assert_allclose(moved.theta, rg_couplings(fit.theta, lam, eta), rtol=1e-8)
    target = rg_couplings(THETA[:2], lam, eta)
    assert np.all(np.abs(moved.theta - target) < 4 * moved.stderr)


def test_power_law_field_scale_config_round_trip():
    back = assert_config_roundtrip(PowerLawFieldScale(eta=0.25))
    assert back(3.0) == pytest.approx(3.0**1.75, rel=1e-15)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="λ > 0"):
        rg_couplings(THETA, 0.0)
    with pytest.raises(ValueError, match="λ > 0"):
        canonical_flow(THETA, [1.0, -2.0])
    with pytest.raises(ValueError, match="λ > 0"):
        rescale_samples(np.ones((3, 2)), -1.0)
    with pytest.raises(ValueError, match="θ_r > 0"):
        rg_couplings([1.0, -0.1], 2.0)
    with pytest.raises(TypeError, match="`field_scale`"):
        rg_couplings(THETA, 2.0, field_scale="lambda^2")
    with pytest.raises(ValueError, match="Z\\(λ\\) must be finite and > 0"):
        rg_couplings(THETA, 2.0, field_scale=lambda lam: -lam)
    with pytest.raises(ValueError, match="`eta`"):
        PowerLawFieldScale(np.inf)
    with pytest.raises(ValueError, match="`lambda_max`"):
        fixed_point(THETA, lambda lam: lam**2, lambda_max=5.0)


def test_fixed_point_class_has_a_distinct_name_and_a_deprecated_alias():
    from keras_rg.systems import canonical_rg

    star = fixed_point([1.0, 0.5], field_scale=0.25)
    assert type(star) is canonical_rg.CanonicalFixedPoint
    np.testing.assert_array_equal(star.exponents, [-0.25, -0.5])  # y_r = −η r
    with pytest.warns(DeprecationWarning, match="FixedPoint is deprecated.*CanonicalFixedPoint"):
        assert canonical_rg.FixedPoint is canonical_rg.CanonicalFixedPoint
    with pytest.raises(TypeError, match="`eta`.*'0.5'"):
        canonical_rg.PowerLawFieldScale(eta="0.5")
