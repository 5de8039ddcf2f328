"""Model builders for scale experiments: the scale-covariant classifiers and the baselines a user
would try instead, shared by ``keras-rg demo``, ``keras-rg validate`` and ``benchmarks/``.

Layer 1 (imports only layers and activations). Every model is a small conv net of one shape:
two convolutions (16 and 32 filters), global max pooling (1-D) or flattening (2-D), one dense
classifier giving logits. The baselines (docs/layers.md, "Baselines"):

- ``plain``: ReLU convolutions with biases;
- ``bias_free``: the same without biases: positively homogeneous of degree 1, so its arg-max is
  exactly amplitude invariant;
- ``rms_norm``: each input divided by its RMS (:func:`rms_normalise`), then ``plain``;
- ``local_norm``: each input divided by its RMS over a window around every position
  (:func:`local_normalise`), then ``plain``;
- ``augmented``: ``plain`` trained on inputs multiplied by random factors over the test range
  (:func:`amplitude_augment`).

The scale-covariant models (:func:`build_scale_covariant`) use ``ScaleCovariantConv1D`` /
``ScaleCovariantConv2D``: ``"covariant"`` (every layer adaptive, bias-free, one α: homogeneous of
degree α³), ``"invariant_first"`` (an exactly invariant first layer, α = 0, then ReLU layers with
biases) and ``"local"`` (a locally invariant first layer: local scale over ``window``).
"""

import dataclasses
import math
from collections.abc import Callable

import keras
import numpy as np

from keras_rg.activations import ScaleAware
from keras_rg.arguments import check_choice, check_int, check_positive
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantConv2D, ScaleCovariantDense

__all__ = [
    "BASELINES",
    "DESIGNS",
    "ModelSpec",
    "amplitude_augment",
    "baseline_specs",
    "binomial_se",
    "compare_with_strongest",
    "fit_and_score",
    "build_baseline",
    "build_scale_covariant",
    "local_normalise",
    "rms_normalise",
]

BASELINES = ("plain", "bias_free", "rms_norm", "local_norm", "augmented")
DESIGNS = ("covariant", "invariant_first", "local")
FILTERS = (16, 32)


def _shape(input_shape):
    input_shape = tuple(int(v) for v in input_shape)
    if len(input_shape) not in (2, 3):
        raise ValueError(
            "Received an invalid value for `input_shape`: expected (steps, channels) or "
            f"(height, width, channels). Received: input_shape={input_shape}"
        )
    return input_shape


def _conv_args(rank):
    # 1-D: the demo's shape (kernel 7 then 5, stride 2); 2-D (small images): 3x3, "same"
    if rank == 1:
        return [dict(kernel_size=7, strides=2), dict(kernel_size=5, strides=2)]
    return [dict(kernel_size=3, padding="same"), dict(kernel_size=3, padding="same")]


def _head(rank, name):
    if rank == 1:
        return keras.layers.GlobalMaxPooling1D(name=f"{name}pool")
    return keras.layers.Flatten(name=f"{name}flatten")


def build_baseline(input_shape, n_classes, use_bias=True, name="plain"):
    """A plain Keras conv net (ReLU): ``use_bias=False`` gives the bias-free baseline."""
    input_shape = _shape(input_shape)
    rank = len(input_shape) - 1
    conv = keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D
    layers = [keras.Input(input_shape)]
    for i, (filters, args) in enumerate(zip(FILTERS, _conv_args(rank), strict=True)):
        layers.append(conv(filters, activation="relu", use_bias=use_bias, name=f"conv{i + 1}",
                           **args))  # fmt: skip
    layers += [_head(rank, ""), keras.layers.Dense(n_classes, use_bias=use_bias, name="logits")]
    return keras.Sequential(layers, name=name)


