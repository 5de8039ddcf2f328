"""Which Keras backend is in use, and the few places where keras_rg must know it.

keras_rg's layers, activations, schedules, the RG flow (:class:`~keras_rg.callbacks.RGFlow` and
:class:`~keras_rg.rg_optimizer.RGOptimizer`) are written in ``keras.ops`` and run on every Keras 3
backend. A few parts are TensorFlow programs (TensorFlow Probability distributions, the
``tf.distribute`` replica-context update, TensorFlow-blocked estimators): they call
:func:`require_tensorflow`, which raises an error naming the backend and what to do. Backends and
multi-host training: docs/distributed.md.
"""

import json
import os
import sys

__all__ = [
    "BACKENDS",
    "backend",
    "configured_backend",
    "is_tensorflow",
    "read_now",
    "require_tensorflow",
    "tensorflow_module",
]

BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")


def configured_backend():
    """The backend Keras uses or will use, read without importing Keras when it is not loaded:
    ``KERAS_BACKEND``, else ``$KERAS_HOME/keras.json`` (``~/.keras/keras.json``), else
    ``"tensorflow"`` — Keras's own order."""
    if "keras" in sys.modules and hasattr(sys.modules["keras"], "backend"):
        return sys.modules["keras"].backend.backend()
    name = os.environ.get("KERAS_BACKEND")
    if name:
        return name
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~") if os.access(os.path.expanduser("~"), os.W_OK) else "/tmp",
        ".keras",
    )
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return json.load(f).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def backend():
    """``keras.backend.backend()``."""
    import keras

    return keras.backend.backend()


def is_tensorflow():
    """True when Keras runs on TensorFlow."""
    return backend() == "tensorflow"


def require_tensorflow(feature, alternative=None):
    """Raises a RuntimeError unless Keras runs on TensorFlow; ``feature`` names what needs it.

    Example:
        >>> require_tensorflow("the tf.distribute replica-context RG step")  # on TensorFlow: ok
    """
    name = backend()
    if name == "tensorflow":
        return
    hint = f" On {name}, {alternative}." if alternative else ""
    raise RuntimeError(
        f"{feature} needs the TensorFlow backend, but Keras runs on {name!r}. Set "
        f"KERAS_BACKEND=tensorflow before Keras is first imported to use it.{hint} Which parts "
        "of keras_rg run on which backend: docs/distributed.md."
    )


def tensorflow_module(feature):
    """``tensorflow``, imported quietly, after :func:`require_tensorflow` ``(feature)``."""
    require_tensorflow(feature)
    if "tensorflow" not in sys.modules:
        from keras_rg._quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
    return sys.modules["tensorflow"]


def read_now(variable):
    """The variable's value read at this point of the program, also inside a ``tf.function`` (where
    a converted variable may be read lazily, after a later assignment); a plain conversion on
    backends whose arrays are immutable (JAX, NumPy) or eager (torch: a copy)."""
    from keras import ops

    name = backend()
    if name == "tensorflow":
        return sys.modules["tensorflow"].identity(variable)
    if name == "torch":
        return ops.copy(ops.convert_to_tensor(variable))
    return ops.convert_to_tensor(variable)
