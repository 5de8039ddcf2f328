"""``LayerInformation``: per-layer I(T;X) and I(T;Y) on a fixed probe set during ``fit`` (seed 000)."""

import dataclasses
import math
import numbers
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_rg._validation import check_int
from keras_rg.information import (
    InformationEstimate,
    binning_mi_input,
    binning_mi_plane,
    kde_mi_input,
    kde_mi_plane,
    ksg_mi,
    ross_mi,
)
from keras_rg.information._checks import (
    as_labels,
    check_positive_float,
)

__all__ = ["LayerInformation", "MonotonicityViolation"]

_ESTIMATORS = ("kde", "binning", "ksg")
_PROBE_BATCH = 4096
_DATASET_POOL = 10  # a Dataset probe is drawn from its first probe_size * _DATASET_POOL samples


@dataclasses.dataclass(frozen=True)
class MonotonicityViolation:
    """``I(T;X)`` grew from one layer to the next, against Theorem 5.

    Attributes:
        epoch: Completed epochs when measured (0 is before training).
        earlier: The shallower layer's name.
        later: The next chosen layer's name.
        amount: ``I(later) - I(earlier)`` in nats (> the callback's ``tolerance``).
    """

    epoch: int
    earlier: str
    later: str
    amount: float


def _is_classes(y):
    """Integer (or boolean) labels, or one-hot rows, are classes; anything else is continuous."""
    if y.dtype.kind in "iub" and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        return True
    if y.ndim == 2 and y.shape[1] > 1:
        binary = np.all((y == 0) | (y == 1))
        return bool(binary and np.all(y.sum(axis=1) == 1))
    return False


def _dataset_arrays(dataset, limit):
    xs, ys, count = [], [], 0
    for element in dataset:
        if isinstance(element, tuple | list):
            xb, yb = element[0], (element[1] if len(element) > 1 else None)
        else:
            xb, yb = element, None
        xs.append(np.asarray(xb))
        ys.append(None if yb is None else np.asarray(yb))
        count += xs[-1].shape[0]
        if count >= limit:
            break
    if not xs:
        raise ValueError(
            "Received an invalid value for `x`: expected a Dataset that yields batches. "
            "Received: an empty Dataset"
        )
    y = None if any(b is None for b in ys) else np.concatenate(ys)[:limit]
    return np.concatenate(xs)[:limit], y


def _validate_layers(layers):
    if layers is None:
        return None
    items = [layers] if isinstance(layers, str | numbers.Integral) else list(layers)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | numbers.Integral):
            raise TypeError(
                "Received an invalid value for `layers`: expected None or a list of layer names "
                f"or indices. Received: layers={layers!r}"
            )
    return [item if isinstance(item, str) else int(item) for item in items]


