"""The RG flow on network parameters (S. Liaw, "A Renormalization Group Framework for
Scale-Invariant Feature Learning in Deep Neural Networks"; docs/rg_flow.md, docs/mathematics.md).

Three modules, one job each:

- :mod:`keras_rg.flow.beta`: the mathematics on values (beta functions, the RG step, its closed
  form, the exact flow to a scale, fixed-point distances, argument checks for ε, β and Δ);
- :mod:`keras_rg.flow.targets`: which variables of a model the flow acts on, with which beta;
- :mod:`keras_rg.flow.update`: the in-place, compiled, distribution-aware update and the norms.

Every public name stays importable as ``keras_rg.flow.<name>``.
"""

from keras_rg.flow.beta import (
    BETA_KINDS,
    DIRECTIONS,
    LinearBeta,
    beta_coefficients,
    checked_beta,
    closed_form_flow,
    covariant_beta,
    direction_sign,
    epsilon_at,
    fixed_point_distance,
    paper_beta,
    rg_step,
    run_to_scale,
    validate_beta_kind,
    validate_epsilon,
)
from keras_rg.flow.targets import (
    FlowTarget,
    check_layer_names,
    leaf_layers,
    match_plan,
    normalize_betas,
    normalize_selection,
    resolve_targets,
    validate_alpha_spec,
    variable_betas,
)
from keras_rg.flow.update import apply_rg_step, beta_norms

__all__ = [
    "BETA_KINDS",
    "DIRECTIONS",
    "FlowTarget",
    "LinearBeta",
    "apply_rg_step",
    "beta_coefficients",
    "beta_norms",
    "check_layer_names",
    "checked_beta",
    "closed_form_flow",
    "covariant_beta",
    "direction_sign",
    "epsilon_at",
    "fixed_point_distance",
    "leaf_layers",
    "match_plan",
    "normalize_betas",
    "normalize_selection",
    "paper_beta",
    "resolve_targets",
    "rg_step",
    "run_to_scale",
    "validate_alpha_spec",
    "validate_beta_kind",
    "validate_epsilon",
    "variable_betas",
]
