"""The JAX side of tests/test_jax_backend.py, run as ``KERAS_BACKEND=jax python tests/jax_checks.py
WORKDIR`` (a separate process: the test session runs on TensorFlow and Keras fixes its backend at
import). Reads WORKDIR/tf_model.keras and WORKDIR/inputs.npz written by the TensorFlow side,
writes WORKDIR/jax_results.npz and WORKDIR/jax_model.keras, and prints one JSON line of results.
"""

import json
import os
import sys

import numpy as np

EPSILON, N_STEPS = 0.05, 5


def build_model(keras, keras_rg, seed=0):
    """The model both backends train (the architecture; the weights come from the TensorFlow side,
    and the JAX side passes seed=None: Keras's set_random_seed imports TensorFlow if installed)."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((6, 3)),
            keras_rg.ScaleCovariantConv1D(4, 2, alpha=0.5, activation=keras_rg.PowerLaw(0.5)),
            keras.layers.Flatten(),
            keras_rg.ScaleCovariantDense(
                2, activation=keras_rg.ScaleAware("tanh", 0.7), scale_mode="adaptive"
            ),
        ]
    )


def main(workdir):
    out = {"backend": os.environ.get("KERAS_BACKEND")}
    import keras_rg

    out["tensorflow_after_import"] = "tensorflow" in sys.modules
    import keras

    out["keras_backend"] = keras.backend.backend()
    data = np.load(os.path.join(workdir, "inputs.npz"))
    x, y, weights = data["x"], data["y"], [data[f"w{i}"] for i in range(int(data["n_weights"]))]
    arrays = {}

    # The RG step with zero gradient (SGD, learning rate 0), jit-compiled, fused and as callback.
    for path in ("optimizer", "callback"):
        model = build_model(keras, keras_rg, seed=None)
        model.set_weights(weights)
        if path == "optimizer":
            opt = keras_rg.RGOptimizer.for_model(model, keras.optimizers.SGD(0.0), epsilon=EPSILON)
            callbacks = []
        else:
            opt = keras.optimizers.SGD(0.0)
            callbacks = [keras_rg.RGFlow(epsilon=EPSILON),
                         keras_rg.LayerInformation(x, probe_size=16, estimator="binning")]  # fmt: skip
        model.compile(optimizer=opt, loss="mse", jit_compile=True)
        history = model.fit(
            x, y, batch_size=len(x) // N_STEPS, epochs=1, shuffle=False, verbose=0,
            callbacks=callbacks,
        )  # fmt: skip
        for i, w in enumerate(model.get_weights()):
            arrays[f"zero_grad_{path}_{i}"] = w
        # Training with RGOptimizer, then with the RGFlow and LayerInformation callbacks, needed
        # no TensorFlow (Keras's model.save loads it if installed, so the saving checks come later).
        out[f"tensorflow_after_{path}_fit"] = "tensorflow" in sys.modules
        if path == "callback":
            out["rg_beta_norm"] = history.history["rg_beta_norm"][-1]

    # Config round trip of every backend-neutral public object (Keras's serializer imports
    # TensorFlow if it is installed, so this comes after the fits).
    objects = [
        keras_rg.PowerLaw(1.5),
        keras_rg.ScaleAware("softplus", alpha=0.5, scale=2.0),
        keras_rg.ScaleCovariantDense(4, activation=keras_rg.ScaleAware("tanh", 0.5)),
        keras_rg.ScaleCovariantConv1D(4, 3, alpha=0.7, scale_mode="trainable", padding="same"),
        keras_rg.LinearBeta(-0.5),
        keras_rg.ExponentialCooling(1.0, 0.5, 100),
        keras_rg.LinearCooling(1.0, 0.1, 100),
        keras_rg.ConstantTemperature(0.5),
        keras_rg.CyclicalTemperature(1.0, 50),
        keras_rg.LogarithmicCooling(0.1),
        keras_rg.RGOptimizer(
            keras.optimizers.Adam(1e-3), betas={"*/kernel": keras_rg.LinearBeta(-0.5)}
        ),
        keras_rg.ScaleCovariantConv2D(4, (3, 1), alpha=0.0, scale_mode="local", window=(3, 1)),
        keras_rg.BlockCoarseGraining(2),
        keras_rg.RGFlow(epsilon=1e-3, alpha=1.0),
        keras_rg.LangevinAnnealing(1e-2, temperature=keras_rg.LogarithmicCooling(0.1), seed=3),
        keras_rg.UnderdampedLangevin(1e-2, seed=3),
    ]
    configs = {}
    for obj in objects:
        config = obj.get_config()
        again = type(obj).from_config(config).get_config()
        configs[type(obj).__name__] = json.dumps(config, sort_keys=True, default=str) == json.dumps(
            again, sort_keys=True, default=str
        )
    out["config_roundtrip"] = configs
    temps = [float(keras_rg.ExponentialCooling(1.0, 0.5, 100)(s)) for s in (0, 50, 100)]
    out["exponential_cooling"] = temps

    try:
        keras_rg.backend.require_tensorflow("a TensorFlow-only part")
        out["require_tensorflow"] = "no error"
    except RuntimeError as err:
        out["require_tensorflow"] = str(err)

    # A real fit step (Adam + the fused RG step) from the shared initial weights.
    model = build_model(keras, keras_rg, seed=None)
    model.set_weights(weights)
    opt = keras_rg.RGOptimizer.for_model(model, keras.optimizers.Adam(1e-2), epsilon=EPSILON)
    model.compile(optimizer=opt, loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=len(x) // N_STEPS, epochs=1, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        arrays[f"adam_{i}"] = w

    # .keras round trip on JAX (safe mode), then the model TensorFlow saved, loaded on JAX.
    path = os.path.join(workdir, "jax_model.keras")
    model.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    out["keras_roundtrip_max_diff"] = float(
        np.max(np.abs(again.predict(x, verbose=0) - model.predict(x, verbose=0)))
    )
    out["optimizer_class"] = type(again.optimizer).__name__
    arrays["jax_predictions"] = np.asarray(model.predict(x, verbose=0))
    tf_model = keras.models.load_model(os.path.join(workdir, "tf_model.keras"), safe_mode=True)
    arrays["tf_model_on_jax_predictions"] = np.asarray(tf_model.predict(x, verbose=0))

    # The Langevin samplers (tests/jax_sampler_checks.py).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from jax_sampler_checks import sampler_checks

    out["samplers"], sampler_arrays = sampler_checks(keras, keras_rg, workdir)
    arrays.update(sampler_arrays)
    np.savez(os.path.join(workdir, "jax_results.npz"), **arrays)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
