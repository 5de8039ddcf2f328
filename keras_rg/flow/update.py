"""The RG step applied in place to variables: compiled, distribution-aware, mixed-precision safe.

:func:`apply_rg_step` does ``θ ← θ − sεβ(θ)`` for a list of ``(variable, beta)`` pairs eagerly,
inside ``tf.function``/XLA, in an optimizer's replica context and in a callback's cross-replica
context; :func:`beta_norms` gives the squared ``‖β(θ)‖`` per pair for the diagnostics. On JAX (and
the other Keras backends) the update is a plain ``keras.ops`` assignment, which also runs inside
``jax.jit`` and an optimizer's stateless apply; ``keras.distribution`` keeps replicated variables
identical by itself (docs/distributed.md). The maths is in :mod:`keras_rg.flow.beta`;
docs/rg_flow.md shows both entry points (callback and optimizer).
"""

import functools

import keras
import numpy as np
from keras import ops

from keras_rg.backend import is_tensorflow, tensorflow_module
from keras_rg.flow.beta import LinearBeta, direction_sign

__all__ = ["apply_rg_step", "beta_norms"]


def _compute_dtype(dtype):
    dtype = keras.backend.standardize_dtype(dtype)
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _update_one(var, signed_epsilon, beta):
    value = ops.convert_to_tensor(var)
    dtype = _compute_dtype(value.dtype)
    x = ops.cast(value, dtype)
    if isinstance(beta, LinearBeta):
        # θ − sεcθ = (1 − sεc)·θ: one elementwise multiply, the cost of weight decay.
        if isinstance(signed_epsilon, float):
            factor = ops.convert_to_tensor(1.0 - signed_epsilon * beta.coefficient, dtype)
        else:
            factor = 1.0 - ops.cast(signed_epsilon, dtype) * beta.coefficient
        new = x * factor
    else:
        if isinstance(signed_epsilon, float):
            signed_epsilon = ops.convert_to_tensor(signed_epsilon, dtype)
        new = x - ops.cast(signed_epsilon, dtype) * ops.cast(beta(x), dtype)
    var.assign(ops.cast(new, value.dtype))


def _tf_variable(variable):
    return variable.value if isinstance(variable, keras.Variable) else variable


def _update_all(strategy, pairs, signed_epsilon):
    for variable, beta in pairs:
        strategy.extended.update(
            _tf_variable(variable),
            functools.partial(_update_one, beta=beta),
            args=(signed_epsilon,),
            group=False,
        )


def apply_rg_step(pairs, epsilon, direction="paper"):
    """In place, ``θ ← θ − sεβ(θ)`` for every ``(variable, beta)`` in ``pairs`` (s = ±1).

    Works eagerly, inside ``tf.function`` / XLA, in a replica context (inside an optimizer step
    under ``tf.distribute``) and in a cross-replica context (a callback under a strategy's
    scope); on JAX eagerly, under ``jax.jit`` and inside an optimizer's stateless apply. Low-precision variables are updated in float32 and cast back.

    Args:
        pairs: a sequence of ``(keras.Variable, beta callable)``.
        epsilon: ε, a float or a scalar tensor.
        direction: ``"paper"`` or ``"reverse"``. Defaults to ``"paper"``.

    Example:
        >>> v = keras.Variable([2.0])
        >>> apply_rg_step([(v, LinearBeta(1.0))], 0.25)
        >>> float(v[0])
        1.5
    """
    sign = direction_sign(direction)
    if isinstance(epsilon, (int, float, np.number)):
        signed = sign * float(epsilon)  # rounded once, to each variable's dtype
    else:
        signed = ops.multiply(ops.convert_to_tensor(epsilon), sign)
    if not is_tensorflow():  # no replica contexts: keras.distribution shards by itself
        for variable, beta in pairs:
            _update_one(variable, signed, beta)
        return
    tf = tensorflow_module("the tf.distribute-aware RG step")
    if tf.distribute.in_cross_replica_context():
        _update_all(tf.distribute.get_strategy(), pairs, signed)
    else:
        tf.distribute.get_replica_context().merge_call(_update_all, args=(list(pairs), signed))


def beta_norms(pairs):
    """Squared norms ``‖β(θ_i)‖²`` of each ``(variable, beta)``, as a float32 tensor (one entry
    per pair; accumulated in float32, or float64 for float64 variables)."""
    out = []
    for variable, beta in pairs:
        x = ops.convert_to_tensor(variable)
        x = ops.cast(x, _compute_dtype(x.dtype))
        out.append(ops.cast(ops.sum(ops.square(beta(x))), "float32"))
    return ops.stack(out) if out else ops.zeros((0,), "float32")
