"""Closed forms for the Ising model: Onsager's 2-D square lattice and the 1-D chain."""

import numpy as np
from scipy import special

from keras_rg.arguments import check_int
from keras_rg.systems.ising._validation import check_coupling

__all__ = [
    "CRITICAL_COUPLING",
    "chain_correlation",
    "chain_energy",
    "onsager_energy",
    "onsager_magnetization",
    "onsager_specific_heat",
]

#: K_c = ½ ln(1 + √2) of the 2-D square lattice (Kramers–Wannier self-dual point).
CRITICAL_COUPLING = 0.5 * np.log1p(np.sqrt(2.0))


def _couplings(name, coupling):
    arr = np.asarray(coupling, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"Received an invalid value for `{name}`: expected finite real couplings. "
            f"Received: {name}={coupling!r}"
        )
    return arr


def _modulus_sq(k):
    # Elliptic modulus κ = 2 sinh 2K / cosh² 2K; scipy takes the parameter m = κ².
    return (2.0 * np.sinh(2.0 * k) / np.cosh(2.0 * k) ** 2) ** 2


def onsager_energy(coupling):
    """Energy per spin of the infinite 2-D square-lattice Ising model (Onsager).

    ``u(K) = −coth 2K [1 + (2/π)(2 tanh² 2K − 1) K₁(κ)]`` with ``κ = 2 sinh 2K / cosh² 2K``,
    in units of the bond strength: ``u = −(1/N) Σ_<ij> ⟨s_i s_j⟩``, the same quantity
    ``sample_lattice`` records. For ``K < 0`` the sublattice gauge gives ``u(K) = −u(|K|)``.

    Args:
        coupling: K = βJ, a float or array of finite floats.

    Returns:
        The energy per spin, a float or array shaped like ``coupling``.

    Example:
        >>> round(float(onsager_energy(0.3)), 4)
        -0.7045
    """
    k = _couplings("coupling", coupling)
    a = np.abs(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        t2 = np.tanh(2.0 * a) ** 2
        # At K_c, (2 tanh² 2K − 1) = 0 while K₁ diverges logarithmically: the product is 0.
        bracket = 1.0 + np.where(
            np.isclose(a, CRITICAL_COUPLING, rtol=0, atol=1e-15),
            0.0,
            (2.0 / np.pi) * (2.0 * t2 - 1.0) * special.ellipk(_modulus_sq(a)),
        )
        u = -bracket / np.tanh(2.0 * a)
    u = np.where(a == 0.0, 0.0, np.sign(k) * u)
    return u[()] if u.ndim == 0 else u


def onsager_specific_heat(coupling):
    """Specific heat per spin ``c = K² ∂² ln Z/N / ∂K² = −K² du/dK`` of the infinite 2-D lattice.

    Differentiates ``onsager_energy`` in closed form (``dK₁/dm = [E₁ − (1 − m)K₁] / (2m(1 − m))``
    for the complete elliptic integrals at parameter ``m = κ²``). Diverges logarithmically at
    ``K_c``.

    Args:
        coupling: K = βJ, a float or array of finite floats.

    Returns:
        The specific heat per spin (k_B = 1), a float or array; ``inf`` at ``K_c``.

    Example:
        >>> round(float(onsager_specific_heat(0.3)), 4)
        0.2863
    """
    k = np.abs(_couplings("coupling", coupling))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s, c = np.sinh(2.0 * k), np.cosh(2.0 * k)
        t = s / c
        q = 2.0 * t**2 - 1.0
        m = _modulus_sq(k)
        k1, e1 = special.ellipk(m), special.ellipe(m)
        dk1_dm = (e1 - (1.0 - m) * k1) / (2.0 * m * (1.0 - m))
        dm_dk = 16.0 * s * (c**2 - 2.0 * s**2) / c**5
        dq_dk = 8.0 * t / c**2
        bracket = 1.0 + (2.0 / np.pi) * q * k1
        du_dk = 2.0 / s**2 * bracket - (c / s) * (2.0 / np.pi) * (dq_dk * k1 + q * dk1_dm * dm_dk)
        heat = -(k**2) * du_dk
    heat = np.where(
        k == 0.0, 0.0, np.where(np.isclose(k, CRITICAL_COUPLING, rtol=0, atol=1e-15), np.inf, heat)
    )
    return heat[()] if heat.ndim == 0 else heat


def onsager_magnetization(coupling):
    """Spontaneous magnetisation per spin, ``(1 − sinh(2K)^−4)^(1/8)`` for ``K > K_c``, else 0.

    This is the infinite-lattice value; on a finite periodic lattice sampled from a cold start,
    ``⟨|m|⟩`` approaches it with corrections of order ``exp(−L/ξ)`` away from ``K_c``.

    Args:
        coupling: K = βJ, a float or array of finite floats.

    Returns:
        The magnetisation per spin, a float or array shaped like ``coupling``.

    Example:
        >>> round(float(onsager_magnetization(0.6)), 5)
        0.97361
    """
    k = _couplings("coupling", coupling)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = 1.0 - np.sinh(2.0 * k) ** -4.0
        m = np.where(k > CRITICAL_COUPLING, np.clip(inner, 0.0, None) ** 0.125, 0.0)
    return m[()] if m.ndim == 0 else m


def chain_correlation(coupling, distance=1, length=None, periodic=False):
    """Exact spin–spin correlation ``⟨s_i s_(i+r)⟩`` of the 1-D Ising chain at zero field.

    Open chain (any length) or infinite chain: ``tanh(K)^r``. Periodic ring of ``N`` spins:
    ``(t^r + t^(N−r)) / (1 + t^N)`` with ``t = tanh K``.

    Args:
        coupling: K = βJ, a finite float.
        distance: r, a non-negative integer. Defaults to 1.
        length: N, the number of spins; required when ``periodic``. Defaults to None.
        periodic: whether the chain is a ring. Defaults to False.

    Returns:
        The correlation, a float.

    Example:
        >>> round(chain_correlation(0.8), 6)
        0.664037
    """
    k = check_coupling("coupling", coupling)
    r = check_int("distance", distance, 0)
    t = np.tanh(k)
    if not periodic:
        return float(t**r)
    n = check_int("length", length, 1)
    return float((t**r + t ** (n - r)) / (1.0 + t**n))


def chain_energy(coupling, length, periodic=False):
    """Exact energy per spin ``u = −(1/N) Σ_bonds ⟨s_i s_(i+1)⟩`` of a chain of ``N`` spins.

    Args:
        coupling: K = βJ, a finite float.
        length: N, the number of spins (>= 2).
        periodic: whether the chain is a ring (N bonds) or open (N − 1 bonds). Defaults to False.

    Returns:
        The energy per spin, a float.

    Example:
        >>> round(chain_energy(0.2, 100), 6)
        -0.195402
    """
    n = check_int("length", length, 2)
    bonds = n if periodic else n - 1
    return -bonds * chain_correlation(coupling, 1, n, periodic) / n
