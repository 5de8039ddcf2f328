"""Noise-regularised KDE bounds on layer information (Kolchinsky-Tracey pairwise distances)."""

import math

import numpy as np

from keras_rg.arguments import check_bool
from keras_rg.information import _blocks
from keras_rg.information._blocks import tf
from keras_rg.information._checks import (
    as_labels,
    as_samples,
    check_positive_float,
    check_row_block_size,
    label_entropy,
)
from keras_rg.information._result import InformationEstimate

__all__ = ["kde_mi_input", "kde_mi_labels", "kde_mi_plane", "layer_variance", "KDE_TEMPORARIES"]

# Live (block, n) float64 arrays in one block step: the cross products, the distances, the two
# kernels and the working copies of the element-wise ops (measured peak: about half of this).
KDE_TEMPORARIES = 8
_DTYPES = ("float64", "float32")


@_blocks.compiled
def _block_sums(block, samples, block_sq, samples_sq, start, block_onehot, onehot, inv_kl, inv_bd):
    """Sums over the block's rows of log sum_j exp(-D_ij / 2s) (KL) and exp(-D_ij / 8s) (BD),
    over all j and over the j of the row's own class. Every row holds its own D_ii = 0, so each
    sum is >= 1 and needs no max-shift to be stable."""
    dist = _blocks.squared_distances(block, samples, block_sq, samples_sq)
    rows = tf.shape(block)[0]
    zero = tf.zeros((), dist.dtype)
    dist = tf.where(_blocks.self_mask(start, rows, tf.shape(samples)[0]), zero, dist)
    sums = []
    for inv in (inv_kl, inv_bd):
        kernel = tf.exp(-dist * inv)
        sums.append(tf.reduce_sum(tf.math.log(tf.reduce_sum(kernel, axis=1))))
        own = tf.reduce_sum(tf.matmul(kernel, onehot) * block_onehot, axis=1)
        sums.append(tf.reduce_sum(tf.math.log(own)))
    return tf.stack(sums)


def _mean_log_sums(t, codes, noise_variance, block_size, dtype):
    """Means over samples of the four log-sums: (all KL, class KL, all BD, class BD)."""
    n, d = t.shape
    dtype = tf.as_dtype(dtype)
    block = block_size or _blocks.plan_block_rows(
        n, d, temporaries=KDE_TEMPORARIES, itemsize=dtype.size
    )
    samples = tf.constant(t, dtype)
    # einsum forms the row norms without an (n, d) product array.
    samples_sq = tf.constant(np.einsum("ij,ij->i", t, t), dtype)
    onehot = tf.one_hot(tf.constant(codes), int(codes.max()) + 1, dtype=dtype)
    inv_kl = tf.constant(1.0 / (2.0 * noise_variance), dtype)
    inv_bd = tf.constant(1.0 / (8.0 * noise_variance), dtype)
    total = np.zeros(4)
    for start, stop in _blocks.row_blocks(n, block):
        total += (
            _block_sums(
                samples[start:stop],
                samples,
                samples_sq[start:stop],
                samples_sq,
                tf.constant(start, tf.int32),
                onehot[start:stop],
                onehot,
                inv_kl,
                inv_bd,
            )
            .numpy()
            .astype(np.float64)
        )
    return total / n


def layer_variance(t):
    """The layer's total variance on the samples, ``tr Cov(T) = sum_j Var(t_j)``: half the mean
    squared distance between two samples (0 for a layer that is constant on them)."""
    samples = as_samples(t, "t")
    return float(np.sum(np.var(samples, axis=0)))


def _prepare(t, labels, noise_variance, block_size, dtype, relative_noise=False):
    samples = as_samples(t, "t")
    # Distances do not change under a shift; centring first shrinks |t|^2 and with it the
    # rounding error of the |a|^2 + |b|^2 - 2 a.b expansion. In place when as_samples copied.
    if np.shares_memory(samples, np.asarray(t)):
        samples = samples - samples.mean(axis=0)
    else:
        samples -= samples.mean(axis=0)
    noise_variance = check_positive_float(noise_variance, "noise_variance")
    relative_noise = check_bool("relative_noise", relative_noise)
    block_size = check_row_block_size(block_size)
    if dtype not in _DTYPES:
        raise ValueError(
            f"Received an invalid value for `dtype`: expected one of {_DTYPES}. "
            f"Received: dtype={dtype!r}"
        )
    n = samples.shape[0]
    codes = np.zeros(n, np.int64) if labels is None else as_labels(labels, n)
    hyper = {"noise_variance": noise_variance, "dtype": dtype, "relative_noise": relative_noise}
    variance = noise_variance
    if relative_noise:
        spread = float(np.sum(np.var(samples, axis=0)))
        # A layer constant on the probe carries nothing at any noise: keep the ratio itself.
        variance = noise_variance * spread if spread > 0 else noise_variance
        hyper["layer_variance"] = spread
    hyper["absolute_noise_variance"] = variance
    means = _mean_log_sums(samples, codes, variance, block_size, dtype)
    return n, codes, means, hyper


