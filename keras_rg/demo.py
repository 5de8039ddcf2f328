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
import numpy as np

from keras_rg.activations import ScaleAware
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense
from keras_rg.systems.signals import WAVEFORMS, train_test_signals

__all__ = [
    "AMPLITUDE_FACTORS",
    "accuracy_spread",
    "build_baseline",
    "build_scale_covariant",
    "format_summary",
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


def _compile(model, optimizer):
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


FEATURE_LAYER = "max_pool"
INFO_LAYERS = ("sc_conv1", "sc_conv2", FEATURE_LAYER, "sc_logits")


def _rg_callbacks(x_train, y_train, seed, epsilon):
    """Every keras_rg component a run attaches: RG flow, Langevin logging, layer information and
    the feature layer's couplings."""
    from keras_rg.callbacks import CouplingTracker, LangevinLogger, LayerInformation, RGFlow

    return {
        "rg_flow": RGFlow(epsilon=epsilon),
        "langevin": LangevinLogger(),
        "information": LayerInformation(x_train, y_train, probe_size=500,
                                        layer_names=list(INFO_LAYERS), seed=seed),
        "couplings": CouplingTracker(x_train[:1000], layer_names=FEATURE_LAYER, order=2),
    }  # fmt: skip


def _run_summary(history, callbacks):
    logs = {k: v[-1] for k, v in history.history.items()}
    info = callbacks["information"].trajectory
    tracker = callbacks["couplings"].trajectory()
    return {
        "beta_norm": float(logs["rg_beta_norm"]),
        "beta_norm_by_layer": {k.split("/", 1)[1]: float(v) for k, v in logs.items()
                               if k.startswith("rg_beta_norm/")},
        "beta_norm_curve": [float(v) for v in history.history["rg_beta_norm"]],
        "temperature": float(logs["temperature"]),
        "step_size": float(logs["step_size"]),
        "information": {
            layer: {"I_TX": float(info["I_TX"][-1][i]), "I_TY": float(info["I_TY"][-1][i])}
            for i, layer in enumerate(info["layers"])
        },
        "information_ceiling": float(np.log(callbacks["information"].probe_size)),
        "theorem_5_violations": len(callbacks["information"].violations),
        "feature_couplings": [float(v) for v in tracker["theta"][-1]],
        "feature_couplings_se": [float(v) for v in tracker["stderr"][-1]],
        "feature_couplings_curve": np.asarray(tracker["theta"]).tolist(),
    }  # fmt: skip


def run_demo(
    epochs=15,
    seed=0,
    output_dir=None,
    n_train=4000,
    n_test=1000,
    batch_size=64,
    verbose=1,
    factors=AMPLITUDE_FACTORS,
    alpha=0.8,
    epsilon=1e-3,
):
    """Trains both models on amplitudes in [0.5, 2] and tests them at 1x, 0.1x and 10x.

    The scale-covariant model (adaptive, bias-free, exponent α) trains with every keras_rg
    component together: ``LangevinAnnealing`` (preconditioned, logarithmic cooling), ``RGFlow``
    (the paper's step, ε), ``LangevinLogger``, ``LayerInformation`` (KDE estimates of I(T;X) and
    I(T;Y) per layer, every epoch) and ``CouplingTracker`` (θ̃ of the pooled feature layer). The
    baseline is a plain Keras conv net of the same size trained with Adam.

    Args:
        epochs: training epochs per model. Defaults to 15.
        seed: seed of the data, the weights and the Langevin noise. Defaults to 0.
        output_dir: folder for ``demo.json`` and the figures; None writes nothing.
        n_train, n_test: split sizes. Defaults to 4000 and 1000.
        batch_size: batch size. Defaults to 64.
        verbose: Keras progress display (0 silent, 1 progress bar, 2 one line per epoch).
        factors: amplitude factors at which the test split is evaluated. Defaults to
            ``AMPLITUDE_FACTORS`` (1, 0.1, 10).
        alpha: the scale-covariant layers' exponent α. Defaults to 0.8.
        epsilon: the RG step's ε. Defaults to 1e-3.

    Returns:
        dict with ``accuracy[model][factor]``, parameter counts, timings, the settings and, under
        ``"rg"``, the scale-covariant run's ‖β‖, temperature, layer information and couplings.
    """
    from keras_rg.optimizers import LangevinAnnealing
    from keras_rg.schedules import LogarithmicCooling

    (x_train, y_train), (x_test, y_test) = train_test_signals(n_train, n_test, seed=seed)
    result = {
        "settings": {"epochs": epochs, "seed": seed, "n_train": n_train, "n_test": n_test,
                     "batch_size": batch_size, "alpha": alpha, "epsilon": epsilon,
                     "train_amplitude_range": [0.5, 2.0], "test_factors": list(factors)},
        "accuracy": {}, "parameters": {}, "train_seconds": {},
    }  # fmt: skip
    runs = {
        "scale_covariant": lambda: (
            build_scale_covariant(length=x_train.shape[1], alpha=alpha),
            LangevinAnnealing(3e-3, temperature=LogarithmicCooling(c=0.01), data_size=n_train,
                              preconditioner="rmsprop", seed=seed),
            _rg_callbacks(x_train, y_train, seed, epsilon),
        ),
        "baseline": lambda: (build_baseline(length=x_train.shape[1]),
                             keras.optimizers.Adam(3e-3), {}),
    }  # fmt: skip
    for name, make in runs.items():
        keras.utils.set_random_seed(seed)
        model, optimizer, callbacks = make()
        _compile(model, optimizer)
        if verbose:
            extra = f" with {', '.join(callbacks)}" if callbacks else ""
            print(f"Training {name} ({model.count_params()} parameters, "
                  f"{type(optimizer).__name__}{extra})")  # fmt: skip
        start = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
                            verbose=verbose, callbacks=list(callbacks.values()))  # fmt: skip
        result["train_seconds"][name] = time.perf_counter() - start
        result["parameters"][name] = int(model.count_params())
        result["accuracy"][name] = {
            f"{factor:g}x": float(model.evaluate(factor * x_test, y_test, verbose=0)[1])
            for factor in factors
        }
        if callbacks:
            result["rg"] = _run_summary(history, callbacks)
            rg_callbacks = callbacks
    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)
        result["figures"] = _figures(result, rg_callbacks, output_dir)
        with open(os.path.join(output_dir, "demo.json"), "w") as f:
            json.dump(result, f, indent=2)
    return result


