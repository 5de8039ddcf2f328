"""Shared pieces of the Langevin optimizers: stateless noise keyed on optimizer state, the few
backend-specific operations, argument resolution for step sizes and temperatures.

The noise is a pure function of (seed, iteration, variable index): a run resumes bit for bit from
a checkpoint, and every copy of a replicated variable (``tf.distribute`` mirrored variables, JAX
``DataParallel`` replicas on any number of processes) draws the same numbers. On TensorFlow it is
the counter-based Philox generator (the seed is one int64 variable); on JAX it is
``jax.random.normal`` with the threefry key of the seed (two int32 words, so no 64-bit mode is
needed) folded with the iteration and the variable index. The two backends draw different
numbers from the same seed. Other backends are refused at construction. See docs/langevin.md and
docs/distributed.md.
"""

import random
import sys

import keras
from keras import ops

from keras_rg.arguments import check_float, check_int, invalid_type
from keras_rg.backend import backend as _backend_name
from keras_rg.schedules import ConstantTemperature

__all__ = [
    "TemperatureMixin",
    "check_data_size",
    "check_learning_rate",
    "check_seed",
    "cond_update",
    "densify",
    "make_seed_variable",
    "philox_normal",
    "stateless_normal",
    "step_dtype",
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
_BACKENDS = ("tensorflow", "jax")
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


def _check_backend(optimizer):
    name = _backend_name()
    if name not in _BACKENDS:
        raise RuntimeError(
            f"{type(optimizer).__name__} draws its stateless noise on the TensorFlow or JAX "
            f"backend, but Keras runs on {name!r}. Set KERAS_BACKEND=tensorflow or jax before "
            "Keras is first imported (docs/distributed.md)."
        )
    return name


def make_seed_variable(optimizer, seed):
    """The noise key, an optimizer variable (saved, checkpointed and restored with it): one int64
    on TensorFlow; on JAX the same 64 bits as two int32 words ``[low, high]`` (bit patterns), so
    that JAX without 64-bit mode holds it.

    ``seed=None`` draws one from Python's `random` (so `keras.utils.set_random_seed` fixes it).
    """
    name = _check_backend(optimizer)
    initial = random.getrandbits(62) if seed is None else seed
    if name == "tensorflow":
        value, dtype = initial, "int64"
    else:
        low, high = initial & 0xFFFFFFFF, initial >> 32
        value, dtype = [low - (1 << 32) if low >= 1 << 31 else low, high], "int32"
    with keras.name_scope(optimizer.name, caller=optimizer):
        return keras.Variable(
            value, name="seed", dtype=dtype, trainable=False, aggregation="only_first_replica"
        )


def stateless_normal(seed_variable, shape, step, index, stream=0):
    """Standard normals in float32, a pure function of (seed, step, variable index, stream): Philox
    on TensorFlow (:func:`philox_normal`), threefry on JAX."""
    if _backend_name() == "tensorflow":
        return philox_normal(seed_variable, shape, step, index, stream)
    import jax

    words = jax.lax.bitcast_convert_type(ops.convert_to_tensor(seed_variable), "uint32")
    key = jax.random.wrap_key_data(words, impl="threefry2x32")
    key = jax.random.fold_in(key, ops.cast(step, "uint32"))
    key = jax.random.fold_in(key, (index << 8) + stream)
    return jax.random.normal(key, tuple(shape), "float32")


def philox_normal(seed_variable, shape, step, index, stream=0):
    """Standard normals in float32 by TensorFlow's Philox, keyed on the int64 seed variable."""
    tf = sys.modules["tensorflow"]
    key = tf.reshape(tf.bitcast(ops.convert_to_tensor(seed_variable), tf.uint64), [1])
    low = tf.constant((index << INDEX_SHIFT) + (stream << STREAM_SHIFT), dtype=tf.uint64)
    counter = tf.stack([low, tf.bitcast(ops.cast(step, "int64"), tf.uint64)])
    return tf.raw_ops.StatelessRandomNormalV2(
        shape=shape, key=key, counter=counter, alg=tf.random.Algorithm.PHILOX.value,
        dtype=tf.float32,
    )  # fmt: skip


def densify(gradient):
    """A sparse TensorFlow gradient (``tf.IndexedSlices``) as a dense tensor (the noise is dense
    anyway); any other gradient as is."""
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(gradient, tf.IndexedSlices):
        return tf.convert_to_tensor(gradient)
    return gradient


def step_dtype():
    """The integer dtype for iteration arithmetic: int64 on TensorFlow, int32 on JAX (whose
    default mode has no 64-bit integers)."""
    return "int64" if _backend_name() == "tensorflow" else "int32"


def cond_update(pred, compute, keep, assign):
    """``assign(compute())`` when ``pred`` holds, nothing otherwise; returns ``compute()[0]`` or
    ``keep()[0]``. On TensorFlow the assignment runs inside the taken branch of ``tf.cond`` (the
    untaken branch costs nothing); on JAX (whose traced train step is functional) the branch
    values are selected by ``ops.cond`` and assigned after it."""
    if _backend_name() == "tensorflow":

        def taken():
            values = compute()
            assign(values)
            return values[0]

        return sys.modules["tensorflow"].cond(pred, taken, lambda: keep()[0])
    values = ops.cond(pred, compute, keep)
    assign(values)
    return values[0]
