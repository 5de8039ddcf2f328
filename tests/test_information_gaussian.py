"""Tests for keras_rg.information.gaussian and the InformationEstimate result type."""

import dataclasses
import math

import numpy as np
import pytest

from keras_rg.information import InformationEstimate, gaussian_mi


def test_bivariate_normal_closed_form(rng):
    # I = -1/2 log(1 - 0.75^2) = 0.413339. Measured sd 0.016 at n = 2000 (bias +0.001), so
    # ~0.008 at n = 8000: 0.035 is over 4 sd.
    x = rng.normal(size=8000)
    y = 0.75 * x + math.sqrt(1 - 0.75**2) * rng.normal(size=8000)
    assert gaussian_mi(x, y).value == pytest.approx(0.413339, abs=0.035)


def test_linear_gaussian_channel_closed_form(rng):
    # X ~ N(0, S), T = W X + Z, Z ~ N(0, 0.5 I): I = 1/2 log det(I + W S W^T / 0.5) = 0.9757.
    # Over 20 runs at n = 2000 the estimate had sd 0.029; at n = 8000 about 0.015: 0.06 is 4 sd.
    cov = np.array([[1.0, 0.5], [0.5, 1.0]])
    w = np.array([[1.0, 0.3], [-0.2, 0.8]])
    exact = 0.5 * np.linalg.slogdet(np.eye(2) + w @ cov @ w.T / 0.5)[1]
    x = rng.multivariate_normal([0.0, 0.0], cov, size=8000)
    t = x @ w.T + math.sqrt(0.5) * rng.normal(size=(8000, 2))
    assert gaussian_mi(x, t).value == pytest.approx(exact, abs=0.06)


def test_equicorrelated_five_by_five(rng):
    # d = 5, rho = 0.5: I = log 6 - 1/2 log 11 = 0.5928. Measured at n = 2000: bias +0.011
    # (theory d^2 / 2n = 0.006), sd 0.018; at n = 8000 bias ~0.003, sd ~0.009: tolerance 0.04.
    d = 5
    cov = np.full((2 * d, 2 * d), 0.5) + 0.5 * np.eye(2 * d)
    z = rng.multivariate_normal(np.zeros(2 * d), cov, size=8000)
    exact = math.log(d + 1) - 0.5 * math.log(2 * d + 1)
    assert gaussian_mi(z[:, :d], z[:, d:]).value == pytest.approx(exact, abs=0.04)


def test_deterministic_relation_is_infinite_and_ridge_makes_it_finite(rng):
    x = rng.normal(size=(500, 2))
    y = x @ np.array([[1.0, 2.0], [0.5, -1.0]])
    assert gaussian_mi(x, y).value == math.inf
    assert math.isfinite(gaussian_mi(x, y, ridge=1e-3).value)
    with pytest.raises(ValueError, match=r"`x`: expected a non-singular covariance"):
        gaussian_mi(np.hstack([x, x]), y)
    with pytest.raises(ValueError, match=r"`ridge`.*Received: ridge=-1"):
        gaussian_mi(x, y, ridge=-1)


def test_result_fields_ceiling_and_saturation():
    est = InformationEstimate(value=6.6, estimator="kde", n=1000, hyperparameters={"a": 1})
    assert est.ceiling == pytest.approx(math.log(1000))
    assert est.saturated  # 6.6 >= 0.95 * 6.9078 = 6.562
    assert not InformationEstimate(value=6.5, estimator="kde", n=1000).saturated
    assert est.bits == pytest.approx(6.6 / math.log(2)) and float(est) == 6.6
    assert est.to_dict()["hyperparameters"] == {"a": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.value = 1.0
