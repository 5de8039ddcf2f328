"""Ising observables per configuration, autocorrelation times, and error bars from correlated runs."""

import math
from typing import NamedTuple

import numpy as np

from keras_rg.systems.ising._validation import check_choice, check_spins

__all__ = [
    "Estimate",
    "autocorrelation",
    "energy_per_spin",
    "integrated_autocorrelation_time",
    "magnetization_per_spin",
    "mean_and_error",
    "nearest_neighbour_correlation",
    "summarize",
]

_GEOMETRIES = ("square", "chain")


class Estimate(NamedTuple):
    """A Monte Carlo estimate: ``value`` and its one-standard-error ``error``."""

    value: float
    error: float


def _bond_sums(spins, geometry, periodic):
    s = check_spins("spins", spins, 2 if geometry == "chain" else 3, geometry).astype(np.int32)
    if geometry == "square":
        # Periodic square lattice on the last two axes: 2 N bonds.
        total = (s * np.roll(s, -1, -1) + s * np.roll(s, -1, -2)).sum(axis=(-2, -1))
        return total, s.shape[-1] * s.shape[-2], 2 * s.shape[-1] * s.shape[-2]
    n = s.shape[-1]
    total = (s[..., 1:] * s[..., :-1]).sum(axis=-1)
    if periodic:
        total = total + s[..., 0] * s[..., -1]
    return total, n, n if periodic else n - 1


def energy_per_spin(spins, geometry="square", periodic=True):
    """Energy per spin ``u = −(1/N) Σ_<ij> s_i s_j`` of each configuration (bond strength 1).

    Args:
        spins: ±1 array. ``"square"``: configurations on the last two axes, periodic in both.
            ``"chain"``: on the last axis.
        geometry: ``"square"`` or ``"chain"``. Defaults to ``"square"``.
        periodic: for chains, whether the last spin is bonded to the first. Defaults to True.

    Returns:
        A float array with the leading (configuration) axes of ``spins``.

    Example:
        >>> float(energy_per_spin(np.ones((1, 4, 4)))[0])
        -2.0
    """
    check_choice("geometry", geometry, _GEOMETRIES)
    total, n_sites, _ = _bond_sums(spins, geometry, periodic)
    return -total / n_sites


def nearest_neighbour_correlation(spins, geometry="square", periodic=True):
    """Mean ``s_i s_j`` over the nearest-neighbour bonds of each configuration.

    Equals ``tanh K`` in expectation for an open 1-D chain. Arguments as ``energy_per_spin``.

    Example:
        >>> float(nearest_neighbour_correlation(np.array([[1, 1, -1]]), "chain", False)[0])
        0.0
    """
    check_choice("geometry", geometry, _GEOMETRIES)
    total, _, n_bonds = _bond_sums(spins, geometry, periodic)
    return total / n_bonds


def magnetization_per_spin(spins, geometry="square"):
    """Signed magnetisation per spin ``m = (1/N) Σ_i s_i`` of each configuration.

    Example:
        >>> float(magnetization_per_spin(np.array([[1, 1, -1, 1]]), "chain")[0])
        0.5
    """
    check_choice("geometry", geometry, _GEOMETRIES)
    s = check_spins("spins", spins, 2 if geometry == "chain" else 3, geometry)
    axes = (-1,) if geometry == "chain" else (-2, -1)
    return s.mean(axis=axes, dtype=np.float64)


def _as_chains(series):
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(
            "Received an invalid value for `series`: expected an array of shape (n_samples,) or "
            f"(n_samples, n_chains). Received: series of shape {np.shape(series)}"
        )
    return x


def autocorrelation(series):
    """Normalised autocorrelation ``ρ(t)`` of a time series, averaged over independent chains.

    Each chain's mean is removed, autocovariances come from an FFT and are averaged over chains
    before normalising by the lag-0 value.

    Args:
        series: shape ``(n_samples,)`` or ``(n_samples, n_chains)``, time on axis 0.

    Returns:
        ``ρ(t)`` for ``t = 0 … n_samples − 1`` (``ρ(0) = 1``); ``ρ(t > 0) = 0`` for a constant
        series.
    """
    x = _as_chains(series)
    n = x.shape[0]
    x = x - x.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(x, n=size, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=0)[:n].mean(axis=1)
    if acov[0] <= 0.0:  # a constant series: no measurable correlation
        return np.r_[1.0, np.zeros(n - 1)]
    return acov / acov[0]


def integrated_autocorrelation_time(series, window=5.0):
    """Integrated autocorrelation time ``τ = 1 + 2 Σ_(t=1)^W ρ(t)`` with Sokal's automatic window.

    ``W`` is the smallest lag with ``W >= window · τ(W)``. With this convention the variance of a
    mean over ``n`` samples is ``σ² τ / n``: ``τ`` is the number of samples per independent one
    (1 for independent samples). A result above ``n_samples / window`` means the run was too
    short for a reliable estimate.

    Args:
        series: shape ``(n_samples,)`` or ``(n_samples, n_chains)``.
        window: Sokal's ``c``. Defaults to 5.0.

    Returns:
        τ as a float (1.0 for one sample per chain or a constant series).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(5000, 4))
        >>> abs(integrated_autocorrelation_time(x) - 1.0) < 0.1
        True
    """
    rho = autocorrelation(series)
    if rho.size < 2:
        return 1.0
    tau = 1.0 + 2.0 * np.cumsum(rho[1:])
    lags = np.arange(1, rho.size)
    ok = lags >= window * tau
    w = int(np.argmax(ok)) if ok.any() else rho.size - 2
    return float(max(tau[w], 1e-12))


