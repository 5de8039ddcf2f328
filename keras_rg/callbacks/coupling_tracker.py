"""``CouplingTracker``: fits the feature layer's couplings θ̃^t during ``fit`` (non-canonical RG)."""

import math
import warnings

import keras
import numpy as np

from keras_rg.arguments import check_bool, check_choice, check_int, renamed_argument
from keras_rg.probe import (
    DEFAULT_BATCH_SIZE,
    ProbeReader,
    as_probe,
    check_layer_names,
    probe_length,
    probe_to_config,
)
from keras_rg.systems.coupling_fit import fit_couplings

__all__ = ["CouplingTracker"]


class _Trajectory(dict):
    """The trajectory dict (lists, ``"epochs"``). Calling it returns the old method's result,
    ``{"epoch", "theta", "stderr", "distance"}`` as NumPy arrays, kept for one release for callers
    not yet moved to the property."""

    def __call__(self):
        warnings.warn(
            "CouplingTracker.trajectory is a property now: calling it is deprecated and will be "
            "removed in the next release; read `tracker.trajectory` (key 'epochs').",
            DeprecationWarning,
            stacklevel=2,
        )
        return {"epoch": np.asarray(self["epochs"]), "theta": np.asarray(self["theta"]),
                "stderr": np.asarray(self["stderr"]), "distance": np.asarray(self["distance"])}  # fmt: skip