@keras.saving.register_keras_serializable(package="keras_rg")
class LayerInformation(keras.callbacks.Callback):
    """Measures every chosen layer's ``I(T;X)`` and ``I(T;Y)`` on a fixed probe set during ``fit``.

    Every ``every`` epochs (and after the last one) the callback runs the probe set once through
    the model, collects the chosen layers' activations and estimates, per layer,

    - ``I(T;X)``: with ``estimator="kde"`` (default) the noise-regularised ``I(T + Z; X)`` of
      :func:`~keras_rg.information.kde_mi_input` (``value`` = its upper bound, Saxe et al. 2018);
      ``"binning"``: :func:`~keras_rg.information.binning_mi_input`; ``"ksg"``:
      :func:`~keras_rg.information.ksg_mi` between the activations and the flattened inputs
      (low-dimensional layers only). With ``n`` probe points none can exceed ~``log n``;
    - ``I(T;Y)`` when ``y`` is given: class labels (integers or one-hot rows) use the same
      family (KDE or binning conditional estimate; Ross for ``"ksg"``), continuous targets use KSG.

    It writes into ``logs`` (so ``History``, ``CSVLogger`` and ``TensorBoard`` placed after it in
    ``callbacks`` record them), with ``<layer>`` the layer's name:

    - ``info/I_TX/<layer>`` and ``info/I_TY/<layer>`` (nats); ``info/I_TX_lower/<layer>`` for KDE;
    - ``info/violations``: how many consecutive chosen layers break Theorem 5's
      ``I_{i+1} <= I_i`` on ``I(T;X)`` by more than ``tolerance``.

    Epochs without a measurement carry no ``info/`` keys. The whole run is kept: ``estimates``
    (per measurement, the ``InformationEstimate`` objects), ``trajectory`` (arrays for
    :func:`~keras_rg.plotting.information_plane.plot_information_plane`, starting with epoch 0,
    measured before training) and ``violations`` (every :class:`MonotonicityViolation`). Theorem 5
    follows from the data-processing inequality for the true information of a Markov chain; the
    estimates measure resolution-dependent quantities, so violations are reported, not hidden.

    Models: Sequential and Functional models (built) run one forward pass of a multi-output
    ``keras.Model`` over the chosen layers. Subclassed models (or any model whose layers have no
    single symbolic output) run one eager forward pass of the model itself while each chosen
    layer's ``call`` is wrapped to record its output; the layer order is the order of the calls,
    and a layer called several times records its last call. A layer whose probe activations hold
    NaN or infinity gets NaN estimates and one warning naming it; ``fit`` goes on.

    Args:
        x: The probe inputs: an array (training data is fine, it is subsampled) or a
            ``tf.data.Dataset`` of ``(x, y)`` batches (its first ``10 * probe_size`` samples are
            pooled and subsampled). A single input array.
        y: Labels for ``I(T;Y)``: class integers, one-hot rows or continuous targets.
            Defaults to ``None`` (no ``I(T;Y)``).
        probe_size: Probe points drawn (seeded, without replacement) when ``x`` has more.
            Defaults to 1000.
        every: Measure every this many epochs (and after the last). Defaults to 1.
        layers: Layer names or indices into ``model.layers``. Defaults to ``None``: every layer
            but input layers and layers with several outputs.
        estimator: ``"kde"``, ``"binning"`` or ``"ksg"``. Defaults to ``"kde"``.
        noise_variance: KDE noise variance. Defaults to 0.1.
        bins: Bins per unit for ``"binning"``. Defaults to ``None`` (30).
        k: Neighbours for KSG and Ross. Defaults to 3.
        tolerance: Nats by which ``I(T;X)`` may grow with depth before it counts as a violation
            (absorbs rounding between saturated layers). Defaults to 1e-6.
        seed: Seed of the probe subsample. Defaults to 0.
        plot_path: Save the information-plane figure here at the end of ``fit`` (needs ``y`` and
            matplotlib). Defaults to ``None``.
        dtype: Precision of the KDE pairwise sums (see ``kde_mi_input``); float32 keeps the
            per-epoch cost low and differs from float64 by ~1e-7 nats on unit-scale activations
            at the default noise (activations are centred first). Defaults to ``"float32"``.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    >>> y = (x[:, 0] > 0).astype("int32")
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="tanh"),
    ...                           keras.layers.Dense(2, name="out")])
    >>> model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> info = LayerInformation(x, y, probe_size=128)
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[info])
    >>> len(history.history["info/I_TX/out"]), info.trajectory["I_TX"].shape
    (2, (3, 2))

    Reference: seed 000 (Liaw), Definition 3 and Theorem 5.
    """

    def __init__(
        self,
        x,
        y=None,
        probe_size=1000,
        every=1,
        layers=None,
        estimator="kde",
        noise_variance=0.1,
        bins=None,
        k=3,
        tolerance=1e-6,
        seed=0,
        plot_path=None,
        dtype="float32",
    ):
        super().__init__()
        self.probe_size = check_int("probe_size", probe_size, minimum=2)
        self.every = check_int("every", every)
        self.layers = _validate_layers(layers)
        if estimator not in _ESTIMATORS:
            raise ValueError(
                f"Received an invalid value for `estimator`: expected one of {_ESTIMATORS}. "
                f"Received: estimator={estimator!r}"
            )
        self.estimator = estimator
        self.noise_variance = check_positive_float(noise_variance, "noise_variance")
        self.bins = None if bins is None else check_int("bins", bins)
        self.k = check_int("k", k)
        ok = isinstance(tolerance, numbers.Real) and math.isfinite(tolerance) and tolerance >= 0
        if not ok:
            raise ValueError(
                "Received an invalid value for `tolerance`: expected a finite float >= 0. "
                f"Received: tolerance={tolerance!r}"
            )
        self.tolerance = float(tolerance)
        self.seed = check_int("seed", seed, minimum=0)
        if plot_path is not None and not isinstance(plot_path, str):
            raise TypeError(
                "Received an invalid value for `plot_path`: expected None or a file path string. "
                f"Received: plot_path={plot_path!r}"
            )
        self.plot_path = plot_path
        if dtype not in ("float32", "float64"):
            raise ValueError(
                "Received an invalid value for `dtype`: expected 'float32' or 'float64'. "
                f"Received: dtype={dtype!r}"
            )
        self.dtype = dtype
        self.probe_x, self.probe_y = self._draw_probe(x, y)
        if plot_path is not None and self.probe_y is None:
            raise ValueError(
                "Received an invalid value for `plot_path`: the information plane needs labels `y`."
                f" Received: plot_path={plot_path!r} with y=None"
            )
        self._classes = self.probe_y is not None and _is_classes(self.probe_y)
        self._codes = as_labels(self.probe_y, len(self.probe_x)) if self._classes else None
        self._reset()

    # -- probe set ---------------------------------------------------------------------------

    def _draw_probe(self, x, y):
        if isinstance(x, tf.data.Dataset):
            if y is not None:
                raise ValueError(
                    "Received an invalid value for `y`: expected None when `x` is a Dataset (its "
                    "batches carry the labels). Received: y of type " + type(y).__name__
                )
            x, y = _dataset_arrays(x, self.probe_size * _DATASET_POOL)
        if x is None or isinstance(x, dict):
            raise TypeError(
                "Received an invalid value for `x`: expected an array of probe inputs or a "
                f"tf.data.Dataset. Received: x={x!r}"
            )
        x = np.asarray(x)
        if x.ndim < 1 or x.shape[0] < 2:
            raise ValueError(
                "Received an invalid value for `x`: expected an array of at least 2 samples. "
                f"Received: x with shape {x.shape}"
            )
        if y is not None:
            y = np.asarray(y)
            if y.ndim < 1 or y.shape[0] != x.shape[0]:
                raise ValueError(
                    f"Received an invalid value for `y`: expected {x.shape[0]} labels like `x`. "
                    f"Received: y with shape {y.shape}"
                )
        n = x.shape[0]
        if n > self.probe_size:
            rng = np.random.default_rng(self.seed)
            index = np.sort(rng.choice(n, size=self.probe_size, replace=False))
            x = x[index]
            y = None if y is None else y[index]
        return x, y

    # -- state -------------------------------------------------------------------------------

    def _reset(self):
        self.estimates = []
        self.violations = []
        self.layer_names = []
        self._forward = None
        self._pending_initial = True
        self._warned = set()

    @property
    def trajectory(self):
        """The run so far as arrays: ``epochs`` (E,), ``layers`` (L names), ``I_TX``,
        ``I_TX_lower``, ``I_TX_upper`` (E, L) and ``I_TY`` (E, L) or ``None`` without labels.
        Bounds the estimator does not give are NaN."""

        def table(key, field):
            return np.array(
                [
                    [
                        np.nan
                        if (est := record[key].get(name)) is None or getattr(est, field) is None
                        else getattr(est, field)
                        for name in self.layer_names
                    ]
                    for record in self.estimates
                ],
                dtype=float,
            ).reshape(len(self.estimates), len(self.layer_names))

        out = {
            "epochs": np.array([r["epoch"] for r in self.estimates], dtype=int),
            "layers": list(self.layer_names),
            "I_TX": table("I_TX", "value"),
            "I_TX_lower": table("I_TX", "lower"),
            "I_TX_upper": table("I_TX", "upper"),
            "I_TY": None if self.probe_y is None else table("I_TY", "value"),
        }
        return out

    # -- forward pass ------------------------------------------------------------------------

    def _chosen_layers(self):
        model = self.model
        if self.layers is None:
            return [
                layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)
            ], False
        chosen = []
        for item in self.layers:
            try:
                layer = model.get_layer(item) if isinstance(item, str) else model.layers[item]
            except (ValueError, IndexError) as err:
                raise ValueError(
                    f"Received an invalid value for `layers`: expected names or indices of the "
                    f"model's layers. Received: {item!r} not in "
                    f"{[layer.name for layer in model.layers]}"
                ) from err
            chosen.append(layer)
        return chosen, True

    def _build_forward(self):
        chosen, explicit = self._chosen_layers()
        try:
            inputs = self.model.inputs
            if not inputs:
                raise ValueError("no symbolic inputs")
            kept, outputs = [], []
            for layer in chosen:
                out = layer.output
                if isinstance(out, list | tuple | dict):
                    if explicit:
                        raise ValueError(
                            "Received an invalid value for `layers`: expected layers with one "
                            f"output. Received: {layer.name!r} with several"
                        )
                    continue
                kept.append(layer)
                outputs.append(out)
            probe = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)
        except (AttributeError, ValueError, TypeError, KeyError) as err:
            if "`layers`" in str(err):
                raise
            return self._hooked_forward(chosen)
        names = [layer.name for layer in kept]

        def run(chunk):
            out = probe(chunk, training=False)
            return out if isinstance(out, list | tuple) else [out]  # one layer: one tensor

        def forward(x):
            parts = [run(x[a : a + _PROBE_BATCH]) for a in range(0, len(x), _PROBE_BATCH)]
            return {
                name: np.concatenate([np.asarray(p[j]) for p in parts])
                for j, name in enumerate(names)
            }

        return forward, names

    def _hooked_forward(self, chosen):
        model, order = self.model, []

        def forward(x):
            records = {}
            for layer in chosen:
                original = layer.call

                def recording(*args, _call=original, _name=layer.name, **kwargs):
                    out = _call(*args, **kwargs)
                    if not isinstance(out, list | tuple | dict):
                        records.setdefault(_name, []).append(np.asarray(out))
                    return out

                object.__setattr__(layer, "call", recording)
            try:
                for a in range(0, len(x), _PROBE_BATCH):
                    before = {name: len(v) for name, v in records.items()}
                    model(x[a : a + _PROBE_BATCH], training=False)
                    for name, v in records.items():  # a layer called twice keeps its last call
                        del v[before.get(name, 0) : -1]
                    if not order:
                        order.extend(records)
            finally:
                for layer in chosen:
                    object.__delattr__(layer, "call")
            return {name: np.concatenate(v) for name, v in records.items()}

        forward(self.probe_x[:2])  # learn the call order
        return forward, list(order)

    # -- estimation --------------------------------------------------------------------------

    def _quietly(self, name, fn, *args, **kwargs):
        """Runs a k-NN estimator, turning its per-call dimension warning into one per layer."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fn(*args, **kwargs)
        if caught and ("dim", name) not in self._warned:
            self._warned.add(("dim", name))
            warnings.warn(
                f"LayerInformation, layer {name!r}: {caught[0].message}", UserWarning, stacklevel=4
            )
        return result

    def _estimate(self, name, t):
        kde = {"noise_variance": self.noise_variance, "dtype": self.dtype}
        knn = {"k": self.k}
        if self.estimator == "kde" and self._classes:
            return kde_mi_plane(t, self._codes, **kde)
        if self.estimator == "binning" and self._classes:
            return binning_mi_plane(t, self._codes, bins=self.bins)
        if self.estimator == "kde":
            i_tx = kde_mi_input(t, **kde)
        elif self.estimator == "binning":
            i_tx = binning_mi_input(t, bins=self.bins)
        else:
            inputs = self.probe_x.reshape(len(self.probe_x), -1)
            i_tx = self._quietly(name, ksg_mi, t, inputs, **knn)
        if self.probe_y is None:
            return i_tx, None
        if self._classes:
            return i_tx, self._quietly(name, ross_mi, t, self._codes, **knn)
        return i_tx, self._quietly(name, ksg_mi, t, self.probe_y, **knn)

    def _nan_estimate(self):
        return InformationEstimate(
            value=math.nan, estimator=self.estimator, n=len(self.probe_x), lower=None, upper=None
        )

    def measure(self, epoch):
        """Measures every chosen layer now and records it as ``epoch`` completed epochs.

        Returns:
            ``{"I_TX": {layer: InformationEstimate}, "I_TY": {...}, "epoch": epoch,
            "violations": [MonotonicityViolation]}``.
        """
        if self._forward is None:
            self._forward, self.layer_names = self._build_forward()
        activations = self._forward(self.probe_x)
        record = {"epoch": int(epoch), "I_TX": {}, "I_TY": {}}
        for name in self.layer_names:
            t = np.asarray(activations[name], dtype=np.float64).reshape(len(self.probe_x), -1)
            if not np.all(np.isfinite(t)):
                if ("nan", name) not in self._warned:
                    self._warned.add(("nan", name))
                    warnings.warn(
                        f"LayerInformation: layer {name!r} produced NaN or infinite activations "
                        f"on the probe set after epoch {epoch}; its information estimates are NaN "
                        "while that lasts.",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                i_tx = self._nan_estimate()
                i_ty = None if self.probe_y is None else self._nan_estimate()
            else:
                i_tx, i_ty = self._estimate(name, t)
            record["I_TX"][name] = i_tx
            if i_ty is not None:
                record["I_TY"][name] = i_ty
        record["violations"] = self._violations(record)
        self.violations.extend(record["violations"])
        self.estimates.append(record)
        return record

    def _violations(self, record):
        found = []
        values = [(name, record["I_TX"][name].value) for name in self.layer_names]
        for (earlier, a), (later, b) in zip(values, values[1:], strict=False):
            if math.isfinite(a) and math.isfinite(b) and b - a > self.tolerance:
                found.append(MonotonicityViolation(record["epoch"], earlier, later, b - a))
        return found

    # -- Keras hooks -------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_begin(self, epoch, logs=None):
        if self._pending_initial:
            self._pending_initial = False
            self.measure(epoch)

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == (self.params or {}).get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        record = self.measure(epoch + 1)
        if logs is None:
            return
        for name in self.layer_names:
            i_tx = record["I_TX"][name]
            logs[f"info/I_TX/{name}"] = i_tx.value
            if self.estimator == "kde":
                logs[f"info/I_TX_lower/{name}"] = math.nan if i_tx.lower is None else i_tx.lower
            if name in record["I_TY"]:
                logs[f"info/I_TY/{name}"] = record["I_TY"][name].value
        logs["info/violations"] = len(record["violations"])

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
            from keras_rg.plotting._mpl import require_matplotlib

            require_matplotlib().close(figure)
        return figure

    def get_config(self):
        return {
            "x": self.probe_x.tolist(),
            "y": None if self.probe_y is None else self.probe_y.tolist(),
            "probe_size": self.probe_size,
            "every": self.every,
            "layers": None if self.layers is None else list(self.layers),
            "estimator": self.estimator,
            "noise_variance": self.noise_variance,
            "bins": self.bins,
            "k": self.k,
            "tolerance": self.tolerance,
            "seed": self.seed,
            "plot_path": self.plot_path,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
