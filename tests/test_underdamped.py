"""Tests of UnderdampedLangevin: exact stationary moments, gradient-noise correction, adapted
mass targeting the right Gaussian, state, distribution, arguments."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.linalg import solve_discrete_lyapunov

from keras_rg.diagnostics import effective_sample_size
from keras_rg.optimizers import UnderdampedLangevin
from keras_rg.schedules import CyclicalTemperature, ExponentialCooling
from tests.helpers import (
    assert_config_roundtrip,
    assert_model_roundtrip,
    fit_in_order,
    sampler_model_and_data,
)


def _runner(optimizer, variable, grad_fn):
    @tf.function(jit_compile=True)
    def run(k):
        for _ in tf.range(k):
            optimizer.apply([grad_fn(variable.value)], [variable])
        return variable.value

    return lambda k: run(tf.constant(k)).numpy()


# --- Known answer: a Gaussian with condition number 100 ---------------------------------------


@pytest.mark.parametrize("temperature, data_size", [(1.0, 1), (2.0, 8)])
def test_gaussian_condition_100_stationary_moments_are_exact(temperature, data_size):
    # L = ½ Σ λ_i w_i², λ ∈ {1, 10, 100}: the target exp(−N L / T) has variance T / (N λ).
    # BAOAB samples the positions of a Gaussian exactly for every stable h (h·sqrt(λ) < 2;
    # here 1.5), so the exact moments are T / (N λ) and 0, not a discretised approximation.
    lams, chains, h = np.array([1.0, 10.0, 100.0]), 1000, 0.15
    lam = tf.constant(np.repeat(lams, chains), tf.float32)
    w = keras.Variable(np.zeros(lams.size * chains, np.float32))
    optimizer = UnderdampedLangevin(
        h, friction=2.0, temperature=temperature, data_size=data_size, seed=7
    )
    run = _runner(optimizer, w, lambda v: lam * v)
    run(400)  # the slowest mode relaxes as exp(−γ_eff t): 400 steps = 60 time units
    draws = np.array([run(4) for _ in range(150)], np.float64)
    for k, lam_k in enumerate(lams):
        x = draws[:, k * chains : (k + 1) * chains]
        exact = temperature / (data_size * lam_k)
        ess = float(np.sum(effective_sample_size(x)))
        se = exact * np.sqrt(2.0 / ess)
        assert abs(np.mean(x**2) - exact) < 4 * se, (lam_k, np.mean(x**2), exact, se)
        assert abs(np.mean(x)) < 4 * np.sqrt(exact / ess)


def _baoab_lyapunov(lam, h, friction, kt, v_hat, correct):
    """Exact stationary variance of w for the linear recursion of one coordinate."""
    c = np.exp(-friction * h)
    injected = (1 - c * c) * kt - (c * c * h * h * v_hat if correct else 0.0)
    sigma = np.sqrt(max(injected, 0.0))
    # u1 = u − hλw − h e;  w1 = w + h/2 u1;  u2 = c u1 + σ ξ;  w2 = w1 + h/2 u2
    u1 = np.array([-h * lam, 1.0, -h, 0.0])  # coefficients on (w, u, e, ξ)
    w1 = np.array([1.0, 0.0, 0.0, 0.0]) + h / 2 * u1
    u2 = c * u1 + np.array([0.0, 0.0, 0.0, sigma])
    w2 = w1 + h / 2 * u2
    a = np.array([w2[:2], u2[:2]])
    b = np.array([w2[2:], u2[2:]]) * np.array([np.sqrt(v_hat), 1.0])
    return solve_discrete_lyapunov(a, b @ b.T)[0, 0]


def test_gradient_noise_correction_gives_the_exact_recursion_variance():
    # Gradients λw + e with e ~ N(0, V) (a mini-batch's noise, drawn statelessly from the step).
    # Told V, the sampler subtracts c²h²V from the injected noise: the measured variance must
    # equal the exact stationary variance of that linear recursion (discrete Lyapunov equation)
    # and be close to the target T/λ, while the uncorrected run is inflated.
    lam, h, friction, v_hat, chains = 4.0, 0.1, 0.5, 4.0, 4000
    results = {}
    for correct in (True, False):
        w = keras.Variable(np.zeros(chains, np.float32))
        optimizer = UnderdampedLangevin(
            h, friction=friction, gradient_noise=v_hat if correct else 0.0, seed=11
        )
        counter = tf.Variable(0, dtype=tf.int64)

        def grad(v, counter=counter):
            counter.assign_add(1)
            e = tf.random.stateless_normal(
                [chains], seed=tf.stack([counter.read_value(), tf.constant(5, tf.int64)])
            )
            return lam * v + np.sqrt(v_hat) * e

        run = _runner(optimizer, w, grad)
        run(600)  # 60 time units at γ = 0.5
        draws = np.array([run(5) for _ in range(150)], np.float64)
        ess = float(np.sum(effective_sample_size(draws)))
        exact = _baoab_lyapunov(lam, h, friction, 1.0, v_hat, correct)
        measured = np.mean(draws**2)
        assert abs(measured - exact) < 4 * exact * np.sqrt(2 / ess), (correct, measured, exact)
        results[correct] = exact
    # Corrected: 2.4 % above T/λ (the noise also reaches w through the A half-step, which no
    # velocity noise can cancel); uncorrected: 40 % too wide.
    assert abs(results[True] - 1 / lam) < 0.03 / lam
    assert results[False] > 1.3 / lam


# --- Adapted mass: the chain targets the right distribution after adaptation stops ----------


def _correlated_gaussian(d=5, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.01 * np.eye(d)  # condition number ≈ 66, strong correlations


@pytest.mark.parametrize("mass", ["dense", "diagonal"])
def test_adapted_mass_targets_the_known_gaussian_after_adaptation(mass):
    cov = _correlated_gaussian()
    n_data = 50
    hessian = tf.constant(np.linalg.inv(cov) / n_data, tf.float32)  # exp(−N L) = N(0, cov)
    top = np.linalg.eigvalsh(np.linalg.inv(cov) / n_data).max()
    w = keras.Variable(np.zeros(5, np.float32))
    burn_in = 4000
    optimizer = UnderdampedLangevin(
        0.5 / np.sqrt(top),
        data_size=n_data,
        mass=mass,
        burn_in=burn_in,
        adapted_learning_rate=0.7 if mass == "dense" else 0.3,
        seed=3,
    )
    run = _runner(optimizer, w, lambda v: tf.linalg.matvec(hessian, v))
    run(burn_in)
    frozen = [v.numpy().copy() for v in optimizer.variables if "scale" in v.path]
    draws = np.array([run(4) for _ in range(3000)], np.float64)
    # Adaptation stopped: the mass is unchanged after burn-in.
    after = [v.numpy() for v in optimizer.variables if "scale" in v.path]
    for a, b in zip(frozen, after, strict=True):
        np.testing.assert_array_equal(a, b)
    ess = effective_sample_size(draws)
    var = np.var(draws, axis=0)
    exact = np.diag(cov)
    # SE of a variance from ESS draws: σ² sqrt(2/ESS); 4 SE.
    assert np.all(np.abs(var - exact) < 4 * exact * np.sqrt(2 / ess)), (var / exact, ess)
    assert np.all(np.abs(draws.mean(0)) < 4 * np.sqrt(exact / ess))
    if mass == "dense":
        # Whitened: Σ·∇²L ≈ I, and the chain mixes (ESS per step > 0.1 in every coordinate).
        scales = after[0]
        vectors = [v.numpy() for v in optimizer.variables if "vectors" in v.path][0]
        sigma = vectors @ np.diag(scales) @ vectors.T
        eig = np.linalg.eigvals(sigma @ np.linalg.inv(cov) / n_data).real
        assert np.all((eig > 0.7) & (eig < 1.3)), eig
        assert np.min(ess) > 0.1 * 3000 * 4 / 4


# --- State, reproducibility, distribution ----------------------------------------------------


def _model(jit_compile, seed=5, optimizer=None):
    def make_optimizer():
        if optimizer is not None:
            return optimizer
        return UnderdampedLangevin(
            0.05,
            temperature=ExponentialCooling(0.1, 0.9, 4),
            data_size=64,
            mass="dense",
            burn_in=8,
            max_dense_size=30,  # the 5×8 kernel gets a diagonal mass, the others dense
            seed=seed,
        )

    return sampler_model_and_data(make_optimizer, jit_compile)


def test_save_load_resumes_bit_exactly_across_adaptation(tmp_path):
    model, x, y = _model(jit_compile=False)
    fit_in_order(model, x, y, 1)  # 4 steps: inside the adaptation windows (burn-in 8)
    model.save(tmp_path / "half.keras")
    fit_in_order(model, x, y, 3)
    resumed = keras.models.load_model(tmp_path / "half.keras", safe_mode=True)
    assert isinstance(resumed.optimizer, UnderdampedLangevin)
    fit_in_order(resumed, x, y, 3)
    for a, b in zip(model.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, resumed.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_checkpoint_resumes_bit_exactly_with_xla(tmp_path):
    model, x, y = _model(jit_compile=True)
    fit_in_order(model, x, y, 1)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(tmp_path / "ckpt")
    fit_in_order(model, x, y, 3)
    fresh, _, _ = _model(jit_compile=True, seed=999)
    fresh.optimizer.build(fresh.trainable_variables)
    tf.train.Checkpoint(model=fresh, optimizer=fresh.optimizer).restore(path).assert_consumed()
    fit_in_order(fresh, x, y, 3)
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_mirrored_copies_are_identical(two_cpu_strategy):
    with two_cpu_strategy.scope():
        model, x, y = _model(jit_compile=False)
    fit_in_order(model, x, y, 3)  # through both adaptations (steps 3 and 7)
    noiseless, _, _ = _model(
        jit_compile=False, optimizer=UnderdampedLangevin(0.05, temperature=0.0)
    )
    fit_in_order(noiseless, x, y, 3)
    for variable, still in zip(
        model.trainable_variables, noiseless.trainable_variables, strict=True
    ):
        copies = [t.numpy() for t in two_cpu_strategy.experimental_local_results(variable.value)]
        np.testing.assert_array_equal(copies[0], copies[1])
        assert np.max(np.abs(copies[0] - still.numpy())) > 1e-3
    for variable in model.optimizer.variables:
        copies = two_cpu_strategy.experimental_local_results(variable.value)
        np.testing.assert_array_equal(copies[0].numpy(), copies[-1].numpy())


def test_zero_temperature_zero_friction_is_leapfrog():
    # γ = 0, T = 0: u ← u − h g(w); w ← w + h u (two half-drifts): leapfrog for L = ½ w².
    w = keras.Variable(np.array([1.0], np.float32))
    run = _runner(UnderdampedLangevin(0.1, friction=0.0, temperature=0.0), w, lambda v: v)
    ref_w, ref_u = 1.0, 0.0
    for _ in range(50):
        ref_u -= 0.1 * ref_w
        ref_w += 0.1 * ref_u
    np.testing.assert_allclose(run(50), [ref_w], rtol=1e-5)


def test_config_roundtrip_and_model_roundtrip(tmp_path):
    model, x, y = _model(jit_compile=False)
    fit_in_order(model, x, y, 1)
    loaded = assert_model_roundtrip(model, x, tmp_path)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for optimizer in [
        UnderdampedLangevin(),
        UnderdampedLangevin(CyclicalTemperature(0.1, 50), friction=0.5, data_size=10, seed=2),
        UnderdampedLangevin(
            0.1, mass="diagonal", burn_in=100, adapted_learning_rate=CyclicalTemperature(1.0, 50)
        ),
    ]:
        assert_config_roundtrip(optimizer)
    assert UnderdampedLangevin(data_size=tf.constant(569)).data_size == 569


BAD = [
    (dict(learning_rate="fast"), TypeError, r"`learning_rate`"),
    (dict(friction=-1.0), ValueError, r"`friction`"),
    (dict(friction="1"), TypeError, r"`friction`"),
    (dict(temperature="hot"), TypeError, r"`temperature`"),
    (dict(data_size=0), ValueError, r"`data_size`"),
    (dict(data_size="569"), TypeError, r"`data_size`"),
    (dict(mass="full"), ValueError, r"`mass`: expected one of"),
    (dict(mass="dense", burn_in=4), ValueError, r"`burn_in`: expected an integer >= 8"),
    (dict(adapted_learning_rate=0.0), ValueError, r"`adapted_learning_rate`"),
    (dict(gradient_noise=-1.0), ValueError, r"`gradient_noise`"),
    (dict(max_dense_size=0), ValueError, r"`max_dense_size`"),
    (dict(seed=1.5), TypeError, r"`seed`"),
]


def test_bad_arguments():
    for kwargs, error, match in BAD:
        with pytest.raises(error, match=match):
            UnderdampedLangevin(**kwargs)
