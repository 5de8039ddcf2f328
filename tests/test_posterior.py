"""Tests of the posterior predictive: closed-form Bayesian linear regression, calibration known
answers, and the end-to-end path sampler → LangevinSamples → predictive."""

import keras
import numpy as np
import pytest
from scipy.stats import norm

from keras_rg.callbacks.langevin_samples import LangevinSamples
from keras_rg.optimizers import UnderdampedLangevin
from keras_rg.posterior import PosteriorPredictive, posterior_predictive, predictive_metrics


def _blr(rng, n=40, d=3, noise_sd=0.5, prior_sd=1.0):
    """Bayesian linear regression: exact posterior N(m, S) and predictive at test inputs."""
    x = rng.normal(size=(n, d))
    w_true = rng.normal(size=d)
    y = x @ w_true + noise_sd * rng.normal(size=n)
    precision = x.T @ x / noise_sd**2 + np.eye(d) / prior_sd**2
    cov = np.linalg.inv(precision)
    mean = cov @ x.T @ y / noise_sd**2
    x_test = rng.normal(size=(25, d))
    y_test = x_test @ w_true + noise_sd * rng.normal(size=25)
    pred_mean = x_test @ mean
    pred_sd = np.sqrt(np.einsum("ij,jk,ik->i", x_test, cov, x_test) + noise_sd**2)
    return x, y, x_test, y_test, mean, cov, pred_mean, pred_sd


def _linear_model(d):
    return keras.Sequential([keras.Input((d,)), keras.layers.Dense(1, use_bias=False)])


def test_predictive_of_exact_posterior_draws_matches_closed_form(rng):
    x, y, x_test, y_test, mean, cov, pred_mean, pred_sd = _blr(rng)
    draws = rng.multivariate_normal(mean, cov, size=4000)
    model = _linear_model(3)
    before = model.get_weights()[0].copy()
    pred = posterior_predictive(model, draws, x_test, task="regression", noise_sd=0.5)
    np.testing.assert_array_equal(model.get_weights()[0], before)  # weights untouched
    # Monte Carlo: SE of the mean is sd_f / sqrt(4000) with sd_f² = xᵀSx; 4 SE. The sd
    # estimate of sqrt(sd_f² + σ²) has relative error below sd_f²/(σ² + sd_f²)·sqrt(2/4000).
    sd_f = np.sqrt(pred_sd**2 - 0.25)
    np.testing.assert_array_less(np.abs(pred.mean[:, 0] - pred_mean), 4 * sd_f / np.sqrt(4000))
    np.testing.assert_allclose(pred.sd[:, 0], pred_sd, rtol=4 * np.sqrt(2 / 4000))
    metrics = predictive_metrics(pred, y_test)
    exact_nll = -np.mean(norm.logpdf(y_test, pred_mean, pred_sd))
    assert metrics.nll == pytest.approx(exact_nll, abs=0.01)
    # Point estimate: the posterior mean with the noise sd alone.
    point = posterior_predictive(model, mean[None], x_test, task="regression", noise_sd=0.5)
    both = predictive_metrics(pred, y_test, point=point)
    exact_point = -np.mean(norm.logpdf(y_test, pred_mean, 0.5))
    assert both.point_nll == pytest.approx(exact_point, abs=1e-5)
    assert set(both.to_dict()) == {"nll", "ece", "point_nll", "point_ece"}


def test_calibration_known_answers():
    # Confidence 0.8 throughout: ECE = |accuracy − 0.8|.
    probs = np.tile([0.2, 0.8], (10, 1))
    pred = PosteriorPredictive("classification", 1, mean=probs, probabilities=probs)
    assert predictive_metrics(pred, np.array([1] * 6 + [0] * 4)).ece == pytest.approx(0.2)
    nll = predictive_metrics(pred, np.array([1] * 6 + [0] * 4)).nll
    assert nll == pytest.approx(-(0.6 * np.log(0.8) + 0.4 * np.log(0.2)))
    # Regression: labels exactly at the predicted quantiles (k + ½)/10 → ECE 0; labels all far
    # above the mean → every quantile covers nothing: ECE = mean(p) = 0.5.
    levels = (np.arange(10) + 0.5) / 10
    mean, sd = np.zeros((10, 1)), np.ones((10, 1))
    reg = PosteriorPredictive("regression", 1, mean=mean, sd=sd)
    labels = norm.ppf(levels) - 1e-9
    assert predictive_metrics(reg, labels).ece == pytest.approx(0.05, abs=1e-9)
    assert predictive_metrics(reg, np.full(10, 50.0)).ece == pytest.approx(0.5)


def test_logits_and_softmax_outputs(rng):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, use_bias=False)])
    draws = rng.normal(size=(5, 6))
    x = rng.normal(size=(4, 2)).astype(np.float32)
    pred = posterior_predictive(model, draws, x, output="logits")
    manual = []
    for row in draws:
        z = x @ row.reshape(2, 3)
        manual.append(np.exp(z) / np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(pred.probabilities, np.mean(manual, 0), rtol=1e-5)


def test_sampler_to_predictive_matches_closed_form(rng):
    # End to end: UnderdampedLangevin (dense adapted mass) on the Bayesian linear regression via
    # fit, LangevinSamples, posterior_predictive: predictive mean and sd against the closed form.
    x, y, x_test, _, _, _, pred_mean, pred_sd = _blr(rng, noise_sd=0.5)
    n = len(x)
    model = _linear_model(3)
    # Mean loss L = Σ (y − xw)² / (2σ² n) + |w|²/(2n): exp(−n L) is the posterior.
    model.compile(
        optimizer=UnderdampedLangevin(0.05, data_size=n, mass="dense", burn_in=400, seed=1),
        loss=lambda t, p: (
            keras.ops.mean(keras.ops.square(t - p)) / (2 * 0.25)
            + keras.ops.sum(keras.ops.square(model.trainable_variables[0])) / (2 * n)
        ),
    )
    samples = LangevinSamples(burn_in=400, warn=False)
    # One epoch of 2400 full-data batches (the data tiled, not shuffled): 2400 steps.
    reps = 2400
    model.fit(
        np.tile(x, (reps, 1)).astype(np.float32),
        np.tile(y, reps).astype(np.float32),
        batch_size=n,
        shuffle=False,
        verbose=0,
        callbacks=[samples],
    )
    pred = posterior_predictive(model, samples, x_test, task="regression", noise_sd=0.5)
    ess = float(np.min(samples.effective_sample_size()))
    sd_f = np.sqrt(pred_sd**2 - 0.25)
    np.testing.assert_array_less(np.abs(pred.mean[:, 0] - pred_mean), 4 * sd_f / np.sqrt(ess))
    np.testing.assert_allclose(pred.sd[:, 0], pred_sd, rtol=0.06)


def test_bad_arguments(rng):
    model = _linear_model(3)
    with pytest.raises(ValueError, match=r"`samples`: expected rows of all 3 trainable"):
        posterior_predictive(model, np.zeros((4, 2)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"`task`"):
        posterior_predictive(model, np.zeros((4, 3)), np.zeros((1, 3)), task="ranking")
    with pytest.raises(TypeError, match=r"`noise_sd`"):
        posterior_predictive(model, np.zeros((4, 3)), np.zeros((1, 3)), noise_sd="0.1")
