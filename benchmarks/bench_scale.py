"""Benchmark: scale-covariant models against the strongest simple baselines on signals, on the
gain-envelope task and on real data (nothing downloaded).

Data: the built-in signals (4 waveforms, amplitudes 0.5–2); the UCR sets bundled with aeon
(GunPoint, ArrowHead, ItalyPowerDemand, OSULeaf; ``pip install 'keras-rg[ucr]'``, skipped if
missing); scikit-learn's 8x8 digits for the 2-D layers. Models (``keras_rg.models``): the
scale-covariant designs ``invariant_first`` (adaptive scale, α = 0, then ReLU layers with biases),
``local`` (local scale over a window) and ``covariant`` (every layer adaptive, bias-free, tanh,
α = 1), and the baselines plain, bias_free, rms_norm, local_norm (same window), augmented
(amplitudes 0.01–100 in training). All train with Adam in one process, 3 seeds each.

Reported per data set and model (mean ± SE over seeds): accuracy in distribution (1x), the worst
accuracy over the factors 0.01, 0.1, 10, 100, and the accuracy under smooth gain envelopes (1-D:
log-gain a random sum of cosines of 0.5–1.5 cycles per series; 2-D: plane waves of 0.5–1.5 cycles
per image side; log-std 1), never seen in training.

``--only search`` instead measures what costs the scale-covariant model accuracy on the signals
(base activation, α, where the scale is taken, bias, window; one seed, the demo's sizes) and
writes ``bench_scale_search.json``: the measurements behind the demo's default (docs/layers.md).

Run:  python benchmarks/bench_scale.py [--quick] [--only signals ucr digits search] [--out PATH]
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_rg import models  # noqa: E402
from keras_rg.systems.real_data import UCR_SETS, load_digits_images, load_ucr  # noqa: E402
from keras_rg.systems.signals import gain_envelopes, gain_fields, train_test_signals  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_scale.json"
FACTORS = (1.0, 0.01, 0.1, 10.0, 100.0)


def _specs(shape, n_classes, window, seed):
    return {
        "sc_invariant_first": models.ModelSpec(
            lambda: models.build_scale_covariant(shape, n_classes, "invariant_first", "linear")
        ),
        "sc_local": models.ModelSpec(
            lambda: models.build_scale_covariant(
                shape, n_classes, "local", "linear", window=window
            )  # fmt: skip
        ),
        "sc_covariant_tanh": models.ModelSpec(
            lambda: models.build_scale_covariant(shape, n_classes, "covariant", "tanh", 1.0)
        ),
        **models.baseline_specs(shape, n_classes, window=window, seed=seed),
    }


def _gains(x_test, seed):
    if x_test.ndim == 3:
        return gain_envelopes(len(x_test), x_test.shape[1], log_std=1.0, seed=seed)
    return gain_fields(len(x_test), x_test.shape[1:3], log_std=1.0, seed=seed)


def run_task(name, train, test, n_classes, window, seeds, epochs, batch_size):
    """Every model on one data set, each seed; returns per-seed scores and the summary."""
    shape = train[0].shape[1:]
    per_seed = {}
    for seed in seeds:
        gains = _gains(test[0], seed + 7)
        for model, spec in _specs(shape, n_classes, window, seed).items():
            start = time.perf_counter()
            _, _, scores = models.fit_and_score(spec, train, test, factors=FACTORS, gains=gains,
                                                epochs=epochs, batch_size=batch_size, seed=seed)  # fmt: skip
            scores["seconds"] = time.perf_counter() - start
            per_seed.setdefault(model, []).append(scores)
        keras.utils.clear_session()
    summary = {}
    for model, rows in per_seed.items():
        cols = {
            "in_distribution": [r["1x"] for r in rows],
            "worst_amplitude": [min(r[f"{f:g}x"] for f in FACTORS) for r in rows],
            "envelope": [r["envelope"] for r in rows],
        }
        summary[model] = {
            k: {"mean": float(np.mean(v)),
                "se": float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None}
            for k, v in cols.items()
        }  # fmt: skip
        summary[model]["parameters"] = rows[0]["parameters"]
    settings = {"n_train": int(len(train[0])), "n_test": int(len(test[0])), "shape": list(shape),
                "n_classes": int(n_classes), "window": window, "epochs": epochs,
                "batch_size": batch_size, "seeds": list(seeds)}  # fmt: skip
    return {"settings": settings, "summary": summary, "per_seed": per_seed}


def format_table(name, task):
    s = task["settings"]
    lines = [f"\n{name}: n_train {s['n_train']}, n_test {s['n_test']}, shape {s['shape']}, "
             f"window {s['window']}, {s['epochs']} epochs, seeds {s['seeds']}",
             "| model | in distribution | worst 0.01x–100x | gain envelopes |",
             "|---|---|---|---|"]  # fmt: skip

    def cell(c):
        return f"{c['mean']:.3f}" + (f" ± {c['se']:.3f}" if c["se"] is not None else "")

    for model, r in task["summary"].items():
        lines.append(f"| {model} | {cell(r['in_distribution'])} | {cell(r['worst_amplitude'])} "
                     f"| {cell(r['envelope'])} |")  # fmt: skip
    return "\n".join(lines)


def _search_configs():
    sc = models.build_scale_covariant
    shape = (128, 1)
    configs = {
        "covariant tanh α=1 (adaptive, bias-free)": lambda: sc(shape, 4, "covariant", "tanh", 1.0),
        "covariant tanh α=0.8 (old demo default)": lambda: sc(shape, 4, "covariant", "tanh", 0.8),
        "covariant gelu α=1": lambda: sc(shape, 4, "covariant", "gelu", 1.0),
        "covariant relu α=1 (ReLU also on the input)": lambda: sc(
            shape, 4, "covariant", "relu", 1.0
        ),
        "invariant first, linear base": lambda: sc(shape, 4, "invariant_first", "linear"),
        "invariant first, tanh base, s0=1": lambda: sc(shape, 4, "invariant_first", "tanh"),
        "invariant first, tanh base, s0=0.3": lambda: sc(
            shape, 4, "invariant_first", "tanh", scale=0.3
        ),
    }
    for w in (9, 13, 17, 33):
        for base in ("linear", "tanh"):
            configs[f"local, {base} base, window {w}"] = lambda w=w, base=base: sc(
                shape, 4, "local", base, window=w
            )
    return configs


def run_search(quick):
    train, test = train_test_signals(400 if quick else 4000, 1000, seed=0)
    gains = _gains(test[0], 7)
    specs = {name: models.ModelSpec(build) for name, build in _search_configs().items()}
    for name, spec in models.baseline_specs((128, 1), 4, window=17).items():
        specs[f"baseline: {name}"] = spec
    out = {}
    for name, spec in specs.items():
        _, _, scores = models.fit_and_score(spec, train, test, factors=FACTORS, gains=gains,
                                            epochs=2 if quick else 15, seed=0)  # fmt: skip
        out[name] = scores
        print(f"| {name} | {scores['1x']:.3f} | {min(scores[f'{f:g}x'] for f in FACTORS):.3f} "
              f"| {scores['envelope']:.3f} |", flush=True)  # fmt: skip
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, few epochs (a smoke run)")
    parser.add_argument("--only", nargs="*", default=["signals", "ucr", "digits"])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    if args.only == ["search"]:
        print(
            "| configuration | in distribution | worst 0.01x–100x | gain envelopes |\n|---|---|---|---|"
        )
        result = {"benchmark": "bench_scale_search", "quick": args.quick, "seed": 0,
                  "n_train": 4000, "epochs": 15, "configs": run_search(args.quick)}  # fmt: skip
        out = Path(args.out).with_name("bench_scale_search.json")
        with open(out, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {out}")
        return
    seeds = [0] if args.quick else [0, 1, 2]
    tasks = {}
    start = time.perf_counter()
    if "signals" in args.only:
        train, test = train_test_signals(400 if args.quick else 2000, 1000, seed=0)
        tasks["signals"] = run_task("signals", train, test, 4, 17, seeds,
                                    2 if args.quick else 12, 64)  # fmt: skip
        print(format_table("signals", tasks["signals"]), flush=True)
    if "ucr" in args.only:
        for name in UCR_SETS:
            try:
                train, test = load_ucr(name)
            except ImportError as err:
                print(f"\nskipping UCR sets: {err}")
                break
            length = train[0].shape[1]
            window = max(3, (length // 8) | 1)  # odd, about an eighth of the series
            n_classes = int(max(train[1].max(), test[1].max()) + 1)
            tasks[name] = run_task(name, train, test, n_classes, window, seeds,
                                   3 if args.quick else 60, 16)  # fmt: skip
            print(format_table(name, tasks[name]), flush=True)
    if "digits" in args.only:
        train, test = load_digits_images(seed=0)
        tasks["digits"] = run_task("digits", train, test, 10, 3, seeds,
                                   2 if args.quick else 20, 32)  # fmt: skip
        print(format_table("digits", tasks["digits"]), flush=True)
    result = {
        "benchmark": "bench_scale",
        "quick": args.quick,
        "factors": list(FACTORS),
        "envelope_log_std": 1.0,
        "total_seconds": time.perf_counter() - start,
        "platform": {"python": sys.version.split()[0], "keras": keras.__version__,
                     "machine": platform.machine(), "cpus": os.cpu_count()},
        "tasks": tasks,
    }  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nwrote {args.out} ({result['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
