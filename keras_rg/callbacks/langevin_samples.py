"""LangevinSamples: keeps thinned weight snapshots of a Langevin run and reports TFP diagnostics."""

import warnings

import keras
import numpy as np

from keras_rg import diagnostics
from keras_rg.arguments import check_bool, check_int, renamed_argument
from keras_rg.callbacks.langevin_logger import schedule_logs

__all__ = ["LangevinSamples", "effective_sample_size", "potential_scale_reduction"]


def effective_sample_size(samples):
    """Deprecated alias of `keras_rg.diagnostics.effective_sample_size` (one release)."""
    warnings.warn(
        "keras_rg.callbacks.langevin_samples.effective_sample_size is deprecated; use "
        "keras_rg.diagnostics.effective_sample_size.",
        DeprecationWarning,
        stacklevel=2,
    )
    return diagnostics.effective_sample_size(samples)


def potential_scale_reduction(chains):
    """Deprecated alias of `keras_rg.diagnostics.potential_scale_reduction` (one release)."""
    warnings.warn(
        "keras_rg.callbacks.langevin_samples.potential_scale_reduction is deprecated; use "
        "keras_rg.diagnostics.potential_scale_reduction.",
        DeprecationWarning,
        stacklevel=2,
    )
    return diagnostics.potential_scale_reduction(chains)


