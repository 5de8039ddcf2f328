"""Generates the 40 tasks of the `benchmark-mi` suite and runs bmi's own estimators on them.

Runs in a SEPARATE virtual environment (benchmark-mi pins its own JAX), never in the
library's environment:

    python3 -m venv /work/venv-bmi
    /work/venv-bmi/bin/pip install benchmark-mi "jax==0.4.30" "jaxlib==0.4.30" "chex<0.1.87"
    /work/venv-bmi/bin/python benchmarks/bmi_generate.py [--cache DIR] [--n 5000] [--seeds 0 1]

(benchmark-mi 0.1.3 installs a JAX too new for it; 0.4.30 is the newest that imports.)
The tasks are those of Czyż, Grabowski, Vogt, Beerenwinkel & Marx, "Beyond Normal: On the
Evaluation of Mutual Information Estimators", NeurIPS 2023 (`bmi.benchmark.BENCHMARK_TASKS`).
For every task and seed it writes ``<cache>/<task>__seed<s>.npz`` (x, y, the true MI) and
times bmi's KSG (k = 10, the paper's setting, Chebyshev-free Euclidean default) and CCA on the
same samples into ``<cache>/bmi_estimates.json``; ``bench_information_bmi.py`` reads both.
The cache lies outside git (default ``~/.cache/keras_rg_bmi``).
"""

import argparse
import json
import os
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=os.path.expanduser("~/.cache/keras_rg_bmi"))
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--skip-estimators", action="store_true")
    parser.add_argument("--force", action="store_true", help="re-run bmi's estimators (timing)")
    parser.add_argument("--only", nargs="*", default=None, help="task names to run")
    args = parser.parse_args()

    import bmi

    os.makedirs(args.cache, exist_ok=True)
    out_path = os.path.join(args.cache, "bmi_estimates.json")
    results = json.load(open(out_path)) if os.path.exists(out_path) else {}
    if args.force:
        results = {}
    estimators = {
        "bmi KSG-10": lambda: bmi.estimators.KSGEnsembleFirstEstimator(neighborhoods=(10,)),
        "bmi CCA": lambda: bmi.estimators.CCAMutualInformationEstimator(),
    }
    for name, task in bmi.benchmark.BENCHMARK_TASKS.items():
        if args.only is not None and name not in args.only:
            continue
        for seed in args.seeds:
            key = f"{name}__seed{seed}"
            path = os.path.join(args.cache, key + ".npz")
            if not os.path.exists(path):
                x, y = task.sample(args.n, seed=seed)
                np.savez(path, x=np.asarray(x), y=np.asarray(y), mi=task.mutual_information,
                         n=args.n, seed=seed)  # fmt: skip
            if args.skip_estimators or key in results:
                continue
            data = np.load(path)
            row = {"task": name, "seed": seed, "true": float(task.mutual_information),
                   "dim_x": int(task.dim_x), "dim_y": int(task.dim_y)}  # fmt: skip
            for est_name, make in estimators.items():
                start = time.perf_counter()
                value = make().estimate(data["x"], data["y"])
                row[est_name] = {"value": float(value), "seconds": time.perf_counter() - start}
            results[key] = row
            with open(out_path, "w") as f:
                json.dump(results, f, indent=1)
            print(key, {k: round(v["value"], 3) for k, v in row.items() if isinstance(v, dict)},
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
