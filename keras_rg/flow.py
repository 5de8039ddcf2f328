"""Beta functions, the RG step and fixed-point distances for network parameters (seed 000, §2.3).

The paper's beta functions (Theorem 2) for a layer ``T(x; s) = W σ_s(x) + b`` whose scale-aware
activation has exponent α are

    β(W) = (α − 1) W,        β(b) = −α b.

Redoing the proof with a general scaling dimension Δ, ``T(λx; s) = λ^Δ T(x; λs)`` holds for all x
exactly when the parameters run as ``W(λs) = λ^(α−Δ) W(s)`` and ``b(λs) = λ^(−Δ) b(s)``, i.e.

    β_Δ(W) = (α − Δ) W,      β_Δ(b) = −Δ b        (``beta="covariant"``).

The paper's pair takes W from Δ = 1 and b from Δ = α, so for α ≠ 1 no Δ makes it covariant.
Both are linear, ``β(θ) = cθ``, and flow exactly as ``θ(λs) = λ^c θ(s)`` (:func:`run_to_scale`).

The RG-guided step (seed 000, step 2(c)) is ``θ ← θ − η∇L − εβ(θ)``: the optimizer does ``−η∇L``
and :func:`rg_step` / :func:`apply_rg_step` do ``−εβ(θ)`` right after it. With zero gradient,
``θ_t = (1 − εc)^t θ_0`` (:func:`closed_form_flow`): with the paper's β, ``W_t = (1 − ε(α−1))^t W_0``
and ``b_t = (1 + εα)^t b_0``, so the step as written EXPANDS b for every α > 0 (it moves against
the flow ``dθ/d log s = β``). ``direction="paper"`` keeps that sign (the default, so the paper can
be reproduced); ``direction="reverse"`` takes ``θ ← θ + εβ(θ)``, an Euler step along the flow.
``‖β(θ)‖`` is the distance to the fixed point ``β(θ*) = 0`` (Definition 2).

Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning in
Deep Neural Networks" (seed 000), Theorem 2, Definition 2 and the RG-guided training procedure.
"""

import dataclasses
import fnmatch
import functools
import math
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_rg.activations import validate_positive
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense

__all__ = [
    "BETA_KINDS",
    "DIRECTIONS",
    "FlowTarget",
    "LinearBeta",
    "apply_rg_step",
    "beta_coefficients",
    "beta_norms",
    "closed_form_flow",
    "covariant_beta",
    "direction_sign",
    "epsilon_at",
    "fixed_point_distance",
    "paper_beta",
    "resolve_targets",
    "rg_step",
    "run_to_scale",
    "validate_alpha_spec",
    "validate_beta_kind",
    "validate_epsilon",
    "variable_betas",
    "match_plan",
    "normalize_betas",
    "normalize_selection",
]

BETA_KINDS = ("paper", "covariant")
DIRECTIONS = ("paper", "reverse")
_SCALE_COVARIANT = (ScaleCovariantDense, ScaleCovariantConv1D)


# --------------------------------------------------------------------------------------------
# Argument checks shared by the callback, the optimizer and the report.
# --------------------------------------------------------------------------------------------


def direction_sign(direction):
    """+1 for ``"paper"`` (``θ ← θ − εβ(θ)``), −1 for ``"reverse"`` (``θ ← θ + εβ(θ)``)."""
    if direction not in DIRECTIONS:
        raise ValueError(
            f"Received an invalid value for `direction`: expected one of {DIRECTIONS}. "
            f"Received: direction={direction!r}"
        )
    return 1.0 if direction == "paper" else -1.0


def validate_epsilon(epsilon):
    """Returns ``epsilon`` checked: a finite float >= 0, a Keras ``LearningRateSchedule`` or a
    callable ``step -> ε`` (registered with Keras to be saved). Serialized schedules are revived."""
    if isinstance(epsilon, dict):
        epsilon = keras.saving.deserialize_keras_object(epsilon)
    if callable(epsilon) and not isinstance(epsilon, (int, float, np.number)):
        return epsilon
    return validate_positive("epsilon", epsilon, allow_zero=True)


