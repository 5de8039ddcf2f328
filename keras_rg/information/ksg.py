"""k-nearest-neighbour estimators: Kraskov-Stoegbauer-Grassberger (KSG) and Ross (mixed pairs)."""

import warnings

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from keras_rg.arguments import check_choice, check_int, renamed_argument
from keras_rg.information import _blocks
from keras_rg.information._blocks import tf
from keras_rg.information._checks import (
    as_labels,
    as_paired_samples,
    as_samples,
    check_row_block_size,
)
from keras_rg.information._result import InformationEstimate
from keras_rg.information.transforms import DEFAULT_JITTER, break_ties, gaussian_copula

__all__ = ["ksg_mi", "ross_mi", "MAX_KNN_DIMENSIONS", "TRANSFORMS"]

# Above this many dimensions in the (joint) space, k-NN estimators are badly biased.
MAX_KNN_DIMENSIONS = 10
_ALGORITHMS = ("auto", "tree", "brute")
TRANSFORMS = (None, "copula")


def _standardise(a):
    """Each column divided by its standard deviation (a constant column is left alone): the
    max-norm neighbourhoods then do not depend on the units of each variable."""
    std = np.std(a, axis=0)
    return a / np.where(std > 0, std, 1.0)


def _resolve(algorithm):
    if algorithm not in _ALGORITHMS:
        raise ValueError(
            f"Received an invalid value for `algorithm`: expected one of {_ALGORITHMS}. "
            f"Received: algorithm={algorithm!r}"
        )
    if algorithm == "auto":
        return "brute" if tf.config.list_logical_devices("GPU") else "tree"
    return algorithm


def _check_k(k, n):
    k = check_int("n_neighbors", k)
    if k >= n:
        raise ValueError(
            "Received an invalid value for `n_neighbors`: expected fewer neighbours than samples "
            f"({n}). Received: n_neighbors={k}"
        )
    return k


def _no_more(deprecated, owner):
    """Keywords left after the deprecated aliases were taken out are errors."""
    if deprecated:
        raise TypeError(f"{owner}() got unexpected keyword arguments {sorted(deprecated)}")


def _prepare(a, standardize, transform, jitter, seed):
    """The stated treatment before counting neighbours: the copula transform (ties broken at
    random) or standardisation, then the tie-breaking jitter (``transforms.break_ties``)."""
    if transform == "copula":
        return gaussian_copula(a, seed=seed)
    if standardize:
        a = _standardise(a)
    return break_ties(a, jitter=jitter, seed=seed)


def _warn_dimension(dims, what):
    if dims > MAX_KNN_DIMENSIONS:
        warnings.warn(
            f"k-NN mutual information in {dims} dimensions ({what}) is strongly biased above "
            f"~{MAX_KNN_DIMENSIONS} dimensions; prefer `kde_mi_input`/`kde_mi_labels`.",
            UserWarning,
            stacklevel=3,
        )


def _radius(eps):
    """The largest float strictly below each distance: counts then exclude the k-th neighbour's
    own distance, as in Kraskov et al. (and scikit-learn)."""
    return np.nextafter(eps, 0.0)


# ---------------------------------------------------------------------------------------------
# KSG, algorithm 1: I = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_y + 1) >


@_blocks.compiled
def _ksg_block(x_block, y_block, x, y, start, k):
    inf = tf.constant(np.inf, tf.float64)
    me = _blocks.self_mask(start, tf.shape(x_block)[0], tf.shape(x)[0])
    dx = tf.where(me, inf, _blocks.chebyshev_distances(x_block, x))
    dy = tf.where(me, inf, _blocks.chebyshev_distances(y_block, y))
    eps = -tf.math.top_k(-tf.maximum(dx, dy), k=k).values[:, k - 1]
    radius = tf.math.nextafter(eps, tf.zeros_like(eps))[:, None]
    n_x = tf.reduce_sum(tf.cast(dx <= radius, tf.int64), axis=1)
    n_y = tf.reduce_sum(tf.cast(dy <= radius, tf.int64), axis=1)
    return n_x, n_y


def _ksg_counts_brute(x, y, k, block_size):
    n = x.shape[0]
    temporaries = max(x.shape[1], y.shape[1]) + 6
    block = block_size or _blocks.plan_block_rows(
        n, x.shape[1] + y.shape[1], temporaries=temporaries
    )
    xt, yt = tf.constant(x), tf.constant(y)
    parts = [
        _ksg_block(xt[a:b], yt[a:b], xt, yt, tf.constant(a, tf.int32), k)
        for a, b in _blocks.row_blocks(n, block)
    ]
    return (np.concatenate([p[i].numpy() for p in parts]) for i in (0, 1))


def _ksg_counts_tree(x, y, k):
    joint = np.hstack([x, y])
    eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, k]
    radius = _radius(eps)
    counts = []
    for part in (x, y):
        found = cKDTree(part).query_ball_point(part, radius, p=np.inf, return_length=True)
        counts.append(np.asarray(found) - 1)
    return counts