def build_scale_covariant(
    input_shape,
    n_classes,
    design="invariant_first",
    base="tanh",
    alpha=1.0,
    window=17,
    scale=1.0,
    per_channel=False,
    causal=False,
    name=None,
):
    """A scale-covariant conv classifier.

    Args:
        input_shape: ``(steps, channels)`` or ``(height, width, channels)``.
        n_classes: number of classes.
        design: ``"covariant"``: every layer adaptive and bias-free with activation
            ``ScaleAware(base, alpha)``, homogeneous of degree α³ (arg-max amplitude invariant).
            ``"invariant_first"``: the first layer adaptive with ``ScaleAware(base, 0)``
            (σ(x) = g(scale·x/rms(x)), exactly invariant), the rest ReLU with biases.
            ``"local"``: as ``"invariant_first"`` with the local scale over ``window``.
        base: base activation of the scale-aware layers. Defaults to ``"tanh"``.
        alpha: α of the ``"covariant"`` design. Defaults to 1.0.
        window, per_channel, causal: the local scale's window (``"local"`` only).
        scale: s0 of the adaptive and local scales. Defaults to 1.0.
        name: model name; defaults to ``"scale_covariant_<design>"``.
    """
    input_shape = _shape(input_shape)
    design = check_choice("design", design, DESIGNS)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    rank = len(input_shape) - 1
    conv = ScaleCovariantConv1D if rank == 1 else ScaleCovariantConv2D
    layers = [keras.Input(input_shape)]
    if design == "covariant":
        alpha = check_positive("alpha", alpha)
        for i, (filters, args) in enumerate(zip(FILTERS, _conv_args(rank), strict=True)):
            layers.append(conv(filters, activation=ScaleAware(base, alpha), scale=scale,
                               scale_mode="adaptive", use_bias=False, name=f"sc_conv{i + 1}",
                               **args))  # fmt: skip
        layers += [
            _head(rank, "sc_"),
            ScaleCovariantDense(n_classes, activation=ScaleAware(base, alpha), scale=scale,
                                scale_mode="adaptive", use_bias=False, name="sc_logits"),
        ]  # fmt: skip
    else:
        first = {"scale_mode": "adaptive"}
        if design == "local":
            first = {"scale_mode": "local", "window": window, "per_channel": per_channel,
                     "causal": causal}  # fmt: skip
        args1, args2 = _conv_args(rank)
        layers += [
            conv(FILTERS[0], activation=ScaleAware(base, 0.0), scale=scale, name="sc_conv1",
                 **first, **args1),
            conv(FILTERS[1], activation="relu", name="sc_conv2", **args2),
            _head(rank, "sc_"),
            ScaleCovariantDense(n_classes, activation="relu", name="sc_logits"),
        ]  # fmt: skip
    return keras.Sequential(layers, name=name or f"scale_covariant_{design}")


def rms_normalise(x):
    """Each sample divided by its RMS over every non-batch axis (all-zero samples unchanged)."""
    x = np.asarray(x)
    rms = np.sqrt(np.mean(np.square(x, dtype=np.float64), axis=tuple(range(1, x.ndim)),
                          keepdims=True))  # fmt: skip
    return (x / np.where(rms > 0, rms, 1.0)).astype(x.dtype)


def local_normalise(x, window):
    """Each position divided by the RMS (over channels and a centred window of ``window``
    positions per spatial axis, cut at the edges) around it, as :func:`keras_rg.layers.local_scale`
    with ``s0 = 1``: the local input normalisation baseline."""
    from keras_rg.layers import local_scale

    x = np.asarray(x)
    rank = x.ndim - 2
    window = (check_int("window", window),) * rank if np.ndim(window) == 0 else tuple(window)
    s = np.asarray(local_scale(keras.ops.convert_to_tensor(x), 1.0, window))
    return (x * s).astype(x.dtype)


def amplitude_augment(x, low=0.01, high=100.0, seed=0):
    """Each sample multiplied by a factor drawn log-uniformly from [low, high]."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x)
    factor = np.exp(rng.uniform(np.log(low), np.log(high), size=(len(x),) + (1,) * (x.ndim - 1)))
    return (x * factor).astype(x.dtype)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model to compare: ``build()`` makes it, ``preprocess`` is applied to every input it sees
    (train and test), ``augment`` to the training inputs only."""

    build: Callable
    preprocess: Callable | None = None
    augment: Callable | None = None


