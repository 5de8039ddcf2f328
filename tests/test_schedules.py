"""Tests of the temperature schedules: closed forms, validation, serialization."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rg.schedules import (
    ConstantTemperature,
    CyclicalTemperature,
    ExponentialCooling,
    LinearCooling,
    LogarithmicCooling,
)
from tests.helpers import assert_config_roundtrip

STEPS = np.array([0, 1, 2, 7, 50, 99, 100, 101, 1000, 123456])

# float32 evaluation of closed forms: relative error a few ulp (2**-23 ≈ 1.2e-7).
RTOL = 1e-6


def _values(schedule, steps=STEPS):
    return np.array([float(schedule(tf.constant(s, tf.int64))) for s in steps])


def test_logarithmic_closed_form():
    schedule = LogarithmicCooling(c=0.7, t0=3.5)
    np.testing.assert_allclose(_values(schedule), 0.7 / np.log(STEPS + 3.5), rtol=RTOL)
    assert LogarithmicCooling().get_config() == {"c": 1.0, "t0": 2.0}
    assert float(LogarithmicCooling()(0)) == pytest.approx(1 / math.log(2), rel=RTOL)


def test_exponential_closed_form_and_floor():
    schedule = ExponentialCooling(2.0, decay_rate=0.9, decay_steps=10, minimum=0.05)
    expected = np.maximum(2.0 * 0.9 ** (STEPS / 10), 0.05)
    np.testing.assert_allclose(_values(schedule), expected, rtol=RTOL)


def test_linear_closed_form():
    schedule = LinearCooling(1.5, 0.25, n_steps=100)
    expected = 1.5 + (0.25 - 1.5) * np.minimum(STEPS, 100) / 100
    np.testing.assert_allclose(_values(schedule), expected, rtol=RTOL)


def test_constant():
    np.testing.assert_array_equal(_values(ConstantTemperature(0.3)), np.float32(0.3))


def test_cyclical_matches_zhang_et_al():
    # Zhang et al. (2020), eq. 1, with k = t + 1: a0/2 (cos(pi mod(k-1, L)/L) + 1).
    schedule = CyclicalTemperature(0.8, cycle_length=40)
    t = np.arange(200)
    np.testing.assert_allclose(
        _values(schedule, t), 0.4 * (np.cos(np.pi * (t % 40) / 40) + 1), rtol=RTOL, atol=1e-7
    )
    staged = CyclicalTemperature(1.0, cycle_length=10, exploration_fraction=0.8, cosine=False)
    np.testing.assert_array_equal(_values(staged, t), ((t % 10) >= 8).astype(float))


def test_schedules_compile_with_xla():
    schedules = [
        LogarithmicCooling(),
        ExponentialCooling(1.0, 0.5, 3),
        LinearCooling(1.0, 0.0, 10),
        ConstantTemperature(0.5),
        CyclicalTemperature(1.0, 7, 0.3),
    ]
    step = tf.constant(5, tf.int64)
    for schedule in schedules:
        jitted = tf.function(schedule.__call__, jit_compile=True)
        np.testing.assert_allclose(float(jitted(step)), float(schedule(step)), rtol=RTOL)


def test_config_roundtrip():
    # One test looping over the cases: the autouse fixture costs ~0.5 s per test.
    for schedule in [
        LogarithmicCooling(0.5, 4.0),
        ExponentialCooling(1.0, 0.5, 3, 0.1),
        LinearCooling(1.0, 0.0, 10),
        ConstantTemperature(0.5),
        CyclicalTemperature(1.0, 7, 0.3, False),
    ]:
        back = assert_config_roundtrip(schedule)
        config = schedule.get_config()
        assert type(back).from_config(config).get_config() == config
        assert isinstance(back, keras.optimizers.schedules.LearningRateSchedule)


def test_serves_as_step_size():
    optimizer = keras.optimizers.SGD(learning_rate=ExponentialCooling(0.1, 0.5, 1))
    w = keras.Variable([1.0])
    optimizer.apply([keras.ops.ones((1,))], [w])  # step 0: h = 0.1
    optimizer.apply([keras.ops.ones((1,))], [w])  # step 1: h = 0.05
    np.testing.assert_allclose(w.numpy(), [0.85], rtol=RTOL)


BAD_ARGUMENTS = [
    (lambda: LogarithmicCooling(c=0.0), r"`c`: expected a finite float > 0.0\. Received: c=0"),
    (lambda: LogarithmicCooling(c=-1), r"Received: c=-1"),
    (lambda: LogarithmicCooling(c=float("nan")), r"`c`.*Received: c=nan"),
    (lambda: LogarithmicCooling(t0=1.0), r"`t0`: expected a finite float > 1"),
    (lambda: ExponentialCooling(-1.0, 0.5, 10), r"`initial_temperature`.*>= 0"),
    (lambda: ExponentialCooling(1.0, 1.5, 10), r"`decay_rate`.*<= 1"),
    (lambda: ExponentialCooling(1.0, 0.0, 10), r"`decay_rate`.*> 0"),
    (lambda: ExponentialCooling(1.0, 0.5, 0), r"`decay_steps`: expected an integer >= 1"),
    (lambda: ExponentialCooling(1.0, 0.5, 10, minimum=2.0), r"`minimum`.*<= 1"),
    (lambda: LinearCooling(1.0, -0.5, 10), r"`final_temperature`"),
    (lambda: LinearCooling(1.0, 0.0, 0), r"`n_steps`: expected an integer >= 1"),
    (lambda: ConstantTemperature(-0.1), r"`temperature`.*Received: temperature=-0.1"),
    (lambda: CyclicalTemperature(1.0, 0), r"`cycle_length`"),
    (lambda: CyclicalTemperature(1.0, 10, 1.0), r"`exploration_fraction`.*< 1"),
    (lambda: LogarithmicCooling(c=float("inf")), r"`c`"),
]
BAD_TYPES = [
    (lambda: LogarithmicCooling(c="1"), r"Received: c='1'"),
    (lambda: LogarithmicCooling(c=True), r"`c`"),
    (lambda: LinearCooling(1.0, 0.0, 2.5), r"`n_steps`: expected an integer >= 1"),
    (lambda: CyclicalTemperature(1.0, 10, cosine="yes"), r"`cosine`: expected True or False"),
]


def test_bad_arguments():
    for factory, match in BAD_ARGUMENTS:
        with pytest.raises(ValueError, match=match):
            factory()
    for factory, match in BAD_TYPES:
        with pytest.raises(TypeError, match=match):
            factory()
    # Scalar tensors are accepted; `steps` is the deprecated name of `n_steps`.
    assert LogarithmicCooling(c=tf.constant(0.5)).c == 0.5
    with pytest.warns(DeprecationWarning, match="LinearCooling: `steps` is deprecated"):
        assert LinearCooling(1.0, 0.0, steps=10).get_config()["n_steps"] == 10


def test_cyclical_step_recovers_mode_weights_where_a_constant_step_sticks():
    # Two unit Gaussians at (±4, 0) with equal weights (barrier 8 nats); 1000 chains start at
    # the left mode. cSGLD (Zhang et al., ICLR 2020: cosine cyclical step, T = 1) ends each
    # cycle with the chains split by the weights; a constant small step stays (rate ~ e^-8).
    # With unequal weights the cyclical split is biased towards 1/2 (the hops freeze out at
    # large steps, where the discretised chain is hotter): measured in bench_posterior.py.
    from keras_rg.optimizers import LangevinAnnealing

    mu = tf.constant([[-4.0, 0.0], [4.0, 0.0]])

    def grad(x):
        d = x[:, None, :] - mu[None]
        r = tf.nn.softmax(-0.5 * tf.reduce_sum(d * d, -1), axis=1)
        return tf.reduce_sum(r[..., None] * d, 1)

    fractions = {}
    for name, step in [("cyclical", CyclicalTemperature(1.9, 400)), ("constant", 0.05)]:
        x = keras.Variable(np.tile([[-4.0, 0.0]], (1000, 1)).astype(np.float32))
        optimizer = LangevinAnnealing(step, temperature=1.0, seed=3)

        def make_run(x, optimizer):
            @tf.function(jit_compile=True)
            def run():
                for _ in tf.range(800):
                    optimizer.apply([grad(x.value)], [x])
                return x.value

            return run

        fractions[name] = float(np.mean(make_run(x, optimizer)().numpy()[:, 0] > 0))
    se = np.sqrt(0.25 / 1000)
    assert abs(fractions["cyclical"] - 0.5) < 3 * se, fractions
    assert fractions["constant"] < 0.05, fractions
