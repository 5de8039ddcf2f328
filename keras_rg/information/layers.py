"""Per-layer information: which estimator measures a layer, how labels are read, and the one
check of Theorem 5 (layer information non-increasing with depth) used by the callback and by
``keras-rg validate``.

Liaw's Theorem 5 (docs/information.md) states ``I(T_{i+1}; X) <= I(T_i; X)``; for the exact MI of
a Markov chain ``X -> T_1 -> T_2 -> ...`` that is the data-processing inequality (Cover & Thomas,
*Elements of Information Theory*, Theorem 2.8.1), true of every network. The estimates measure
resolution-dependent quantities (noise, bins, neighbours), so they can break it: the check
reports increases rather than hiding them, and reports a pair whose two layers both sit at the
ceiling ``log n`` as *saturated* (the estimate then measures the probe size, not the layer).
"""

import dataclasses
import math

import numpy as np

from keras_rg.arguments import check_choice, check_float
from keras_rg.information._checks import as_labels
from keras_rg.information._result import InformationEstimate
from keras_rg.information.binning import binning_mi_input, binning_mi_plane
from keras_rg.information.kde import kde_mi_input, kde_mi_plane
from keras_rg.information.ksg import ksg_mi, ross_mi

__all__ = [
    "ESTIMATORS",
    "TOLERANCE",
    "LayerEstimator",
    "MonotonicityCheck",
    "MonotonicityViolation",
    "check_monotonicity",
    "is_classes",
    "nan_estimate",
]

ESTIMATORS = ("kde", "binning", "ksg")
# Nats by which an estimate may grow with depth and still count as equal: far above float32
# rounding of the KDE sums (~1e-7), far below any difference worth reading.
TOLERANCE = 1e-3


def is_classes(labels):
    """Integer (or boolean) labels, or one-hot rows, are classes; anything else is continuous."""
    y = np.asarray(labels)
    if y.dtype.kind in "iub" and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        return True
    if y.ndim == 2 and y.shape[1] > 1:
        binary = np.all((y == 0) | (y == 1))
        return bool(binary and np.all(y.sum(axis=1) == 1))
    return False


def nan_estimate(estimator, n):
    """The estimate recorded for a layer whose activations are not finite."""
    return InformationEstimate(value=math.nan, estimator=estimator, n=n)


@dataclasses.dataclass(frozen=True)
class LayerEstimator:
    """How one layer's ``I(T;X)`` and ``I(T;Y)`` are estimated on a probe.

    Attributes:
        estimator: ``"kde"`` (noise-regularised pairwise bounds), ``"binning"`` or ``"ksg"``
            (KSG for ``I(T;X)`` and continuous targets, Ross for class labels).
        noise_variance: KDE noise variance, or with ``relative_noise`` its ratio to the layer's
            total variance ``tr Cov(T)`` on the probe.
        relative_noise: Scale the KDE noise with the layer (``T -> lambda T`` invariant).
        bins: Bins per unit for binning (None: the estimator's default).
        n_neighbors: KSG / Ross neighbours.
        dtype: Precision of the KDE pairwise sums.
    """

    estimator: str = "kde"
    noise_variance: float = 0.1
    relative_noise: bool = True
    bins: int | None = None
    n_neighbors: int = 3
    dtype: str = "float32"

    def __post_init__(self):
        check_choice("estimator", self.estimator, ESTIMATORS)

    def estimate(self, t, inputs, labels=None):
        """``(I(T;X), I(T;Y) or None)`` for activations ``t`` ``(n, d)`` of the probe ``inputs``
        (flattened ``(n, D)``, used by KSG) and optional ``labels``."""
        classes = labels is not None and is_classes(labels)
        codes = as_labels(labels, t.shape[0]) if classes else None
        kde = {"noise_variance": self.noise_variance, "dtype": self.dtype,
               "relative_noise": self.relative_noise}  # fmt: skip
        knn = {"n_neighbors": self.n_neighbors}
        if self.estimator == "kde" and classes:
            return kde_mi_plane(t, codes, **kde)
        if self.estimator == "binning" and classes:
            return binning_mi_plane(t, codes, bins=self.bins)
        if self.estimator == "kde":
            i_tx = kde_mi_input(t, **kde)
        elif self.estimator == "binning":
            i_tx = binning_mi_input(t, bins=self.bins)
        else:
            i_tx = ksg_mi(t, inputs, **knn)
        if labels is None:
            return i_tx, None
        if classes:
            return i_tx, ross_mi(t, codes, **knn)
        return i_tx, ksg_mi(t, labels, **knn)


