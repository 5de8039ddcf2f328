"""Ising systems with known RG behaviour: exact and Monte Carlo samplers, observables, real-space RG.

On the TensorFlow backend every name is imported with the package; on other backends each module
loads on first access, since the samplers are TensorFlow programs (docs/distributed.md).
"""

import importlib

from keras_rg.backend import configured_backend

# public name -> the module of this package that defines it
_EXPORTS = {
    "CRITICAL_COUPLING": "exact",
    "CheckerboardSampler": "lattice",
    "CouplingEstimate": "coupling",
    "CouplingFlow": "rg_fit",
    "Estimate": "observables",
    "FixedPoint": "migdal_kadanoff",
    "FlowDiagram": "migdal_kadanoff",
    "LatticeSamples": "sampling",
    "SwendsenWangSampler": "cluster",
    "ThermalFixedPoint": "rg_fit",
    "as_dataset": "dataset",
    "autocorrelation": "observables",
    "block_spin": "block_spin",
    "block_spin_flow": "block_spin",
    "chain_correlation": "exact",
    "chain_energy": "exact",
    "coupling_flow": "rg_fit",
    "decimate": "chain",
    "decimation_recursion": "chain",
    "energy_per_spin": "observables",
    "estimate_coupling": "coupling",
    "find_fixed_points": "migdal_kadanoff",
    "flow_diagram": "migdal_kadanoff",
    "integrated_autocorrelation_time": "observables",
    "iterate_flow": "migdal_kadanoff",
    "magnetization_per_spin": "observables",
    "majority_rule": "rg_fit",
    "mean_and_error": "observables",
    "migdal_kadanoff_derivative": "migdal_kadanoff",
    "migdal_kadanoff_fixed_point": "migdal_kadanoff",
    "migdal_kadanoff_recursion": "migdal_kadanoff",
    "nearest_neighbour_correlation": "observables",
    "onsager_energy": "exact",
    "onsager_magnetization": "exact",
    "onsager_specific_heat": "exact",
    "sample_chain": "chain",
    "sample_coupling_window": "rg_fit",
    "sample_lattice": "sampling",
    "summarize": "observables",
    "thermal_fixed_point": "rg_fit",
}


def __getattr__(name):
    """Imports the module that defines ``name`` on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


if configured_backend() == "tensorflow":
    for _name in _EXPORTS:
        __getattr__(_name)

__all__ = [
    "CRITICAL_COUPLING",
    "CheckerboardSampler",
    "CouplingEstimate",
    "CouplingFlow",
    "Estimate",
    "FixedPoint",
    "FlowDiagram",
    "LatticeSamples",
    "SwendsenWangSampler",
    "ThermalFixedPoint",
    "as_dataset",
    "autocorrelation",
    "block_spin",
    "block_spin_flow",
    "chain_correlation",
    "chain_energy",
    "coupling_flow",
    "decimate",
    "decimation_recursion",
    "energy_per_spin",
    "estimate_coupling",
    "find_fixed_points",
    "flow_diagram",
    "integrated_autocorrelation_time",
    "iterate_flow",
    "magnetization_per_spin",
    "majority_rule",
    "mean_and_error",
    "migdal_kadanoff_derivative",
    "migdal_kadanoff_fixed_point",
    "migdal_kadanoff_recursion",
    "nearest_neighbour_correlation",
    "onsager_energy",
    "onsager_magnetization",
    "onsager_specific_heat",
    "sample_chain",
    "sample_coupling_window",
    "sample_lattice",
    "summarize",
    "thermal_fixed_point",
]
