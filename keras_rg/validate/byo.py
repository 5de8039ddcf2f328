"""Checks that run on a user's own Keras model and data: Theorem 5 (layer information in depth),
the RG-flow fixed-point diagnostics (Definition 2) and the Ising couplings of chosen layers.

Example:
    >>> from keras_rg.validate import information_in_depth
    >>> result = information_in_depth(model, x, y)         # doctest: +SKIP
    >>> result.verdict, result.values["I_TX"]              # doctest: +SKIP
"""

import numpy as np

from keras_rg.arguments import renamed_argument
from keras_rg.information.layers import TOLERANCE
from keras_rg.probe import probe_length
from keras_rg.validate.result import CheckResult

__all__ = ["couplings_of_layers", "flow_diagnostics", "information_in_depth"]


def _check_model(model):
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            "Received an invalid value for `model`: expected a keras.Model. "
            f"Received: model={model!r} of type {type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            f"Received an unbuilt model {model.name!r}: call it on data or build it first."
        )


def information_in_depth(model, probe, labels=None, layer_names=None, estimator="kde",
                         probe_size=1000, noise_variance=0.1, relative_noise=True, seed=0,
                         tolerance=TOLERANCE, **deprecated):  # fmt: skip
    """Liaw's Theorem 5 on a user's model as it is now: is I(T_i; X) non-increasing in i?

    One forward pass of a probe subsample (``keras_rg.probe``), the estimator's I(T;X) (and
    I(T;Y) with labels) per layer, and ``information.layers.check_monotonicity`` over
    consecutive layers (pairs with both layers at the ceiling log n are reported as saturated,
    not as violations). For the exact MI the decrease is the data-processing inequality.

    Args:
        model: a built Keras model (Sequential, Functional with any inputs, or subclassed).
        probe: inputs (array, list or dict of arrays, or a Dataset); ``x`` is its old name.
        labels: labels or targets (optional); ``y`` is its old name.
        layer_names: names or fnmatch globs of the layers to measure; ``layers`` is its old
            name. Defaults to None (all top-level layers).
        estimator: ``"kde"``, ``"binning"`` or ``"ksg"``. Defaults to ``"kde"``.
        probe_size: probe points. Defaults to 1000.
        noise_variance: KDE noise variance (relative to each layer's total variance with
            ``relative_noise``). Defaults to 0.1.
        relative_noise: scale the KDE noise with each layer. Defaults to True.
        seed: probe subsample seed. Defaults to 0.
        tolerance: nats of growth that count as equality. Defaults to 1e-3.

    Returns:
        A :class:`~keras_rg.validate.result.CheckResult` (``values``: per-layer estimates and the
        monotonicity check).
    """
    from keras_rg.callbacks.layer_information import LayerInformation

    for old, new in (("x", "probe"), ("y", "labels"), ("layers", "layer_names")):
        if old in deprecated:
            value = renamed_argument(deprecated, old, new, None, "information_in_depth")
            if new == "labels":
                labels = value
            elif new == "layer_names":
                layer_names = value
            else:
                probe = value
    if deprecated:
        raise TypeError(f"information_in_depth() got unexpected arguments {sorted(deprecated)}")
    _check_model(model)
    cb = LayerInformation(probe, labels, probe_size=probe_size, layer_names=layer_names,
                          estimator=estimator, noise_variance=noise_variance,
                          relative_noise=relative_noise, tolerance=tolerance, seed=seed)  # fmt: skip
    cb.set_model(model)
    record = cb.measure(0)
    traj = cb.trajectory
    check = record["check"]
    names = traj["layers"]
    values = {"I_TX": dict(zip(names, traj["I_TX"][0], strict=True)),
              "violations": check.to_dict(), "estimator": estimator,
              "probe_size": probe_length(cb.probe)}  # fmt: skip
    if traj["I_TY"] is not None:
        values["I_TY"] = dict(zip(names, traj["I_TY"][0], strict=True))
    saturated = bool(np.mean(traj["saturated"][0]) > 0.5)
    if check.certain > 0 or check.count > 0:
        verdict = "does not hold"
    elif saturated or check.saturated:
        verdict = "holds with caveat"
    else:
        verdict = "holds"
    text = ", ".join(f"{k} {v:.3f}" for k, v in values["I_TX"].items())
    return CheckResult(
        name="theorem_5",
        source="Liaw, Theorem 5 (your model)",
        claim="I(T_i; X) decreases monotonically with the layer index i.",
        measured=f"{estimator} on {values['probe_size']} probe points, I(T;X) in nats: {text}; "
        f"{check.count}/{check.pairs} consecutive increases (max {check.max_increase:+.3f}), "
        f"{len(check.saturated)} saturated pairs.",
        verdict=verdict,
        rule=f"does not hold if any consecutive unsaturated layer gains more than {tolerance} "
        "nats; holds with caveat if no gain but pairs or most layers sit at log n; holds otherwise",
        values=values,
    )


