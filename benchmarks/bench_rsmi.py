"""Benchmark: the RSMI coarse-graining learned with no RG knowledge against the majority rule.

Purpose: on the same 2-D Ising samples (L = 64, couplings K_c ± 0.04), train RSMI (InfoNCE of
I(block variable; environment beyond a buffer)) at K_c, then measure the coupling flow of the
learned map and of the hand-written majority rule with the same pseudo-likelihood pipeline
(``keras_rg.systems.ising.rg_fit``): the critical coupling where the flow stops, and y_t, for
each projection (nn; nn + nnn) and step (level 0 -> 1; 1 -> 2), over several seeds, with the
exact K_c = 0.440687 and y_t = 1 beside them. Also times the variational MI bounds on
known-answer Gaussians (n = 10,000). Writes JSON (``--out``) and the docs figure (``--figure``).

Run: python benchmarks/bench_rsmi.py [--quick] [--seeds N] [--out PATH] [--figure PATH]
"""

import argparse
import json
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def gaussian_bounds(n=10_000, seed=1):
    import numpy as np

    from keras_rg.information.variational import variational_mi

    rows = []
    for mi in (0.5, 1.0, 2.0):
        rng = np.random.default_rng(seed)
        rho = math.sqrt(1 - math.exp(-2 * mi))
        x = rng.normal(size=(n, 1))
        y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, 1))
        for bound in ("infonce", "nwj"):
            for critic in ("concat", "separable"):
                start = time.perf_counter()
                est = variational_mi(x, y, bound, critic, n_epochs=20, batch_size=128)
                rows.append({"true": mi, "bound": bound, "critic": critic, "value": est.value,
                             "stderr": est.stderr, "above_truth_in_se": (est.value - mi) / est.stderr,
                             "seconds": time.perf_counter() - start})  # fmt: skip
                print(f"I = {mi}: {bound:8s} {critic:9s} {est.value:.3f} ± {est.stderr:.3f} "
                      f"(error {est.value - mi:+.3f})", flush=True)  # fmt: skip
    return rows


def _se(values):
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/bench_rsmi.json")
    parser.add_argument("--figure", default=None)
    args = parser.parse_args(argv)
    import numpy as np

    from keras_rg.experiments.rsmi import rsmi_versus_majority
    from keras_rg.systems.ising import CRITICAL_COUPLING as KC

    sizes = (
        dict(size=32, n_chains=4, n_samples=25, n_couplings=5, n_pairs=4000, n_epochs=3)
        if (args.quick)
        else dict(size=64, n_chains=16, n_samples=100, n_couplings=9, n_pairs=40000, n_epochs=12)
    )
    seeds = list(range(1 if args.quick else args.seeds))
    runs, table = [], {}
    for seed in seeds:
        start = time.perf_counter()
        run = rsmi_versus_majority(seed=seed, **sizes)
        runs.append(run)
        print(f"seed {seed}: filter {np.round(run['rsmi'].kernel, 3).tolist()}, |cos| "
              f"{run['rsmi'].cosine:.4f}, {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    for name in ("learned", "majority"):
        for proj in ("nn", "nn+nnn"):
            for lvl in (1, 2):
                fps = [r["fixed_points"][name][proj][lvl] for r in runs]
                kc = np.array([f.critical_coupling for f in fps])
                yt = np.array([f.y_t for f in fps])
                se = _se
                key = f"{name} | {proj} | level {lvl - 1}->{lvl}"
                table[key] = {"K_c": float(kc.mean()), "K_c_se_seeds": se(kc),
                              "K_c_se_fit": [f.critical_coupling_error for f in fps],
                              "K_c_rel": float(kc.mean() / KC - 1), "y_t": float(yt.mean()),
                              "y_t_se_seeds": se(yt), "y_t_se_fit": [f.y_t_error for f in fps]}  # fmt: skip
                print(f"{key:36s} K_c {kc.mean():.4f} ± {se(kc):.4f} ({100 * (kc.mean() / KC - 1):+.2f}%)"
                      f"  y_t {yt.mean():.3f} ± {se(yt):.3f}", flush=True)  # fmt: skip
    out = {"sizes": sizes, "seeds": seeds, "exact": {"K_c": KC, "y_t": 1.0}, "table": table,
           "filters": [r["rsmi"].kernel.tolist() for r in runs],
           "cosines": [r["rsmi"].cosine for r in runs],
           "sign_consistent": [r["rsmi"].sign_consistent for r in runs],
           "held_out_mi": [r["rsmi"].mi_held_out for r in runs],
           "gaussian_bounds": gaussian_bounds() if not args.quick else []}  # fmt: skip
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
    if args.figure:
        from keras_rg.plotting.rsmi import plot_rsmi

        run = runs[0]
        plot_rsmi(run["rsmi"].kernel, {n: run["flows"][n]["nn+nnn"] for n in ("learned", "majority")},
                  {n: run["fixed_points"][n]["nn+nnn"][2] for n in ("learned", "majority")},
                  path=args.figure, title="RSMI (learned) vs majority rule, 2-D Ising, L = 64")  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
