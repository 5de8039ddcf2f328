"""Boundary-aware inference on radial exponential-family couplings: likelihood-ratio tests and
profile-likelihood intervals that stay valid when a coupling sits at the domain bound 0.

Fisher standard errors (``fit_couplings(...).stderr``) assume an interior maximum; at the bound
``θ_r = 0`` of the domain ``θ_r >= 0`` they do not apply. The likelihood ratio does: under
``H0: θ = θ0`` the statistic ``2 n (ℓ̄(θ̂) − ℓ̄(θ0))`` is asymptotically a chi-bar-squared
mixture, bounded above by ``χ²_R`` (Self & Liang, "Asymptotic properties of maximum likelihood
estimators and likelihood ratio tests under nonstandard conditions", JASA 82, 1987), so the
``χ²_R`` p-value is conservative. The profile interval of one coupling is the set of values whose
profile log-likelihood is within ``χ²_1(level) / 2`` of the maximum, cut at the domain bound.
See ``docs/exponential_family.md``.
"""

import dataclasses
import math

import numpy as np
from scipy import optimize, stats

from keras_rg.arguments import check_choice, check_float, check_int, invalid_value
from keras_rg.systems.coupling_fit import fit_couplings
from keras_rg.systems.exponential_family import log_radial_integral

__all__ = ["CouplingTest", "coupling_test", "laplace_couplings", "profile_interval"]


def _radii(features):
    f = np.asarray(features, dtype=np.float64)
    f = f.reshape(len(f), -1)
    return np.sum(f * f, axis=1), f.shape[1]


def _mean_loglik(theta_s, m, a):
    """ℓ̄ up to θ-independent constants, in units where mean ρ = 1."""
    nz = np.flatnonzero(theta_s)
    if nz.size == 0 or theta_s[nz[-1]] <= 0:
        return -math.inf
    try:
        return float(-theta_s @ m - log_radial_integral(theta_s, a))
    except (ValueError, OverflowError, FloatingPointError):
        return -math.inf


class _Likelihood:
    def __init__(self, features, order, domain):
        rho, dim = _radii(features)
        self.n, self.a, self.order = len(rho), 0.5 * dim, order
        self.scale = float(np.mean(rho))
        if not self.scale > 0:
            raise invalid_value("features", "outputs that are not all zero", "all zero")
        rs = rho / self.scale
        self.m = np.array([np.mean(rs**r) for r in range(1, order + 1)])
        self.factor = self.scale ** np.arange(1, order + 1, dtype=np.float64)  # θ_s = θ · c^r
        self.domain = domain

    def __call__(self, theta):
        return _mean_loglik(np.asarray(theta, float) * self.factor, self.m, self.a)

    def profile(self, index, value, start):
        """max over the other couplings with θ_index = value (in the domain)."""
        free = [i for i in range(self.order) if i != index]
        if not free:
            return self(np.array([value]))
        lo = 0.0 if self.domain == "positive" else None
        bounds = [(lo if i != self.order - 1 else 0.0, None) for i in free]

        def neg(v):
            th = np.empty(self.order)
            th[index] = value
            th[free] = v / self.factor[free]
            out = self(th)
            return 1e300 if not math.isfinite(out) else -out

        x0 = np.maximum(np.asarray(start, float)[free] * self.factor[free], 1e-6)
        res = optimize.minimize(neg, x0, method="L-BFGS-B", bounds=bounds)
        return -float(res.fun)


@dataclasses.dataclass(frozen=True)
class CouplingTest:
    """A likelihood-ratio test of ``θ = θ0`` for feature outputs, valid at the domain bound.

    Attributes:
        theta_hat: the maximum-likelihood couplings (``fit_couplings``).
        at_bound: which couplings sit at the bound 0.
        theta0: the hypothesised couplings.
        statistic: ``2 n (ℓ̄(θ̂) − ℓ̄(θ0))`` (inf when θ0 is not normalisable).
        p_value: its conservative ``χ²_R`` p-value.
        intervals: per coupling, the ``level`` profile-likelihood interval ``(low, high)``.
        level: the intervals' confidence level.
        n: samples.
    """

    theta_hat: np.ndarray
    at_bound: np.ndarray
    theta0: np.ndarray
    statistic: float
    p_value: float
    intervals: tuple
    level: float
    n: int

    def covers(self, theta):
        """Whether each coupling of ``theta`` lies in its profile interval."""
        return np.array([lo <= t <= hi for t, (lo, hi) in zip(theta, self.intervals, strict=True)])

    def to_dict(self):
        """Plain values for JSON."""
        return {
            "theta_hat": self.theta_hat.tolist(), "at_bound": self.at_bound.tolist(),
            "theta0": self.theta0.tolist(), "statistic": self.statistic,
            "p_value": self.p_value, "intervals": [list(map(float, i)) for i in self.intervals],
            "level": self.level, "n": self.n,
        }  # fmt: skip


