"""The information-plane figure: I(T;X) against I(T;Y), one curve per layer, the ceiling drawn."""

import numpy as np

from keras_rg.plotting._mpl import require_matplotlib

__all__ = ["plot_information_plane"]


def _checked(trajectory):
    try:
        epochs = np.asarray(trajectory["epochs"], dtype=float)
        layers = list(trajectory["layers"])
        i_tx = np.asarray(trajectory["I_TX"], dtype=float)
        i_ty = trajectory.get("I_TY")
    except (KeyError, TypeError) as err:
        raise ValueError(
            "Received an invalid value for `trajectory`: expected a mapping with 'epochs', "
            "'layers', 'I_TX' and 'I_TY' (e.g. LayerInformation.trajectory). "
            f"Received: {type(trajectory).__name__}"
        ) from err
    if i_ty is None:
        raise ValueError(
            "Received an invalid value for `trajectory`: expected I(T;Y) values; pass labels `y` "
            "to LayerInformation. Received: trajectory['I_TY']=None"
        )
    i_ty = np.asarray(i_ty, dtype=float)
    shape = (epochs.shape[0], len(layers))
    if i_tx.shape != shape or i_ty.shape != shape:
        raise ValueError(
            "Received an invalid value for `trajectory`: expected 'I_TX' and 'I_TY' of shape "
            f"(epochs, layers) = {shape}. Received: shapes {i_tx.shape} and {i_ty.shape}"
        )
    return epochs, layers, i_tx, i_ty


def _label_positions(points, min_gap):
    """Vertical positions for labels at ``points`` (y values) at least ``min_gap`` apart,
    each as close to its point as the others allow (a sweep up, then the block centred)."""
    order = np.argsort(points)
    placed = np.array(points, dtype=float)[order]
    for i in range(1, placed.size):
        placed[i] = max(placed[i], placed[i - 1] + min_gap)
    shift = np.mean(placed - np.asarray(points, dtype=float)[order])
    placed -= max(shift, 0.0) / 2.0
    for i in range(1, placed.size):
        placed[i] = max(placed[i], placed[i - 1] + min_gap)
    out = np.empty_like(placed)
    out[order] = placed
    return out


