"""Tests for keras_rg.information.binning (Shwartz-Ziv-Tishby binning over the observed range)."""

import math

import numpy as np
import pytest

from keras_rg.information import binning_mi_input, binning_mi_labels, binning_mi_plane


def _entropy(counts):
    p = np.asarray(counts, float) / np.sum(counts)
    return float(-np.sum(p * np.log(p)))


def test_ceiling_log_n_for_an_injective_layer(rng):
    x = rng.permutation(np.linspace(-1.0, 1.0, 500))[:, None]  # 500 distinct, spacing 0.004
    t = np.hstack([2 * x + 0.1, np.maximum(x, 0)])  # injective through its first unit
    est = binning_mi_input(t, bins=1000)  # range [-1.9, 2.1]: width 0.004 < spacing 0.008
    assert est.value == pytest.approx(math.log(500), abs=1e-12)
    assert est.saturated and est.ceiling == pytest.approx(math.log(500))


def test_entropy_of_known_bin_counts():
    # Range [0, 1] in 4 bins of 0.25: values fall 2, 1, 0, 3 into them (1.0 goes to the last).
    t = np.array([0.0, 0.1, 0.3, 0.8, 0.9, 1.0])[:, None]
    est = binning_mi_input(t, bins=4)
    assert est.value == pytest.approx(_entropy([2, 1, 3]), abs=1e-12)
    assert est.hyperparameters == {"bins": 4, "bin_width": 0.25, "range": (0.0, 1.0)}
    by_width = binning_mi_input(t, bin_width=0.5)  # [0, .5), [.5, 1), [1, 1.5): 3, 2, 1
    assert by_width.value == pytest.approx(_entropy([3, 2, 1]), abs=1e-12)
    assert by_width.hyperparameters["bins"] == 3


def test_observed_range_not_fixed_minus_one_to_one(rng):
    # ReLU-like activations up to 10: bins over the observed range make the estimate invariant to
    # the layer's scale (a fixed [-1, 1] range would lump everything above 1 into one bin).
    t = np.maximum(rng.normal(size=(300, 3)), 0) * 10.0
    est = binning_mi_input(t)
    assert binning_mi_input(t / 10.0).value == pytest.approx(est.value, abs=1e-12)
    lo, hi = est.hyperparameters["range"]
    assert lo == 0.0 and hi == t.max()
    index = np.minimum(np.floor(t / (hi / 30)), 29)  # the same 30 bins by hand
    counts = np.unique(index, axis=0, return_counts=True)[1]
    assert est.value == pytest.approx(_entropy(counts), abs=1e-12)


def test_labels_known_answers(rng):
    labels = np.repeat([0, 1, 2], [10, 30, 60])
    t = labels[:, None] + 0.01 * rng.normal(size=(100, 1))
    # T determines Y: I(T_b; Y) = H(Y). A T independent of Y in every bin: 0.
    assert binning_mi_labels(t, labels, bins=3).value == pytest.approx(_entropy([10, 30, 60]))
    constant = np.zeros((100, 2))
    assert binning_mi_labels(constant, labels).value == pytest.approx(0.0, abs=1e-12)
    i_tx, i_ty = binning_mi_plane(t, np.eye(3)[labels], bins=3)
    assert i_ty.value == pytest.approx(_entropy([10, 30, 60]))
    assert i_tx.value == binning_mi_input(t, bins=3).value


def test_invalid_arguments():
    t = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"both `bins` and `bin_width`"):
        binning_mi_input(t, bins=3, bin_width=0.1)
    with pytest.raises(ValueError, match=r"`bins`: expected an integer >= 1. Received: bins=0"):
        binning_mi_input(t, bins=0)
    with pytest.raises(ValueError, match=r"`bin_width`.*Received: bin_width=-0.1"):
        binning_mi_input(t, bin_width=-0.1)


def test_fixed_value_range_bins_over_it_and_clips_to_the_end_bins():
    from keras_rg.information import binning_mi_input

    t = np.array([[-1.0], [-0.99], [0.0], [0.5], [0.99], [5.0]])
    # 2 bins over [-1, 1]: {-1, -0.99, 0.0 -> [0, 1) is bin 1}: bins 0, 0, 1, 1, 1, 1 (5.0 clipped)
    est = binning_mi_input(t, bins=2, value_range=(-1, 1))
    p = np.array([2, 4]) / 6
    assert est.value == pytest.approx(-np.sum(p * np.log(p)), abs=1e-12)
    assert est.hyperparameters["range"] == (-1.0, 1.0)
    with pytest.raises(ValueError, match=r"`value_range`"):
        binning_mi_input(t, value_range=(1, 1))
    with pytest.raises(TypeError, match=r"`value_range`"):
        binning_mi_input(t, value_range="wide")
