"""Temperature schedules for Langevin annealing (they also serve as step-size schedules)."""

import math

import keras
from keras import ops

from keras_rg.arguments import check_bool, check_float, check_int, renamed_argument

__all__ = [
    "ConstantTemperature",
    "CyclicalTemperature",
    "ExponentialCooling",
    "LinearCooling",
    "LogarithmicCooling",
]

_Schedule = keras.optimizers.schedules.LearningRateSchedule


def _real(name, value, *, low=None, low_open=False, high=None, high_open=False):
    """``value`` as a finite Python float in range (`keras_rg.arguments.check_float`)."""
    return check_float(name, value, low, high, open_min=low_open, open_max=high_open)


def _step(step):
    return ops.cast(step, "float32")


@keras.saving.register_keras_serializable(package="keras_rg")
class LogarithmicCooling(_Schedule):
    """Logarithmic cooling ``T_t = c / log(t + t0)``, the schedule of the annealing theorem.

    Slow logarithmic cooling is what the convergence in probability of simulated annealing
    (Gong & Xia, "Interpreting fully connected deep neural networks via renormalization group
    on the exponential family", Lemma 2.1, docs/langevin.md; after
    Geman & Hwang, Hajek and Holley & Stroock) requires: with ``c`` above the depth of the deepest
    non-global local minimum of the loss, the Langevin iterates concentrate on the global
    minima as ``t`` grows. In the convention ``p ∝ exp(-L / T)`` used by
    `keras_rg.optimizers.LangevinAnnealing`, depth is measured in units of the loss.

    Args:
        c: Cooling constant, a finite float > 0. Defaults to `1.0`.
        t0: Offset of the step count, a finite float > 1 so that ``log(t + t0) > 0`` at ``t = 0``.
            Defaults to `2.0`.

    Returns:
        Called on a step ``t`` (integer tensor), a float32 scalar tensor.

    Example:

    >>> schedule = LogarithmicCooling(c=1.0, t0=2.0)
    >>> round(float(schedule(0)), 4)  # 1 / log(2)
    1.4427
    """

    def __init__(self, c=1.0, t0=2.0):
        self.c = _real("c", c, low=0.0, low_open=True)
        self.t0 = _real("t0", t0, low=1.0, low_open=True)

    def __call__(self, step):
        return self.c / ops.log(_step(step) + self.t0)

    def get_config(self):
        return {"c": self.c, "t0": self.t0}


@keras.saving.register_keras_serializable(package="keras_rg")
class ExponentialCooling(_Schedule):
    """Exponential (geometric) cooling ``T_t = max(minimum, T0 · decay_rate^(t / decay_steps))``.

    Faster than logarithmic cooling and without its convergence guarantee (Gong & Xia,
    Lemma 2.1 needs ``c / log t``); the usual practical choice.

    Args:
        initial_temperature: ``T0``, a finite float >= 0.
        decay_rate: Factor per ``decay_steps`` steps, a float in (0, 1].
        decay_steps: Number of steps over which the temperature falls by ``decay_rate``, an
            integer >= 1.
        minimum: Floor of the temperature, a float in [0, initial_temperature]. Defaults to `0.0`.

    Returns:
        Called on a step ``t``, a float32 scalar tensor.

    Example:

    >>> schedule = ExponentialCooling(1.0, decay_rate=0.5, decay_steps=10)
    >>> float(schedule(20))
    0.25
    """

    def __init__(self, initial_temperature, decay_rate, decay_steps, minimum=0.0):
        self.initial_temperature = _real("initial_temperature", initial_temperature, low=0.0)
        self.decay_rate = _real("decay_rate", decay_rate, low=0.0, low_open=True, high=1.0)
        self.decay_steps = check_int("decay_steps", decay_steps)
        self.minimum = _real("minimum", minimum, low=0.0, high=self.initial_temperature)

    def __call__(self, step):
        exponent = _step(step) / float(self.decay_steps)
        value = self.initial_temperature * ops.power(self.decay_rate, exponent)
        return ops.maximum(ops.cast(value, "float32"), self.minimum)

    def get_config(self):
        return {
            "initial_temperature": self.initial_temperature,
            "decay_rate": self.decay_rate,
            "decay_steps": self.decay_steps,
            "minimum": self.minimum,
        }