def epsilon_at(epsilon, step):
    """The ε in force at optimizer step ``step`` (0-based): a float, or ``epsilon(step)``."""
    if isinstance(epsilon, float):
        return epsilon
    return epsilon(step)


def validate_beta_kind(beta, delta=None):
    """Checks ``beta`` (one of :data:`BETA_KINDS`) and ``delta`` (None, or a finite float > 0
    with ``beta="covariant"``); returns ``delta`` as a float or None."""
    if beta not in BETA_KINDS:
        raise ValueError(
            f"Received an invalid value for `beta`: expected one of {BETA_KINDS}. "
            f"Received: beta={beta!r}"
        )
    if delta is not None:
        delta = validate_positive("delta", delta)
        if beta != "covariant":
            raise ValueError(
                "Received `delta` with beta='paper': the scaling dimension Δ only applies to "
                f"beta='covariant'. Received: delta={delta}"
            )
    return delta


# --------------------------------------------------------------------------------------------
# Pure functions of values.
# --------------------------------------------------------------------------------------------


def beta_coefficients(alpha, beta="paper", delta=None):
    """The linear coefficients ``(c_W, c_b)`` of ``β(W) = c_W W`` and ``β(b) = c_b b``.

    Args:
        alpha: the activation exponent α of the layer, a finite float > 0.
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
    alpha = validate_positive("alpha", alpha)
    delta = validate_beta_kind(beta, delta)
    if beta == "paper":
        return alpha - 1.0, -alpha
    delta = alpha if delta is None else delta
    return alpha - delta, -delta


def paper_beta(kernel, bias=None, *, alpha):
    """Theorem 2 of seed 000: ``β(W) = (α − 1) W`` and ``β(b) = −α b``.

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
    """The covariant beta functions ``β_Δ(W) = (α − Δ) W``, ``β_Δ(b) = −Δ b`` (DESIGN §2.3).

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
    epsilon = validate_positive("epsilon", epsilon, allow_zero=True)
    theta = ops.convert_to_tensor(theta)
    return theta - (sign * epsilon) * _checked_beta(beta, theta)


def closed_form_flow(theta0, coefficient, epsilon, steps, direction="paper"):
    """``θ_t = (1 − sεc)^t θ_0``: t RG steps with zero gradient for ``β(θ) = cθ`` (s = ±1).

    With the paper's β this is ``W_t = (1 − ε(α−1))^t W_0`` and ``b_t = (1 + εα)^t b_0``.

    Args:
        theta0: the initial value (array-like).
        coefficient: c.
        epsilon: ε, a finite float >= 0.
        steps: the number of steps t, an integer >= 0.
        direction: ``"paper"`` (s = +1) or ``"reverse"`` (s = −1). Defaults to ``"paper"``.

    Returns:
        A float64 NumPy array.

    Example:
        >>> float(closed_form_flow([1.0], -0.5, 0.1, 2)[0])   # (1 + 0.05)^2
        1.1025
    """
    sign = direction_sign(direction)
    epsilon = validate_positive("epsilon", epsilon, allow_zero=True)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(
            f"Received an invalid value for `steps`: expected an integer >= 0. Received: steps={steps!r}"
        )
    factor = 1.0 - sign * epsilon * float(coefficient)
    return factor ** int(steps) * np.asarray(theta0, dtype=np.float64)


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
    lam = validate_positive("lam", lam)
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
        b = np.asarray(ops.convert_to_numpy(_checked_beta(beta, ops.convert_to_tensor(value))))
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

    Reference: seed 000 (Liaw), Theorem 2.
    """

    def __init__(self, coefficient):
        if isinstance(coefficient, bool) or not isinstance(coefficient, (int, float, np.number)):
            raise TypeError(
                "Received an invalid type for `coefficient`: expected a finite float. "
                f"Received: coefficient={coefficient!r}"
            )
        if not math.isfinite(coefficient):
            raise ValueError(
                "Received an invalid value for `coefficient`: expected a finite float. "
                f"Received: coefficient={coefficient}"
            )
        self.coefficient = float(coefficient)

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


def _checked_beta(beta, value, where="betas"):
    out = ops.convert_to_tensor(beta(value))
    if tuple(out.shape) != tuple(value.shape):
        raise ValueError(
            f"Received an invalid beta function in `{where}`: {beta!r} returned shape "
            f"{tuple(out.shape)} for a value of shape {tuple(value.shape)}; a beta function must "
            "return an array of the same shape as its argument."
        )
    return out


# --------------------------------------------------------------------------------------------
# Per-variable resolution for a model.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class FlowTarget:
    """One variable the flow acts on.

    Attributes:
        layer: the owning layer's name.
        variable: the ``keras.Variable``.
        role: ``"kernel"``, ``"bias"``, or the variable's name for a user beta.
        beta: the beta callable.
        alpha: the α used for a default beta (None for a user beta).
    """

    layer: str
    variable: object
    role: str
    beta: object
    alpha: float | None = None

    @property
    def path(self):
        return self.variable.path

    @property
    def coefficient(self):
        """c when ``beta`` is a :class:`LinearBeta`, else None."""
        return self.beta.coefficient if isinstance(self.beta, LinearBeta) else None


def _leaf_layers(model):
    if isinstance(model, (list, tuple)):
        items = list(model)
    elif hasattr(model, "layers"):
        items = list(model.layers)
    else:
        items = [model]
    leaves = []
    for layer in items:
        if hasattr(layer, "layers"):
            leaves.extend(_leaf_layers(layer))
        else:
            leaves.append(layer)
    return leaves


def _short_path(variable):
    return "/".join(variable.path.split("/")[-2:])


def _variable_of(layer, attr):
    v = getattr(layer, attr, None)
    return v if isinstance(v, keras.Variable) and v.trainable else None


def _type_matches(layer, layer_types):
    for t in layer_types:
        if isinstance(t, str):
            if any(t == c.__name__ for c in type(layer).__mro__):
                return True
        elif isinstance(layer, t):
            return True
    return False


def _as_tuple(name, value, kinds):
    if value is None:
        return None
    if isinstance(value, (str, type)):
        value = (value,)
    value = tuple(value)
    for v in value:
        if not isinstance(v, kinds):
            raise TypeError(
                f"Received an invalid value for `{name}`: expected a string or a sequence of "
                f"{'classes or ' if type in kinds else ''}strings. Received: {name}={value!r}"
            )
    return value


def normalize_selection(layer_types=None, layer_names=None, predicate=None):
    """Checks the layer selectors; returns ``(layer_types, layer_names, predicate)``."""
    layer_types = _as_tuple("layer_types", layer_types, (str, type))
    layer_names = _as_tuple("layer_names", layer_names, (str,))
    if isinstance(predicate, dict):
        predicate = keras.saving.deserialize_keras_object(predicate)
    if predicate is not None and not callable(predicate):
        raise TypeError(
            "Received an invalid value for `predicate`: expected a callable layer -> bool. "
            f"Received: predicate={predicate!r}"
        )
    return layer_types, layer_names, predicate


def normalize_betas(betas):
    """Checks a ``betas`` mapping ``{pattern: callable or None}``; revives serialized values."""
    if betas is None:
        return {}
    if not isinstance(betas, dict):
        raise TypeError(
            "Received an invalid value for `betas`: expected a dict mapping a layer name or a "
            f"variable path (glob patterns allowed) to a callable or None. Received: betas={betas!r}"
        )
    out = {}
    for key, fn in betas.items():
        if isinstance(fn, dict):
            fn = keras.saving.deserialize_keras_object(fn)
        if not isinstance(key, str) or (fn is not None and not callable(fn)):
            raise TypeError(
                "Received an invalid entry in `betas`: expected a string key and a callable (or "
                f"None to exclude). Received: {key!r}: {fn!r}"
            )
        out[key] = fn
    return out


def validate_alpha_spec(alpha):
    """Checks ``alpha`` for plain layers: None, a finite float > 0, or ``{layer name: α}``."""
    if alpha is None:
        return None
    if isinstance(alpha, dict):
        return {str(k): validate_positive(f"alpha[{k!r}]", v) for k, v in alpha.items()}
    return validate_positive("alpha", alpha)


def _alpha_for(layer, alpha):
    if isinstance(layer, _SCALE_COVARIANT):
        return layer.alpha
    if isinstance(alpha, dict):
        return alpha.get(layer.name)
    return alpha


def _matching_keys(betas, names):
    return [k for k in betas if any(fnmatch.fnmatchcase(n, k) for n in names)]


def _single_entry(betas, keys, variable):
    """The one entry ``keys`` agree on (a callable or None), or ValueError naming them."""
    if len({id(betas[k]) for k in keys}) > 1:
        raise ValueError(
            f"Received conflicting entries in `betas` for variable {variable.path!r}: keys "
            f"{keys} all match it. Make the keys more specific."
        )
    return betas[keys[0]]


def _check_all_used(betas, used, what):
    unused = [k for k in betas if k not in used]
    if unused:
        raise ValueError(
            f"Received keys in `betas` that match no {what}: {unused}. Keys are layer names or "
            "variable paths such as 'dense/kernel' (glob patterns allowed)."
        )


def _user_keys(layer, variable, betas, defaults):
    """The ``betas`` keys for ``variable``: variable keys, else layer keys (which act on the
    layer's kernel and bias when it has them, else on all its trainable variables)."""
    keys = _matching_keys(betas, (variable.path, _short_path(variable)))
    if keys:
        return keys
    if not defaults or any(variable is d for d in defaults):
        return _matching_keys(betas, (layer.name,))
    return []


def resolve_targets(
    model,
    *,
    beta="paper",
    delta=None,
    alpha=None,
    betas=None,
    layer_types=None,
    layer_names=None,
    predicate=None,
    warn_empty=True,
):
    """The variables the RG flow acts on, each with its beta function.

    Defaults: every selected :class:`~keras_rg.layers.ScaleCovariantDense` /
    :class:`~keras_rg.layers.ScaleCovariantConv1D` gets the ``beta`` kind from its own α on its
    kernel and bias (never on ``log_scale``); a selected plain Keras layer with a ``kernel`` (Dense,
    Conv1D/2D, ...) gets the same formula with the user's ``alpha`` (applied formally: its
    activation is on the output, so no covariance is implied). ``betas`` adds or overrides
    per layer or per variable, whether or not the layer is selected. Non-trainable variables and
    layers are skipped.

    Args:
        model: a Keras model, a layer, or a list of layers (nested models are walked).
        beta: ``"paper"`` or ``"covariant"``. Defaults to ``"paper"``.
        delta: Δ for ``beta="covariant"`` (None: each layer's own α). Defaults to None.
        alpha: α for plain Keras layers: a float, a dict ``{layer name: α}``, or None (plain
            layers get no default beta). Defaults to None.
        betas: ``{key: callable or None}``; a key is a layer name or a variable path
            (``"dense/kernel"``; glob patterns such as ``"*/bias"`` allowed). A layer key acts on
            the layer's kernel and bias (all its trainable variables if it has neither); a
            variable key wins over a layer key; None excludes. A callable gets the variable's value
            and returns an array of the same shape; register it with Keras to save. Defaults to
            None.
        layer_types: classes or class names; a layer is selected if it is an instance of one.
        layer_names: layer names or glob patterns.
        predicate: a callable ``layer -> bool``. The three selectors combine with AND; all None
            selects every layer that has a default beta.
        warn_empty: warn when nothing is selected. Defaults to True.

    Returns:
        A list of :class:`FlowTarget`.

    Raises:
        ValueError: a ``betas`` key matches no variable, two keys conflict, or a beta returns a
            wrong shape.

    Example:
        >>> model = keras.Sequential([keras.Input((3,)), ScaleCovariantDense(4, alpha=0.5)])
        >>> [(t.role, t.coefficient) for t in resolve_targets(model)]
        [('kernel', -0.5), ('bias', -0.5)]
    """
    delta = validate_beta_kind(beta, delta)
    alpha = validate_alpha_spec(alpha)
    layer_types, layer_names, predicate = normalize_selection(layer_types, layer_names, predicate)
    betas = normalize_betas(betas)
    used_keys = set()
    targets, seen = [], set()
    for layer in _leaf_layers(model):
        if not layer.trainable:
            continue
        selected = (
            (layer_types is None or _type_matches(layer, layer_types))
            and (
                layer_names is None or any(fnmatch.fnmatchcase(layer.name, p) for p in layer_names)
            )
            and (predicate is None or bool(predicate(layer)))
        )
        roles = {}
        for role in ("kernel", "bias"):
            v = _variable_of(layer, role)
            if v is not None:
                roles[id(v)] = role
        defaults = [v for v in layer.trainable_weights if id(v) in roles]
        a = _alpha_for(layer, alpha) if selected and defaults else None
        coefficients = beta_coefficients(a, beta, delta) if a is not None else None
        for v in layer.trainable_weights:
            if id(v) in seen:
                continue
            keys = _user_keys(layer, v, betas, defaults)
            if keys:
                used_keys.update(keys)
                fn = _single_entry(betas, keys, v)
                if fn is not None:
                    targets.append(FlowTarget(layer.name, v, roles.get(id(v), v.name), fn))
                    seen.add(id(v))
                continue
            if coefficients is not None and id(v) in roles:
                c = coefficients[0] if roles[id(v)] == "kernel" else coefficients[1]
                targets.append(FlowTarget(layer.name, v, roles[id(v)], LinearBeta(c), a))
                seen.add(id(v))
    _check_all_used(betas, used_keys, "trainable variable or layer")
    for t in targets:
        _checked_beta(t.beta, ops.convert_to_tensor(t.variable))
    if not targets and warn_empty:
        warnings.warn(
            "The RG flow selected no variables: no trainable layer matched "
            f"layer_types={layer_types}, layer_names={layer_names}, predicate={predicate} "
            "with a default beta (ScaleCovariantDense/Conv1D, or a plain layer with a kernel when "
            f"`alpha` is given; received alpha={alpha}), and `betas` is empty.",
            UserWarning,
            stacklevel=2,
        )
    return targets


def variable_betas(model, **kwargs):
    """``{variable key: beta}`` for :func:`resolve_targets`'s selection: the plan an
    :class:`~keras_rg.rg_optimizer.RGOptimizer` carries. Keys are ``"layer/variable"``, or the
    full path where that is ambiguous. Takes the keyword arguments of :func:`resolve_targets`."""
    targets = resolve_targets(model, **kwargs)
    short = [_short_path(t.variable) for t in targets]
    all_short = [_short_path(v) for v in _all_trainable(model)]
    return {
        (s if all_short.count(s) == 1 else t.variable.path): t.beta
        for s, t in zip(short, targets, strict=True)
    }


def _all_trainable(model):
    out = []
    for layer in _leaf_layers(model):
        out.extend(layer.trainable_weights)
    return out


def match_plan(variables, betas):
    """Pairs each variable with its beta from a plan ``{path or pattern: beta or None}``.

    Returns a list of ``(variable, beta)``. Raises ValueError for a key that matches no variable,
    a variable matched by keys with different entries, or a beta returning a wrong shape."""
    pairs, used = [], set()
    for v in variables:
        keys = _matching_keys(betas, (v.path, _short_path(v)))
        if not keys:
            continue
        used.update(keys)
        fn = _single_entry(betas, keys, v)
        if fn is not None:
            _checked_beta(fn, ops.convert_to_tensor(v))
            pairs.append((v, fn))
    _check_all_used(betas, used, "trainable variable")
    return pairs


# --------------------------------------------------------------------------------------------
# In-place updates and norms for variables (compiled, distribution-aware).
# --------------------------------------------------------------------------------------------


def _compute_dtype(dtype):
    dtype = keras.backend.standardize_dtype(dtype)
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _update_one(var, signed_epsilon, beta):
    value = ops.convert_to_tensor(var)
    dtype = _compute_dtype(value.dtype)
    x = ops.cast(value, dtype)
    if isinstance(beta, LinearBeta):
        # θ − sεcθ = (1 − sεc)·θ: one elementwise multiply, the cost of weight decay.
        if isinstance(signed_epsilon, float):
            factor = ops.convert_to_tensor(1.0 - signed_epsilon * beta.coefficient, dtype)
        else:
            factor = 1.0 - ops.cast(signed_epsilon, dtype) * beta.coefficient
        new = x * factor
    else:
        if isinstance(signed_epsilon, float):
            signed_epsilon = ops.convert_to_tensor(signed_epsilon, dtype)
        new = x - ops.cast(signed_epsilon, dtype) * ops.cast(beta(x), dtype)
    var.assign(ops.cast(new, value.dtype))


def _tf_variable(variable):
    return variable.value if isinstance(variable, keras.Variable) else variable


def _update_all(strategy, pairs, signed_epsilon):
    for variable, beta in pairs:
        strategy.extended.update(
            _tf_variable(variable),
            functools.partial(_update_one, beta=beta),
            args=(signed_epsilon,),
            group=False,
        )


def apply_rg_step(pairs, epsilon, direction="paper"):
    """In place, ``θ ← θ − sεβ(θ)`` for every ``(variable, beta)`` in ``pairs`` (s = ±1).

    Works eagerly, inside ``tf.function`` / XLA, in a replica context (inside an optimizer step
    under ``tf.distribute``) and in a cross-replica context (a callback under a strategy's
    scope). Low-precision variables are updated in float32 and cast back.

    Args:
        pairs: a sequence of ``(keras.Variable, beta callable)``.
        epsilon: ε, a float or a scalar tensor.
        direction: ``"paper"`` or ``"reverse"``. Defaults to ``"paper"``.

    Example:
        >>> v = keras.Variable([2.0])
        >>> apply_rg_step([(v, LinearBeta(1.0))], 0.25)
        >>> float(v[0])
        1.5
    """
    sign = direction_sign(direction)
    if isinstance(epsilon, (int, float, np.number)):
        signed = sign * float(epsilon)  # rounded once, to each variable's dtype
    else:
        signed = ops.multiply(ops.convert_to_tensor(epsilon), sign)
    if tf.distribute.in_cross_replica_context():
        _update_all(tf.distribute.get_strategy(), pairs, signed)
    else:
        tf.distribute.get_replica_context().merge_call(_update_all, args=(list(pairs), signed))


def beta_norms(pairs):
    """Squared norms ``‖β(θ_i)‖²`` of each ``(variable, beta)``, as a float32 tensor (one entry
    per pair; accumulated in float32, or float64 for float64 variables)."""
    out = []
    for variable, beta in pairs:
        x = ops.convert_to_tensor(variable)
        x = ops.cast(x, _compute_dtype(x.dtype))
        out.append(ops.cast(ops.sum(ops.square(beta(x))), "float32"))
    return ops.stack(out) if out else ops.zeros((0,), "float32")
