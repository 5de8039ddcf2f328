"""The main job's first part: a scale-covariant classifier against a plain baseline on the
built-in signals, tested at the training amplitudes and at 0.1x and 10x.

Example:
    >>> from keras_rg.demo import run_demo
    >>> result = run_demo(epochs=2, n_train=256, n_test=128, verbose=0)   # doctest: +SKIP
    >>> sorted(result["accuracy"])                                        # doctest: +SKIP
    ['baseline', 'scale_covariant']
"""

import json
import os
import time

import keras

from keras_rg.activations import ScaleAware
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense
from keras_rg.systems.signals import WAVEFORMS, train_test_signals

__all__ = [
    "AMPLITUDE_FACTORS",
    "accuracy_spread",
    "build_baseline",
    "build_scale_covariant",
    "format_table",
    "run_demo",
]

AMPLITUDE_FACTORS = (1.0, 0.1, 10.0)
N_CLASSES = len(WAVEFORMS)


def build_scale_covariant(length=128, n_classes=N_CLASSES, base="tanh", alpha=1.0):
    """Adaptive, bias-free scale-covariant conv net: homogeneous of degree α³ in its input, so
    its arg-max (the predicted class) does not change when the input is multiplied by c > 0.

    Global max pooling sits between the convolutions and the classifier: it is positively
    homogeneous of degree 1, and (unlike average pooling of the linear conv outputs, which
    averages periodic features to about zero) keeps the waveform information.
    """
    layers = [
        keras.Input((length, 1)),
        ScaleCovariantConv1D(16, 7, strides=2, activation=ScaleAware(base, alpha),
                             scale_mode="adaptive", use_bias=False, name="sc_conv1"),
        ScaleCovariantConv1D(32, 5, strides=2, activation=ScaleAware(base, alpha),
                             scale_mode="adaptive", use_bias=False, name="sc_conv2"),
        keras.layers.GlobalMaxPooling1D(name="max_pool"),
        ScaleCovariantDense(n_classes, activation=ScaleAware(base, alpha),
                            scale_mode="adaptive", use_bias=False, name="sc_logits"),
    ]  # fmt: skip
    return keras.Sequential(layers, name="scale_covariant")


def build_baseline(length=128, n_classes=N_CLASSES):
    """A plain Keras conv net of the same shape and size (ReLU, biases)."""
    layers = [
        keras.Input((length, 1)),
        keras.layers.Conv1D(16, 7, strides=2, activation="relu", name="conv1"),
        keras.layers.Conv1D(32, 5, strides=2, activation="relu", name="conv2"),
        keras.layers.GlobalMaxPooling1D(name="max_pool"),
        keras.layers.Dense(n_classes, name="logits"),
    ]
    return keras.Sequential(layers, name="baseline")


def _compile(model, learning_rate):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def run_demo(
    epochs=15,
    seed=0,
    output_dir=None,
    n_train=4000,
    n_test=1000,
    batch_size=64,
    learning_rate=3e-3,
    verbose=1,
    factors=AMPLITUDE_FACTORS,
):
    """Trains both models on amplitudes in [0.5, 2] and tests them at 1x, 0.1x and 10x.

    Args:
        epochs: training epochs per model. Defaults to 15.
        seed: seed of the data and the weights. Defaults to 0.
        output_dir: folder for ``demo.json``; None writes nothing.
        n_train, n_test: split sizes. Defaults to 4000 and 1000.
        batch_size, learning_rate: Adam training settings. Defaults to 64 and 3e-3.
        verbose: Keras progress display (0 silent, 1 progress bar, 2 one line per epoch).
        factors: amplitude factors at which the test split is evaluated. Defaults to
            ``AMPLITUDE_FACTORS`` (1, 0.1, 10).

    Returns:
        dict with ``accuracy[model][factor]``, parameter counts, timings and the settings.
    """
    (x_train, y_train), (x_test, y_test) = train_test_signals(n_train, n_test, seed=seed)
    result = {
        "settings": {"epochs": epochs, "seed": seed, "n_train": n_train, "n_test": n_test,
                     "batch_size": batch_size, "learning_rate": learning_rate,
                     "train_amplitude_range": [0.5, 2.0],
                     "test_factors": list(factors)},
        "accuracy": {}, "parameters": {}, "train_seconds": {},
    }  # fmt: skip
    for name, build in (("scale_covariant", build_scale_covariant), ("baseline", build_baseline)):
        keras.utils.set_random_seed(seed)
        model = _compile(build(length=x_train.shape[1]), learning_rate)
        if verbose:
            print(f"Training {name} ({model.count_params()} parameters)")
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
        result["train_seconds"][name] = time.perf_counter() - start
        result["parameters"][name] = int(model.count_params())
        result["accuracy"][name] = {
            f"{factor:g}x": float(model.evaluate(factor * x_test, y_test, verbose=0)[1])
            for factor in factors
        }
    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "demo.json"), "w") as f:
            json.dump(result, f, indent=2)
    return result


def format_table(result):
    """The accuracy table as text, one row per model, one column per amplitude factor."""
    factors = [f"{f:g}x" for f in result["settings"]["test_factors"]]
    head = f"{'model':<18}{'params':>8}" + "".join(f"{'acc @ ' + f:>14}" for f in factors)
    rows = [head, "-" * len(head)]
    for name, accs in result["accuracy"].items():
        cells = "".join(f"{accs[f]:>14.3f}" for f in factors)
        rows.append(f"{name:<18}{result['parameters'][name]:>8}{cells}")
    return "\n".join(rows)


def accuracy_spread(accs):
    """Largest drop from the 1x accuracy at the other amplitudes."""
    base = accs["1x"]
    return float(max(base - v for v in accs.values()))
