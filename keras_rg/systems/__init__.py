"""Data with known RG behaviour: built-in signals, the radial exponential family and its
canonical RG (seed 001), and Ising models (seed 000 Theorem 6; seed 001 ref. [1])."""

from keras_rg.systems import (
    canonical_rg,
    coupling_fit,
    cumulants,
    exponential_family,
    ising,
    layer_couplings,
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
    "signals",
]
