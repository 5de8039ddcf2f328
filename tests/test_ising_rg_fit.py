"""The K_c / y_t pipeline of a coarse-graining map: closed-form flows, and the majority rule
against the exact K_c and y_t = 1."""

import math

import numpy as np
import pytest

from keras_rg.systems.ising import (
    CRITICAL_COUPLING,
    CouplingFlow,
    coupling_flow,
    majority_rule,
    sample_coupling_window,
    thermal_fixed_point,
)


def _flow(k, levels, err):
    values = np.stack(levels, axis=1)
    return CouplingFlow(couplings=k, values=values, errors=np.full(values.shape, err),
                        terms=("nn",), effective=("nn",), b=2, by_term={})  # fmt: skip


def test_fixed_point_of_a_known_linear_flow():
    # c_1 = K (level 0 -> 1: K' = K* + 2 (K - K*)): K_c = K* = 0.3, slope 2 -> y_t = 1
    k = np.linspace(0.25, 0.35, 5)
    fp = thermal_fixed_point(_flow(k, [k, 0.3 + 2 * (k - 0.3)], 1e-4), degree=1)
    assert fp.found and fp.critical_coupling == pytest.approx(0.3, abs=1e-9)
    assert fp.y_t == pytest.approx(1.0, abs=1e-9) and fp.y_t_error < 0.01
    # noisy values at a known standard error: the estimate is within 3 of its error bars
    rng = np.random.default_rng(0)
    noisy = 0.3 + 2**0.75 * (k - 0.3) + rng.normal(0, 2e-3, k.size)
    fp = thermal_fixed_point(_flow(k, [k, noisy], 2e-3), degree=1)
    assert abs(fp.critical_coupling - 0.3) < 3 * fp.critical_coupling_error
    assert abs(fp.y_t - 0.75) < 3 * fp.y_t_error
    # a flow with no fixed point in the window says so
    with pytest.warns(UserWarning, match="no unstable fixed point"):
        none = thermal_fixed_point(_flow(k, [k, k + 0.1], 1e-3), degree=1)
    assert not none.found and math.isnan(none.y_t)


def test_majority_rule_flow_locates_the_critical_point():
    # b = 2 majority rule, 32 x 32 lattices, K_c +/- 0.04. The flow after one step (level 1 ->
    # 2, couplings nn + nnn) stops at the exact K_c and has y_t = 1 (nu = 1) within 3 s.e.;
    # the one-step flow from the nearest-neighbour axis (K -> K') is shifted above K_c by the
    # one-coupling truncation (measured +3.5..4%, several s.e.).
    k = CRITICAL_COUPLING + 0.02 * np.arange(-2, 3)
    samples = sample_coupling_window(k, size=32, n_chains=8, n_samples=100, seed=0)
    flow = coupling_flow(samples, majority_rule(), n_steps=2, terms=("nn", "nnn"))
    assert flow.values.shape == (5, 3) and flow.b == 2
    np.testing.assert_allclose(flow.values[:, 0], k, atol=0.02)  # level 0 recovers K
    fp = thermal_fixed_point(flow, level=2, degree=2)
    assert abs(fp.critical_coupling - CRITICAL_COUPLING) < 3 * fp.critical_coupling_error
    assert abs(fp.y_t - 1.0) < 3 * fp.y_t_error
    assert fp.critical_coupling_error < 0.01 and fp.y_t_error < 0.3
    # jackknife over chains keeps the correlation of the two levels: smaller, finite errors
    jack = thermal_fixed_point(
        coupling_flow(samples, majority_rule(), 2, ("nn", "nnn"), jackknife_from_level=1), 2, 2
    )
    assert jack.critical_coupling == pytest.approx(fp.critical_coupling, abs=1e-12)
    assert 0 < jack.y_t_error < fp.y_t_error and 0 < jack.critical_coupling_error
    assert abs(jack.critical_coupling - CRITICAL_COUPLING) < 4 * jack.critical_coupling_error
    one_step = thermal_fixed_point(flow, level=1, degree=2)
    assert one_step.critical_coupling > CRITICAL_COUPLING + 2 * one_step.critical_coupling_error
    with pytest.raises(ValueError, match=r"`effective`"):
        coupling_flow(samples, majority_rule(), terms=("nn",), effective=("nnn",))
    with pytest.raises(ValueError, match=r"`coarse_grain`"):
        coupling_flow(samples, lambda s: s[:, 0], n_steps=1)