def profile_interval(features, index, order=2, level=0.95, domain="positive", fit=None):
    """The profile-likelihood interval of coupling ``index`` (0-based) for feature outputs.

    Args:
        features: ``(n, M)`` outputs (radii ``|F|²``, identity quadratic form).
        index: which coupling (0 .. order - 1).
        order: R. Defaults to 2.
        level: confidence level in (0, 1). Defaults to 0.95.
        domain: ``"positive"`` (every θ_r >= 0: the interval is cut at 0) or ``"natural"``.
        fit: a ``fit_couplings`` result for the same data, to skip refitting. Defaults to None.

    Returns:
        ``(low, high)``; ``low`` is 0 when the bound itself is inside the interval.
    """
    order = check_int("order", order, 1)
    index = check_int("index", index, 0, order - 1)
    level = check_float("level", level, 0.0, 1.0, open_min=True, open_max=True)
    check_choice("domain", domain, ("positive", "natural"))
    fit = fit_couplings(features, order, domain=domain) if fit is None else fit
    lik = _Likelihood(features, order, domain)
    top = lik(fit.theta)
    drop = stats.chi2.ppf(level, 1) / (2.0 * lik.n)
    center = float(fit.theta[index])

    def excess(v):
        return top - lik.profile(index, v, fit.theta) - drop

    floor = 0.0 if (domain == "positive" or index == order - 1) else -math.inf
    se = float(fit.stderr[index])
    step = max(abs(center), se if math.isfinite(se) else 0.0, 1e-3)

    def side(sign):
        if sign < 0 and math.isfinite(floor) and excess(floor) <= 0:
            return floor  # the bound itself is inside the interval
        far = center + sign * step
        for _ in range(60):
            if sign < 0 and far < floor:
                far = floor
            if excess(far) > 0:
                lo, hi = sorted((center, far))
                return float(optimize.brentq(excess, lo, hi, xtol=1e-12 * step))
            far = center + 2.0 * (far - center)
        return sign * math.inf

    ends = [side(-1.0), side(1.0)]
    return float(max(ends[0], floor)), float(ends[1])


def coupling_test(features, theta0, order=2, level=0.95, domain="positive"):
    """Tests ``θ = θ0`` for feature outputs by the likelihood ratio, with profile intervals.

    Args:
        features: ``(n, M)`` outputs.
        theta0: the hypothesised couplings (R values).
        order: R. Defaults to 2.
        level: the profile intervals' level. Defaults to 0.95.
        domain: the fit's domain. Defaults to ``"positive"``.

    Returns:
        A :class:`CouplingTest`.
    """
    theta0 = np.asarray(theta0, dtype=np.float64).reshape(-1)
    if theta0.size != order:
        raise invalid_value("theta0", f"{order} couplings", theta0.tolist())
    fit = fit_couplings(features, order, domain=domain)
    lik = _Likelihood(features, order, domain)
    at0 = lik(theta0)
    stat = math.inf if not math.isfinite(at0) else max(0.0, 2.0 * lik.n * (lik(fit.theta) - at0))
    intervals = tuple(
        profile_interval(features, i, order, level, domain, fit) for i in range(order)
    )
    return CouplingTest(
        theta_hat=fit.theta, at_bound=np.asarray(fit.at_bound), theta0=theta0, statistic=stat,
        p_value=float(stats.chi2.sf(stat, order)), intervals=intervals, level=level, n=lik.n,
    )  # fmt: skip


def laplace_couplings(mean, variance, dim):
    """Closed-form (Laplace) natural-domain couplings of a narrow radius distribution.

    The maximum-likelihood ``θ̃`` of ``P(F) ∝ exp(−θ_1 ρ − θ_2 ρ²)``, ``ρ = |F|²`` on ``R^M``
    matches the first two moments of ``ρ``. When ``ρ`` is concentrated (variance ``v`` much
    smaller than ``m²``), the radial density ``ρ^(M/2 − 1) e^(−θ_1 ρ − θ_2 ρ²)`` is a Gaussian
    peak at ``m`` of variance ``v``, which gives

        θ_2 = (1/v − (M/2 − 1)/m²) / 2,    θ_1 = (M − 2)/m − m/v.

    So θ̃(W*) is set by the mean and variance of the teacher's ``|F(x; W*)|²``, not by the data's
    θ, and ``θ_1 < 0`` (outside the family; held at the bound 0 in the positive domain) exactly
    when ``m²/v > M − 2``: for bounded (sigmoid) features whose ``|F|²`` varies little.

    Returns:
        ``np.array([θ_1, θ_2])``.
    """
    m, v, a = float(mean), float(variance), 0.5 * float(dim)
    if not (m > 0 and v > 0):
        raise invalid_value("variance", "mean > 0 and variance > 0", (mean, variance))
    return np.array([(2.0 * a - 2.0) / m - m / v, 0.5 * (1.0 / v - (a - 1.0) / m**2)])
