"""Step time of SGD, RGOptimizer, RGFlow, LangevinAnnealing and UnderdampedLangevin on TensorFlow
and JAX; two JAX processes on loopback against one.

Each backend runs in its own process (Keras fixes the backend at import) on the same model (two
``ScaleCovariantDense`` layers) and data; each variant is warmed up (compiled) and timed per
epoch, median over repeats. Printed: the ratio of each optimizer to plain SGD within a backend
(the cost of the RG step / the noise), and JAX over TensorFlow for each. A variant that fails on a
backend is reported with its error, not skipped silently. Then examples/multihost_jax.py's
two-process run against one process (second, compiled epoch). Absolute times on a shared 2-core
machine are noise; the ratios are the result. ``--device gpu`` and ``--dtype float64`` are the GPU
configurations (benchmarks/gpu_check.sh). Backends: docs/distributed.md.

    python benchmarks/bench_backends.py --quick
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = ("sgd", "rg_optimizer", "rg_flow", "langevin", "underdamped")


def _model(keras, keras_rg, width, dtype):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((32,)),
            keras_rg.ScaleCovariantDense(width, alpha=0.5, activation="tanh", dtype=dtype),
            keras_rg.ScaleCovariantDense(width, alpha=0.5, activation="tanh", dtype=dtype),
            keras_rg.ScaleCovariantDense(1, alpha=0.5, dtype=dtype),
        ]
    )


def backend_worker(args):
    """Times every variant on this process's backend; prints one JSON line."""
    import keras
    import numpy as np

    import keras_rg

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch * args.n_steps, 32)).astype(args.dtype)
    y = np.tanh(x[:, :1]).astype(args.dtype)
    out = {"backend": keras.backend.backend(), "seconds_per_step": {}, "errors": {}}
    peak = {}
    for name in VARIANTS:
        try:
            model = _model(keras, keras_rg, args.width, args.dtype)
            callbacks = []
            if name == "sgd":
                opt = keras.optimizers.SGD(1e-2)
            elif name == "rg_optimizer":
                opt = keras_rg.RGOptimizer.for_model(model, keras.optimizers.SGD(1e-2), 1e-3)
            elif name == "rg_flow":
                opt, callbacks = keras.optimizers.SGD(1e-2), [keras_rg.RGFlow(epsilon=1e-3)]
            elif name == "langevin":
                opt = keras_rg.LangevinAnnealing(1e-2, seed=1)
            else:
                opt = keras_rg.UnderdampedLangevin(0.1, temperature=1e-3, seed=1)
            model.compile(optimizer=opt, loss="mse", jit_compile=True)

            def epoch(model=model, callbacks=callbacks):
                model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0,
                          callbacks=callbacks)  # fmt: skip

            epoch()  # compile
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                epoch()
                times.append(time.perf_counter() - start)
            out["seconds_per_step"][name] = statistics.median(times) / args.n_steps
        except Exception as err:  # reported, not hidden: e.g. a TensorFlow-only optimizer on JAX
            out["errors"][name] = f"{type(err).__name__}: {str(err)[:200]}"
    if args.device == "gpu":
        peak = _peak_memory(keras.backend.backend())
    out["peak_memory_bytes"] = peak
    print(json.dumps(out))


def _peak_memory(backend):
    if backend == "tensorflow":
        import tensorflow as tf

        return {d.name: tf.config.experimental.get_memory_info(d.name.replace("/physical_device:",
                "")).get("peak", 0) for d in tf.config.list_physical_devices("GPU")}  # fmt: skip
    import jax

    return {str(d): (d.memory_stats() or {}).get("peak_bytes_in_use", 0) for d in jax.devices()}


def run_backend(name, args):
    env = dict(os.environ, KERAS_BACKEND=name, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    if args.device == "cpu":
        env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    if args.dtype == "float64":
        env["JAX_ENABLE_X64"] = "1"
    cmd = [sys.executable, __file__, "--backend-worker", "--batch", str(args.batch), "--n-steps",
           str(args.n_steps), "--width", str(args.width), "--repeats", str(args.repeats),
           "--dtype", args.dtype, "--device", args.device]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        return {"backend": name, "seconds_per_step": {}, "errors": {"all": proc.stderr[-500:]}}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def multihost(args):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "multihost_jax", ROOT / "examples" / "multihost_jax.py"
    )
    multihost_jax = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(multihost_jax)

    steps = 8 if args.quick else 40
    result = multihost_jax.launch(
        multihost_jax.parse(
            [
                "--global-batch",
                str(args.batch),
                "--n-steps",
                str(steps),
                "--no-resume",
                "--timeout",
                "600",
            ]
        )  # fmt: skip
    )
    t = result["epoch2_step_seconds"]
    return {
        "optimizer": result["optimizer"],
        "seconds_per_step": t,
        "two_process_over_one": t["p0"] / t["single"],
        "two_vs_one_process_max_relative_weight_difference": result["two_vs_one_process"],
        "between_processes": result["between_processes"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend-worker", action="store_true", help="internal")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--n-steps", type=int, default=50)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument("--no-multihost", action="store_true", help="skip the two-process run")
    parser.add_argument("--out", default=None)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if args.backend_worker:
        backend_worker(args)
        return 0
    if args.quick:
        args.n_steps, args.width, args.repeats = 10, 64, 2
    from benchmarks._runner import output_path

    suffix = (
        "" if (args.device, args.dtype) == ("cpu", "float32") else f"_{args.device}_{args.dtype}"
    )
    path = output_path(f"backends{suffix}", args)
    runs = {name: run_backend(name, args) for name in ("tensorflow", "jax")}
    report = {"config": vars(args), "backends": runs, "ratio_to_sgd": {}, "jax_over_tensorflow": {}}
    for name, run in runs.items():
        t = run["seconds_per_step"]
        report["ratio_to_sgd"][name] = {v: t[v] / t["sgd"] for v in t if "sgd" in t}
        for v, err in run["errors"].items():
            print(f"{name:10s} {v:13s} FAILED: {err}")
    for v in VARIANTS:
        tf_t, jax_t = (runs[b]["seconds_per_step"].get(v) for b in ("tensorflow", "jax"))
        if tf_t and jax_t:
            report["jax_over_tensorflow"][v] = jax_t / tf_t
    print(f"{'variant':13s} {'TF ms/step':>10s} {'JAX ms/step':>11s} {'TF /SGD':>8s} "
          f"{'JAX /SGD':>8s} {'JAX/TF':>7s}")  # fmt: skip
    for v in VARIANTS:
        cells = []
        for b in ("tensorflow", "jax"):
            t = runs[b]["seconds_per_step"].get(v)
            cells.append(f"{1e3 * t:.3f}" if t else "failed")
        ratios = [report["ratio_to_sgd"][b].get(v) for b in ("tensorflow", "jax")]
        jt = report["jax_over_tensorflow"].get(v)
        print(f"{v:13s} {cells[0]:>10s} {cells[1]:>11s} "
              + " ".join(f"{r:8.2f}" if r else f"{'-':>8s}" for r in ratios)
              + (f" {jt:7.2f}" if jt else f" {'-':>7s}"))  # fmt: skip
    if not args.no_multihost and args.device == "cpu":
        report["multihost_jax"] = mh = multihost(args)
        print(f"JAX two processes over one ({mh['optimizer']}, compiled epoch, loopback): "
              f"{mh['two_process_over_one']:.2f}x per step; weights differ by "
              f"{mh['two_vs_one_process_max_relative_weight_difference']:.1e}")  # fmt: skip
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
