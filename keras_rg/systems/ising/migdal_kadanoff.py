"""Migdal–Kadanoff recursion, coupling flows, and numerically located RG fixed points."""

import dataclasses

import numpy as np
from scipy import optimize

from keras_rg.arguments import check_int
from keras_rg.systems.ising.chain import decimation_recursion

__all__ = [
    "FixedPoint",
    "FlowDiagram",
    "find_fixed_points",
    "flow_diagram",
    "iterate_flow",
    "migdal_kadanoff_derivative",
    "migdal_kadanoff_fixed_point",
    "migdal_kadanoff_recursion",
]


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed point ``K* = R(K*)`` of a one-coupling RG map.

    Attributes:
        coupling: K*.
        eigenvalue: ``λ = dR/dK`` at K* (the thermal eigenvalue).
        stable: ``|λ| < 1`` (attracting).
        nu: correlation-length exponent ``ln b / ln λ`` for an unstable fixed point, else None.
    """

    coupling: float
    eigenvalue: float
    stable: bool
    nu: float | None = None


@dataclasses.dataclass(frozen=True)
class FlowDiagram:
    """Trajectories ``K, R(K), R(R(K)), ...`` of a grid of starting couplings, and fixed points.

    Attributes:
        couplings: starting couplings, shape ``(n,)``.
        trajectories: shape ``(n_steps + 1, n)``; row 0 is ``couplings``.
        fixed_points: finite fixed points found on the grid (K* = ∞ is never listed).
    """

    couplings: np.ndarray
    trajectories: np.ndarray
    fixed_points: tuple


def migdal_kadanoff_recursion(coupling, b=2, dim=2):
    """Migdal–Kadanoff bond-moving recursion on the hypercubic lattice.

    Move the bonds of ``b^(d−1)`` parallel chains onto one (``K → b^(d−1) K``), then decimate
    that chain by ``b``: ``tanh K' = tanh(b^(d−1) K)^b``. For ``b = 2, d = 2``:
    ``K' = ½ ln cosh 4K``, with an unstable fixed point ``K* = 0.3046889317`` (exact 2-D
    ``K_c = 0.4406868``: the approximation is qualitative) and thermal eigenvalue
    ``2 tanh 4K* = 1.67857``.

    Args:
        coupling: K, a float or array of finite floats.
        b: length rescaling factor (>= 2). Defaults to 2.
        dim: dimension d (>= 1; d = 1 is plain decimation). Defaults to 2.

    Returns:
        K', shaped like ``coupling``.

    Example:
        >>> round(float(migdal_kadanoff_recursion(0.5)), 6)
        0.662501

    Reference: Migdal, JETP 42, 743 (1975); Kadanoff, Ann. Phys. 100, 359 (1976).
    """
    b = check_int("b", b, 2)
    dim = check_int("dim", dim, 1)
    return decimation_recursion(np.asarray(coupling, dtype=np.float64) * b ** (dim - 1), b)


def migdal_kadanoff_derivative(coupling, b=2, dim=2):
    """``dK'/dK`` of ``migdal_kadanoff_recursion``: ``b c t^(b−1)(1 − t²) / (1 − t^(2b))``.

    Here ``c = b^(d−1)`` and ``t = tanh(cK)``; for ``b = 2, d = 2`` this is ``2 tanh 4K``.

    Example:
        >>> round(float(migdal_kadanoff_derivative(0.25)), 6)
        1.523188
    """
    b = check_int("b", b, 2)
    dim = check_int("dim", dim, 1)
    c = float(b ** (dim - 1))
    t = np.tanh(c * np.asarray(coupling, dtype=np.float64))
    # 1 − t^(2b) = (1 − t²) Σ_{j<b} t^(2j): cancel (1 − t²) to stay finite for large K.
    geometric = np.sum(t[..., None] ** (2 * np.arange(b)), axis=-1)
    out = b * c * t ** (b - 1) / geometric
    return out[()] if out.ndim == 0 else out


def _derivative(recursion, k, derivative):
    if derivative is not None:
        return float(derivative(k))
    h = 1e-6 * max(1.0, abs(k))
    return float((recursion(k + h) - recursion(k - h)) / (2.0 * h))


def find_fixed_points(recursion, grid, derivative=None, b=2):
    """Finds the fixed points of a one-coupling RG map ``recursion`` on a grid of couplings.

    Sign changes of ``R(K) − K`` between grid points are refined with Brent's method to machine
    precision; grid points where ``R(K) = K`` exactly are fixed points too. Each is classified by
    ``λ = R'(K*)`` (from ``derivative`` or a central difference).

    Args:
        recursion: a vectorised function K → K'.
        grid: increasing finite couplings to scan.
        derivative: optional function K → dK'/dK. Defaults to None.
        b: the map's length rescaling, for ``ν = ln b / ln λ``. Defaults to 2.

    Returns:
        A tuple of ``FixedPoint`` in increasing K.

    Example:
        >>> fps = find_fixed_points(migdal_kadanoff_recursion, np.linspace(0, 1, 101))
        >>> [round(fp.coupling, 10) for fp in fps]
        [0.0, 0.3046889317]
    """
    k = np.asarray(grid, dtype=np.float64).ravel()
    if k.size < 2 or not np.all(np.isfinite(k)) or np.any(np.diff(k) <= 0):
        raise ValueError(
            "Received an invalid value for `grid`: expected at least two increasing finite "
            f"couplings. Received: grid={grid!r}"
        )
    g = np.asarray(recursion(k), dtype=np.float64) - k
    roots = [float(x) for x in k[g == 0.0]]
    for lo, hi, glo, ghi in zip(k[:-1], k[1:], g[:-1], g[1:], strict=True):
        if glo * ghi < 0.0:
            roots.append(
                optimize.brentq(
                    lambda x: float(recursion(x)) - x,
                    lo,
                    hi,
                    xtol=1e-300,
                    rtol=8.9e-16,
                    maxiter=500,
                )
            )
    out = []
    for root in sorted(roots):
        lam = _derivative(recursion, root, derivative)
        stable = abs(lam) < 1.0
        nu = float(np.log(b) / np.log(lam)) if lam > 1.0 else None
        out.append(FixedPoint(float(root), lam, stable, nu))
    return tuple(out)


def migdal_kadanoff_fixed_point(b=2, dim=2):
    """The non-trivial (critical) fixed point of ``migdal_kadanoff_recursion``.

    Returns:
        A ``FixedPoint`` with K*, ``λ = dK'/dK`` and ``ν = ln b / ln λ``.

    Example:
        >>> fp = migdal_kadanoff_fixed_point()
        >>> round(fp.coupling, 10), round(fp.eigenvalue, 5)
        (0.3046889317, 1.67857)
    """
    b = check_int("b", b, 2)
    dim = check_int("dim", dim, 2)
    grid = np.linspace(1e-3, 3.0, 3001)
    fps = find_fixed_points(
        lambda k: migdal_kadanoff_recursion(k, b, dim),
        grid,
        lambda k: migdal_kadanoff_derivative(k, b, dim),
        b,
    )
    return [fp for fp in fps if not fp.stable][0]


def iterate_flow(recursion, couplings, n_steps):
    """``K, R(K), ..., R^n(K)`` for each starting coupling; shape ``(n_steps + 1, n)``.

    Example:
        >>> iterate_flow(migdal_kadanoff_recursion, [0.2, 0.4], 3).shape
        (4, 2)
    """
    n_steps = check_int("n_steps", n_steps, 0)
    k = np.atleast_1d(np.asarray(couplings, dtype=np.float64))
    rows = [k]
    for _ in range(n_steps):
        rows.append(np.asarray(recursion(rows[-1]), dtype=np.float64))
    return np.stack(rows)


def flow_diagram(couplings=None, n_steps=8, b=2, dim=2):
    """The Migdal–Kadanoff flow diagram: trajectories from a grid of K and the fixed points.

    Args:
        couplings: starting couplings. Defaults to 41 points on [0, 1].
        n_steps: RG steps per trajectory. Defaults to 8.
        b: length rescaling. Defaults to 2.
        dim: dimension. Defaults to 2.

    Returns:
        A ``FlowDiagram``.

    Example:
        >>> d = flow_diagram(np.linspace(0, 1, 11), 4)
        >>> d.trajectories.shape, len(d.fixed_points)
        ((5, 11), 2)
    """
    grid = np.linspace(0.0, 1.0, 41) if couplings is None else np.asarray(couplings, float)

    def recursion(k):
        return migdal_kadanoff_recursion(k, b, dim)

    return FlowDiagram(
        couplings=grid,
        trajectories=iterate_flow(recursion, grid, n_steps),
        fixed_points=find_fixed_points(
            recursion, grid, lambda k: migdal_kadanoff_derivative(k, b, dim), b
        ),
    )