def mean_and_error(series, tau=None):
    """Mean of a correlated series over all samples and chains, error ``sqrt(σ² τ / N)``.

    Args:
        series: shape ``(n_samples,)`` or ``(n_samples, n_chains)``.
        tau: the integrated autocorrelation time; estimated when None. Defaults to None.

    Returns:
        An ``Estimate(value, error)``.
    """
    x = _as_chains(series)
    tau = integrated_autocorrelation_time(x) if tau is None else float(tau)
    var = x.var(ddof=1) if x.size > 1 else math.nan
    return Estimate(float(x.mean()), float(math.sqrt(var * tau / x.size)))


def _jackknife(moments, fn, block_length):
    # moments: (n_samples, n_chains, k). Groups are contiguous blocks of each chain.
    n, c, k = moments.shape
    n_blocks = max(1, n // block_length)
    used = moments[: n_blocks * block_length]
    groups = used.reshape(n_blocks, block_length, c, k).mean(axis=1).reshape(-1, k)
    g = groups.shape[0]
    full = groups.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):  # e.g. Binder U at m ≡ 0: nan
        value = float(fn(full))
        if g < 2:
            return Estimate(value, math.nan)
        leave_out = (full * g - groups) / (g - 1)
        values = np.array([fn(row) for row in leave_out])
    return Estimate(value, float(math.sqrt((g - 1) / g * np.sum((values - values.mean()) ** 2))))


def summarize(energy, magnetization, n_sites, coupling, n_bonds=None, block_length=None):
    """Ising observables with error bars from per-configuration energy and magnetisation series.

    Means (energy ``u``, ``|m|``, ``m²``, nearest-neighbour correlation) carry autocorrelation-aware
    errors (``mean_and_error``); the nonlinear ones carry block-jackknife errors over contiguous
    blocks of ``block_length`` samples of every chain (default ``ceil(10 τ_max)``):

    - susceptibility ``χ = |K| N (⟨m²⟩ − ⟨|m|⟩²)`` (``β = |K|`` for unit bond strength),
    - specific heat ``C = K² N (⟨u²⟩ − ⟨u⟩²)``,
    - Binder cumulant ``U₄ = 1 − ⟨m⁴⟩ / (3 ⟨m²⟩²)``,
    - ``nn_correlation = −u N / n_bonds``.

    Args:
        energy: energy per spin, shape ``(n_samples,)`` or ``(n_samples, n_chains)``.
        magnetization: signed magnetisation per spin, same shape.
        n_sites: N, spins per configuration.
        coupling: K of the run.
        n_bonds: bonds per configuration. Defaults to ``2 N`` (periodic square lattice).
        block_length: jackknife block length in samples. Defaults to None (automatic).

    Returns:
        A dict of ``Estimate`` keyed by ``"energy"``, ``"abs_magnetization"``,
        ``"magnetization_sq"``, ``"nn_correlation"``, ``"susceptibility"``, ``"specific_heat"``,
        ``"binder"``, plus ``"tau_energy"`` and ``"tau_abs_magnetization"`` (error 0).
    """
    u, m = _as_chains(energy), _as_chains(magnetization)
    if u.shape != m.shape:
        raise ValueError(
            "Received an invalid value for `magnetization`: expected the shape of `energy` "
            f"{u.shape}. Received: magnetization of shape {m.shape}"
        )
    n_bonds = 2 * n_sites if n_bonds is None else n_bonds
    am = np.abs(m)
    tau_u, tau_m = integrated_autocorrelation_time(u), integrated_autocorrelation_time(am)
    tau_m2 = integrated_autocorrelation_time(m**2)
    if block_length is None:
        block_length = max(1, math.ceil(10.0 * max(tau_u, tau_m, tau_m2)))
    moments = np.stack([u, u**2, am, m**2, m**4], axis=-1)
    kk = abs(coupling)
    energy_est = mean_and_error(u, tau_u)
    return {
        "energy": energy_est,
        "abs_magnetization": mean_and_error(am, tau_m),
        "magnetization_sq": mean_and_error(m**2, tau_m2),
        "nn_correlation": Estimate(
            -energy_est.value * n_sites / n_bonds, energy_est.error * n_sites / n_bonds
        ),
        "susceptibility": _jackknife(
            moments, lambda z: kk * n_sites * (z[3] - z[2] ** 2), block_length
        ),
        "specific_heat": _jackknife(
            moments, lambda z: coupling**2 * n_sites * (z[1] - z[0] ** 2), block_length
        ),
        "binder": _jackknife(moments, lambda z: 1.0 - z[4] / (3.0 * z[3] ** 2), block_length),
        "tau_energy": Estimate(tau_u, 0.0),
        "tau_abs_magnetization": Estimate(tau_m, 0.0),
    }
