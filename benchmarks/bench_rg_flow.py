"""What the RG step θ ← θ − εβ(θ) costs in `fit`: plain Adam, Adam + `RGFlow` callback,
`RGOptimizer(Adam)` (the fused path) and AdamW's decoupled weight decay (one elementwise pass over
the weights: the limit). Per-epoch time of a 4×256 scale-covariant MLP and a 1-D scale-covariant
conv net, batch 64 and 512. Variants are interleaved in a shuffled order, repeated, and reported as
medians and ratios (absolute times on a shared machine are noise).

Run:  python benchmarks/bench_rg_flow.py [--quick] [--repeats N] [--out PATH] [--overwrite]

A full run replaces benchmarks/results/bench_rg_flow.json only with --overwrite; --quick writes to
benchmarks/results/quick/ and gives no verdict (benchmarks/_runner.py).
"""

import argparse
import json
import os
import platform
import random
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _runner import add_output_arguments, output_path, verdict  # noqa: E402

from keras_rg.callbacks.rg_flow import RGFlow  # noqa: E402
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense  # noqa: E402
from keras_rg.rg_optimizer import RGOptimizer  # noqa: E402

VARIANTS = ("plain", "callback", "fused", "adamw")
EPSILON = 1e-4
WEIGHT_DECAY = 1e-4
TARGETS = {
    "fused / plain <= 1.03": ("fused", "plain", 1.03, None),
    "fused / adamw <= 1.02": ("fused", "adamw", 1.02, None),
    "callback / plain <= 1.10 at batch 512": ("callback", "plain", 1.10, 512),
}


def mlp(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((64,))
    h = inputs
    for _ in range(4):
        h = ScaleCovariantDense(256, alpha=0.5)(h)
    return keras.Model(inputs, ScaleCovariantDense(10, alpha=1.0)(h), name="mlp")


def conv1d(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((128, 1))
    h = ScaleCovariantConv1D(32, 7, strides=2, alpha=0.5)(inputs)
    h = ScaleCovariantConv1D(64, 5, strides=2, alpha=0.5)(h)
    h = ScaleCovariantConv1D(64, 3, strides=2, alpha=0.5)(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(inputs, ScaleCovariantDense(10, alpha=1.0)(h), name="conv1d")


MODELS = {"mlp": (mlp, (64,)), "conv1d": (conv1d, (128, 1))}


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch (epoch hooks only: adds no per-batch work)."""

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.last = time.perf_counter() - self._t0


def build(variant, model_fn):
    model = model_fn(seed=0)
    callbacks = []
    if variant == "plain":
        opt = keras.optimizers.Adam(1e-3)
    elif variant == "callback":
        opt = keras.optimizers.Adam(1e-3)
        callbacks.append(RGFlow(EPSILON))
    elif variant == "fused":
        opt = RGOptimizer.for_model(model, keras.optimizers.Adam(1e-3), EPSILON)
    else:
        opt = keras.optimizers.AdamW(1e-3, weight_decay=WEIGHT_DECAY)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, callbacks


def dataset(shape, batch, steps, seed=0):
    rng = np.random.default_rng(seed)
    n = batch * steps
    x = rng.normal(size=(n, *shape)).astype("float32")
    y = rng.integers(0, 10, size=n)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).cache().prefetch(2)


def fit_epoch(model, data, callbacks):
    model.fit(data, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)


def run_case(name, batch, steps, repeats, rng):
    model_fn, shape = MODELS[name]
    data = dataset(shape, batch, steps)
    runs = {}
    for v in VARIANTS:
        model, callbacks = build(v, model_fn)
        timer = EpochTimer()
        for _ in range(2):  # trace, then one more untimed epoch (caches, allocator) per variant
            fit_epoch(model, data, [*callbacks, timer])
        runs[v] = (model, [*callbacks, timer], timer)
    times = {v: [] for v in VARIANTS}
    for _ in range(repeats):
        order = list(VARIANTS)
        rng.shuffle(order)
        for v in order:
            model, callbacks, timer = runs[v]
            fit_epoch(model, data, callbacks)
            times[v].append(timer.last)
    medians = {v: statistics.median(t) for v, t in times.items()}
    # Paired: each repeat's ratio to that repeat's plain epoch (cancels slow drifts in machine
    # load), then the median over repeats.
    paired = {
        v: statistics.median(a / b for a, b in zip(times[v], times["plain"], strict=True))
        for v in VARIANTS
    }
    return {
        "model": name,
        "batch": batch,
        "steps_per_epoch": steps,
        "params": int(runs["plain"][0].count_params()),
        "epoch_seconds": times,
        "median_seconds": medians,
        "ratio_of_medians": {v: medians[v] / medians["plain"] for v in VARIANTS},
        "ratio_to_plain": paired,
        "fused_to_adamw": statistics.median(
            a / b for a, b in zip(times["fused"], times["adamw"], strict=True)
        ),
    }


def check_targets(results, repeats):
    verdicts = {}
    for label, (num, den, limit, batch) in TARGETS.items():
        ratios = [
            r["fused_to_adamw"] if den == "adamw" else r["ratio_to_plain"][num]
            for r in results
            if batch is None or r["batch"] == batch
        ]
        met = all(x <= limit for x in ratios)
        verdicts[label] = {"ratios": ratios, "met": met, "verdict": verdict(met, repeats)}
    return verdicts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--repeats", type=int, default=None)
    add_output_arguments(parser)
    args = parser.parse_args()
    path = output_path("rg_flow", args)
    repeats = args.repeats or (2 if args.quick else 21)
    steps = {64: 8, 512: 4} if args.quick else {64: 64, 512: 16}
    rng = random.Random(0)
    results = []
    for name in MODELS:
        for batch in (64, 512):
            r = run_case(name, batch, steps[batch], repeats, rng)
            results.append(r)
            print(
                f"{name:7s} batch {batch:4d}: "
                + "  ".join(f"{v} {r['median_seconds'][v] * 1e3:7.1f} ms" for v in VARIANTS),
                flush=True,
            )
    print(
        f"\nper-epoch time / plain (median over {repeats} interleaved repeats of the paired ratio)"
    )
    print(f"{'model':8s} {'batch':>5s} " + " ".join(f"{v:>9s}" for v in VARIANTS) + "  fused/adamw")
    for r in results:
        print(
            f"{r['model']:8s} {r['batch']:5d} "
            + " ".join(f"{r['ratio_to_plain'][v]:9.3f}" for v in VARIANTS)
            + f"  {r['fused_to_adamw']:11.3f}"
        )
    verdicts = check_targets(results, repeats)
    print()
    for label, v in verdicts.items():
        print(f"{v['verdict']:10s} {label}: " + ", ".join(f"{x:.3f}" for x in v["ratios"]))
    out = {
        "benchmark": "bench_rg_flow",
        "quick": args.quick,
        "repeats": repeats,
        "epsilon": EPSILON,
        "weight_decay": WEIGHT_DECAY,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "devices": [d.name for d in tf.config.list_logical_devices()],
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
        "results": results,
        "targets": verdicts,
    }
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
