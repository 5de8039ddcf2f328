"""The information-plane figure: I(T;X) against I(T;Y), one curve per layer, coloured by epoch."""

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


def plot_information_plane(trajectory, *, path=None, ax=None, cmap="viridis", title=None):
    """Draws the information plane of a training run.

    Each layer is one curve through its ``(I(T;X), I(T;Y))`` points over the epochs, its points
    coloured by epoch and its name written at the last point; a colour bar gives the epochs.
    Axes are in nats; the estimator's own resolution (noise variance, bins, k) sets what they mean.
    Seed 000 (Liaw), Definition 3.

    Args:
        trajectory: A mapping with ``"epochs"`` (E,), ``"layers"`` (L names), ``"I_TX"`` and
            ``"I_TY"`` (E, L), e.g. ``LayerInformation.trajectory``.
        path: Where to save the figure (any format matplotlib knows). Defaults to ``None``.
        ax: Axes to draw into. Defaults to ``None``: a new figure.
        cmap: Colour map for the epochs. Defaults to ``"viridis"``.
        title: Axes title. Defaults to ``None``: "Information plane".

    Returns:
        The matplotlib ``Figure``.

    Example:

    >>> import numpy as np
    >>> trajectory = {"epochs": [0, 1, 2], "layers": ["h1", "h2"],
    ...               "I_TX": np.array([[3.0, 2.0], [3.1, 2.2], [3.2, 2.1]]),
    ...               "I_TY": np.array([[0.1, 0.1], [0.4, 0.3], [0.6, 0.5]])}
    >>> fig = plot_information_plane(trajectory)
    >>> len(fig.axes[0].lines)
    2
    """
    epochs, layers, i_tx, i_ty = _checked(trajectory)
    plt = require_matplotlib()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.5))
    else:
        fig = ax.figure
    lo, hi = (float(epochs.min()), float(epochs.max())) if epochs.size else (0.0, 1.0)
    norm = plt.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    scatter = None
    for j, name in enumerate(layers):
        ax.plot(i_tx[:, j], i_ty[:, j], color="0.7", linewidth=1.0, zorder=1)
        scatter = ax.scatter(i_tx[:, j], i_ty[:, j], c=epochs, cmap=cmap, norm=norm, s=18, zorder=2)
        finite = np.isfinite(i_tx[:, j]) & np.isfinite(i_ty[:, j])
        if finite.any():
            last = np.flatnonzero(finite)[-1]
            ax.annotate(name, (i_tx[last, j], i_ty[last, j]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")  # fmt: skip
    if scatter is not None:
        fig.colorbar(scatter, ax=ax, label="epoch")
    ax.set_xlabel("I(T; X) [nats]")
    ax.set_ylabel("I(T; Y) [nats]")
    ax.set_title("Information plane" if title is None else title)
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig
