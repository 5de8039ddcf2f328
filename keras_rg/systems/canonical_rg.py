"""Canonical RG of the radial family: θ_r^λ = θ_r Z(λ)^r λ^(−2r), its flow, fixed point, invariance.

From Gong & Xia, "Interpreting FCDNNs via RG on exponential family" (eq. 10, 30–33); usage and the
measured checks are in docs/exponential_family.md.
"""

import dataclasses
import math
import warnings

import keras
import numpy as np

from keras_rg.arguments import check_float
from keras_rg.systems.radial_checks import as_theta
from keras_rg.systems.radial_quadrature import log_partition

__all__ = [
    "CanonicalFixedPoint",
    "CanonicalFlow",
    "PartitionCheck",
    "PowerLawFieldScale",
    "canonical_flow",
    "fixed_point",
    "partition_invariance",
    "rescale_samples",
    "rg_couplings",
]


@keras.saving.register_keras_serializable(package="keras_rg")
class PowerLawFieldScale:
    """The field rescaling ``Z(λ) = λ^(2−η)`` of the canonical RG (Gong & Xia, eq. 10, 30).

    With it ``θ_r^λ = θ_r λ^(−η r)``: η = 0 is the partition-invariant choice (every θ_r
    marginal), η > 0 sends θ to 0, η < 0 makes it diverge.

    Args:
        eta: the anomalous exponent η, a finite float. Defaults to 0.0.

    Example:
        >>> float(PowerLawFieldScale(eta=0.5)(4.0))  # 4^1.5
        8.0
    """

    def __init__(self, eta=0.0):
        self.eta = check_float("eta", eta)

    def __call__(self, lam):
        return np.power(np.asarray(lam, dtype=np.float64), 2.0 - self.eta)

    def log(self, lam):
        """``log Z(λ)``, exact for the power law."""
        return (2.0 - self.eta) * np.log(np.asarray(lam, dtype=np.float64))

    def get_config(self):
        return {"eta": self.eta}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _field_scale(field_scale):
    if field_scale is None:
        return PowerLawFieldScale(0.0)
    if isinstance(field_scale, (int, float, np.floating, np.integer)) and not isinstance(
        field_scale, bool
    ):
        return PowerLawFieldScale(float(field_scale))
    if callable(field_scale):
        return field_scale
    raise TypeError(
        "Received an invalid value for `field_scale`: expected None (Z(λ) = λ²), a float η "
        f"(Z(λ) = λ^(2−η)) or a callable λ ↦ Z(λ). Received: field_scale={field_scale!r}"
    )


def _lambdas(lam, name="lam"):
    arr = np.asarray(lam, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(
            f"Received an invalid value for `{name}`: expected finite scales λ > 0. "
            f"Received: {name}={lam!r}"
        )
    return arr


def _log_z(z, lam):
    if isinstance(z, PowerLawFieldScale):
        return z.log(lam)
    values = np.asarray(z(lam), dtype=np.float64)
    if values.shape != np.shape(lam):
        values = np.broadcast_to(values, np.shape(lam))
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(
            "Received an invalid `field_scale`: Z(λ) must be finite and > 0 at every λ; got "
            f"{values!r} at λ={lam!r}"
        )
    return np.log(values)


def rg_couplings(theta, lam, field_scale=None):
    """``θ_r^λ = θ_r · Z(λ)^r · λ^(−2r)`` (Gong & Xia, eq. 32), evaluated in log space.

    Args:
        theta: couplings ``(θ_1, ..., θ_R)``, all > 0.
        lam: a scale λ > 0 or an array of them.
        field_scale: ``Z(λ)``: None for ``λ²`` (partition-invariant), a float η for the power law
            ``λ^(2−η)``, or a callable (e.g. ``PowerLawFieldScale``). Defaults to None.

    Returns:
        NumPy array of shape ``np.shape(lam) + (R,)``.

    Example:
        >>> rg_couplings([1.0, 0.5], 10.0, field_scale=0.5)  # θ_r 10^(−r/2)
        array([0.31622777, 0.05      ])
    """
    theta = as_theta(theta)
    lam = _lambdas(lam)
    z = _field_scale(field_scale)
    phi = _log_z(z, lam) - 2.0 * np.log(lam)
    r = np.arange(1, theta.size + 1, dtype=np.float64)
    return theta * np.exp(np.asarray(phi)[..., None] * r)


def rescale_samples(x, lam, field_scale=None):
    """Maps samples of ``P(·; θ)`` to samples of ``P(·; θ^λ)``: ``x ↦ λ Z(λ)^(−1/2) x``.

    ``H_λ(x) = H(Z(λ)^(1/2) x/λ)`` (eq. 30–31), so if x has density ``∝ e^(−H)`` then
    ``λ Z(λ)^(−1/2) x`` has density ``∝ e^(−H_λ)``.

    Args:
        x: samples, array-like of shape ``(n, N)``.
        lam: the scale λ > 0 (a float).
        field_scale: ``Z(λ)`` as in ``rg_couplings``. Defaults to None (``λ²``).

    Returns:
        The rescaled samples (NumPy float64).
    """
    lam = float(_lambdas(lam))
    z = _field_scale(field_scale)
    factor = math.exp(math.log(lam) - 0.5 * float(_log_z(z, np.float64(lam))))
    return factor * np.asarray(x, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class CanonicalFlow:
    """The canonical RG flow over a λ grid.

    Attributes:
        lambdas: the scales (L,).
        theta: ``θ^λ`` (L, R).
        dimensionless: ``g_r^λ = θ_r^λ / (θ_1^λ)^r`` (L, R): constant along every such flow.
    """

    lambdas: np.ndarray
    theta: np.ndarray
    dimensionless: np.ndarray


def canonical_flow(theta, lambdas, field_scale=None):
    """The flow ``λ ↦ θ^λ`` over a grid of scales.

    Args:
        theta: couplings, all > 0.
        lambdas: 1-D array of scales λ > 0 (e.g. ``np.geomspace(1, 1e3, 50)``).
        field_scale: ``Z(λ)`` as in ``rg_couplings``. Defaults to None (``λ²``).

    Returns:
        A ``CanonicalFlow``.

    Example:
        >>> flow = canonical_flow([1.0, 0.5], np.geomspace(1, 100, 5), field_scale=0.2)
    """
    lambdas = _lambdas(lambdas, "lambdas").reshape(-1)
    th = rg_couplings(theta, lambdas, field_scale)
    r = np.arange(1, th.shape[1] + 1, dtype=np.float64)
    return CanonicalFlow(lambdas=lambdas, theta=th, dimensionless=th / th[:, :1] ** r)


@dataclasses.dataclass(frozen=True)
class CanonicalFixedPoint:
    """The λ → ∞ limit ``θ*`` of the canonical RG (Gong & Xia, eq. 33).

    Attributes:
        theta: ``θ*`` (R,): finite, 0, or ``inf``.
        exponents: ``y_r`` with ``θ_r^λ ~ λ^(y_r)`` as λ → ∞ (0: marginal, < 0: irrelevant,
            > 0: relevant).
        kinds: per coupling ``"marginal"``, ``"irrelevant"`` or ``"relevant"``
            (``"undetermined"``, with NaN exponents, when the limit was not established).
        converged: whether the limit was established (always True for a power law).
        method: ``"analytic"`` or ``"numerical"``.
        lambda_max: the largest λ examined (numerical method).
    """

    theta: np.ndarray
    exponents: np.ndarray
    kinds: tuple
    converged: bool
    method: str
    lambda_max: float = math.inf


def _kind(y, tol):
    if y < -tol:
        return "irrelevant"
    if y > tol:
        return "relevant"
    return "marginal"


def fixed_point(theta, field_scale=None, *, lambda_max=1e12, rtol=1e-8, slope_tol=1e-3):
    """``θ_r* = θ_r · lim_{λ→∞} Z(λ)^r λ^(−2r)`` (Gong & Xia, eq. 33).

    For a power law ``Z(λ) = λ^(2−η)`` the limit is analytic: θ (η = 0), 0 (η > 0) or ∞ (η < 0).
    For any other callable it is found numerically from ``φ(λ) = log(Z(λ)/λ²)`` on a geometric
    grid up to ``lambda_max``: a finite limit when φ changes by less than ``rtol`` over the last
    decade; 0 or ∞ when the local exponent ``dφ/dlog λ`` stays beyond ``±slope_tol`` with a
    consistent sign over the last three decades; otherwise ``converged`` is False and ``theta``
    holds ``θ^λ`` at ``lambda_max``.

    Args:
        theta: couplings, all > 0.
        field_scale: ``Z(λ)`` as in ``rg_couplings``. Defaults to None (``λ²``).
        lambda_max: largest λ for the numerical limit, > 10. Defaults to 1e12.
        rtol: tolerance of a finite limit. Defaults to 1e-8.
        slope_tol: exponent below which φ counts as flat. Defaults to 1e-3.

    Returns:
        A ``CanonicalFixedPoint``.

    Example:
        >>> fixed_point([1.0, 0.5], field_scale=0.0).theta  # partition-invariant: θ* = θ
        array([1. , 0.5])
    """
    theta = as_theta(theta)
    z = _field_scale(field_scale)
    r = np.arange(1, theta.size + 1, dtype=np.float64)
    if isinstance(z, PowerLawFieldScale):
        y = -z.eta * r
        star = np.where(y < 0, 0.0, np.where(y > 0, np.inf, theta))
        kinds = tuple(_kind(v, 0.0) for v in y)
        return CanonicalFixedPoint(star, y, kinds, True, "analytic")
    lambda_max = float(_lambdas(lambda_max, "lambda_max"))
    if lambda_max <= 10:
        raise ValueError(
            "Received an invalid value for `lambda_max`: expected a float > 10. "
            f"Received: lambda_max={lambda_max!r}"
        )
    decades = math.log10(lambda_max)
    lam = np.logspace(0.0, decades, int(math.ceil(decades)) * 8 + 1)
    phi = _log_z(z, lam) - 2.0 * np.log(lam)
    slope = np.gradient(phi, np.log(lam))
    last = lam >= lambda_max / 10.0 ** min(3.0, decades)
    last_decade = lam >= lambda_max / 10.0
    change = np.max(np.abs(phi[last_decade] - phi[-1]))
    y_end = float(slope[-1])
    if change <= rtol * max(1.0, abs(phi[-1])):
        star, y, converged = theta * np.exp(r * phi[-1]), np.zeros_like(r), True
    elif np.all(slope[last] < -slope_tol):
        star, y, converged = np.zeros_like(theta), y_end * r, True
    elif np.all(slope[last] > slope_tol):
        star, y, converged = np.full_like(theta, np.inf), y_end * r, True
    else:
        star, y, converged = theta * np.exp(r * phi[-1]), np.full_like(r, np.nan), False
    kinds = tuple(_kind(v, slope_tol) if converged else "undetermined" for v in y)
    return CanonicalFixedPoint(star, y, kinds, converged, "numerical", lambda_max)


@dataclasses.dataclass(frozen=True)
class PartitionCheck:
    """Partition-function invariance along the canonical RG.

    Attributes:
        lambdas: the scales (L,).
        log_ratio: ``log Z_λ − log Z`` from the exact log-partitions of θ^λ and θ (L,).
        expected: ``N (log λ − ½ log Z(λ))``, the analytic value of the same (L,).
        invariant: True when ``|log_ratio| <= atol`` at every λ (Z_λ = Z).
    """

    lambdas: np.ndarray
    log_ratio: np.ndarray
    expected: np.ndarray
    invariant: bool


def partition_invariance(theta, lambdas, field_scale=None, *, dim=None, A=None, atol=1e-10):
    """Checks ``Z_λ = Z`` along the flow; it holds exactly when ``Z(λ) = λ²``.

    ``Z_λ = ∫ e^(−H(Z(λ)^(1/2) x/λ)) dx = (λ² / Z(λ))^(N/2) · Z``.

    Args:
        theta: couplings, all > 0.
        lambdas: 1-D array of scales λ > 0.
        field_scale: ``Z(λ)`` as in ``rg_couplings``. Defaults to None (``λ²``).
        dim: the dimension N; may be omitted when ``A`` is given.
        A: symmetric positive-definite matrix. Defaults to the identity.
        atol: tolerance on ``|log Z_λ − log Z|``. Defaults to 1e-10.

    Returns:
        A ``PartitionCheck``.

    Example:
        >>> partition_invariance([1.0, 0.5], [1.0, 10.0], dim=3).invariant
        True
    """
    lambdas = _lambdas(lambdas, "lambdas").reshape(-1)
    base = log_partition(theta, dim=dim, A=A)
    n = dim if A is None else np.shape(A)[0]
    flowed = rg_couplings(theta, lambdas, field_scale)
    log_ratio = np.array([log_partition(t, dim=dim, A=A) - base for t in flowed])
    z = _field_scale(field_scale)
    expected = n * (np.log(lambdas) - 0.5 * _log_z(z, lambdas))
    return PartitionCheck(
        lambdas=lambdas,
        log_ratio=log_ratio,
        expected=np.asarray(expected, dtype=np.float64),
        invariant=bool(np.all(np.abs(log_ratio) <= atol)),
    )


def __getattr__(name):
    # ``FixedPoint`` was this module's name for CanonicalFixedPoint; renamed because
    # keras_rg.systems.ising has a FixedPoint of its own (the Migdal–Kadanoff one).
    if name == "FixedPoint":
        warnings.warn(
            "keras_rg.systems.canonical_rg.FixedPoint is deprecated and will be removed in the "
            "next release; use CanonicalFixedPoint.",
            DeprecationWarning,
            stacklevel=2,
        )
        return CanonicalFixedPoint
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
