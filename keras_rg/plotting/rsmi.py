"""RSMI figures: the learned block filter and the coupling flow of coarse-graining maps."""

import numpy as np

from keras_rg.plotting._mpl import require_matplotlib
from keras_rg.systems.ising.exact import CRITICAL_COUPLING

__all__ = ["plot_rsmi"]


def plot_rsmi(kernel, flows, fixed_points=None, path=None, title=None):
    """Two panels: the learned filter ``Λ`` and the flow diagram ``c_(n-1) -> c_n``.

    Args:
        kernel: the learned ``(b, b)`` filter.
        flows: ``{label: CouplingFlow}``; each level step is drawn as ``c_(l-1)`` against
            ``c_l`` with error bars (level 0 -> 1 hollow, later steps filled), beside the
            diagonal (a fixed point lies on it).
        fixed_points: ``{label: ThermalFixedPoint}`` marked on the diagonal. Defaults to None.
        path: save the figure there (PNG) and close it. Defaults to None (return the figure).
        title: the figure title. Defaults to None.

    Returns:
        The matplotlib Figure (closed when ``path`` is given).
    """
    plt = require_matplotlib()
    fig, (ax_k, ax_f) = plt.subplots(1, 2, figsize=(9.5, 4.0),
                                     gridspec_kw={"width_ratios": [1, 1.8]})  # fmt: skip
    k = np.asarray(kernel, dtype=float)
    sign = 1.0 if k.sum() >= 0 else -1.0
    vmax = float(np.abs(k).max()) or 1.0
    im = ax_k.imshow(sign * k, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    for (i, j), v in np.ndenumerate(sign * k):
        ax_k.text(j, i, f"{v:.2f}", ha="center", va="center")
    ax_k.set_xticks([])
    ax_k.set_yticks([])
    ax_k.set_title("learned filter Λ (sign fixed)")
    fig.colorbar(im, ax=ax_k, fraction=0.046)
    lo, hi = np.inf, -np.inf
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, flow) in enumerate(flows.items()):
        c = colors[i % len(colors)]
        for lvl in range(1, flow.values.shape[1]):
            x, y = flow.values[:, lvl - 1], flow.values[:, lvl]
            ax_f.errorbar(x, y, xerr=flow.errors[:, lvl - 1], yerr=flow.errors[:, lvl], fmt="o-",
                          color=c, mfc="none" if lvl == 1 else c, ms=4, lw=0.8,
                          label=f"{label}: level {lvl - 1} → {lvl}")  # fmt: skip
            lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
        if fixed_points and label in fixed_points and fixed_points[label].found:
            fp = fixed_points[label]
            ax_f.plot(fp.fixed_point, fp.fixed_point, "*", color=c, ms=12, mec="k")
    grid = np.linspace(lo - 0.01, hi + 0.01, 2)
    ax_f.plot(grid, grid, "k:", lw=1, label="fixed points (c' = c)")
    ax_f.axvline(CRITICAL_COUPLING, color="0.6", lw=0.8, ls="--", label="exact K_c")
    ax_f.set_xlabel("effective coupling c at level l − 1")
    ax_f.set_ylabel("c at level l")
    ax_f.set_title("coupling flow under the coarse-graining (b = 2)")
    ax_f.legend(fontsize=7, loc="upper left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(fig)
    return fig
