"""keras_rg: renormalization-group components for Keras 3.

Importing ``keras_rg`` registers every public layer, activation, optimizer, schedule and callback
with Keras (package ``"keras_rg"``), so ``keras.models.load_model`` restores models that use them
without ``custom_objects``.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if "tensorflow" not in sys.modules:
    from keras_rg._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()

from keras_rg import (  # noqa: E402
    activations,
    callbacks,
    diagnostics,
    flow,
    information,
    layers,
    optimizers,
    posterior,
    schedules,
    step_size,
    systems,
)
from keras_rg.activations import PowerLaw, ScaleAware  # noqa: E402
from keras_rg.callbacks import (  # noqa: E402
    CouplingTracker,
    LangevinLogger,
    LangevinSamples,
    LayerCouplings,
    LayerInformation,
    RGFlow,
)
from keras_rg.fixed_points import fixed_point_report  # noqa: E402
from keras_rg.flow import LinearBeta  # noqa: E402
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense  # noqa: E402
from keras_rg.optimizers import LangevinAnnealing, UnderdampedLangevin  # noqa: E402
from keras_rg.rg_optimizer import RGOptimizer  # noqa: E402
from keras_rg.schedules import (  # noqa: E402
    ConstantTemperature,
    CyclicalTemperature,
    ExponentialCooling,
    LinearCooling,
    LogarithmicCooling,
)

__version__ = "0.1.0"

__all__ = [
    "ConstantTemperature",
    "CouplingTracker",
    "CyclicalTemperature",
    "ExponentialCooling",
    "LangevinAnnealing",
    "LangevinLogger",
    "LangevinSamples",
    "LayerCouplings",
    "LayerInformation",
    "LinearBeta",
    "LinearCooling",
    "LogarithmicCooling",
    "PowerLaw",
    "RGFlow",
    "RGOptimizer",
    "ScaleAware",
    "ScaleCovariantConv1D",
    "ScaleCovariantDense",
    "UnderdampedLangevin",
    "activations",
    "callbacks",
    "diagnostics",
    "fixed_point_report",
    "flow",
    "information",
    "layers",
    "optimizers",
    "posterior",
    "schedules",
    "step_size",
    "systems",
]