def ksg_mi(
    x,
    y,
    *,
    n_neighbors=3,
    standardize=True,
    transform=None,
    jitter=DEFAULT_JITTER,
    seed=0,
    algorithm="auto",
    block_size=None,
    **deprecated,
):
    """Kraskov-Stoegbauer-Grassberger estimate of ``I(X; Y)`` for continuous X and Y, in nats.

    Algorithm 1 of Kraskov et al. (2004) with max-norm neighbourhoods: with ``eps_i`` the distance
    to the k-th neighbour of sample i in the joint space and ``n_x(i)``, ``n_y(i)`` the numbers of
    samples strictly closer than ``eps_i`` in each marginal space,
    ``I = psi(k) + psi(n) - mean_i [psi(n_x(i) + 1) + psi(n_y(i) + 1)]``. The estimate is not
    clipped at zero (independent pairs average to about 0). It suits low-dimensional layers and
    regression targets; above ~10 joint dimensions it warns. Liaw's layer information
    (Definition 3; docs/information.md) for a layer T and its input X or target Y.

    Ties (ReLU zeros, dead or saturated units, quantised data) are broken by a seeded Gaussian
    jitter of ``jitter`` times each column's scale (``transforms.break_ties``), as scikit-learn's
    ``mutual_info_regression`` does, so tied or constant columns give ~0, never a large negative
    value; with ``standardize=True`` and no transform the estimate matches that function up to
    the jitter's draw and its clipping at 0. ``transform="copula"`` replaces every column by its
    normal scores (``transforms.gaussian_copula``) first: exactly invariant under strictly
    monotone maps of either side, and much better on heavy tails.

    Args:
        x: First variable, shape ``(n, ...)``; trailing axes are flattened.
        y: Second variable, shape ``(n, ...)``.
        n_neighbors: Neighbours (KSG's k). Defaults to 3. ``k`` is its deprecated name.
        standardize: Divide every column by its standard deviation first. Defaults to True.
        transform: ``None`` or ``"copula"`` (normal scores of every column). Defaults to None.
        jitter: Relative size of the tie-breaking noise (0: none). Defaults to 1e-10.
        seed: Seed of the jitter and of the copula's tie order. Defaults to 0.
        algorithm: ``"tree"`` (SciPy k-d trees, O(n log n), CPU), ``"brute"`` (blocked pairwise
            max-norm distances in TensorFlow, O(n^2), for GPUs) or ``"auto"`` (brute when a GPU
            is visible). Both give identical counts. Defaults to ``"auto"``.
        block_size: Rows per block for ``"brute"``. Defaults to ``None``: planned from 128 MiB.

    Returns:
        An ``InformationEstimate``.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> y = 0.75 * x + np.sqrt(1 - 0.75**2) * rng.normal(size=2000)
    >>> round(ksg_mi(x, y).value, 1)  # exact: -0.5 log(1 - 0.75^2) = 0.413
    0.4
    """
    # Called here, not in a helper, so the warning points at the caller's line.
    k = renamed_argument(deprecated, "k", "n_neighbors", n_neighbors, "ksg_mi", default=3)
    _no_more(deprecated, "ksg_mi")
    x, y = as_paired_samples(x, y)
    n = x.shape[0]
    k = _check_k(k, n)
    method = _resolve(algorithm)
    block_size = check_row_block_size(block_size)
    transform = check_choice("transform", transform, TRANSFORMS)
    _warn_dimension(x.shape[1] + y.shape[1], "joint space of x and y")
    x = _prepare(x, standardize, transform, jitter, seed)
    y = _prepare(y, standardize, transform, jitter, seed + 1)
    if method == "tree":
        n_x, n_y = _ksg_counts_tree(x, y, k)
    else:
        n_x, n_y = _ksg_counts_brute(x, y, k, block_size)
    value = digamma(n) + digamma(k) - np.mean(digamma(n_x + 1)) - np.mean(digamma(n_y + 1))
    hyper = {"n_neighbors": k, "standardize": bool(standardize), "transform": transform,
             "jitter": float(jitter), "seed": int(seed), "algorithm": method}  # fmt: skip
    return InformationEstimate(value=value, estimator="ksg", n=n, hyperparameters=hyper)


# ---------------------------------------------------------------------------------------------
# Ross (2014): I = psi(n) + <psi(k_i)> - <psi(n_c(i))> - <psi(m_i)>


@_blocks.compiled
def _ross_block(x_block, x, start, block_codes, codes, block_k, k_max):
    inf = tf.constant(np.inf, tf.float64)
    me = _blocks.self_mask(start, tf.shape(x_block)[0], tf.shape(x)[0])
    dist = tf.where(me, inf, _blocks.chebyshev_distances(x_block, x))
    same = tf.equal(block_codes[:, None], codes[None, :])
    nearest = -tf.math.top_k(-tf.where(same, dist, inf), k=k_max).values
    eps = tf.gather(nearest, block_k - 1, axis=1, batch_dims=1)
    radius = tf.math.nextafter(eps, tf.zeros_like(eps))[:, None]
    return tf.reduce_sum(tf.cast(dist <= radius, tf.int64), axis=1) + 1


