"""The K → K' coupling-flow figure: an RG recursion, its fixed points, and measured flows."""

import numpy as np

from keras_rg.plotting._mpl import require_matplotlib
from keras_rg.systems.ising.chain import decimation_recursion
from keras_rg.systems.ising.exact import CRITICAL_COUPLING
from keras_rg.systems.ising.migdal_kadanoff import (
    find_fixed_points,
    iterate_flow,
    migdal_kadanoff_derivative,
    migdal_kadanoff_recursion,
)

__all__ = ["plot_coupling_flow"]

_RECURSIONS = {
    "migdal_kadanoff": (migdal_kadanoff_recursion, migdal_kadanoff_derivative),
    "decimation": (decimation_recursion, None),
}


def plot_coupling_flow(
    recursion="migdal_kadanoff",
    k_max=1.0,
    measured=None,
    layers=None,
    cobweb_from=None,
    n_cobweb=6,
    ax=None,
):
    """Draws ``K' = R(K)`` against the diagonal, the fixed points, and measured couplings.

    Args:
        recursion: ``"migdal_kadanoff"`` (b = 2, d = 2), ``"decimation"`` (1-D, b = 2) or a
            vectorised callable K → K'. Defaults to ``"migdal_kadanoff"``.
        k_max: right end of the K axis. Defaults to 1.0.
        measured: optional ``(K, K', K'_error)`` arrays (e.g. from ``block_spin_flow``) drawn as
            points with error bars. Defaults to None.
        layers: optional ``{label: (K_in, K_layer)}`` pairs, e.g. the coupling of the data and of
            a layer's outputs (``layer_couplings``), drawn as labelled markers. Defaults to None.
        cobweb_from: optional starting couplings for cobweb iterations. Defaults to None.
        n_cobweb: steps of each cobweb. Defaults to 6.
        ax: a matplotlib ``Axes``; a new figure is made when None. Defaults to None.

    Returns:
        The matplotlib ``Axes``.

    Example:
        >>> ax = plot_coupling_flow(measured=([0.3, 0.44], [0.2, 0.45], [0.01, 0.01]))
        >>> ax.get_xlabel()
        'K'
    """
    plt = require_matplotlib()
    if isinstance(recursion, str):
        if recursion not in _RECURSIONS:
            raise ValueError(
                f"Received an invalid value for `recursion`: expected one of "
                f"{sorted(_RECURSIONS)} or a callable. Received: recursion={recursion!r}"
            )
        label = recursion.replace("_", "–").title()
        fn, derivative = _RECURSIONS[recursion]
    elif callable(recursion):
        label, fn, derivative = getattr(recursion, "__name__", "R"), recursion, None
    else:
        raise ValueError(
            "Received an invalid value for `recursion`: expected a name or a callable. "
            f"Received: recursion={recursion!r}"
        )
    if not np.isfinite(k_max) or k_max <= 0:
        raise ValueError(
            f"Received an invalid value for `k_max`: expected a finite float > 0. "
            f"Received: k_max={k_max!r}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    k = np.linspace(0.0, k_max, 400)
    ax.plot(k, fn(k), label=f"{label}: K' = R(K)")
    ax.plot(k, k, color="grey", linestyle="--", linewidth=1, label="K' = K")
    for fp in find_fixed_points(fn, k, derivative):
        kind = "stable" if fp.stable else "unstable"
        ax.plot(
            [fp.coupling],
            [fp.coupling],
            "o",
            color="black" if fp.stable else "white",
            markeredgecolor="black",
            zorder=5,
            label=f"K* = {fp.coupling:.4f} ({kind}, λ = {fp.eigenvalue:.3f})",
        )
    ax.axvline(CRITICAL_COUPLING, color="tab:red", linewidth=1, alpha=0.6, label="exact 2-D K_c")
    for start in np.atleast_1d(cobweb_from) if cobweb_from is not None else ():
        path = iterate_flow(fn, [start], n_cobweb)[:, 0]
        path = path[np.isfinite(path) & (path <= 2 * k_max)]
        # (K0, K0) → (K0, K1) → (K1, K1) → (K1, K2) → ...
        twice = np.repeat(path, 2)
        ax.plot(twice[:-1], twice[1:], color="tab:green", linewidth=0.8, alpha=0.8)
    if measured is not None:
        km, kp, err = (np.asarray(a, dtype=float) for a in measured)
        ax.errorbar(km, kp, yerr=err, fmt="s", color="tab:orange", label="measured (block spin)")
    for name, (k_in, k_out) in (layers or {}).items():
        ax.plot([k_in], [k_out], "^", label=f"layer {name}")
    ax.set_xlim(0.0, k_max)
    ax.set_ylim(0.0, k_max)
    ax.set_xlabel("K")
    ax.set_ylabel("K'")
    # Outside the axes: measured points and layers can sit anywhere in the square.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax
