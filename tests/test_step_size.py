"""Tests of the step-size guidance: Hessian eigenvalue against the exact Hessian, stability limits
against the samplers' actual behaviour, gradient-noise variance, divergence warning."""

import keras
import numpy as np
import pytest

from keras_rg.callbacks.langevin_logger import LangevinLogger
from keras_rg.optimizers import LangevinAnnealing
from keras_rg.step_size import gradient_noise_variance, suggest_step_size, top_hessian_eigenvalue


def _logistic(rng, n=200, d=4):
    x = rng.normal(size=(n, d)).astype(np.float32)
    x[:, 1] = x[:, 0] + 0.1 * x[:, 1]  # collinear pair: a large top eigenvalue
    y = (rng.random(n) < 0.5).astype(np.float32)[:, None]
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.set_weights([rng.normal(size=(d, 1)).astype(np.float32) * 0.3])
    return model, x, y


def test_top_eigenvalue_matches_exact_logistic_hessian(rng):
    model, x, y = _logistic(rng)
    w = model.get_weights()[0][:, 0].astype(np.float64)
    p = 1 / (1 + np.exp(-x @ w))
    hessian = (x.T * (p * (1 - p))) @ x / len(x)  # of the mean logistic loss
    exact = np.linalg.eigvalsh(hessian).max()
    assert top_hessian_eigenvalue(model, x, y, n_iterations=50) == pytest.approx(exact, rel=1e-3)


def test_suggested_steps_are_the_stability_limits(rng):
    # On L = ½ λ w² (MSE of a 1-D linear model: λ = 2 mean x²), plain Langevin at T = 0 is
    # gradient descent: it contracts below h = 2/λ and blows up above, as the advice says.
    x = np.full((8, 1), 2.0, np.float32)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(loss="mse")
    advice = suggest_step_size(model, x, np.zeros((8, 1)), sampler="overdamped", safety=0.5)
    assert advice.top_eigenvalue == pytest.approx(8.0, rel=1e-4)
    assert advice.max_stable_step == pytest.approx(0.25, rel=1e-4)
    assert advice.variance_inflation == pytest.approx(2 / (2 - 0.125 * 8))
    under = suggest_step_size(model, x, np.zeros((8, 1)), sampler="underdamped")
    assert under.max_stable_step == pytest.approx(2 / np.sqrt(8), rel=1e-4)
    for factor, grows in [(0.95, False), (1.05, True)]:
        w = keras.Variable(np.ones(1, np.float32))
        optimizer = LangevinAnnealing(factor * advice.max_stable_step, temperature=0.0)
        for _ in range(200):
            optimizer.apply([8.0 * w.value], [w])
        assert (abs(float(w.numpy()[0])) > 1.0) == grows


def test_gradient_noise_variance_matches_sampling_without_replacement(rng):
    # MSE of a linear model at w = 0: per-example gradient −2 y x / 1 per coordinate; the
    # mean of b draws without replacement has variance s² (N − b) / (b (N − 1)).
    n, d, b = 400, 3, 20
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.normal(size=(n, 1)).astype(np.float32)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(loss="mse")
    model.set_weights([np.zeros((d, 1), np.float32)])
    per_example = -2 * y * x
    exact = np.mean(per_example.var(axis=0) * (n - b) / (b * (n - 1)))
    got = gradient_noise_variance(model, x, y, batch_size=b, n_batches=300)
    # Variance estimate from 300 batches: relative SE ≈ sqrt(2/299) ≈ 8 % per coordinate.
    assert got == pytest.approx(exact, rel=0.2)


def test_logger_warns_when_the_run_diverges():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=LangevinAnnealing(5.0, temperature=0.0), loss="mse")
    x = np.full((32, 1), 3.0, np.float32)
    with pytest.warns(RuntimeWarning, match="LangevinLogger: the run diverged"):
        model.fit(x, np.ones((32, 1)), epochs=30, callbacks=[LangevinLogger()], verbose=0)


def test_bad_arguments(rng):
    model, x, y = _logistic(rng)
    with pytest.raises(ValueError, match="`sampler`"):
        suggest_step_size(model, x, y, sampler="leapfrog")
    with pytest.raises(ValueError, match="`safety`"):
        suggest_step_size(model, x, y, safety=1.5)
    with pytest.raises(ValueError, match="`batch_size`"):
        gradient_noise_variance(model, x, y, batch_size=len(x))
