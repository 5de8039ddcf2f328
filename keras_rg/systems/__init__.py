"""Data with known RG behaviour: built-in signals, the radial exponential family and its
canonical RG (seed 001), and Ising models (seed 000 Theorem 6; seed 001 ref. [1])."""

from keras_rg.systems import (
    canonical_rg,
    coupling_fit,
    coupling_inference,
    cumulants,
    exponential_family,
    ising,
    layer_couplings,
    signals,
)

# The Theorem 3.1 teacher-student experiment moved to ``keras_rg.experiments.teacher_student``;
# ``keras_rg.systems.teacher_student`` is a deprecated alias for one release.

__all__ = [
    "canonical_rg",
    "coupling_fit",
    "coupling_inference",
    "cumulants",
    "exponential_family",
    "ising",
    "layer_couplings",
    "signals",
]
