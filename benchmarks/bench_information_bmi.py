"""Accuracy and speed of the library's MI estimators on the `benchmark-mi` suite, beside bmi's own.

The 40 tasks of Czyż et al., "Beyond Normal: On the Evaluation of Mutual Information
Estimators" (NeurIPS 2023), n = 5000, two seeds, true MI known. Samples come from
``benchmarks/bmi_generate.py``, run in a separate virtualenv because benchmark-mi pins its own
JAX (see that file). With ``--bmi-python`` this script first re-runs bmi's KSG (k = 10) and CCA on
the same samples in that virtualenv (a subprocess) so both sides are timed in one run; without
it, it reads the last recorded bmi results.

    python3 benchmarks/bench_information_bmi.py --bmi-python /work/venv-bmi/bin/python

Prints the per-task table (true MI, every estimator, ours / bmi KSG time ratio) and the mean
absolute errors, and writes benchmarks/results/bench_information_bmi.json. ``--quick`` runs the
first seed of every tenth task-seed with the slow estimator skipped (a smoke run: no verdict).
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from keras_rg.information import gaussian_mi, ksg_mi, recommended_mi  # noqa: E402

OURS = {
    "ours KSG (k=3)": lambda x, y: ksg_mi(x, y, algorithm="tree").value,
    "ours KSG copula (k=10)": lambda x, y: (
        ksg_mi(x, y, n_neighbors=10, transform="copula", algorithm="tree").value
    ),
    "ours Gaussian copula": lambda x, y: gaussian_mi(x, y, transform="copula", ridge=1e-9).value,
    "ours recommended": lambda x, y: recommended_mi(x, y, algorithm="tree").value,
}
BMI = ("bmi KSG-10", "bmi CCA")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/keras_rg_bmi"))
    parser.add_argument("--bmi-python", default=None, help="re-run bmi's estimators with this")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "bench_information_bmi.json")
    )
    parser.add_argument("--quick", action="store_true", help="every tenth task-seed, no verdict")
    parser.add_argument("--skip-slow", action="store_true",
                        help="skip our plain KSG above 10 joint dimensions (minutes)")  # fmt: skip
    args = parser.parse_args()
    if args.bmi_python:
        subprocess.run([args.bmi_python, os.path.join(HERE, "bmi_generate.py"), "--cache",
                        args.cache, "--force"], check=True)  # fmt: skip
    path = os.path.join(args.cache, "bmi_estimates.json")
    if not os.path.exists(path):
        raise SystemExit(f"No bmi samples in {args.cache}: run benchmarks/bmi_generate.py first.")
    with open(path) as f:
        bmi = json.load(f)
    rows = []
    header = f"{'task':<52} {'true':>6} " + " ".join(f"{n[:14]:>14}" for n in (*BMI, *OURS))
    print(header + f" {'rec/bmiKSG time':>15}")
    items = list(bmi.items())
    if args.quick:
        items, args.skip_slow = items[::10], True
    for key, rec in items:
        data = np.load(os.path.join(args.cache, key + ".npz"))
        x, y = data["x"], data["y"]
        row = {"key": key, "true": rec["true"], "dim": rec["dim_x"] + rec["dim_y"]}
        for name in BMI:
            row[name] = rec[name]
        for name, fn in OURS.items():
            if args.skip_slow and name == "ours KSG (k=3)" and row["dim"] > 10:
                row[name] = {"value": float("nan"), "seconds": float("nan")}
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                value = fn(x, y)
            row[name] = {"value": float(value), "seconds": time.perf_counter() - start}
        ratio = row["ours recommended"]["seconds"] / row["bmi KSG-10"]["seconds"]
        row["time_ratio_recommended_vs_bmi_ksg"] = ratio
        rows.append(row)
        cells = " ".join(f"{row[n]['value']:>14.3f}" for n in (*BMI, *OURS))
        print(f"{key[:52]:<52} {row['true']:>6.3f} {cells} {ratio:>15.2f}", flush=True)
    summary = {}
    for name in (*BMI, *OURS):
        err = np.array([abs(r[name]["value"] - r["true"]) for r in rows])
        secs = np.array([r[name]["seconds"] for r in rows])
        summary[name] = {
            "mean_abs_error": float(np.nanmean(err)),
            "max_abs_error": float(np.nanmax(err)),
            "tasks": int(np.sum(np.isfinite(err))),
            "total_seconds": float(np.nansum(secs)),
        }
    bmi_time = summary["bmi KSG-10"]["total_seconds"]
    print("\nmean |error| (nats) and total time over", len(rows), "task-seeds:")
    for name, s in summary.items():
        print(f"  {name:<24} {s['mean_abs_error']:.3f} (max {s['max_abs_error']:.3f}, "
              f"{s['tasks']} tasks)  {s['total_seconds']:7.1f} s  "
              f"{s['total_seconds'] / bmi_time:.2f}x bmi KSG")  # fmt: skip
    rec = summary["ours recommended"]
    if args.quick:
        print("quick run (a tenth of the task-seeds): no verdict")
    else:
        goal = "MET" if rec["mean_abs_error"] <= 0.10 else "MISSED"
        speed = "MET" if rec["total_seconds"] <= bmi_time else "MISSED"
        print(
            f"goal mean |err| <= 0.10 nats: {goal} ({rec['mean_abs_error']:.3f}); "
            f"time <= bmi KSG: {speed} ({rec['total_seconds'] / bmi_time:.2f}x)"
        )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"n": 5000, "summary": summary, "rows": rows,
                   "bmi_rerun_in_this_run": bool(args.bmi_python)}, f, indent=1)  # fmt: skip
    print("wrote", args.out)


if __name__ == "__main__":
    main()
