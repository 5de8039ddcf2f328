"""Langevin optimizers for Keras 3: annealing and posterior sampling inside `model.fit`.

- `LangevinAnnealing`: overdamped Langevin (SGLD / pSGLD) with temperature schedules
  (keras_rg/optimizers/langevin.py);
- `UnderdampedLangevin`: stochastic-gradient HMC with friction, gradient-noise correction and a
  diagonal or dense mass matrix adapted during burn-in (keras_rg/optimizers/underdamped.py).

The shared Philox noise and argument resolution live in keras_rg/optimizers/noise.py.
See docs/langevin.md for the guide to choosing a sampler and its settings.
"""

from keras_rg.optimizers.langevin import LangevinAnnealing
from keras_rg.optimizers.underdamped import UnderdampedLangevin

__all__ = ["LangevinAnnealing", "UnderdampedLangevin"]
