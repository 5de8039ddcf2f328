"""RG-guided training in `model.fit`: attach `RGFlow` to an existing Keras model, print the flow.

S. Liaw ("A Renormalization Group Framework for Scale-Invariant Feature Learning in Deep Neural
Networks") proposes the step θ ← θ − η∇L − εβ(θ) with β(W) = (α−1)W, β(b) = −αb (Theorem 2).
This script takes a conv net built as usual (our scale-covariant layers mixed with plain Keras
layers), prints what the RG step will do to each variable before training (fixed points, marginal
variables, contracting or expanding factors; Definition 2), trains it on the built-in multi-scale
signals with the `RGFlow` callback, prints the per-epoch diagnostics that the callback writes into
the training logs (per-layer and total ‖β(θ)‖, ε), and compares ε = 0, the paper's direction
and the reverse direction. The fused path, `RGOptimizer.for_model(model, Adam(...), ...)`, gives the
same trajectory inside the train step (use it with small batches, steps_per_execution or
tf.distribute). Details: docs/rg_flow.md; choosing ε: docs/guide.md.

Run:  python examples/rg_flow.py [--quick]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_rg.callbacks.rg_flow import RGFlow  # noqa: E402
from keras_rg.fixed_points import fixed_point_report  # noqa: E402
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense  # noqa: E402
from keras_rg.systems.signals import train_test_signals  # noqa: E402


def existing_model(length, seed=0):
    """A model as a user would already have it: our layers and plain Keras layers mixed."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((length, 1))
    h = ScaleCovariantConv1D(8, 7, strides=2, alpha=0.5, bias_initializer="ones", name="conv_a05")(
        inputs
    )
    h = ScaleCovariantConv1D(16, 5, strides=2, alpha=1.0, name="conv_a10")(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    h = keras.layers.Dense(16, activation="relu", name="plain_dense")(h)
    outputs = ScaleCovariantDense(4, alpha=2.0, name="head_a20")(h)
    return keras.Model(inputs, outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    n_train, n_test, length = (128, 64, 32) if args.quick else (3000, 1000, 128)
    epochs = args.epochs or (1 if args.quick else 6)
    (x, y), (xt, yt) = train_test_signals(n_train, n_test, length=length, seed=0)
    x, xt = x[..., None], xt[..., None]

    eps = 1e-3
    # The plain Dense has no α of its own: give it one (formal use of the same β formula).
    selection = dict(alpha={"plain_dense": 1.0})
    model = existing_model(length)
    print("Before training: what θ ← θ − εβ(θ) will do with zero gradient (θ_t = factor^t θ_0)")
    print(fixed_point_report(model, epsilon=eps, **selection))

    flow = RGFlow(epsilon=eps, **selection)  # the paper's β and sign
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=[flow])
    print("\nPer-epoch flow diagnostics written by RGFlow into the logs (History):")
    keys = ["loss", "accuracy", "rg_epsilon", "rg_beta_norm"] + sorted(
        k for k in history.history if k.startswith("rg_beta_norm/")
    )
    print("epoch  " + "  ".join(f"{k.replace('rg_beta_norm/', 'β:'):>14s}" for k in keys))
    for e in range(epochs):
        print(f"{e + 1:5d}  " + "  ".join(f"{history.history[k][e]:14.5g}" for k in keys))

    print("\nAfter training:")
    print(fixed_point_report(model, epsilon=eps, **selection))

    print("\nε = 0 against the paper's direction and the reverse one (same seed and data):")
    print(f"{'run':>10s}  {'test acc':>8s}  {'||beta||':>9s}  {'|b| head':>9s}")
    for label, e, direction in (("eps=0", 0.0, "paper"), ("paper", eps, "paper"),
                                ("reverse", eps, "reverse")):  # fmt: skip
        m = existing_model(length)
        m.compile(
            optimizer=keras.optimizers.Adam(3e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        cb = RGFlow(epsilon=e, direction=direction, **selection)
        keras.utils.set_random_seed(1)
        h = m.fit(x, y, batch_size=64, epochs=epochs, verbose=0, callbacks=[cb])
        acc = m.evaluate(xt, yt, verbose=0)[1]
        bias_norm = float(np.linalg.norm(m.get_layer("head_a20").bias.numpy()))
        print(f"{label:>10s}  {acc:8.3f}  {h.history['rg_beta_norm'][-1]:9.4g}  {bias_norm:9.4g}")


if __name__ == "__main__":
    main()
