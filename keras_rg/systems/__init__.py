"""Data with known RG behaviour: built-in signals, the radial exponential family and its canonical
RG (Gong & Xia, "Interpreting FCDNNs via RG on exponential family"; docs/exponential_family.md),
and Ising models (Liaw's Theorem 6; docs/ising.md).

The radial family is split by job: ``radial_checks`` (argument checks), ``radial_quadrature``
(whitening, quadrature, log Z, moments), ``exponential_family`` (the TFP distribution),
``canonical_rg`` (the flow and its fixed point), ``coupling_fit`` (maximum likelihood),
``cumulants`` (connected correlations)."""

import importlib

from keras_rg.systems import (
    canonical_rg,
    coupling_fit,
    coupling_inference,
    cumulants,
    exponential_family,
    ising,
    layer_couplings,
    radial_checks,
    radial_quadrature,
    signals,
)

# The Theorem 3.1 teacher-student experiment moved to ``keras_rg.experiments.teacher_student``;
# ``keras_rg.systems.teacher_student`` is a deprecated alias for one release.


def __getattr__(name):
    """Loads a submodule on first access: ``keras_rg.systems.teacher_student`` (the deprecated alias
    of ``keras_rg.experiments.teacher_student``, which sits above this package)."""
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "canonical_rg",
    "coupling_fit",
    "coupling_inference",
    "cumulants",
    "exponential_family",
    "ising",
    "layer_couplings",
    "radial_checks",
    "radial_quadrature",
    "signals",
]