@keras.saving.register_keras_serializable(package="keras_rg")
class LinearCooling(_Schedule):
    """Linear cooling from ``initial_temperature`` to ``final_temperature`` over ``n_steps`` steps.

    ``T_t = T0 + (T1 - T0) · min(t, n_steps) / n_steps``; constant at ``T1`` afterwards. A warm-up
    (``T1 > T0``) is allowed. Reference: Gong & Xia, eq. 6 (docs/langevin.md), for the role of ``T_t``.

    Args:
        initial_temperature: ``T0``, a finite float >= 0.
        final_temperature: ``T1``, a finite float >= 0.
        n_steps: Length of the ramp, an integer >= 1 (`steps` is its deprecated name).

    Returns:
        Called on a step ``t``, a float32 scalar tensor.

    Example:

    >>> schedule = LinearCooling(1.0, 0.0, n_steps=100)
    >>> float(schedule(25))
    0.75
    """

    def __init__(self, initial_temperature, final_temperature, n_steps=None, **kwargs):
        n_steps = renamed_argument(kwargs, "steps", "n_steps", n_steps, "LinearCooling", None)
        if kwargs:
            raise TypeError(f"LinearCooling got unexpected arguments {sorted(kwargs)}")
        self.initial_temperature = _real("initial_temperature", initial_temperature, low=0.0)
        self.final_temperature = _real("final_temperature", final_temperature, low=0.0)
        self.n_steps = check_int("n_steps", n_steps)

    def __call__(self, step):
        fraction = ops.minimum(_step(step), float(self.n_steps)) / float(self.n_steps)
        delta = self.final_temperature - self.initial_temperature
        return self.initial_temperature + delta * fraction

    def get_config(self):
        return {
            "initial_temperature": self.initial_temperature,
            "final_temperature": self.final_temperature,
            "n_steps": self.n_steps,
        }


@keras.saving.register_keras_serializable(package="keras_rg")
class ConstantTemperature(_Schedule):
    """A constant temperature ``T_t = temperature``: Langevin sampling of ``exp(-L / T)``.

    Reference: Gong & Xia, eq. 6 (docs/langevin.md) with a constant ``η = 2T``.

    Args:
        temperature: A finite float >= 0 (0 turns the noise off).

    Returns:
        Called on a step ``t``, a float32 scalar tensor.

    Example:

    >>> float(ConstantTemperature(0.5)(1000))
    0.5
    """

    def __init__(self, temperature):
        self.temperature = _real("temperature", temperature, low=0.0)

    def __call__(self, step):
        del step  # constant in time
        return ops.convert_to_tensor(self.temperature, "float32")

    def get_config(self):
        return {"temperature": self.temperature}


@keras.saving.register_keras_serializable(package="keras_rg")
class CyclicalTemperature(_Schedule):
    """Cyclical schedule of cyclical SG-MCMC (Zhang et al., ICLR 2020), cosine within each cycle.

    With ``r = (t mod cycle_length) / cycle_length``, the value is ``0`` while
    ``r < exploration_fraction`` (the exploration stage, noise off) and afterwards
    ``maximum · (cos(π r) + 1) / 2`` (``cosine=True``) or ``maximum`` (``cosine=False``).
    Zhang et al.'s cSGLD is ``learning_rate=CyclicalTemperature(h0, L)`` (their cosine step
    size) with ``temperature=CyclicalTemperature(1.0, L, exploration_fraction=β, cosine=False)``.
    Reference: R. Zhang, C. Li, J. Zhang, C. Chen, A. G. Wilson, "Cyclical Stochastic Gradient
    MCMC for Bayesian Deep Learning", ICLR 2020, eq. 1; Gong & Xia for the annealing (docs/langevin.md).

    Args:
        maximum: Value at the start of each cycle's sampling stage, a finite float >= 0.
        cycle_length: Steps per cycle, an integer >= 1.
        exploration_fraction: Fraction of each cycle with value 0, a float in [0, 1).
            Defaults to `0.0`.
        cosine: Whether the value follows the cosine within a cycle (else it is constant).
            Defaults to `True`.

    Returns:
        Called on a step ``t``, a float32 scalar tensor.

    Example:

    >>> schedule = CyclicalTemperature(2.0, cycle_length=100)
    >>> round(float(schedule(50)), 4), float(schedule(100))
    (1.0, 2.0)
    """

    def __init__(self, maximum, cycle_length, exploration_fraction=0.0, cosine=True):
        self.maximum = _real("maximum", maximum, low=0.0)
        self.cycle_length = check_int("cycle_length", cycle_length)
        self.exploration_fraction = _real(
            "exploration_fraction", exploration_fraction, low=0.0, high=1.0, high_open=True
        )
        self.cosine = check_bool("cosine", cosine)

    def __call__(self, step):
        phase = ops.mod(ops.cast(step, "int64"), self.cycle_length)
        r = ops.cast(phase, "float32") / float(self.cycle_length)
        if self.cosine:
            value = self.maximum * 0.5 * (ops.cos(math.pi * r) + 1.0)
        else:
            value = ops.full_like(r, self.maximum)
        return ops.where(r < self.exploration_fraction, ops.zeros_like(value), value)

    def get_config(self):
        return {
            "maximum": self.maximum,
            "cycle_length": self.cycle_length,
            "exploration_fraction": self.exploration_fraction,
            "cosine": self.cosine,
        }
