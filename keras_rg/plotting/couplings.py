"""The coupling-trajectory figure: θ̃_r^t over training against θ̃(W*) and the RG fixed point θ*."""

import numpy as np

from keras_rg.plotting._mpl import require_matplotlib

__all__ = ["plot_coupling_trajectory"]


def _profile(trajectory):
    """The final fit's profile-likelihood intervals of a TeacherStudentResult, or None."""
    test = getattr(trajectory, "test", None)
    return None if test is None else np.asarray(test.intervals, dtype=float)


def _checked(trajectory, theta_teacher, theta_star):
    if hasattr(trajectory, "theta_t"):  # a TeacherStudentResult
        result = trajectory
        trajectory = {"epochs": result.epochs, "theta": result.theta_t, "stderr": result.stderr_t}
        theta_teacher = result.theta_teacher if theta_teacher is None else theta_teacher
        theta_star = result.theta_star if theta_star is None else theta_star
    try:
        epochs = np.asarray(trajectory["epochs"], dtype=float)
        theta = np.asarray(trajectory["theta"], dtype=float)
        stderr = trajectory.get("stderr")
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(
            "Received an invalid value for `trajectory`: expected a mapping with 'epochs' and "
            "'theta' (e.g. CouplingTracker.trajectory) or a TeacherStudentResult. "
            f"Received: {type(trajectory).__name__}"
        ) from err
    if theta.ndim != 2 or theta.shape[0] != epochs.shape[0]:
        raise ValueError(
            "Received an invalid value for `trajectory`: expected 'theta' of shape (epochs, R). "
            f"Received: 'theta' of shape {theta.shape} for {epochs.shape[0]} epochs"
        )
    stderr = None if stderr is None else np.asarray(stderr, dtype=float)
    refs = []
    for name, ref in (("theta_teacher", theta_teacher), ("theta_star", theta_star)):
        if ref is not None:
            ref = np.asarray(ref, dtype=float).reshape(-1)
            if ref.size != theta.shape[1]:
                raise ValueError(
                    f"Received an invalid value for `{name}`: expected {theta.shape[1]} values. "
                    f"Received: {name} of size {ref.size}"
                )
        refs.append(ref)
    return epochs, theta, stderr, refs[0], refs[1]


def plot_coupling_trajectory(
    trajectory, *, theta_teacher=None, theta_star=None, path=None, title=None, log_scale=False
):
    """Draws θ̃_r^t against the epoch, one panel per coupling r, with θ̃(W*) and θ* as lines.

    The shaded band is ±1 Fisher standard error of each fit (meaningless for a coupling held at
    the domain bound 0); for a ``TeacherStudentResult`` the final fit's 95% profile-likelihood
    interval, valid at the bound, is drawn as a bar at the last epoch. Theorem 3.1 of Gong & Xia
    ("Interpreting FCDNNs via RG on exponential family") claims that the curve ends on θ*
    (dotted); the dashed line θ̃(W*) is where it ends when training reaches the teacher. An
    infinite θ* is not drawn.

    Args:
        trajectory: ``CouplingTracker.trajectory`` (``"epochs"``, ``"theta"``, optional
            ``"stderr"``) or a ``TeacherStudentResult`` (which also supplies the references).
        theta_teacher: θ̃(W*) (R values). Defaults to None.
        theta_star: θ* (R values). Defaults to None.
        path: where to save the figure. Defaults to None.
        title: the figure title. Defaults to None.
        log_scale: logarithmic y axes. Defaults to False.

    Returns:
        The matplotlib ``Figure``.

    Example:

    >>> traj = {"epoch": [0, 10, 20], "theta": [[0.9, 0.3], [0.6, 0.2], [0.5, 0.1]]}
    >>> fig = plot_coupling_trajectory(traj, theta_star=[0.5, 0.1])
    >>> len(fig.axes)
    2
    """
    epochs, theta, stderr, teacher, star = _checked(trajectory, theta_teacher, theta_star)
    profile = _profile(trajectory)
    plt = require_matplotlib()
    order = theta.shape[1]
    fig, axes = plt.subplots(1, order, figsize=(3.6 * order, 3.2), squeeze=False)
    for r, ax in enumerate(axes[0]):
        ax.plot(epochs, theta[:, r], marker="o", markersize=3, color="C0", label="θ̃^t")
        if stderr is not None:
            lo, hi = theta[:, r] - stderr[:, r], theta[:, r] + stderr[:, r]
            ax.fill_between(epochs, lo, hi, color="C0", alpha=0.2, linewidth=0)
        if profile is not None:
            lo, hi = profile[r]
            ax.errorbar([epochs[-1]], [theta[-1, r]], yerr=[[theta[-1, r] - lo], [hi - theta[-1, r]]],
                        color="k", capsize=4, label="95% profile interval")  # fmt: skip
        if teacher is not None:
            ax.axhline(teacher[r], color="C1", linestyle="--", label="θ̃(W*)")
        if star is not None and np.isfinite(star[r]):
            ax.axhline(star[r], color="C2", linestyle=":", label="θ*")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"θ̃_{r + 1}")
        if log_scale:
            ax.set_yscale("log")
        if r == 0:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig
