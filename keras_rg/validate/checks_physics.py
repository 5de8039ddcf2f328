"""Validation checks of the physics claims: Theorem 6 of Liaw's paper (a learned coarse-graining and
the Ising RG flow; docs/rsmi.md) and Theorem 3.1 of the exponential-family paper (feature-layer
couplings flow to the RG fixed point; docs/exponential_family.md)."""

import math

import numpy as np

from keras_rg.plotting.couplings import plot_coupling_trajectory
from keras_rg.validate.result import CheckResult

__all__ = ["check_theorem_3_1", "check_theorem_6"]


def _mean_se(values, single_se):
    """Mean over seeds and its standard error (the pipeline's own error for one seed)."""
    v = np.asarray(values, dtype=float)
    if len(v) >= 2:
        return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))
    return float(v[0]), float(single_se[0])


def check_theorem_6(ctx):
    """An RSMI coarse-graining, trained with no knowledge of RG, beside the majority rule and
    the exact K_c, nu = 1: does the learned map's coupling flow reproduce the Ising RG flow?"""
    from keras_rg.experiments.rsmi import rsmi_versus_majority
    from keras_rg.systems.ising import CRITICAL_COUPLING as KC

    seeds = ctx.seeds(smoke=1, quick=1, full=3)
    runs = [
        rsmi_versus_majority(size=ctx.pick(32, 64, 64), n_chains=ctx.pick(4, 8, 16),
                             n_samples=ctx.pick(25, 50, 100), n_couplings=ctx.pick(5, 5, 9),
                             n_pairs=ctx.pick(4000, 20000, 40000), n_epochs=ctx.pick(2, 8, 12),
                             seed=seed)
        for seed in seeds
    ]  # fmt: skip
    primary = ("nn+nnn", 2)  # stated before the measurement: the flow after one step

    def collect(name, proj, lvl):
        fps = [r["fixed_points"][name][proj][lvl] for r in runs]
        kc = _mean_se([f.critical_coupling for f in fps], [f.critical_coupling_error for f in fps])
        yt = _mean_se([f.y_t for f in fps], [f.y_t_error for f in fps])
        return {"K_c": kc, "y_t": yt, "found": all(f.found for f in fps)}

    table = {name: {f"{proj}, level {lvl - 1}->{lvl}": collect(name, proj, lvl)
                    for proj in ("nn", "nn+nnn") for lvl in (1, 2)}
             for name in ("learned", "majority")}  # fmt: skip
    key = f"{primary[0]}, level {primary[1] - 1}->{primary[1]}"
    learned, majority = table["learned"][key], table["majority"][key]
    cosines = [r["rsmi"].cosine for r in runs]
    block_like = all(c >= 0.95 for c in cosines) and all(r["rsmi"].sign_consistent for r in runs)

    def miss(entry):  # relative distances from the exact values, and their errors
        (kc, kc_se), (yt, yt_se) = entry["K_c"], entry["y_t"]
        return abs(kc / KC - 1), kc_se / KC, abs(yt - 1), yt_se

    lk, lk_se, ly, ly_se = miss(learned)
    mk, mk_se, my, my_se = miss(majority)
    goals = {
        "filter_block_spin_like": block_like,
        "K_c_within_2pct": bool(learned["found"] and lk <= 0.02),
        "y_t_within_10pct": bool(learned["found"] and ly <= 0.10),
        "K_c_no_farther_than_majority": bool(lk <= mk + 2 * math.hypot(lk_se, mk_se)),
        "y_t_no_farther_than_majority": bool(ly <= my + 2 * math.hypot(ly_se, my_se)),
        "y_t_resolved_to_5pct": bool(ly_se <= 0.05),  # else a 10% test has no power
    }
    if all(goals.values()):
        verdict = "holds"
    elif block_like and goals["K_c_within_2pct"]:
        verdict = "holds with caveat"
    else:
        verdict = "does not hold"
    last = runs[0]
    figure = ctx.figure(
        "theorem_6",
        lambda path: _rsmi_figure(path, last),
    )

    def fmt(entry):
        (kc, kc_se), (yt, yt_se) = entry["K_c"], entry["y_t"]
        return f"K_c {kc:.4f}±{kc_se:.4f} ({100 * (kc / KC - 1):+.1f}%), y_t {yt:.2f}±{yt_se:.2f}"

    one_step = "nn, level 0->1"
    n = len(seeds)
    return CheckResult(
        name="theorem_6",
        source="Liaw, Theorem 6",
        claim="There is a mapping between the RG flow of network parameters and the flow of "
        "Ising couplings near criticality.",
        measured=(
            f"RSMI coarse-graining (2x2 blocks -> binary variable by a relaxed sampler, trained "
            f"to maximise InfoNCE of I(block variable; environment beyond a buffer) on 2-D Ising "
            f"samples at K_c, no RG built in), {n} seed{'s' if n > 1 else ''}, L = {ctx.pick(32, 64, 64)}: learned "
            f"filter |cos| to the uniform filter {', '.join(f'{c:.3f}' for c in cosines)} "
            f"({'sign-consistent' if block_like else 'not block-spin-like'}). Flow of the "
            f"effective nn coupling (pseudo-likelihood nn+nnn, after one step; errors "
            f"{'over seeds' if n > 1 else 'by delete-one-chain jackknife'}): learned map "
            f"{fmt(learned)}; majority rule {fmt(majority)}; exact K_c {KC:.6f}, y_t = 1. The "
            f"one-step flow from the nn axis (nn only) is limited by the one-coupling "
            f"truncation: learned {fmt(table['learned'][one_step])}, majority "
            f"{fmt(table['majority'][one_step])}. Goals met: "
            f"{', '.join(k for k, v in goals.items() if v) or 'none'}; missed: "
            f"{', '.join(k for k, v in goals.items() if not v) or 'none'}. A network trained "
            f"with no knowledge of RG {'learns' if verdict != 'does not hold' else 'does not learn'}"
            " a map whose coupling flow is the Ising RG flow"
            f"{' (with the y_t caveat)' if verdict == 'holds with caveat' else ''}."
        ),
        verdict=verdict,
        rule=(
            "holds if the learned filter is block-spin-like (|cos| >= 0.95 to the uniform filter, "
            "one sign, every seed), and the learned map's flow (effective nn + nnn coupling, "
            "level 1 -> 2) stops within 2% of K_c = 0.440687 with y_t within 10% of 1, each no "
            "farther from the exact value than the majority rule's (+2 combined s.e.), and y_t's "
            "s.e. <= 0.05 (so that the 10% test can fail); holds with caveat if the filter and "
            "K_c goals are met but a y_t goal is not; otherwise does not hold"
        ),
        values={
            "goals": goals,
            "table": table,
            "cosines": cosines,
            "seeds": seeds,
            "filters": [r["rsmi"].kernel.tolist() for r in runs],
            "flows": {
                name: {p: f.to_dict() for p, f in fl.items()} for name, fl in last["flows"].items()
            },
        },  # fmt: skip
        figure=figure,
        effect=(
            f"learned-map K_c - exact = {learned['K_c'][0] - KC:+.4f} ± {learned['K_c'][1]:.4f}, "
            f"y_t - 1 = {learned['y_t'][0] - 1:+.2f} ± {learned['y_t'][1]:.2f} ({n} seed"
            f"{'s' if n > 1 else ''}; majority: {majority['K_c'][0] - KC:+.4f}, "
            f"{majority['y_t'][0] - 1:+.2f})"
        ),
        n_seeds=n,
        falsified_if=(
            "the learned filter's |cos| to the uniform filter falls below 0.95, or its flow stops "
            "more than 2% from K_c = 0.4407 or has y_t outside 0.9..1.1, by more than 2 s.e."
        ),
    )