def _input_estimate(n, means, hyper):
    log_n = math.log(n)
    upper = log_n - means[0]
    lower = log_n - means[2]
    return InformationEstimate(
        value=upper, estimator="kde", n=n, hyperparameters=hyper, lower=lower, upper=upper
    )


def _label_estimate(n, codes, means, hyper):
    h_y = label_entropy(codes)
    all_kl, cls_kl, all_bd, cls_bd = means
    value = h_y - all_kl + cls_kl
    # The true value lies in [0, H(Y)], so clipping keeps the bracket valid and tightens it.
    upper = min(h_y - all_kl + cls_bd, h_y)
    lower = max(h_y - all_bd + cls_kl, 0.0)
    return InformationEstimate(
        value=value, estimator="kde", n=n, hyperparameters=hyper, lower=lower, upper=upper
    )


def kde_mi_input(t, *, noise_variance=0.1, block_size=None, dtype="float64", relative_noise=False):
    """Pairwise-distance bounds on ``I(T + Z; X)``, Z ~ N(0, noise_variance * I), in nats.

    For a deterministic layer ``T = f(X)`` and X uniform over the ``n`` given inputs, ``T + Z`` is
    a mixture of ``n`` Gaussians and ``I(T + Z; X) = H(T + Z) - H(Z)``. Kolchinsky and Tracey's
    pairwise bounds on a mixture's entropy give, with ``D_ij = |t_i - t_j|^2``,

        upper = -mean_i log mean_j exp(-D_ij / (2 noise_variance))   (KL divergence)
        lower = -mean_i log mean_j exp(-D_ij / (8 noise_variance))   (Bhattacharyya distance)

    both in ``[0, log n]``. ``value`` is the upper bound, as used by Saxe et al. (2018). This is the
    noise-regularised layer information of Liaw's Definition 3 (docs/information.md): without noise it is
    infinite for continuous X, and with ``n`` samples it cannot exceed ``log n``.
    With an absolute ``noise_variance`` the estimate depends on the layer's scale (``T -> lambda
    T`` changes it, though ``I(T; X)`` does not); ``relative_noise=True`` removes that.

    The ``O(n^2 d)`` pairwise work runs in TensorFlow (on a GPU when there is one) in row blocks,
    in float64 by default, so memory is ``O(block * n)`` plus the samples.

    Args:
        t: Layer activations, shape ``(n, ...)``; trailing axes are flattened.
        noise_variance: Variance of the added Gaussian noise, the estimator's resolution.
            Defaults to 0.1.
        block_size: Rows per block. Defaults to ``None``: as many as fit 128 MiB.
        relative_noise: Read ``noise_variance`` as a ratio ``rho`` to the layer's own total
            variance on the samples (``layer_variance``, ``tr Cov(T)``): the noise is then
            ``N(0, rho tr Cov(T) I)``, so ``T -> lambda T`` leaves the estimate unchanged (to
            rounding), as it leaves ``I(T; X)`` unchanged; and since the mean squared distance
            between samples is ``2 tr Cov(T)``, the typical kernel exponent is ``1 / rho`` in a
            layer of any width. Defaults to False (absolute).
        dtype: ``"float64"`` or ``"float32"`` for the pairwise sums. float32 is about 3x faster
            on a CPU; its rounding error in the squared distances is about ``1e-7 |t - mean|^2``,
            a relative error ``1e-7 |t - mean|^2 / noise_variance`` in each kernel term: about
            1e-7 nats for unit-scale activations at the default noise (measured), more for
            tiny noise variances or widely spread activations. Defaults to ``"float64"``.

    Returns:
        An ``InformationEstimate`` with ``lower`` and ``upper``.

    Example:

    >>> import numpy as np
    >>> t = np.random.default_rng(0).normal(size=(500, 3))
    >>> est = kde_mi_input(t, noise_variance=1e-6)
    >>> est.saturated  # 500 well-separated points at tiny noise: log 500
    True
    """
    n, _, means, hyper = _prepare(t, None, noise_variance, block_size, dtype, relative_noise)
    return _input_estimate(n, means, hyper)


