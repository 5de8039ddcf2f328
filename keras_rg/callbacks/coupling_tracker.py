"""``CouplingTracker``: fits the feature layer's couplings θ̃^t during ``fit`` (non-canonical RG)."""

import math

import keras
import numpy as np

from keras_rg._validation import check_int
from keras_rg.systems.coupling_fit import _DOMAINS, _check_order, fit_couplings

__all__ = ["CouplingTracker"]


@keras.saving.register_keras_serializable(package="keras_rg")
class CouplingTracker(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs, fits θ̃^t to a layer's outputs on a probe set.

    The outputs ``F(x_k; W_t) ∈ R^M`` of the chosen layer (flattened per sample) are treated as a
    system with the Hamiltonian ``Σ_r θ̃_r^t |F|^(2r)`` (seed 001, eq. 39) and θ̃^t is its
    maximum-likelihood estimate, ``keras_rg.systems.coupling_fit.fit_couplings``, with Fisher
    standard errors. Writes into ``logs`` (so ``History`` and ``TensorBoard`` see them):

    - ``<prefix>_<r>``: θ̃_r^t for r = 1..R, and ``<prefix>_<r>_se`` its standard error;
    - ``<prefix>_distance``: ``‖θ̃^t − θ*‖₂`` when ``theta_star`` is given (inf if θ* is).

    The trajectory is kept for plotting: ``epochs`` (epochs completed; 0 is before training when
    ``track_initial``), ``fits`` (``CouplingFit`` objects), and the arrays ``theta``,
    ``stderr`` and ``distance``. A fit that cannot be made (e.g. all outputs zero) is recorded
    as NaN.

    Args:
        probe: model inputs to read the layer on (stored in the config: keep it modest).
        layer_name: the feature layer; None reads the model's output. Defaults to None.
        order: the number of couplings R. Defaults to 2.
        theta_star: the RG fixed point θ* to measure the distance to (R values), or None.
            Defaults to None.
        domain: ``"positive"`` (θ_r >= 0, the family of seed 001) or ``"natural"``.
            Defaults to ``"positive"``.
        every_n_epochs: logging period in epochs (>= 1). Defaults to 1.
        track_initial: also fit θ̃^0 at the start of training. Defaults to True.
        prefix: log-key prefix. Defaults to ``"theta"``.
        batch_size: probe batch size for the forward pass. Defaults to 1024.

    Example:
        >>> tracker = CouplingTracker(np.random.normal(size=(64, 8)), layer_name="features",
        ...                           order=2, theta_star=[0.5, 0.1])
        >>> history = model.fit(x, y, epochs=5, callbacks=[tracker])  # doctest: +SKIP
        >>> history.history["theta_1"], tracker.theta  # doctest: +SKIP

    Reference: seed 001 (Gong & Xia), §3.2, eq. 39–40 and Theorem 3.1.
    """

    def __init__(
        self,
        probe,
        layer_name=None,
        order=2,
        theta_star=None,
        domain="positive",
        every_n_epochs=1,
        track_initial=True,
        prefix="theta",
        batch_size=1024,
    ):
        super().__init__()
        self.order = _check_order(order)
        self.probe = np.asarray(probe, dtype=np.float32)
        if self.probe.ndim < 1 or self.probe.shape[0] <= self.order + 1:
            raise ValueError(
                f"Received an invalid value for `probe`: expected more than order + 1 = "
                f"{self.order + 1} input samples. Received: probe of shape {self.probe.shape}"
            )
        if layer_name is not None and not isinstance(layer_name, str):
            raise ValueError(
                "Received an invalid value for `layer_name`: expected a layer name or None. "
                f"Received: layer_name={layer_name!r}"
            )
        self.layer_name = layer_name
        if theta_star is not None:
            star = np.asarray(theta_star, dtype=np.float64).reshape(-1)
            if star.size != self.order or np.any(np.isnan(star)) or np.any(star < 0):
                raise ValueError(
                    f"Received an invalid value for `theta_star`: expected {self.order} values "
                    f">= 0 (inf allowed). Received: theta_star={theta_star!r}"
                )
            theta_star = [float(v) for v in star]
        self.theta_star = theta_star
        if domain not in _DOMAINS:
            raise ValueError(
                f"Received an invalid value for `domain`: expected one of {_DOMAINS}. "
                f"Received: domain={domain!r}"
            )
        self.domain = domain
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs)
        self.track_initial = bool(track_initial)
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(
                f"Received an invalid value for `prefix`: expected a non-empty string. "
                f"Received: prefix={prefix!r}"
            )
        self.prefix = prefix
        self.batch_size = check_int("batch_size", batch_size)
        self.epochs = []
        self.fits = []
        self._feature_model = None
        self._feature_model_of = None

    # ------------------------------------------------------------------ reading the layer
    def _features(self):
        if self._feature_model_of is not self.model:
            if self.layer_name is None:
                self._feature_model = self.model
            else:
                layer = self.model.get_layer(self.layer_name)
                inputs = self.model.inputs
                inputs = inputs[0] if len(inputs) == 1 else inputs
                self._feature_model = keras.Model(inputs, layer.output)
            self._feature_model_of = self.model
        out = []
        for start in range(0, self.probe.shape[0], self.batch_size):
            batch = self.probe[start : start + self.batch_size]
            out.append(keras.ops.convert_to_numpy(self._feature_model(batch, training=False)))
        out = np.concatenate(out, axis=0).astype(np.float64)
        return out.reshape(out.shape[0], -1)

    def features(self):
        """The layer's outputs on the probe set as a float64 ``(n, M)`` array."""
        return self._features()

    def current_fit(self):
        """``fit_couplings`` of the current outputs (a ``CouplingFit``), or None if impossible."""
        try:
            return fit_couplings(self._features(), self.order, domain=self.domain)
        except ValueError:
            return None

    # ------------------------------------------------------------------ trajectory
    def _distance(self, theta):
        if self.theta_star is None:
            return math.nan
        star = np.asarray(self.theta_star)
        if np.any(np.isinf(star)):
            return math.inf
        return float(np.linalg.norm(theta - star))

    def _record(self, epoch):
        fit = self.current_fit()
        self.epochs.append(int(epoch))
        self.fits.append(fit)
        return fit

    @property
    def theta(self):
        """θ̃^t over the recorded epochs, ``(T, R)`` (NaN rows where no fit was possible)."""
        return np.array([f.theta if f else np.full(self.order, np.nan) for f in self.fits])

    @property
    def stderr(self):
        """Standard errors of θ̃^t, ``(T, R)``."""
        return np.array([f.stderr if f else np.full(self.order, np.nan) for f in self.fits])

    @property
    def distance(self):
        """``‖θ̃^t − θ*‖₂`` over the recorded epochs (NaN without ``theta_star``)."""
        return np.array([self._distance(row) for row in self.theta])

    def trajectory(self):
        """``{"epoch", "theta", "stderr", "distance"}`` as NumPy arrays."""
        return {
            "epoch": np.asarray(self.epochs),
            "theta": self.theta,
            "stderr": self.stderr,
            "distance": self.distance,
        }

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        if self.track_initial and not self.epochs:
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        fit = self._record(epoch + 1)
        if logs is None:
            return
        theta = fit.theta if fit else np.full(self.order, np.nan)
        stderr = fit.stderr if fit else np.full(self.order, np.nan)
        for r in range(self.order):
            logs[f"{self.prefix}_{r + 1}"] = float(theta[r])
            logs[f"{self.prefix}_{r + 1}_se"] = float(stderr[r])
        if self.theta_star is not None:
            logs[f"{self.prefix}_distance"] = self._distance(theta)

    def get_config(self):
        return {
            "probe": self.probe.tolist(),
            "layer_name": self.layer_name,
            "order": self.order,
            "theta_star": self.theta_star,
            "domain": self.domain,
            "every_n_epochs": self.every_n_epochs,
            "track_initial": self.track_initial,
            "prefix": self.prefix,
            "batch_size": self.batch_size,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
