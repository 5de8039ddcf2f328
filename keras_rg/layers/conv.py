"""Convolutional scale-covariant layers ``T(x; s) = conv(σ_s(x), W) + b`` in 1-D (signals, time
series) and 2-D (images), channels last (docs/layers.md)."""

import keras
from keras import ops

from keras_rg.arguments import check_int
from keras_rg.layers.base import ScaleCovariantLayer

__all__ = ["ScaleCovariantConv1D", "ScaleCovariantConv2D"]


def _pair(name, value):
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(
                f"Received an invalid value for `{name}`: expected an integer >= 1 or a pair of "
                f"them. Received: {name}={value!r}"
            )
        return tuple(check_int(name, v) for v in value)
    return (check_int(name, value),) * 2


def _per_axis(value):
    """A size as a tuple with one entry per spatial axis (the 1-D layer stores plain ints)."""
    return value if isinstance(value, tuple) else (value,)


def _config_value(value):
    return list(value) if isinstance(value, tuple) else value


class _ScaleCovariantConv(ScaleCovariantLayer):
    """What the 1-D and 2-D layers share; a subclass sets ``spatial_rank`` and ``padding_modes``."""

    padding_modes = ("valid", "same")

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        dilation_rate=1,
        activation="tanh",
        alpha=None,
        **kwargs,
    ):
        super().__init__(activation=activation, alpha=alpha, **kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = self._sizes("kernel_size", kernel_size)
        self.strides = self._sizes("strides", strides)
        self.dilation_rate = self._sizes("dilation_rate", dilation_rate)
        if padding not in self.padding_modes:
            *first, last = (repr(mode) for mode in self.padding_modes)
            raise ValueError(
                f"Received an invalid value for `padding`: expected {', '.join(first)} or {last}. "
                f"Received: padding={padding!r}"
            )
        if max(_per_axis(self.strides)) > 1 and max(_per_axis(self.dilation_rate)) > 1:
            raise ValueError(
                "`strides` > 1 and `dilation_rate` > 1 cannot be combined. Received: "
                f"strides={strides}, dilation_rate={dilation_rate}"
            )
        self.padding = padding
        self.input_spec = keras.layers.InputSpec(ndim=self.spatial_rank + 2)

    def _sizes(self, name, value):
        """An integer >= 1 for the 1-D layer; an integer or a pair, as a pair, for the 2-D one."""
        return check_int(name, value) if self.spatial_rank == 1 else _pair(name, value)

    def build(self, input_shape):
        channels = self._last_dim(input_shape, "channel dimension")
        self._build_common((*_per_axis(self.kernel_size), channels, self.filters), self.filters)
        self.input_spec = keras.layers.InputSpec(ndim=self.spatial_rank + 2, axes={-1: channels})

    def call(self, inputs, scale=None):
        h = self._activate(inputs, scale)
        padding = self.padding
        if padding == "causal":
            left = self.dilation_rate * (self.kernel_size - 1)
            h = ops.pad(h, ((0, 0), (left, 0), (0, 0)))
            padding = "valid"
        y = ops.conv(
            h, self.kernel, strides=self.strides, padding=padding, dilation_rate=self.dilation_rate
        )
        return self._add_bias(y)

    def compute_output_shape(self, input_shape):
        out = []
        axes = zip(
            input_shape[1 : 1 + self.spatial_rank],
            _per_axis(self.kernel_size),
            _per_axis(self.strides),
            _per_axis(self.dilation_rate),
            strict=False,
        )
        for size, kernel, stride, dilation in axes:
            if size is not None:
                span = dilation * (kernel - 1) + 1
                if self.padding == "valid":
                    size = (size - span) // stride + 1
                else:
                    size = -(-size // stride)
            out.append(size)
        return (input_shape[0], *out, self.filters)

    def get_config(self):
        config = {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": _config_value(self.kernel_size),
            "strides": _config_value(self.strides),
            "padding": self.padding,
            "dilation_rate": _config_value(self.dilation_rate),
        }
        if self.spatial_rank != 1:
            config.pop("causal")  # a causal window exists only along one axis
        return config


@keras.saving.register_keras_serializable(package="keras_rg")
class ScaleCovariantConv1D(_ScaleCovariantConv):
    """1-D convolutional scale-covariant layer ``T(x; s) = conv(σ_s(x), W) + b`` for signals and
    time series (channels last).

    The same covariance as :class:`ScaleCovariantDense`: exact for b = 0, with the running bias
    ``b ↦ λ^(−α) b`` otherwise; ``"adaptive"`` mode takes rms over all steps and channels of a
    sample, so ``T(λx) = λ^α T(x)`` for b = 0. ``"local"`` mode divides by the rms over a
    window around each step (``window``; centred, or ending at the step with ``causal=True``;
    over all channels, or per channel with ``per_channel=True``): a gain constant over the window
    passes through as ``λ^α``, a slowly varying one with the bounded error of docs/layers.md.

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: convolution window length, a positive integer.
        strides: stride, a positive integer. Defaults to 1.
        padding: ``"valid"``, ``"same"`` or ``"causal"``. Defaults to ``"valid"``.
        dilation_rate: dilation, a positive integer. Defaults to 1.
        activation, alpha, scale_mode, scale, use_bias, initializers, regularizers, constraints:
            as in :class:`ScaleCovariantDense`; ``scale_mode`` may also be ``"local"``.
        window: the local mode's window length, an integer >= 1 (required for "local").
        causal: the local window ends at each step instead of being centred. Defaults to False.
        per_channel: one local scale per channel instead of one shared. Defaults to False.

    Example:
        >>> layer = ScaleCovariantConv1D(8, 5, activation="tanh", alpha=0.5,
        ...                              scale_mode="adaptive", use_bias=False)
        >>> layer(keras.random.normal((2, 32, 1), seed=0)).shape
        (2, 28, 8)

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning
    in Deep Neural Networks", Theorem 1; docs/layers.md.
    """

    spatial_rank = 1
    padding_modes = ("valid", "same", "causal")


@keras.saving.register_keras_serializable(package="keras_rg")
class ScaleCovariantConv2D(_ScaleCovariantConv):
    """2-D convolutional scale-covariant layer ``T(x; s) = conv2d(σ_s(x), W) + b`` for images
    (channels last).

    The covariance of :class:`ScaleCovariantConv1D` in two dimensions: exact for b = 0 (running
    bias otherwise); ``"adaptive"`` takes the rms over the whole image, ``"local"`` over a
    ``window`` (int or (height, width)) around each pixel: local contrast normalisation inside
    the activation, so an illumination gain that is constant over the window passes through as
    ``λ^α`` (exactly invariant for α = 0).

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: an integer or a pair (height, width) of integers >= 1.
        strides: an integer or a pair. Defaults to 1.
        padding: ``"valid"`` or ``"same"``. Defaults to ``"valid"``.
        dilation_rate: an integer or a pair. Defaults to 1.
        activation, alpha, scale_mode, scale, use_bias, window, per_channel, initializers,
            regularizers, constraints: as in :class:`ScaleCovariantConv1D` (no ``causal``).

    Example:
        >>> layer = ScaleCovariantConv2D(4, 3, activation="tanh", alpha=0.0,
        ...                              scale_mode="local", window=5, padding="same")
        >>> layer(keras.random.normal((2, 8, 8, 1), seed=0)).shape
        (2, 8, 8, 4)

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning
    in Deep Neural Networks", Theorem 1; docs/layers.md.
    """

    spatial_rank = 2
