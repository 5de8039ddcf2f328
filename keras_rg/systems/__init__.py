"""Data with known RG behaviour: built-in signals, the radial exponential family and its canonical
RG (Gong & Xia, "Interpreting FCDNNs via RG on exponential family"; docs/exponential_family.md),
and Ising models (Liaw's Theorem 6; docs/ising.md).

The radial family is split by job: ``radial_checks`` (argument checks), ``radial_quadrature``
(whitening, quadrature, log Z, moments), ``exponential_family`` (the TFP distribution),
``canonical_rg`` (the flow and its fixed point), ``coupling_fit`` (maximum likelihood),
``cumulants`` (connected correlations).

The exponential family (a TFP distribution) and the coupling test built on it are TensorFlow
programs: they are imported with the package on the TensorFlow backend and on first access on
others, so ``import keras_rg`` on JAX loads no TensorFlow (docs/distributed.md); the Ising
package does the same for its samplers."""

import importlib

from keras_rg.backend import configured_backend
from keras_rg.systems import (
    canonical_rg,
    coupling_fit,
    cumulants,
    ising,
    layer_couplings,
    radial_checks,
    radial_quadrature,
    signals,
)

if configured_backend() == "tensorflow":
    from keras_rg.systems import coupling_inference, exponential_family

# The Theorem 3.1 teacher-student experiment moved to ``keras_rg.experiments.teacher_student``;
# ``keras_rg.systems.teacher_student`` is a deprecated alias for one release.


def __getattr__(name):
    """Loads a submodule on first access: ``keras_rg.systems.teacher_student`` (the deprecated alias
    of ``keras_rg.experiments.teacher_student``, which sits above this package)."""
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "canonical_rg",
    "coupling_fit",
    "coupling_inference",
    "cumulants",
    "exponential_family",
    "ising",
    "layer_couplings",
    "radial_checks",
    "radial_quadrature",
    "signals",
]
