"""``LayerInformation``: per-layer I(T;X) and I(T;Y) on a fixed probe set during ``fit``.

A thin adapter: the probe and the forward pass are ``keras_rg.probe``'s, the estimates and the
Theorem 5 check ``keras_rg.information.layers``'s.
"""

import math
import warnings

import keras
import numpy as np

from keras_rg.arguments import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_positive,
    invalid_type,
    renamed_argument,
)
from keras_rg.information.layers import (
    ESTIMATORS,
    TOLERANCE,
    LayerEstimator,
    MonotonicityViolation,
    check_monotonicity,
    nan_estimate,
)
from keras_rg.probe import (
    DEFAULT_BATCH_SIZE,
    ProbeReader,
    as_probe,
    check_layer_names,
    probe_length,
    probe_to_config,
)

__all__ = ["DEFAULT_RELATIVE_NOISE", "LayerInformation", "MonotonicityViolation"]

# KDE noise variance as a ratio to each layer's total variance tr Cov(T) on the probe. Chosen by
# measurement (docs/information.md): on a trained digits MLP (64-64-32-16-10, 1000 probe points,
# ceiling 6.91 nats) 0.05 / 0.1 / 0.2 give I(T;X) of 5.9-4.0 / 4.7-3.2 / 3.3-2.5 nats from the
# first layer to the logits, with I(T;Y) 2.28 / 2.15-2.19 / 1.8-1.96 of H(Y) = 2.30: 0.1 keeps
# every layer below the ceiling and apart while I(T;Y) still sees the classes.
DEFAULT_RELATIVE_NOISE = 0.1
_DEPRECATED = (("x", "probe"), ("y", "labels"), ("every", "every_n_epochs"),
               ("layers", "layer_names"), ("k", "n_neighbors"))  # fmt: skip


