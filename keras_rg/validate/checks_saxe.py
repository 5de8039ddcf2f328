"""A published result reproduced: Saxe et al., "On the Information Bottleneck Theory of Deep
Learning" (ICLR 2018), Fig. 1. On the 12-bit task of Shwartz-Ziv & Tishby (2017), the binned
I(T;X) of a tanh network's hidden layers rises and then falls ("compression"); the same network
with ReLU units does not compress. docs/information.md gives the protocol and the numbers.

Protocol (stated before measuring): network 12-10-7-5-4-3-2 (hidden tanh or ReLU, softmax
output), trained on 85% of the 4096 patterns (seeded split) with Adam (learning rate 0.01,
batch 256); I(T;X) = H(binned T) on all 4096 inputs, 30 bins per unit over [-1, 1] for tanh and
over [0, the layer's largest activation over the whole run] for ReLU (Saxe et al.'s binning),
measured at log-spaced epochs. A layer *compresses* when its final I(T;X) is below its peak by
more than ``max(0.5 nats, 10% of the peak)``.
"""

import warnings

import keras
import numpy as np

from keras_rg.information.binning import binning_mi_input
from keras_rg.information.datasets import shwartz_ziv_tishby_task
from keras_rg.validate.result import CheckResult, mean_and_se, plus_minus

__all__ = [
    "HIDDEN",
    "check_saxe_compression",
    "compression",
    "plot_compression",
    "train_and_measure",
]

HIDDEN = (10, 7, 5, 4, 3)
BINS = 30


def _epochs_function(model, optimizer, x, y, batch_size):
    import tensorflow as tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    n = int(x.shape[0])
    steps = n // batch_size

    @tf.function
    def run(epochs):
        for _ in tf.range(epochs):
            order = tf.random.shuffle(tf.range(n))
            for b in tf.range(steps):
                rows = order[b * batch_size : (b + 1) * batch_size]
                with tf.GradientTape() as tape:
                    logits = model(tf.gather(x, rows), training=True)
                    loss = loss_fn(tf.gather(y, rows), logits)
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return run


def train_and_measure(activation, epochs, seed=0, learning_rate=0.01, optimizer="adam",
                      points=20, batch_size=256):  # fmt: skip
    """Trains the 12-10-7-5-4-3-2 network and returns its binned I(T;X) per hidden layer.

    Returns:
        ``{"epochs": [...], "layers": [...], "I_TX": [[...] per measurement], "accuracy":
        float}``, I(T;X) in nats (the ceiling is log 4096 = 8.32).
    """
    import tensorflow as tf

    x, y = shwartz_ziv_tishby_task()
    keras.utils.set_random_seed(seed)
    train = np.random.default_rng(seed).permutation(len(x))[: int(0.85 * len(x))]
    layers = [keras.layers.Dense(w, activation=activation, name=f"h{i + 1}")
              for i, w in enumerate(HIDDEN)]  # fmt: skip
    model = keras.Sequential([keras.Input((12,)), *layers, keras.layers.Dense(2, name="out")])
    opt = keras.optimizers.Adam(learning_rate) if optimizer == "adam" else (
        keras.optimizers.SGD(learning_rate))  # fmt: skip
    opt.build(model.trainable_variables)
    run = _epochs_function(model, opt, tf.constant(x[train]), tf.constant(y[train]), batch_size)
    reader = keras.Model(model.inputs, [layer.output for layer in layers])
    marks = np.unique(np.round(np.logspace(0, np.log10(epochs), points)).astype(int))
    snapshots, done = [(0, [np.asarray(o, np.float64) for o in reader(x)])], 0
    for mark in marks:
        run(tf.constant(int(mark - done)))
        done = int(mark)
        snapshots.append((done, [np.asarray(o, np.float64) for o in reader(x)]))
    if activation == "tanh":
        ranges = [(-1.0, 1.0)] * len(layers)
    else:  # [0, the layer's largest activation over the run]
        ranges = [(0.0, max(1e-12, max(float(s[1][j].max()) for s in snapshots)))
                  for j in range(len(layers))]  # fmt: skip
    table = [[binning_mi_input(t, bins=BINS, value_range=ranges[j]).value
              for j, t in enumerate(outs)] for _, outs in snapshots]  # fmt: skip
    accuracy = float(np.mean(np.argmax(np.asarray(model(x)), axis=1) == y))
    return {"epochs": [e for e, _ in snapshots], "layers": [layer.name for layer in layers],
            "I_TX": table, "accuracy": accuracy}  # fmt: skip


def compression(run):
    """Per layer: ``rise`` (peak - initial), ``drop`` (peak - final) and whether it compresses
    (``drop > max(0.5, 0.1 * peak)``)."""
    values = np.asarray(run["I_TX"])
    out = {}
    for j, name in enumerate(run["layers"]):
        col = values[:, j]
        peak = float(col.max())
        drop = peak - float(col[-1])
        out[name] = {"rise": peak - float(col[0]), "drop": drop, "peak": peak,
                     "compresses": bool(drop > max(0.5, 0.1 * peak))}  # fmt: skip
    return out


def plot_compression(path, runs):
    """The two-panel figure (tanh, ReLU): binned I(T;X) per layer against the epoch."""
    from keras_rg.plotting import require_matplotlib

    plt = require_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (act, run) in zip(axes, runs.items(), strict=True):
        epochs = np.maximum(run["epochs"], 0.5)
        values = np.asarray(run["I_TX"])
        for j, name in enumerate(run["layers"]):
            ax.plot(epochs, values[:, j], marker="o", markersize=3, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("epoch (0 drawn at 0.5)")
        ax.set_title(f"{act}: binned I(T;X), {BINS} bins")
        ax.axhline(np.log(4096), color="0.6", linestyle="--", linewidth=1)
    axes[0].set_ylabel("I(T; X) [nats]  (dashed: log 4096)")
    axes[1].legend(fontsize=8)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def check_saxe_compression(ctx):
    """Saxe et al. (2018), Fig. 1: tanh compresses, ReLU does not (module docstring)."""
    epochs = ctx.pick(60, 400, 1500)
    seeds = [ctx.seed + i for i in range(ctx.pick(1, 1, 3))]
    results = {"tanh": [], "relu": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras's input-structure notice
        for seed in seeds:
            for act in results:
                results[act].append(train_and_measure(act, epochs, seed=seed))
    comp = {act: [compression(r) for r in runs] for act, runs in results.items()}
    tanh_ok = [any(v["compresses"] for v in c.values()) for c in comp["tanh"]]
    relu_ok = [not any(v["compresses"] for v in c.values()) for c in comp["relu"]]
    agree = [a and b for a, b in zip(tanh_ok, relu_ok, strict=True)]
    verdict = ("holds" if all(agree) else "holds with caveat" if any(agree)
               else "does not hold")  # fmt: skip
    drops = {act: [max(v["drop"] for v in c.values()) for c in comp[act]] for act in comp}

    (t_mean, t_se), (r_mean, r_se) = mean_and_se(drops["tanh"]), mean_and_se(drops["relu"])
    last = {act: comp[act][0] for act in comp}
    text = "; ".join(
        f"{act} (accuracy {results[act][0]['accuracy']:.3f}): "
        + ", ".join(f"{k} peak {v['peak']:.2f} drop {v['drop']:.2f}" for k, v in last[act].items())
        for act in last
    )
    figure = ctx.figure("saxe_fig1", plot_compression, {a: r[0] for a, r in results.items()})
    values = {"runs": results, "compression": comp, "seeds": seeds, "epochs": epochs,
              "largest_drop_tanh": drops["tanh"], "largest_drop_relu": drops["relu"]}  # fmt: skip
    effect = (f"largest drop of binned I(T;X) from its peak: tanh {plus_minus(t_mean, t_se)}, "
              f"ReLU {plus_minus(r_mean, r_se)} nats ({len(seeds)} seed(s))")  # fmt: skip
    falsified = ("a tanh run with no layer dropping more than max(0.5, 10% of peak) nats below "
                 "its peak, or a ReLU run with such a drop")  # fmt: skip
    return CheckResult(
        name="saxe_compression",
        source="Saxe et al., ICLR 2018, Fig. 1 (on Shwartz-Ziv & Tishby's 12-bit task)",
        claim="Compression is not general: a tanh network's binned I(T;X) rises then falls, a "
        "ReLU network's does not.",
        measured=f"12-10-7-5-4-3-2, Adam 0.01, {epochs} epochs, seed(s) {seeds}, 30 bins; first "
        f"seed: {text}. tanh compresses in {sum(tanh_ok)}/{len(seeds)} seeds, ReLU does not "
        f"in {sum(relu_ok)}/{len(seeds)}.",
        verdict=verdict,
        rule="a layer compresses when its final I(T;X) is below its peak by more than "
        "max(0.5 nats, 10% of the peak); holds if in every seed some tanh layer compresses and "
        "no ReLU layer does, with caveat if in some seeds, does not hold if in none",
        values=values,
        figure=figure,
        effect=effect,
        n_seeds=len(seeds),
        falsified_if=falsified,
    )
