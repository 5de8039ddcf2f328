"""Fixed points of the RG flow (Liaw, Definition 2): what the RG step will do, before training.

The report is explained in docs/rg_flow.md; the maths in docs/mathematics.md."""

import dataclasses
import math

import numpy as np
from keras import ops

from keras_rg.arguments import check_positive
from keras_rg.flow import direction_sign, resolve_targets

__all__ = ["FixedPointEntry", "FixedPointReport", "fixed_point_report"]


@dataclasses.dataclass(frozen=True)
class FixedPointEntry:
    """One variable's fixed-point status.

    Attributes:
        layer: the layer's name.
        variable: the variable's path.
        role: ``"kernel"``, ``"bias"`` or the variable's name (user beta).
        alpha: the α behind a default beta (None for a user beta).
        coefficient: c for a linear beta ``β(θ) = cθ`` (None for a nonlinear user beta).
        beta_norm: ``‖β(θ)‖`` now (0 at a fixed point).
        at_fixed_point: ``‖β(θ)‖ <= atol`` (Definition 2: ``β(θ*) = 0``).
        marginal: ``c = 0``: β vanishes identically, the variable does not flow (W with α = 1
            under the paper's β; W with α = Δ under β_Δ).
        factor: the step's factor. For a linear β, ``f = 1 − sεc`` exactly, so that with zero
            gradient ``θ_t = f^t θ_0``. For a nonlinear β, the one-step norm ratio
            ``‖θ − sεβ(θ)‖ / ‖θ‖`` at the current θ (nan when θ = 0).
        stability: ``"marginal"`` (|f| = 1), ``"contracting"`` (|f| < 1: θ shrinks towards the
            fixed point θ* = 0) or ``"expanding"`` (|f| > 1: away from it).
    """

    layer: str
    variable: str
    role: str
    alpha: float | None
    coefficient: float | None
    beta_norm: float
    at_fixed_point: bool
    marginal: bool
    factor: float
    stability: str


@dataclasses.dataclass(frozen=True)
class FixedPointReport:
    """The per-variable report of :func:`fixed_point_report`; ``str(report)`` is a table.

    Attributes:
        entries: a tuple of :class:`FixedPointEntry`.
        epsilon: the ε the factors were computed for.
        direction: the step's direction.
    """

    entries: tuple
    epsilon: float
    direction: str

    @property
    def total_beta_norm(self):
        """``‖β(θ)‖`` over every variable."""
        return math.sqrt(sum(e.beta_norm**2 for e in self.entries))

    def select(self, stability=None, at_fixed_point=None, marginal=None):
        """The variable paths whose entries match every given field."""
        return [
            e.variable
            for e in self.entries
            if (stability is None or e.stability == stability)
            and (at_fixed_point is None or e.at_fixed_point == at_fixed_point)
            and (marginal is None or e.marginal == marginal)
        ]

    def __str__(self):
        header = ("variable", "alpha", "c", "||beta||", "fixed pt", "factor", "stability")
        rows = [
            (
                e.variable,
                "-" if e.alpha is None else f"{e.alpha:g}",
                "-" if e.coefficient is None else f"{e.coefficient:+.4g}",
                f"{e.beta_norm:.4g}",
                "yes" if e.at_fixed_point else "no",
                f"{e.factor:.6g}",
                e.stability,
            )
            for e in self.entries
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            f"RG step θ ← θ {'-' if self.direction == 'paper' else '+'} εβ(θ), ε = {self.epsilon:g}"
        ]
        for r in [header, *rows]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        lines.append(f"total ||beta|| = {self.total_beta_norm:.6g}")
        return "\n".join(lines)


def _stability(factor):
    if not math.isfinite(factor) or abs(factor) == 1.0:
        return "marginal" if math.isfinite(factor) else "unknown"
    return "contracting" if abs(factor) < 1.0 else "expanding"


def fixed_point_report(model, epsilon=1e-3, direction="paper", *, atol=0.0, **selection):
    """Which variables sit at a fixed point, which are marginal, and whether the RG step
    contracts or expands each (Liaw, Definition 2).

    Takes the same selection as :class:`~keras_rg.callbacks.rg_flow.RGFlow` and
    :meth:`~keras_rg.rg_optimizer.RGOptimizer.for_model` (``beta``, ``delta``, ``alpha``,
    ``betas``, ``layer_types``, ``layer_names``, ``predicate``), so it shows what that flow will
    do. With the paper's β and sign, ``f_W = 1 − ε(α − 1)`` (contracting for α > 1, marginal for
    α = 1, expanding for α < 1) and ``f_b = 1 + εα`` (always expanding): a zero bias is a fixed
    point, but an unstable one.

    Args:
        model: a Keras model, a layer, or a list of layers.
        epsilon: ε, a finite float >= 0. Defaults to 1e-3.
        direction: ``"paper"`` or ``"reverse"``. Defaults to ``"paper"``.
        atol: ``‖β(θ)‖ <= atol`` counts as a fixed point, a float >= 0. Defaults to 0.0 (exact).
        **selection: keyword arguments of :func:`~keras_rg.flow.resolve_targets`.

    Returns:
        A :class:`FixedPointReport`.

    Example:
        >>> model = keras.Sequential([keras.Input((3,)), ScaleCovariantDense(2, alpha=1.0)])
        >>> report = fixed_point_report(model, epsilon=0.1)
        >>> [(e.role, e.marginal, e.at_fixed_point, e.stability) for e in report.entries]
        [('kernel', True, False, 'marginal'), ('bias', False, True, 'expanding')]

    Reference: S. Liaw, "A Renormalization Group Framework for Scale-Invariant Feature Learning
    in Deep Neural Networks", Definition 2 and Theorem 2.
    """
    sign = direction_sign(direction)
    epsilon = check_positive("epsilon", epsilon, allow_zero=True)
    atol = check_positive("atol", atol, allow_zero=True)
    entries = []
    for t in resolve_targets(model, **selection):
        theta = t.variable.numpy().astype(np.float64)
        beta = np.asarray(ops.convert_to_numpy(t.beta(ops.convert_to_tensor(t.variable))))
        beta = beta.astype(np.float64)
        norm = float(np.sqrt(np.sum(beta**2)))
        c = t.coefficient
        if c is not None:
            factor = 1.0 - sign * epsilon * c
        else:
            theta_norm = float(np.sqrt(np.sum(theta**2)))
            stepped = float(np.sqrt(np.sum((theta - sign * epsilon * beta) ** 2)))
            factor = stepped / theta_norm if theta_norm > 0 else math.nan
        entries.append(
            FixedPointEntry(
                layer=t.layer,
                variable=t.variable.path,
                role=t.role,
                alpha=t.alpha,
                coefficient=c,
                beta_norm=norm,
                at_fixed_point=norm <= atol,
                marginal=c == 0.0,
                factor=factor,
                stability=_stability(factor),
            )
        )
    return FixedPointReport(tuple(entries), epsilon, direction)
