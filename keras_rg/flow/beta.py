"""Beta functions, the RG step on values and fixed-point distances (the mathematics of the flow).

The paper's beta functions (Theorem 2) for a layer ``T(x; s) = W σ_s(x) + b`` whose scale-aware
activation has exponent α are

    β(W) = (α − 1) W,        β(b) = −α b.

Redoing the proof with a general scaling dimension Δ, ``T(λx; s) = λ^Δ T(x; λs)`` holds for all x
exactly when the parameters run as ``W(λs) = λ^(α−Δ) W(s)`` and ``b(λs) = λ^(−Δ) b(s)``, i.e.

    β_Δ(W) = (α − Δ) W,      β_Δ(b) = −Δ b        (``beta="covariant"``).

The paper's pair takes W from Δ = 1 and b from Δ = α, so for α ≠ 1 no Δ makes it covariant.
Both are linear, ``β(θ) = cθ``, and flow exactly as ``θ(λs) = λ^c θ(s)`` (:func:`run_to_scale`).

The RG-guided step (Liaw's training procedure, step 2(c)) is ``θ ← θ − η∇L − εβ(θ)``: the optimizer does ``−η∇L``
and :func:`rg_step` / :func:`apply_rg_step` do ``−εβ(θ)`` right after it. With zero gradient,
``θ_t = (1 − εc)^t θ_0`` (:func:`closed_form_flow`): with the paper's β, ``W_t = (1 − ε(α−1))^t W_0``
and ``b_t = (1 + εα)^t b_0``, so the step as written EXPANDS b for every α > 0 (it moves against
the flow ``dθ/d log s = β``). ``direction="paper"`` keeps that sign (the default, so the paper can
be reproduced); ``direction="reverse"`` takes ``θ ← θ + εβ(θ)``, an Euler step along the flow.
``‖β(θ)‖`` is the distance to the fixed point ``β(θ*) = 0`` (Definition 2).

Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning in
Deep Neural Networks", Theorem 2, Definition 2 and the RG-guided training procedure; the derivation
of ``β_Δ`` is in docs/mathematics.md and the usage in docs/rg_flow.md.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_rg.arguments import (
    check_choice,
    check_float,
    check_int,
    check_positive,
    renamed_argument,
)

__all__ = [
    "BETA_KINDS",
    "DIRECTIONS",
    "LinearBeta",
    "beta_coefficients",
    "checked_beta",
    "closed_form_flow",
    "covariant_beta",
    "direction_sign",
    "epsilon_at",
    "fixed_point_distance",
    "paper_beta",
    "rg_step",
    "run_to_scale",
    "validate_beta_kind",
    "validate_epsilon",
]

BETA_KINDS = ("paper", "covariant")
DIRECTIONS = ("paper", "reverse")


# Argument checks shared by the callback, the optimizer and the report.


def direction_sign(direction):
    """+1 for ``"paper"`` (``θ ← θ − εβ(θ)``), −1 for ``"reverse"`` (``θ ← θ + εβ(θ)``)."""
    check_choice("direction", direction, DIRECTIONS)
    return 1.0 if direction == "paper" else -1.0


def validate_epsilon(epsilon):
    """Returns ``epsilon`` checked: a finite float >= 0, a Keras ``LearningRateSchedule`` or a
    callable ``step -> ε`` (registered with Keras to be saved). Serialized schedules are revived.

    Strings and bools raise ``TypeError`` (``epsilon="1e-3"`` and ``epsilon=True`` are mistakes);
    NumPy scalars and scalar tensors are accepted."""
    if isinstance(epsilon, dict):
        epsilon = keras.saving.deserialize_keras_object(epsilon)
    if callable(epsilon) and not isinstance(epsilon, (int, float, np.number)):
        return epsilon
    return check_positive("epsilon", epsilon, allow_zero=True)


def epsilon_at(epsilon, step):
    """The ε in force at optimizer step ``step`` (0-based): a float, or ``epsilon(step)``."""
    if isinstance(epsilon, float):
        return epsilon
    return epsilon(step)


def validate_beta_kind(beta, delta=None):
    """Checks ``beta`` (one of :data:`BETA_KINDS`) and ``delta`` (None, or a finite float > 0
    with ``beta="covariant"``); returns ``delta`` as a float or None."""
    check_choice("beta", beta, BETA_KINDS)
    if delta is not None:
        delta = check_positive("delta", delta)
        if beta != "covariant":
            raise ValueError(
                "Received `delta` with beta='paper': the scaling dimension Δ only applies to "
                f"beta='covariant'. Received: delta={delta}"
            )
    return delta


# Pure functions of values.


def beta_coefficients(alpha, beta="paper", delta=None):
    """The linear coefficients ``(c_W, c_b)`` of ``β(W) = c_W W`` and ``β(b) = c_b b``.

    Args:
        alpha: the activation exponent α of the layer, a finite float >= 0 (α = 0: a
            scale-invariant layer, whose paper β is ``(−1, 0)`` and covariant β is ``(−Δ, −Δ)``).
        beta: ``"paper"`` (Theorem 2: ``(α − 1, −α)``) or ``"covariant"``
            (``(α − Δ, −Δ)``). Defaults to ``"paper"``.
        delta: the scaling dimension Δ for ``beta="covariant"``; None means the layer's own
            Δ = α (Theorem 1), giving ``(0, −α)``. Defaults to None.

    Returns:
        A tuple of two floats ``(c_W, c_b)``.

    Example:
        >>> beta_coefficients(0.5)
        (-0.5, -0.5)
        >>> beta_coefficients(0.5, beta="covariant", delta=1.0)
        (-0.5, -1.0)
    """
    alpha = check_positive("alpha", alpha, allow_zero=True)
    delta = validate_beta_kind(beta, delta)
    if beta == "paper":
        return alpha - 1.0, -alpha
    delta = alpha if delta is None else delta
    return alpha - delta, -delta


def paper_beta(kernel, bias=None, *, alpha):
    """Theorem 2 of Liaw: ``β(W) = (α − 1) W`` and ``β(b) = −α b``.

    Args:
        kernel: W, an array or tensor.
        bias: b, or None. Defaults to None.
        alpha: the activation exponent α, a finite float > 0.

    Returns:
        ``(β(W), β(b))`` as tensors (``β(b)`` is None when ``bias`` is None).

    Example:
        >>> bw, bb = paper_beta([[2.0]], [1.0], alpha=1.5)
        >>> float(bw[0, 0]), float(bb[0])
        (1.0, -1.5)
    """
    c_w, c_b = beta_coefficients(alpha, "paper")
    return _linear_pair(kernel, bias, c_w, c_b)


def covariant_beta(kernel, bias=None, *, alpha, delta=None):
    """The covariant beta functions ``β_Δ(W) = (α − Δ) W``, ``β_Δ(b) = −Δ b`` (docs/mathematics.md).

    With these, ``T(λx; s) = λ^Δ T(x; λs)`` holds exactly when W and b are run to scale λs by
    :func:`run_to_scale`. Δ = α (the default) gives Theorem 1's ``β(W) = 0``, ``β(b) = −αb``.

    Args:
        kernel: W, an array or tensor.
        bias: b, or None. Defaults to None.
        alpha: the activation exponent α, a finite float > 0.
        delta: the scaling dimension Δ, a finite float > 0, or None for Δ = α. Defaults to None.

    Returns:
        ``(β_Δ(W), β_Δ(b))`` as tensors (``β_Δ(b)`` is None when ``bias`` is None).

    Example:
        >>> bw, bb = covariant_beta([[2.0]], [1.0], alpha=1.5, delta=1.0)
        >>> float(bw[0, 0]), float(bb[0])
        (1.0, -1.0)
    """
    c_w, c_b = beta_coefficients(alpha, "covariant", delta)
    return _linear_pair(kernel, bias, c_w, c_b)


def _linear_pair(kernel, bias, c_w, c_b):
    kernel = ops.convert_to_tensor(kernel)
    beta_w = c_w * kernel
    beta_b = None if bias is None else c_b * ops.convert_to_tensor(bias)
    return beta_w, beta_b


def rg_step(theta, beta, epsilon, direction="paper"):
    """One RG step on a value: ``θ − εβ(θ)`` (``"paper"``) or ``θ + εβ(θ)`` (``"reverse"``).

    Args:
        theta: the parameter value (array or tensor).
        beta: a callable ``β`` of the value, e.g. :class:`LinearBeta`.
        epsilon: ε, a finite float >= 0.
        direction: ``"paper"`` or ``"reverse"``. Defaults to ``"paper"``.

    Returns:
        The stepped value, a tensor.

    Example:
        >>> float(rg_step([4.0], LinearBeta(0.5), 0.1)[0])   # 4 − 0.1·0.5·4
        3.8
    """
    sign = direction_sign(direction)
    epsilon = check_positive("epsilon", epsilon, allow_zero=True)
    theta = ops.convert_to_tensor(theta)
    return theta - (sign * epsilon) * checked_beta(beta, theta)


def closed_form_flow(theta0, coefficient, epsilon, n_steps=None, direction="paper", **kwargs):
    """``θ_t = (1 − sεc)^t θ_0``: t RG steps with zero gradient for ``β(θ) = cθ`` (s = ±1).

    With the paper's β this is ``W_t = (1 − ε(α−1))^t W_0`` and ``b_t = (1 + εα)^t b_0``.

    Args:
        theta0: the initial value (array-like).
        coefficient: c.
        epsilon: ε, a finite float >= 0.
        n_steps: the number of steps t, an integer >= 0 (``steps=`` is its deprecated name).
        direction: ``"paper"`` (s = +1) or ``"reverse"`` (s = −1). Defaults to ``"paper"``.

    Returns:
        A float64 NumPy array.

    Example:
        >>> float(closed_form_flow([1.0], -0.5, 0.1, 2)[0])   # (1 + 0.05)^2
        1.1025
    """
    sign = direction_sign(direction)
    epsilon = check_positive("epsilon", epsilon, allow_zero=True)
    n_steps = renamed_argument(kwargs, "steps", "n_steps", n_steps, "closed_form_flow", None)
    if kwargs:
        raise TypeError(f"closed_form_flow() got unexpected keyword arguments {sorted(kwargs)}")
    n_steps = check_int("n_steps", n_steps, minimum=0)
    factor = 1.0 - sign * epsilon * float(coefficient)
    return factor**n_steps * np.asarray(theta0, dtype=np.float64)


def run_to_scale(theta, coefficient, lam):
    """The exact flow ``dθ/d log s = cθ`` from scale s to λs: ``θ(λs) = λ^c θ(s)``.

    With ``beta_coefficients(α, "covariant", Δ)`` this gives ``W(λs) = λ^(α−Δ) W(s)`` and
    ``b(λs) = λ^(−Δ) b(s)``, the running under which ``T(λx; s) = λ^Δ T(x; λs)``.

    Args:
        theta: the value at scale s (array-like).
        coefficient: c.
        lam: λ, a finite float > 0.

    Returns:
        A float64 NumPy array.

    Example:
        >>> float(run_to_scale([3.0], -1.0, 2.0)[0])
        1.5
    """
    lam = check_positive("lam", lam)
    return lam ** float(coefficient) * np.asarray(theta, dtype=np.float64)


def fixed_point_distance(values, betas):
    """``‖β(θ)‖``: the Euclidean norm of all ``β_i(θ_i)`` together (0 exactly at a fixed point).

    Args:
        values: a sequence of parameter values (arrays or tensors).
        betas: a sequence of beta callables, one per value.

    Returns:
        A Python float (computed in float64).

    Example:
        >>> fixed_point_distance([[3.0], [4.0]], [LinearBeta(1.0), LinearBeta(1.0)])
        5.0
    """
    total = 0.0
    for value, beta in zip(values, betas, strict=True):
        b = np.asarray(ops.convert_to_numpy(checked_beta(beta, ops.convert_to_tensor(value))))
        total += float(np.sum(np.square(b.astype(np.float64))))
    return math.sqrt(total)


@keras.saving.register_keras_serializable(package="keras_rg")
class LinearBeta:
    """A linear beta function ``β(θ) = c·θ``: what Theorem 2 and β_Δ give for W and b.

    Args:
        coefficient: c, a finite float.

    Example:
        >>> float(LinearBeta(-0.5)(keras.ops.ones((2,)))[0])
        -0.5

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning in
    Deep Neural Networks", Theorem 2.
    """

    def __init__(self, coefficient):
        self.coefficient = check_float("coefficient", coefficient)

    def __call__(self, theta):
        theta = ops.convert_to_tensor(theta)
        return ops.convert_to_tensor(self.coefficient, theta.dtype) * theta

    def get_config(self):
        return {"coefficient": self.coefficient}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is LinearBeta and other.coefficient == self.coefficient

    def __hash__(self):
        return hash(("LinearBeta", self.coefficient))

    def __repr__(self):
        return f"LinearBeta({self.coefficient})"


def checked_beta(beta, value, where="betas"):
    """``beta(value)`` as a tensor; ValueError naming ``where`` when its shape is not ``value``'s."""
    out = ops.convert_to_tensor(beta(value))
    if tuple(out.shape) != tuple(value.shape):
        raise ValueError(
            f"Received an invalid beta function in `{where}`: {beta!r} returned shape "
            f"{tuple(out.shape)} for a value of shape {tuple(value.shape)}; a beta function must "
            "return an array of the same shape as its argument."
        )
    return out
