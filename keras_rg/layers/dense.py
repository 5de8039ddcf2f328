"""The dense scale-covariant layer ``T(x; s) = W σ_s(x) + b`` (docs/layers.md)."""

import keras
from keras import ops

from keras_rg.arguments import check_int
from keras_rg.layers.base import ScaleCovariantLayer

__all__ = ["ScaleCovariantDense"]


@keras.saving.register_keras_serializable(package="keras_rg")
class ScaleCovariantDense(ScaleCovariantLayer):
    """Dense scale-covariant layer ``T(x; s) = W σ_s(x) + b`` (Liaw, Theorem 1; docs/layers.md).

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
            (``scale / rms(x)`` per sample). Defaults to ``"fixed"``. ``"local"`` needs a
            spatial axis (the conv layers).
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

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning
    in Deep Neural Networks", Definition 1 and Theorem 1; docs/layers.md.
    """

    def __init__(self, units, activation="tanh", alpha=None, **kwargs):
        super().__init__(activation=activation, alpha=alpha, **kwargs)
        self.units = check_int("units", units)
        # dense layers have no spatial axis: the local-mode arguments are not part of the config

        self.input_spec = keras.layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        in_dim = self._last_dim(input_shape, "last input dimension")
        self._build_common((in_dim, self.units), self.units)
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: in_dim})

    def call(self, inputs, scale=None):
        return self._add_bias(ops.matmul(self._activate(inputs, scale), self.kernel))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = {**super().get_config(), "units": self.units}
        for key in ("window", "causal", "per_channel"):
            config.pop(key)
        return config
