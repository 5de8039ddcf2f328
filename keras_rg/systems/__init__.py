"""Data with known RG behaviour: built-in signals, the radial exponential family (seed 001) and
Ising models (seed 000 Theorem 6; seed 001 ref. [1])."""

from keras_rg.systems import ising, layer_couplings, signals

__all__ = ["ising", "layer_couplings", "signals"]
