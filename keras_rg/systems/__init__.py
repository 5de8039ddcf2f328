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
    teacher_student,
)

__all__ = [
    "canonical_rg",
    "coupling_fit",
    "cumulants",
    "exponential_family",
    "ising",
    "layer_couplings",
    "signals",
    "teacher_student",
]