def _figures(result, callbacks, output_dir):
    """Information plane, OOD accuracy, ‖β‖ per epoch and feature couplings, as PNG files."""
    try:
        from keras_rg.plotting._mpl import require_matplotlib

        require_matplotlib()
    except ImportError:
        return []
    from keras_rg.plotting.couplings import plot_coupling_trajectory
    from keras_rg.plotting.validation import plot_beta_curve, plot_ood

    paths = []
    path = os.path.join(output_dir, "information_plane.png")
    callbacks["information"].plot(path)
    paths.append(path)
    paths.append(
        os.path.join(
            output_dir,
            plot_ood(
                os.path.join(output_dir, "ood_accuracy.png"),
                result["accuracy"],
                result["settings"]["n_test"],
            ),
        )
    )
    paths.append(
        os.path.join(
            output_dir,
            plot_beta_curve(
                os.path.join(output_dir, "beta_norm.png"), result["rg"]["beta_norm_curve"]
            ),
        )
    )
    path = os.path.join(output_dir, "feature_couplings.png")
    fig = plot_coupling_trajectory(
        callbacks["couplings"].trajectory(),
        path=path,
        log_scale=True,
        title="θ̃ of the pooled feature layer",
    )
    require_matplotlib().close(fig)
    paths.append(path)
    return paths  # fmt: skip


def format_summary(result):
    """The scale-covariant run's RG summary as text: ‖β‖, temperature, layer information,
    feature couplings."""
    rg = result["rg"]
    lines = [
        f"RG flow: ‖β(θ)‖ at the end = {rg['beta_norm']:.4g} (by layer: "
        + ", ".join(f"{k} {v:.3g}" for k, v in rg["beta_norm_by_layer"].items())
        + ")",
        f"Langevin annealing: temperature reached {rg['temperature']:.4g}, "
        f"step size {rg['step_size']:.3g}",
        f"Layer information (KDE, nats; ceiling log n = {rg['information_ceiling']:.2f}), "
        f"Theorem 5 violations: {rg['theorem_5_violations']}",
        f"  {'layer':<12}{'I(T;X)':>10}{'I(T;Y)':>10}",
    ]
    for layer, v in rg["information"].items():
        lines.append(f"  {layer:<12}{v['I_TX']:>10.3f}{v['I_TY']:>10.3f}")
    lines.append(
        "Feature-layer couplings θ̃ (radial exponential family, MLE ± SE): "
        + ", ".join(f"θ̃_{r + 1} = {t:.4g} ± {e:.2g}" for r, (t, e) in
                    enumerate(zip(rg["feature_couplings"], rg["feature_couplings_se"], strict=True)))
    )  # fmt: skip
    return "\n".join(lines)


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