def kde_mi_labels(
    t, labels, *, noise_variance=0.1, block_size=None, dtype="float64", relative_noise=False
):
    """Pairwise-distance estimate of ``I(T + Z; Y)`` for class labels Y, in nats.

    ``I(T + Z; Y) = H(T + Z) - sum_c p_c H(T + Z | Y = c)``, each entropy that of a Gaussian mixture
    over the samples (of class c). ``value`` takes the KL form for every entropy (Saxe et al.
    2018); ``upper`` takes the KL upper bound for ``H(T + Z)`` and the Bhattacharyya lower bounds for
    the class terms, ``lower`` the reverse, each clipped to ``[0, H(Y)]`` (H(Y) is the empirical
    label entropy), so ``lower`` and ``upper`` bracket the mixture's true ``I(T + Z; Y)``. The
    bracket is rigorous but loose when classes overlap at the noise scale: ``value`` is the
    estimate to read.

    Args:
        t: Layer activations, shape ``(n, ...)``.
        labels: Class labels, ``(n,)`` integers or ``(n, C)`` one-hot rows.
        noise_variance: Variance of the added Gaussian noise. Defaults to 0.1.
        block_size: Rows per block. Defaults to ``None``: as many as fit 128 MiB.
        relative_noise: Read ``noise_variance`` as a ratio ``rho`` to the layer's own total
            variance on the samples (``layer_variance``, ``tr Cov(T)``): the noise is then
            ``N(0, rho tr Cov(T) I)``, so ``T -> lambda T`` leaves the estimate unchanged (to
            rounding), as it leaves ``I(T; X)`` unchanged; and since the mean squared distance
            between samples is ``2 tr Cov(T)``, the typical kernel exponent is ``1 / rho`` in a
            layer of any width. Defaults to False (absolute).
        dtype: ``"float64"`` or ``"float32"`` for the pairwise sums. float32 is about 3x faster
            on a CPU; its rounding error in the squared distances is about ``1e-7 |t - mean|^2``,
            a relative error ``1e-7 |t - mean|^2 / noise_variance`` in each kernel term: about
            1e-7 nats for unit-scale activations at the default noise (measured), more for
            tiny noise variances or widely spread activations. Defaults to ``"float64"``.

    Returns:
        An ``InformationEstimate`` with ``lower`` and ``upper``.

    Example:

    >>> import numpy as np
    >>> y = np.repeat([0, 1], 200)
    >>> t = y[:, None] * 10.0 + np.random.default_rng(0).normal(size=(400, 2))
    >>> round(kde_mi_labels(t, y).value, 3)  # classes fully separated: H(Y) = log 2
    0.693
    """
    n, codes, means, hyper = _prepare(t, labels, noise_variance, block_size, dtype, relative_noise)
    return _label_estimate(n, codes, means, hyper)


def kde_mi_plane(
    t, labels, *, noise_variance=0.1, block_size=None, dtype="float64", relative_noise=False
):
    """``(I(T + Z; X), I(T + Z; Y))`` from one pairwise pass: equal to ``kde_mi_input`` and
    ``kde_mi_labels`` on the same arguments at about half their combined cost.

    Args:
        t: Layer activations, shape ``(n, ...)``.
        labels: Class labels, ``(n,)`` integers or ``(n, C)`` one-hot rows.
        noise_variance: Variance of the added Gaussian noise. Defaults to 0.1.
        block_size: Rows per block. Defaults to ``None``: as many as fit 128 MiB.
        relative_noise: Read ``noise_variance`` as a ratio ``rho`` to the layer's own total
            variance on the samples (``layer_variance``, ``tr Cov(T)``): the noise is then
            ``N(0, rho tr Cov(T) I)``, so ``T -> lambda T`` leaves the estimate unchanged (to
            rounding), as it leaves ``I(T; X)`` unchanged; and since the mean squared distance
            between samples is ``2 tr Cov(T)``, the typical kernel exponent is ``1 / rho`` in a
            layer of any width. Defaults to False (absolute).
        dtype: ``"float64"`` or ``"float32"`` for the pairwise sums. float32 is about 3x faster
            on a CPU; its rounding error in the squared distances is about ``1e-7 |t - mean|^2``,
            a relative error ``1e-7 |t - mean|^2 / noise_variance`` in each kernel term: about
            1e-7 nats for unit-scale activations at the default noise (measured), more for
            tiny noise variances or widely spread activations. Defaults to ``"float64"``.

    Returns:
        A pair of ``InformationEstimate``.

    Example:

    >>> import numpy as np
    >>> t = np.random.default_rng(0).normal(size=(300, 4))
    >>> i_tx, i_ty = kde_mi_plane(t, np.arange(300) % 3)
    >>> bool(i_tx.lower <= i_tx.value and i_ty.value <= i_ty.upper)
    True
    """
    n, codes, means, hyper = _prepare(t, labels, noise_variance, block_size, dtype, relative_noise)
    return _input_estimate(n, means, hyper), _label_estimate(n, codes, means, hyper)
