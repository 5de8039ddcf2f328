"""Shared test helpers: save/load round trips and config round trips, in the spirit of Keras's
``run_layer_test``."""

import json

import keras
import numpy as np


def _as_json(config):
    """Configs compared as saved: JSON turns tuples into lists (e.g. build_config shapes)."""
    return json.loads(json.dumps(config, default=str))


def assert_model_roundtrip(model, x, tmp_path, name="model.keras", atol=0.0):
    """Saves ``model`` to ``.keras``, loads it with no ``custom_objects`` and ``safe_mode=True``,
    and asserts equal configs and identical predictions. Returns the loaded model."""
    path = str(tmp_path / name)
    expected = np.asarray(model.predict(x, verbose=0))
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert _as_json(loaded.get_config()) == _as_json(model.get_config())
    got = np.asarray(loaded.predict(x, verbose=0))
    if atol == 0.0:
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, atol=atol, rtol=0)
    return loaded


def assert_config_roundtrip(obj):
    """``serialize`` then ``deserialize`` gives an object of the same class and config."""
    data = keras.saving.serialize_keras_object(obj)
    back = keras.saving.deserialize_keras_object(json.loads(json.dumps(data)))
    assert type(back) is type(obj)
    assert _as_json(back.get_config()) == _as_json(obj.get_config())
    return back


def sampler_model_and_data(make_optimizer, jit_compile):
    """The small regression model (5 → 8 tanh → 3) and data of the samplers' resume and
    reproducibility tests, compiled with ``make_optimizer()`` (called after the model is built,
    from a fixed Keras seed). Returns ``(model, x, y)``."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3)]
    )
    model.compile(optimizer=make_optimizer(), loss="mse", jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.normal(size=(64, 3)).astype(np.float32)
    return model, x, y


def fit_in_order(model, x, y, epochs):
    """``fit`` in batches of 16, unshuffled, silently: the same steps on every run."""
    model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0)
