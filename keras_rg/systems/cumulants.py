"""Connected correlation functions (cumulants) of samples, and their exact values under the family."""

import dataclasses

import numpy as np

from keras_rg.arguments import check_int
from keras_rg.systems.radial_checks import as_spd, as_theta, squared_radii
from keras_rg.systems.radial_quadrature import RadialQuadrature

__all__ = ["ConnectedCorrelations", "connected_correlations", "model_connected_correlations"]


@dataclasses.dataclass(frozen=True)
class ConnectedCorrelations:
    """Connected correlation functions of orders 2 and 4 (Gong & Xia, eq. 44).

    For independent samples the connected functions between different samples vanish, so those
    of one sample describe the whole system. For the radial family they are those of an elliptical
    law: ``G_c^(2)_ij = Cov(x_i, x_j) = E[ρ]/N · (A^(−1))_ij`` and
    ``G_c^(4)_ijkl = c · (Σ_ij Σ_kl + Σ_ik Σ_jl + Σ_il Σ_jk)`` with ``Σ = A^(−1)`` and the
    kurtosis parameter ``c = E[ρ²]/(N(N+2)) − (E[ρ]/N)²``.

    Attributes:
        covariance: ``(N, N)`` second connected function.
        second: ``(N,)`` per-coordinate second cumulants (the diagonal of ``covariance``).
        fourth: ``(N,)`` per-coordinate fourth cumulants ``κ_4(x_i) = G_c^(4)_iiii``.
        radial: ``(4,)`` cumulants ``κ_1..κ_4`` of ``ρ = xᵀAx``.
        kurtosis: the kurtosis parameter c (0 for a Gaussian).
        n: number of samples, or None for exact model values.
        stderr: for estimates, a dict of jackknife standard errors with the keys above
            (``covariance``, ``second``, ``fourth``, ``radial``, ``kurtosis``); None for the model.
    """

    covariance: np.ndarray
    second: np.ndarray
    fourth: np.ndarray
    radial: np.ndarray
    kurtosis: float
    n: int = None
    stderr: dict = None


def _kstats(x):
    """Unbiased k-statistics k1..k4 along axis 0 (Fisher's), from centred power sums."""
    n = x.shape[0]
    mean = np.mean(x, axis=0)
    c = x - mean
    s2 = np.sum(c**2, axis=0)
    s3 = np.sum(c**3, axis=0)
    s4 = np.sum(c**4, axis=0)
    k2 = s2 / (n - 1)
    k3 = n * s3 / ((n - 1) * (n - 2))
    k4 = (n * n * (n + 1) * s4 - 3 * n * (n - 1) * s2**2) / (n * (n - 1) * (n - 2) * (n - 3))
    return mean, k2, k3, k4


def _kurtosis(m1, var, dim):
    """c = E[ρ²]/(N(N+2)) − (E[ρ]/N)², written to avoid cancelling large terms."""
    return var / (dim * (dim + 2)) - 2.0 * m1**2 / (dim * dim * (dim + 2))


def _estimates(x, rho, dim):
    _, k2, _, k4 = _kstats(x)
    cov = np.cov(x, rowvar=False, ddof=1).reshape(dim, dim)
    radial = np.array(_kstats(rho[:, None]))[:, 0]
    kurt = _kurtosis(np.mean(rho), np.var(rho), dim)
    return {"covariance": cov, "second": k2, "fourth": k4, "radial": radial, "kurtosis": kurt}


