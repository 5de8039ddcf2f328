"""Benchmark: the exact radial sampler against TFP's HMC and NUTS, and log Z / MLE against SciPy.

1. Sampling N = 16, R = 2 (θ = (0.5, 0.1), A = I): ``RadialExponentialFamily.sample`` (exact,
   independent draws) against ``tfp.mcmc.HamiltonianMonteCarlo`` and ``NoUTurnSampler`` on the same
   ``log_prob`` (10 parallel chains, XLA-compiled, step size adapted during burn-in). The figure is
   effective samples per second, with TFP's ``effective_sample_size`` for every sampler (summed over
   chains; the minimum over the 16 coordinates, and that of ρ = |x|²). Compilation is excluded;
   burn-in is included in the MCMC time. Target (issue 6): ours >= 100× HMC.
2. Log-partition at N = 16 and N = 1024: ours against ``scipy.integrate.quad`` of
   ρ^(N/2−1) e^(−Σ θ_r ρ^r) on (0, ∞) (plain, not in log space), time and error against a
   40-digit mpmath value.
3. MLE of θ from 10^4 radii (N = 16, R = 2): ours (Newton on the exact log-partition) against
   ``scipy.optimize.minimize`` (L-BFGS-B, numerical gradient) on the likelihood with the quad
   log-partition.

Every pair runs in one process, interleaved and repeated; medians are reported. Absolute times on a
shared machine are noise: the ratios are the figure.

Run:  python benchmarks/bench_exponential_family.py [--quick] [--out PATH] [--overwrite]
"""

import argparse
import json
import math
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
from _runner import add_output_arguments, median_seconds, output_path  # noqa: E402
from scipy import integrate, optimize  # noqa: E402

from keras_rg.systems.coupling_fit import fit_couplings  # noqa: E402
from keras_rg.systems.exponential_family import (  # noqa: E402
    RadialExponentialFamily,
    log_partition,
)

tf.get_logger().setLevel("ERROR")  # TFP's FFT-based ESS warns about complex casts
THETA = (0.5, 0.1)
DIM = 16


def _median_time(fn, repeats):
    return float(median_seconds(fn, repeats, warmup=1))


# ------------------------------------------------------------------------------ sampling
def _ess(chains):
    """chains: (steps, n_chains, dim) -> (min coordinate ESS, ESS of ρ), summed over chains."""
    chains = tf.convert_to_tensor(chains, tf.float64)
    coord = tf.reduce_sum(tfp.mcmc.effective_sample_size(chains), axis=0)
    rho = tf.reduce_sum(chains**2, axis=-1)
    radial = tf.reduce_sum(tfp.mcmc.effective_sample_size(rho))
    return float(tf.reduce_min(coord)), float(radial)


def _mcmc_runner(dist, kind, n_chains, n_results, n_burnin):
    def kernel():
        if kind == "hmc":
            inner = tfp.mcmc.HamiltonianMonteCarlo(
                dist.log_prob, step_size=0.3, num_leapfrog_steps=8
            )
        else:
            inner = tfp.mcmc.NoUTurnSampler(dist.log_prob, step_size=0.3, max_tree_depth=6)
        return tfp.mcmc.SimpleStepSizeAdaptation(
            inner, num_adaptation_steps=int(0.8 * n_burnin), target_accept_prob=0.75
        )

    @tf.function(jit_compile=True, autograph=False)
    def run(seed):
        return tfp.mcmc.sample_chain(
            n_results,
            current_state=tf.zeros([n_chains, DIM]),
            kernel=kernel(),
            num_burnin_steps=n_burnin,
            trace_fn=None,
            seed=seed,
        )

    return run


