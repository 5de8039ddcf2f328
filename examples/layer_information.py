"""Attach `LayerInformation` to an existing model's `fit` and save its information-plane figure.

A small classifier of multi-scale signals (keras_rg's built-in data) with one scale-covariant
layer and plain Dense layers is trained as usual; the callback measures every layer's
noise-regularised I(T;X) and I(T;Y) (KDE bounds, in nats) on a fixed probe set every epoch,
checks Liaw's Theorem 5 (I(T;X) falls with depth; docs/information.md) and saves the figure at the end of `fit`.

Run:  python examples/layer_information.py [--quick] [--out information_plane.png]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_rg.activations import ScaleAware  # noqa: E402
from keras_rg.callbacks.layer_information import LayerInformation  # noqa: E402
from keras_rg.layers import ScaleCovariantDense  # noqa: E402
from keras_rg.systems.signals import make_signals  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--out", default="information_plane.png", help="figure path")
    args = parser.parse_args()
    n, epochs, probe = (300, 2, 100) if args.quick else (4000, 20, 1000)

    keras.utils.set_random_seed(0)
    x, y = make_signals(n, length=64, seed=0)

    # An existing model: nothing in it knows about the callback.
    model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.Flatten(name="flat"),
            ScaleCovariantDense(64, activation=ScaleAware("tanh", alpha=0.5), name="rg_dense"),
            keras.layers.Dense(32, activation="tanh", name="dense_1"),
            keras.layers.Dense(16, activation="tanh", name="dense_2"),
            keras.layers.Dense(4, name="logits"),
        ]
    )
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )

    # KDE noise relative to each layer's spread (the default): the plane stays below log n.
    info = LayerInformation(x, y, probe_size=probe, plot_path=args.out)
    history = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=[info])

    trajectory = info.trajectory
    print(f"probe: {len(info.probe)} points, ceiling log n = {trajectory['ceiling']:.3f} nats")
    print(f"{'layer':>10} | I(T;X) epoch 0 -> {trajectory['epochs'][-1]} | I(T;Y) epoch 0 -> last")
    for j, name in enumerate(trajectory["layers"]):
        i_tx = [row[j] for row in trajectory["I_TX"]]
        i_ty = [row[j] for row in trajectory["I_TY"]]
        print(
            f"{name:>10} | {i_tx[0]:6.3f} -> {i_tx[-1]:6.3f}          | {i_ty[0]:.3f} -> {i_ty[-1]:.3f}"
        )
    print(f"final accuracy {history.history['accuracy'][-1]:.3f}")
    print(f"Theorem 5 violations (I(T;X) growing with depth): {len(info.violations)}")
    for v in info.violations[:5]:
        print(f"  epoch {v.epoch}: {v.earlier} -> {v.later} by {v.amount:.3f} nats")
    print(f"information plane saved to {args.out}")


if __name__ == "__main__":
    main()
