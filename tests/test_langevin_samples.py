"""Tests of LangevinSamples / LangevinLogger: snapshots, bounded memory, TFP diagnostics, logs."""

import keras
import numpy as np
import pytest

from keras_rg.callbacks.langevin_logger import LangevinLogger, schedule_logs
from keras_rg.callbacks.langevin_samples import LangevinSamples
from keras_rg.diagnostics import effective_sample_size, potential_scale_reduction
from keras_rg.optimizers import LangevinAnnealing
from keras_rg.schedules import LinearCooling, LogarithmicCooling
from tests.helpers import assert_config_roundtrip


class _RecordAll(keras.callbacks.Callback):
    """Reference recorder: every weight after every batch."""

    def __init__(self):
        super().__init__()
        self.history = []

    def on_train_batch_end(self, batch, logs=None):
        self.history.append([np.array(w) for w in self.model.get_weights()])


def _quadratic_model(units, lam, h, seed, temperature=1.0):
    """L = ½ λ |w|² through an L2 regulariser on a kernel that sees only zero inputs: each of
    the ``units`` weights is an independent AR(1) chain with ρ = 1 - hλ."""
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(
                units,
                use_bias=False,
                kernel_initializer="zeros",
                kernel_regularizer=keras.regularizers.L2(lam / 2),
            ),
        ]
    )
    model.compile(optimizer=LangevinAnnealing(h, temperature=temperature, seed=seed), loss="mse")
    return model


def test_snapshots_thinning_and_bounded_memory():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=LangevinAnnealing(0.05, temperature=0.5, seed=0), loss="mse")
    samples = LangevinSamples(burn_in=3, thin=2, max_samples=6)
    reference = _RecordAll()
    x, y = np.ones((40, 3), np.float32), np.zeros((40, 2), np.float32)
    model.fit(x, y, batch_size=1, epochs=1, callbacks=[samples, reference], verbose=0)
    # Hand-worked rule: 3,5,...,13 fill the buffer; at 15 it keeps 3,7,11 and thin 4; at 27 it
    # keeps 3,11,19 and thin 8; then 27, 35.
    np.testing.assert_array_equal(samples.steps, [3, 11, 19, 27, 35])
    assert samples.current_thin == 8
    assert samples.samples.shape == (5, 8)  # kernel 3×2 + bias 2
    for row, step in zip(samples.samples, samples.steps, strict=True):
        expected = np.concatenate([w.ravel() for w in reference.history[step]])
        np.testing.assert_array_equal(row, expected)
    assert samples.coordinate_names[:2] == [
        "sequential/dense/kernel[0]",
        "sequential/dense/kernel[1]",
    ]
    assert samples.coordinate_names[-1] == "sequential/dense/bias[1]"


def test_chosen_weights_and_coordinate_cap():
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(10), keras.layers.Dense(1)])
    model.compile(optimizer=LangevinAnnealing(0.01, temperature=0.1, seed=1), loss="mse")
    samples = LangevinSamples(weights=["sequential/dense/kernel"], max_coordinates=7)
    reference = _RecordAll()
    model.fit(
        np.ones((4, 10)), np.zeros((4, 1)), batch_size=2, callbacks=[samples, reference], verbose=0
    )
    flat = np.linspace(0, 99, 7).astype(int)  # evenly spaced over the 100 kernel entries
    assert samples.coordinate_names == [f"sequential/dense/kernel[{i}]" for i in flat]
    np.testing.assert_array_equal(samples.samples[-1], reference.history[-1][0].ravel()[flat])

    bad = LangevinSamples(weights=["dense/nope"])
    with pytest.raises(ValueError, match=r"`weights`: \['dense/nope'\] are not paths"):
        model.fit(np.ones((2, 10)), np.zeros((2, 1)), callbacks=[bad], verbose=0)


