"""Benchmark: keras_rg's Langevin samplers against TFP's NUTS on real posteriors (issue 13).

Sections, each run side by side in this process (problems and samplers: posterior_problems.py):

1. breast_cancer: Bayesian logistic regression on scikit-learn's breast-cancer data (569 × 30
   standardised + intercept, N(0, 1) prior), full batch. NUTS (TFP, 1000 warm-up + 6000 draws)
   is the reference; UnderdampedLangevin with a dense adapted mass, with a diagonal one, with the
   identity, and LangevinAnnealing (overdamped, the previous sampler) run beside it. Goals:
   means within 0.1 posterior sd and sds within 10 % of NUTS, min ESS per second >= NUTS's.
2. mixture: two well-separated 2-D Gaussians with weights 0.25 / 0.75, 2000 chains started in
   the light mode: the fraction in the heavy mode after a constant step and after the cyclical
   step sizes of Zhang et al. (ICLR 2020). Goal: cyclical within 3 SE of 0.75.
3. large_n: synthetic logistic regression, N = 10^6, d = 10: minibatch UnderdampedLangevin
   against NUTS, whose cost per gradient is measured on the full data (see the section).
4. diabetes: scikit-learn's diabetes regression with a small Bayesian MLP: predictive NLL and
   calibration of UnderdampedLangevin and NUTS on a held-out split, against the MAP point
   estimate.

Run:  python benchmarks/bench_posterior.py [--quick] [--sections a,b] [--out PATH]
Absolute times on this shared 2-core machine are noisy; both samplers are timed in one process.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import posterior_problems as pp  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_rg.optimizers import LangevinAnnealing, UnderdampedLangevin  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_posterior.json"


def _gradient(loss):
    def grad(w, step):
        del step
        with tf.GradientTape() as tape:
            tape.watch(w)
            value = loss(w)
        return tape.gradient(value, w)

    return grad


def breast_cancer(quick):
    x, y = pp.breast_cancer()
    n, d = x.shape
    grad = _gradient(pp.logistic_loss_fn(x, y))
    n_steps, burn_in = (10000, 2000) if quick else (40000, 4000)
    n_nuts = 3000 if quick else 6000
    ref, seconds, grads = pp.run_nuts(pp.logistic_log_prob(x, y), d, n_nuts, 1000)
    rows = {"nuts": pp.summarize(ref, seconds, grads)}
    # The reference against itself: first vs second half of the NUTS draws (Monte Carlo floor).
    rows["nuts"]["half_vs_half"] = {
        k: v
        for k, v in pp.summarize(ref[n_nuts // 2 :], 1.0, 1, ref[: n_nuts // 2]).items()
        if k.startswith(("max_mean", "sd_ratio"))
    }
    samplers = {
        "underdamped_dense": UnderdampedLangevin(
            0.3, friction=0.5, data_size=n, mass="dense", burn_in=burn_in, seed=0
        ),
        # A diagonal mass cannot whiten the collinear posterior: the whitened step 0.7 diverges
        # (measured), so it gets 0.2.
        "underdamped_diagonal": UnderdampedLangevin(
            0.3,
            friction=0.5,
            data_size=n,
            mass="diagonal",
            burn_in=burn_in,
            adapted_learning_rate=0.2,
            seed=0,
        ),
        "underdamped_identity": UnderdampedLangevin(0.3, friction=0.5, data_size=n, seed=0),
        "langevin_annealing": LangevinAnnealing(0.25, temperature=1.0, data_size=n, seed=0),
    }
    for name, optimizer in samplers.items():
        draws, seconds, grads = pp.run_keras_sampler(
            optimizer, grad, np.zeros(d), n_steps, 4, burn_in
        )
        if not np.all(np.isfinite(draws)):
            rows[name] = {"diverged": True}
            continue
        rows[name] = pp.summarize(draws, seconds, grads, ref)
        rows[name]["ess_per_second_vs_nuts"] = round(
            rows[name]["ess_per_second"] / rows["nuts"]["ess_per_second"], 2
        )
    best = rows["underdamped_dense"]
    goals = {
        "means_within_0.1_sd": best.get("max_mean_error_in_sd", 9) <= 0.1,
        "sds_within_10pct": 0.9 <= best.get("sd_ratio_min", 0)
        and best.get("sd_ratio_max", 9) <= 1.1,
        "ess_per_second_at_least_nuts": best.get("ess_per_second_vs_nuts", 0) >= 1.0,
    }
    return {"rows": rows, "goals": goals, "n_steps": n_steps, "burn_in": burn_in}


def mixture(quick):
    from keras_rg.schedules import CyclicalTemperature

    n_chains, cycle, n_cycles = 2000, 500, 4 if quick else 6
    out = {}
    for heavy in (0.5, 0.75):
        se = float(np.sqrt(heavy * (1 - heavy) / n_chains))
        rows = {}
        for name, optimizer in {
            "constant_step_0.05": LangevinAnnealing(0.05, temperature=1.0, seed=1),
            "cyclical_csgld": LangevinAnnealing(
                CyclicalTemperature(1.9, cycle), temperature=1.0, seed=1
            ),
        }.items():
            fractions = pp.mixture_fractions(optimizer, heavy, n_chains, cycle, n_cycles)
            final = float(np.mean(fractions[n_cycles // 2 :]))
            rows[name] = {
                "fraction_heavy_per_cycle": [round(f, 4) for f in fractions],
                "fraction_heavy_late_cycles": round(final, 4),
                "error_in_se": round((final - heavy) / se, 1),
                "within_3_se": abs(final - heavy) < 3 * se,
            }
        out[f"weight_{heavy}"] = {"target": heavy, "binomial_se": round(se, 4), "rows": rows}
    return out


def large_n(quick):
    """N = 10^6, d = 10. NUTS is run on a 20,000-row subsample (same geometry up to scale, unit
    mass, dual averaging): its leapfrogs per draw and ESS per gradient are measured there, and
    its cost on the full data is extrapolated as gradients × (measured seconds per full-data
    gradient). The reference posterior mean and sd are the Laplace approximation (Newton MAP),
    exact to O(1/N) here. Ours: UnderdampedLangevin, identity mass (the posterior is well
    conditioned), mini-batches of 1000, gradient-noise correction from the measured variance."""
    n, d, batch = (2 * 10**5 if quick else 10**6), 10, 1000
    x, y = pp.synthetic_logistic(n, d)
    ref, ref_sd = pp.laplace_reference(x.astype(np.float64), y.astype(np.float64))
    p = 1 / (1 + np.exp(-(x[:20000] @ ref)))
    v_hat = float(np.mean(((p - y[:20000])[:, None] * x[:20000]).var(0))) / batch
    n_steps, burn_in = (8000, 1000) if quick else (20000, 2000)
    optimizer = UnderdampedLangevin(0.5, friction=1.0, data_size=n, gradient_noise=v_hat, seed=0)
    draws, seconds, grads = pp.run_keras_sampler(
        optimizer, pp.minibatch_gradient(x, y, batch), np.zeros(d), n_steps, 4, burn_in
    )
    ours = pp.summarize(draws, seconds, grads)
    err = float(np.max(np.abs(draws.mean(0) - ref) / ref_sd))
    ours["max_mean_error_in_sd"] = round(err, 3)
    ratio = draws.std(0) / ref_sd
    ours["sd_ratio_min"], ours["sd_ratio_max"] = (
        round(float(ratio.min())),
        round(float(ratio.max())),
    )
    sub = 20000
    nuts_draws, nuts_seconds, nuts_grads = pp.run_nuts(
        pp.logistic_log_prob(x[:sub].astype(np.float64), y[:sub].astype(np.float64)), d, 1000, 500
    )
    nuts = pp.summarize(nuts_draws, nuts_seconds, nuts_grads)
    t_grad = pp.full_gradient_seconds(x, y, 5)
    ess_per_grad = nuts["ess_min"] / nuts_grads
    warmup_grads = nuts_grads * 500 / 1500
    # NUTS on the full data reaching our mean accuracy: ESS 1/err² (mean error ≈ sd/sqrt(ESS)).
    needed_grads = (1 / err**2) / ess_per_grad
    nuts_extrapolated = {
        "seconds_per_full_gradient": round(t_grad, 4),
        "ess_per_second_full_data": round(ess_per_grad / t_grad, 2),
        "warmup_seconds_full_data": round(warmup_grads * t_grad, 1),
        "seconds_to_our_mean_accuracy_without_warmup": round(needed_grads * t_grad, 2),
        "seconds_to_our_mean_accuracy_with_warmup": round(
            (needed_grads + warmup_grads) * t_grad, 1
        ),
    }
    return {
        "n": n,
        "batch_size": batch,
        "gradient_noise": v_hat,
        "ours": ours,
        "nuts_subsample": dict(nuts, rows=sub),
        "nuts_full_data_extrapolated": nuts_extrapolated,
        "ess_per_second_ratio_own_chain": round(
            ours["ess_per_second"] / nuts_extrapolated["ess_per_second_full_data"], 2
        ),
        "speedup_at_matched_mean_accuracy_with_warmup": round(
            nuts_extrapolated["seconds_to_our_mean_accuracy_with_warmup"] / seconds, 2
        ),
        "speedup_at_matched_mean_accuracy_without_warmup": round(
            nuts_extrapolated["seconds_to_our_mean_accuracy_without_warmup"] / seconds, 3
        ),
    }


def diabetes(quick):
    """Bayesian MLP 10-8-1 (tanh, 97 weights, N(0, 1) prior, Gaussian noise sd fixed at the MAP
    residual sd) on 70 % of scikit-learn's diabetes data; predictive NLL and calibration on the
    other 30 %, for UnderdampedLangevin (dense mass), NUTS (max tree depth 8) and the MAP."""
    import keras

    from keras_rg.posterior import posterior_predictive, predictive_metrics

    x, y, x_test, y_test = pp.diabetes_split()
    shapes = pp.mlp_shapes(x.shape[1], 8)
    dim = sum(int(np.prod(s)) for s in shapes)
    w0 = np.random.default_rng(0).normal(size=dim) * 0.3
    # MAP with Adam (noise sd 1 for the fit, then the residual sd as the known noise).
    w = tf.Variable(w0.astype(np.float32))
    adam, map_loss = keras.optimizers.Adam(0.01), pp.mlp_loss_fn(x, y, shapes, 1.0)
    for _ in range(2000):
        with tf.GradientTape() as tape:
            value = map_loss(w)
        adam.apply([tape.gradient(value, w)], [w])
    w_map = w.numpy().astype(np.float64)
    noise_sd = float(np.std(y - pp.mlp_forward(tf.constant(w_map), tf.constant(x), shapes).numpy()))
    loss = pp.mlp_loss_fn(x, y, shapes, noise_sd)
    n_steps, burn_in = (10000, 2000) if quick else (30000, 4000)
    optimizer = UnderdampedLangevin(
        0.05,
        friction=0.5,
        data_size=len(y),
        mass="dense",
        burn_in=burn_in,
        adapted_learning_rate=0.3,
        seed=0,
    )
    ours, seconds, grads = pp.run_keras_sampler(
        optimizer, _gradient(loss), w_map, n_steps, 10, burn_in
    )
    loss64 = pp.mlp_loss_fn(x, y, shapes, noise_sd, dtype=tf.float64)
    n_nuts = 200 if quick else 500
    nuts, nuts_seconds, nuts_grads = pp.run_nuts(
        lambda v: -len(y) * loss64(v), dim, n_nuts, n_nuts, max_tree_depth=8, start=w_map
    )
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )
    point = posterior_predictive(model, w_map[None], x_test, task="regression", noise_sd=noise_sd)
    rows = {}
    for name, draws, secs, n_grads in [
        ("underdamped_dense", ours, seconds, grads),
        ("nuts", nuts, nuts_seconds, nuts_grads),
    ]:
        if not np.all(np.isfinite(draws)):
            rows[name] = {"diverged": True}
            continue
        pred = posterior_predictive(model, draws, x_test, task="regression", noise_sd=noise_sd)
        metrics = predictive_metrics(pred, y_test, point=point)
        rows[name] = dict(
            pp.summarize(draws, secs, n_grads),
            test_nll=round(metrics.nll, 4),
            test_ece=round(metrics.ece, 4),
            map_test_nll=round(metrics.point_nll, 4),
            map_test_ece=round(metrics.point_ece, 4),
        )
    return {"noise_sd": round(noise_sd, 4), "parameters": dim, "rows": rows}


SECTIONS = {
    "breast_cancer": breast_cancer,
    "mixture": mixture,
    "large_n": large_n,
    "diabetes": diabetes,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    results = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "quick": args.quick,
    }
    for name in args.sections.split(","):
        start = time.perf_counter()
        results[name] = SECTIONS[name](args.quick)
        results[name]["wall_seconds"] = round(time.perf_counter() - start, 1)
        print(json.dumps({name: results[name]}, indent=1), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
