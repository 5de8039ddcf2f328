"""Which variables the RG flow acts on: layer selection and the per-variable beta plan.

:func:`resolve_targets` walks a model (nested models included), selects layers by type, name
(exact names or ``fnmatch`` globs) and predicate, and gives each selected variable its beta function
(:mod:`keras_rg.flow.beta`). :func:`variable_betas` turns that into the ``{path: beta}`` plan an
:class:`~keras_rg.rg_optimizer.RGOptimizer` carries, and :func:`match_plan` pairs a plan with an
optimizer's variables. Nothing here updates a variable (see :mod:`keras_rg.flow.update`).

Usage and the selection rules: docs/rg_flow.md.
"""

import dataclasses
import fnmatch
import warnings

import keras
from keras import ops

from keras_rg.arguments import check_positive
from keras_rg.flow.beta import LinearBeta, beta_coefficients, checked_beta, validate_beta_kind
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense

__all__ = [
    "FlowTarget",
    "check_layer_names",
    "leaf_layers",
    "match_plan",
    "normalize_betas",
    "normalize_selection",
    "resolve_targets",
    "validate_alpha_spec",
    "variable_betas",
]

_SCALE_COVARIANT = (ScaleCovariantDense, ScaleCovariantConv1D)


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


def leaf_layers(model):
    """The layers of ``model`` (a model, a layer or a list of layers), nested models flattened."""
    if isinstance(model, (list, tuple)):
        items = list(model)
    elif hasattr(model, "layers"):
        items = list(model.layers)
    else:
        items = [model]
    leaves = []
    for layer in items:
        if hasattr(layer, "layers"):
            leaves.extend(leaf_layers(layer))
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
    """Checks ``alpha`` for plain layers: None, a finite float >= 0, or ``{layer name: α}``."""
    if alpha is None:
        return None
    if isinstance(alpha, dict):
        return {
            str(k): check_positive(f"alpha[{k!r}]", v, allow_zero=True) for k, v in alpha.items()
        }
    return check_positive("alpha", alpha, allow_zero=True)


def _alpha_for(layer, alpha):
    if isinstance(layer, _SCALE_COVARIANT):
        return layer.alpha
    if isinstance(alpha, dict):
        return alpha.get(layer.name)
    return alpha


def check_layer_names(patterns, layers, argument="layer_names"):
    """Raises ValueError when a name or glob in ``patterns`` matches none of ``layers``' names,
    listing the available names (a typo must not select nothing in silence)."""
    if not patterns:
        return
    names = [layer.name for layer in layers]
    unknown = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    if unknown:
        raise ValueError(
            f"Received unknown layer names in `{argument}`: {unknown} match no layer (exact names "
            f"or fnmatch globs such as 'dense*'). The model's layers are: {names}"
        )


def _alpha_applies(layer, alpha):
    """True when the user's ``alpha`` reaches ``layer`` (a plain layer it names or covers)."""
    if alpha is None or isinstance(layer, _SCALE_COVARIANT):
        return False
    return not isinstance(alpha, dict) or layer.name in alpha


def _skip_reason(layer, roles):
    if not roles:
        return f"{type(layer).__name__} has no `kernel` or `bias`"
    return f"not the `kernel` or `bias` of {type(layer).__name__}"


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
        layer_names: exact layer names or ``fnmatch`` glob patterns (``"dense*"``); a name or
            pattern that matches no layer raises ValueError listing the model's layers.
        predicate: a callable ``layer -> bool``. The three selectors combine with AND; all None
            selects every layer that has a default beta.
        warn_empty: warn when nothing is selected. Defaults to True.

    Returns:
        A list of :class:`FlowTarget`.

    Raises:
        ValueError: a ``betas`` key matches no variable, two keys conflict, a beta returns a
            wrong shape, or a ``layer_names`` entry or ``alpha`` key names no layer.

    Warns:
        UserWarning: nothing is selected (with ``warn_empty``), or ``alpha`` is given and
            trainable weights of selected plain layers get no beta (LSTM, Embedding,
            BatchNormalization, ...): they are listed once, with the reason.

    Example:
        >>> model = keras.Sequential([keras.Input((3,)), ScaleCovariantDense(4, alpha=0.5)])
        >>> [(t.role, t.coefficient) for t in resolve_targets(model)]
        [('kernel', -0.5), ('bias', -0.5)]
    """
    delta = validate_beta_kind(beta, delta)
    alpha = validate_alpha_spec(alpha)
    layer_types, layer_names, predicate = normalize_selection(layer_types, layer_names, predicate)
    betas = normalize_betas(betas)
    layers = leaf_layers(model)
    check_layer_names(layer_names, layers)
    if isinstance(alpha, dict):
        check_layer_names(tuple(alpha), layers, argument="alpha")
    used_keys = set()
    targets, seen, skipped = [], set(), []
    for layer in layers:
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
            elif selected and _alpha_applies(layer, alpha):
                skipped.append((v.path, _skip_reason(layer, roles)))
    _check_all_used(betas, used_keys, "trainable variable or layer")
    if skipped:
        listing = "; ".join(f"{path} ({why})" for path, why in skipped)
        warnings.warn(
            f"The RG flow skips {len(skipped)} trainable weight(s) of the selected layers: "
            f"{listing}. The default beta (from `alpha`) acts on the `kernel` W and `bias` b of a "
            "layer W·x + b only; give these weights a beta in `betas` (a callable, keyed by "
            "layer name or variable path) to include them, or narrow the selection "
            "(`layer_names`, `layer_types`, `predicate`) to silence this.",
            UserWarning,
            stacklevel=2,
        )
    for t in targets:
        checked_beta(t.beta, ops.convert_to_tensor(t.variable))
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
    for layer in leaf_layers(model):
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
            checked_beta(fn, ops.convert_to_tensor(v))
            pairs.append((v, fn))
    _check_all_used(betas, used, "trainable variable")
    return pairs
