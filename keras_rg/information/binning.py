"""Binning estimates of layer information (Shwartz-Ziv and Tishby), over each layer's own range."""

import math

import numpy as np

from keras_rg.arguments import check_int
from keras_rg.information._checks import (
    as_labels,
    as_samples,
    check_positive_float,
)
from keras_rg.information._result import InformationEstimate

__all__ = ["binning_mi_input", "binning_mi_labels", "binning_mi_plane"]

DEFAULT_BINS = 30


def _entropy(symbols):
    counts = np.unique(symbols, return_counts=True)[1]
    p = counts / symbols.shape[0]
    return float(-np.sum(p * np.log(p)))


def _discretise(t, bins, bin_width, value_range=None):
    """Bins every unit over ``value_range`` (default: the layer's observed [min, max]) and
    returns one integer symbol per row (equal rows, equal symbols) with the resolved
    hyperparameters. Values outside a given range fall in the end bins."""
    if bins is not None and bin_width is not None:
        raise ValueError(
            "Received both `bins` and `bin_width`: expected at most one of them. "
            f"Received: bins={bins!r}, bin_width={bin_width!r}"
        )
    if value_range is None:
        lo, hi = float(np.min(t)), float(np.max(t))
    else:
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError) as err:
            raise TypeError(
                "Received an invalid type for `value_range`: expected None or (low, high). "
                f"Received: value_range={value_range!r}"
            ) from err
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(
                "Received an invalid value for `value_range`: expected finite low < high. "
                f"Received: value_range={value_range!r}"
            )
    span = hi - lo
    if bin_width is None:
        bins = DEFAULT_BINS if bins is None else check_int("bins", bins)
        width = span / bins if span > 0 else 1.0
    else:
        width = check_positive_float(bin_width, "bin_width")
        bins = int(math.floor(span / width)) + 1
    index = np.clip(np.floor((t - lo) / width), 0, bins - 1).astype(np.int32)
    rows = np.ascontiguousarray(index).view(np.dtype((np.void, index.itemsize * index.shape[1])))
    symbols = np.unique(rows.ravel(), return_inverse=True)[1].reshape(-1)
    hyper = {"bins": bins, "bin_width": width, "range": (lo, hi)}
    return symbols, hyper


def _estimates(t, labels, bins, bin_width, value_range=None):
    samples = as_samples(t, "t")
    n = samples.shape[0]
    symbols, hyper = _discretise(samples, bins, bin_width, value_range)
    h_t = _entropy(symbols)
    i_tx = InformationEstimate(value=h_t, estimator="binning", n=n, hyperparameters=hyper)
    if labels is None:
        return i_tx, None
    codes = as_labels(labels, n)
    joint = symbols.astype(np.int64) * (int(codes.max()) + 1) + codes
    i_ty = h_t + _entropy(codes) - _entropy(joint)
    return i_tx, InformationEstimate(value=i_ty, estimator="binning", n=n, hyperparameters=hyper)


def binning_mi_input(t, *, bins=None, bin_width=None, value_range=None):
    """``I(T_b; X) = H(T_b)`` of the binned layer, in nats (Shwartz-Ziv and Tishby 2017).

    Every unit is cut into equal bins over the layer's observed ``[min, max]`` (a fixed ``[-1, 1]``
    would lump every ReLU activation above 1 into one bin). For a deterministic layer and X uniform
    over the ``n`` inputs, ``I(T_b; X) = H(T_b) <= log n``, reached when every input lands in its
    own bin pattern. The value depends on the bin width, the estimator's resolution. Liaw's
    Definition 3 (docs/information.md).

    Args:
        t: Layer activations, shape ``(n, ...)``; trailing axes are flattened.
        bins: Number of bins per unit over the layer's range. Defaults to ``None``: 30 unless
            ``bin_width`` is given.
        bin_width: Width of a bin instead of a count. Defaults to ``None``.
        value_range: ``(low, high)`` to bin over instead of the observed range, e.g. ``(-1, 1)``
            for tanh units as in Saxe et al. (2018); values outside fall in the end bins.
            Defaults to ``None``.

    Returns:
        An ``InformationEstimate``; its hyperparameters hold the resolved bins, width and range.

    Example:

    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 64)[:, None]
    >>> round(binning_mi_input(t, bins=64).value, 4)  # one point per bin: log 64
    4.1589
    """
    return _estimates(t, None, bins, bin_width, value_range)[0]


def binning_mi_labels(t, labels, *, bins=None, bin_width=None, value_range=None):
    """``I(T_b; Y) = H(T_b) + H(Y) - H(T_b, Y)`` of the binned layer and class labels, in nats.

    Args:
        t: Layer activations, shape ``(n, ...)``.
        labels: Class labels, ``(n,)`` integers or ``(n, C)`` one-hot rows.
        bins: Number of bins per unit. Defaults to ``None``: 30 unless ``bin_width`` is given.
        bin_width: Width of a bin instead of a count. Defaults to ``None``.
        value_range: ``(low, high)`` to bin over instead of the observed range, e.g. ``(-1, 1)``
            for tanh units as in Saxe et al. (2018); values outside fall in the end bins.
            Defaults to ``None``.

    Returns:
        An ``InformationEstimate``.

    Example:

    >>> import numpy as np
    >>> y = np.repeat([0, 1], 50)
    >>> round(binning_mi_labels(y[:, None] * 1.0, y).value, 4)  # log 2
    0.6931
    """
    return _estimates(t, labels, bins, bin_width, value_range)[1]


def binning_mi_plane(t, labels, *, bins=None, bin_width=None, value_range=None):
    """``(I(T_b; X), I(T_b; Y))`` from one binning, equal to the two single calls.

    Args:
        t: Layer activations, shape ``(n, ...)``.
        labels: Class labels, ``(n,)`` integers or ``(n, C)`` one-hot rows.
        bins: Number of bins per unit. Defaults to ``None``: 30 unless ``bin_width`` is given.
        bin_width: Width of a bin instead of a count. Defaults to ``None``.
        value_range: ``(low, high)`` to bin over instead of the observed range, e.g. ``(-1, 1)``
            for tanh units as in Saxe et al. (2018); values outside fall in the end bins.
            Defaults to ``None``.

    Returns:
        A pair of ``InformationEstimate``.

    Example:

    >>> import numpy as np
    >>> i_tx, i_ty = binning_mi_plane(np.eye(4), [0, 0, 1, 1])
    >>> round(i_tx.value, 4), round(i_ty.value, 4)
    (1.3863, 0.6931)
    """
    return _estimates(t, labels, bins, bin_width, value_range)
