"""Plumbing shared by the benchmark scripts: where results go, warm-ups, and when to judge.

- Full runs write ``benchmarks/results/bench_<name>.json``, the committed reference numbers; a run
  never replaces an existing file there unless ``--overwrite`` is given (it stops before timing
  anything, so no time is lost).
- ``--quick`` runs write ``benchmarks/results/quick/`` (ignored by git), which they may replace.
- Every variant is warmed up (traced, compiled, caches filled) before it is timed
  (:func:`median_seconds`).
- A verdict against a target ("met"/"MISSED") is only given from at least
  :data:`MIN_REPEATS_FOR_VERDICT` repeats; fewer give "no verdict" (:func:`verdict`): a 2-repeat
  smoke run on a shared machine is noise, not a finding.
"""

import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_RESULTS = RESULTS / "quick"
MIN_REPEATS_FOR_VERDICT = 5


def add_output_arguments(parser):
    """Adds ``--out PATH`` and ``--overwrite`` to a script's parser."""
    parser.add_argument(
        "--out",
        default=None,
        help="JSON output (default: benchmarks/results/bench_<name>.json for a full run, "
        "benchmarks/results/quick/ for --quick)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing result file (the committed results are kept otherwise)",
    )


def output_path(name, args):
    """Where this run writes, checked before any timing: raises SystemExit when it would replace
    an existing result without ``--overwrite`` (scratch files of quick runs excepted)."""
    if args.out:
        path = Path(args.out)
    else:
        path = (QUICK_RESULTS if getattr(args, "quick", False) else RESULTS) / f"bench_{name}.json"
    scratch = path.resolve().parent == QUICK_RESULTS.resolve()
    if path.exists() and not (scratch or args.overwrite):
        raise SystemExit(
            f"{path} exists (a recorded result); pass --overwrite to replace it, or --out PATH "
            "to write elsewhere"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def median_seconds(fn, repeats, warmup=1):
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def verdict(met, repeats):
    """``"met"``/``"MISSED"`` from ``repeats`` >= :data:`MIN_REPEATS_FOR_VERDICT`, else
    ``"no verdict"``."""
    if repeats < MIN_REPEATS_FOR_VERDICT:
        return "no verdict"
    return "met" if met else "MISSED"
