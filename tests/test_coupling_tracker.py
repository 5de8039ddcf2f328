"""CouplingTracker: logs θ̃^t of a feature layer exactly as a direct fit gives it; config; errors."""

import math

import keras
import numpy as np
import pytest

from keras_rg.callbacks.coupling_tracker import CouplingTracker
from keras_rg.optimizers import LangevinAnnealing
from keras_rg.schedules import LogarithmicCooling
from keras_rg.systems.coupling_fit import fit_couplings
from keras_rg.systems.exponential_family import RadialExponentialFamily
from tests.helpers import assert_config_roundtrip

X = RadialExponentialFamily([0.5, 0.1], dim=6).sample(256, seed=0).numpy()
Y = np.tanh(X[:, :3])


def _model():
    inp = keras.Input((6,))
    h = keras.layers.Dense(8, activation="tanh")(inp)
    f = keras.layers.Dense(4, activation="sigmoid", name="features")(h)
    return keras.Model(inp, keras.layers.Dense(3)(f))


def test_logs_equal_a_direct_fit_of_the_same_outputs():
    model = _model()
    model.compile(keras.optimizers.SGD(0.05), "mse")
    tracker = CouplingTracker(X[:128], layer_names="features", order=2, theta_star=[0.5, 0.1])
    history = model.fit(X, Y, epochs=3, batch_size=64, verbose=0, callbacks=[tracker])
    features = keras.Model(model.input, model.get_layer("features").output)
    direct = fit_couplings(np.asarray(features(X[:128])), order=2)
    for r in (1, 2):
        assert history.history[f"theta_{r}"][-1] == pytest.approx(direct.theta[r - 1], rel=1e-12)
        assert history.history[f"theta_{r}_se"][-1] == pytest.approx(direct.stderr[r - 1], 1e-12)
    expected = math.hypot(direct.theta[0] - 0.5, direct.theta[1] - 0.1)
    assert history.history["theta_distance"][-1] == pytest.approx(expected, rel=1e-12)
    # The trajectory holds θ̃^0 (before training) and one fit per epoch.
    assert tracker.epochs == [0, 1, 2, 3]
    np.testing.assert_array_equal(tracker.theta[-1], direct.theta)
    np.testing.assert_allclose(tracker.trajectory["distance"][-1], expected, rtol=1e-12)


def test_period_output_layer_and_langevin_training_under_xla():
    model = _model()
    optimizer = LangevinAnnealing(0.01, temperature=LogarithmicCooling(c=1e-3), seed=1)
    model.compile(optimizer, "mse", jit_compile=True)
    tracker = CouplingTracker(X[:64], order=1, every_n_epochs=2, track_initial=False)
    history = model.fit(X, Y, epochs=4, batch_size=64, verbose=0, callbacks=[tracker])
    assert tracker.epochs == [2, 4] and "theta_distance" not in history.history
    assert len(history.history["theta_1"]) == 2  # logged on epochs 2 and 4 only
    direct = fit_couplings(np.asarray(model(X[:64])), order=1)
    assert tracker.theta[-1, 0] == pytest.approx(direct.theta[0], rel=1e-12)


def test_works_under_mirrored_strategy(two_cpu_strategy):
    with two_cpu_strategy.scope():
        model = _model()
        model.compile(keras.optimizers.SGD(0.01), "mse")
    tracker = CouplingTracker(X[:64], layer_names="features", order=2)
    model.fit(X, Y, epochs=1, batch_size=64, verbose=0, callbacks=[tracker])
    assert tracker.theta.shape == (2, 2) and np.all(np.isfinite(tracker.theta))


def test_unfittable_outputs_are_logged_as_nan():
    inp = keras.Input((6,))
    out = keras.layers.Dense(2, kernel_initializer="zeros", bias_initializer="zeros")(inp)
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.SGD(0.0), "mse")
    tracker = CouplingTracker(X[:32])
    history = model.fit(X, Y[:, :2], epochs=1, verbose=0, callbacks=[tracker])
    assert math.isnan(history.history["theta_1"][0]) and np.all(np.isnan(tracker.theta))


def test_config_round_trip():
    tracker = CouplingTracker(X[:8], layer_names="features", order=3, theta_star=[1, 0, 0])
    back = assert_config_roundtrip(tracker)
    np.testing.assert_array_equal(back.probe, tracker.probe)


def test_bad_input_is_rejected():
    cases = [
        ({"probe": X[:2], "order": 2}, "`probe`"),
        ({"probe": X, "order": 0}, "`order`"),
        ({"probe": X, "theta_star": [1.0]}, "`theta_star`"),
        ({"probe": X, "theta_star": [1.0, -1.0]}, "`theta_star`"),
        ({"probe": X, "domain": "any"}, "`domain`"),
        ({"probe": X, "every_n_epochs": 0}, "`every_n_epochs`"),
        ({"probe": X, "prefix": ""}, "`prefix`"),
        ({"probe": X, "layer_names": []}, "`layer_names`"),
    ]
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            CouplingTracker(**kwargs)
    for kwargs, match in (({"probe": X, "layer_names": 3}, "`layer_names`"),
                          ({"probe": X, "order": 1.0}, "`order`"),
                          ({"probe": X, "track_initial": "yes"}, "`track_initial`")):  # fmt: skip
        with pytest.raises(TypeError, match=match):
            CouplingTracker(**kwargs)


def test_a_typo_in_the_layer_name_raises_listing_the_layers_instead_of_logging_nan():
    model = _model()
    model.compile(keras.optimizers.SGD(0.05), "mse")
    tracker = CouplingTracker(X[:64], layer_names="featurs")
    with pytest.raises(ValueError, match=r"'featurs' matches no layer.*Available: \['dense', "
                       r"'features', 'dense_1'\]|'featurs' matches no layer.*'features'"):  # fmt: skip
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[tracker])
    assert model.optimizer.iterations.numpy() == 0 and tracker.fits == []


def test_layer_name_is_a_deprecated_alias_and_trajectory_follows_the_convention():
    with pytest.warns(DeprecationWarning, match=r"`layer_name` is deprecated.*`layer_names`"):
        tracker = CouplingTracker(X[:64], layer_name="features", order=1)
    assert tracker.layer_names == ["features"] and tracker.layer_name == "features"
    model = _model()
    model.compile(keras.optimizers.SGD(0.05), "mse")
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[tracker])
    traj = tracker.trajectory
    assert traj["epochs"] == [0, 1, 2] and np.shape(traj["theta"]) == (3, 1)
    assert isinstance(traj["theta"], list) and set(traj) == {"epochs", "theta", "stderr",
                                                             "distance"}  # fmt: skip
    with pytest.warns(DeprecationWarning, match="trajectory is a property now"):
        old = traj()
    np.testing.assert_array_equal(old["epoch"], [0, 1, 2])
    # A two-input model read through a dict probe.
    a, b = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    f = keras.layers.Dense(3, activation="tanh", name="features")(
        keras.layers.Concatenate()([a, b])
    )
    two = keras.Model([a, b], keras.layers.Dense(3)(f))
    two.compile("sgd", "mse")
    probe = {"a": X[:64, :4], "b": X[:64, 4:]}
    dict_tracker = CouplingTracker(probe, layer_names="feat*", order=1)
    two.fit([X[:, :4], X[:, 4:]], Y, epochs=1, verbose=0, callbacks=[dict_tracker])
    direct = fit_couplings(np.asarray(keras.Model(two.inputs, f)([X[:64, :4], X[:64, 4:]])), 1)
    assert dict_tracker.theta[-1, 0] == pytest.approx(direct.theta[0], rel=1e-9)
