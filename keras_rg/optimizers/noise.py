"""Shared pieces of the Langevin optimizers: Philox noise keyed on optimizer state, argument
resolution for step sizes and temperatures.

The noise is a pure function of (seed, iteration, variable index), drawn by the counter-based
Philox generator: a run resumes bit for bit from a checkpoint, and every copy of a mirrored
variable under `tf.distribute` draws the same numbers (see docs/langevin.md).
"""

import random

import keras
import tensorflow as tf
from keras import ops

from keras_rg.arguments import check_float, check_int, invalid_type
from keras_rg.schedules import ConstantTemperature

__all__ = [
    "TemperatureMixin",
    "check_data_size",
    "check_learning_rate",
    "check_seed",
    "make_seed_variable",
    "philox_normal",
    "resolve_temperature",
    "serialize_temperature",
]

# Philox counter layout: the high 64 bits hold the iteration, the low 64 bits start at
# ``variable_index << INDEX_SHIFT`` (+ ``stream << STREAM_SHIFT`` for a second stream). Each draw
# of n normals advances the counter by at most n steps, so streams of different (iteration,
# variable, stream) never overlap while every variable has fewer than 2**36 elements and there
# are fewer than 2**24 variables.
INDEX_SHIFT = 40
STREAM_SHIFT = 36
_PHILOX = tf.random.Algorithm.PHILOX.value
_Schedule = keras.optimizers.schedules.LearningRateSchedule


class TemperatureMixin:
    """What the Langevin optimizers share around their temperature: the current value and the
    schedule as properties, and ``from_config`` rebuilding the serialized objects (the temperature
    schedule, and any other key in ``serialized_keys``). Put it before the Keras optimizer base."""

    serialized_keys = ("temperature",)

    @property
    def current_temperature(self):
        """The temperature ``T_t`` at the current iteration, a float32 scalar tensor."""
        return ops.cast(self._temperature_schedule(self._iterations), "float32")

    @property
    def temperature_schedule(self):
        """The temperature schedule (a `ConstantTemperature` when a float was given)."""
        return self._temperature_schedule

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in cls.serialized_keys:
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(
                    config[key], custom_objects=custom_objects
                )
        return super().from_config(config, custom_objects=custom_objects)


def check_learning_rate(learning_rate):
    """A float >= 0 (returned as float) or a schedule/callable (returned as is)."""
    if callable(learning_rate) and not hasattr(learning_rate, "dtype"):
        return learning_rate
    return check_float("learning_rate", learning_rate, 0.0)


def check_data_size(data_size):
    """``N`` > 0: an int stays an int, a float or a scalar tensor becomes a Python number."""
    value = check_float("data_size", data_size, 0.0, open_min=True)
    return int(value) if value.is_integer() else value


def resolve_temperature(temperature, default):
    """Returns ``(stored value, schedule)`` for a temperature argument.

    A float >= 0 (or scalar tensor) becomes a `ConstantTemperature`; a
    `keras.optimizers.schedules.LearningRateSchedule` is used as is; `None` means ``default``.
    Strings, bools and plain callables raise ``TypeError``.
    """
    if temperature is None:
        temperature = default
    if isinstance(temperature, _Schedule):
        return temperature, temperature
    if callable(temperature) or isinstance(temperature, (str, bytes, bool)):
        raise invalid_type(
            "temperature",
            "a finite float >= 0, None, or a temperature schedule (a keras.optimizers.schedules."
            "LearningRateSchedule such as keras_rg.schedules.LogarithmicCooling())",
            temperature,
        )
    value = check_float("temperature", temperature, 0.0)
    return value, ConstantTemperature(value)


def serialize_temperature(temperature):
    """The config entry of a temperature: the float, or the serialized schedule."""
    if isinstance(temperature, float):
        return temperature
    return keras.saving.serialize_keras_object(temperature)


def check_seed(seed):
    """``None`` or an integer in [0, 2**63)."""
    if seed is None:
        return None
    return check_int("seed", seed, minimum=0, maximum=2**63 - 1)


def make_seed_variable(optimizer, seed):
    """The int64 noise key, an optimizer variable (saved, checkpointed and restored with it).

    ``seed=None`` draws one from Python's `random` (so `keras.utils.set_random_seed` fixes it).
    """
    initial = random.getrandbits(62) if seed is None else seed
    with keras.name_scope(optimizer.name, caller=optimizer):
        return keras.Variable(
            initial, name="seed", dtype="int64", trainable=False, aggregation="only_first_replica"
        )


def philox_normal(seed_variable, shape, step, index, stream=0):
    """Standard normals in float32, a pure function of (seed, step, variable index, stream)."""
    key = tf.reshape(tf.bitcast(ops.convert_to_tensor(seed_variable), tf.uint64), [1])
    low = tf.constant((index << INDEX_SHIFT) + (stream << STREAM_SHIFT), dtype=tf.uint64)
    counter = tf.stack([low, tf.bitcast(ops.cast(step, "int64"), tf.uint64)])
    return tf.raw_ops.StatelessRandomNormalV2(
        shape=shape, key=key, counter=counter, alg=_PHILOX, dtype=tf.float32
    )
