"""The Langevin samplers on the JAX backend, run inside tests/jax_checks.py's JAX subprocess and
asserted in tests/test_jax_backend.py: jit-compiled fits, the stationary variance of
``LangevinAnnealing`` on ``L = ½λw²`` against the exact ``2T / (λ(2 − hλ))`` of the discretised
dynamics, reproducibility from the seed, bit-exact resume from a ``.keras`` file (``seed=None``:
the drawn key is restored from the file), config and ``.keras`` round trips.
"""

import json
import os
import random

import numpy as np

# L = ½λ Σ w_i² on N_COORDS independent coordinates; step h, temperature T. Exact stationary
# variance of w ← (1 − hλ)w + sqrt(2hT)ξ: 2T / (λ(2 − hλ)) (continuous time: T / λ).
LAMBDA, H, T, N_COORDS = 1.0, 0.4, 0.5, 64
BURN_IN_EPOCHS, N_EPOCHS, STEPS_PER_EPOCH = 10, 210, 10


def _small_model(keras):
    return keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)]
    )


def _samplers(keras_rg, seed):
    return {
        "langevin": lambda: keras_rg.LangevinAnnealing(
            1e-2, temperature=0.05, preconditioner="rmsprop", burn_in=2, seed=seed
        ),
        "underdamped": lambda: keras_rg.UnderdampedLangevin(
            0.1, temperature=0.05, data_size=40, mass="dense", burn_in=16, seed=seed
        ),
    }


def _fit(keras, model, make_optimizer, x, y, epochs, initial_epoch=0, compile_model=True):
    if compile_model:
        model.compile(optimizer=make_optimizer(), loss="mse", jit_compile=True)
    model.fit(
        x, y, batch_size=8, epochs=epochs, initial_epoch=initial_epoch, shuffle=False, verbose=0
    )
    return [np.asarray(w) for w in model.get_weights()]


def stationary_variance(keras, keras_rg):
    """Time samples of 64 coordinates every STEPS_PER_EPOCH steps after burn-in."""
    from keras import ops

    class Quadratic(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((N_COORDS,), initializer="zeros", name="w")

        def call(self, x):
            return ops.zeros_like(x) + 0.5 * LAMBDA * ops.sum(ops.square(self.w))

    samples = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch >= BURN_IN_EPOCHS:
                samples.append(np.asarray(self.model.get_weights()[0]))

    model = keras.Sequential([keras.Input((1,)), Quadratic()])
    optimizer = keras_rg.LangevinAnnealing(H, temperature=T, seed=5)
    model.compile(optimizer=optimizer, loss=lambda t, p: ops.mean(p), jit_compile=True)
    x = np.zeros((STEPS_PER_EPOCH, 1), "float32")
    model.fit(x, x, batch_size=1, epochs=N_EPOCHS, shuffle=False, verbose=0, callbacks=[Record()])
    w = np.asarray(samples, dtype=np.float64)  # (n_samples, N_COORDS)
    per_coordinate = np.mean(w**2, axis=0)  # E[w] = 0 exactly
    return {
        "estimate": float(np.mean(per_coordinate)),
        "standard_error": float(np.std(per_coordinate, ddof=1) / np.sqrt(N_COORDS)),
        "exact": 2 * T / (LAMBDA * (2 - H * LAMBDA)),
        "continuous_time": T / LAMBDA,
        "n_samples": int(w.shape[0]),
        "n_steps": int(optimizer.iterations.numpy()),
    }


def sampler_checks(keras, keras_rg, workdir):
    """Returns (JSON-able results, arrays)."""
    out, arrays = {}, {}
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 5)).astype("float32")
    y = (np.tanh(x[:, :1]) + 0.1 * rng.normal(size=(40, 1))).astype("float32")
    initial = [np.asarray(w) for w in _small_model(keras).get_weights()]

    def fresh():
        model = _small_model(keras)
        model.set_weights(initial)
        return model

    for name, make in _samplers(keras_rg, seed=7).items():
        runs = [_fit(keras, fresh(), make, x, y, epochs=3) for _ in range(2)]
        other = _fit(keras, fresh(), _samplers(keras_rg, seed=8)[name], x, y, epochs=3)
        out[f"{name}_finite"] = all(bool(np.all(np.isfinite(w))) for w in runs[0])
        out[f"{name}_moved"] = max(
            float(np.max(np.abs(a - b))) for a, b in zip(runs[0], initial, strict=True)
        )
        out[f"{name}_same_seed_equal"] = all(
            np.array_equal(a, b) for a, b in zip(*runs, strict=True)
        )
        out[f"{name}_other_seed_max_diff"] = max(
            float(np.max(np.abs(a - b))) for a, b in zip(runs[0], other, strict=True)
        )
        # Resume: seed=None draws the key from Python's random; the file must carry it.
        random.seed(11)
        straight = _fit(keras, fresh(), _samplers(keras_rg, seed=None)[name], x, y, epochs=4)
        random.seed(11)
        model = fresh()
        _fit(keras, model, _samplers(keras_rg, seed=None)[name], x, y, epochs=2)
        path = os.path.join(workdir, f"{name}.keras")
        model.save(path)
        random.seed(99)  # a different key would be drawn at load: the saved one must win
        again = keras.models.load_model(path, safe_mode=True)
        out[f"{name}_loaded_class"] = type(again.optimizer).__name__
        out[f"{name}_loaded_iterations"] = int(again.optimizer.iterations.numpy())
        resumed = _fit(keras, again, None, x, y, epochs=4, initial_epoch=2, compile_model=False)
        out[f"{name}_resume_bit_exact"] = all(
            np.array_equal(a, b) for a, b in zip(straight, resumed, strict=True)
        )
        out[f"{name}_resume_max_diff"] = max(
            float(np.max(np.abs(a - b))) for a, b in zip(straight, resumed, strict=True)
        )
        config = make().get_config()
        again_config = type(make()).from_config(config).get_config()
        out[f"{name}_config_roundtrip"] = json.dumps(
            config, sort_keys=True, default=str
        ) == json.dumps(again_config, sort_keys=True, default=str)
        for i, w in enumerate(runs[0]):
            arrays[f"{name}_{i}"] = w
    out["stationary_variance"] = stationary_variance(keras, keras_rg)
    return out, arrays
