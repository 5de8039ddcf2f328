"""fit_couplings: maximum likelihood in the radial family, Fisher errors, equivariance, errors."""

import math

import numpy as np
import pytest
from scipy import stats

from keras_rg.systems.coupling_fit import dimensionless_couplings, fit_couplings
from keras_rg.systems.exponential_family import RadialExponentialFamily, radial_moment

A3 = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 3.0]])


def test_mle_recovers_theta_within_three_standard_errors_on_five_seeds():
    theta = np.array([0.5, 0.1])
    dist = RadialExponentialFamily(theta, A=A3)
    for seed in range(5):
        x = dist.sample(3000, seed=seed).numpy()
        fit = fit_couplings(x, order=2, A=A3)
        assert fit.converged and fit.in_family
        assert np.all(np.abs(fit.theta - theta) < 3 * fit.stderr), (seed, fit.theta, fit.stderr)


def test_standard_errors_match_the_spread_across_replicates():
    # 40 replicate fits on radii: the sample std of θ̂_r over replicates against the mean Fisher
    # standard error. With 39 degrees of freedom, s/σ lies in [0.67, 1.33] with probability 99.9 %
    # (χ² quantiles); the asymptotic error at n = 2000 is a few per cent.
    theta = np.array([1.0, 0.3, 0.05])
    dist = RadialExponentialFamily(theta, dim=6)
    u = np.random.default_rng(7).uniform(size=(40, 2000))
    rho = dist.radial_quantile(u).numpy()
    fits = [fit_couplings(rho=r, dim=6, order=3, domain="natural") for r in rho]
    est = np.array([f.theta for f in fits])
    se = np.array([f.stderr for f in fits]).mean(axis=0)
    ratio = est.std(axis=0, ddof=1) / se
    assert np.all((ratio > 0.67) & (ratio < 1.33)), ratio
    # The estimates are unbiased to within their standard error of the mean (4σ).
    assert np.all(np.abs(est.mean(axis=0) - theta) < 4 * se / math.sqrt(40))


def test_order_one_fit_is_the_gamma_closed_form():
    # R = 1: ρ ~ Gamma(N/2, rate θ); θ̂ = (N/2)/mean(ρ), Fisher SE = θ̂ / sqrt(n N/2).
    rho = stats.gamma(2.5, scale=1 / 0.7).rvs(size=500, random_state=1)
    fit = fit_couplings(rho=rho, dim=5, order=1)
    assert abs(fit.theta[0] / (2.5 / rho.mean()) - 1) < 1e-12
    assert abs(fit.stderr[0] / (fit.theta[0] / math.sqrt(500 * 2.5)) - 1) < 1e-10
    # The mean log-likelihood is that of the Gamma law plus the sphere's Jacobian.
    loglik = np.mean(stats.gamma(2.5, scale=1 / fit.theta[0]).logpdf(rho))
    jac = np.mean(-(2.5 - 1) * np.log(rho)) - 2.5 * math.log(math.pi) + math.lgamma(2.5)
    assert abs(fit.log_likelihood - (loglik + jac)) < 1e-10


def test_fit_matches_moments_at_the_optimum():
    # Stationarity of the likelihood: E_θ̂[ρ^r] = mean(ρ^r) for every free coupling.
    x = RadialExponentialFamily([0.2, 0.05, 0.01], dim=9).sample(4000, seed=3).numpy()
    rho = np.sum(x.astype(np.float64) ** 2, axis=1)
    fit = fit_couplings(x, order=3, domain="natural")
    for r in range(1, 4):
        model = radial_moment(fit.theta, 9, r)
        assert abs(model / np.mean(rho**r) - 1) < 1e-9


def test_fit_is_scale_equivariant_and_dimensionless_couplings_invariant():
    x = RadialExponentialFamily([0.5, 0.1], dim=4).sample(3000, seed=1).numpy().astype(float)
    f1, f2 = fit_couplings(x), fit_couplings(3.7 * x)
    r = np.arange(1, 3)
    np.testing.assert_allclose(f2.theta, f1.theta * 3.7 ** (-2.0 * r), rtol=1e-9)
    np.testing.assert_allclose(f2.stderr, f1.stderr * 3.7 ** (-2.0 * r), rtol=1e-7)
    np.testing.assert_allclose(f2.dimensionless, f1.dimensionless, rtol=1e-9)
    np.testing.assert_allclose(dimensionless_couplings([2.0, 8.0, 16.0]), [1.0, 2.0, 2.0])
    np.testing.assert_allclose(dimensionless_couplings([-2.0, 8.0]), [1.0, 2.0])
    assert np.all(np.isnan(dimensionless_couplings([0.0, 1.0])))