def baseline_specs(input_shape, n_classes, window=17, seed=0):
    """The five baselines of :data:`BASELINES` as :class:`ModelSpec` s (``window``: the local
    normalisation's window, an int or one per spatial axis)."""
    return {
        "plain": ModelSpec(lambda: build_baseline(input_shape, n_classes)),
        "bias_free": ModelSpec(
            lambda: build_baseline(input_shape, n_classes, use_bias=False, name="bias_free")
        ),
        "rms_norm": ModelSpec(lambda: build_baseline(input_shape, n_classes), rms_normalise),
        "local_norm": ModelSpec(
            lambda: build_baseline(input_shape, n_classes), lambda x: local_normalise(x, window)
        ),
        "augmented": ModelSpec(
            lambda: build_baseline(input_shape, n_classes),
            augment=lambda x: amplitude_augment(x, seed=seed),
        ),
    }


def fit_and_score(
    spec,
    train,
    test,
    *,
    factors=(1.0, 0.01, 0.1, 10.0, 100.0),
    gains=None,
    epochs=15,
    batch_size=64,
    seed=0,
    optimizer=None,
    callbacks=(),
    verbose=0,
):
    """Trains ``spec``'s model on ``train`` and scores it on ``test`` at each amplitude factor
    and, if ``gains`` is given (an array broadcastable against the test inputs), under those
    gains (key ``"envelope"``).

    Returns:
        ``(model, history, scores)``: ``scores`` maps ``"<factor>x"`` (and ``"envelope"``) to
        test accuracy, plus ``"parameters"``.
    """
    (x, y), (xt, yt) = train, test
    prep = spec.preprocess or (lambda v: v)
    keras.utils.set_random_seed(seed)
    model = spec.build()
    model.compile(
        optimizer=optimizer if optimizer is not None else keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x_fit = prep(spec.augment(x) if spec.augment is not None else x)
    history = model.fit(x_fit, y, epochs=epochs, batch_size=batch_size, verbose=verbose,
                        callbacks=list(callbacks))  # fmt: skip
    # every test condition in one predict call (one compiled function, one pass)
    columns = {f"{f:g}x": prep(f * xt) for f in factors}
    if gains is not None:
        columns["envelope"] = prep(gains * xt)
    logits = model.predict(np.concatenate(list(columns.values())), batch_size=1024, verbose=0)
    hits = np.argmax(logits, axis=-1).reshape(len(columns), len(xt)) == np.asarray(yt)[None]
    scores = {name: float(row.mean()) for name, row in zip(columns, hits, strict=True)}
    scores["parameters"] = int(model.count_params())
    return model, history, scores


def binomial_se(p, n):
    """Standard error of an accuracy ``p`` measured on ``n`` test samples (floored at 1/n)."""
    return math.sqrt(max(p * (1 - p), 1.0 / n) / n)


def compare_with_strongest(accuracy, n_test, model="scale_covariant"):
    """``accuracy[model]`` against the strongest of the :data:`BASELINES` in ``accuracy``, on
    amplitudes and on gain envelopes.

    The strongest on amplitudes is the baseline with the best worst-case accuracy over the
    amplitude factors (ties: the better one at 1x); on envelopes, the best under envelopes.
    Gaps are given with their binomial standard error on ``n_test`` signals.
    """
    ours = accuracy[model]
    others = {k: v for k, v in accuracy.items() if k in BASELINES}
    amp = [k for k in ours if k.endswith("x")]

    def worst(accs):
        return min(accs[k] for k in amp)

    strongest = max(others, key=lambda k: (worst(others[k]), others[k]["1x"]))
    se = binomial_se
    out = {
        "strongest_on_amplitude": strongest,
        "worst_amplitude_accuracy": {"ours": worst(ours), "strongest": worst(others[strongest])},
        "in_distribution": {"ours": ours["1x"], "strongest": others[strongest]["1x"]},
        "in_distribution_gap": ours["1x"] - others[strongest]["1x"],
        "gap_se": float(np.hypot(se(ours["1x"], n_test), se(others[strongest]["1x"], n_test))),
        "exactly_invariant": all(ours[k] == ours["1x"] for k in amp),
    }
    if "envelope" in ours:
        best_env = max(others, key=lambda k: others[k]["envelope"])
        out["strongest_on_envelope"] = best_env
        out["envelope"] = {"ours": ours["envelope"], "strongest": others[best_env]["envelope"]}
    return out
