"""Tests of LangevinAnnealing: known answers, TFP reference, annealing, state, distribution."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.optimize import brentq

from keras_rg.optimizers import LangevinAnnealing
from keras_rg.schedules import ConstantTemperature, ExponentialCooling, LogarithmicCooling
from tests.helpers import (
    assert_config_roundtrip,
    assert_model_roundtrip,
    fit_in_order,
    sampler_model_and_data,
)

ROOT = Path(__file__).resolve().parents[1]


def _run(optimizer, variable, grad_fn, steps, record_from=None, jit_compile=False):
    """Applies ``optimizer`` ``steps`` times with gradient ``grad_fn(variable)``; returns the
    iterates from step ``record_from`` on as an array (steps, size)."""

    @tf.function(jit_compile=jit_compile)
    def step():
        optimizer.apply([grad_fn(variable.value)], [variable])

    record = []
    for t in range(steps):
        step()
        if record_from is not None and t >= record_from:
            record.append(variable.numpy().copy())
    return np.array(record)


# --- Known answer: Ornstein–Uhlenbeck / AR(1) stationary variance ------------------------


@pytest.mark.parametrize("temperature, data_size", [(0.5, 1), (3.0, 4)])
def test_quadratic_stationary_variance_is_exact(temperature, data_size):
    # L = ½ Σ λ_i w_i², three curvatures × 1000 independent coordinates (1000 chains each).
    # w ← (1 - hλ) w + sqrt(2hT/N) ξ is AR(1) with ρ = 1 - hλ and stationary variance
    # 2T / (N λ (2 - hλ)) exactly (docs/langevin.md); the continuous-time T/(Nλ) is 11-67 % off here.
    h, lams, chains = 0.5, np.array([0.4, 1.0, 1.6]), 1000
    lam = tf.constant(np.repeat(lams, chains), tf.float32)
    w = keras.Variable(np.zeros(lams.size * chains, np.float32))
    optimizer = LangevinAnnealing(h, temperature=temperature, data_size=data_size, seed=data_size)
    # 100 steps of burn-in shrink the initial transient by ρ^200 ≤ 0.8^200 ≈ 4e-20.
    samples = _run(optimizer, w, lambda v: lam * v, 500, record_from=100, jit_compile=True)
    import tensorflow_probability as tfp

    for k, lam_k in enumerate(lams):
        x = samples[:, k * chains : (k + 1) * chains].astype(np.float64)
        exact = 2 * temperature / (data_size * lam_k * (2 - h * lam_k))
        # The variance estimate averages x² over ESS effectively independent draws, with
        # Var(x²) = 2 σ⁴ for a Gaussian: SE = σ² sqrt(2 / ESS). ESS from TFP, summed over chains.
        ess = float(np.sum(tfp.mcmc.effective_sample_size(x, filter_beyond_positive_pairs=True)))
        se = exact * np.sqrt(2.0 / ess)
        assert abs(np.mean(x**2) - exact) < 4 * se, (lam_k, np.mean(x**2), exact, se)
        assert abs(np.mean(x)) < 4 * np.sqrt(exact / ess)
        # The discretisation term is resolved: the continuous-time answer is rejected.
        assert abs(np.mean(x**2) - temperature / (data_size * lam_k)) > 4 * se


def test_preconditioned_noise_variance_is_lr_times_p():
    # Linear loss L = Σ c_i w_i: the gradient c is constant, so the RMSprop average is the
    # deterministic v_t = d v_{t-1} + (1 - d) c², v_0 = 1, and P_t = 1/sqrt(v_t + bias).
    # TFP's convention (lr, N) is ours with h = lr N / 2, T = 1: drift -h P c, noise N(0, lr P).
    lr, n_data, decay, burn_in, steps = 0.02, 10, 0.9, 5, 40
    c = np.repeat([0.5, 1.0, 2.0], 1000).astype(np.float32)
    w = keras.Variable(np.zeros(c.size, np.float32))
    optimizer = LangevinAnnealing(
        lr * n_data / 2,
        temperature=1.0,
        data_size=n_data,
        preconditioner="rmsprop",
        decay=decay,
        burn_in=burn_in,
        seed=3,
    )
    path = _run(optimizer, w, lambda v: tf.constant(c) + 0.0 * v, steps, record_from=0)
    increments = np.diff(np.vstack([np.zeros(c.size), path]), axis=0).astype(np.float64)
    v = np.ones(c.size)
    z = []
    for t in range(steps):
        v = decay * v + (1 - decay) * c.astype(np.float64) ** 2
        p = 1 / np.sqrt(v + 1e-8)
        drift = -(lr * n_data / 2) * p * c
        if t < burn_in:  # noise-free steps: the deterministic drift, to float32 rounding
            np.testing.assert_allclose(increments[t], drift, rtol=1e-5, atol=1e-9)
        else:
            z.append((increments[t] - drift) / np.sqrt(lr * p))
    z = np.array(z)
    # z is iid N(0, 1): mean(z²) has SE sqrt(2 / n) with n = 35 × 3000 draws; 5 SE tolerance.
    for k in range(3):
        zk = z[:, k * 1000 : (k + 1) * 1000]
        assert abs(np.mean(zk**2) - 1) < 5 * np.sqrt(2 / zk.size)
        assert abs(np.mean(zk)) < 5 * np.sqrt(1 / zk.size)


# --- Reference: TFP's pSGLD under tf_keras graph mode, in a subprocess ----------------------

_TFP_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    import tf_keras
    import tensorflow_probability as tfp
    data = np.load(sys.argv[1])
    model = tf_keras.Sequential(
        [tf_keras.layers.Dense(3, input_shape=(5,), activation="tanh")])
    model.set_weights([data["w0"], data["b0"]])
    optimizer = tfp.optimizer.StochasticGradientLangevinDynamics(
        float(data["lr"]), preconditioner_decay_rate=float(data["decay"]),
        data_size=int(data["n"]), burnin=1000, diagonal_bias=1e-8)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(data["x"], data["y"], batch_size=16, epochs=2, shuffle=False, verbose=0)
    print(json.dumps([w.tolist() for w in model.get_weights()]))
    """
)


