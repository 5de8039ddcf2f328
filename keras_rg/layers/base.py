"""The machinery shared by the scale-covariant layers ``T(x; s) = W σ_s(x) + b`` (Liaw, "A
Renormalization Group Framework for Scale-Invariant Feature Learning in Deep Neural Networks",
Theorem 1; docs/layers.md).

The activation acts on the layer's INPUT, as in the paper. With a scale-aware σ (Definition 1):

    T(λx; s) = λ^α W σ_{λs}(x) + b,

so ``T(λx; s) = λ^α T(x; λs)`` holds exactly when b = 0, and in general with the bias running as
``b ↦ λ^(−α) b``. The scale s is one of four modes:

- ``"fixed"``: a constant s (``scale``);
- ``"trainable"``: ``s = exp(log_scale)`` with ``log_scale`` a weight, so s > 0 always;
- ``"adaptive"``: ``s(x) = scale / rms(x)`` per sample (rms over all non-batch axes). With b = 0
  the layer is exactly homogeneous, ``T(λx) = λ^α T(x)``; with α = 0 it is exactly invariant,
  with or without b;
- ``"local"`` (convolutions only): ``s(x)_t = scale / rms of x over a window around t``, so a gain
  that varies slowly along the input is divided out locally (the covariance law is in
  docs/layers.md, "Local scale").
"""

import math

import keras
from keras import ops

from keras_rg.activations import PowerLaw, ScaleAware, is_positively_homogeneous
from keras_rg.arguments import check_bool, check_int, check_positive, invalid_type
from keras_rg.layers.scale import global_scale, local_scale

__all__ = ["SCALE_MODES", "ScaleCovariantLayer", "resolve_activation"]

SCALE_MODES = ("fixed", "trainable", "adaptive", "local")


def resolve_activation(activation, alpha):
    """A scale-aware activation object from a name, callable or one of ours."""
    if isinstance(activation, (ScaleAware, PowerLaw)):
        if (
            alpha is not None
            and check_positive("alpha", alpha, allow_zero=True) != activation.alpha
        ):
            raise ValueError(
                "Received conflicting values for `alpha`: the activation already has "
                f"alpha={activation.alpha}; pass alpha=None or the same value. Received: alpha={alpha}"
            )
        return activation
    if isinstance(activation, dict):
        return resolve_activation(keras.saving.deserialize_keras_object(activation), alpha)
    return ScaleAware(activation, alpha=1.0 if alpha is None else alpha)


def _check_window(window, rank):
    """``window`` as a tuple of ``rank`` positive ints (an int is repeated)."""
    if isinstance(window, (list, tuple)):
        if len(window) != rank:
            raise ValueError(
                f"Received an invalid value for `window`: expected {rank} integer(s) >= 1, one "
                f"per spatial axis. Received: window={window!r}"
            )
        return tuple(check_int("window", w) for w in window)
    return (check_int("window", window),) * rank


class ScaleCovariantLayer(keras.layers.Layer):
    """Base of the scale-covariant layers: activation, scale modes, bias. Subclasses define the
    linear map (``kernel``) and set ``spatial_rank`` (0 for Dense, 1 or 2 for convolutions)."""

    spatial_rank = 0

    def __init__(
        self,
        activation="tanh",
        alpha=None,
        scale_mode="fixed",
        scale=1.0,
        use_bias=True,
        window=None,
        causal=False,
        per_channel=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.activation = resolve_activation(activation, alpha)
        if not isinstance(scale_mode, str):
            raise invalid_type("scale_mode", f"one of {SCALE_MODES}", scale_mode)
        modes = SCALE_MODES if self.spatial_rank else SCALE_MODES[:3]
        if scale_mode not in modes:
            raise ValueError(
                f"Received an invalid value for `scale_mode`: expected one of {modes}"
                + ("" if self.spatial_rank else " ('local' needs a spatial axis: use a conv layer)")
                + f". Received: scale_mode={scale_mode!r}"
            )
        if scale_mode == "trainable" and isinstance(self.activation, PowerLaw):
            raise ValueError(
                "Received scale_mode='trainable' with the scale-free PowerLaw activation: its "
                "output does not depend on s, so log_scale would never train. Use "
                "scale_mode='fixed' or a ScaleAware activation."
            )
        if scale_mode == "trainable" and is_positively_homogeneous(self.activation.base):
            raise ValueError(
                "Received scale_mode='trainable' with a positively homogeneous base activation "
                f"({self.activation.base!r}): σ_s(x) = s^(1−α) g(x), so s is one constant factor "
                "that the kernel already provides and log_scale is redundant. Use a base that is "
                "not homogeneous (tanh, gelu, softplus, ...) or scale_mode='fixed'."
            )
        self.scale_mode = scale_mode
        self.scale = check_positive("scale", scale)
        self.causal = check_bool("causal", causal)
        self.per_channel = check_bool("per_channel", per_channel)
        if scale_mode == "local":
            if window is None:
                raise ValueError(
                    "Received scale_mode='local' with window=None: pass the window length "
                    "(an integer >= 1, or one per spatial axis)."
                )
            window = _check_window(window, self.spatial_rank)
            if self.causal and self.spatial_rank != 1:
                raise ValueError(
                    "Received causal=True for a 2-D layer: a causal window exists only along one "
                    "axis (ScaleCovariantConv1D). Received: causal=True"
                )
        elif window is not None or self.causal or self.per_channel:
            raise ValueError(
                "Received `window`, `causal` or `per_channel` with scale_mode="
                f"{scale_mode!r}: they apply to scale_mode='local' only. Received: "
                f"window={window!r}, causal={causal!r}, per_channel={per_channel!r}"
            )
        self.window = window
        self.use_bias = check_bool("use_bias", use_bias)
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

    def _last_dim(self, input_shape, what):
        """The last axis of ``input_shape`` (input width or channels), which must be known."""
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(
                f"Layer {self.name!r} needs a known {what}. Received: input_shape={input_shape}"
            )
        return dim

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
        """The scale s in force: a float (fixed), the trained value (trainable), one value per
        sample of ``inputs`` (adaptive, shape ``(batch,)``) or per position (local, shaped to
        broadcast against ``inputs``)."""
        if self.scale_mode == "fixed":
            return self.scale
        if self.scale_mode == "trainable":
            return float(ops.convert_to_numpy(ops.exp(self.log_scale)))
        if inputs is None:
            raise ValueError(
                f"Received inputs=None: the {self.scale_mode} scale depends on the input; pass "
                "the inputs."
            )
        x = ops.convert_to_tensor(inputs)
        if self.scale_mode == "local":
            return self._input_scale(x)
        return ops.reshape(self._input_scale(x), (-1,))

    def _input_scale(self, x):
        if self.scale_mode == "local":
            return local_scale(
                x, self.scale, self.window, causal=self.causal, per_channel=self.per_channel
            )
        return global_scale(x, self.scale)

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
                scale = self._input_scale(x)
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
            "window": None if self.window is None else list(self.window),
            "causal": self.causal,
            "per_channel": self.per_channel,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }
