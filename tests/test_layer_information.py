"""Tests for keras_rg.callbacks.layer_information.LayerInformation and the information-plane figure."""

import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rg.callbacks.layer_information import LayerInformation, MonotonicityViolation
from keras_rg.information import (
    binning_mi_plane,
    kde_mi_input,
    kde_mi_plane,
    ksg_mi,
    ross_mi,
)
from keras_rg.layers import ScaleCovariantDense
from keras_rg.plotting.information_plane import plot_information_plane
from tests.helpers import assert_config_roundtrip

ROOT = Path(__file__).resolve().parents[1]
SPARSE_CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _data(rng, n=400, d=6, classes=3):
    x = rng.normal(size=(n, d)).astype("float32")
    y = (np.digitize(x[:, 0], [-0.5, 0.5]) % classes).astype("int32")
    return x, y


def _mlp(d=6, name_prefix="h"):
    return keras.Sequential(
        [
            keras.Input((d,)),
            keras.layers.Dense(12, activation="tanh", name=f"{name_prefix}1"),
            keras.layers.Dense(8, activation="relu", name=f"{name_prefix}2"),
            keras.layers.Dense(3, name="out"),
        ]
    )


def _activations(model, names, x):
    probe = keras.Model(model.inputs[0], [model.get_layer(n).output for n in names])
    out = probe(x, training=False)
    out = out if isinstance(out, list) else [out]
    return [np.asarray(a, dtype=np.float64) for a in out]


def test_logged_values_equal_direct_estimator_calls(rng):
    x, y = _data(rng)
    model = _mlp()
    model.compile("adam", SPARSE_CE)
    info = LayerInformation(x, y, probe_size=200, noise_variance=0.05, relative_noise=False)
    history = model.fit(x, y, epochs=2, batch_size=64, verbose=0, callbacks=[info])
    names = ["h1", "h2", "out"]
    assert info.measured_layers == names
    assert info.probe.shape == (200, 6)
    # The last measurement is on the final weights: the same activations give the same numbers.
    for name, t in zip(names, _activations(model, names, info.probe_x), strict=True):
        i_tx, i_ty = kde_mi_plane(t, info.probe_y, noise_variance=0.05, dtype="float32")
        assert history.history[f"info/I_TX/{name}"][-1] == pytest.approx(i_tx.value, abs=1e-9)
        assert history.history[f"info/I_TX_lower/{name}"][-1] == pytest.approx(i_tx.lower, abs=1e-9)
        assert history.history[f"info/I_TY/{name}"][-1] == pytest.approx(i_ty.value, abs=1e-9)
        assert len(history.history[f"info/I_TX/{name}"]) == 2
    trajectory = info.trajectory
    assert list(trajectory["epochs"]) == [0, 1, 2]
    assert np.shape(trajectory["I_TX"]) == np.shape(trajectory["I_TY"]) == (3, 3)
    np.testing.assert_array_equal(
        np.array(trajectory["I_TX"])[1:, 0], history.history["info/I_TX/h1"]
    )
    assert history.history["info/violations"] == [
        sum(v.epoch == e for v in info.violations) for e in (1, 2)
    ]


def test_probe_is_a_seeded_subsample_and_config_round_trips(rng):
    x, y = _data(rng, n=300)
    a = LayerInformation(x, y, probe_size=50, seed=7)
    b = LayerInformation(x, y, probe_size=50, seed=7)
    np.testing.assert_array_equal(a.probe_x, b.probe_x)
    rows = [int(np.flatnonzero((x == row).all(axis=1))[0]) for row in a.probe_x]
    assert rows == sorted(set(rows)) and len(rows) == 50  # without replacement, in data order
    np.testing.assert_array_equal(a.probe_y, y[rows])
    back = assert_config_roundtrip(a)
    np.testing.assert_allclose(back.probe_x, a.probe_x)  # float32 -> list -> float64: exact
    np.testing.assert_array_equal(back.probe_y, a.probe_y)
    assert set(a.get_config()) == {
        "probe", "labels", "probe_size", "every_n_epochs", "layer_names", "estimator",
        "noise_variance", "relative_noise", "bins", "n_neighbors", "tolerance", "seed",
        "plot_path", "dtype", "batch_size",
    }  # fmt: skip


