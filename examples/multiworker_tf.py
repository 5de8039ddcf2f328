"""TensorFlow multi-worker training of a keras_rg model: a custom loop under
MultiWorkerMirroredStrategy.

With Keras 3, ``model.fit`` under ``tf.distribute.MultiWorkerMirroredStrategy`` fails (upstream:
keras-team/keras#20585, tensorflow/tensorflow#72388). A custom training loop does run: this script
starts two workers on loopback (``TF_CONFIG``), each feeding its half of every global batch
(``distribute_datasets_from_function``), trains scale-covariant layers with ``RGOptimizer`` in
``strategy.run``, and compares with one process on the same global batches. Run
``python examples/multiworker_tf.py --quick``; docs/distributed.md has the recipe.
"""

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile

import numpy as np

TOLERANCE = 1e-5  # float32, relative: only the order of the cross-worker gradient sum differs


def worker(args):
    ports = args.ports.split(",")
    if len(ports) > 1:
        cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
        task = {"type": "worker", "index": args.process_id}
        os.environ["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": task})
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import tensorflow as tf

    import keras_rg

    n = len(ports)
    strategy = (
        tf.distribute.MultiWorkerMirroredStrategy() if n > 1 else tf.distribute.get_strategy()
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.global_batch * args.n_steps, 8)).astype("float32")
    y = np.tanh(x[:, :1]).astype("float32")
    with strategy.scope():
        keras.utils.set_random_seed(7)
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras_rg.ScaleCovariantDense(16, alpha=0.5, activation="tanh"),
                keras_rg.ScaleCovariantDense(1, alpha=0.5),
            ]
        )
        opt = keras_rg.RGOptimizer.for_model(model, keras.optimizers.SGD(0.05), epsilon=1e-2)
        opt.build(model.trainable_variables)
    per = args.global_batch // n
    rows = np.arange(len(x)).reshape(-1, args.global_batch)
    rows = rows[:, args.process_id * per : (args.process_id + 1) * per].reshape(-1)
    dataset = tf.data.Dataset.from_tensor_slices((x[rows], y[rows])).batch(per)

    @tf.function
    def step(xb, yb):
        def replica(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(model(xb, training=True) - yb)) / args.global_batch
            opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
            return loss

        return strategy.reduce("SUM", strategy.run(replica, args=(xb, yb)), axis=None)

    batches = strategy.distribute_datasets_from_function(lambda _: dataset) if n > 1 else dataset
    losses = [float(step(xb, yb)) for xb, yb in batches]
    np.savez(pathlib.Path(args.workdir) / f"weights_{args.tag}.npz", *model.get_weights())
    (pathlib.Path(args.workdir) / f"loss_{args.tag}.json").write_text(json.dumps(losses))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args):
    workdir = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="keras_rg_mwms_"))
    common = [sys.executable, __file__, "--worker", "--workdir", str(workdir),
              "--global-batch", str(args.global_batch), "--n-steps", str(args.n_steps)]  # fmt: skip
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(pathlib.Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    )
    ports = f"{free_port()},{free_port()}"
    runs = [(p, ports, f"p{p}") for p in range(2)] + [(0, "0", "single")]
    procs = [
        subprocess.Popen(
            common + ["--process-id", str(p), "--ports", pp, "--tag", tag],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for p, pp, tag in runs
    ]
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise RuntimeError(f"a worker ran past --timeout={args.timeout} s") from None
        if proc.returncode != 0:
            raise RuntimeError(f"a worker failed (exit {proc.returncode}):\n{out[-3000:]}")
    w = {t: [v for _, v in sorted(np.load(workdir / f"weights_{t}.npz").items())]
         for _, _, t in runs}  # fmt: skip

    def max_rel(a, b):
        return max(float(np.max(np.abs(u - v)) / max(np.max(np.abs(v)), 1e-30))
                   for u, v in zip(a, b, strict=True))  # fmt: skip

    return {
        "between_workers": max_rel(w["p0"], w["p1"]),
        "two_vs_one_process": max_rel(w["p0"], w["single"]),
        "loss": {t: json.loads((workdir / f"loss_{t}.json").read_text()) for _, _, t in runs},
        "tolerance": TOLERANCE,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (the test uses it)")
    parser.add_argument("--worker", action="store_true", help="run one worker (internal)")
    parser.add_argument("--process-id", type=int, default=0)
    parser.add_argument("--ports", default="0")
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--n-steps", type=int, default=40)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--tag", default="p0")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.global_batch, args.n_steps = 16, 4
    if args.worker:
        worker(args)
        return 0
    result = launch(args)
    print(json.dumps(result, indent=1))
    ok = max(result["between_workers"], result["two_vs_one_process"]) <= TOLERANCE
    print(
        f"two workers vs each other: {result['between_workers']:.1e}, vs one process: "
        f"{result['two_vs_one_process']:.1e} (relative, tolerance {TOLERANCE:.0e}): "
        + ("OK" if ok else "FAILED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