@keras.saving.register_keras_serializable(package="keras_rg")
class LangevinSamples(keras.callbacks.Callback):
    """Keeps thinned snapshots of chosen weights after burn-in, with bounded memory, on the host.

    Every ``thin``-th training batch after the first ``burn_in`` batches (counted across `fit`
    calls until `reset`), the chosen coordinates are copied to a NumPy buffer. When
    ``max_samples`` snapshots are stored, every second one is dropped and ``thin`` doubles, so
    memory stays at most ``max_samples × max_coordinates`` floats while the samples still span
    the whole run. At the end of each epoch the logs get ``temperature`` and ``step_size`` (see
    `LangevinLogger`), ``samples`` (the count kept) and, from 4 samples on, ``ess_min`` and
    ``ess_median``: the effective sample size per coordinate by
    `keras_rg.diagnostics.effective_sample_size`. At the end of training it warns (with
    ``warn=True``) when the chain cannot be trusted: a coordinate with ESS < 10 or a split R-hat
    > 1.1 (`keras_rg.diagnostics.sampling_warnings`). Across runs with several seeds use
    `keras_rg.diagnostics.potential_scale_reduction([callback_1, callback_2, ...])`.
    Reference: Gong & Xia, eq. 6 (docs/langevin.md), the Langevin dynamics being sampled.

    Args:
        weights: Paths of the weights to record (``variable.path``, e.g. ``"dense/kernel"``),
            or `None` for all trainable weights. Defaults to `None`.
        burn_in: Batches to skip before the first snapshot, an integer >= 0. Defaults to `0`.
            (`burnin` is its deprecated name.)
        thin: Initial thinning interval in batches, an integer >= 1. Defaults to `1`.
        max_samples: Most snapshots kept, an even integer >= 4. Defaults to `1000`.
        max_coordinates: Most coordinates recorded; when the chosen weights have more,
            evenly spaced coordinates of their concatenation are kept. Defaults to `1000`.
        warn: Whether to warn at the end of training on a tiny ESS or R-hat > 1.1.
            Defaults to `True`.

    Example:

    >>> import keras
    >>> from keras_rg.optimizers import LangevinAnnealing
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=LangevinAnnealing(0.1, temperature=0.1, seed=0), loss="mse")
    >>> samples = LangevinSamples(burn_in=2, thin=1)
    >>> _ = model.fit(keras.ops.ones((64, 2)), keras.ops.ones((64, 1)), batch_size=8,
    ...               epochs=2, callbacks=[samples], verbose=0)
    >>> samples.samples.shape
    (14, 3)
    """

    def __init__(
        self,
        weights=None,
        burn_in=0,
        thin=1,
        max_samples=1000,
        max_coordinates=1000,
        warn=True,
        **kwargs,
    ):
        burn_in = renamed_argument(kwargs, "burnin", "burn_in", burn_in, "LangevinSamples", 0)
        if kwargs:
            raise TypeError(f"LangevinSamples got unexpected arguments {sorted(kwargs)}")
        super().__init__()
        if weights is not None:
            if isinstance(weights, str) or not all(isinstance(w, str) for w in weights):
                raise ValueError(
                    "Received an invalid value for `weights`: expected None or a list of "
                    f"weight paths (strings). Received: weights={weights!r}"
                )
            weights = list(weights)
        self.weights = weights
        self.burn_in = check_int("burn_in", burn_in, minimum=0)
        self.warn = check_bool("warn", warn)
        self.thin = check_int("thin", thin)
        self.max_samples = check_int("max_samples", max_samples, minimum=4)
        if self.max_samples % 2:
            raise ValueError(
                "Received an invalid value for `max_samples`: expected an even integer >= 4. "
                f"Received: max_samples={max_samples!r}"
            )
        self.max_coordinates = check_int("max_coordinates", max_coordinates)
        self.reset()

    def reset(self):
        """Forgets all samples and restarts the batch count (and the thinning interval)."""
        self._batches = 0
        self._stride = self.thin
        self._buffer = None
        self._steps = []
        self._count = 0
        self._variables = None

    @property
    def samples(self):
        """The kept snapshots, a float32 array of shape ``(n_samples, n_coordinates)``."""
        if self._buffer is None:
            return np.zeros((0, 0), np.float32)
        return self._buffer[: self._count].copy()

    @property
    def steps(self):
        """The batch index (counted from the first batch seen) of each kept snapshot."""
        return np.asarray(self._steps[: self._count], dtype=np.int64)

    @property
    def coordinate_names(self):
        """``"path[i]"`` for each recorded coordinate (flat index ``i`` into the weight)."""
        self._select_variables()
        return [f"{self._variables[k].path}[{i}]" for k, i in self._coordinates]

    @property
    def current_thin(self):
        """The thinning interval now in use (``thin`` doubled at each compaction)."""
        return self._stride

    def effective_sample_size(self):
        """Effective sample size of each recorded coordinate (`keras_rg.diagnostics`)."""
        return diagnostics.effective_sample_size(self.samples)

    def _select_variables(self):
        if self._variables is not None:
            return
        candidates = list(self.model.trainable_variables)
        if self.weights is None:
            chosen = candidates
        else:
            by_path = {v.path: v for v in candidates}
            unknown = [w for w in self.weights if w not in by_path]
            if unknown:
                raise ValueError(
                    f"Received an invalid value for `weights`: {unknown} are not paths of "
                    f"trainable weights of the model. Accepted: {sorted(by_path)}"
                )
            chosen = [by_path[w] for w in self.weights]
        sizes = [int(np.prod(v.shape)) for v in chosen]
        total = sum(sizes)
        flat = np.unique(np.linspace(0, total - 1, min(total, self.max_coordinates)).astype(int))
        owner = np.searchsorted(np.cumsum(sizes), flat, side="right")
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self._variables = chosen
        self._coordinates = [
            (int(k), int(i - offsets[k])) for k, i in zip(owner, flat, strict=True)
        ]
        self._per_variable = [
            np.array([i for k2, i in self._coordinates if k2 == k], dtype=np.int64)
            for k in range(len(chosen))
        ]

    def _snapshot(self):
        parts = [
            np.asarray(v.numpy()).reshape(-1)[idx]
            for v, idx in zip(self._variables, self._per_variable, strict=True)
            if idx.size
        ]
        return np.concatenate(parts).astype(np.float32)

    def on_train_begin(self, logs=None):
        self._select_variables()

    def on_train_batch_end(self, batch, logs=None):
        index = self._batches
        self._batches += 1
        if index < self.burn_in or (index - self.burn_in) % self._stride:
            return
        row = self._snapshot()
        if self._buffer is None:
            self._buffer = np.empty((self.max_samples, row.size), np.float32)
        if self._count == self.max_samples:
            # Compaction: keep every second sample, double the interval. Kept samples stay on
            # the grid burn_in + k * stride of the new stride.
            self._buffer[: self._count // 2] = self._buffer[: self._count : 2]
            self._steps = self._steps[: self._count : 2]
            self._count //= 2
            self._stride *= 2
            if (index - self.burn_in) % self._stride:
                return
        self._buffer[self._count] = row
        self._steps.append(index)
        self._count += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        logs.update(schedule_logs(self.model.optimizer))
        logs["samples"] = float(self._count)
        if self._count >= 4:
            ess = self.effective_sample_size()
            logs["ess_min"] = float(np.min(ess))
            logs["ess_median"] = float(np.median(ess))

    def on_train_end(self, logs=None):
        if self.warn and self._count >= 8:
            for message in diagnostics.sampling_warnings(self.samples):
                warnings.warn(f"LangevinSamples: {message}", RuntimeWarning, stacklevel=2)

    def get_config(self):
        return {
            "weights": self.weights,
            "warn": self.warn,
            "burn_in": self.burn_in,
            "thin": self.thin,
            "max_samples": self.max_samples,
            "max_coordinates": self.max_coordinates,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
