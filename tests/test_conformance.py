"""One table-driven conformance test over every object ``keras_rg`` registers with Keras.

Every module of the package is imported (``pkgutil.walk_packages``) and every object registered
under the package ``"keras_rg"`` is collected from Keras's registry, so a new class anywhere in
the package (layers, activations, optimizers, schedules, callbacks, regularizers, beta functions,
field scales, losses) is covered without editing this file. Each is run through: registration,
config round trip covering every constructor argument, ``.keras`` save/load with identical outputs
(``safe_mode=True``), one ``fit`` step, and mixed precision against float32. An object that needs
arguments gets an entry in ``EXAMPLES``; a missing one fails the test and asks for it.
"""

import importlib
import inspect
import pkgutil

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
    "TowardsReference": lambda: _towards_reference()(1e-3, np.full((2, 5), 0.1, "float32")),
}


def _towards_reference():
    return keras.saving.get_registered_object("keras_rg>TowardsReference")


_KERAS_BASES = (
    keras.layers.Layer,
    keras.optimizers.Optimizer,
    keras.callbacks.Callback,
    keras.optimizers.schedules.LearningRateSchedule,
)


def _registered_objects():
    """``[(name, object)]`` for every object registered under ``keras_rg>`` once every module of
    the package is imported (classes and functions alike)."""
    for info in pkgutil.walk_packages(keras_rg.__path__, "keras_rg."):
        importlib.import_module(info.name)
    found = {
        key.split(">", 1)[1]: obj
        for key, obj in keras.saving.get_custom_objects().items()
        if key.startswith("keras_rg>")
    }
    return sorted(found.items())


# Layers that take a pair of inputs ``[x, y]`` and score every pair of a batch (critics of the
# variational information bounds): trained with a critic loss, not a classifier head.
PAIR_LAYERS = {"PairCritic"}


def _kind(cls):
    if not inspect.isclass(cls):
        return "function"
    if cls.__name__ in PAIR_LAYERS:
        return "pair_layer"
    if issubclass(cls, keras.losses.Loss):
        return "loss"
    if issubclass(cls, keras.regularizers.Regularizer):
        return "regularizer"
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
    if not inspect.isclass(cls):
        return cls  # a registered function is its own instance
    if name in EXAMPLES:
        return EXAMPLES[name]()
    try:
        return cls()
    except TypeError as err:
        pytest.fail(f"{name} needs an entry in tests/test_conformance.py EXAMPLES: {err}")


DATA = np.random.default_rng(0).normal(size=(16, 12, 2)).astype("float32")
LABELS = np.random.default_rng(1).integers(0, 3, size=16)
PUBLIC = _registered_objects()


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


def _pair_model(critic):
    x, y = keras.Input((12, 2)), keras.Input((12, 2))
    return keras.Model([x, y], critic([x, y]))


PAIR_DATA = [DATA, DATA[::-1]]


