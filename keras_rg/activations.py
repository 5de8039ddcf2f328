"""Scale-aware activations: ``σ_s(λx) = λ^α σ_{λs}(x)`` (Liaw, Definition 1).

Every function ``σ_s(x) = s^(−α) g(s·x)`` satisfies Definition 1 for ANY base function ``g``:

    σ_s(λx) = s^(−α) g(sλx) = λ^α (λs)^(−α) g(λs·x) = λ^α σ_{λs}(x).

So :class:`ScaleAware` wraps any Keras activation (``"tanh"``, ``"gelu"``, ``"softplus"``, ...) or a
registered callable. :class:`PowerLaw`, ``sign(x)|x|^α``, satisfies it with no scale at all.

Both are callables ``activation(x, scale=None)``: ``scale`` may be a float or a tensor broadcastable
against ``x`` (e.g. one scale per sample); when omitted the object's own ``scale`` is used, so they
also work anywhere Keras takes an activation (``keras.layers.Dense(8, activation=ScaleAware(...))``).

Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning in Deep
Neural Networks", Definition 1; docs/layers.md and docs/mathematics.md.
"""

import warnings

import keras
from keras import ops

from keras_rg.arguments import check_positive

__all__ = [
    "HOMOGENEOUS_BASES",
    "PowerLaw",
    "ScaleAware",
    "is_positively_homogeneous",
    "validate_alpha",
    "validate_positive",
]


def _warn_deprecated(old, new):
    warnings.warn(
        f"keras_rg.activations.{old} is deprecated and will be removed in the next release; "
        f"use keras_rg.arguments.{new}.",
        DeprecationWarning,
        stacklevel=3,
    )


def validate_positive(name, value, *, allow_zero=False):
    """Deprecated alias of :func:`keras_rg.arguments.check_positive` (removed in the next release)."""
    _warn_deprecated("validate_positive", "check_positive")
    return check_positive(name, value, allow_zero=allow_zero)


def validate_alpha(alpha):
    """Deprecated alias of ``check_positive("alpha", alpha)`` (removed in the next release)."""
    _warn_deprecated("validate_alpha", "check_positive('alpha', alpha)")
    return check_positive("alpha", alpha)


# Bases g with g(λx) = λ g(x) for λ > 0: with them σ_s(x) = s^(1−α) g(x), so the scale is only a
# constant factor (fixed, trainable) or a power of the input's RMS (adaptive).
HOMOGENEOUS_BASES = ("relu", "leaky_relu", "linear")


def is_positively_homogeneous(base):
    """Whether the base activation ``base`` (name or callable) is relu, leaky_relu or linear,
    i.e. positively homogeneous of degree 1, so that ``σ_s(x) = s^(1−α) g(x)``."""
    if isinstance(base, str):
        return base in HOMOGENEOUS_BASES
    return any(base is keras.activations.get(name) for name in HOMOGENEOUS_BASES)


def _resolve_base(base):
    """Turns a Keras activation name or callable into a callable, with a clear error."""
    if isinstance(base, str):
        try:
            fn = keras.activations.get(base)
        except (ValueError, TypeError):
            fn = None
        if fn is None:
            raise ValueError(
                "Received an invalid value for `base`: expected the name of a Keras activation "
                f"(e.g. 'tanh', 'gelu', 'softplus', 'relu') or a callable. Received: base={base!r}"
            )
        return fn
    if isinstance(base, dict):
        return keras.saving.deserialize_keras_object(base)
    if callable(base):
        return base
    raise TypeError(
        "Received an invalid type for `base`: expected a Keras activation name or a callable. "
        f"Received: base={base!r} of type {type(base).__name__}"
    )


def _check_float(x, name="x"):
    dtype = keras.backend.standardize_dtype(x.dtype)
    if "float" not in dtype:
        raise TypeError(
            f"Received an invalid dtype for `{name}`: expected a floating-point tensor "
            f"(float16, bfloat16, float32 or float64). Received: {name}.dtype={dtype}"
        )


def _as_dtype(value, dtype):
    """A tensor of ``dtype``; Python numbers are converted directly (no float32 detour)."""
    if isinstance(value, (int, float)):
        return ops.convert_to_tensor(value, dtype=dtype)
    return ops.cast(value, dtype)