def test_functional_model_with_our_layers_and_binning(rng):
    x, y = _data(rng)
    inputs = keras.Input((6,))
    a = ScaleCovariantDense(10, activation="tanh", name="rg1")(inputs)
    b = keras.layers.Dense(10, activation="tanh", name="side")(inputs)
    h = keras.layers.Concatenate(name="merge")([a, b])
    out = keras.layers.Dense(3, name="out")(h)
    model = keras.Model(inputs, out)
    model.compile("adam", SPARSE_CE)
    info = LayerInformation(x, y, probe_size=150, estimator="binning", bins=10, every_n_epochs=2)
    history = model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[info])
    assert info.measured_layers == ["rg1", "side", "merge", "out"]
    assert list(info.trajectory["epochs"]) == [0, 2, 3]  # every 2 epochs and after the last
    assert len(history.history["info/I_TX/rg1"]) == 2
    for name, t in zip(info.measured_layers, _activations(model, info.measured_layers, info.probe),
                       strict=True):  # fmt: skip
        i_tx, i_ty = binning_mi_plane(t, info.probe_y, bins=10)
        assert history.history[f"info/I_TX/{name}"][-1] == i_tx.value
        assert history.history[f"info/I_TY/{name}"][-1] == i_ty.value
    assert "info/I_TX_lower/rg1" not in history.history  # binning gives no bounds


class ResidualNet(keras.Model):
    """Subclassed: attribute order (b, a, head) differs from call order (a, b, head)."""

    def __init__(self):
        super().__init__()
        self.b = keras.layers.Dense(8, activation="tanh", name="second")
        self.a = keras.layers.Dense(8, activation="relu", name="first")
        self.head = keras.layers.Dense(3, name="head")

    def call(self, x):
        h = self.a(x)
        return self.head(self.b(h) + h)


def test_subclassed_model_records_layer_outputs_in_call_order(rng):
    x, y = _data(rng)
    model = ResidualNet()
    model.compile("adam", SPARSE_CE)
    info = LayerInformation(x, y, probe_size=120, layer_names=["second", "first", "head"])
    history = model.fit(x, y, epochs=1, batch_size=64, verbose=0, callbacks=[info])
    assert info.measured_layers == ["first", "second", "head"]
    first = model.a(info.probe_x)
    second = model.b(first)
    head = model.head(second + first)
    for name, t in (("first", first), ("second", second), ("head", head)):
        expected = kde_mi_plane(np.asarray(t, np.float64), info.probe_y, dtype="float32",
                                noise_variance=0.1, relative_noise=True)  # fmt: skip
        assert history.history[f"info/I_TX/{name}"][-1] == pytest.approx(expected[0].value)
        assert history.history[f"info/I_TY/{name}"][-1] == pytest.approx(expected[1].value)
    assert all("call" not in vars(layer) for layer in model.layers)  # hooks removed


def test_monotonicity_violations_are_reported_with_their_amount(rng):
    # A 1-unit bottleneck then a wide layer with a large kernel: the true I(T;X) cannot grow,
    # but the noise-regularised estimate of the wide layer does (larger activations, same noise).
    x, y = _data(rng)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(1, activation="tanh", name="narrow"),
            keras.layers.Dense(
                32, kernel_initializer=keras.initializers.Constant(30.0), name="wide"
            ),  # fmt: skip
            keras.layers.Dense(3, name="out"),
        ]
    )
    model.compile("sgd", SPARSE_CE)
    info = LayerInformation(x, y, probe_size=100, noise_variance=0.1, relative_noise=False)
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[info])
    record = info.estimates[-1]
    found = [v for v in info.violations if v.epoch == 1]
    assert found and found[0].earlier == "narrow" and found[0].later == "wide"
    amount = record["I_TX"]["wide"].value - record["I_TX"]["narrow"].value
    assert found[0] == MonotonicityViolation(1, "narrow", "wide", amount, certain=True)
    assert amount > 1.0
    assert history.history["info/violations"] == [len(found)]


