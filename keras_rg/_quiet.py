"""Imports TensorFlow without its C++ start-up log lines on the terminal."""

import contextlib
import os
import sys

__all__ = ["import_tensorflow_quietly", "stderr_silenced"]


@contextlib.contextmanager
def stderr_silenced():
    """Points file descriptor 2 at /dev/null for the duration (C-level writes included)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (e.g. some embedded interpreters): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow_quietly(init_devices=False):
    """Imports TensorFlow and Keras with fd 2 silenced; optionally initialises the devices (whose
    probes also log) — only where no one needs to configure devices afterwards, e.g. a CLI.

    TensorFlow writes its oneDNN and CUDA notices from C++ straight to stderr before any Python
    logging setting can act, so the only way to keep them off a terminal is at the fd level.
    Set ``KERAS_RG_QUIET_IMPORT=0`` to see them.
    """
    if os.environ.get("KERAS_RG_QUIET_IMPORT", "1") == "0":
        import tensorflow  # noqa: F401

        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with stderr_silenced():
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        if init_devices:
            tf.config.list_logical_devices()
        import keras  # noqa: F401