@dataclasses.dataclass(frozen=True)
class MonotonicityViolation:
    """``I(T;X)`` grew from one layer to the next, against Theorem 5.

    Attributes:
        epoch: Completed epochs when measured (0 is before training).
        earlier: The shallower layer's name.
        later: The next chosen layer's name.
        amount: ``I(later) - I(earlier)`` in nats (> the tolerance).
        certain: The estimator's bounds certify it (lower bound of the later layer above the
            upper bound of the earlier one).
    """

    epoch: int
    earlier: str
    later: str
    amount: float
    certain: bool = False

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class MonotonicityCheck:
    """Theorem 5 on a run: consecutive-layer pairs of ``I(T;X)``, classified.

    Attributes:
        pairs: Pairs compared (epochs x consecutive layers, both estimates finite).
        violations: Increases by more than ``tolerance`` between unsaturated layers.
        saturated: ``(epoch, earlier, later)`` pairs with both layers at the ceiling: not read.
        max_increase: The largest increase among the non-saturated pairs (nats; 0 if none).
        tolerance: The tolerance used.
    """

    pairs: int
    violations: tuple
    saturated: tuple
    max_increase: float
    tolerance: float

    @property
    def count(self):
        return len(self.violations)

    @property
    def certain(self):
        return sum(v.certain for v in self.violations)

    def to_dict(self):
        return {"pairs": self.pairs, "count": self.count, "certain": self.certain,
                "saturated": len(self.saturated), "max": self.max_increase,
                "tolerance": self.tolerance,
                "violations": [v.to_dict() for v in self.violations]}  # fmt: skip


def check_monotonicity(trajectory, tolerance=TOLERANCE):
    """Theorem 5 on a ``LayerInformation.trajectory`` (or any mapping with ``"epochs"``,
    ``"layers"``, ``"I_TX"`` (E, L) and optionally ``"I_TX_lower"``, ``"I_TX_upper"``,
    ``"saturated"`` (E, L)).

    A pair of consecutive layers is *saturated* when both estimates are at the ceiling (not a
    violation: nothing can be read there); otherwise it is a violation when the later layer's
    ``I(T;X)`` exceeds the earlier one's by more than ``tolerance``, *certain* when the bounds
    (where the estimator gives them) exclude equality.

    Returns:
        A :class:`MonotonicityCheck`.
    """
    tolerance = check_float("tolerance", tolerance, 0)
    values = np.asarray(trajectory["I_TX"], dtype=float)
    epochs = list(trajectory["epochs"])
    layers = list(trajectory["layers"])
    shape = values.shape
    lower = np.asarray(trajectory.get("I_TX_lower", np.full(shape, np.nan)), dtype=float)
    upper = np.asarray(trajectory.get("I_TX_upper", np.full(shape, np.nan)), dtype=float)
    sat = np.asarray(trajectory.get("saturated", np.zeros(shape, bool)), dtype=bool)
    violations, saturated, pairs, largest = [], [], 0, 0.0
    for e, epoch in enumerate(epochs):
        for i in range(len(layers) - 1):
            a, b = values[e, i], values[e, i + 1]
            if not (math.isfinite(a) and math.isfinite(b)):
                continue
            pairs += 1
            if sat[e, i] and sat[e, i + 1]:
                saturated.append((int(epoch), layers[i], layers[i + 1]))
                continue
            largest = max(largest, b - a)
            if b - a > tolerance:
                certain = bool(np.nan_to_num(lower[e, i + 1] - upper[e, i], nan=-1) > tolerance)
                violations.append(MonotonicityViolation(int(epoch), layers[i], layers[i + 1],
                                                        float(b - a), certain))  # fmt: skip
    return MonotonicityCheck(pairs, tuple(violations), tuple(saturated), float(largest),
                             tolerance)  # fmt: skip
