"""Scale-covariant layers ``T(x; s) = W σ_s(x) + b`` (seed 000, Theorem 1).

The activation acts on the layer's INPUT, as in the paper. With a scale-aware σ (Definition 1):

    T(λx; s) = λ^α W σ_{λs}(x) + b,

so ``T(λx; s) = λ^α T(x; λs)`` holds exactly when b = 0, and in general with the bias running as
``b ↦ λ^(−α) b`` (Theorem 2's ``β(b) = −αb``): ``T(λx; s; b) = λ^α T(x; λs; λ^(−α) b)``.

The scale s is one of three modes:

- ``"fixed"``: a constant s (``scale``);
- ``"trainable"``: ``s = exp(log_scale)`` with ``log_scale`` a weight, so s > 0 always;
- ``"adaptive"``: ``s(x) = scale / rms(x)`` per sample (rms over all non-batch axes; an all-zero
  sample uses ``s = scale``). With b = 0 the layer is then exactly homogeneous,
  ``T(λx) = λ^α T(x)``: amplitude-equivariant by construction. A stack of such layers is
  homogeneous of degree Δ = Π α_i, so a classifier's arg-max is amplitude-invariant.
"""

import math

import keras
from keras import ops

from keras_rg._validation import check_int
from keras_rg.activations import PowerLaw, ScaleAware, validate_alpha, validate_positive

__all__ = ["ScaleCovariantConv1D", "ScaleCovariantDense", "SCALE_MODES"]

SCALE_MODES = ("fixed", "trainable", "adaptive")


def _resolve_activation(activation, alpha):
    """A scale-aware activation object from a name, callable or one of ours."""
    if isinstance(activation, (ScaleAware, PowerLaw)):
        if alpha is not None and validate_alpha(alpha) != activation.alpha:
            raise ValueError(
                "Received conflicting values for `alpha`: the activation already has "
                f"alpha={activation.alpha}; pass alpha=None or the same value. Received: alpha={alpha}"
            )
        return activation
    if isinstance(activation, dict):
        return _resolve_activation(keras.saving.deserialize_keras_object(activation), alpha)
    return ScaleAware(activation, alpha=1.0 if alpha is None else alpha)


class _ScaleCovariant(keras.layers.Layer):
    """Shared machinery: activation, scale modes, bias. Subclasses define the linear map."""

    def __init__(
        self,
        activation="tanh",
        alpha=None,
        scale_mode="fixed",
        scale=1.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.activation = _resolve_activation(activation, alpha)
        if scale_mode not in SCALE_MODES:
            raise ValueError(
                f"Received an invalid value for `scale_mode`: expected one of {SCALE_MODES}. "
                f"Received: scale_mode={scale_mode!r}"
            )
        if scale_mode == "trainable" and isinstance(self.activation, PowerLaw):
            raise ValueError(
                "Received scale_mode='trainable' with the scale-free PowerLaw activation: its "
                "output does not depend on s, so log_scale would never train. Use "
                "scale_mode='fixed' or a ScaleAware activation."
            )
        self.scale_mode = scale_mode
        self.scale = validate_positive("scale", scale)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.log_scale = None
        self.bias = None

    @property
    def alpha(self):
        """The activation's exponent α: the layer's scaling dimension Δ (Theorem 1)."""
        return self.activation.alpha

    @property
    def scaling_dimension(self):
        """Δ = α (Theorem 1)."""
        return self.activation.alpha

    def _build_common(self, kernel_shape, out_dim):
        self.kernel = self.add_weight(
            name="kernel",
            shape=kernel_shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(out_dim,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        if self.scale_mode == "trainable":
            self.log_scale = self.add_weight(
                name="log_scale",
                shape=(),
                initializer=keras.initializers.Constant(math.log(self.scale)),
            )

    def current_scale(self, inputs=None):
        """The scale s in force: a float (fixed), the trained value (trainable), or one value per
        sample of ``inputs`` (adaptive, shape ``(batch,)``)."""
        if self.scale_mode == "fixed":
            return self.scale
        if self.scale_mode == "trainable":
            return float(ops.convert_to_numpy(ops.exp(self.log_scale)))
        if inputs is None:
            raise ValueError(
                "Received inputs=None: an adaptive layer's scale s0/rms(x) depends on the input; "
                "pass the inputs."
            )
        x = ops.convert_to_tensor(inputs)
        return ops.reshape(self._adaptive_scale(x), (-1,))

    def _adaptive_scale(self, x):
        """``scale / rms(x)`` per sample, shaped to broadcast against ``x``; zero-safe."""
        axes = tuple(range(1, len(x.shape)))
        # statistics in at least float32 (float16 squares overflow above 256)
        wide = "float64" if keras.backend.standardize_dtype(x.dtype) == "float64" else "float32"
        mean_sq = ops.mean(ops.square(ops.cast(x, wide)), axis=axes, keepdims=True)
        nonzero = mean_sq > 0
        rms = ops.sqrt(ops.where(nonzero, mean_sq, ops.ones_like(mean_sq)))
        s = ops.where(nonzero, self.scale / rms, ops.full_like(mean_sq, self.scale))
        return ops.cast(s, x.dtype)

    def _activate(self, x, scale):
        dtype = keras.backend.standardize_dtype(x.dtype)
        if "float" not in dtype:
            raise TypeError(
                f"Received an invalid dtype for `inputs` of layer {self.name!r}: expected a "
                f"floating-point tensor. Received: inputs.dtype={dtype}"
            )
        if scale is None:
            if self.scale_mode == "fixed":
                scale = self.scale
            elif self.scale_mode == "trainable":
                scale = ops.exp(ops.cast(self.log_scale, x.dtype))
            else:
                scale = self._adaptive_scale(x)
        return self.activation(x, scale=scale)

    def _add_bias(self, y):
        if self.bias is not None:
            y = y + self.bias
        return y

    def get_config(self):
        return {
            **super().get_config(),
            "activation": keras.saving.serialize_keras_object(self.activation),
            "alpha": None,
            "scale_mode": self.scale_mode,
            "scale": self.scale,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }


@keras.saving.register_keras_serializable(package="keras_rg")
class ScaleCovariantDense(_ScaleCovariant):
    """Dense scale-covariant layer ``T(x; s) = W σ_s(x) + b`` (seed 000, Theorem 1).

    Covariance (exact): ``T(λx; s) = λ^α T(x; λs)`` for b = 0, and with the running bias
    ``T(λx; s; b) = λ^α T(x; λs; λ^(−α) b)`` in general. In ``"adaptive"`` mode with
    ``use_bias=False``, ``T(λx) = λ^α T(x)`` for every λ > 0.

    Args:
        units: output dimension, a positive integer.
        activation: a :class:`~keras_rg.activations.ScaleAware` or
            :class:`~keras_rg.activations.PowerLaw` object, or a Keras activation name/callable
            wrapped as ``ScaleAware(activation, alpha)``. Defaults to ``"tanh"``.
        alpha: exponent α when ``activation`` is a name or callable (default 1.0); must be None or
            equal to the activation's α when an object is passed.
        scale_mode: ``"fixed"``, ``"trainable"`` (log-parametrised, s > 0) or ``"adaptive"``
            (``scale / rms(x)`` per sample). Defaults to ``"fixed"``.
        scale: s for ``"fixed"``, the initial s for ``"trainable"``, s0 for ``"adaptive"``.
            Defaults to 1.0.
        use_bias: whether to add b. Defaults to True.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as in ``keras.layers.Dense``.

    Call arguments:
        inputs: float tensor ``(..., in_dim)``.
        scale: optional override of s (float or tensor broadcastable against ``inputs``),
            to evaluate ``T(x; s')`` at another scale.

    Example:
        >>> layer = ScaleCovariantDense(4, activation=ScaleAware("tanh", alpha=0.5),
        ...                             scale_mode="adaptive", use_bias=False)
        >>> x = keras.random.normal((2, 3), seed=0)
        >>> y1, y2 = layer(3.0 * x), 3.0**0.5 * layer(x)     # T(λx) = λ^α T(x)
        >>> bool(keras.ops.max(keras.ops.abs(y1 - y2)) < 1e-5)
        True

    Reference: seed 000 (Liaw), Definition 1 and Theorem 1.
    """

    def __init__(self, units, activation="tanh", alpha=None, **kwargs):
        super().__init__(activation=activation, alpha=alpha, **kwargs)
        self.units = check_int("units", units)
        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(
                f"Layer {self.name!r} needs a known last input dimension. Received: "
                f"input_shape={input_shape}"
            )
        self._build_common((in_dim, self.units), self.units)
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: in_dim})

    def call(self, inputs, scale=None):
        return self._add_bias(ops.matmul(self._activate(inputs, scale), self.kernel))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="keras_rg")