def test_nan_activations_warn_with_the_layer_name_and_fit_goes_on(rng):
    x, y = _data(rng)
    model = _mlp()
    model.get_layer("h1").trainable = False  # NaN gradients would reach its kernel too
    model.compile("adam", SPARSE_CE)
    kernel, bias = model.get_layer("h2").get_weights()
    kernel[0, 0] = np.nan
    model.get_layer("h2").set_weights([kernel, bias])
    info = LayerInformation(x, y, probe_size=100)
    with pytest.warns(RuntimeWarning) as caught:
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[info])
    messages = [str(w.message) for w in caught]
    assert any("'h2'" in m for m in messages) and any("'out'" in m for m in messages)
    assert len(messages) == 2  # once per layer, not once per epoch
    assert math.isfinite(history.history["info/I_TX/h1"][-1])
    assert math.isnan(history.history["info/I_TX/h2"][-1])
    assert math.isnan(history.history["info/I_TY/out"][-1])


def test_continuous_targets_and_knn_estimators(rng):
    x, _ = _data(rng)
    target = (x[:, :2] @ np.array([1.0, -0.5])).astype("float32")
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(3, activation="tanh", name="h"),
         keras.layers.Dense(1, name="out")]
    )  # fmt: skip
    model.compile("adam", "mse")
    info = LayerInformation(x, target, probe_size=150, estimator="binning", bins=8)
    history = model.fit(x, target, epochs=1, verbose=0, callbacks=[info])
    t = _activations(model, ["h"], info.probe_x)[0]
    # A continuous target: I(T;Y) by KSG whatever the I(T;X) estimator.
    assert history.history["info/I_TY/h"][-1] == ksg_mi(t, info.probe_y).value
    labels = (x[:, 0] > 0).astype("int32")
    knn = LayerInformation(x, labels, probe_size=150, estimator="ksg", layer_names=["h"])
    history = model.fit(x, labels.astype("float32"), epochs=1, verbose=0, callbacks=[knn])
    t = _activations(model, ["h"], knn.probe_x)[0]
    assert history.history["info/I_TX/h"][-1] == ksg_mi(t, knn.probe_x).value
    assert history.history["info/I_TY/h"][-1] == ross_mi(t, knn.probe_y).value


def test_dataset_probe_under_mirrored_strategy(rng, two_cpu_strategy):
    x, y = _data(rng)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    with two_cpu_strategy.scope():
        model = _mlp()
        model.compile("adam", SPARSE_CE)
    info = LayerInformation(dataset, probe_size=64)
    history = model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[info])
    assert info.probe_x.shape == (64, 6)
    t = _activations(model, ["h2"], info.probe_x)[0]
    expected = kde_mi_input(t, dtype="float32", noise_variance=0.1, relative_noise=True).value
    assert history.history["info/I_TX/h2"][-1] == pytest.approx(expected, abs=1e-9)


def test_mixed_precision_activations(rng):
    keras.config.set_dtype_policy("mixed_float16")
    x, y = _data(rng)
    model = _mlp()
    model.compile("adam", SPARSE_CE)
    info = LayerInformation(x, y, probe_size=100)
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[info])
    assert all(math.isfinite(v[-1]) for k, v in history.history.items() if k.startswith("info/"))


def test_plot_saved_at_the_end_of_fit(rng, tmp_path):
    pytest.importorskip("matplotlib")
    x, y = _data(rng)
    model = _mlp()
    model.compile("adam", SPARSE_CE)
    path = tmp_path / "plane.png"
    info = LayerInformation(x, y, probe_size=100, plot_path=str(path))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[info])
    assert path.stat().st_size > 1000
    fig = plot_information_plane(info.trajectory)
    ax = fig.axes[0]
    # three layer curves, three label leaders, the ceiling
    assert len(ax.lines) == 7 and ax.get_xlabel() == "I(T; X) [nats]"
    assert any(np.allclose(line.get_xdata(), math.log(100)) for line in ax.lines)
    texts = sorted((t.get_position()[1], t.get_text().strip()) for t in ax.texts)
    gaps = np.diff([y for y, _ in texts])
    assert {name for _, name in texts if name in ("h1", "h2", "out")} == {
        "h1",
        "h2",
        "out",
    } and np.all(gaps > 0)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.array(info.trajectory["I_TX"])[:, 0])
    with pytest.raises(ValueError, match=r"`trajectory`.*I\(T;Y\)"):
        plot_information_plane({**info.trajectory, "I_TY": None})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"probe_size": 1}, ValueError, r"`probe_size`: expected an integer >= 2"),
        ({"every_n_epochs": 0}, ValueError, r"`every_n_epochs`: expected an integer >= 1"),
        ({"estimator": "mine"}, ValueError, r"`estimator`.*Received: estimator='mine'"),
        ({"noise_variance": 0.0}, ValueError, r"`noise_variance`.*noise_variance=0.0"),
        ({"noise_variance": "0.1"}, TypeError, r"`noise_variance`"),
        ({"relative_noise": 1}, TypeError, r"`relative_noise`"),
        ({"tolerance": -1.0}, ValueError, r"`tolerance`.*tolerance=-1.0"),
        ({"layer_names": [1.5]}, TypeError, r"`layer_names`: expected None or a list"),
        ({"layer_names": []}, ValueError, r"`layer_names`: an empty list selects nothing"),
        ({"labels": np.zeros(3)}, ValueError, r"`labels`: expected 10 labels"),
        ({"probe": [np.zeros((10, 2)), np.zeros((9, 2))]}, ValueError, r"same number of samples"),
        ({"labels": None, "plot_path": "p.png"}, ValueError, r"`plot_path`.*needs `labels`"),
        ({"dtype": "float16"}, ValueError, r"`dtype`.*Received: dtype='float16'"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    arguments = {"probe": np.zeros((10, 2)), "labels": np.zeros(10, "int32"), **kwargs}
    with pytest.raises(error, match=match):
        LayerInformation(**arguments)


def test_unknown_layer_name_is_reported(rng):
    x, y = _data(rng)
    model = _mlp()
    model.compile("adam", SPARSE_CE)
    info = LayerInformation(x, y, layer_names=["h1", "nope"])
    with pytest.raises(
        ValueError, match=r"'nope' matches no layer.*Available: \['h1', 'h2', 'out'\]"
    ):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[info])
    assert model.optimizer.iterations.numpy() == 0  # raised at on_train_begin, before any step


def test_example_runs_quick(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "layer_information.py"), "--quick",
         "--out", str(tmp_path / "plane.png")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "plane.png").exists()
    assert "I(T;X)" in result.stdout


def test_saturation_flag_in_history_warns_once_and_saturated_pairs_are_not_violations(rng):
    x, y = _data(rng)
    model = _mlp()
    model.compile("adam", SPARSE_CE)
    # Absolute noise 1e-6: every layer separates all 100 probe points, I(T;X) = log 100.
    info = LayerInformation(x, y, probe_size=100, noise_variance=1e-6, relative_noise=False)
    with pytest.warns(UserWarning, match=r"ceiling log n = 4.61") as caught:
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[info])
    assert len([w for w in caught if "ceiling" in str(w.message)]) == 3  # once per layer
    assert history.history["info_saturated/h1"] == [1.0, 1.0]
    assert history.history["info/violations"] == [0, 0]
    assert history.history["info/saturated_pairs"] == [2, 2]
    # The default relative noise keeps the same layers below the ceiling.
    rel = LayerInformation(x, y, probe_size=100)
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[rel])
    assert all(history.history[f"info_saturated/{n}"] == [0.0] for n in ("h1", "h2", "out"))
    assert max(history.history[f"info/I_TX/{n}"][0] for n in ("h1", "h2")) < 0.95 * math.log(100)


def _two_input_model():
    a, b = keras.Input((4,), name="a"), keras.Input((2,), name="b")
    h = keras.layers.Dense(6, activation="tanh", name="h")(keras.layers.Concatenate()([a, b]))
    inner = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu",
                              name="deep")], name="block")  # fmt: skip
    return keras.Model([a, b], keras.layers.Dense(3, name="out")(inner(h)))


def test_multi_input_dict_and_dataset_probes_and_nested_layers(rng):
    x, y = _data(rng)
    a, b = x[:, :4], x[:, 4:]
    model = _two_input_model()
    model.compile("adam", SPARSE_CE)
    dataset = tf.data.Dataset.from_tensor_slices(({"a": a, "b": b}, y)).batch(50)
    infos = {
        "list": LayerInformation([a, b], y, probe_size=80, layer_names=["h", "block/deep"]),
        "dict": LayerInformation({"a": a, "b": b}, y, probe_size=80, layer_names=["h", "deep"]),
        "dataset": LayerInformation(dataset, probe_size=80, layer_names=["h", "block/*"]),
    }
    model.fit([a, b], y, epochs=1, verbose=0, callbacks=list(infos.values()))
    reader = keras.Model(model.inputs, model.get_layer("h").output)
    for form, info in infos.items():
        assert info.measured_layers == ["h", "block/deep"], form
        probe = info.probe if form == "list" else [info.probe["a"], info.probe["b"]]
        t = np.asarray(reader(probe), np.float64)
        expected = kde_mi_plane(t, info.labels, dtype="float32", noise_variance=0.1,
                                relative_noise=True)  # fmt: skip
        assert info.estimates[-1]["I_TX"]["h"].value == pytest.approx(expected[0].value, 1e-9)
        deep = info.estimates[-1]["I_TX"]["block/deep"].value
        assert 0.0 < deep < math.log(80)
    back = assert_config_roundtrip(infos["list"])
    assert isinstance(back.probe, list) and back.probe[1].shape == (80, 2)


def test_a_wrong_probe_fails_at_train_begin_naming_expected_and_received(rng):
    x, y = _data(rng)
    model = _two_input_model()
    model.compile("adam", SPARSE_CE)
    info = LayerInformation(x, y, probe_size=50)  # one (n, 6) array for inputs a (4,) and b (2,)
    with pytest.raises(ValueError, match=r"1 input array\(s\) for 2 model input\(s\)\). Expected "
                       r"inputs: a \(None, 4\), b \(None, 2\). Received: one array of shape"):  # fmt: skip
        model.fit([x[:, :4], x[:, 4:]], y, epochs=1, verbose=0, callbacks=[info])
    assert model.optimizer.iterations.numpy() == 0


def test_old_argument_names_warn_and_still_work(rng):
    x, y = _data(rng)
    with pytest.warns(DeprecationWarning) as caught:
        old = LayerInformation(x=x, y=y, every=2, layers=["h1"], k=4, probe_size=50)
    assert sorted(str(w.message).split("`")[1] for w in caught) == ["every", "k", "layers", "x",
                                                                     "y"]  # fmt: skip
    assert (old.every_n_epochs, old.layer_names, old.n_neighbors) == (2, ["h1"], 4)
    np.testing.assert_array_equal(old.probe, LayerInformation(x, y, probe_size=50).probe)
    with pytest.raises(TypeError, match=r"pass `probe` only"):
        LayerInformation(probe=x, x=x)
    with pytest.raises(TypeError, match=r"unexpected arguments \['colour'\]"):
        LayerInformation(x, colour="red")


def test_knn_estimators_on_relu_layers_with_dead_units_are_sane(rng):
    # Half the units dead (bias -50): every probe sample ties at 0 there. Before the tie
    # treatment Ross and KSG gave large negative values on such layers.
    x, _ = _data(rng)
    labels = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu",
                              name="h"), keras.layers.Dense(2, name="out")])  # fmt: skip
    kernel, bias = model.get_layer("h").get_weights()
    bias[:2] = -50.0
    model.get_layer("h").set_weights([kernel, bias])
    info = LayerInformation(x, labels, probe_size=300, estimator="ksg", layer_names=["h"])
    info.set_model(model)
    record = info.measure(0)
    i_ty = record["I_TY"]["h"].value
    assert -0.05 < i_ty < math.log(2)
    assert record["I_TX"]["h"].value > 0.5  # the two live units carry the input
