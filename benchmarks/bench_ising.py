"""Benchmark: 2-D Ising checkerboard Metropolis, spin updates per second, keras_rg vs NumPy.

Purpose: time keras_rg's jit-compiled TensorFlow checkerboard sampler (``CheckerboardSampler``)
against a plain NumPy checkerboard implementation of the same Metropolis update, in the same
process, interleaved and repeated (medians), for L = 64 and 256 with 1 and 64 chains; a
pure-Python loop gives the scale at L = 64, one chain. Target (issue 7): >= 10x NumPy at
64 chains of L = 256. Writes JSON (``--out``); ``--quick`` is a fast smoke run; ``--threads``
sets TensorFlow's thread count (NumPy's reference is single-threaded either way).

Run: python benchmarks/bench_ising.py [--quick] [--threads N] [--out PATH] [--overwrite]
"""

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import time

from _runner import add_output_arguments, output_path, verdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def numpy_checkerboard(spins, coupling, n_sweeps, rng):
    """The NumPy reference: a plain checkerboard Metropolis sweep over a batch of lattices."""
    import numpy as np

    size = spins.shape[-1]
    parity = (np.add.outer(np.arange(size), np.arange(size)) % 2).astype(bool)
    for _ in range(n_sweeps):
        for mask in (~parity, parity):
            nb = (
                np.roll(spins, 1, -1)
                + np.roll(spins, -1, -1)
                + np.roll(spins, 1, -2)
                + np.roll(spins, -1, -2)
            )
            accept = rng.random(spins.shape) < np.exp(-2.0 * coupling * spins * nb)
            spins = np.where(mask & accept, -spins, spins)
    return spins


def python_loop(spins, coupling, n_sweeps, rng):
    """Pure-Python single-spin Metropolis over one lattice (nested lists), for scale."""
    size = len(spins)
    for _ in range(n_sweeps):
        for colour in (0, 1):
            for i in range(size):
                for j in range((i + colour) % 2, size, 2):
                    s = spins[i][j]
                    nb = (
                        spins[i - 1][j]
                        + spins[(i + 1) % size][j]
                        + spins[i][j - 1]
                        + spins[i][(j + 1) % size]
                    )
                    if s * nb <= 0 or rng.random() < math.exp(-2.0 * coupling * s * nb):
                        spins[i][j] = -s
    return spins


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0 = all)")
    parser.add_argument("--repeats", type=int, default=5)
    add_output_arguments(parser)
    args = parser.parse_args(argv)
    out_path = output_path("ising", args)

    import numpy as np
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from keras_rg.systems.ising import CheckerboardSampler

    coupling = 0.44
    sizes, chains, repeats = (
        ((32,), (1, 4), 1) if args.quick else ((64, 256), (1, 64), args.repeats)
    )
    budget = 2e6 if args.quick else 3e7  # spin updates per timed call of the fast implementations
    rows = []
    for size in sizes:
        for n_chains in chains:
            sites = n_chains * size * size
            ours = CheckerboardSampler(size, coupling, n_chains, seed=0)
            ours.sweep(2)  # compile outside the timings
            ref = np.where(
                np.random.default_rng(0).random((n_chains, size, size)) < 0.5, -1, 1
            ).astype(np.int8)
            rng = np.random.default_rng(1)
            ours_sweeps = max(2, int(budget * 10 / sites))
            ref_sweeps = max(1, int(budget / 4 / sites))
            impls = {
                "keras_rg": lambda s=ours, n=ours_sweeps: s.sweep(n),
                "numpy": lambda n=ref_sweeps, x=ref, g=rng: numpy_checkerboard(x, coupling, n, g),
            }
            sweeps = {"keras_rg": ours_sweeps, "numpy": ref_sweeps}
            if size <= 64 and n_chains == 1:
                lattice = ref[0].astype(int).tolist()
                prng = random.Random(2)
                sweeps["python"] = 1 if args.quick else 3
                impls["python"] = lambda n=sweeps["python"], x=lattice, g=prng: python_loop(
                    x, coupling, n, g
                )
            rates = {name: [] for name in impls}
            for fn in impls.values():  # warm every variant up (caches, allocations) untimed
                fn()
            for _ in range(repeats):  # interleaved
                for name, fn in impls.items():
                    start = time.perf_counter()
                    fn()
                    rates[name].append(sites * sweeps[name] / (time.perf_counter() - start))
            for name, values in rates.items():
                rows.append(
                    {
                        "L": size,
                        "chains": n_chains,
                        "impl": name,
                        "median_updates_per_s": statistics.median(values),
                        "updates_per_s": values,
                        "sweeps_per_call": sweeps[name],
                    }
                )

    print(f"{'L':>5} {'chains':>6} {'impl':>9} {'Mupdates/s':>11} {'x numpy':>8}")
    ratios = []
    for row in rows:
        base = next(
            r
            for r in rows
            if r["L"] == row["L"] and r["chains"] == row["chains"] and r["impl"] == "numpy"
        )["median_updates_per_s"]
        ratio = row["median_updates_per_s"] / base
        row["ratio_to_numpy"] = ratio
        print(
            f"{row['L']:>5} {row['chains']:>6} {row['impl']:>9} "
            f"{row['median_updates_per_s'] / 1e6:11.2f} {ratio:8.2f}"
        )
        if row["impl"] == "keras_rg":
            ratios.append({"L": row["L"], "chains": row["chains"], "ratio": ratio})
    target = next((r["ratio"] for r in ratios if r["L"] == 256 and r["chains"] == 64), None)
    if target is not None:
        judged = verdict(target >= 10, repeats)
        print(f"{judged}: keras_rg / numpy at 64 chains of L = 256 = {target:.1f} (goal >= 10)")
    result = {
        "benchmark": "ising checkerboard Metropolis spin updates per second",
        "quick": args.quick,
        "tf_threads": args.threads or "all",
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "platform": platform.platform(),
        "repeats": repeats,
        "rows": rows,
        "ratios": ratios,
    }
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
