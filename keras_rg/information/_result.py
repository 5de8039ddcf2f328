"""The result type shared by every mutual-information estimator."""

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["InformationEstimate", "SATURATION_FRACTION"]

# An estimate within 5% of the ceiling log n says more about the sample size than the layer.
SATURATION_FRACTION = 0.95


@dataclasses.dataclass(frozen=True)
class InformationEstimate:
    """A mutual-information estimate in nats, with what it was measured with.

    Every estimator measures a quantity set by its own resolution (noise variance, bin width,
    neighbour count), and no estimate from ``n`` samples of a deterministic layer can exceed
    ``log n`` by much: ``ceiling`` is that ``log n`` and ``saturated`` says the estimate is within
    5% of it, i.e. it measures the sample size rather than the layer.

    Attributes:
        value: The estimate in nats.
        estimator: The estimator's name, e.g. ``"kde"``, ``"binning"``, ``"ksg"``, ``"ross"``,
            ``"gaussian"``.
        n: The number of samples used.
        hyperparameters: The estimator's settings (noise variance, bins, k, ...).
        lower: A lower bound in nats where the estimator gives one (KDE), else ``None``.
        upper: An upper bound in nats where the estimator gives one (KDE), else ``None``.
        ceiling: ``log n``, the largest value a sample of ``n`` distinct points supports.
        saturated: ``value >= 0.95 * ceiling``.

    Example:

    >>> est = InformationEstimate(value=6.9, estimator="kde", n=1000, hyperparameters={})
    >>> round(est.ceiling, 4), est.saturated, round(est.bits, 3)
    (6.9078, True, 9.955)
    """

    value: float
    estimator: str
    n: int
    hyperparameters: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    lower: float | None = None
    upper: float | None = None
    ceiling: float = dataclasses.field(init=False)
    saturated: bool = dataclasses.field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "hyperparameters", dict(self.hyperparameters))
        for name in ("lower", "upper"):
            bound = getattr(self, name)
            if bound is not None:
                object.__setattr__(self, name, float(bound))
        ceiling = math.log(self.n) if self.n > 0 else 0.0
        object.__setattr__(self, "ceiling", ceiling)
        saturated = bool(self.value >= SATURATION_FRACTION * ceiling) if ceiling > 0 else False
        object.__setattr__(self, "saturated", saturated)

    @property
    def bits(self):
        """The estimate in bits (``value / log 2``)."""
        return self.value / math.log(2.0)

    def __float__(self):
        return self.value

    def to_dict(self):
        """Returns the fields as a plain, JSON-friendly ``dict``."""
        return dataclasses.asdict(self)
