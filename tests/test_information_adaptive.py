"""recommended_mi: the stated rule, on closed-form cases."""

import math

import numpy as np
import pytest

from keras_rg.information import gaussian_mi, ksg_mi, recommended_mi


def test_monotone_maps_of_a_gaussian_pair(rng):
    x = rng.normal(size=3000)
    z = 0.75 * x + math.sqrt(1 - 0.75**2) * rng.normal(size=3000)
    exact = -0.5 * math.log(1 - 0.75**2)  # 0.4133
    est = recommended_mi(np.exp(x), z**3)
    assert est.value == pytest.approx(exact, abs=0.05)
    assert est.value == recommended_mi(x, z).value  # exactly invariant: ranks are unchanged
    hyper = est.hyperparameters
    assert est.value == max(hyper["ksg_copula"], hyper["gaussian_copula"])
    assert hyper["ksg_copula"] == ksg_mi(x, z, n_neighbors=10, transform="copula").value


def test_above_ten_dimensions_the_gaussian_copula_alone(rng):
    d, rho = 6, 0.5
    cov = np.full((2 * d, 2 * d), rho) + (1 - rho) * np.eye(2 * d)
    z = rng.multivariate_normal(np.zeros(2 * d), cov, size=3000)
    exact = math.log(d + 1) - 0.5 * math.log(2 * d + 1)  # 0.6640
    est = recommended_mi(z[:, :d], np.tanh(z[:, d:]))
    assert est.hyperparameters["chosen"] == "gaussian_copula" and "ksg_copula" not in (
        est.hyperparameters
    )
    assert est.value == pytest.approx(exact, abs=0.05)


def test_non_monotone_dependence_picks_ksg(rng):
    # Y = X^2 + noise: no monotone (rank) correlation, so the Gaussian copula sees ~0 while the
    # information is large; the rule takes the larger, KSG.
    x = rng.normal(size=3000)
    y = x**2 + 0.1 * rng.normal(size=3000)
    est = recommended_mi(x, y)
    assert est.hyperparameters["chosen"] == "ksg_copula"
    assert gaussian_mi(x, y, transform="copula").value < 0.05 < 1.0 < est.value