def test_samples_radii_and_whitened_samples_give_the_same_fit():
    dist = RadialExponentialFamily([0.3, 0.2], A=A3, dtype="float64")
    x = dist.sample(2000, seed=2).numpy()
    by_x = fit_couplings(x, A=A3)
    rho = np.einsum("ni,ij,nj->n", x, A3, x)
    by_rho = fit_couplings(rho=rho, dim=3, A=A3)
    by_y = fit_couplings(dist.whiten(x).numpy())
    np.testing.assert_allclose(by_rho.theta, by_x.theta, rtol=1e-12)
    np.testing.assert_allclose(by_y.theta, by_x.theta, rtol=1e-9)
    assert abs(by_rho.log_likelihood - by_x.log_likelihood) < 1e-12
    # log-likelihood of x is that of y plus ½ log det A.
    logdet = np.linalg.slogdet(A3)[1]
    assert abs(by_x.log_likelihood - by_y.log_likelihood - 0.5 * logdet) < 1e-8


@pytest.mark.parametrize("dim", [1, 64, 512])
def test_fit_works_in_any_dimension(dim):
    theta = np.array([0.05, 0.002]) if dim > 1 else np.array([0.5, 0.5])
    x = RadialExponentialFamily(theta, dim=dim).sample(3000, seed=dim).numpy()
    fit = fit_couplings(x, order=2, domain="natural")
    assert fit.dim == dim and fit.converged
    assert np.all(np.abs(fit.theta - theta) < 4 * fit.stderr)


def test_positive_domain_holds_couplings_at_zero_when_the_data_want_negative_ones():
    # Points uniform in the 3-ball have a flat radial weight up to a cliff at ρ = 1: the
    # unconstrained (natural) fit takes θ_1 < 0, the family of Gong & Xia (θ_r >= 0) cannot.
    rng = np.random.default_rng(0)
    rho = rng.uniform(0.0, 1.0, size=5000) ** (2 / 3)  # |x|² for x uniform in the 3-ball
    nat = fit_couplings(rho=rho, dim=3, order=2, domain="natural")
    pos = fit_couplings(rho=rho, dim=3, order=2, domain="positive")
    assert nat.theta[0] < 0 and not nat.in_family
    assert pos.theta[0] == 0.0 and pos.at_bound[0] and pos.theta[1] > 0
    assert pos.log_likelihood <= nat.log_likelihood + 1e-12


BAD_CALLS = [
    ({}, "exactly one"),
    ({"x": np.ones((5, 2)), "rho": np.ones(5)}, "exactly one"),
    ({"rho": np.ones(5)}, "`dim`"),
    ({"rho": -np.ones(5), "dim": 2}, ">= 0"),
    ({"x": np.ones(5)}, "shape \\(n, N\\)"),
    ({"x": np.ones((5, 2)), "dim": 3}, "mismatched dimensions"),
    ({"x": np.ones((5, 2)), "A": np.eye(3)}, "mismatched dimensions"),
    ({"x": np.ones((5, 2)), "order": 0}, "`order`"),
    ({"x": np.ones((5, 2)), "domain": "all"}, "`domain`"),
    ({"x": np.ones((2, 2)), "order": 2}, "too few samples"),
    ({"x": np.zeros((5, 2)), "order": 1}, "all zero"),
    ({"x": np.ones((5, 2)), "A": [[1.0, 0.0], [1.0, 1.0]]}, "symmetric"),
]


def test_bad_input_is_rejected():
    for kwargs, match in BAD_CALLS:
        with pytest.raises(ValueError, match=match):
            fit_couplings(**kwargs)


def test_result_is_frozen_with_to_dict_and_as_dict_warns():
    import dataclasses
    import json

    rho = RadialExponentialFamily([0.5], dim=4).radial_quantile(np.linspace(0.01, 0.99, 400))
    fit = fit_couplings(rho=rho.numpy(), dim=4, order=1)
    record = fit.to_dict()
    json.dumps(record)
    assert record["theta"] == fit.theta.tolist() and record["n"] == 400
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.n = 3
    with pytest.warns(DeprecationWarning, match=r"as_dict\(\) is deprecated.*to_dict"):
        assert fit.as_dict() == record


def test_order_and_domain_follow_the_shared_argument_rule():
    rho = np.linspace(0.1, 4.0, 50)
    with pytest.raises(TypeError, match="`order`.*1.5"):
        fit_couplings(rho=rho, dim=2, order=1.5)
    with pytest.raises(ValueError, match="`order`.*0"):
        fit_couplings(rho=rho, dim=2, order=0)
    with pytest.raises(ValueError, match="`domain`.*'real'"):
        fit_couplings(rho=rho, dim=2, order=1, domain="real")
