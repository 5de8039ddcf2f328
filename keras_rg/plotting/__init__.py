"""Figures (matplotlib, the ``plot`` extra): information plane, RG flows, couplings, Ising flows.

Importing this package does not import matplotlib; :func:`require_matplotlib` does, with the
install command in its error when matplotlib is missing. Modules outside ``plotting`` that draw a
figure take it from here (``from keras_rg.plotting import require_matplotlib``).
"""

from keras_rg.plotting._mpl import require_matplotlib

__all__ = ["require_matplotlib"]