@keras.saving.register_keras_serializable(package="keras_rg")
class LayerInformation(keras.callbacks.Callback):
    """Measures every chosen layer's ``I(T;X)`` and ``I(T;Y)`` on a fixed probe set during ``fit``.

    Every ``every_n_epochs`` epochs (and after the last one, and once before training) the
    callback reads the chosen layers' outputs on the probe (``keras_rg.probe.ProbeReader``) and
    estimates, per layer (``keras_rg.information.layers.LayerEstimator``):

    - ``I(T;X)``: ``estimator="kde"`` (default): the noise-regularised ``I(T + Z; X)`` of
      :func:`~keras_rg.information.kde_mi_input` with, by default, noise *relative* to the
      layer's own spread (variance ``noise_variance`` x the layer's total variance ``tr Cov(T)``
      on the probe), so rescaling a layer leaves its estimate unchanged and a layer's width
      does not push it to the ceiling; ``"binning"``; ``"ksg"``
      (low-dimensional layers only). With ``n`` probe points none can exceed ``log n``;
    - ``I(T;Y)`` when ``labels`` are given: class labels (integers or one-hot rows) use the same
      family (KDE or binning; Ross for ``"ksg"``), continuous targets use KSG.

    It writes into ``logs`` (so ``History``, ``CSVLogger`` and ``TensorBoard`` placed after it
    record them), with ``<layer>`` the layer's name:

    - ``info/I_TX/<layer>``, ``info/I_TY/<layer>`` (nats); ``info/I_TX_lower/<layer>`` for KDE;
    - ``info_saturated/<layer>``: 1.0 when ``I(T;X)`` is within 5% of the ceiling ``log n`` (the
      estimate then measures the probe size, not the layer; a warning says so once per layer);
    - ``info/violations``: consecutive layer pairs breaking Theorem 5 by more than ``tolerance``
      (pairs with both layers saturated are not counted: ``info/saturated_pairs``).

    Models: Sequential, Functional (several inputs too) and subclassed models, and layers
    inside nested models (``"outer/inner"``). Layers are measured in depth order (model order,
    or call order for subclassed and nested models). A layer with NaN or infinite outputs gets
    NaN estimates and one warning. A probe that does not fit the model raises at
    ``on_train_begin``, before any training step.

    Args:
        probe: Probe inputs: an array, a list of arrays (one per model input), a dict keyed by
            input name, or a ``tf.data.Dataset`` of inputs or ``(inputs, labels)`` batches.
            Subsampled (seeded) to ``probe_size``. ``x`` is its deprecated name.
        labels: Labels for ``I(T;Y)``: class integers, one-hot rows or continuous targets.
            Defaults to ``None``. ``y`` is its deprecated name.
        probe_size: Probe points kept. Defaults to 1000.
        every_n_epochs: Measure every this many epochs (and after the last). Defaults to 1.
            ``every`` is its deprecated name.
        layer_names: Exact names or fnmatch globs; unknown names raise listing the available
            ones. Defaults to ``None``: every top-level layer. ``layers`` is its deprecated name.
        estimator: ``"kde"``, ``"binning"`` or ``"ksg"``. Defaults to ``"kde"``.
        noise_variance: KDE noise variance; with ``relative_noise`` its ratio to the layer's
            total variance on the probe. Defaults to 0.1 (``DEFAULT_RELATIVE_NOISE``).
        relative_noise: Scale the noise with each layer. ``False`` reads ``noise_variance`` as an
            absolute variance (0.1 is the common choice, Saxe et al. 2018). Defaults to True.
        bins: Bins per unit for ``"binning"``. Defaults to ``None`` (30).
        n_neighbors: Neighbours for KSG and Ross. Defaults to 3. ``k`` is its deprecated name.
        tolerance: Nats by which ``I(T;X)`` may grow with depth and count as equal. Defaults to
            1e-3 (``keras_rg.information.layers.TOLERANCE``).
        seed: Seed of the probe subsample. Defaults to 0.
        plot_path: Save the information plane here at the end of ``fit`` (needs labels and
            matplotlib). Defaults to ``None``.
        dtype: Precision of the KDE pairwise sums. Defaults to ``"float32"``.
        batch_size: Probe samples per forward call. Defaults to 1024.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    >>> y = (x[:, 0] > 0).astype("int32")
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"),
    ...                           keras.layers.Dense(2, name="out")])
    >>> model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> info = LayerInformation(x, y, probe_size=128)
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[info])
    >>> len(history.history["info/I_TX/out"]), np.shape(info.trajectory["I_TX"])
    (2, (3, 2))

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning
    in Deep Neural Networks", Definition 3 and Theorem 5 (docs/information.md).
    """

    def __init__(self, probe=None, labels=None, probe_size=1000, every_n_epochs=1,
                 layer_names=None, estimator="kde", noise_variance=DEFAULT_RELATIVE_NOISE,
                 relative_noise=True, bins=None, n_neighbors=3, tolerance=TOLERANCE, seed=0,
                 plot_path=None, dtype="float32", batch_size=DEFAULT_BATCH_SIZE,
                 **kwargs):  # fmt: skip
        super().__init__()
        given = {"probe": probe, "labels": labels, "every_n_epochs": every_n_epochs,
                 "layer_names": layer_names, "n_neighbors": n_neighbors}  # fmt: skip
        defaults = {"probe": None, "labels": None, "every_n_epochs": 1, "layer_names": None,
                    "n_neighbors": 3}  # fmt: skip
        for old, new in _DEPRECATED:
            default = defaults[new]
            passed = given[new] is not None if default is None else given[new] != default
            if old in kwargs and passed:  # (compared here: arrays have no plain `!=`)
                raise TypeError(f"LayerInformation: pass `{new}` only; `{old}` is its deprecated "
                                "name.")  # fmt: skip
            given[new] = renamed_argument(kwargs, old, new, given[new], "LayerInformation")
        if kwargs:
            raise TypeError(f"LayerInformation() got unexpected arguments {sorted(kwargs)}")
        if given["probe"] is None:
            raise TypeError("LayerInformation() missing the required argument `probe`.")
        self.probe_size = check_int("probe_size", probe_size, minimum=2)
        self.every_n_epochs = check_int("every_n_epochs", given["every_n_epochs"])
        self.layer_names = check_layer_names(given["layer_names"])
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)
        self.noise_variance = check_positive("noise_variance", noise_variance)
        self.relative_noise = check_bool("relative_noise", relative_noise)
        self.bins = None if bins is None else check_int("bins", bins)
        self.n_neighbors = check_int("n_neighbors", given["n_neighbors"])
        self.tolerance = check_float("tolerance", tolerance, 0)
        self.seed = check_int("seed", seed, minimum=0)
        if plot_path is not None and not isinstance(plot_path, str):
            raise invalid_type("plot_path", "None or a file path string", plot_path)
        self.plot_path = plot_path
        self.dtype = check_choice("dtype", dtype, ("float32", "float64"))
        self.batch_size = check_int("batch_size", batch_size)
        self.probe, self.labels = as_probe(given["probe"], given["labels"],
                                           probe_size=self.probe_size, seed=self.seed)  # fmt: skip
        if plot_path is not None and self.labels is None:
            raise ValueError(
                "Received an invalid value for `plot_path`: the information plane needs "
                f"`labels`. Received: plot_path={plot_path!r} with labels=None"
            )
        self._estimator = LayerEstimator(self.estimator, self.noise_variance,
                                         self.relative_noise, self.bins, self.n_neighbors,
                                         self.dtype)  # fmt: skip
        self._reset()

    # -- deprecated attribute names -----------------------------------------------------------

    @property
    def probe_x(self):
        """The probe inputs (old name of ``probe``)."""
        return self.probe

    @property
    def probe_y(self):
        """The probe labels (old name of ``labels``)."""
        return self.labels

    # -- state -------------------------------------------------------------------------------

    def _reset(self):
        self.estimates = []
        self.violations = []
        self.measured_layers = []
        self._reader = None
        self._reader_of = None
        self._pending_initial = True
        self._warned = set()

    def _ensure_reader(self):
        if self._reader is None or self._reader_of is not self.model:
            self._reader = ProbeReader(self.model, self.probe, self.layer_names,
                                       batch_size=self.batch_size)  # fmt: skip
            self._reader_of = self.model
            self.measured_layers = list(self._reader.names)
        return self._reader

    @property
    def trajectory(self):
        """The run so far: ``epochs`` (epochs completed, 0 = before training), ``layers`` (names),
        and per measurement lists (one value per layer) ``I_TX``, ``I_TX_lower``, ``I_TX_upper``,
        ``I_TY`` (``None`` without labels) and ``saturated``. Missing bounds are NaN."""

        def table(key, field):
            rows = []
            for record in self.estimates:
                row = []
                for name in self.measured_layers:
                    est = record[key].get(name)
                    value = None if est is None else getattr(est, field)
                    row.append(math.nan if value is None else value)
                rows.append(row)
            return rows

        return {
            "epochs": [r["epoch"] for r in self.estimates],
            "layers": list(self.measured_layers),
            "I_TX": table("I_TX", "value"),
            "I_TX_lower": table("I_TX", "lower"),
            "I_TX_upper": table("I_TX", "upper"),
            "I_TY": None if self.labels is None else table("I_TY", "value"),
            "saturated": table("I_TX", "saturated"),
            "ceiling": math.log(probe_length(self.probe)),
        }

    # -- measurement -------------------------------------------------------------------------

    def _estimate(self, name, t, inputs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = self._estimator.estimate(t, inputs, self.labels)
        if caught and ("dim", name) not in self._warned:
            self._warned.add(("dim", name))
            warnings.warn(f"LayerInformation, layer {name!r}: {caught[0].message}", UserWarning,
                          stacklevel=4)  # fmt: skip
        return result

    def _warn_once(self, key, name, message, category):
        if (key, name) not in self._warned:
            self._warned.add((key, name))
            warnings.warn(f"LayerInformation: layer {name!r} {message}", category, stacklevel=4)

    def measure(self, epoch):
        """Measures every chosen layer now and records it as ``epoch`` completed epochs.

        Returns:
            ``{"epoch", "I_TX": {layer: InformationEstimate}, "I_TY": {...}, "check":
            MonotonicityCheck, "violations": [MonotonicityViolation]}``.
        """
        reader = self._ensure_reader()
        outputs = reader.read()
        n = reader.n
        inputs = None
        if self.estimator == "ksg":
            leaves = self.probe if isinstance(self.probe, list) else (
                list(self.probe.values()) if isinstance(self.probe, dict) else [self.probe])  # fmt: skip
            inputs = np.hstack([np.reshape(a, (n, -1)) for a in leaves]).astype(np.float64)
        record = {"epoch": int(epoch), "I_TX": {}, "I_TY": {}}
        for name in self.measured_layers:
            t = np.asarray(outputs[name], dtype=np.float64).reshape(n, -1)
            if not np.all(np.isfinite(t)):
                self._warn_once("nan", name, f"produced NaN or infinite activations on the probe "
                                f"after epoch {epoch}; its information estimates are NaN while "
                                "that lasts.", RuntimeWarning)  # fmt: skip
                i_tx = nan_estimate(self.estimator, n)
                i_ty = None if self.labels is None else nan_estimate(self.estimator, n)
            else:
                i_tx, i_ty = self._estimate(name, t, inputs)
                if i_tx.saturated:
                    self._warn_once("sat", name, f"is at the estimator's ceiling log n = "
                                    f"{i_tx.ceiling:.2f} nats (I(T;X) = {i_tx.value:.2f}) after "
                                    f"epoch {epoch}: the estimate measures the probe size, not the"
                                    " layer. Raise `noise_variance` or `probe_size`.", UserWarning)  # fmt: skip
            record["I_TX"][name] = i_tx
            if i_ty is not None:
                record["I_TY"][name] = i_ty
        self.estimates.append(record)
        traj = self.trajectory
        last = {key: traj[key][-1:] for key in ("I_TX", "I_TX_lower", "I_TX_upper", "saturated")}
        check = check_monotonicity({**last, "epochs": [epoch], "layers": traj["layers"]},
                                   self.tolerance)  # fmt: skip
        record["check"] = check
        record["violations"] = list(check.violations)
        self.violations.extend(check.violations)
        return record

    # -- Keras hooks -------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset()
        self._ensure_reader()  # a probe that does not fit the model fails here, before fit

    def on_epoch_begin(self, epoch, logs=None):
        if self._pending_initial:
            self._pending_initial = False
            self.measure(epoch)

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == (self.params or {}).get("epochs")
        if (epoch + 1) % self.every_n_epochs and not last:
            return
        record = self.measure(epoch + 1)
        if logs is None:
            return
        for name in self.measured_layers:
            i_tx = record["I_TX"][name]
            logs[f"info/I_TX/{name}"] = i_tx.value
            if self.estimator == "kde":
                logs[f"info/I_TX_lower/{name}"] = math.nan if i_tx.lower is None else i_tx.lower
            logs[f"info_saturated/{name}"] = float(i_tx.saturated)
            if name in record["I_TY"]:
                logs[f"info/I_TY/{name}"] = record["I_TY"][name].value
        logs["info/violations"] = record["check"].count
        logs["info/saturated_pairs"] = len(record["check"].saturated)

    def on_train_end(self, logs=None):
        if self.plot_path is not None and self.estimates:
            self.plot(self.plot_path)

    def plot(self, path=None, **kwargs):
        """Draws (and with ``path`` saves) the information plane of the run so far.

        Args:
            path: File to save to. Defaults to ``None``.
            **kwargs: Passed to ``plot_information_plane``.

        Returns:
            The matplotlib ``Figure``.
        """
        from keras_rg.plotting.information_plane import plot_information_plane

        figure = plot_information_plane(self.trajectory, path=path, **kwargs)
        if path is not None:
            from keras_rg.plotting import require_matplotlib

            require_matplotlib().close(figure)
        return figure

    def get_config(self):
        return {
            "probe": probe_to_config(self.probe),
            "labels": None if self.labels is None else self.labels.tolist(),
            "probe_size": self.probe_size,
            "every_n_epochs": self.every_n_epochs,
            "layer_names": self.layer_names,
            "estimator": self.estimator,
            "noise_variance": self.noise_variance,
            "relative_noise": self.relative_noise,
            "bins": self.bins,
            "n_neighbors": self.n_neighbors,
            "tolerance": self.tolerance,
            "seed": self.seed,
            "plot_path": self.plot_path,
            "dtype": self.dtype,
            "batch_size": self.batch_size,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