def test_effective_sample_size_matches_ar1_closed_form():
    # 1000 independent AR(1) chains (ρ = 1 - hλ = 0.5) recorded every step after burn-in.
    # For n samples, ESS = n (1 - ρ) / (1 + ρ) = n / 3 (to O(1/n)).
    h, lam, n, burn_in = 0.5, 1.0, 300, 30
    model = _quadratic_model(1000, lam, h, seed=4)
    # warn=False: over 1000 coordinates of a 300-sample chain the largest split R-hat is ~1.15.
    samples = LangevinSamples(burn_in=burn_in, max_samples=1000, warn=False)
    x = np.zeros((n + burn_in, 1), np.float32)
    history = model.fit(
        x, np.zeros((n + burn_in, 1000)), batch_size=1, callbacks=[samples], verbose=0
    )
    ess = samples.effective_sample_size()
    assert ess.shape == (1000,)
    exact = n * (1 - 0.5) / (1 + 0.5)
    # Mean over 1000 chains: 4 standard errors of the spread, plus 2 % for the O(1/n) bias of
    # the sample autocorrelations that the estimator sums.
    tolerance = 4 * np.std(ess) / np.sqrt(ess.size) + 0.02 * exact
    assert abs(np.mean(ess) - exact) < tolerance, (np.mean(ess), exact, tolerance)
    assert history.history["ess_min"][-1] == pytest.approx(np.min(ess))
    assert history.history["ess_median"][-1] == pytest.approx(np.median(ess))
    assert history.history["samples"][-1] == n
    # The stationary variance 2T/(λ(2 - hλ)) = 4/3 (see test_optimizers), SE from the ESS.
    var = np.mean(samples.samples.astype(np.float64) ** 2)
    assert abs(var - 4 / 3) < 4 * (4 / 3) * np.sqrt(2 / np.sum(ess))


def test_potential_scale_reduction_across_seeds():
    runs = []
    for seed in range(3):
        model = _quadratic_model(200, 1.0, 0.5, seed=seed)
        samples = LangevinSamples(burn_in=20, warn=False)  # short chains: R-hat is noisy
        model.fit(
            np.zeros((150, 1)), np.zeros((150, 200)), batch_size=1, callbacks=[samples], verbose=0
        )
        runs.append(samples)
    rhat = potential_scale_reduction(runs)
    assert rhat.shape == (200,)
    chains = np.stack([r.samples for r in runs], axis=1).astype(np.float64)  # (n, m, d)
    n, m = chains.shape[:2]

    # Against the Gelman–Rubin formula of TFP's documentation (m chains of n draws):
    # R = (m + 1)/m · σ̂²/W - (n - 1)/(m n), σ̂² = (n - 1)/n · W + B/n.
    w = np.mean(np.var(chains, axis=0, ddof=1), axis=0)
    b = n * np.var(np.mean(chains, axis=0), axis=0, ddof=1)
    sigma2 = (n - 1) / n * w + b / n
    np.testing.assert_allclose(rhat, (m + 1) / m * sigma2 / w - (n - 1) / (m * n), rtol=1e-10)

    # The seeds give independent chains of the same law: B/n estimates the variance of an
    # AR(1) chain mean, σ² k/n with σ² = 4/3 and k = (1+ρ)/(1-ρ) - 2ρ(1-ρⁿ)/(n(1-ρ)²), ρ = ½.
    # Per coordinate (B/n)/(σ² k/n) ~ χ²₂/2 (mean 1, sd 1); the mean over 200 coordinates has
    # SE 1/sqrt(200), 4 SE tolerance.
    rho = 0.5
    k = (1 + rho) / (1 - rho) - 2 * rho * (1 - rho**n) / (n * (1 - rho) ** 2)
    dispersion = (b / n) / (4 / 3 * k / n)
    assert abs(np.mean(dispersion) - 1) < 4 / np.sqrt(dispersion.size)

    # Chains that have not mixed (offset means) are flagged.
    rng = np.random.default_rng(0)
    stuck = [rng.normal(size=(100, 2)) + offset for offset in (-3, 0, 3)]
    assert np.all(potential_scale_reduction(stuck) > 2)
    with pytest.raises(ValueError, match="`chains`"):
        potential_scale_reduction([stuck[0]])
    with pytest.raises(ValueError, match="`samples`"):
        effective_sample_size(np.zeros((2, 3)))


