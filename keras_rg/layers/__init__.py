"""Scale-covariant layers ``T(x; s) = W σ_s(x) + b`` (Liaw, "A Renormalization Group Framework for
Scale-Invariant Feature Learning in Deep Neural Networks", Theorem 1): dense, 1-D and 2-D
convolutions, with fixed, trainable, adaptive (per sample) and local (per position) scales.
docs/layers.md explains the choices and the covariance laws.
"""

from keras_rg.layers.base import SCALE_MODES, ScaleCovariantLayer
from keras_rg.layers.conv import ScaleCovariantConv1D, ScaleCovariantConv2D
from keras_rg.layers.dense import ScaleCovariantDense
from keras_rg.layers.scale import global_scale, local_scale

__all__ = [
    "SCALE_MODES",
    "ScaleCovariantConv1D",
    "ScaleCovariantConv2D",
    "ScaleCovariantDense",
    "ScaleCovariantLayer",
    "global_scale",
    "local_scale",
]
