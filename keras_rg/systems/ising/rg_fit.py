"""The critical point and thermal eigenvalue of a real-space RG map, measured from samples.

Any coarse-graining map (the majority rule, a learned RSMI layer, ...) is applied ``n_steps``
times to 2-D Ising samples drawn at couplings ``K`` near ``K_c``; at every level the couplings of
the coarse-grained samples are fitted by pseudo-likelihood (:func:`estimate_coupling`) and
projected on one effective nearest-neighbour coupling ``c_level(K)`` (``"nn"``, or ``"nn"`` +
``"nnn"`` with ``effective=("nn", "nnn")``). The RG flow of that coupling along the trajectory
is the map ``c_(n-1) -> c_n``:

- its unstable fixed point is where the flow stops, ``c_n(K) = c_(n-1)(K)``: the data coupling
  ``K`` there is the map's estimate of ``K_c`` and ``K* = c_(n-1)`` there the fixed point's
  coupling;
- its slope there is ``b^(y_t)``: ``y_t = log(c_n'(K) / c_(n-1)'(K)) / log b`` (exact: 1).

With ``n_steps = 1`` this is the textbook "K' = K" fixed point of the one-step map from the
nearest-neighbour axis; the axis is not the fixed point's Hamiltonian (the map generates
further couplings), and the one-coupling truncation shifts that fixed point. With ``n_steps = 2``
the flow is measured after one step, nearer the fixed point's Hamiltonian. Errors: weighted
least-squares fits of ``c_level(K)`` (polynomials of degree ``degree``) with the pseudo-likelihood
sandwich errors, propagated by drawing the fits' coefficients (Monte Carlo). See
``docs/rsmi.md`` and ``docs/ising.md``.
"""

import dataclasses
import math
import warnings

import numpy as np

from keras_rg.arguments import check_int, invalid_value
from keras_rg.systems.ising.block_spin import block_spin
from keras_rg.systems.ising.coupling import estimate_coupling
from keras_rg.systems.ising.sampling import sample_lattice

__all__ = [
    "CouplingFlow",
    "ThermalFixedPoint",
    "coupling_flow",
    "majority_rule",
    "sample_coupling_window",
    "thermal_fixed_point",
]


def majority_rule(b=2, tie_break="random", seed=0):
    """The majority rule as a coarse-graining callable ``spins -> block spins`` (see
    :func:`block_spin`)."""

    def apply(spins):
        return block_spin(spins, b, tie_break, seed)

    return apply


def sample_coupling_window(couplings, size=64, n_chains=8, n_samples=100, burn_in=50, thin=2,
                           seed=0):  # fmt: skip
    """Swendsen-Wang samples of the periodic 2-D Ising model at each coupling.

    Returns:
        A list of ``(K, spins, groups)``: ``spins`` ``(n_samples * n_chains, L, L)`` int8,
        ``groups`` the chain of each configuration (for the error bars).
    """
    out = []
    for i, k in enumerate(couplings):
        run = sample_lattice(size, float(k), n_samples, n_chains=n_chains, burn_in=burn_in,
                             thin=thin, method="swendsen_wang", seed=seed + i)  # fmt: skip
        out.append((float(k), run.configurations(), np.tile(np.arange(n_chains), n_samples)))
    return out


@dataclasses.dataclass(frozen=True)
class CouplingFlow:
    """Effective couplings of a coarse-graining map's levels at each data coupling.

    Attributes:
        couplings: the data couplings ``K``, shape ``(m,)``.
        values: ``c_level(K)``, shape ``(m, n_steps + 1)`` (level 0: the data themselves).
        errors: standard errors, same shape.
        terms: the couplings fitted at each level.
        effective: the terms summed into the effective coupling.
        b: the map's linear scale factor.
        by_term: term -> ``(m, n_steps + 1)`` array of fitted couplings.
        replicates: delete-one-group jackknife values of ``values``, ``(G, m, n_steps + 1)``
            (NaN at levels not resampled), or None.
    """

    couplings: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    terms: tuple
    effective: tuple
    b: int
    by_term: dict
    replicates: np.ndarray | None = None

    def to_dict(self):
        """The numbers as lists."""
        return {
            "couplings": self.couplings.tolist(), "values": self.values.tolist(),
            "errors": self.errors.tolist(), "terms": list(self.terms),
            "effective": list(self.effective), "b": self.b,
            "by_term": {t: v.tolist() for t, v in self.by_term.items()},
            "replicates": None if self.replicates is None else self.replicates.tolist(),
        }  # fmt: skip


def coupling_flow(samples, coarse_grain, n_steps=2, terms=("nn",), effective=None,
                  jackknife_from_level=None):  # fmt: skip
    """Applies ``coarse_grain`` ``n_steps`` times to each sample set and fits the couplings.

    Args:
        samples: a list of ``(K, spins, groups)`` (e.g. from :func:`sample_coupling_window`).
        coarse_grain: a callable ``(n, L, L) ±1 -> (n, L / b, L / b) ±1``.
        n_steps: coarse-graining steps (>= 1). Defaults to 2.
        terms: couplings fitted at each level (see :func:`estimate_coupling`). Defaults to
            ``("nn",)``.
        effective: terms summed into the effective nearest-neighbour coupling. Defaults to
            ``terms`` restricted to ``"nn"`` and ``"nnn"``. The error of a sum adds the terms'
            errors in quadrature, ignoring their (negative) correlation: conservative.
        jackknife_from_level: also refit every level from this one on with each group left out
            in turn (the same group label dropped at every K; samples at different K are
            independent), for :func:`thermal_fixed_point`'s jackknife errors, which keep the
            correlation between levels of the same samples. None: no resampling. Defaults to
            None.

    Returns:
        A :class:`CouplingFlow`.
    """
    n_steps = check_int("n_steps", n_steps, 1)
    terms = tuple(terms)
    effective = (
        tuple(t for t in terms if t in ("nn", "nnn")) if effective is None else tuple(effective)
    )
    if not effective or any(t not in terms for t in effective):
        raise invalid_value("effective", f"a non-empty subset of terms={terms}", effective)
    if len(samples) < 2:
        raise invalid_value("samples", "at least two (K, spins, groups) sets", len(samples))
    if jackknife_from_level is not None:
        jackknife_from_level = check_int("jackknife_from_level", jackknife_from_level, 0, n_steps)
        labels = [np.unique(np.asarray(g)) for _, _, g in samples]
        if any(len(lab) != len(labels[0]) or np.any(lab != labels[0]) for lab in labels) or (
            len(labels[0]) < 3
        ):
            raise invalid_value(
                "samples", "the same >= 3 group labels at every coupling (for the jackknife)",
                [lab.tolist() for lab in labels],
            )  # fmt: skip
        reps = np.full((len(labels[0]), len(samples), n_steps + 1), np.nan)
    ks, vals, errs = [], [], []
    by_term = {t: [] for t in terms}
    b = None
    for i_k, (k, spins, groups) in enumerate(samples):
        s = np.asarray(spins)
        row_v, row_e, row_t = [], [], {t: [] for t in terms}
        for level in range(n_steps + 1):
            if level:
                coarse = np.asarray(coarse_grain(s))
                if coarse.ndim != 3 or coarse.shape[0] != s.shape[0]:
                    raise invalid_value("coarse_grain", "a map (n, L, L) -> (n, L/b, L/b)",
                                        f"output of shape {coarse.shape}")  # fmt: skip
                b = s.shape[-1] // coarse.shape[-1]
                s = np.where(coarse >= 0, 1, -1).astype(np.int8)
            est = estimate_coupling(s, "square", terms, groups=groups)
            row_v.append(sum(est.couplings[t] for t in effective))
            row_e.append(math.sqrt(sum(est.errors[t] ** 2 for t in effective)))
            for t in terms:
                row_t[t].append(est.couplings[t])
            if jackknife_from_level is not None and level >= jackknife_from_level:
                g = np.asarray(groups).reshape(-1)
                for i_g, label in enumerate(labels[0]):
                    keep = g != label
                    rep = estimate_coupling(s[keep], "square", terms, groups=g[keep])
                    reps[i_g, i_k, level] = sum(rep.couplings[t] for t in effective)
        ks.append(float(k))
        vals.append(row_v)
        errs.append(row_e)
        for t in terms:
            by_term[t].append(row_t[t])
    return CouplingFlow(
        couplings=np.asarray(ks), values=np.asarray(vals), errors=np.asarray(errs),
        terms=terms, effective=effective, b=int(b),
        by_term={t: np.asarray(v) for t, v in by_term.items()},
        replicates=None if jackknife_from_level is None else reps,
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ThermalFixedPoint:
    """The unstable fixed point of a measured coupling flow ``c_(n-1) -> c_n``.

    Attributes:
        critical_coupling: the data ``K`` whose flow stops (``c_n = c_(n-1)``): the estimate of
            ``K_c``; ``critical_coupling_error`` its standard error.
        fixed_point: ``K* = c_(n-1)`` there; ``fixed_point_error`` its standard error.
        y_t: the thermal eigenvalue ``log(slope) / log b``; ``y_t_error`` its standard error.
        slope: ``dc_n / dc_(n-1)`` at the fixed point.
        level: n, the step whose flow was measured.
        found: False when no fixed point lies within the sampled couplings (the numbers are
            then NaN).
    """

    critical_coupling: float
    critical_coupling_error: float
    fixed_point: float
    fixed_point_error: float
    y_t: float
    y_t_error: float
    slope: float
    level: int
    found: bool

    def to_dict(self):
        """The fields as a plain dict."""
        return dataclasses.asdict(self)


def _wls(k, v, e, degree):
    x = np.vander(k - k.mean(), degree + 1)
    w = 1.0 / np.maximum(e, 1e-12) ** 2
    a = x.T @ (x * w[:, None])
    coef = np.linalg.solve(a, x.T @ (w * v))
    cov = np.linalg.inv(a)
    dof = len(k) - degree - 1
    if dof > 0:
        chi2 = float(np.sum(w * (v - x @ coef) ** 2))
        cov = cov * max(1.0, chi2 / dof)
    return coef, cov


def _solve(k0, lo, hi, cx, cy):
    # root of y(K) - x(K) in [lo, hi] (shifted variable), and the slope y'/x' there
    diff = np.polysub(cy, cx)
    roots = np.roots(diff) if np.any(diff[:-1]) else np.array([])
    roots = roots[np.isreal(roots)].real
    roots = roots[(roots >= lo - k0) & (roots <= hi - k0)]
    if not roots.size:
        return math.nan, math.nan, math.nan
    r = roots[np.argmin(np.abs(roots))]
    dx = np.polyval(np.polyder(cx), r) if len(cx) > 1 else 0.0
    dy = np.polyval(np.polyder(cy), r) if len(cy) > 1 else 0.0
    return r + k0, float(np.polyval(cx, r)), dy / dx if dx else math.nan


def thermal_fixed_point(flow, level=None, degree=1, n_draws=4000, seed=0):
    """The unstable fixed point and ``y_t`` of the flow ``c_(level-1) -> c_level``.

    Args:
        flow: a :class:`CouplingFlow`.
        level: the step n (1 .. n_steps). Defaults to the last.
        degree: polynomial degree of the fits of ``c(K)`` (needs > degree + 1 couplings).
            Defaults to 1.
        n_draws: Monte Carlo draws for the errors. Defaults to 4000.
        seed: seed of the draws. Defaults to 0.

    Errors: with jackknife replicates for both levels (``coupling_flow(...,
    jackknife_from_level=)``), the delete-one-group jackknife of the whole fit, which keeps the
    correlation between the two levels of the same samples; otherwise Monte Carlo draws of the
    two fits as if independent (conservative: the levels' errors are positively correlated).

    Returns:
        A :class:`ThermalFixedPoint` (``found=False``, NaN numbers and a warning when the flow
        does not cross ``c_n = c_(n-1)`` within the sampled couplings).
    """
    n_levels = flow.values.shape[1]
    level = n_levels - 1 if level is None else check_int("level", level, 1, n_levels - 1)
    degree = check_int("degree", degree, 1, len(flow.couplings) - 2)
    k = flow.couplings
    k0, lo, hi = float(k.mean()), float(k.min()), float(k.max())
    cx, vx = _wls(k, flow.values[:, level - 1], flow.errors[:, level - 1], degree)
    cy, vy = _wls(k, flow.values[:, level], flow.errors[:, level], degree)
    kc, kstar, slope = _solve(k0, lo, hi, cx, cy)
    b = flow.b
    if not math.isfinite(kc) or not slope > 0:
        warnings.warn(
            f"thermal_fixed_point: the flow c_{level - 1} -> c_{level} has no unstable fixed point "
            f"within the sampled couplings [{lo:.4g}, {hi:.4g}]; returning found=False (NaN). "
            "Sample couplings on both sides of the critical point.",
            stacklevel=2,
        )
        nan = math.nan
        return ThermalFixedPoint(nan, nan, nan, nan, nan, nan, nan, level, False)
    reps = flow.replicates
    if reps is not None and np.all(np.isfinite(reps[:, :, [level - 1, level]])):
        fits = [
            (
                _wls(k, r[:, level - 1], flow.errors[:, level - 1], degree)[0],
                _wls(k, r[:, level], flow.errors[:, level], degree)[0],
            )
            for r in reps
        ]
        out = _resampled_solutions(k0, lo, hi, b, fits)
        g = len(out)
        err = (np.sqrt((g - 1) / g * np.sum((out - out.mean(0)) ** 2, axis=0)) if g >= 3
               else np.full(3, math.nan))  # fmt: skip
    else:
        rng = np.random.default_rng(seed)
        fits = zip(rng.multivariate_normal(cx, vx, n_draws),
                   rng.multivariate_normal(cy, vy, n_draws), strict=True)  # fmt: skip
        draws = _resampled_solutions(k0, lo, hi, b, fits)
        err = draws.std(axis=0, ddof=1) if len(draws) > 10 else np.full(3, math.nan)
    return ThermalFixedPoint(
        critical_coupling=float(kc), critical_coupling_error=float(err[0]),
        fixed_point=float(kstar), fixed_point_error=float(err[1]),
        y_t=float(math.log(slope) / math.log(b)), y_t_error=float(err[2]),
        slope=float(slope), level=level, found=True,
    )  # fmt: skip


def _resampled_solutions(k0, lo, hi, b, fits):
    """``(K_c, K*, y_t)`` of each resampled pair of fits ``(cx, cy)`` that has a fixed point with
    a positive slope (searched in the sampled range widened by its width on each side)."""
    out = []
    for cx, cy in fits:
        d = _solve(k0, lo - (hi - lo), hi + (hi - lo), cx, cy)
        if math.isfinite(d[0]) and d[2] > 0:
            out.append((d[0], d[1], math.log(d[2]) / math.log(b)))
    return np.asarray(out)