def test_logger_logs_schedule_values():
    steps_per_epoch, epochs = 4, 3
    schedule = LogarithmicCooling(c=0.5, t0=3.0)
    step_size = LinearCooling(0.1, 0.02, n_steps=8)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=LangevinAnnealing(step_size, temperature=schedule, seed=0), loss="mse")
    history = model.fit(
        np.ones((8, 2)), np.ones((8, 1)), batch_size=2, epochs=epochs,
        callbacks=[LangevinLogger()], verbose=0,
    )  # fmt: skip
    t = steps_per_epoch * np.arange(1, epochs + 1)  # iterations at each epoch end
    np.testing.assert_allclose(history.history["temperature"], 0.5 / np.log(t + 3.0), rtol=1e-6)
    np.testing.assert_allclose(
        history.history["step_size"], 0.1 + (0.02 - 0.1) * np.minimum(t, 8) / 8, rtol=1e-6
    )
    # Under mixed_float16 Keras wraps the optimizer in a LossScaleOptimizer: looked through.
    keras.config.set_dtype_policy("mixed_float16")
    wrapped = keras.optimizers.LossScaleOptimizer(LangevinAnnealing(0.01, temperature=0.25))
    assert schedule_logs(wrapped) == {"temperature": 0.25, "step_size": pytest.approx(0.01)}
    assert schedule_logs(keras.optimizers.SGD(0.5)) == {"step_size": 0.5}


def test_config_roundtrip_and_bad_arguments():
    for callback in [
        LangevinSamples(),
        LangevinSamples(["a/kernel"], 5, 3, 10, 20),
        LangevinLogger(),
    ]:
        back = type(callback)(**callback.get_config())
        assert back.get_config() == callback.get_config()
        assert_config_roundtrip(callback)
    bad = [
        (dict(weights="dense/kernel"), r"`weights`: expected None or a list"),
        (dict(burn_in=-1), r"`burn_in`: expected an integer >= 0. Received: burn_in=-1"),
        (dict(thin=0), r"`thin`: expected an integer >= 1"),
        (dict(max_samples=3), r"`max_samples`: expected an integer >= 4"),
        (dict(max_samples=7), r"`max_samples`: expected an even integer"),
        (dict(max_coordinates=0), r"`max_coordinates`"),
    ]
    for kwargs, match in bad:
        with pytest.raises(ValueError, match=match):
            LangevinSamples(**kwargs)


def test_deprecated_names_warn_and_bad_chain_warns_at_train_end():
    from keras_rg.callbacks import langevin_samples

    with pytest.warns(DeprecationWarning, match="LangevinSamples: `burnin` is deprecated"):
        old = LangevinSamples(burnin=3)
    assert old.burn_in == 3 and old.get_config()["burn_in"] == 3
    draws = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.warns(DeprecationWarning, match="use keras_rg.diagnostics.effective_sample_size"):
        np.testing.assert_array_equal(
            langevin_samples.effective_sample_size(draws), effective_sample_size(draws)
        )
    with pytest.warns(DeprecationWarning, match="potential_scale_reduction is deprecated"):
        langevin_samples.potential_scale_reduction([draws[:25], draws[25:]])
    # A chain stuck far from equilibrium: T = 0.001, tiny step, starting at w = 3 on L = ½ w²:
    # it drifts monotonically, so the ESS is tiny and the two halves disagree.
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(2, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(optimizer=LangevinAnnealing(1e-3, temperature=1e-3, seed=0), loss="mse")
    samples = LangevinSamples()
    with pytest.warns(RuntimeWarning) as record:
        model.fit(np.ones((64, 1)), np.zeros((64, 2)), batch_size=1, callbacks=[samples], verbose=0)
    messages = " | ".join(str(r.message) for r in record)
    assert "tiny effective sample size" in messages and "R-hat above 1.1" in messages
    quiet = LangevinSamples(warn=False)
    model.fit(np.ones((16, 1)), np.zeros((16, 2)), batch_size=1, callbacks=[quiet], verbose=0)
