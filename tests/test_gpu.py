"""GPU checks (marker ``gpu``; skipped without a GPU, run by benchmarks/gpu_check.sh).

On the GPU, in float32 and float64: the RG step with zero gradient equals its closed form
``θ_t = (1 − εc)^t θ_0`` (fused, jit-compiled), an Adam + RG fit equals the same fit on the CPU,
and the JAX side of tests/test_jax_backend.py passes on the GPU. Backends: docs/distributed.md.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_rg

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.gpu


def _fit(device, dtype, learning_rate, n_steps=6, epsilon=0.05):
    with tf.device(device):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((5,)),
                                  keras_rg.ScaleCovariantDense(7, alpha=0.5, dtype=dtype),
                                  keras_rg.ScaleCovariantDense(1, alpha=0.5,
                                                               dtype=dtype)])  # fmt: skip
        w0 = model.get_weights()
        inner = keras.optimizers.SGD(0.0) if learning_rate == 0 else keras.optimizers.Adam(1e-2)
        opt = keras_rg.RGOptimizer.for_model(model, inner, epsilon=epsilon)
        model.compile(optimizer=opt, loss="mse", jit_compile=True)
        x = np.random.default_rng(0).normal(size=(8 * n_steps, 5)).astype(dtype)
        model.fit(x, x[:, :1], batch_size=8, shuffle=False, verbose=0)
        return w0, model.get_weights(), opt.betas


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rg_step_closed_form_on_gpu(dtype):
    w0, w, betas = _fit("/GPU:0", dtype, 0.0)
    coefficients = [b.coefficient for b in betas.values()]
    assert len(coefficients) == len(w0) == 4
    for before, after, c in zip(w0, w, coefficients, strict=True):
        np.testing.assert_allclose(after, before * (1 - 0.05 * c) ** 6,
                                   rtol=1e-6 if dtype == "float32" else 1e-13)  # fmt: skip


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_fit_matches_cpu(dtype):
    _, on_gpu, _ = _fit("/GPU:0", dtype, 1e-2)
    _, on_cpu, _ = _fit("/CPU:0", dtype, 1e-2)
    for g, c in zip(on_gpu, on_cpu, strict=True):
        np.testing.assert_allclose(g, c, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_checks_on_gpu(tmp_path):
    """The JAX conformance run (tests/jax_checks.py) on the GPU build of jax, if installed."""
    probe = subprocess.run([sys.executable, "-c", "import jax; print(jax.default_backend())"],
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    if probe.stdout.strip() != "gpu":
        pytest.skip("jax has no GPU backend here (pip install 'jax[cuda12]')")
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cuda")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0",
                           str(ROOT / "tests" / "test_jax_backend.py")],
                          env=env, capture_output=True, text=True, timeout=400,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