@keras.saving.register_keras_serializable(package="keras_rg")
class CouplingTracker(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs, fits θ̃^t to a layer's outputs on a probe set.

    The outputs ``F(x_k; W_t) ∈ R^M`` of the chosen layer (flattened per sample) are treated as a
    system with the Hamiltonian ``Σ_r θ̃_r^t |F|^(2r)`` (Gong & Xia, eq. 39) and θ̃^t is its
    maximum-likelihood estimate, ``keras_rg.systems.coupling_fit.fit_couplings``, with Fisher
    standard errors. Writes into ``logs`` (so ``History`` and ``TensorBoard`` see them):

    - ``<prefix>_<r>``: θ̃_r^t for r = 1..R, and ``<prefix>_<r>_se`` its standard error;
    - ``<prefix>_distance``: ``‖θ̃^t − θ*‖₂`` when ``theta_star`` is given (inf if θ* is).

    The trajectory is kept for plotting: ``epochs`` (epochs completed; 0 is before training when
    ``track_initial``), ``fits`` (``CouplingFit`` objects), the arrays ``theta``, ``stderr`` and
    ``distance``, and the property ``trajectory`` (a dict of lists: ``epochs``, ``theta``,
    ``stderr``, ``distance``). A fit that cannot be made (e.g. all outputs zero) is recorded as
    NaN. The layer is read by ``keras_rg.probe.ProbeReader``: a name that matches no layer (a
    typo) raises at ``on_train_begin`` listing the model's layers.

    Args:
        probe: model inputs to read the layer on: an array, a list or dict of arrays or a
            ``tf.data.Dataset`` (stored in the config: keep it modest).
        layer_names: the feature layer: one name (or a one-layer list, or a glob matching one
            layer); None reads the model's output. Defaults to None. ``layer_name`` is its
            deprecated name.
        order: the number of couplings R. Defaults to 2.
        theta_star: the RG fixed point θ* to measure the distance to (R values), or None.
            Defaults to None.
        domain: ``"positive"`` (θ_r >= 0, Gong & Xia's family) or ``"natural"``.
            Defaults to ``"positive"``.
        every_n_epochs: logging period in epochs (>= 1). Defaults to 1.
        track_initial: also fit θ̃^0 at the start of training. Defaults to True.
        prefix: log-key prefix. Defaults to ``"theta"``.
        batch_size: probe batch size for the forward pass. Defaults to 1024.

    Example:
        >>> tracker = CouplingTracker(np.random.normal(size=(64, 8)), layer_names="features",
        ...                           order=2, theta_star=[0.5, 0.1])
        >>> history = model.fit(x, y, epochs=5, callbacks=[tracker])  # doctest: +SKIP
        >>> history.history["theta_1"], tracker.theta  # doctest: +SKIP

    Reference: Gong & Xia, *Interpreting FCDNNs via RG on exponential family*, §3.2,
    eq. 39–40 and Theorem 3.1 (docs/exponential_family.md).
    """

    def __init__(
        self,
        probe,
        layer_names=None,
        order=2,
        theta_star=None,
        domain="positive",
        every_n_epochs=1,
        track_initial=True,
        prefix="theta",
        batch_size=DEFAULT_BATCH_SIZE,
        **kwargs,
    ):
        super().__init__()
        layer_names = renamed_argument(kwargs, "layer_name", "layer_names", layer_names,
                                       "CouplingTracker", default=None)  # fmt: skip
        if kwargs:
            raise TypeError(f"CouplingTracker() got unexpected arguments {sorted(kwargs)}")
        self.order = check_int("order", order)
        self.probe, _ = as_probe(probe)
        if probe_length(self.probe) <= self.order + 1:
            raise ValueError(
                f"Received an invalid value for `probe`: expected more than order + 1 = "
                f"{self.order + 1} input samples. Received: {probe_length(self.probe)}"
            )
        self.layer_names = check_layer_names(layer_names)
        if theta_star is not None:
            star = np.asarray(theta_star, dtype=np.float64).reshape(-1)
            if star.size != self.order or np.any(np.isnan(star)) or np.any(star < 0):
                raise ValueError(
                    f"Received an invalid value for `theta_star`: expected {self.order} values "
                    f">= 0 (inf allowed). Received: theta_star={theta_star!r}"
                )
            theta_star = [float(v) for v in star]
        self.theta_star = theta_star
        self.domain = check_choice("domain", domain, ("positive", "natural"))
        self.every_n_epochs = check_int("every_n_epochs", every_n_epochs)
        self.track_initial = check_bool("track_initial", track_initial)
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(
                f"Received an invalid value for `prefix`: expected a non-empty string. "
                f"Received: prefix={prefix!r}"
            )
        self.prefix = prefix
        self.batch_size = check_int("batch_size", batch_size)
        self.epochs = []
        self.fits = []
        self._reader = None
        self._reader_of = None

    @property
    def layer_name(self):
        """The feature layer's name (old spelling; one name or None)."""
        return None if self.layer_names is None else self.layer_names[0]

    # ------------------------------------------------------------------ reading the layer
    def _ensure_reader(self):
        if self._reader_of is not self.model:
            if self.layer_names is None:
                self._reader = None
            else:
                reader = ProbeReader(self.model, self.probe, self.layer_names,
                                     batch_size=self.batch_size)  # fmt: skip
                if len(reader.names) != 1:
                    raise ValueError(
                        "Received an invalid value for `layer_names`: expected one feature layer."
                        f" Received: layer_names={self.layer_names!r} selecting {reader.names}"
                    )
                self._reader = reader
            self._reader_of = self.model
        return self._reader

    def _features(self):
        reader = self._ensure_reader()
        if reader is None:
            probe = self.probe
            n = probe_length(probe)
            out = []
            for start in range(0, n, self.batch_size):
                if isinstance(probe, dict):
                    batch = {k: v[start : start + self.batch_size] for k, v in probe.items()}
                elif isinstance(probe, list):
                    batch = [v[start : start + self.batch_size] for v in probe]
                else:
                    batch = probe[start : start + self.batch_size]
                out.append(keras.ops.convert_to_numpy(self.model(batch, training=False)))
            out = np.concatenate(out, axis=0)
        else:
            (out,) = reader.read().values()
        out = np.asarray(out, dtype=np.float64)
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

    @property
    def trajectory(self):
        """``{"epochs", "theta", "stderr", "distance"}`` as lists (epochs completed; 0 = before
        training). Calling it, ``tracker.trajectory()``, is deprecated (warns): it gives the old
        method's arrays with the key ``"epoch"``, kept for one release."""
        return _Trajectory(
            epochs=list(self.epochs),
            theta=self.theta.tolist(),
            stderr=self.stderr.tolist(),
            distance=self.distance.tolist(),
        )

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self._ensure_reader()  # an unknown layer name or a probe that does not fit fails here
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
            "probe": probe_to_config(self.probe),
            "layer_names": self.layer_names,
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
