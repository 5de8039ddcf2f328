"""Sample transforms for the k-NN estimators: tie-breaking jitter and the Gaussian copula.

Both preserve mutual information (see each function), so they change what an estimator *sees*,
not what it estimates.
"""

import numpy as np
from scipy.special import ndtri

from keras_rg.arguments import check_float, check_int

__all__ = ["DEFAULT_JITTER", "break_ties", "gaussian_copula"]

# Seeds are mixed with this constant so the noise never repeats a user's own
# ``default_rng(seed)`` stream (which would correlate the jitter with the data).
_STREAM = 0x6B5247


def _rng(seed):
    return np.random.default_rng([_STREAM, seed])


# Relative size of the tie-breaking noise: far below any resolution an estimator uses, far above
# float64 rounding of unit-scale data (scikit-learn's mutual_info_* use the same 1e-10).
DEFAULT_JITTER = 1e-10


def column_scale(a):
    """Per-column scale: the standard deviation, or the mean ``|a|`` where that is 0, or 1 where
    both are 0 (a column of zeros). Strictly positive."""
    std = np.std(a, axis=0)
    mean_abs = np.mean(np.abs(a), axis=0)
    scale = np.maximum(std, mean_abs)
    return np.where(scale > 0, scale, 1.0)


def break_ties(a, *, jitter=DEFAULT_JITTER, seed=0):
    """Returns ``a`` plus seeded Gaussian noise of standard deviation ``jitter * scale`` per
    column, ``scale`` from :func:`column_scale` (so the noise scales with the data).

    Why it is needed: k-NN estimators (KSG, Ross) assume no two samples coincide. ReLU zeros,
    dead or saturated units and quantised inputs tie many samples at distance 0, the neighbour
    radius collapses to 0 and the counts, then the estimate, become meaningless (strongly
    negative). Tiny noise breaks every tie at random. It preserves the information: an atom of
    ``T`` becomes a tiny blob independent of everything else, from which ``T`` is recovered
    exactly at this resolution, so ``I(T + E; Y) -> I(T; Y)`` (and a constant column carries 0).
    The same treatment as scikit-learn's ``mutual_info_regression`` / ``mutual_info_classif``.

    Args:
        a: ``(n, d)`` float array.
        jitter: Relative noise size; 0 returns ``a`` unchanged. Defaults to 1e-10.
        seed: Seed of the noise. Defaults to 0.

    Returns:
        A new ``(n, d)`` array.
    """
    jitter = check_float("jitter", jitter, 0)
    seed = check_int("seed", seed, minimum=0)
    if jitter == 0:
        return a
    rng = _rng(seed)
    return a + jitter * column_scale(a) * rng.standard_normal(a.shape)


def gaussian_copula(a, *, seed=0):
    """Normal scores of every column: ``Phi^-1(rank / (n + 1))``, ties broken at random (seeded).

    A strictly increasing map of each column changes neither the ranks nor, therefore, the
    result, so an estimator run on normal scores is exactly invariant under such maps, as the
    mutual information is. Heavy tails become Gaussian marginals, which the k-NN estimators
    handle well. Random tie-breaking preserves the information: the scores of a tied group are a
    random order independent of everything else, from which the group (the original value) is
    recovered exactly.

    Args:
        a: ``(n, d)`` float array.
        seed: Seed of the tie-breaking order. Defaults to 0.

    Returns:
        A new ``(n, d)`` float64 array of normal scores.

    Example:

    >>> import numpy as np
    >>> z = gaussian_copula(np.array([[1.0], [100.0], [10.0]]))
    >>> bool(np.allclose(z[:, 0], [-0.6745, 0.6745, 0.0], atol=1e-4))
    True
    """
    seed = check_int("seed", seed, minimum=0)
    a = np.asarray(a, dtype=np.float64)
    n = a.shape[0]
    rng = _rng(seed)
    out = np.empty_like(a)
    for j in range(a.shape[1]):
        # lexsort: primary key the value, ties ordered by a random key.
        order = np.lexsort((rng.random(n), a[:, j]))
        ranks = np.empty(n)
        ranks[order] = np.arange(1, n + 1)
        out[:, j] = ndtri(ranks / (n + 1.0))
    return out
