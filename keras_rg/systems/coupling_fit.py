"""Maximum-likelihood couplings θ of the radial exponential family, with Fisher standard errors.

Usage and the measured accuracy of the fit: docs/exponential_family.md."""

import dataclasses
import math
import warnings

import numpy as np

from keras_rg.arguments import check_choice, check_int
from keras_rg.systems.radial_checks import as_spd, squared_radii
from keras_rg.systems.radial_quadrature import RadialQuadrature

__all__ = ["DOMAINS", "CouplingFit", "check_order", "dimensionless_couplings", "fit_couplings"]

#: The coupling domains of :func:`fit_couplings`.
DOMAINS = ("positive", "natural")


def dimensionless_couplings(theta):
    """``g_r = θ_r / θ_1^r``: invariant under every rescaling ``x ↦ c·x`` (``θ_r ↦ c^(−2r) θ_r``).

    Args:
        theta: couplings ``(θ_1, ..., θ_R)``, array-like; the last axis indexes r.

    Returns:
        NumPy array of the same shape (``g_1 = 1``); NaN where ``θ_1 = 0``. (A negative θ_1, as
        in a fit outside the family, is kept: the invariance holds for either sign.)

    Example:
        >>> dimensionless_couplings([2.0, 8.0])
        array([1., 2.])
    """
    theta = np.asarray(theta, dtype=np.float64)
    r = np.arange(1, theta.shape[-1] + 1, dtype=np.float64)
    t1 = theta[..., :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = theta / np.power(t1, r)
    return np.where(t1 != 0, out, np.nan)


@dataclasses.dataclass(frozen=True)
class CouplingFit:
    """Result of ``fit_couplings``.

    Attributes:
        theta: the estimate ``θ̂`` (R,).
        stderr: Fisher standard errors of ``θ̂`` (R,), from ``(n · I(θ̂))^(−1)``.
        covariance: the asymptotic covariance ``(n · I(θ̂))^(−1)`` (R, R).
        dim: the sample dimension N (or M for feature outputs).
        n: the number of samples.
        log_likelihood: the mean log-density of the samples at ``θ̂`` (for radii given without A,
            that of the whitened samples).
        converged: whether Newton's method met its tolerance.
        n_iter: Newton iterations used.
        at_bound: (R,) bool, couplings held at the domain's bound 0.
        domain: ``"positive"`` (every θ_r >= 0, the family of Gong & Xia) or ``"natural"``.
    """

    theta: np.ndarray
    stderr: np.ndarray
    covariance: np.ndarray
    dim: int
    n: int
    log_likelihood: float
    converged: bool
    n_iter: int
    at_bound: np.ndarray
    domain: str

    @property
    def dimensionless(self):
        """``g_r = θ̂_r / θ̂_1^r`` (scale-free couplings)."""
        return dimensionless_couplings(self.theta)

    @property
    def in_family(self):
        """True when every θ̂_r > 0, i.e. the fit lies in the family of Gong & Xia."""
        return bool(np.all(self.theta > 0))

    def as_dict(self):
        """Deprecated alias of :meth:`to_dict` (one result convention: ``to_dict``)."""
        warnings.warn(
            "CouplingFit.as_dict() is deprecated and will be removed in the next release; use "
            "to_dict().",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_dict()

    def to_dict(self):
        """The fields as plain Python values (for logs and JSON)."""
        return {
            "theta": self.theta.tolist(),
            "stderr": self.stderr.tolist(),
            "dimensionless": self.dimensionless.tolist(),
            "dim": self.dim,
            "n": self.n,
            "log_likelihood": self.log_likelihood,
            "converged": self.converged,
            "n_iter": self.n_iter,
            "at_bound": self.at_bound.tolist(),
            "domain": self.domain,
        }


def _moments_on_grid(theta, a, order):
    """J's pieces: log I(θ), E[ρ^r] and Cov(ρ^r, ρ^s) from one quadrature grid."""
    q = RadialQuadrature(theta, a)
    w = q.weights()
    w = w / np.sum(w)
    powers = np.exp(np.arange(1, order + 1)[:, None] * q.u[None, :])  # (R, n_grid)
    mean = powers @ w
    centred = powers - mean[:, None]
    cov = (centred * w[None, :]) @ centred.T
    return q.log_integral, mean, cov


def _normalisable(theta):
    nz = np.flatnonzero(theta)
    return nz.size > 0 and theta[nz[-1]] > 0


def _objective(theta, a, m):
    """Mean negative log-likelihood up to constants: J(θ) = Σ θ_r m_r + log I(θ)."""
    if not _normalisable(theta):
        return math.inf
    return float(theta @ m) + RadialQuadrature(theta, a).log_integral


def _inverse(H):
    d = 1.0 / np.sqrt(np.maximum(np.diag(H), np.finfo(np.float64).tiny))
    vals, vecs = np.linalg.eigh(H * d[:, None] * d[None, :])
    vals = np.maximum(vals, np.finfo(np.float64).eps * vals.max())
    return (vecs / vals) @ vecs.T * d[:, None] * d[None, :]


def check_order(order):
    """Checks the number of couplings R (``order``): an integer >= 1."""
    return check_int("order", order)


def _squared_radii(x, rho, dim, A):
    if (x is None) == (rho is None):
        raise ValueError("Pass exactly one of `x` (samples) and `rho` (squared radii xᵀAx).")
    logdet = 0.0
    if x is not None:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(
                f"Received an invalid value for `x`: expected samples of shape (n, N). "
                f"Received: x of shape {x.shape}"
            )
        if dim is not None and dim != x.shape[1]:
            raise ValueError(
                f"Received mismatched dimensions: `dim`={dim} but `x` has {x.shape[1]} columns."
            )
        dim = x.shape[1]
        rho, mu = squared_radii(x, A)
        if mu is not None:
            logdet = float(np.sum(np.log(mu)))
    else:
        rho = np.asarray(rho, dtype=np.float64)
        if rho.ndim != 1 or rho.size == 0:
            raise ValueError(
                f"Received an invalid value for `rho`: expected a 1-D array of squared radii. "
                f"Received: rho of shape {rho.shape}"
            )
        if np.any(rho < 0):
            raise ValueError(
                "Received an invalid value for `rho`: squared radii must be >= 0. "
                f"Received: min(rho)={rho.min()!r}"
            )
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(
                "Received an invalid value for `dim`: expected the positive integer dimension "
                f"of the samples whose squared radii are given. Received: dim={dim!r}"
            )
        if A is not None:
            mat, mu, _ = as_spd(A)
            if mat.shape[0] != dim:
                raise ValueError(
                    f"Received mismatched dimensions: `dim`={dim} but `A` has shape {mat.shape}."
                )
            logdet = float(np.sum(np.log(mu)))
    if not np.all(np.isfinite(rho)):
        raise ValueError("Received samples with non-finite values; all must be finite.")
    return rho, int(dim), logdet


def fit_couplings(
    x=None,
    order=2,
    *,
    rho=None,
    dim=None,
    A=None,
    domain="positive",
    max_iter=100,
    tol=1e-20,
):
    """Maximum-likelihood θ of ``P(x; θ) ∝ exp(−Σ_{r=1}^R θ_r (xᵀAx)^r)`` from samples.

    The negative mean log-likelihood ``Σ θ_r mean(ρ^r) + log Z(θ)`` is convex in θ (the
    sufficient statistics are ``ρ^r``); it is minimised by projected Newton steps on the exact
    log-partition. Its Hessian is ``Cov_θ(ρ^r, ρ^s)``, the Fisher information per sample, which
    gives the standard errors. The radii are divided by their mean before the fit and the result
    mapped back exactly (``θ_r ↦ c^(−r) θ_r``), so the fit is scale-equivariant.

    Args:
        x: samples of shape ``(n, N)``, any N (e.g. a feature layer's width M).
        order: the number of couplings R. Defaults to 2.
        rho: instead of ``x``, the squared radii ``xᵀAx`` as a 1-D array (then ``dim`` is needed).
        dim: the sample dimension N; needed with ``rho``, checked against ``x``.
        A: symmetric positive-definite ``(N, N)`` matrix of the quadratic form. Defaults to I.
        domain: ``"positive"`` keeps every θ_r >= 0 (the family of Gong & Xia, θ_r > 0);
            ``"natural"`` only requires normalisability (θ_R >= 0), so lower couplings may be
            negative. Defaults to ``"positive"``.
        max_iter: Newton iteration limit. Defaults to 100.
        tol: stop when the Newton decrement (the predicted gain in mean log-likelihood) is below
            this, or when it stops falling below 1e-12 (float64 resolution). Defaults to 1e-20.

    Returns:
        A ``CouplingFit``.

    Example:
        >>> from keras_rg.systems.exponential_family import RadialExponentialFamily
        >>> x = RadialExponentialFamily([0.5, 0.1], dim=4).sample(5000, seed=0).numpy()
        >>> fit = fit_couplings(x, order=2)
        >>> bool(np.all(np.abs(fit.theta - [0.5, 0.1]) < 4 * fit.stderr))
        True

    Reference: Gong & Xia, "Interpreting FCDNNs via RG on exponential family", eq. 39: the couplings θ̃^t of a feature layer's outputs.
    """
    order = check_order(order)
    check_choice("domain", domain, DOMAINS)
    rho, dim, logdet = _squared_radii(x, rho, dim, A)
    n = rho.size
    if n <= order:
        raise ValueError(
            f"Received too few samples: fitting order={order} couplings needs more than {order} "
            f"samples. Received: n={n}"
        )
    scale = float(np.mean(rho))
    if not scale > 0:
        raise ValueError("Received samples that are all zero: the couplings are not identifiable.")
    a = 0.5 * dim
    rs = rho / scale
    powers = np.arange(1, order + 1)
    m = np.array([np.mean(rs**r) for r in powers])
    bounded = np.ones(order, bool) if domain == "positive" else (powers == order)

    theta = np.zeros(order)
    theta[0] = a  # the R = 1 (Gamma) maximum-likelihood estimate for radii of mean 1
    converged = False
    n_iter = 0
    previous = math.inf
    J = _objective(theta, a, m)
    while n_iter < max_iter:
        n_iter += 1
        _, mean, H = _moments_on_grid(theta, a, order)
        g = m - mean
        active = bounded & (theta <= 0.0) & (g > 0)
        free = ~active
        step = np.zeros(order)
        step[free] = -_inverse(H[np.ix_(free, free)]) @ g[free]
        decrement = float(-g[free] @ step[free])
        # Converged at the tolerance, or at the rounding floor (a small decrement that no longer
        # falls: Newton's quadratic convergence has hit float64 resolution).
        if decrement <= tol or (decrement < 1e-12 and decrement >= previous):
            converged = True
            break
        previous = decrement
        t = 1.0
        while True:
            cand = theta + t * step
            cand[bounded] = np.maximum(cand[bounded], 0.0)
            Jc = _objective(cand, a, m)
            # Near the optimum J changes by less than its rounding: take the pure Newton step.
            if np.isfinite(Jc) and (decrement < 1e-8 or Jc <= J + 1e-4 * float(g @ (cand - theta))):
                break
            t *= 0.5
            if t < 1e-12:
                cand = theta
                Jc = J
                break
        if cand is theta:
            break
        theta, J = cand, Jc

    _, _, H = _moments_on_grid(theta, a, order)
    cov_scaled = _inverse(H) / n
    factor = scale ** (-powers.astype(np.float64))
    theta_out = theta * factor
    cov = cov_scaled * factor[:, None] * factor[None, :]
    log_lik = -J - a * math.log(scale) + 0.5 * logdet - a * math.log(math.pi) + math.lgamma(a)
    return CouplingFit(
        theta=theta_out,
        stderr=np.sqrt(np.diag(cov)),
        covariance=cov,
        dim=dim,
        n=int(n),
        log_likelihood=float(log_lik),
        converged=converged,
        n_iter=n_iter,
        at_bound=bounded & (theta <= 0.0),
        domain=domain,
    )