def test_burnin_iterates_equal_tfp_psgld(rng, tmp_path):
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.normal(size=(64, 3)).astype(np.float32)
    w0 = rng.normal(size=(5, 3)).astype(np.float32)
    b0 = np.zeros(3, np.float32)
    lr, n_data, decay = 0.05, 100, 0.9
    np.savez(tmp_path / "data.npz", x=x, y=y, w0=w0, b0=b0, lr=lr, n=n_data, decay=decay)
    done = subprocess.run(
        [sys.executable, "-c", _TFP_SCRIPT, str(tmp_path / "data.npz")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reference = [np.array(a, np.float32) for a in json.loads(done.stdout.strip().splitlines()[-1])]

    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="tanh")])
    model.set_weights([w0, b0])
    optimizer = LangevinAnnealing(
        lr * n_data / 2,
        temperature=1.0,
        data_size=n_data,
        preconditioner="rmsprop",
        decay=decay,
        burn_in=1000,
    )
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    # 8 steps moving weights by O(1): float32 rounding (≈1e-7 per op, a handful of ops per step,
    # different operation order) bounds the difference by ~8 × 5 ulp(1) ≈ 5e-6.
    for ours, theirs, start in zip(model.get_weights(), reference, [w0, b0], strict=True):
        assert np.max(np.abs(theirs - start)) > 0.1  # the reference did move
        np.testing.assert_allclose(ours, theirs, atol=5e-6, rtol=0)


# --- Annealing on a tilted double well -------------------------------------------------------

_TILT = 0.5


def _double_well_grad(w):
    return 4.0 * w * (w * w - 1.0) + _TILT  # L(w) = (w² - 1)² + 0.5 w


def test_log_cooling_escapes_local_minimum_where_sgd_does_not():
    # Global minimum w ≈ -1.057 (L ≈ -0.55), local w ≈ 0.930 (L ≈ 0.45), barrier top
    # w ≈ 0.127: depth of the local well 0.548. Hajek's condition: c = 1 > 0.548.
    grad = lambda w: 4 * w * (w * w - 1) + _TILT  # noqa: E731
    w_local, w_top = brentq(grad, 0.5, 2.0), brentq(grad, -0.5, 0.5)
    chains, steps = 1000, 2000
    start = np.full(chains, w_local, np.float32)

    w = keras.Variable(start)
    annealer = LangevinAnnealing(0.05, temperature=LogarithmicCooling(1.0, 2.0), seed=2026)
    _run(annealer, w, _double_well_grad, steps)
    annealed_global = int(np.sum(w.numpy() < w_top))

    w_sgd = keras.Variable(start)
    _run(keras.optimizers.SGD(0.05), w_sgd, _double_well_grad, steps)
    sgd_global = int(np.sum(w_sgd.numpy() < w_top))
    print(f"double well, global basin: annealing {annealed_global}/{chains}, SGD {sgd_global}")
    # The claim is "most chains"; a NumPy simulation of the same recursion gives ≈ 92 %
    # (binomial SE 0.9 %), so 80 % is a loose floor. Plain SGD from the local minimum stays.
    assert annealed_global >= 0.8 * chains
    assert sgd_global == 0


