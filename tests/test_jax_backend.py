"""keras_rg on the JAX backend, against closed forms and against the same run on TensorFlow.

The JAX side runs in a subprocess (tests/jax_checks.py; Keras fixes its backend at import and
this session runs on TensorFlow). Checked: ``import keras_rg`` on JAX does not import TensorFlow;
config round trips; the RG step with zero gradient, jit-compiled, fused (RGOptimizer) and as a
callback (RGFlow), equals the closed form ``θ_t = (1 − εc)^t θ_0``; an Adam + RG fit gives the
TensorFlow weights; ``.keras`` files round-trip on JAX and across the two backends; the Langevin
samplers fit, reproduce, resume bit for bit and sample the exact stationary variance on JAX
(tests/jax_sampler_checks.py). Skipped when
jax is not installed (``pip install "keras-rg[jax]"``). Backends: docs/distributed.md.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_rg
from tests.jax_checks import EPSILON, N_STEPS, build_model

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("jax") is None,
        reason='jax is not installed: pip install "jax[cpu]"',
    ),
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="compares a JAX subprocess with this TensorFlow session",
    ),
]


def _fit_tf(weights, x, y, path):
    model = build_model(keras, keras_rg)
    model.set_weights(weights)
    if path == "optimizer":
        opt = keras_rg.RGOptimizer.for_model(model, keras.optimizers.SGD(0.0), epsilon=EPSILON)
        callbacks = []
    elif path == "callback":
        opt, callbacks = keras.optimizers.SGD(0.0), [keras_rg.RGFlow(epsilon=EPSILON)]
    else:
        opt = keras_rg.RGOptimizer.for_model(model, keras.optimizers.Adam(1e-2), epsilon=EPSILON)
        callbacks = []
    model.compile(optimizer=opt, loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=len(x) // N_STEPS, shuffle=False, verbose=0, callbacks=callbacks)
    return model


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("jax")
    rng = np.random.default_rng(16)
    x = rng.normal(size=(8 * N_STEPS, 6, 3)).astype("float32")
    y = rng.normal(size=(8 * N_STEPS, 2)).astype("float32")
    keras.utils.clear_session()
    model = build_model(keras, keras_rg)
    weights = model.get_weights()
    np.savez(
        workdir / "inputs.npz", x=x, y=y, n_weights=len(weights),
        **{f"w{i}": w for i, w in enumerate(weights)},
    )  # fmt: skip
    tf_runs = {path: _fit_tf(weights, x, y, path) for path in ("optimizer", "callback", "adam")}
    tf_runs["adam"].save(workdir / "tf_model.keras")
    plan = keras_rg.RGOptimizer.for_model(model, "sgd").betas
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    env.setdefault("JAX_PLATFORMS", "cpu")  # tests/test_gpu.py sets "cuda"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "jax_checks.py"), str(workdir)],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    arrays = dict(np.load(workdir / "jax_results.npz"))
    return {
        "out": out, "arrays": arrays, "tf": tf_runs, "weights": weights, "x": x,
        "paths": [v.path for v in model.weights], "plan": plan, "workdir": workdir,
    }  # fmt: skip


def test_import_respects_backend_and_skips_tensorflow(runs):
    assert runs["out"]["keras_backend"] == "jax"
    assert runs["out"]["tensorflow_after_import"] is False
    # Scale-covariant layers trained (jit-compiled) with RGOptimizer, then with the RGFlow and
    # LayerInformation (binning) callbacks, without TensorFlow...
    assert runs["out"]["tensorflow_after_optimizer_fit"] is False
    assert runs["out"]["tensorflow_after_callback_fit"] is False
    # ...and a TensorFlow-only part says which backend runs and what to do.
    message = runs["out"]["require_tensorflow"]
    assert "a TensorFlow-only part needs the TensorFlow backend" in message
    assert "'jax'" in message and "KERAS_BACKEND=tensorflow" in message


def test_config_roundtrip_on_jax(runs):
    configs = runs["out"]["config_roundtrip"]
    assert len(configs) == 16 and all(configs.values()), configs
    # A schedule's value on JAX is the closed form T_0 · r^(s / decay_steps).
    np.testing.assert_allclose(runs["out"]["exponential_cooling"], [1.0, 0.5**0.5, 0.5], 1e-6)


@pytest.mark.parametrize("path", ["optimizer", "callback"])
def test_zero_gradient_rg_step_is_the_closed_form_on_both_backends(runs, path):
    """θ_t = (1 − εc)^t θ_0 for a LinearBeta(c) variable after t jit-compiled steps."""
    checked = 0
    for i, (w0, var_path) in enumerate(zip(runs["weights"], runs["paths"], strict=True)):
        on_jax = runs["arrays"][f"zero_grad_{path}_{i}"]
        on_tf = runs["tf"][path].get_weights()[i]
        np.testing.assert_allclose(on_jax, on_tf, rtol=1e-6, atol=1e-7)
        key = "/".join(var_path.split("/")[-2:])
        beta = runs["plan"].get(key)
        if beta is None:
            np.testing.assert_array_equal(on_jax, w0)  # outside the plan and no gradient step
            continue
        expected = w0.astype(np.float64) * (1.0 - EPSILON * beta.coefficient) ** N_STEPS
        np.testing.assert_allclose(on_jax, expected, rtol=2e-6, atol=1e-7)
        checked += int(np.any(w0 != 0))
    assert checked >= 2  # both kernels moved, by the closed-form factor


def test_adam_and_rg_fit_matches_tensorflow(runs):
    for i, w in enumerate(runs["tf"]["adam"].get_weights()):
        np.testing.assert_allclose(runs["arrays"][f"adam_{i}"], w, rtol=1e-4, atol=2e-6)
        assert not np.allclose(w, runs["weights"][i]) or not np.any(w)  # training moved it


def test_keras_files_round_trip_on_jax_and_across_backends(runs):
    out = runs["out"]
    assert out["optimizer_class"] == "RGOptimizer"
    assert out["keras_roundtrip_max_diff"] <= 1e-6
    tf_predictions = runs["tf"]["adam"].predict(runs["x"], verbose=0)
    np.testing.assert_allclose(
        runs["arrays"]["tf_model_on_jax_predictions"], tf_predictions, rtol=1e-5, atol=1e-6
    )
    from_jax = keras.models.load_model(runs["workdir"] / "jax_model.keras", safe_mode=True)
    np.testing.assert_allclose(
        from_jax.predict(runs["x"], verbose=0), runs["arrays"]["jax_predictions"], 1e-5, 1e-6
    )
    assert isinstance(from_jax.optimizer, keras_rg.RGOptimizer)


@pytest.mark.parametrize("name", ["langevin", "underdamped"])
def test_samplers_on_jax_fit_reproduce_and_resume_bit_exact(runs, name):
    s = runs["out"]["samplers"]
    assert s[f"{name}_finite"] and s[f"{name}_moved"] > 1e-2
    # Stateless noise keyed on (seed, step, variable): same seed, same weights; another, others.
    assert s[f"{name}_same_seed_equal"] is True
    assert s[f"{name}_other_seed_max_diff"] > 1e-3
    # seed=None: the key drawn at construction is saved in the .keras file and restored (a
    # different key would be drawn at load), so the resumed run is the uninterrupted one.
    assert s[f"{name}_loaded_class"] == {"langevin": "LangevinAnnealing"}.get(
        name, "UnderdampedLangevin"
    )
    assert s[f"{name}_loaded_iterations"] == 10
    assert s[f"{name}_resume_bit_exact"] is True, s[f"{name}_resume_max_diff"]
    assert s[f"{name}_config_roundtrip"] is True


def test_langevin_stationary_variance_on_jax_is_the_exact_discrete_value(runs):
    """Var(w) on L = ½λw² is 2T/(λ(2 − hλ)) for the Euler–Maruyama chain (h = 0.4: 25 % above
    the continuous-time T/λ, which the estimate must exclude)."""
    v = runs["out"]["samplers"]["stationary_variance"]
    assert v["n_steps"] == 2100 and v["n_samples"] == 200
    assert abs(v["estimate"] - v["exact"]) <= 4 * v["standard_error"], v
    assert abs(v["estimate"] - v["continuous_time"]) > 8 * v["standard_error"], v
    assert v["standard_error"] < 0.02 * v["exact"]
