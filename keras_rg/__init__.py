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

from keras_rg import activations, flow, layers, optimizers, schedules  # noqa: E402
from keras_rg.activations import PowerLaw, ScaleAware  # noqa: E402
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

# Public names from modules that still import TensorFlow at module level: imported here on the
# TensorFlow backend, on first access elsewhere (so `import keras_rg` on JAX does not load
# TensorFlow). Move a module's names up to the plain imports above once it is backend-neutral.
_DEFERRED = {
    "callbacks": "keras_rg.callbacks",
    "diagnostics": "keras_rg.diagnostics",
    "information": "keras_rg.information",
    "posterior": "keras_rg.posterior",
    "probe": "keras_rg.probe",
    "step_size": "keras_rg.step_size",
    "systems": "keras_rg.systems",
    "CouplingTracker": "keras_rg.callbacks",
    "LangevinLogger": "keras_rg.callbacks",
    "LangevinSamples": "keras_rg.callbacks",
    "LayerCouplings": "keras_rg.callbacks",
    "LayerInformation": "keras_rg.callbacks",
    "RGFlow": "keras_rg.callbacks",
}


def _load_deferred(name):
    import contextlib
    import os

    from keras_rg._quiet import stderr_silenced

    # TensorFlow's C++ start-up lines, should this import load it (not on TensorFlow, where it is
    # loaded quietly above; never with KERAS_RG_QUIET_IMPORT=0).
    quiet = "tensorflow" not in sys.modules and os.environ.get("KERAS_RG_QUIET_IMPORT") != "0"
    with stderr_silenced() if quiet else contextlib.nullcontext():
        module = importlib.import_module(_DEFERRED[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value
    return value


if configured_backend() == "tensorflow":
    for _name in _DEFERRED:
        _load_deferred(_name)

__version__ = "0.1.0"


def __getattr__(name):
    """Loads a submodule or deferred name on first access (``keras_rg.validate``, ...)."""
    if name in _DEFERRED:
        return _load_deferred(name)
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