# --- Reproducibility, save/load and checkpoints ----------------------------------------------


def _model_and_data(jit_compile, seed=5, optimizer=None):
    def make_optimizer():
        if optimizer is not None:
            return optimizer
        return LangevinAnnealing(
            0.05,
            temperature=ExponentialCooling(0.1, 0.9, 4),
            preconditioner="rmsprop",
            burn_in=3,
            seed=seed,
        )

    return sampler_model_and_data(make_optimizer, jit_compile)


def test_seed_gives_the_same_run():
    def run(seed):
        w = keras.Variable(np.zeros(256, np.float32))
        _run(LangevinAnnealing(0.1, temperature=1.0, seed=seed), w, lambda v: v, 5)
        return w.numpy()

    np.testing.assert_array_equal(run(3), run(3))
    assert np.max(np.abs(run(3) - run(4))) > 0.1
    keras.utils.set_random_seed(42)  # seed=None draws from Python's random module
    first = run(None)
    keras.utils.set_random_seed(42)
    np.testing.assert_array_equal(first, run(None))


def test_save_load_resumes_bit_exactly(tmp_path):
    model, x, y = _model_and_data(jit_compile=False)
    fit_in_order(model, x, y, 2)
    model.save(tmp_path / "half.keras")
    fit_in_order(model, x, y, 2)  # the uninterrupted run
    resumed = keras.models.load_model(tmp_path / "half.keras", safe_mode=True)
    assert isinstance(resumed.optimizer, LangevinAnnealing)
    assert int(resumed.optimizer.iterations) == 8
    fit_in_order(resumed, x, y, 2)
    for a, b in zip(model.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, resumed.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_checkpoint_resumes_bit_exactly_with_xla(tmp_path):
    model, x, y = _model_and_data(jit_compile=True)
    fit_in_order(model, x, y, 2)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(tmp_path / "ckpt")
    fit_in_order(model, x, y, 2)  # the uninterrupted run

    fresh, _, _ = _model_and_data(jit_compile=True, seed=999)  # the seed is restored too
    fresh.optimizer.build(fresh.trainable_variables)
    tf.train.Checkpoint(model=fresh, optimizer=fresh.optimizer).restore(path).assert_consumed()
    assert int(fresh.optimizer._seed_variable.numpy()) == 5
    fit_in_order(fresh, x, y, 2)
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_model_roundtrip_and_config(tmp_path):
    model, x, y = _model_and_data(jit_compile=False)
    fit_in_order(model, x, y, 1)
    loaded = assert_model_roundtrip(model, x, tmp_path)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for optimizer in [
        LangevinAnnealing(),
        LangevinAnnealing(0.1, temperature=0.3, data_size=1000, seed=7, clipnorm=1.0),
        LangevinAnnealing(ExponentialCooling(0.1, 0.5, 100), temperature=ConstantTemperature(2)),
    ]:
        back = assert_config_roundtrip(optimizer)
        assert type(back.temperature_schedule) is type(optimizer.temperature_schedule)
    config = LangevinAnnealing().get_config()
    assert config["temperature"]["class_name"] == "LogarithmicCooling"
    assert float(LangevinAnnealing().current_temperature) == pytest.approx(1 / np.log(2))


# --- Keras integration -----------------------------------------------------------------------


def test_zero_temperature_is_sgd_with_keras_options():
    # At T = 0 with P = I the update is w - h g exactly: it must equal Keras SGD bit for bit,
    # including weight decay and gradient clipping handled by the base class.
    options = dict(weight_decay=0.1, clipnorm=0.5)
    w_ours = keras.Variable(np.linspace(-2, 2, 50).astype(np.float32))
    w_sgd = keras.Variable(np.linspace(-2, 2, 50).astype(np.float32))
    _run(LangevinAnnealing(0.05, temperature=0.0, **options), w_ours, _double_well_grad, 20)
    _run(keras.optimizers.SGD(0.05, **options), w_sgd, _double_well_grad, 20)
    np.testing.assert_array_equal(w_ours.numpy(), w_sgd.numpy())


def test_mirrored_copies_receive_identical_noise(two_cpu_strategy):
    with two_cpu_strategy.scope():
        model, x, y = _model_and_data(jit_compile=False)
    fit_in_order(model, x, y, 2)
    # The same run without noise, on one device: differs by the noise (float rounding of the
    # all-reduce is ~1e-7, the noise moves weights by ~1e-2).
    noiseless, _, _ = _model_and_data(
        jit_compile=False,
        optimizer=LangevinAnnealing(0.05, temperature=0.0, preconditioner="rmsprop"),
    )
    fit_in_order(noiseless, x, y, 2)
    for variable, still in zip(
        model.trainable_variables, noiseless.trainable_variables, strict=True
    ):
        copies = [t.numpy() for t in two_cpu_strategy.experimental_local_results(variable.value)]
        assert len(copies) == 2
        np.testing.assert_array_equal(copies[0], copies[1])
        assert np.max(np.abs(copies[0] - still.numpy())) > 1e-3  # noise was applied


def test_noise_is_float32_under_mixed_precision():
    # A zero gradient in bfloat16 (what a mixed-precision model produces before the cast)
    # leaves the pure noise: it must be the float32 draw, bit for bit, not a bf16 one.
    increments = []
    for grad_dtype in ["float32", "bfloat16"]:
        w = keras.Variable(np.zeros(4096, np.float32))
        optimizer = LangevinAnnealing(0.01, temperature=0.5, seed=1)
        optimizer.apply([keras.ops.zeros((4096,), dtype=grad_dtype)], [w])
        increments.append(w.numpy())
    np.testing.assert_array_equal(increments[0], increments[1])
    assert len(np.unique(increments[1])) > 4000  # bf16 has only 2**16 values in all
    np.testing.assert_allclose(np.std(increments[1]), np.sqrt(2 * 0.01 * 0.5), rtol=0.05)

    keras.config.set_dtype_policy("mixed_float16")
    model, x, y = _model_and_data(jit_compile=False)
    fit_in_order(model, x, y, 1)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_sparse_gradients_get_dense_noise():
    # An Embedding's gradient is an IndexedSlices over the looked-up rows; Langevin noise is
    # added to every row (the SDE is dense).
    model = keras.Sequential([keras.Input((2,), dtype="int32"), keras.layers.Embedding(10, 4)])
    model.compile(optimizer=LangevinAnnealing(0.1, temperature=1.0, seed=0), loss="mse")
    before = model.get_weights()[0]
    model.fit(np.array([[1, 2]]), np.zeros((1, 2, 4)), epochs=1, verbose=0)
    assert np.all(model.get_weights()[0] != before)


BAD = [
    (dict(learning_rate=-0.1), ValueError, r"`learning_rate`: expected a finite float >= 0.*-0.1"),
    (dict(learning_rate="fast"), TypeError, r"`learning_rate`.*Received: learning_rate='fast'"),
    (dict(temperature=-1.0), ValueError, r"`temperature`.*Received: temperature=-1.0"),
    (dict(temperature="hot"), TypeError, r"`temperature`.*schedule.*Received: temperature='hot'"),
    (dict(temperature=lambda t: 1.0), TypeError, r"`temperature`"),
    (dict(data_size=0), ValueError, r"`data_size`: expected a finite float > 0.*data_size=0"),
    (dict(data_size="569"), TypeError, r"`data_size`.*'569'"),
    (dict(data_size=True), TypeError, r"`data_size`"),
    (dict(data_size=-5), ValueError, r"`data_size`.*-5"),
    (dict(preconditioner="adam"), ValueError, r"`preconditioner`: expected one of"),
    (dict(decay=1.5), ValueError, r"`decay`: expected a finite float >= 0.0 and <= 1.0"),
    (dict(decay="0.9"), TypeError, r"`decay`"),
    (dict(diagonal_bias=-1e-8), ValueError, r"`diagonal_bias`"),
    (dict(burn_in=-1), ValueError, r"`burn_in`: expected an integer >= 0"),
    (dict(burn_in=2.5), TypeError, r"`burn_in`"),
    (dict(seed=-3), ValueError, r"`seed`: expected an integer >= 0"),
]


def test_bad_arguments():
    for kwargs, error, match in BAD:
        with pytest.raises(error, match=match):
            LangevinAnnealing(**kwargs)
    with pytest.raises(ValueError, match=r"`c`: expected a finite float > 0"):
        LangevinAnnealing(temperature=LogarithmicCooling(c=0.0))


def test_scalar_tensor_data_size_and_deprecated_burnin():
    optimizer = LangevinAnnealing(0.1, data_size=tf.constant(569), seed=0)
    assert optimizer.data_size == 569 and isinstance(optimizer.data_size, int)
    assert LangevinAnnealing(data_size=np.float64(2.5)).data_size == 2.5
    with pytest.warns(DeprecationWarning, match="LangevinAnnealing: `burnin` is deprecated"):
        old = LangevinAnnealing(0.1, burnin=7)
    assert old.burn_in == 7 and old.get_config()["burn_in"] == 7


def test_example_runs_quick():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "langevin_annealing.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's keras_rg
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "temperature" in done.stdout
