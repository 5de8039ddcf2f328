"""Benchmark of keras_rg.information and LayerInformation against their anchors, side by side.

1. Known answers, n in {1000, 4000}: KSG against scikit-learn's ``mutual_info_regression`` (1-D
   bivariate normal) and against a plain NumPy/SciPy O(n^2) KSG reference (equicorrelated 3+3
   dimensions); Ross against ``mutual_info_classif``; KDE bounds and the Gaussian estimator on a
   linear Gaussian channel. Accuracy against the closed forms, medians of interleaved timings.
2. KDE bounds at n = 4096, d in {16, 256, 1024}, float64 and float32: time and peak memory (each
   run in a fresh process, the resident high-water mark reset just before the call, minus the
   resident size then) against a dense NumPy reference
   that holds the whole (n, n) matrix; and, in the full run, n = 20000 at d = 1024 (must fit 2 GB).
3. Callback overhead: per-epoch ``fit`` time of a 4x256 ReLU MLP on MNIST-shaped data (60000 x 784,
   10 classes, batch 128) with and without ``LayerInformation`` at its defaults (1000 probe
   points, every epoch, all layers), and with ``dtype="float64"``, interleaved and repeated, in
   wall and process CPU time (CPU time is the steadier figure on a shared machine). Target: <= 10%.

Absolute times on a shared machine are noise; the ratios are the figures.

Run:  python benchmarks/bench_information.py [--quick] [--out PATH]
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _median_time(fn, repeats):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), value


def _interleaved(fns, repeats):
    """Runs the callables round-robin ``repeats`` times; returns (median seconds, last value)."""
    times = {name: [] for name in fns}
    values = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            values[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (float(np.median(times[name])), values[name]) for name in fns}


# --------------------------------------------------------------------------------------------
# 1. Known answers


def reference_ksg(x, y, k=3):
    """Plain NumPy/SciPy KSG (algorithm 1): full max-norm distance matrices, np.partition."""
    from scipy.spatial.distance import cdist
    from scipy.special import digamma

    x = x / x.std(axis=0)
    y = y / y.std(axis=0)
    dx = cdist(x, x, "chebyshev")
    dy = cdist(y, y, "chebyshev")
    dz = np.maximum(dx, dy)
    np.fill_diagonal(dz, np.inf)
    eps = np.partition(dz, k - 1, axis=1)[:, k - 1][:, None]
    np.fill_diagonal(dx, np.inf)
    np.fill_diagonal(dy, np.inf)
    n_x = np.sum(dx < eps, axis=1)
    n_y = np.sum(dy < eps, axis=1)
    n = x.shape[0]
    return digamma(n) + digamma(k) - np.mean(digamma(n_x + 1)) - np.mean(digamma(n_y + 1))


def known_answers(sizes, repeats):
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    from keras_rg.information import gaussian_mi, kde_mi_input, ksg_mi, ross_mi

    rows = []
    rng = np.random.default_rng(0)
    rho = 0.75
    exact_biv = -0.5 * math.log(1 - rho**2)
    d = 3
    cov_eq = np.full((2 * d, 2 * d), 0.5) + 0.5 * np.eye(2 * d)
    exact_eq = math.log(d + 1) - 0.5 * math.log(2 * d + 1)
    sigma = np.array([[1.0, 0.5], [0.5, 1.0]])
    w = np.array([[1.0, 0.3], [-0.2, 0.8]])
    s2 = 0.5
    exact_ch = 0.5 * np.linalg.slogdet(np.eye(2) + w @ sigma @ w.T / s2)[1]
    for n in sizes:
        x = rng.normal(size=n)
        y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=n)
        res = _interleaved(
            {
                "ours ksg (tree)": lambda x=x, y=y: ksg_mi(x, y, algorithm="tree").value,
                "ours ksg (brute, TF)": lambda x=x, y=y: ksg_mi(x, y, algorithm="brute").value,
                "sklearn mutual_info_regression": lambda x=x, y=y: float(
                    mutual_info_regression(x[:, None], y, random_state=0)[0]
                ),
                "ours gaussian": lambda x=x, y=y: gaussian_mi(x, y).value,
            },
            repeats,
        )
        anchor = res["sklearn mutual_info_regression"][0]
        for name, (sec, value) in res.items():
            rows.append(
                {
                    "task": "bivariate normal rho=0.75 (1-D)",
                    "n": n,
                    "method": name,
                    "exact": exact_biv,
                    "estimate": value,
                    "error": value - exact_biv,
                    "seconds": sec,
                    "time_vs_anchor": sec / anchor,
                }  # fmt: skip
            )
        z = rng.multivariate_normal(np.zeros(2 * d), cov_eq, size=n)
        a, b = z[:, :d], z[:, d:]
        res = _interleaved(
            {
                "ours ksg (tree)": lambda a=a, b=b: ksg_mi(a, b, algorithm="tree").value,
                "ours ksg (brute, TF)": lambda a=a, b=b: ksg_mi(a, b, algorithm="brute").value,
                "NumPy/SciPy reference ksg": lambda a=a, b=b: reference_ksg(a, b),
                "ours gaussian": lambda a=a, b=b: gaussian_mi(a, b).value,
            },
            repeats,
        )
        anchor = res["NumPy/SciPy reference ksg"][0]
        for name, (sec, value) in res.items():
            rows.append(
                {
                    "task": "equicorrelated 3+3, rho=0.5",
                    "n": n,
                    "method": name,
                    "exact": exact_eq,
                    "estimate": value,
                    "error": value - exact_eq,
                    "seconds": sec,
                    "time_vs_anchor": sec / anchor,
                }  # fmt: skip
            )
        labels = rng.integers(0, 2, size=n)
        c = np.where(labels == 1, 1.0, -1.0) + rng.normal(size=n)
        res = _interleaved(
            {
                "ours ross (tree)": lambda c=c, lab=labels: ross_mi(c, lab).value,
                "sklearn mutual_info_classif": lambda c=c, lab=labels: float(
                    mutual_info_classif(c[:, None], lab, random_state=0)[0]
                ),
            },
            repeats,
        )
        anchor = res["sklearn mutual_info_classif"][0]
        exact_mix = _two_gaussian_classes(1.0, 1.0)
        for name, (sec, value) in res.items():
            rows.append(
                {
                    "task": "binary Y, X|Y ~ N(+-1, 1)",
                    "n": n,
                    "method": name,
                    "exact": exact_mix,
                    "estimate": value,
                    "error": value - exact_mix,
                    "seconds": sec,
                    "time_vs_anchor": sec / anchor,
                }  # fmt: skip
            )
        xs = rng.multivariate_normal([0.0, 0.0], sigma, size=n)
        t = xs @ w.T
        sec, est = _median_time(lambda t=t: kde_mi_input(t, noise_variance=s2), repeats)
        noisy = t + math.sqrt(s2) * rng.normal(size=t.shape)
        sec_g, gauss = _median_time(lambda xs=xs, noisy=noisy: gaussian_mi(xs, noisy), repeats)
        rows.append(
            {
                "task": "linear Gaussian channel (2-D, s2=0.5)",
                "n": n,
                "method": "ours kde bounds",
                "exact": exact_ch,
                "estimate": est.value,
                "lower": est.lower,
                "upper": est.upper,
                "bracketed": bool(est.lower <= exact_ch <= est.upper),
                "error": None,
                "seconds": sec,
                "time_vs_anchor": None,
            }  # fmt: skip
        )
        rows.append(
            {
                "task": "linear Gaussian channel (2-D, s2=0.5)",
                "n": n,
                "method": "ours gaussian",
                "exact": exact_ch,
                "estimate": gauss.value,
                "error": gauss.value - exact_ch,
                "seconds": sec_g,
                "time_vs_anchor": None,
            }  # fmt: skip
        )
    return rows


def _two_gaussian_classes(mean, variance):
    from scipy import integrate, stats

    sd = math.sqrt(variance)

    def density(z):
        return 0.5 * (stats.norm.pdf(z, -mean, sd) + stats.norm.pdf(z, mean, sd))

    h = -integrate.quad(lambda z: density(z) * math.log(density(z)), -30, 30, limit=200)[0]
    return h - 0.5 * math.log(2 * math.pi * math.e * variance)


# --------------------------------------------------------------------------------------------
# 2. KDE time and memory, one fresh process per configuration


def dense_kde(t, noise_variance=0.1):
    """Dense NumPy reference: the whole (n, n) squared-distance matrix at once."""
    from scipy.special import logsumexp

    sq = np.sum(t * t, axis=1)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (t @ t.T), 0.0)
    np.fill_diagonal(dist, 0.0)
    n = t.shape[0]
    upper = math.log(n) - np.mean(logsumexp(-dist / (2 * noise_variance), axis=1))
    lower = math.log(n) - np.mean(logsumexp(-dist / (8 * noise_variance), axis=1))
    return lower, upper


def memory_worker(method, n, d):
    """Runs one KDE in this (fresh) process and prints JSON: seconds, peak bytes, result."""
    from keras_rg.information import _blocks, kde_mi_input
    from keras_rg.information.kde import KDE_TEMPORARIES

    t = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    dtype = "float32" if method == "ours32" else "float64"
    if method.startswith("ours"):
        kde_mi_input(t[:64], block_size=16, dtype=dtype)  # load and trace outside the measurement
    else:
        dense_kde(t[:64].astype(np.float64))

    def kib(field):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field))

    with open("/proc/self/clear_refs", "w") as f:  # reset the resident high-water mark to now
        f.write("5")
    before = kib("VmRSS:")
    start = time.perf_counter()
    if method.startswith("ours"):
        est = kde_mi_input(t, dtype=dtype)
        lower, upper = est.lower, est.upper
    else:
        lower, upper = dense_kde(t.astype(np.float64))
    seconds = time.perf_counter() - start
    peak = (kib("VmHWM:") - before) * 1024
    size = 4 if dtype == "float32" else 8
    block = _blocks.plan_block_rows(n, d, temporaries=KDE_TEMPORARIES, itemsize=size)
    planned = _blocks.peak_bytes(n, d, block, temporaries=KDE_TEMPORARIES, itemsize=size)
    print(json.dumps({"method": method, "n": n, "d": d, "seconds": seconds, "peak_bytes": peak,
                      "planned_bytes": planned if method.startswith("ours") else None,
                      "block": block if method.startswith("ours") else None,
                      "lower": lower, "upper": upper}))  # fmt: skip


def _run_worker(method, n, d):
    out = subprocess.run(
        [sys.executable, __file__, "--memory-worker", method, str(n), str(d)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def kde_memory(n, dims, repeats, big):
    rows = []
    for d in dims:
        runs = {"ours": [], "ours32": [], "dense": []}
        for _ in range(repeats):
            for method in runs:
                runs[method].append(_run_worker(method, n, d))
        for results in runs.values():
            row = dict(results[-1])
            row["seconds"] = float(np.median([r["seconds"] for r in results]))
            row["peak_bytes"] = int(np.median([r["peak_bytes"] for r in results]))
            rows.append(row)
        dense = rows[-1]
        for ours in rows[-3:-1]:
            ours["time_vs_dense"] = ours["seconds"] / dense["seconds"]
            ours["memory_vs_dense"] = ours["peak_bytes"] / dense["peak_bytes"]
            ours["max_abs_diff_vs_dense"] = max(
                abs(ours["lower"] - dense["lower"]), abs(ours["upper"] - dense["upper"])
            )
    if big:
        rows.append(_run_worker("ours", 20000, 1024))
    return rows


# --------------------------------------------------------------------------------------------
# 3. Callback overhead


def callback_overhead(n, probe, epochs, repeats):
    import keras

    from keras_rg.callbacks.layer_information import LayerInformation

    class EpochTimer(keras.callbacks.Callback):
        """Last in the list: its epoch includes LayerInformation's end-of-epoch measurement."""

        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = (time.perf_counter(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            wall, cpu = self._start
            self.times.append((time.perf_counter() - wall, time.process_time() - cpu))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 784)).astype("float32")
    y = rng.integers(0, 10, size=n).astype("int32")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((784,))]
            + [keras.layers.Dense(256, activation="relu") for _ in range(4)]
            + [keras.layers.Dense(10)]
        )
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    variants = {"without": None, "with LayerInformation": "float32",
                "with LayerInformation (dtype float64)": "float64"}  # fmt: skip
    models = {name: build() for name in variants}
    for model in models.values():  # trace train functions outside the measurement
        model.fit(x[:1024], y[:1024], epochs=1, batch_size=128, verbose=0)
    per_epoch = {name: [] for name in models}
    fit_total = {name: [] for name in models}
    measure = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            timer = EpochTimer()
            callbacks = [timer]
            if variants[name] is not None:
                info = LayerInformation(x, y, probe_size=probe, dtype=variants[name])
                callbacks = [info, timer]
            start = time.perf_counter()
            model.fit(x, y, epochs=epochs, batch_size=128, verbose=0, callbacks=callbacks)
            fit_total[name].append(time.perf_counter() - start)
            per_epoch[name].extend(timer.times)
            if variants[name] is not None:
                for _ in range(2):
                    t0 = (time.perf_counter(), time.process_time())
                    info.measure(0)
                    measure[name].append((time.perf_counter() - t0[0], time.process_time() - t0[1]))
    out = {
        "setting": f"4x256 ReLU MLP, {n} x 784 inputs, 10 classes, batch 128, {epochs} epochs per "
        f"fit, probe {probe}, every epoch, all 5 layers, KDE",
        "epochs_measured_per_variant": len(per_epoch["without"]),
        "target": 0.10,
        "variants": {},
    }
    base = np.median(np.array(per_epoch["without"]), axis=0)
    base_fit = float(np.median(fit_total["without"]))
    for name in models:
        epoch = np.median(np.array(per_epoch[name]), axis=0)
        row = {
            "epoch_wall_seconds": float(epoch[0]),
            "epoch_cpu_seconds": float(epoch[1]),
            "epoch_overhead_wall": float(epoch[0] / base[0] - 1.0),
            "epoch_overhead_cpu": float(epoch[1] / base[1] - 1.0),
            "all_epochs_overhead_wall": float(
                np.sum(np.array(per_epoch[name])[:, 0])
                / np.sum(np.array(per_epoch["without"])[:, 0])
                - 1.0
            ),
            "fit_wall_seconds": float(np.median(fit_total[name])),
            "fit_overhead_wall_including_initial_measurement": float(
                np.median(fit_total[name]) / base_fit - 1.0
            ),
        }
        if measure[name]:
            m = np.median(np.array(measure[name]), axis=0)
            row["one_measurement_wall_seconds"] = float(m[0])
            row["one_measurement_cpu_seconds"] = float(m[1])
            row["measurement_over_base_epoch_cpu"] = float(m[1] / base[1])
        out["variants"][name] = row
    return out


