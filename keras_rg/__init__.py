"""keras_rg: renormalization-group components for Keras 3.

Importing ``keras_rg`` registers every public layer, activation, optimizer, schedule and callback
with Keras (package ``"keras_rg"``), so ``keras.models.load_model`` restores models that use them
without ``custom_objects``. The heavier top-level subpackages (``keras_rg.validate``,
``keras_rg.plotting``, ``keras_rg.experiments``, ...) load on first attribute access, so
``keras_rg.validate.run_validation`` works after a plain ``import keras_rg``. The Keras backend is
the user's (``KERAS_BACKEND``); on JAX, TensorFlow is imported only when a part that needs it is
used (docs/distributed.md). Pages: docs/index.md.
"""

import importlib
import sys

from keras_rg.backend import configured_backend

# The user's backend (KERAS_BACKEND, else ~/.keras/keras.json, else TensorFlow) is respected; only
# on TensorFlow is TensorFlow imported here (quietly, before Keras, so its start-up lines stay off
# the terminal).
if configured_backend() == "tensorflow" and "tensorflow" not in sys.modules:
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
    probe,
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
from keras_rg.coarse_graining import BlockCoarseGraining  # noqa: E402
from keras_rg.fixed_points import fixed_point_report  # noqa: E402
from keras_rg.flow import LinearBeta  # noqa: E402
from keras_rg.layers import (  # noqa: E402
    ScaleCovariantConv1D,
    ScaleCovariantConv2D,
    ScaleCovariantDense,
)
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


def __getattr__(name):
    """Loads a submodule on first access (``keras_rg.validate``, ...)."""
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BlockCoarseGraining",
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
    "ScaleCovariantConv2D",
    "ScaleCovariantDense",
    "UnderdampedLangevin",
    "activations",
    "backend",
    "callbacks",
    "diagnostics",
    "fixed_point_report",
    "flow",
    "information",
    "layers",
    "optimizers",
    "posterior",
    "probe",
    "schedules",
    "step_size",
    "systems",
]
