"""Keras callbacks of keras_rg: RG flow, Langevin logging and samples, layer information, layer
and feature couplings. Each holds no mathematics of its own: it calls the library's functions."""

from keras_rg.callbacks.coupling_tracker import CouplingTracker
from keras_rg.callbacks.langevin_logger import LangevinLogger, schedule_logs
from keras_rg.callbacks.langevin_samples import (
    LangevinSamples,
    effective_sample_size,
    potential_scale_reduction,
)
from keras_rg.callbacks.layer_couplings import LayerCouplings
from keras_rg.callbacks.layer_information import LayerInformation, MonotonicityViolation
from keras_rg.callbacks.rg_flow import RGFlow

__all__ = [
    "CouplingTracker",
    "LangevinLogger",
    "LangevinSamples",
    "LayerCouplings",
    "LayerInformation",
    "MonotonicityViolation",
    "RGFlow",
    "effective_sample_size",
    "potential_scale_reduction",
    "schedule_logs",
]