@keras.saving.register_keras_serializable(package="keras_rg")
class ScaleAware:
    """Scale-aware activation ``σ_s(x) = s^(−α) · g(s·x)`` for any base activation ``g``.

    Satisfies Definition 1 of Liaw (see docs/layers.md) exactly, ``σ_s(λx) = λ^α σ_{λs}(x)`` for all λ > 0.
    When ``g`` is positively homogeneous of degree k (relu, leaky_relu) this is ``s^(k−α) g(x)``.

    Args:
        base: Keras activation name (``"tanh"``, ``"gelu"``, ...) or a callable ``g``. A callable
            must be a Keras activation or registered with
            ``keras.saving.register_keras_serializable`` for the model to be saved. Defaults to
            ``"tanh"``.
        alpha: scaling exponent α, a finite float >= 0. Defaults to 1.0. α = 0 gives
            ``σ_s(x) = g(s·x)``: in a layer's adaptive or local scale mode the layer is then
            scale INVARIANT (degree 0), so a plain layer with biases may follow it.
        scale: the scale s used when the call gives none, a finite float > 0. Defaults to 1.0.

    Example:
        >>> sigma = ScaleAware("tanh", alpha=0.5)
        >>> x = keras.ops.convert_to_tensor([0.3, -1.2])
        >>> lhs = sigma(2.0 * x, scale=0.7)            # σ_s(λx)
        >>> rhs = 2.0**0.5 * sigma(x, scale=1.4)       # λ^α σ_{λs}(x)
        >>> bool(keras.ops.all(keras.ops.abs(lhs - rhs) < 1e-6))
        True

    Reference: Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning in Deep Neural Networks", Definition 1.
    """

    def __init__(self, base="tanh", alpha=1.0, scale=1.0):
        self.alpha = check_positive("alpha", alpha, allow_zero=True)
        self.scale = check_positive("scale", scale)
        self._fn = _resolve_base(base)
        self.base = base if isinstance(base, str) else self._fn

    def __call__(self, x, scale=None):
        x = ops.convert_to_tensor(x)
        _check_float(x)
        s = _as_dtype(self.scale if scale is None else scale, x.dtype)
        return ops.power(s, -self.alpha) * self._fn(s * x)

    def get_config(self):
        base = self.base
        if not isinstance(base, str):
            base = keras.saving.serialize_keras_object(base)
        return {"base": base, "alpha": self.alpha, "scale": self.scale}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        base = self.base if isinstance(self.base, str) else getattr(self.base, "__name__", "g")
        return f"ScaleAware(base={base!r}, alpha={self.alpha}, scale={self.scale})"


@keras.saving.register_keras_serializable(package="keras_rg")
class PowerLaw:
    """Scale-free power law ``σ(x) = sign(x)·|x|^α``.

    Satisfies Definition 1 of Liaw (see docs/layers.md) with no scale: ``σ(λx) = λ^α σ(x)`` for all λ > 0, so
    ``σ_s = σ`` for every s (the ``scale`` argument is accepted and ignored).
    The derivative ``α|x|^(α−1)`` is used away from 0. At x = 0 the gradient is finite by
    convention: 1 for α = 1 (the identity), and 0 otherwise (the true value for α > 1; for
    α < 1 the true derivative is infinite, and 0 is a subgradient-style choice, as for ReLU at 0,
    so training never sees inf or NaN).

    Args:
        alpha: exponent α, a finite float > 0. Defaults to 1.0.

    Example:
        >>> sigma = PowerLaw(alpha=0.5)
        >>> [round(float(v), 4) for v in sigma(keras.ops.convert_to_tensor([-4.0, 0.0, 9.0]))]
        [-2.0, 0.0, 3.0]

    Reference: Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning in Deep Neural Networks", Definition 1.
    """

    def __init__(self, alpha=1.0):
        self.alpha = check_positive("alpha", alpha)
        self.scale = 1.0

    def __call__(self, x, scale=None):
        del scale  # scale-free
        x = ops.convert_to_tensor(x)
        _check_float(x)
        if self.alpha == 1.0:
            return x
        magnitude = ops.abs(x)
        nonzero = magnitude > 0
        safe = ops.where(nonzero, magnitude, ops.ones_like(magnitude))
        return ops.where(nonzero, ops.sign(x) * ops.power(safe, self.alpha), ops.zeros_like(x))

    def get_config(self):
        return {"alpha": self.alpha}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"PowerLaw(alpha={self.alpha})"
