"""Runs the validation checks, one per claim of the two papers, and writes the report."""

import os
import time

import keras

from keras_rg.validate import (
    checks_information,
    checks_ood,
    checks_physics,
    checks_saxe,
    checks_scale,
    checks_training,
)
from keras_rg.validate.report import check_output_dir, format_verdict_table, write_report
from keras_rg.validate.result import Context

__all__ = ["CHECKS", "MODES", "run_validation"]

MODES = ("smoke", "quick", "full")

# name -> check function, in report order (one per claim)
CHECKS = {
    "definition_1": checks_scale.check_definition_1,
    "theorem_1": checks_scale.check_theorem_1,
    "theorem_2": checks_scale.check_theorem_2,
    "theorems_3_4": checks_training.check_theorems_3_4,
    "theorem_5": checks_information.check_theorem_5,
    "saxe_compression": checks_saxe.check_saxe_compression,
    "theorem_6": checks_physics.check_theorem_6,
    "lemma_2_1": checks_training.check_lemma_2_1,
    "theorem_3_1": checks_physics.check_theorem_3_1,
    "motivation_ood": checks_ood.check_motivation_ood,
    "local_scale": checks_ood.check_local_scale,
}


def run_validation(output_dir, mode="quick", only=None, seed=0, overwrite=False, echo=print):
    """Runs the checks and writes report.md, report.html and report.json into ``output_dir``.

    Args:
        output_dir: the report folder (created if missing).
        mode: ``"quick"`` (minutes), ``"full"`` (longer, more seeds) or ``"smoke"`` (tiny sizes
            for the test suite). Defaults to ``"quick"``.
        only: a check name or a list of names; None runs every check. Defaults to None.
        seed: the base seed; the same seed gives the same verdicts. Defaults to 0.
        overwrite: replace an earlier report in ``output_dir``. Defaults to False.
        echo: where progress lines go (``print``, or None for silence).

    Returns:
        The list of :class:`~keras_rg.validate.result.CheckResult`.

    Raises:
        ValueError: an unknown mode or check name, or an output folder that is a file or holds a
            report without ``overwrite`` (checked before anything runs).
    """
    if mode not in MODES:
        raise ValueError(
            f"Received an invalid value for `mode`: expected one of {MODES}. Received: mode={mode!r}"
        )
    names = list(CHECKS) if only is None else [only] if isinstance(only, str) else list(only)
    unknown = [n for n in names if n not in CHECKS]
    if unknown or not names:
        raise ValueError(
            f"Received an invalid value for `only`: expected check names from {list(CHECKS)}. "
            f"Received: only={only!r}"
        )
    check_output_dir(output_dir, overwrite)
    os.makedirs(output_dir, exist_ok=True)
    ctx = Context(mode=mode, seed=seed, output_dir=output_dir)
    results = []
    for name in names:
        if echo:
            echo(f"[{len(results) + 1}/{len(names)}] {name} ...")
        keras.utils.clear_session()
        keras.utils.set_random_seed(seed)
        start = time.perf_counter()
        result = CHECKS[name](ctx)
        result.seconds = time.perf_counter() - start
        if echo:
            echo(f"    {result.verdict}: {result.measured}")
        results.append(result)
    from keras_rg import __version__

    meta = {"mode": mode, "seed": seed, "version": __version__, "checks_run": names}
    write_report(results, output_dir, meta)
    if echo:
        echo("\n" + format_verdict_table(results))
    return results