def flow_diagnostics(model, epsilon=1e-3, direction="paper", atol=0.0, **selection):
    """Liaw's Definition 2 on a user's model: which variables are at a fixed point β(θ) = 0, which are
    marginal, and whether the RG step contracts or expands each (``fixed_point_report``).

    Returns:
        A :class:`~keras_rg.validate.result.CheckResult` whose ``values["report"]`` is the text
        of the :class:`~keras_rg.fixed_points.FixedPointReport`.
    """
    from keras_rg.fixed_points import fixed_point_report

    _check_model(model)
    report = fixed_point_report(model, epsilon, direction, atol=atol, **selection)
    entries = report.entries
    at_fixed = [e for e in entries if e.at_fixed_point]
    expanding = [e for e in entries if e.stability == "expanding"]
    total = report.total_beta_norm
    total = total() if callable(total) else total
    verdict = "holds" if len(at_fixed) == len(entries) else "does not hold"
    return CheckResult(
        name="flow_diagnostics",
        source="Liaw, Definition 2 (your model)",
        claim="A fixed point θ* of the RG flow satisfies β(θ*) = 0.",
        measured=f"{len(at_fixed)}/{len(entries)} selected variables at β = 0 (atol {atol}); "
        f"total ‖β(θ)‖ = {float(total):.4g}; the step ε={epsilon} ({direction}) expands "
        f"{len(expanding)} of them.",
        verdict=verdict,
        rule="holds if every selected variable is at a fixed point (‖β‖ ≤ atol)",
        values={
            "report": str(report),
            "total_beta_norm": float(total),
            "at_fixed_point": [e.variable for e in at_fixed],
            "expanding": [e.variable for e in expanding],
        },  # fmt: skip
    )


def couplings_of_layers(model, probe, layer_names=None, data_coupling=None, threshold=0.0,
                        periodic=False, **deprecated):  # fmt: skip
    """The effective Ising couplings of chosen layers (``layer_names``: names or fnmatch globs;
    ``layers`` is the old name) of a user's model on Ising-like inputs
    (``systems.layer_couplings``), beside the data's own coupling when given.

    Returns:
        A :class:`~keras_rg.validate.result.CheckResult` with ``values["couplings"]``
        ``{layer: (K, SE)}``; the verdict says whether every layer's coupling is below the
        data's (the direction of the RG flow in the disordered phase), or is ``"holds with
        caveat"`` when no data coupling is given to compare with.
    """
    from keras_rg.systems.layer_couplings import layer_couplings

    layer_names = renamed_argument(deprecated, "layers", "layer_names", layer_names,
                                   "couplings_of_layers", default=None)  # fmt: skip
    if deprecated:
        raise TypeError(f"couplings_of_layers() got unexpected arguments {sorted(deprecated)}")
    _check_model(model)
    est = layer_couplings(model, probe, layer_names, threshold=threshold, periodic=periodic)
    couplings = {k: (float(v.nn), float(v.nn_error)) for k, v in est.items()}
    if data_coupling is None:
        verdict = "holds with caveat"
    else:
        verdict = "holds" if all(k < data_coupling for k, _ in couplings.values()) else (
            "does not hold")  # fmt: skip
    text = ", ".join(f"{k} {v[0]:.3f}±{v[1]:.3f}" for k, v in couplings.items())
    return CheckResult(
        name="theorem_6",
        source="Liaw, Theorem 6 / Gong & Xia ref. [1] (your model)",
        claim="Layer couplings flow like the Ising RG couplings (towards 0 below criticality).",
        measured=f"nearest-neighbour couplings of the sign of each layer's outputs: {text}"
        + ("" if data_coupling is None else f"; data coupling {data_coupling:.3f}"),
        verdict=verdict,
        rule="holds if every layer's coupling is below the data's coupling; with no data "
        "coupling given, holds with caveat (nothing to compare)",
        values={"couplings": couplings, "data_coupling": data_coupling},
    )
