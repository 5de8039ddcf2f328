"""Figures of the scale comparisons: clean and gain-envelope accuracy per model."""

import numpy as np

from keras_rg.plotting.validation import save

__all__ = ["plot_envelope"]


def plot_envelope(path, mean, se):
    """Grouped bars: accuracy in distribution (1x) and under gain envelopes, per model, with
    standard errors (``mean[model][column]``, ``se`` alike)."""
    from keras_rg.plotting._mpl import require_matplotlib

    plt = require_matplotlib()
    names = list(mean)
    pos = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    for i, (col, label) in enumerate((("1x", "in distribution"), ("envelope", "gain envelopes"))):
        ax.bar(pos + (i - 0.5) * 0.38, [mean[n][col] for n in names], 0.38,
               yerr=[se[n][col] for n in names], capsize=3, label=label)  # fmt: skip
    ax.set_xticks(pos, names, rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("test accuracy")
    ax.set_title("Smooth gain envelopes along the signal (never seen in training)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return save(fig, path)
