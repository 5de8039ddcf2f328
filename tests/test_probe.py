"""keras_rg.probe: one reader of layer outputs for any model and any probe form."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rg.probe import ProbeReader, as_probe, available_layers, probe_to_config

RNG = np.random.default_rng(0)
A = RNG.normal(size=(40, 3)).astype("float32")
B = RNG.normal(size=(40, 2)).astype("float32")
Y = (A[:, 0] > 0).astype("int32")


def _two_input_model():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = keras.layers.Dense(4, activation="relu", name="h")(keras.layers.Concatenate()([a, b]))
    return keras.Model([a, b], keras.layers.Dense(2, name="out")(h))


def _expected_h(model, a, b):
    weights = model.get_layer("h").get_weights()
    return np.maximum(np.hstack([a, b]) @ weights[0] + weights[1], 0.0)


def test_multi_input_list_dict_and_dataset_probes_read_the_same_outputs():
    model = _two_input_model()
    expected = _expected_h(model, A, B)
    dataset = tf.data.Dataset.from_tensor_slices(({"a": A, "b": B}, Y)).batch(16)
    forms = {
        "list": as_probe([A, B]),
        "tuple": as_probe((A, B)),
        "dict": as_probe({"b": B, "a": A}),
        "dataset": as_probe(dataset),
    }
    for form, (probe, _labels) in forms.items():
        out = ProbeReader(model, probe, ["h"], batch_size=7).read()  # several batches
        np.testing.assert_allclose(out["h"], expected, rtol=1e-5, atol=1e-6, err_msg=form)
    np.testing.assert_array_equal(forms["dataset"][1], Y)
    # probe_to_config keeps a list of inputs apart from one array, and as_probe reads it back.
    back, _ = as_probe(probe_to_config(forms["list"][0]))
    assert isinstance(back, list) and [a.shape for a in back] == [(40, 3), (40, 2)]


def test_wrong_probes_fail_at_construction_naming_expected_and_received():
    model = _two_input_model()
    with pytest.raises(ValueError, match=r"1 input array\(s\) for 2 model input\(s\).*Expected "
                       r"inputs: a \(None, 3\), b \(None, 2\)"):  # fmt: skip
        ProbeReader(model, as_probe(A)[0])
    with pytest.raises(ValueError, match=r"input 'b' expects shape \(None, 2\), got \(40, 3\)"):
        ProbeReader(model, as_probe([A, A])[0])
    with pytest.raises(ValueError, match=r"keys \['a', 'c'\] are not the input names"):
        ProbeReader(model, as_probe({"a": A, "c": B})[0])
    with pytest.raises(ValueError, match=r"same number of samples"):
        as_probe([A, B[:10]])
    with pytest.raises(ValueError, match=r"`labels`: expected 40 labels"):
        as_probe(A, Y[:5])
    with pytest.raises(TypeError, match=r"`probe`"):
        as_probe("data.npy")


def test_layer_names_exact_globs_unknown_and_empty_selection():
    model = _two_input_model()
    probe = as_probe([A, B])[0]
    assert ProbeReader(model, probe, ["*"]).names == ["concatenate", "h", "out"]
    assert ProbeReader(model, probe, "o?t").names == ["out"]
    with pytest.raises(ValueError, match=r"'hiden' matches no layer.*Available: \['concatenate', "
                       r"'h', 'out'\]"):  # fmt: skip
        ProbeReader(model, probe, ["hiden"])
    with pytest.raises(ValueError, match=r"'dense_\*' matches no layer"):
        ProbeReader(model, probe, ["dense_*"])
    with pytest.raises(ValueError, match=r"empty list selects nothing"):
        ProbeReader(model, probe, [])


def test_layers_inside_nested_models_and_subclassed_models():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, name="d1"),
                              keras.layers.Dense(4, activation="tanh", name="d2")], name="inner")  # fmt: skip
    inp = keras.Input((3,))
    outer = keras.Model(inp, keras.layers.Dense(1, name="head")(inner(inp)))
    assert available_layers(outer) == ["inner", "inner/d1", "inner/d2", "head"]
    out = ProbeReader(outer, A, ["inner/d1", "d2", "head"]).read()
    w1, b1 = inner.get_layer("d1").get_weights()
    np.testing.assert_allclose(out["inner/d1"], A @ w1 + b1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["inner/d2"], inner(A).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["head"], outer(A).numpy(), rtol=1e-5, atol=1e-6)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.first = keras.layers.Dense(3, name="first")
            self.second = keras.layers.Dense(2, name="second")

        def call(self, x):
            return self.second(self.first(x))

    net = Net()
    net(A[:2])
    read = ProbeReader(net, A, ["first", "second"], batch_size=16).read()
    np.testing.assert_allclose(read["second"], net(A).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"cannot run on it"):
        ProbeReader(net, as_probe(B)[0], ["first"])


def test_subsample_is_seeded_and_keeps_pairs():
    probe, labels = as_probe({"a": A, "b": B}, Y, probe_size=10, seed=3)
    again, _ = as_probe({"a": A, "b": B}, Y, probe_size=10, seed=3)
    np.testing.assert_array_equal(probe["a"], again["a"])
    rows = [int(np.flatnonzero((A == row).all(axis=1))[0]) for row in probe["a"]]
    np.testing.assert_array_equal(probe["b"], B[rows])
    np.testing.assert_array_equal(labels, Y[rows])