class ScaleCovariantConv1D(_ScaleCovariant):
    """1-D convolutional scale-covariant layer ``T(x; s) = conv(σ_s(x), W) + b`` for signals and
    time series (channels last).

    The same covariance as :class:`ScaleCovariantDense`: exact for b = 0, with the running bias
    ``b ↦ λ^(−α) b`` otherwise; ``"adaptive"`` mode takes rms over all steps and channels of a
    sample, so ``T(λx) = λ^α T(x)`` for b = 0.

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: convolution window length, a positive integer.
        strides: stride, a positive integer. Defaults to 1.
        padding: ``"valid"``, ``"same"`` or ``"causal"``. Defaults to ``"valid"``.
        dilation_rate: dilation, a positive integer. Defaults to 1.
        activation, alpha, scale_mode, scale, use_bias, initializers, regularizers, constraints:
            as in :class:`ScaleCovariantDense`.

    Example:
        >>> layer = ScaleCovariantConv1D(8, 5, activation="tanh", alpha=0.5,
        ...                              scale_mode="adaptive", use_bias=False)
        >>> layer(keras.random.normal((2, 32, 1), seed=0)).shape
        (2, 28, 8)

    Reference: seed 000 (Liaw), Theorem 1.
    """

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
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.strides = check_int("strides", strides)
        self.dilation_rate = check_int("dilation_rate", dilation_rate)
        if padding not in ("valid", "same", "causal"):
            raise ValueError(
                "Received an invalid value for `padding`: expected 'valid', 'same' or 'causal'. "
                f"Received: padding={padding!r}"
            )
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError(
                "`strides` > 1 and `dilation_rate` > 1 cannot be combined. Received: "
                f"strides={strides}, dilation_rate={dilation_rate}"
            )
        self.padding = padding
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"Layer {self.name!r} needs a known channel dimension. Received: "
                f"input_shape={input_shape}"
            )
        self._build_common((self.kernel_size, channels, self.filters), self.filters)
        self.input_spec = keras.layers.InputSpec(ndim=3, axes={-1: channels})

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
        steps = input_shape[1]
        if steps is not None:
            span = self.dilation_rate * (self.kernel_size - 1) + 1
            if self.padding == "valid":
                steps = (steps - span) // self.strides + 1
            else:
                steps = -(-steps // self.strides)
        return (input_shape[0], steps, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
        }
