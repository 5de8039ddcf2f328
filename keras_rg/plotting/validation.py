"""Figures of the validation report: Definition 1, Theorem 2 and the OOD accuracy curve."""

import numpy as np

from keras_rg.plotting._mpl import require_matplotlib

__all__ = ["plot_definition_1", "plot_ood", "plot_theorem_2", "save"]


def save(fig, path):
    """Saves and closes ``fig``; returns the file name (relative to its folder)."""
    import os

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    require_matplotlib().close(fig)
    return os.path.basename(path)


def plot_definition_1(path, alpha=0.5, scale=1.0, lams=(0.3, 1.0, 3.0)):
    """σ_s(λx) (lines) against λ^α σ_{λs}(x) (markers) for tanh with α = 0.5."""
    from keras_rg.activations import ScaleAware

    plt = require_matplotlib()
    sigma = ScaleAware("tanh", alpha)
    x = np.linspace(-4, 4, 161)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for lam in lams:
        lhs = np.asarray(sigma(lam * x, scale=scale))
        rhs = lam**alpha * np.asarray(sigma(x, scale=lam * scale))
        (line,) = ax.plot(x, lhs, label=f"σ_s(λx), λ={lam:g}")
        ax.plot(x[::10], rhs[::10], "o", color=line.get_color(), ms=4,
                label=f"λ^α σ_λs(x), λ={lam:g}")  # fmt: skip
    ax.set_xlabel("x")
    ax.set_ylabel("activation value")
    ax.set_title(f"Definition 1: ScaleAware(tanh, α={alpha}), s={scale}")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return save(fig, path)


def plot_theorem_2(path, rows):
    """Covariance error of the paper's β (best Δ) and the covariant β_Δ against α."""
    plt = require_matplotlib()
    alphas = [float(a) for a in rows]
    paper = [max(rows[a]["paper_best_over_delta"], 1e-17) for a in rows]
    cov = [max(rows[a]["covariant_max"], 1e-17) for a in rows]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.semilogy(alphas, paper, "o-", label="paper β(W)=(α−1)W, β(b)=−αb (best Δ)")
    ax.semilogy(alphas, cov, "s-", label="covariant β_Δ(W)=(α−Δ)W, β_Δ(b)=−Δb")
    ax.set_xlabel("activation exponent α")
    ax.set_ylabel("relative covariance error")
    ax.set_title("Theorem 2: parameters run to scale λs")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return save(fig, path)


def plot_ood(path, accuracy, n_test):
    """Test accuracy against the amplitude factor, one curve per model, with binomial SE."""
    curves = {}
    for name, accs in accuracy.items():
        accs = {k: v for k, v in accs.items() if k.endswith("x")}  # amplitude columns only
        factors = np.array([float(k[:-1]) for k in accs])
        order = np.argsort(factors)
        p = np.array(list(accs.values()))[order]
        se = np.sqrt(np.maximum(p * (1 - p), 1.0 / n_test) / n_test)
        curves[name] = (factors[order], p, se)
    return _log_x_error_bars(
        path,
        curves,
        xlabel="amplitude factor applied to the test signals",
        ylabel="test accuracy",
        ylim=(0, 1.02),
        title="Out-of-distribution accuracy across amplitude scales",
        band=(0.5 / 1.0, 2.0 / 1.0, "training amplitudes"),
    )


def _log_x_error_bars(path, curves, *, xlabel, ylabel, ylim, title, band=None):
    """One error-bar curve per ``label: (x, y, se)`` on a log x axis (with an optional shaded
    ``band = (low, high, label)``), saved to ``path``."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, (x, y, se) in curves.items():
        ax.errorbar(x, y, yerr=se, marker="o", capsize=3, label=label)
    if band is not None:
        ax.axvspan(band[0], band[1], color="grey", alpha=0.15, label=band[2])
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(*ylim)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, path)


def plot_rg_training(path, rows):
    """‖β(θ)‖ per epoch (left) and training loss (right) for each direction/α run."""
    plt = require_matplotlib()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
    for label, r in rows.items():
        style = "-" if label.startswith("paper") else "--"
        epochs = np.arange(1, len(r["beta_curve"]) + 1)
        ax1.semilogy(epochs, r["beta_curve"], style, marker="o", ms=3, label=label)
        ax2.plot(np.arange(len(r["loss_curve"])), r["loss_curve"], style, marker="o", ms=3,
                 label=label)  # fmt: skip
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("‖β(θ)‖ (distance to fixed point)")
    ax1.set_title("RG flow of ‖β‖ (direction/α)")
    ax2.set_xlabel("epoch (0 = before training)")
    ax2.set_ylabel("training loss")
    ax2.set_title("loss")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, which="both")
    ax1.legend(fontsize=7)
    return save(fig, path)


def plot_annealing(path, rows, delta):
    """P(L − L* > δ) against the step, one curve per temperature schedule, with binomial SE."""
    curves = {
        label: (
            np.array([int(k) for k in r]),
            np.array([v[0] for v in r.values()]),
            np.array([v[1] for v in r.values()]),
        )
        for label, r in rows.items()
    }
    return _log_x_error_bars(
        path,
        curves,
        xlabel="Langevin step t",
        ylabel=f"P(L(w_t) − L* > {delta})",
        ylim=(-0.02, 1.02),
        title="Lemma 2.1: convergence in probability",
    )


def plot_beta_curve(path, curve):
    """‖β(θ)‖ per epoch of one run."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.semilogy(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-300), "o-")
    ax.set_xlabel("epoch")
    ax.set_ylabel("‖β(θ)‖ (distance to the fixed point)")
    ax.set_title("RG flow during training")
    ax.grid(alpha=0.3, which="both")
    return save(fig, path)