def bench_sampling(n, repeats, quick):
    dist = RadialExponentialFamily(THETA, dim=DIM)
    exact_rho = dist.radial_moment(1)
    n_chains = 10
    runs = {
        "ours": lambda s: dist.sample(n, seed=(7, s)),
        "tfp_hmc": _mcmc_runner(dist, "hmc", n_chains, n // n_chains, n // (10 * n_chains)),
    }
    nuts_results = (n // 10) // n_chains  # NUTS is slower per draw: ESS/s needs fewer draws
    runs["tfp_nuts"] = _mcmc_runner(dist, "nuts", n_chains, nuts_results, nuts_results // 10 + 50)
    # Warm-up (tracing, XLA compilation) outside the timings.
    for name, run in runs.items():
        seed = 0 if name == "ours" else tf.constant([1, 0])
        run(seed)
    times = {k: [] for k in runs}
    samples = {}
    for rep in range(repeats):
        for name, run in runs.items():  # interleaved
            seed = rep + 1 if name == "ours" else tf.constant([1, rep + 1])
            start = time.perf_counter()
            out = run(seed)
            out = out.numpy()
            times[name].append(time.perf_counter() - start)
            samples[name] = out
    result = {}
    for name, out in samples.items():
        chains = out[:, None, :] if name == "ours" else out  # ours: one chain of iid draws
        ess_min, ess_rho = _ess(chains)
        t = float(np.median(times[name]))
        draws = int(np.prod(out.shape[:-1]))
        mean_rho = float(np.mean(np.sum(out.astype(np.float64) ** 2, axis=-1)))
        result[name] = {
            "draws": draws,
            "seconds": t,
            "ess_min_coordinate": ess_min,
            "ess_radial": ess_rho,
            "ess_per_second_min_coordinate": ess_min / t,
            "ess_per_second_radial": ess_rho / t,
            "mean_rho": mean_rho,
            "exact_mean_rho": exact_rho,
        }
    return result


# ------------------------------------------------------------------------------ log Z and MLE
def _quad_log_partition(theta, dim):
    a = dim / 2

    def f(r):
        return r ** (a - 1) * math.exp(-sum(t * r ** (k + 1) for k, t in enumerate(theta)))

    with np.errstate(all="ignore"):
        try:
            val = integrate.quad(f, 0.0, np.inf, limit=200)[0]
            log_i = math.log(val)
        except (OverflowError, ValueError):
            log_i = math.nan
    return 0.5 * dim * math.log(math.pi) - math.lgamma(a) + log_i


def _mpmath_log_partition(theta, dim):
    try:
        import mpmath
    except ImportError:  # pragma: no cover
        return None
    mpmath.mp.dps = 40
    a = mpmath.mpf(dim) / 2

    def f(u):
        return mpmath.exp(a * u - sum(t * mpmath.exp((k + 1) * u) for k, t in enumerate(theta)))

    a_f = dim / 2
    peak = optimize.brentq(
        lambda u: a_f - sum((k + 1) * t * math.exp((k + 1) * u) for k, t in enumerate(theta)),
        -50.0,
        50.0,
    )
    pts = [-400, peak - 20, peak - 5, peak - 1, peak, peak + 1, peak + 3, peak + 10]
    log_i = mpmath.log(mpmath.quad(f, pts))
    return float(dim / 2 * mpmath.log(mpmath.pi) - mpmath.loggamma(a) + log_i)


def bench_log_partition(repeats, calls):
    out = {}
    for dim in (DIM, 1024):
        ref = _mpmath_log_partition(THETA, dim)
        t_ours, t_quad = [], []
        for _ in range(repeats):
            t_ours.append(_median_time(lambda d=dim: log_partition(THETA, dim=d), calls))
            t_quad.append(_median_time(lambda d=dim: _quad_log_partition(THETA, d), calls))
        ours, quad = log_partition(THETA, dim=dim), _quad_log_partition(THETA, dim)
        out[f"N={dim}"] = {
            "ours_seconds": float(np.median(t_ours)),
            "scipy_quad_seconds": float(np.median(t_quad)),
            "ours_abs_error": None if ref is None else abs(ours - ref),
            "scipy_quad_abs_error": None if ref is None or math.isnan(quad) else abs(quad - ref),
            "scipy_quad_value": quad,
            "reference": ref,
        }
    return out


def _scipy_mle(rho, dim, order):
    m = np.array([np.mean(rho**r) for r in range(1, order + 1)])

    def nll(theta):
        if theta[-1] <= 0:
            return np.inf
        a = dim / 2

        def f(r):
            return r ** (a - 1) * math.exp(-sum(t * r ** (k + 1) for k, t in enumerate(theta)))

        val = integrate.quad(f, 0.0, np.inf, limit=200)[0]
        return float(theta @ m) + math.log(val)

    x0 = np.zeros(order)
    x0[0] = (dim / 2) / m[0]
    x0[-1] = max(x0[-1], 1e-3)
    bounds = [(0.0, None)] * (order - 1) + [(1e-12, None)]
    res = optimize.minimize(nll, x0, method="L-BFGS-B", bounds=bounds)
    return res.x


def bench_mle(repeats, n):
    dist = RadialExponentialFamily(THETA, dim=DIM)
    rho = dist.radial_quantile(np.random.default_rng(0).uniform(size=n)).numpy()
    t_ours, t_ref = [], []
    fit_couplings(rho=rho, dim=DIM, order=2)  # warm-up: both variants fill their caches first
    _scipy_mle(rho, DIM, 2)
    for _ in range(repeats):
        start = time.perf_counter()
        ours = fit_couplings(rho=rho, dim=DIM, order=2)
        t_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        ref = _scipy_mle(rho, DIM, 2)
        t_ref.append(time.perf_counter() - start)
    return {
        "n": n,
        "ours_seconds": float(np.median(t_ours)),
        "scipy_seconds": float(np.median(t_ref)),
        "ours_theta": ours.theta.tolist(),
        "ours_stderr": ours.stderr.tolist(),
        "scipy_theta": ref.tolist(),
        "difference_in_stderr": ((ref - ours.theta) / ours.stderr).tolist(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    add_output_arguments(parser)
    args = parser.parse_args()
    out_path = output_path("exponential_family", args)
    n = 10_000 if args.quick else 100_000
    repeats = 2 if args.quick else 5
    sampling = bench_sampling(n, repeats, args.quick)
    logz = bench_log_partition(repeats, 5 if args.quick else 20)
    mle = bench_mle(repeats, 2000 if args.quick else 10_000)

    print(f"\nSampling {n} draws, N = {DIM}, R = 2 (median of {repeats}, interleaved)")
    print(f"{'sampler':<10}{'seconds':>10}{'ESS min':>12}{'ESS ρ':>12}{'ESS/s min':>12}"
          f"{'ESS/s ρ':>12}{'ours ÷ it (min, ρ)':>22}{'mean ρ':>10}")  # fmt: skip
    ours = sampling["ours"]
    for name, r in sampling.items():
        ratio_min = ours["ess_per_second_min_coordinate"] / r["ess_per_second_min_coordinate"]
        ratio_rho = ours["ess_per_second_radial"] / r["ess_per_second_radial"]
        print(f"{name:<10}{r['seconds']:>10.3f}{r['ess_min_coordinate']:>12.0f}"
              f"{r['ess_radial']:>12.0f}{r['ess_per_second_min_coordinate']:>12.3g}"
              f"{r['ess_per_second_radial']:>12.3g}{ratio_min:>11.1f}×{ratio_rho:>9.1f}×"
              f"{r['mean_rho']:>10.4f}")  # fmt: skip
    print(f"(exact E[ρ] = {ours['exact_mean_rho']:.4f})")
    print("\nlog-partition (median time per call; abs. error against 40-digit mpmath)")
    for key, r in logz.items():
        ratio = r["scipy_quad_seconds"] / r["ours_seconds"]
        quad_err = r["scipy_quad_abs_error"]
        quad_err = "failed (under/overflow)" if quad_err is None else f"{quad_err:.2e}"
        print(f"  {key:<8} ours {r['ours_seconds'] * 1e3:7.3f} ms, error {r['ours_abs_error']:.2e}"
              f" | scipy quad {r['scipy_quad_seconds'] * 1e3:7.3f} ms, error {quad_err}"
              f" | ours ÷ quad time {1 / ratio:5.2f}")  # fmt: skip
    print(f"\nMLE from {mle['n']} radii: ours {mle['ours_seconds'] * 1e3:.1f} ms, SciPy L-BFGS-B + "
          f"quad {mle['scipy_seconds'] * 1e3:.1f} ms ({mle['scipy_seconds'] / mle['ours_seconds']:.1f}×"
          f"); θ̂ ours {np.round(mle['ours_theta'], 5).tolist()} ± "
          f"{np.round(mle['ours_stderr'], 5).tolist()}, SciPy {np.round(mle['scipy_theta'], 5).tolist()}")  # fmt: skip

    record = {
        "benchmark": "bench_exponential_family",
        "quick": args.quick,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "tensorflow": tf.__version__, "tfp": tfp.__version__},
        "sampling": sampling,
        "log_partition": logz,
        "mle": mle,
        "target_ours_over_hmc_ess_per_second": 100.0,
        "ratio_ours_over_hmc": {
            "min_coordinate": ours["ess_per_second_min_coordinate"]
            / sampling["tfp_hmc"]["ess_per_second_min_coordinate"],
            "radial": ours["ess_per_second_radial"] / sampling["tfp_hmc"]["ess_per_second_radial"],
        },
    }  # fmt: skip
    out_path.write_text(json.dumps(record, indent=2))
    print(f"\nwrote {out_path}")


if __name__ == "__main__":
    main()