def _fit_pair_one_step(model, loss=None):
    """One step of a critic on 16 (x, y) pairs; y_true is unused by the critic losses."""
    loss = loss or keras.saving.get_registered_object("keras_rg>InfoNCELoss")()
    model.compile("adam", loss)
    history = model.fit(PAIR_DATA, np.zeros((16, 16), "float32"), batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    return history


def _fit_one_step(model, optimizer="adam", callbacks=None):
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(DATA, LABELS, epochs=1, batch_size=16, verbose=0, callbacks=callbacks)
    assert np.all(np.isfinite(history.history["loss"]))
    return history


def test_every_public_class_is_discovered():
    names = [n for n, _ in PUBLIC]
    expected = {"ScaleAware", "PowerLaw", "ScaleCovariantDense", "ScaleCovariantConv1D",
                "LangevinAnnealing", "RGOptimizer", "RGFlow", "LogarithmicCooling",
                "LayerInformation", "CouplingTracker", "LayerCouplings", "LinearBeta",
                "TowardsReference", "PowerLawFieldScale"}  # fmt: skip
    assert expected <= set(names)
    # Everything keras_rg exports at the top level that Keras can save is registered.
    for name in keras_rg.__all__:
        obj = getattr(keras_rg, name)
        if inspect.isclass(obj) and issubclass(obj, _KERAS_BASES):
            assert name in names, f"{name} is exported but not registered under keras_rg"
    for name, cls in PUBLIC:
        assert _kind(cls) != "other" or name in EXAMPLES, f"unknown kind of public class {name}"


@pytest.mark.parametrize("name, cls", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_registered_and_config_roundtrip(name, cls):
    assert keras.saving.get_registered_name(cls) == f"keras_rg>{name}"
    obj = _make(name, cls)
    if _kind(cls) == "function":
        data = keras.saving.serialize_keras_object(obj)
        assert keras.saving.deserialize_keras_object(data) is obj
        return
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
    elif kind in ("pair_layer", "loss"):  # a critic trained with a critic loss
        critic = obj if kind == "pair_layer" else keras_rg.information.PairCritic("concat", 8, 1)
        model = _pair_model(critic)
        _fit_pair_one_step(model, loss=obj if kind == "loss" else None)
        loaded = assert_model_roundtrip(model, PAIR_DATA, tmp_path)
        if kind == "loss":
            assert type(loaded.loss) is cls
            targets = np.zeros((16, 16), "float32")
            assert loaded.evaluate(PAIR_DATA, targets, verbose=0) == model.evaluate(
                PAIR_DATA, targets, verbose=0
            )
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
    elif kind == "regularizer":  # on a kernel of shape (2, 5): the penalty survives save/load
        model = _model_around(keras.layers.Dense(5, kernel_regularizer=obj), "layer")
        _fit_one_step(model)
        loaded = assert_model_roundtrip(model, DATA, tmp_path)
        np.testing.assert_allclose(float(sum(loaded.losses)), float(sum(model.losses)), rtol=1e-6)
        assert float(sum(model.losses)) > 0.0
    elif kind == "function":  # a registered loss: compile with it, save, load, same loss value
        model = _model_around(keras.layers.Dense(3), "layer")
        model.compile("sgd", loss=obj)
        targets = np.eye(3, dtype="float32")[LABELS]
        model.fit(DATA, targets, epochs=1, batch_size=16, verbose=0)
        model.save(tmp_path / "loss.keras")
        loaded = keras.models.load_model(tmp_path / "loss.keras", safe_mode=True)
        assert loaded.evaluate(DATA, targets, verbose=0) == model.evaluate(DATA, targets, verbose=0)


# Tolerances of a mixed-precision forward pass after one training step, relative to the largest
# float32 output: float16 keeps 11 significant bits (~5e-4 per rounding), bfloat16 8 (~4e-3); a few
# layers and one step of the optimizer compound them to a few roundings. Measured on this suite:
# at most 8.1e-4 (float16) and 6.7e-3 (bfloat16) of the largest output; the bounds are ~5x that.
MIXED_TOLERANCE = {"mixed_float16": 5e-3, "mixed_bfloat16": 3e-2}


def _trained_outputs(name, cls, policy, weights=None):
    """Outputs after one fit step under ``policy``, starting from ``weights`` (float32 values)."""
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        kind = _kind(cls)
        obj = _make(name, cls)
        if kind == "pair_layer":
            model = _pair_model(obj)
            if weights is not None:
                model.set_weights(weights)
            start = [np.asarray(w) for w in model.get_weights()]
            _fit_pair_one_step(model)
            return start, np.asarray(model(PAIR_DATA), dtype=np.float32)
        if kind == "optimizer":
            model, optimizer = _model_around(keras.layers.Dense(4), "layer"), obj
        else:
            model, optimizer = _model_around(obj, kind), "adam"
        if weights is not None:
            model.set_weights(weights)
        start = [np.asarray(w) for w in model.get_weights()]
        _fit_one_step(model, optimizer=optimizer)
        return start, np.asarray(model(DATA), dtype=np.float32)
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize(
    "name, cls",
    [(n, c) for n, c in PUBLIC if _kind(c) in ("layer", "pair_layer", "activation", "optimizer")],
    ids=[n for n, c in PUBLIC if _kind(c) in ("layer", "pair_layer", "activation", "optimizer")],
)
def test_mixed_precision_matches_float32(name, cls, policy):
    weights, reference = _trained_outputs(name, cls, "float32")
    _, mixed = _trained_outputs(name, cls, policy, weights)
    scale = float(np.max(np.abs(reference)))
    np.testing.assert_allclose(mixed, reference, rtol=0, atol=MIXED_TOLERANCE[policy] * scale)
