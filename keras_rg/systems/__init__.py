"""Data with known RG behaviour: built-in signals, the radial exponential family and its canonical
RG (Gong & Xia, "Interpreting FCDNNs via RG on exponential family"; docs/exponential_family.md),
and Ising models (Liaw's Theorem 6; docs/ising.md).

The radial family is split by job: ``radial_checks`` (argument checks), ``radial_quadrature``
(whitening, quadrature, log Z, moments), ``exponential_family`` (the TFP distribution),
``canonical_rg`` (the flow and its fixed point), ``coupling_fit`` (maximum likelihood),
``cumulants`` (connected correlations)."""

from keras_rg.systems import (
    canonical_rg,
    coupling_fit,
    cumulants,
    exponential_family,
    ising,
    layer_couplings,
    radial_checks,
    radial_quadrature,
    signals,
)

# ``keras_rg.systems.teacher_student`` (the Theorem 3.1 experiment) trains with keras_rg's
# callbacks, which import this package: import it by its full name.

__all__ = [
    "canonical_rg",
    "coupling_fit",
    "cumulants",
    "exponential_family",
    "ising",
    "layer_couplings",
    "radial_checks",
    "radial_quadrature",
    "signals",
]
