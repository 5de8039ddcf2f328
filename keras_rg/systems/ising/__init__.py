"""Ising systems with known RG behaviour: exact and Monte Carlo samplers, observables, real-space RG."""

from keras_rg.systems.ising.block_spin import block_spin, block_spin_flow
from keras_rg.systems.ising.chain import decimate, decimation_recursion, sample_chain
from keras_rg.systems.ising.cluster import SwendsenWangSampler
from keras_rg.systems.ising.coupling import CouplingEstimate, estimate_coupling
from keras_rg.systems.ising.dataset import as_dataset
from keras_rg.systems.ising.exact import (
    CRITICAL_COUPLING,
    chain_correlation,
    chain_energy,
    onsager_energy,
    onsager_magnetization,
    onsager_specific_heat,
)
from keras_rg.systems.ising.lattice import CheckerboardSampler
from keras_rg.systems.ising.migdal_kadanoff import (
    FixedPoint,
    FlowDiagram,
    find_fixed_points,
    flow_diagram,
    iterate_flow,
    migdal_kadanoff_derivative,
    migdal_kadanoff_fixed_point,
    migdal_kadanoff_recursion,
)
from keras_rg.systems.ising.observables import (
    Estimate,
    autocorrelation,
    energy_per_spin,
    integrated_autocorrelation_time,
    magnetization_per_spin,
    mean_and_error,
    nearest_neighbour_correlation,
    summarize,
)
from keras_rg.systems.ising.rg_fit import (
    CouplingFlow,
    ThermalFixedPoint,
    coupling_flow,
    majority_rule,
    sample_coupling_window,
    thermal_fixed_point,
)
from keras_rg.systems.ising.sampling import LatticeSamples, sample_lattice

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