def _ross_counts_brute(x, codes, k_i, block_size):
    n = x.shape[0]
    temporaries = x.shape[1] + 6
    block = block_size or _blocks.plan_block_rows(n, x.shape[1], temporaries=temporaries)
    xt, ct, kt = tf.constant(x), tf.constant(codes), tf.constant(k_i)
    k_max = int(k_i.max())
    parts = [
        _ross_block(xt[a:b], xt, tf.constant(a, tf.int32), ct[a:b], ct, kt[a:b], k_max)
        for a, b in _blocks.row_blocks(n, block)
    ]
    return np.concatenate([p.numpy() for p in parts])


def _ross_counts_tree(x, codes, k_i):
    eps = np.empty(x.shape[0])
    for c in np.unique(codes):
        members = codes == c
        kc = int(k_i[members][0])
        points = x[members]
        eps[members] = cKDTree(points).query(points, k=kc + 1, p=np.inf)[0][:, kc]
    found = cKDTree(x).query_ball_point(x, _radius(eps), p=np.inf, return_length=True)
    return np.asarray(found)


def ross_mi(
    x,
    labels,
    *,
    n_neighbors=3,
    standardize=True,
    transform=None,
    jitter=DEFAULT_JITTER,
    seed=0,
    algorithm="auto",
    block_size=None,
    **deprecated,
):
    """Ross (2014) estimate of ``I(X; Y)`` for continuous X and discrete labels Y, in nats.

    For sample i of class c with ``n_c`` members, ``k_i = min(k, n_c - 1)``, ``eps_i`` is the
    distance to its ``k_i``-th neighbour within the class and ``m_i`` counts all samples (itself
    included) strictly closer than ``eps_i``; then
    ``I = psi(n) + mean psi(k_i) - mean psi(n_c) - mean psi(m_i)``. Samples whose class has a single
    member are dropped. Max-norm distances. Warns above ~10 dimensions.

    Ties in ``x`` (ReLU zeros, dead units) are broken by the same seeded jitter as in
    ``ksg_mi`` (``transforms.break_ties``), as scikit-learn's ``mutual_info_classif`` does: a
    dead unit gives ~0 and a half-zero ReLU unit a value that matches that function up to the
    jitter's draw and its clipping at 0.

    Args:
        x: Continuous variable (a layer's activations), shape ``(n, ...)``.
        labels: Class labels, ``(n,)`` integers or ``(n, C)`` one-hot rows.
        n_neighbors: Neighbours. Defaults to 3. ``k`` is its deprecated name.
        standardize: Divide every column of ``x`` by its standard deviation first. Defaults to
            True.
        transform: ``None`` or ``"copula"`` (normal scores of every column of ``x``).
            Defaults to None.
        jitter: Relative size of the tie-breaking noise (0: none). Defaults to 1e-10.
        seed: Seed of the jitter and of the copula's tie order. Defaults to 0.
        algorithm: ``"tree"``, ``"brute"`` or ``"auto"``, as for ``ksg_mi``. Defaults to ``"auto"``.
        block_size: Rows per block for ``"brute"``. Defaults to ``None``: planned from 128 MiB.

    Returns:
        An ``InformationEstimate`` (``n`` counts the samples kept).

    Example:

    >>> import numpy as np
    >>> y = np.repeat([0, 1], 500)
    >>> x = 10.0 * y + np.random.default_rng(0).normal(size=1000)
    >>> round(ross_mi(x, y).value, 2)  # classes separated: log 2 = 0.69
    0.69
    """
    k = renamed_argument(deprecated, "k", "n_neighbors", n_neighbors, "ross_mi", default=3)
    _no_more(deprecated, "ross_mi")
    k = check_int("n_neighbors", k)
    x = as_samples(x, "x")
    codes = as_labels(labels, x.shape[0])
    method = _resolve(algorithm)
    block_size = check_row_block_size(block_size)
    transform = check_choice("transform", transform, TRANSFORMS)
    counts = np.bincount(codes)
    keep = counts[codes] > 1
    x, codes = x[keep], np.unique(codes[keep], return_inverse=True)[1].reshape(-1)
    n = x.shape[0]
    if n < 2:
        raise ValueError(
            "Received an invalid value for `labels`: expected at least one class with 2 or more "
            "samples. Received: labels with every class a singleton"
        )
    _warn_dimension(x.shape[1], "x")
    x = _prepare(x, standardize, transform, jitter, seed)
    n_c = np.bincount(codes)[codes]
    k_i = np.minimum(k, n_c - 1)
    if method == "tree":
        m = _ross_counts_tree(x, codes, k_i)
    else:
        m = _ross_counts_brute(x, codes, k_i, block_size)
    value = digamma(n) + np.mean(digamma(k_i)) - np.mean(digamma(n_c)) - np.mean(digamma(m))
    hyper = {"n_neighbors": k, "standardize": bool(standardize), "transform": transform,
             "jitter": float(jitter), "seed": int(seed), "algorithm": method}  # fmt: skip
    return InformationEstimate(value=value, estimator="ross", n=n, hyperparameters=hyper)
