"""Figures (matplotlib, the ``plot`` extra): information plane, RG flows, couplings, Ising flows."""
