"""Validation checks of the training claims: seed 000's RG-guided training (Theorems 3–4) and
seed 001's convergence of simulated annealing under logarithmic cooling (Lemma 2.1)."""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_rg.plotting.validation import plot_annealing, plot_rg_training
from keras_rg.validate.result import CheckResult

__all__ = ["check_lemma_2_1", "check_theorems_3_4", "double_well_loss"]


def _rg_run(alpha, direction, epsilon, epochs, n_train, seed):
    """Trains a 2-layer scale-covariant MLP with Adam + RGFlow; returns loss and ‖β‖ per epoch."""
    from keras_rg.activations import ScaleAware
    from keras_rg.callbacks.rg_flow import RGFlow
    from keras_rg.layers import ScaleCovariantDense
    from keras_rg.systems.signals import make_signals

    x, y = make_signals(n_train, length=64, seed=seed)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((64, 1)),
        keras.layers.Flatten(),
        ScaleCovariantDense(32, activation=ScaleAware("tanh", alpha), name="hidden",
                            bias_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed)),
        ScaleCovariantDense(4, activation=ScaleAware("tanh", alpha), name="logits",
                            bias_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed)),
    ])  # fmt: skip
    model.compile(keras.optimizers.Adam(2e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    flow = RGFlow(epsilon=epsilon, direction=direction)
    first = model.evaluate(x, y, verbose=0)
    h = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=[flow])
    losses = [float(first)] + [float(v) for v in h.history["loss"]]
    norms = [float(v) for v in h.history["rg_beta_norm"]]
    return losses, norms


def check_theorems_3_4(ctx):
    """Does RG-guided training reach β = 0 while the loss falls, for α < 1, = 1, > 1?"""
    epochs = ctx.pick(2, 8, 20)
    n_train = ctx.pick(256, 2000, 4000)
    epsilon = 1e-3
    rows = {}
    for direction in ("paper", "reverse"):
        for alpha in (0.5, 1.0, 2.0):
            losses, norms = _rg_run(alpha, direction, epsilon, epochs, n_train, ctx.seed)
            rows[f"{direction}/{alpha}"] = {
                "loss_first": losses[0], "loss_last": losses[-1],
                "beta_norm_first_epoch": norms[0], "beta_norm_last": norms[-1],
                "beta_ratio": norms[-1] / max(norms[0], 1e-300),
                "loss_curve": losses, "beta_curve": norms,
            }  # fmt: skip

    # "reaches β = 0": ‖β‖ at the end below 5% of its first-epoch value; "loss falls": final
    # training loss below the initial loss.
    def reaches(r):
        return r["beta_ratio"] < 0.05 and r["loss_last"] < r["loss_first"]

    paper_ok = [k for k, r in rows.items() if k.startswith("paper/") and reaches(r)]
    reverse_ok = [k for k, r in rows.items() if k.startswith("reverse/") and reaches(r)]
    if len(paper_ok) == 3:
        verdict = "holds"
    elif paper_ok or reverse_ok:
        verdict = "holds with caveat"
    else:
        verdict = "does not hold"
    figure = ctx.figure("theorems_3_4", plot_rg_training, rows)
    text = "; ".join(
        f"{k}: ‖β‖ {r['beta_norm_first_epoch']:.3g}→{r['beta_norm_last']:.3g}, loss "
        f"{r['loss_first']:.3f}→{r['loss_last']:.3f}"
        for k, r in rows.items()
    )
    return CheckResult(
        name="theorems_3_4",
        source="seed 000, Theorems 3–4",
        claim="RG-guided training θ ← θ − η∇L − εβ(θ) converges to a fixed point β(θ*) = 0 "
        "while minimising the loss.",
        measured=(
            f"2-layer scale-covariant MLP on signals, Adam 2e-3 + RGFlow ε={epsilon}, {epochs} "
            f"epochs, paper β, both step directions (direction/α): {text}."
        ),
        verdict=verdict,
        rule=(
            "holds if, with the paper's step, ‖β‖ ends below 5% of its first-epoch value and the "
            "loss falls for every α in (0.5, 1, 2); holds with caveat if that happens for some α "
            "or only with the reversed step; does not hold otherwise"
        ),
        values={"runs": rows, "epsilon": epsilon, "epochs": epochs},
        figure=figure,
    )


def double_well_loss(w, tilt=0.3):
    """``L(w) = (w² − 1)² + tilt·w``: a global minimum near w = −1, a local one near w = +1."""
    return (w * w - 1.0) ** 2 + tilt * w


def _anneal(schedule, n_chains, steps, h, seed, checkpoints, optimizer="langevin"):
    """Runs ``n_chains`` independent chains on the double well from its local minimum.

    ``optimizer`` is ``"langevin"`` (overdamped `LangevinAnnealing`, the SDE of the lemma),
    ``"underdamped"`` (`UnderdampedLangevin` with the same temperature schedule, time step
    ``sqrt(2h)`` so its position moves ``≈ h·g`` per step as the overdamped one does), ``"sgd"``,
    or any Keras optimizer instance (e.g. the annealer a user wants to compare).
    """
    from keras_rg.optimizers import LangevinAnnealing, UnderdampedLangevin

    w = keras.Variable(np.full(n_chains, 0.96, dtype="float32"), name="w")
    if isinstance(optimizer, keras.optimizers.Optimizer):
        opt = optimizer
    elif optimizer == "langevin":
        opt = LangevinAnnealing(learning_rate=h, temperature=schedule, seed=seed)
    elif optimizer == "underdamped":
        opt = UnderdampedLangevin(
            learning_rate=math.sqrt(2 * h), friction=1.0, temperature=schedule, seed=seed
        )
    else:
        opt = keras.optimizers.SGD(learning_rate=h)
    opt.build([w])

    @tf.function(jit_compile=True)
    def run(k):
        for _ in tf.range(k):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(double_well_loss(w.value))
            opt.apply_gradients([(tape.gradient(loss, w.value), w)])
        return w.value

    out, done = {}, 0
    for t in checkpoints:
        run(tf.constant(t - done))
        done = t
        out[t] = np.asarray(w.numpy(), dtype=np.float64)
    return out


def check_lemma_2_1(ctx):
    """Loss convergence in probability under logarithmic cooling, over independent chains."""
    from scipy.optimize import minimize_scalar

    from keras_rg.schedules import ConstantTemperature, LogarithmicCooling

    n_chains = ctx.pick(200, 2000, 8000)
    steps = ctx.pick(2000, 20000, 100000)
    checkpoints = [steps // 100, steps // 10, steps]
    h = 0.01
    w_star = minimize_scalar(double_well_loss, bounds=(-2, 0), method="bounded").x
    l_star = double_well_loss(w_star)
    barrier = double_well_loss(
        minimize_scalar(lambda w: -double_well_loss(w), bounds=(-0.5, 0.5), method="bounded").x
    ) - double_well_loss(minimize_scalar(double_well_loss, bounds=(0, 2), method="bounded").x)
    delta = 0.1  # "converged": L(w_t) − L* < δ

    def excess_prob(ws):
        p = float(np.mean(double_well_loss(ws) - l_star > delta))
        return p, math.sqrt(max(p * (1 - p), 1.0 / n_chains) / n_chains)

    runs = {
        "log cooling c=1.5": ("langevin", LogarithmicCooling(c=1.5, t0=2.0)),
        "underdamped, log cooling c=1.5": ("underdamped", LogarithmicCooling(c=1.5, t0=2.0)),
        "constant T=0.3": ("langevin", ConstantTemperature(0.3)),
        "plain SGD (T=0)": ("sgd", None),
    }
    rows = {}
    for label, (kind, schedule) in runs.items():
        snaps = _anneal(schedule, n_chains, steps, h, ctx.seed, checkpoints, optimizer=kind)
        rows[label] = {str(t): excess_prob(ws) for t, ws in snaps.items()}
    log_p = [rows["log cooling c=1.5"][str(t)] for t in checkpoints]
    decreasing = all(b[0] <= a[0] + 2 * a[1] for a, b in zip(log_p, log_p[1:], strict=False))
    final, final_se = log_p[-1]
    sgd_final = rows["plain SGD (T=0)"][str(steps)][0]
    if decreasing and final < 0.05 and final < sgd_final:
        verdict = "holds"
    elif decreasing and final < sgd_final - 3 * final_se:
        verdict = "holds with caveat"
    else:
        verdict = "does not hold"
    annealers = [k for k in rows if k != "plain SGD (T=0)"]
    best = min(annealers, key=lambda k: rows[k][str(steps)][0])
    figure = ctx.figure("lemma_2_1", plot_annealing, rows, delta)
    text = "; ".join(
        f"{label}: " + ", ".join(f"t={t} {p:.3f}±{se:.3f}" for t, (p, se) in r.items())
        for label, r in rows.items()
    )
    return CheckResult(
        name="lemma_2_1",
        source="Gong & Xia, Lemma 2.1 (docs/langevin.md)",
        claim="Under the SDE dW = −∇L dt + sqrt(η_t) dB with slowly decaying η_t, the loss "
        "converges in probability to its global minimum.",
        measured=(
            f"{n_chains} independent chains on the tilted double well L = (w²−1)² + 0.3w "
            f"(barrier {barrier:.2f} from the local minimum), all started in the local basin, "
            f"LangevinAnnealing h={h} (UnderdampedLangevin: time step sqrt(2h)): "
            f"P(L − L* > {delta}) at {text}. Best annealer at the last checkpoint: {best}. "
            "The verdict is on the lemma's overdamped dynamics. Log cooling needs "
            "t ~ exp(barrier/T) steps, so finite runs converge only partly."
        ),
        verdict=verdict,
        rule=(
            f"holds if P(L − L* > {delta}) under log cooling is non-increasing over the "
            "checkpoints (within 2 SE), ends below 0.05 and below plain SGD's; holds with caveat "
            "if it decreases and beats SGD by > 3 SE but stays above 0.05; does not hold otherwise"
        ),
        values={"excess_probability": rows, "n_chains": n_chains, "steps": steps,
                "delta": delta, "barrier": barrier, "global_minimum": [w_star, l_star],
                "best_annealer": best},
        figure=figure,
    )  # fmt: skip
