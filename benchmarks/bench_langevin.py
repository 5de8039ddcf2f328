"""Benchmark: step time of LangevinAnnealing against Keras SGD/Adam, the noise draw and TFP's SGLD.

Model: MLP 784-256-256-10 on random data, batch 128 and 1024, `jit_compile` off and on. Variants
timed side by side in one process, interleaved and repeated (medians): Keras SGD, Keras Adam,
LangevinAnnealing (identity), LangevinAnnealing (rmsprop), and the draw of one float32 normal per
parameter alone (the same Philox op, written to scratch variables: the noise's own cost). TFP's
`StochasticGradientLangevinDynamics` can only run under tf_keras in graph mode, so it is timed in a
subprocess on the same model (with tf_keras SGD beside it for a same-process ratio).

Targets (issue 4): Langevin - SGD <= 1.25 x noise draw; preconditioned <= 1.25 x (Adam + noise
draw); Langevin >= 100x faster than TFP's SGLD. Absolute times on a shared machine are noise;
the ratios are the figure.

Run:  python benchmarks/bench_langevin.py [--quick] [--out PATH]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_rg.optimizers import LangevinAnnealing  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_langevin.json"
OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(1e-3),
    "adam": lambda: keras.optimizers.Adam(1e-3),
    "langevin": lambda: LangevinAnnealing(1e-3, temperature=1e-4, seed=0),
    "langevin_rmsprop": lambda: LangevinAnnealing(
        1e-3, temperature=1e-4, preconditioner="rmsprop", seed=0
    ),
}


def build_model(hidden):
    return keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(10),
        ]
    )


def data(batch):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch, 784)).astype("float32"))
    y = tf.constant(rng.integers(0, 10, size=(batch,)))
    return x, y


def fit_timer(name, hidden, batch, jit, steps):
    """Seconds per training step (`train_on_batch`, which waits for the step's loss)."""
    keras.utils.set_random_seed(0)
    model = build_model(hidden)
    model.compile(
        optimizer=OPTIMIZERS[name](),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit,
    )
    x, y = data(batch)
    for _ in range(2):  # trace / compile
        model.train_on_batch(x, y)

    def run():
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        return (time.perf_counter() - start) / steps

    return run


def noise_timer(hidden, jit, steps):
    """One float32 normal per parameter with the optimizer's own draw, into scratch variables."""
    model = build_model(hidden)
    optimizer = LangevinAnnealing(seed=0)
    scratch = [tf.Variable(tf.zeros(v.shape)) for v in model.trainable_variables]
    step = tf.Variable(0, dtype=tf.int64)

    @tf.function(jit_compile=jit)
    def draw():
        for index, buffer in enumerate(scratch):
            buffer.assign(optimizer._noise(buffer.shape, step, index))
        step.assign_add(1)

    draw()

    def run():
        start = time.perf_counter()
        for _ in range(steps):
            draw()
        float(scratch[0][0, 0])  # wait for the last draw
        return (time.perf_counter() - start) / steps

    return run


TFP_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    import tf_keras
    import tensorflow_probability as tfp
    hidden, steps, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    batches = [int(b) for b in sys.argv[4].split(",")]
    out = {}
    for batch in batches:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(batch * steps, 784)).astype("float32")
        y = rng.integers(0, 10, size=(batch * steps,))
        models = {}
        for name in ["tfp_sgld", "tf_keras_sgd"]:
            model = tf_keras.Sequential([
                tf_keras.layers.Dense(hidden, activation="relu", input_shape=(784,)),
                tf_keras.layers.Dense(hidden, activation="relu"),
                tf_keras.layers.Dense(10)])
            if name == "tfp_sgld":
                opt = tfp.optimizer.StochasticGradientLangevinDynamics(1e-3, burnin=0)
            else:
                opt = tf_keras.optimizers.legacy.SGD(1e-3)
            model.compile(optimizer=opt, loss=tf_keras.losses.SparseCategoricalCrossentropy(
                from_logits=True))
            model.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0)
            models[name] = model
        times = {name: [] for name in models}
        for _ in range(repeats):
            for name, model in models.items():
                start = time.perf_counter()
                model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
                times[name].append((time.perf_counter() - start) / steps)
        out[str(batch)] = {name: float(np.median(t)) for name, t in times.items()}
    print(json.dumps(out))
    """
)


def run_tfp(hidden, steps, repeats, batches):
    done = subprocess.run(
        [sys.executable, "-c", TFP_SCRIPT, str(hidden), str(steps), str(repeats),
         ",".join(str(b) for b in batches)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny model, few steps (smoke run)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    hidden = 32 if args.quick else 256
    batches = [128] if args.quick else [128, 1024]
    repeats = 1 if args.quick else 9
    tfp_steps, tfp_repeats = (1, 1) if args.quick else (3, 2)

    results = {"configs": []}
    for batch in batches:
        for jit in [False, True]:
            steps = 3 if args.quick else (40 if batch == 128 else 10)
            timers = {name: fit_timer(name, hidden, batch, jit, steps) for name in OPTIMIZERS}
            timers["noise"] = noise_timer(hidden, jit, steps)
            times = {name: [] for name in timers}
            for _ in range(repeats):  # interleaved
                for name, timer in timers.items():
                    times[name].append(timer())
            med = {name: float(np.median(t)) for name, t in times.items()}
            results["configs"].append(
                {"batch": batch, "jit_compile": jit, "steps": steps, "repeats": repeats,
                 "median_s": med, "all_s": times}
            )  # fmt: skip
            print(f"batch {batch} jit {jit}: " + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in med.items()), flush=True)  # fmt: skip

    tfp = run_tfp(hidden, tfp_steps, tfp_repeats, batches)
    results["tfp_subprocess"] = tfp

    rows = []
    for config in results["configs"]:
        m = config["median_s"]
        t = {name: np.array(v) for name, v in config["all_s"].items()}
        reference = tfp[str(config["batch"])]
        # Ratios are paired within each interleaved repeat (the load of this shared machine
        # drifts between repeats), then the median is taken.
        rows.append(
            {
                "batch": config["batch"],
                "jit_compile": config["jit_compile"],
                "sgd_ms": 1e3 * m["sgd"],
                "adam_ms": 1e3 * m["adam"],
                "langevin_ms": 1e3 * m["langevin"],
                "langevin_rmsprop_ms": 1e3 * m["langevin_rmsprop"],
                "noise_ms": 1e3 * m["noise"],
                "langevin_minus_sgd_over_noise": float(
                    np.median((t["langevin"] - t["sgd"]) / t["noise"])
                ),
                "rmsprop_over_adam_plus_noise": float(
                    np.median(t["langevin_rmsprop"] / (t["adam"] + t["noise"]))
                ),
                "tfp_sgld_ms": 1e3 * reference["tfp_sgld"],
                "tfp_over_langevin": reference["tfp_sgld"] / m["langevin"],
                "tfp_over_langevin_rmsprop": reference["tfp_sgld"] / m["langevin_rmsprop"],
                "tfp_over_tf_keras_sgd": reference["tfp_sgld"] / reference["tf_keras_sgd"],
            }
        )
    results["rows"] = rows
    results["targets"] = {
        "langevin_minus_sgd_over_noise": "<= 1.25",
        "rmsprop_over_adam_plus_noise": "<= 1.25",
        "tfp_over_langevin": ">= 100",
    }
    results["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "quick": args.quick,
        "hidden": hidden,
    }

    header = (
        "| batch | jit | SGD ms | Adam ms | Langevin ms | pLangevin ms | noise ms "
        "| (L-SGD)/noise | pL/(Adam+noise) | TFP SGLD ms | TFP/L | TFP/pL |"
    )
    print(header)
    print("|" + "---|" * 12)
    for r in rows:
        print(
            f"| {r['batch']} | {'on' if r['jit_compile'] else 'off'} | {r['sgd_ms']:.2f} "
            f"| {r['adam_ms']:.2f} | {r['langevin_ms']:.2f} | {r['langevin_rmsprop_ms']:.2f} "
            f"| {r['noise_ms']:.2f} | {r['langevin_minus_sgd_over_noise']:.2f} "
            f"| {r['rmsprop_over_adam_plus_noise']:.2f} | {r['tfp_sgld_ms']:.0f} "
            f"| {r['tfp_over_langevin']:.0f} | {r['tfp_over_langevin_rmsprop']:.0f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
