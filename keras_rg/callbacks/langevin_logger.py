"""LangevinLogger: logs the Langevin temperature and step size at the end of every epoch."""

import warnings

import keras
import numpy as np

from keras_rg.step_size import divergence_message

__all__ = ["LangevinLogger", "schedule_logs"]


def _base_optimizer(optimizer):
    # Under mixed_float16 Keras wraps the optimizer in a LossScaleOptimizer.
    return getattr(optimizer, "inner_optimizer", optimizer)


def schedule_logs(optimizer):
    """Returns ``{"temperature": T_t, "step_size": h_t}`` of an optimizer at its current step.

    ``temperature`` is present only for optimizers with a ``current_temperature`` (such as
    `keras_rg.optimizers.LangevinAnnealing`); a `LossScaleOptimizer` is looked through.

    Args:
        optimizer: A Keras optimizer.

    Returns:
        A dict of Python floats.

    Example:

    >>> from keras_rg.optimizers import LangevinAnnealing
    >>> schedule_logs(LangevinAnnealing(0.01, temperature=0.5))
    {'temperature': 0.5, 'step_size': 0.009999999776482582}
    """
    optimizer = _base_optimizer(optimizer)
    logs = {}
    if hasattr(optimizer, "current_temperature"):
        logs["temperature"] = float(np.asarray(optimizer.current_temperature))
    logs["step_size"] = float(np.asarray(optimizer.learning_rate))
    return logs


@keras.saving.register_keras_serializable(package="keras_rg")
class LangevinLogger(keras.callbacks.Callback):
    """Adds ``temperature`` and ``step_size`` to the epoch logs (History, progress bar, TensorBoard).

    It also warns (``RuntimeWarning``, once per `fit`) when the run diverges: a non-finite loss
    (or, without a loss in the logs, non-finite weights), with the stability limits of the
    samplers (`keras_rg.step_size.divergence_message`).

    The values are those the optimizer will use at its next step, read at the end of each
    epoch. Reference: Gong & Xia, eq. 6 (docs/langevin.md), where ``η_t = 2 T_t`` is the annealed
    noise level.

    Example:

    >>> import keras
    >>> from keras_rg.optimizers import LangevinAnnealing
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=LangevinAnnealing(0.01, seed=0), loss="mse")
    >>> history = model.fit(
    ...     keras.ops.ones((8, 2)), keras.ops.ones((8, 1)), epochs=2,
    ...     callbacks=[LangevinLogger()], verbose=0)
    >>> sorted(k for k in history.history if k != "loss")
    ['step_size', 'temperature']
    """

    def on_train_begin(self, logs=None):
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        logs.update(schedule_logs(self.model.optimizer))
        if not getattr(self, "_warned", False):
            loss = logs.get("loss")
            weights = [] if loss is not None else self.model.get_weights()
            message = divergence_message(loss, weights)
            if message is not None:
                self._warned = True
                warnings.warn(f"LangevinLogger: {message}", RuntimeWarning, stacklevel=2)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
