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

import keras
import numpy as np

from keras_rg.activations import ScaleAware
from keras_rg.arguments import check_choice, check_int, check_positive
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantConv2D, ScaleCovariantDense

__all__ = [
    "BASELINES",
    "DESIGNS",
    "amplitude_augment",
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
