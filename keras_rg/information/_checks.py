"""Argument checks shared by the estimators: samples, labels and hyperparameters."""

import math
import numbers

import numpy as np

from keras_rg.arguments import check_array, check_int

__all__ = [
    "as_paired_samples",
    "as_samples",
    "as_labels",
    "check_positive_float",
    "check_row_block_size",
    "label_entropy",
]


def as_samples(value, name):
    """Returns ``value`` as a float64 array of shape ``(n, d)``: 1-D becomes one column and any
    trailing axes are flattened (an activation map is one sample per row). Empty, non-finite or
    non-numeric data raise naming ``name`` (``keras_rg.arguments.check_array``)."""
    array = check_array(name, value, min_ndim=1, min_rows=2)
    return array.reshape(array.shape[0], -1)


def as_paired_samples(x, y):
    """``as_samples`` of both ``x`` and ``y``, checking they hold the same number of samples."""
    x = as_samples(x, "x")
    y = as_samples(y, "y")
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(
            f"Received an invalid value for `y`: expected {n} samples like `x`. "
            f"Received: y with {y.shape[0]} samples"
        )
    return x, y


def as_labels(value, n, name="labels"):
    """Returns class labels as integer codes ``0..C-1`` of shape ``(n,)``. Accepts 1-D integer
    labels (or integer-valued floats) and 2-D one-hot or probability rows (arg-max)."""
    array = np.asarray(value)
    if array.ndim == 2 and array.shape[1] > 1:
        array = np.argmax(array, axis=1)
    elif array.ndim == 2:
        array = array[:, 0]
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected {n} class labels, 1-D integers or "
            f"2-D one-hot rows. Received: {name} with shape {np.shape(value)}"
        )
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(
                f"Received an invalid value for `{name}`: expected integer class labels (use "
                f"`ksg_mi` for a continuous target). Received: {name} with non-integer values"
            )
    elif array.dtype.kind not in "iub":
        raise TypeError(
            f"Received an invalid value for `{name}`: expected integer class labels. "
            f"Received: {name} with dtype {array.dtype}"
        )
    _, codes = np.unique(array, return_inverse=True)
    return codes.reshape(-1).astype(np.int64)


def label_entropy(codes):
    """Entropy in nats of the empirical distribution of integer codes."""
    counts = np.bincount(codes)
    p = counts[counts > 0] / codes.shape[0]
    return float(-np.sum(p * np.log(p)))


def check_positive_float(value, name):
    """Returns ``value`` as a float after checking it is finite and > 0."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a finite float > 0. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def check_row_block_size(value):
    """``block_size`` of the pairwise estimators (rows per block): ``None`` (planned from the
    memory budget) or a positive integer."""
    if value is None:
        return None
    return check_int("block_size", value)