# --------------------------------------------------------------------------------------------


def _print_tables(result):
    print("\n== Known answers (ratios: time / anchor's time) ==")
    print(f"{'task':<38} {'n':>5} {'method':<32} {'exact':>7} {'estimate':>9} {'error':>8} "
          f"{'ms':>8} {'x anchor':>8}")  # fmt: skip
    for r in result["known_answers"]:
        err = "" if r["error"] is None else f"{r['error']:+.4f}"
        ratio = "" if r["time_vs_anchor"] is None else f"{r['time_vs_anchor']:.2f}"
        extra = f" [{r['lower']:.3f}, {r['upper']:.3f}]" if "lower" in r else ""
        print(f"{r['task']:<38} {r['n']:>5} {r['method']:<32} {r['exact']:7.4f} "
              f"{r['estimate']:9.4f} {err:>8} {1e3 * r['seconds']:8.1f} {ratio:>8}{extra}")  # fmt: skip
    print("\n== KDE bounds: time and peak memory (fresh process each) ==")
    print(f"{'method':<6} {'n':>6} {'d':>5} {'s':>7} {'peak MiB':>9} {'plan MiB':>9} "
          f"{'x dense time':>12} {'x dense mem':>11} {'|diff| nats':>11}")  # fmt: skip
    for r in result["kde_memory"]:
        plan = "" if r.get("planned_bytes") is None else f"{r['planned_bytes'] / 2**20:9.0f}"
        tr = f"{r['time_vs_dense']:.2f}" if "time_vs_dense" in r else ""
        mr = f"{r['memory_vs_dense']:.2f}" if "memory_vs_dense" in r else ""
        diff = f"{r['max_abs_diff_vs_dense']:.1e}" if "max_abs_diff_vs_dense" in r else ""
        print(f"{r['method']:<6} {r['n']:>6} {r['d']:>5} {r['seconds']:7.2f} "
              f"{r['peak_bytes'] / 2**20:9.0f} {plan:>9} {tr:>12} {mr:>11} {diff:>11}")  # fmt: skip
    c = result["callback_overhead"]
    print("\n== LayerInformation overhead (target <= 10% per epoch) ==")
    print(c["setting"])
    print(f"{'variant':<40} {'epoch wall s':>12} {'epoch cpu s':>11} {'+wall':>7} {'+cpu':>7} "
          f"{'sum +wall':>9} {'fit +wall':>9} {'1 measure cpu s':>15} "
          f"{'measure/epoch cpu':>17}")  # fmt: skip
    for name, r in c["variants"].items():
        m = r.get("one_measurement_cpu_seconds")
        ratio = r.get("measurement_over_base_epoch_cpu")
        print(f"{name:<40} {r['epoch_wall_seconds']:12.2f} {r['epoch_cpu_seconds']:11.2f} "
              f"{100 * r['epoch_overhead_wall']:+6.1f}% {100 * r['epoch_overhead_cpu']:+6.1f}% "
              f"{100 * r['all_epochs_overhead_wall']:+8.1f}% "
              f"{100 * r['fit_overhead_wall_including_initial_measurement']:+8.1f}% "
              f"{'' if m is None else f'{m:.3f}':>15} "
              f"{'' if ratio is None else f'{100 * ratio:.1f}%':>17}")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results" / "bench_information.json")
    )
    parser.add_argument("--memory-worker", nargs=3, metavar=("METHOD", "N", "D"))
    args = parser.parse_args()
    if args.memory_worker:
        method, n, d = args.memory_worker
        memory_worker(method, int(n), int(d))
        return
    if args.quick:
        config = {"sizes": [300], "repeats": 2, "kde_n": 512, "dims": [16], "big": False,
                  "mlp_n": 2048, "probe": 200, "epochs": 2, "fit_repeats": 1}  # fmt: skip
    else:
        config = {"sizes": [1000, 4000], "repeats": 5, "kde_n": 4096, "dims": [16, 256, 1024],
                  "big": True, "mlp_n": 60000, "probe": 1000, "epochs": 3,
                  "fit_repeats": 3}  # fmt: skip
    import tensorflow as tf

    result = {
        "config": config,
        "machine": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "cpus": os.cpu_count(),
            "gpus": len(tf.config.list_physical_devices("GPU")),
            "load_average_at_start": os.getloadavg(),
        },  # fmt: skip
        "known_answers": known_answers(config["sizes"], config["repeats"]),
        "kde_memory": kde_memory(
            config["kde_n"], config["dims"], 1 if args.quick else 2, config["big"]
        ),  # fmt: skip
        "callback_overhead": callback_overhead(
            config["mlp_n"], config["probe"], config["epochs"], config["fit_repeats"]
        ),
    }
    _print_tables(result)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