def plot_information_plane(trajectory, *, path=None, ax=None, cmap="tab10", title=None,
                           ceiling=None):  # fmt: skip
    """Draws the information plane of a training run.

    Each layer is one curve through its ``(I(T;X), I(T;Y))`` points over the epochs, in its own
    colour and marker, its points shaded from light (first epoch) to full colour (last). Layer
    names sit in a column right of the curves, each joined to its last point by a thin line, so
    labels never overlap; the ceiling ``log n`` (no estimate from ``n`` probe points exceeds it)
    is drawn as a dashed vertical line. Axes are in nats; the estimator's own resolution (noise
    variance, bins, k) sets what they mean. Liaw's Definition 3 (docs/information.md).

    Args:
        trajectory: A mapping with ``"epochs"`` (E,), ``"layers"`` (L names), ``"I_TX"`` and
            ``"I_TY"`` (E, L), e.g. ``LayerInformation.trajectory``; its ``"ceiling"`` is drawn.
        path: Where to save the figure (any format matplotlib knows). Defaults to ``None``.
        ax: Axes to draw into. Defaults to ``None``: a new figure.
        cmap: Colour map giving each layer its colour. Defaults to ``"tab10"``.
        title: Axes title. Defaults to ``None``: "Information plane".
        ceiling: The ceiling in nats to draw; defaults to ``trajectory["ceiling"]`` when present.

    Returns:
        The matplotlib ``Figure``.

    Example:

    >>> import numpy as np
    >>> trajectory = {"epochs": [0, 1, 2], "layers": ["h1", "h2"], "ceiling": 4.0,
    ...               "I_TX": np.array([[3.0, 2.0], [3.1, 2.2], [3.2, 2.1]]),
    ...               "I_TY": np.array([[0.1, 0.1], [0.4, 0.3], [0.6, 0.5]])}
    >>> fig = plot_information_plane(trajectory)
    >>> len(fig.axes[0].lines)  # two layer curves, two label leaders, the ceiling
    5
    """
    epochs, layers, i_tx, i_ty = _checked(trajectory)
    if ceiling is None and isinstance(trajectory, dict):
        ceiling = trajectory.get("ceiling")
    plt = require_matplotlib()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 4.5))
    else:
        fig = ax.figure
    colour_map = plt.get_cmap(cmap)
    markers = "osD^vP*Xh<>"
    count = max(len(layers), 1)
    if colour_map.N <= 20:  # a qualitative map: one distinct colour per layer
        colours = [colour_map(j % colour_map.N) for j in range(count)]
    else:
        colours = [colour_map(0.9 * j / max(count - 1, 1)) for j in range(count)]
    span = max(float(epochs.max() - epochs.min()), 1.0) if epochs.size else 1.0
    ends = []
    for j, name in enumerate(layers):
        colour = colours[j]
        ax.plot(i_tx[:, j], i_ty[:, j], color=colour, linewidth=1.2, alpha=0.8, zorder=1,
                marker=markers[j % len(markers)], markersize=0, label=name)  # fmt: skip
        shade = 0.25 + 0.75 * (epochs - (epochs.min() if epochs.size else 0)) / span
        for k in range(epochs.size):
            ax.scatter(i_tx[k, j], i_ty[k, j], color=colour, alpha=float(shade[k]), s=22,
                       marker=markers[j % len(markers)], zorder=2, edgecolors="none")  # fmt: skip
        finite = np.flatnonzero(np.isfinite(i_tx[:, j]) & np.isfinite(i_ty[:, j]))
        if finite.size:
            ends.append((j, i_tx[finite[-1], j], i_ty[finite[-1], j]))
    finite_x = i_tx[np.isfinite(i_tx)]
    finite_y = i_ty[np.isfinite(i_ty)]
    x_hi = max([float(finite_x.max())] if finite_x.size else [1.0])
    if ceiling is not None and np.isfinite(ceiling):
        ax.axvline(float(ceiling), color="0.4", linestyle="--", linewidth=1.0, zorder=0)
        ax.annotate(f"ceiling log n = {float(ceiling):.2f}", (float(ceiling), 1.0),
                    xycoords=("data", "axes fraction"), xytext=(-4, -12),
                    textcoords="offset points", ha="right", fontsize=8, color="0.3")  # fmt: skip
        x_hi = max(x_hi, float(ceiling))
    x_lo = float(finite_x.min()) if finite_x.size else 0.0
    y_lo, y_hi = ((float(finite_y.min()), float(finite_y.max())) if finite_y.size
                  else (0.0, 1.0))  # fmt: skip
    y_pad = max(0.05 * (y_hi - y_lo), 0.02)
    ax.set_ylim(y_lo - y_pad, y_hi + y_pad)
    label_x = x_hi + 0.08 * max(x_hi - x_lo, 0.5)
    ax.set_xlim(x_lo - 0.05 * max(x_hi - x_lo, 0.5), label_x + 0.35 * max(x_hi - x_lo, 0.5))
    if ends:
        gap = 0.07 * (y_hi - y_lo + 2 * y_pad)
        placed = _label_positions([e[2] for e in ends], gap)
        for (j, x_end, y_end), y_text in zip(ends, placed, strict=True):
            ax.plot([x_end, label_x], [y_end, y_text], color=colours[j], linewidth=0.6,
                    alpha=0.6, zorder=1)  # fmt: skip
            ax.text(label_x, y_text, " " + layers[j], color=colours[j], fontsize=8,
                    va="center", ha="left")  # fmt: skip
    ax.set_xlabel("I(T; X) [nats]")
    ax.set_ylabel("I(T; Y) [nats]")
    suffix = (
        "" if not epochs.size else f" (epochs {int(epochs.min())}→{int(epochs.max())}, light→dark)"
    )
    ax.set_title(("Information plane" if title is None else title) + suffix, fontsize=10)
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig
