"""Run keras_rg's claim checks on your own Keras model: layer information in depth (Theorem 5),
the RG fixed-point diagnostics (Definition 2), and a verdict table.

Purpose: a user's existing model and data, no keras_rg layers needed; the same checks
`keras-rg validate` runs on its built-in models.

Run: python examples/validate_your_model.py [--quick]
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_rg.validate import (  # noqa: E402
    flow_diagnostics,
    format_verdict_table,
    information_in_depth,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    n, epochs = (300, 2) if args.quick else (3000, 20)
    x = rng.normal(size=(n, 10)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype("int32")  # an XOR-like task

    # your model: any Keras model
    model = keras.Sequential([
        keras.Input((10,)),
        keras.layers.Dense(32, activation="tanh", name="hidden1"),
        keras.layers.Dense(16, activation="tanh", name="hidden2"),
        keras.layers.Dense(2, name="logits"),
    ])  # fmt: skip
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])  # fmt: skip
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)

    checks = [
        information_in_depth(model, x, y, probe_size=min(n, 1000)),
        information_in_depth(model, x, y, estimator="binning", probe_size=min(n, 1000)),
        # plain layers need an α for the paper's β(W) = (α − 1)W, β(b) = −αb
        flow_diagnostics(model, epsilon=1e-3, alpha=0.5),
    ]
    print(format_verdict_table(checks))
    for c in checks:
        print(f"\n{c.source}: {c.verdict}\n  {c.measured}")


if __name__ == "__main__":
    main()