def connected_correlations(x, *, A=None, blocks=20):
    """Estimates the connected correlation functions of samples, with jackknife errors.

    Per-coordinate cumulants are Fisher's unbiased k-statistics; the radial ones are those of
    ``ρ = xᵀAx``; the kurtosis parameter c uses the moments of ρ (meaningful for data centred
    at 0, as the family's are). Standard errors are delete-one-block jackknife over ``blocks``
    equal blocks of the samples.

    Args:
        x: samples of shape ``(n, N)``, n >= 4 · blocks... at least 8 per block.
        A: symmetric positive-definite ``(N, N)`` matrix for ρ. Defaults to the identity.
        blocks: the number of jackknife blocks, an integer >= 2. Defaults to 20.

    Returns:
        A ``ConnectedCorrelations`` with ``n`` and ``stderr`` set.

    Example:
        >>> from keras_rg.systems.exponential_family import RadialExponentialFamily
        >>> x = RadialExponentialFamily([0.5, 0.1], dim=3).sample(4000, seed=0).numpy()
        >>> est = connected_correlations(x)
        >>> exact = model_connected_correlations([0.5, 0.1], dim=3)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(
            f"Received an invalid value for `x`: expected samples of shape (n, N). "
            f"Received: x of shape {x.shape}"
        )
    blocks = check_int("blocks", blocks, minimum=2)
    n, dim = x.shape
    if n < 8 * blocks:
        raise ValueError(
            f"Received too few samples: {blocks} jackknife blocks need at least {8 * blocks} "
            f"samples. Received: n={n}"
        )
    rho, _ = squared_radii(x, A)
    full = _estimates(x, rho, dim)
    edges = np.linspace(0, n, blocks + 1).astype(int)
    reps = []
    for b in range(blocks):
        keep = np.ones(n, bool)
        keep[edges[b] : edges[b + 1]] = False
        reps.append(_estimates(x[keep], rho[keep], dim))
    stderr = {}
    for key in full:
        stack = np.stack([np.asarray(r[key]) for r in reps])
        spread = np.sum((stack - stack.mean(axis=0)) ** 2, axis=0)
        stderr[key] = np.sqrt((blocks - 1) / blocks * spread)
    return ConnectedCorrelations(
        covariance=full["covariance"],
        second=full["second"],
        fourth=full["fourth"],
        radial=full["radial"],
        kurtosis=float(full["kurtosis"]),
        n=int(n),
        stderr=stderr,
    )


def model_connected_correlations(theta, dim=None, A=None):
    """Exact connected correlation functions of ``P(x; θ) ∝ exp(−Σ θ_r (xᵀAx)^r)``.

    Args:
        theta: couplings, all > 0.
        dim: the dimension N; may be omitted when ``A`` is given.
        A: symmetric positive-definite ``(N, N)`` matrix. Defaults to the identity.

    Returns:
        A ``ConnectedCorrelations`` (``n`` and ``stderr`` are None).

    Example:
        >>> exact = model_connected_correlations([0.5], dim=2)  # Gaussian: fourth == 0
    """
    theta = as_theta(theta)
    if A is not None:
        mat, _, _ = as_spd(A)
        if dim is not None and dim != mat.shape[0]:
            raise ValueError(
                f"Received mismatched dimensions: `dim`={dim} but `A` has shape {mat.shape}."
            )
        dim = mat.shape[0]
        sigma = np.linalg.inv(mat)
        sigma = 0.5 * (sigma + sigma.T)
    else:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(
                f"Received an invalid value for `dim`: expected a positive integer. "
                f"Received: dim={dim!r}"
            )
        sigma = np.eye(dim)
    # Central moments of ρ on the quadrature grid (no cancellation between large raw moments).
    q = RadialQuadrature(theta, 0.5 * dim)
    w = q.weights()
    w = w / np.sum(w)
    rho = np.exp(q.u)
    m1 = float(w @ rho)
    c = rho - m1
    mu2, mu3, mu4 = (float(w @ c**k) for k in (2, 3, 4))
    kurt = _kurtosis(m1, mu2, dim)
    cov = m1 / dim * sigma
    diag = np.diag(sigma)
    return ConnectedCorrelations(
        covariance=cov,
        second=np.diag(cov).copy(),
        fourth=3.0 * kurt * diag**2,
        radial=np.array([m1, mu2, mu3, mu4 - 3.0 * mu2**2]),
        kurtosis=float(kurt),
    )
