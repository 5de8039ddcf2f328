"""Experiments built from the library's layers and systems (layer 2): RSMI coarse-graining and
the exponential-family teacher-student experiment (``keras_rg.experiments.teacher_student``)."""

from keras_rg.experiments.rsmi import (
    RSMIResult,
    block_environment_pairs,
    filter_similarity,
    learned_map,
    rsmi_versus_majority,
    train_rsmi,
)

__all__ = [
    "RSMIResult",
    "block_environment_pairs",
    "filter_similarity",
    "learned_map",
    "rsmi_versus_majority",
    "train_rsmi",
]
