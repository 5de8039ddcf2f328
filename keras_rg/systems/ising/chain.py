"""1-D Ising chain: exact sampling (open and periodic), decimation of samples and its recursion."""

import numpy as np

from keras_rg.arguments import check_int
from keras_rg.systems.ising._validation import check_coupling

__all__ = ["decimate", "decimation_recursion", "sample_chain"]


def sample_chain(length, coupling, n_samples, periodic=False, seed=0):
    """Exact, independent samples of the zero-field 1-D Ising chain ``P(s) ∝ exp(K Σ s_i s_(i+1))``.

    Open chain: the first spin is ±1 with probability ½ and each bond ``s_i s_(i+1)`` is +1 with
    probability ``e^K / (e^K + e^−K) = (1 + tanh K)/2``, independently. Periodic ring: the first
    spin is uniform (by the up–down symmetry) and each next spin is drawn from its exact
    conditional given the previous spin and the first, from the transfer matrix
    ``T = [[e^K, e^−K], [e^−K, e^K]]``: ``P(s_i = a | s_(i−1), s_0) ∝ e^(K s_(i−1) a)
    (1 + a s_0 t^(N−i))`` with ``t = tanh K``. Both are exact for any finite K (negative K too).

    Args:
        length: N, the number of spins (>= 2).
        coupling: K = βJ, a finite float.
        n_samples: the number of independent chains to draw (>= 1).
        periodic: a ring of N bonds instead of an open chain of N − 1. Defaults to False.
        seed: integer seed of a NumPy ``Generator``; the same seed gives the same samples.
            Defaults to 0.

    Returns:
        An ``int8`` array of ±1 spins, shape ``(n_samples, length)``.

    Example:
        >>> s = sample_chain(100, 0.8, 2000, seed=1)
        >>> bool(abs((s[:, 1:] * s[:, :-1]).mean() - np.tanh(0.8)) < 0.01)
        True

    Reference: the 1-D input data of ref. [1] of Gong & Xia, "Interpreting FCDNNs via RG on
    exponential family" (docs/exponential_family.md).
    """
    n = check_int("length", length, 2)
    k = check_coupling("coupling", coupling)
    m = check_int("n_samples", n_samples, 1)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    first = np.where(rng.random(m) < 0.5, -1, 1).astype(np.int8)
    t = np.tanh(k)
    if not periodic:
        same = rng.random((m, n - 1)) < 0.5 * (1.0 + t)
        bonds = np.where(same, 1, -1).astype(np.int8)
        rest = first[:, None] * np.cumprod(bonds, axis=1, dtype=np.int8)
        return np.concatenate([first[:, None], rest], axis=1)
    spins = np.empty((m, n), np.int8)
    spins[:, 0] = first
    u = rng.random((m, n - 1))
    with np.errstate(divide="ignore"):
        for i in range(1, n):
            # log-odds of s_i = +1: 2 K s_(i-1) + log(1 + s_0 t^r) − log(1 − s_0 t^r), r = N − i.
            tr = first * t ** (n - i)
            logit = 2.0 * k * spins[:, i - 1] + np.log1p(tr) - np.log1p(-tr)
            p_up = 0.5 * (1.0 + np.tanh(0.5 * logit))
            spins[:, i] = np.where(u[:, i - 1] < p_up, 1, -1)
    return spins


def decimate(spins, b=2, periodic=False):
    """Real-space RG of a chain by decimation: keeps every ``b``-th spin (sites 0, b, 2b, ...).

    Summing out the ``b − 1`` spins between kept ones maps a zero-field chain at coupling K to
    one at ``K'`` with ``tanh K' = tanh^b K`` (``decimation_recursion``), exactly, on samples.

    Args:
        spins: ±1 array, the chain on the last axis.
        b: the decimation factor (>= 2). Defaults to 2.
        periodic: the chain is a ring; its length must then be divisible by ``b`` so the
            decimated chain is again a ring. Defaults to False.

    Returns:
        The decimated spins, last axis ``ceil(N / b)`` long (``N / b`` for a ring).

    Example:
        >>> decimate(np.array([[1, -1, -1, 1, 1]])).tolist()
        [[1, -1, 1]]
    """
    arr = np.asarray(spins)
    b = check_int("b", b, 2)
    if arr.ndim < 1:
        raise ValueError(
            "Received an invalid value for `spins`: expected an array with the chain on the "
            f"last axis. Received: spins of shape {arr.shape}"
        )
    if periodic and arr.shape[-1] % b:
        raise ValueError(
            f"Received an invalid value for `b`: expected a factor that divides the ring length "
            f"{arr.shape[-1]}. Received: b={b}"
        )
    return arr[..., ::b]


def decimation_recursion(coupling, b=2):
    """The exact 1-D decimation map ``K' = atanh(tanh^b K)`` (``K' = ½ ln cosh 2K`` for b = 2).

    Evaluated without overflow for large ``|K|`` (where ``tanh K`` rounds to 1) through
    ``1 − tanh K = 2 / (1 + e^2K)``. Fixed points: ``K* = 0`` (stable) and ``K* = ∞`` (unstable).

    Args:
        coupling: K, a float or array of finite floats.
        b: the decimation factor (>= 2). Defaults to 2.

    Returns:
        K', a float or array shaped like ``coupling``.

    Example:
        >>> round(float(decimation_recursion(0.8)), 6)
        0.473403
    """
    b = check_int("b", b, 2)
    k = np.asarray(coupling, dtype=np.float64)
    if not np.all(np.isfinite(k)):
        raise ValueError(
            "Received an invalid value for `coupling`: expected finite real couplings. "
            f"Received: coupling={coupling!r}"
        )
    a = np.abs(k)
    t = np.tanh(a)
    tb = t**b
    # log(1 − t) = log 2 − 2a − log1p(e^−2a); 1 − t^b = (1 − t) Σ_{j<b} t^j.
    log_one_minus_t = np.log(2.0) - 2.0 * a - np.log1p(np.exp(-2.0 * a))
    geometric = np.sum(t[..., None] ** np.arange(b), axis=-1)
    with np.errstate(divide="ignore"):
        kp = 0.5 * (np.log1p(tb) - log_one_minus_t - np.log(geometric))
    # Below t^b = ½ atanh is accurate and the log form would cancel to absolute precision.
    kp = np.where(tb < 0.5, np.arctanh(np.minimum(tb, 0.5)), kp)
    kp = kp * np.sign(k) ** b
    return kp[()] if kp.ndim == 0 else kp
