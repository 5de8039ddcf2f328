"""Test session set-up: TensorFlow backend, quiet logs, two logical CPUs for tf.distribute tests."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Two logical CPU devices so MirroredStrategy tests run on this machine. This must happen before
# TensorFlow initialises its devices, hence here, at conftest import.
_cpus = tf.config.list_physical_devices("CPU")
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
except RuntimeError:  # devices already initialised by an earlier import
    pass

import keras  # noqa: E402


@pytest.fixture(autouse=True)
def _reset_keras_state():
    """Every test starts from the float32 policy, a cleared session and a fixed seed."""
    keras.config.set_dtype_policy("float32")
    keras.utils.clear_session()
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


_STRATEGY = []


@pytest.fixture
def two_cpu_strategy():
    """A MirroredStrategy over the two logical CPUs set up above, one per process: a second
    MirroredStrategy in the same process collides on collective instance keys."""
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) < 2:
        pytest.skip("two logical CPU devices could not be configured")
    if not _STRATEGY:
        _STRATEGY.append(tf.distribute.MirroredStrategy(devices[:2]))
    return _STRATEGY[0]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` run only where TensorFlow sees a GPU (benchmarks/gpu_check.sh)."""
    if tf.config.list_physical_devices("GPU"):
        return
    skip = pytest.mark.skip(reason="no GPU visible (the gpu tests run in benchmarks/gpu_check.sh)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
