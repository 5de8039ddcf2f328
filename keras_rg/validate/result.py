"""The outcome of one validation check: the claim, the measurement, the verdict."""

import dataclasses
import math
import os

import numpy as np

__all__ = ["VERDICTS", "CheckResult", "Context", "mean_and_se", "plus_minus"]

VERDICTS = ("holds", "holds with caveat", "does not hold")


def mean_and_se(values):
    """Mean and standard error over seeds of ``values`` (the SE is NaN for a single value)."""
    values = np.asarray(values, dtype=float)
    se = float(np.std(values, ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")
    return float(np.mean(values)), se


def plus_minus(mean, se, digits=2, sign=False):
    """``"m ± se"`` with ``digits`` decimals; ``"m ± n/a"`` where the SE is undefined (one seed)."""
    head = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    return f"{head} ± {'n/a' if math.isnan(se) else f'{se:.{digits}f}'}"


@dataclasses.dataclass
class CheckResult:
    """One row of the validation report.

    Attributes:
        name: the check's name (``keras-rg validate --only NAME``).
        source: where the claim is made, e.g. ``"Liaw, Theorem 1"`` (the papers are listed in
            ``docs/mathematics.md``).
        claim: what the seed states, in a sentence.
        measured: what was measured, with error bars, in a sentence or two.
        verdict: one of ``VERDICTS``, decided from the measurement by the rule in ``rule``.
        rule: the decision rule, stated before the measurement (thresholds included).
        values: the numbers behind ``measured`` (JSON-serializable).
        figure: the figure's file name in the output folder, or None.
        seconds: wall time of the check.
        effect: the effect size the verdict rests on, with its standard error and the number of
            seeds it was measured over, in a phrase (e.g. ``"K* - K_c = 0.004 +/- 0.003 (3
            seeds)"``), or None where the check has not stated one.
        n_seeds: how many independent seeds ``effect`` was measured over, or None.
        falsified_if: one line: the measurement that would falsify the verdict, or None.
    """

    name: str
    source: str
    claim: str
    measured: str
    verdict: str
    rule: str
    values: dict
    figure: str | None = None
    seconds: float = 0.0
    effect: str | None = None
    n_seeds: int | None = None
    falsified_if: str | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(
                f"Received an invalid value for `verdict`: expected one of {VERDICTS}. "
                f"Received: verdict={self.verdict!r}"
            )
        if self.n_seeds is not None and (
            isinstance(self.n_seeds, bool) or not isinstance(self.n_seeds, int) or self.n_seeds < 1
        ):
            raise ValueError(
                "Received an invalid value for `n_seeds`: expected a positive int or None. "
                f"Received: n_seeds={self.n_seeds!r}"
            )

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Context:
    """What a check needs: the size mode, the seed and where figures go.

    Attributes:
        mode: ``"smoke"`` (tiny sizes, for the test suite), ``"quick"`` or ``"full"``.
        seed: the base seed; the same seed gives the same verdicts.
        output_dir: folder for figures, or None to make none.
    """

    mode: str = "quick"
    seed: int = 0
    output_dir: str | None = None

    def pick(self, smoke, quick, full):
        """The size for the current mode."""
        return {"smoke": smoke, "quick": quick, "full": full}[self.mode]

    def seeds(self, smoke=1, quick=1, full=3):
        """The seeds for the current mode: ``self.seed, self.seed + 1, ...`` (``full`` at least
        3, so that an effect size has a standard error over seeds in ``--full``)."""
        n = self.pick(smoke, quick, max(3, full))
        return [self.seed + i for i in range(n)]

    def figure_path(self, name):
        """Path of a figure in the output folder (None without one)."""
        if self.output_dir is None:
            return None
        return os.path.join(self.output_dir, f"{name}.png")

    def figure(self, name, plot, *args, **kwargs):
        """Draws ``plot(path, *args, **kwargs)`` to ``<output_dir>/<name>.png`` and returns the file
        name, or None without an output folder. A returned Figure or Axes not yet saved is saved;
        the figure is closed either way."""
        path = self.figure_path(name)
        if path is None:
            return None
        out = plot(path, *args, **kwargs)
        fig = getattr(out, "figure", out)  # an Axes gives its Figure
        if hasattr(fig, "savefig"):
            from keras_rg.plotting import require_matplotlib

            if not os.path.exists(path):
                fig.savefig(path, dpi=110, bbox_inches="tight")
            require_matplotlib().close(fig)
        return os.path.basename(path)
