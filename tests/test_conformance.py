"""One table-driven conformance test over every public class ``keras_rg`` exports.

Each public layer, activation, optimizer, schedule and callback is discovered from
``keras_rg.__all__`` (and ``keras_rg.callbacks.__all__``) and run through: registration under the
package ``keras_rg``, config round trip, ``.keras`` save/load with identical outputs, mixed
precision, and one ``fit`` step. A new public class without an entry in ``EXAMPLES`` is built with
no arguments; if that fails, this test fails and asks for an entry, so nothing lands untested.
"""

import inspect

import keras
import numpy as np
import pytest

import keras_rg
from tests.helpers import assert_config_roundtrip, assert_model_roundtrip

# class name -> factory of a representative instance (only where the defaults do not suffice)
EXAMPLES = {
    "ScaleCovariantDense": lambda: keras_rg.ScaleCovariantDense(
        4, activation=keras_rg.ScaleAware("tanh", 0.5), scale_mode="adaptive"
    ),
    "ScaleCovariantConv1D": lambda: keras_rg.ScaleCovariantConv1D(
        4, 3, activation="gelu", alpha=0.7, scale_mode="trainable", padding="same"
    ),
    "ScaleCovariantConv2D": lambda: keras_rg.ScaleCovariantConv2D(
        4, (3, 1), activation="tanh", alpha=0.0, scale_mode="local", window=(3, 1), padding="same"
    ),
    "ScaleAware": lambda: keras_rg.ScaleAware("softplus", alpha=0.5, scale=2.0),
    "PowerLaw": lambda: keras_rg.PowerLaw(alpha=1.5),
    "LangevinAnnealing": lambda: keras_rg.LangevinAnnealing(
        1e-2, temperature=keras_rg.LogarithmicCooling(0.1), preconditioner="rmsprop", seed=3
    ),
    "RGOptimizer": lambda: keras_rg.RGOptimizer(
        keras.optimizers.Adam(1e-3), betas={"*/kernel": keras_rg.LinearBeta(-0.5)}, epsilon=1e-2
    ),
    "LinearBeta": lambda: keras_rg.LinearBeta(-0.5),
    "ExponentialCooling": lambda: keras_rg.ExponentialCooling(1.0, 0.5, 100),
    "LinearCooling": lambda: keras_rg.LinearCooling(1.0, 0.1, 100),
    "ConstantTemperature": lambda: keras_rg.ConstantTemperature(0.5),
    "CyclicalTemperature": lambda: keras_rg.CyclicalTemperature(1.0, 50),
    "LayerInformation": lambda: keras_rg.LayerInformation(DATA, LABELS, probe_size=16),
    "LayerCouplings": lambda: keras_rg.LayerCouplings(DATA[:8]),
    "CouplingTracker": lambda: keras_rg.CouplingTracker(DATA[:8]),
    "RGFlow": lambda: keras_rg.RGFlow(epsilon=1e-3, alpha=1.0),
}


_KERAS_BASES = (
    keras.layers.Layer,
    keras.optimizers.Optimizer,
    keras.callbacks.Callback,
    keras.optimizers.schedules.LearningRateSchedule,
)


def _public_classes():
    names = {}
    modules = [keras_rg]
    callbacks = getattr(keras_rg, "callbacks", None)
    if callbacks is not None:
        modules.append(callbacks)
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            keras_kind = inspect.isclass(obj) and issubclass(obj, _KERAS_BASES)
            registered = "keras_rg>" in str(keras.saving.get_registered_name(obj))
            if inspect.isclass(obj) and (keras_kind or registered):
                names[name] = obj  # result dataclasses are plain data, not Keras objects
    return sorted(names.items())


def _kind(cls):
    if issubclass(cls, keras.layers.Layer):
        return "layer"
    if issubclass(cls, keras.optimizers.Optimizer):
        return "optimizer"
    if issubclass(cls, keras.callbacks.Callback):
        return "callback"
    if issubclass(cls, keras.optimizers.schedules.LearningRateSchedule):
        return "schedule"
    if "alpha" in inspect.signature(cls).parameters:
        return "activation"
    if callable(cls) and "__call__" in vars(cls):
        return "callable"
    return "other"


def _make(name, cls):
    if name in EXAMPLES:
        return EXAMPLES[name]()
    try:
        return cls()
    except TypeError as err:
        pytest.fail(f"{name} needs an entry in tests/test_conformance.py EXAMPLES: {err}")


DATA = np.random.default_rng(0).normal(size=(16, 12, 2)).astype("float32")
LABELS = np.random.default_rng(1).integers(0, 3, size=16)
PUBLIC = _public_classes()


def _model_around(layer_or_activation, kind):
    inp = keras.Input((12, 2))
    if kind == "layer":
        # 2-D layers (images) see the (12, 2) input as a 12x2 one-channel image
        four_d = getattr(layer_or_activation, "spatial_rank", 1) == 2
        h = layer_or_activation(keras.layers.Reshape((12, 2, 1))(inp) if four_d else inp)
    else:
        h = keras.layers.Dense(5, activation=layer_or_activation)(inp)
    h = keras.layers.Flatten()(h)
    return keras.Model(inp, keras.layers.Dense(3)(h))


def _fit_one_step(model, optimizer="adam", callbacks=None):
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(DATA, LABELS, epochs=1, batch_size=16, verbose=0, callbacks=callbacks)
    assert np.all(np.isfinite(history.history["loss"]))
    return history


def test_every_public_class_is_discovered():
    names = [n for n, _ in PUBLIC]
    expected = {"ScaleAware", "PowerLaw", "ScaleCovariantDense", "ScaleCovariantConv1D",
                "LangevinAnnealing", "RGOptimizer", "RGFlow", "LogarithmicCooling",
                "LayerInformation", "CouplingTracker", "LayerCouplings", "LinearBeta"}  # fmt: skip
    assert expected <= set(names)
    for name, cls in PUBLIC:
        assert _kind(cls) != "other" or name in EXAMPLES, f"unknown kind of public class {name}"


@pytest.mark.parametrize("name, cls", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_registered_and_config_roundtrip(name, cls):
    assert keras.saving.get_registered_name(cls) == f"keras_rg>{name}"
    obj = _make(name, cls)
    params = set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs"}
    config = obj.get_config()
    missing = params - set(config)
    assert not missing, f"{name}.get_config() lacks constructor arguments {sorted(missing)}"
    assert_config_roundtrip(obj)


@pytest.mark.parametrize("name, cls", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_save_load_and_fit(name, cls, tmp_path):
    kind = _kind(cls)
    obj = _make(name, cls)
    if kind in ("layer", "activation"):
        model = _model_around(obj, kind)
        _fit_one_step(model)
        assert_model_roundtrip(model, DATA, tmp_path)
    elif kind == "optimizer":
        model = _model_around(keras.layers.Dense(4), "layer")
        _fit_one_step(model, optimizer=obj)
        loaded = assert_model_roundtrip(model, DATA, tmp_path)
        assert type(loaded.optimizer) is cls
        assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
        for a, b in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    elif kind == "schedule":
        back = assert_config_roundtrip(obj)
        steps = [0, 1, 10, 1000]
        np.testing.assert_allclose([float(back(s)) for s in steps],
                                   [float(obj(s)) for s in steps], rtol=1e-6)  # fmt: skip
    elif kind == "callable":  # e.g. beta functions: same values after a round trip
        back = assert_config_roundtrip(obj)
        value = np.linspace(-2, 2, 12, dtype="float32").reshape(3, 4)
        np.testing.assert_array_equal(np.asarray(back(value)), np.asarray(obj(value)))
    elif kind == "callback":
        model = _model_around(keras.layers.Dense(4), "layer")
        _fit_one_step(model, callbacks=[obj])


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize(
    "name, cls",
    [(n, c) for n, c in PUBLIC if _kind(c) in ("layer", "activation", "optimizer")],
    ids=[n for n, c in PUBLIC if _kind(c) in ("layer", "activation", "optimizer")],
)
def test_mixed_precision(name, cls, policy):
    keras.config.set_dtype_policy(policy)
    kind = _kind(cls)
    obj = _make(name, cls)
    if kind == "optimizer":
        model = _model_around(keras.layers.Dense(4), "layer")
        _fit_one_step(model, optimizer=obj)
    else:
        model = _model_around(obj, kind)
        _fit_one_step(model)
        out = model(DATA)
        assert np.all(np.isfinite(np.asarray(out, dtype=np.float32)))
