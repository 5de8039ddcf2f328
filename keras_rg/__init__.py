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

from keras_rg import activations, layers  # noqa: E402
from keras_rg.activations import PowerLaw, ScaleAware  # noqa: E402
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense  # noqa: E402
from keras_rg.systems import signals  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "PowerLaw",
    "ScaleAware",
    "ScaleCovariantConv1D",
    "ScaleCovariantDense",
    "activations",
    "layers",
    "signals",
]