def _rsmi_figure(path, run):
    from keras_rg.plotting.rsmi import plot_rsmi

    flows = {name: run["flows"][name]["nn+nnn"] for name in ("learned", "majority")}
    fps = {name: run["fixed_points"][name]["nn+nnn"][2] for name in ("learned", "majority")}
    return plot_rsmi(run["rsmi"].kernel, flows, fps, path=path,
                     title="Theorem 6: RSMI coarse-graining vs the majority rule")  # fmt: skip


def _fmt(v, se=None):
    if se is None:
        return "(" + ", ".join(f"{a:.4g}" for a in v) + ")"
    return "(" + ", ".join(f"{a:.4g}±{b:.2g}" for a, b in zip(v, se, strict=True)) + ")"


def _p(p):
    return "< 1e-300" if p < 1e-300 else f"{p:.2g}"


def _intervals(test):
    return "(" + ", ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in test.intervals) + ")"


def check_theorem_3_1(ctx):
    """θ̃^T of a student trained by simulated annealing against θ*, with a likelihood-ratio test
    and profile intervals that stay valid at the domain bound, and two controls."""
    from keras_rg.experiments.teacher_student import teacher_student_experiment
    from keras_rg.systems.coupling_inference import laplace_couplings

    theta = (0.5, 0.1)
    sizes = dict(samples=ctx.pick(256, 512, 2048), epochs=ctx.pick(10, 30, 300),
                 steps_per_epoch=ctx.pick(5, 5, 10), every_n_epochs=ctx.pick(5, 10, 50),
                 jit_compile=ctx.mode == "full")  # fmt: skip
    seeds = ctx.seeds(smoke=1, quick=3, full=5)
    control_seeds = seeds[: ctx.pick(1, 1, 5)]
    runs = [teacher_student_experiment(theta=theta, seed=s, **sizes) for s in seeds]
    controls = {
        "no annealing (gradient descent)": [
            teacher_student_experiment(theta=theta, seed=s, optimizer="gradient_descent", **sizes)
            for s in control_seeds
        ],
        "no τ‖W − W*‖² term": [
            teacher_student_experiment(theta=theta, seed=s, tau=0.0, **sizes) for s in control_seeds
        ],
    }
    alpha = 0.0027  # the two-sided 3-sigma level
    p_values = [r.test.p_value for r in runs]
    rejected = [p < alpha for p in p_values]
    verdict = "does not hold" if any(rejected) else "holds"
    result = runs[0]
    at_bound = [bool(b) for b in result.test.at_bound]
    m, v = result.radius_moments
    dim_f = result.config["features"]
    laplace = laplace_couplings(m, v, dim_f)
    gaps = np.array([r.theta_t[-1] - r.theta_star for r in runs])
    gap_mean = gaps.mean(axis=0)
    gap_se = (
        gaps.std(axis=0, ddof=1) / math.sqrt(len(runs))
        if len(runs) > 1
        else np.full(gaps.shape[1], np.nan)
    )
    lr = np.array([r.test.statistic for r in runs])
    figure = ctx.figure(
        "theorem_3_1",
        lambda path: plot_coupling_trajectory(
            result, path=path, title="Theorem 3.1: θ̃^t of the student's feature layer"
        ),
    )

    def control_text(name, rs):
        reach = [float(np.max(np.abs(r.test.theta_hat - r.teacher_test.theta_hat))) for r in rs]
        ps = [r.test.p_value for r in rs]
        return (f"{name}: θ̃^T {_fmt(rs[0].test.theta_hat)}, max |θ̃^T − θ̃(W*)| "
                f"{max(reach):.3g}, LR p(θ̃^T = θ*) <= {_p(max(ps))}")  # fmt: skip

    bound_text = (
        f"θ̃_{', θ̃_'.join(str(i + 1) for i, b in enumerate(at_bound) if b)} at the domain bound 0"
        if any(at_bound) else "no coupling at the domain bound"
    )  # fmt: skip
    return CheckResult(
        name="theorem_3_1",
        source="Gong & Xia, Theorem 3.1",
        claim="For exponential-family data, an FCDNN trained by simulated annealing ends with "
        "feature-layer couplings θ̃ equal to the RG fixed point θ*.",
        measured=(
            f"Data θ = {theta} (N = {result.config['dim']}), teacher-student FCDNN (sigmoid, M = "
            f"{dim_f} features), LangevinAnnealing with log cooling on ½‖F(W) − F(W*)‖² + "
            f"τ‖W − W*‖², {len(seeds)} seeds. Seed {seeds[0]}: θ̃^T {_fmt(result.test.theta_hat)} "
            f"({bound_text}: Fisher errors do not apply there), 95% profile-likelihood "
            f"intervals {_intervals(result.test)}; θ̃(W*) {_fmt(result.teacher_test.theta_hat)}, "
            f"intervals {_intervals(result.teacher_test)}; θ* {_fmt(result.theta_star)} (Z(λ) = "
            f"λ², partition invariant). Likelihood-ratio test of θ̃^T = θ* (chi-square with "
            f"{len(theta)} dof, conservative at the bound): statistic "
            f"{', '.join(f'{x:.4g}' for x in lr)}, p {', '.join(_p(p) for p in p_values)} "
            f"by seed. The student reaches the teacher (max "
            f"|θ̃^T − θ̃(W*)| = {max(float(np.max(np.abs(r.test.theta_hat - r.teacher_test.theta_hat))) for r in runs):.3g}), "
            f"so θ̃(W*) is what decides. Why θ̃(W*) ≠ θ*: the fit matches the first two moments "
            f"of ρ = |F(x; W*)|² (mean {m:.4g}, variance {v:.3g}); for a narrow ρ the closed "
            f"(Laplace) form θ_1 = (M − 2)/m − m/v, θ_2 = (1/v − (M/2 − 1)/m²)/2 gives "
            f"{_fmt(laplace)} against the natural-domain fit {_fmt(result.theta_teacher_natural)}: "
            f"set by W*, not by θ, and θ_1 < 0 (held at 0) since m²/v = {m * m / v:.3g} > M − 2. "
            f"Controls: {control_text(*next(iter(controls.items())))}; "
            f"{control_text(*list(controls.items())[1])}."
        ),
        verdict=verdict,
        rule=(
            "does not hold if the likelihood-ratio test rejects θ̃^T = θ* at p < 0.0027 (3 "
            "sigma; chi-square with R dof, conservative at the domain bound) for any seed; "
            "otherwise holds. Profile-likelihood intervals, not Fisher errors, are reported for "
            "a coupling at the bound; the controls are reported beside it"
        ),
        values={
            "seeds": seeds,
            "tests": [r.test.to_dict() for r in runs],
            "teacher_tests": [r.teacher_test.to_dict() for r in runs],
            "theta_star": result.theta_star.tolist(),
            "theta_teacher_natural": result.theta_teacher_natural.tolist(),
            "radius_moments": [m, v],
            "laplace_couplings": laplace.tolist(),
            "controls": {
                name: [
                    {
                        "seed": r.config["seed"],
                        "test": r.test.to_dict(),
                        "teacher_test": r.teacher_test.to_dict(),
                        "loss_final": float(r.loss[-1]),
                        "weight_distance": r.weight_distance,
                    }
                    for r in rs
                ]
                for name, rs in controls.items()
            },
            "loss_final": [float(r.loss[-1]) for r in runs],
        },  # fmt: skip
        figure=figure,
        effect=(
            "θ̃^T − θ* = "
            + _fmt(gap_mean, gap_se if len(seeds) > 1 else None)
            + f" over {len(seeds)} seed{'s' if len(seeds) > 1 else ''} (θ̃_1 at the "
            f"bound in {sum(bool(r.test.at_bound[0]) for r in runs)}/{len(runs)}); LR statistic "
            f"{lr.mean():.4g}"
            + (f" ± {lr.std(ddof=1) / math.sqrt(len(lr)):.2g}" if len(lr) > 1 else "")
        ),
        n_seeds=len(seeds),
        falsified_if=(
            "θ* inside the likelihood-ratio acceptance region of θ̃^T (p >= 0.0027) at every "
            "seed, e.g. with a feature map whose |F|² keeps the data's radius moments"
        ),
    )
