"""Closed forms: Onsager, the 1-D chain, decimation and Migdal–Kadanoff recursions, fixed points."""

import itertools

import numpy as np
import pytest

from keras_rg.systems.ising import (
    CRITICAL_COUPLING,
    chain_correlation,
    chain_energy,
    decimation_recursion,
    find_fixed_points,
    flow_diagram,
    iterate_flow,
    migdal_kadanoff_derivative,
    migdal_kadanoff_fixed_point,
    migdal_kadanoff_recursion,
    onsager_energy,
    onsager_magnetization,
    onsager_specific_heat,
)


def test_onsager_values_from_the_issue():
    # The issue quotes u and m rounded to 4–5 significant digits: compare at that rounding.
    assert onsager_energy(0.3) == pytest.approx(-0.7045, abs=5e-5)
    assert onsager_energy(0.6) == pytest.approx(-1.90909, abs=5e-6)
    assert onsager_magnetization(0.6) == pytest.approx(0.97361, abs=5e-6)
    assert CRITICAL_COUPLING == pytest.approx(0.4406867935097715, abs=1e-15)
    # At K_c: u = −√2 and m = 0.
    assert onsager_energy(CRITICAL_COUPLING) == pytest.approx(-np.sqrt(2.0), abs=1e-12)
    assert onsager_magnetization(CRITICAL_COUPLING) == 0.0
    assert onsager_magnetization(0.3) == 0.0


def test_onsager_limits_and_gauge():
    # K → ∞: u → −2, m → 1; K → 0: u ≈ −2 tanh K (high-temperature series, O(K³) correction).
    assert onsager_energy(5.0) == pytest.approx(-2.0, abs=1e-12)
    assert onsager_magnetization(5.0) == pytest.approx(1.0, abs=1e-12)
    assert onsager_energy(1e-3) == pytest.approx(-2e-3, rel=1e-5)
    assert onsager_energy(0.0) == 0.0
    # Sublattice gauge symmetry: u(−K) = −u(K).
    np.testing.assert_allclose(onsager_energy([-0.3, -0.6]), -onsager_energy([0.3, 0.6]))


def test_onsager_specific_heat_is_minus_k2_du_dk():
    # Central difference with h = 1e-5: truncation error ~ h² u''' ≈ 1e-9 relative, rounding
    # ~ eps/h ≈ 1e-11; the tolerance 1e-6 leaves room near K_c where u''' is larger.
    k = np.array([0.1, 0.3, 0.42, 0.46, 0.6, 1.2])
    h = 1e-5
    numeric = -(k**2) * (onsager_energy(k + h) - onsager_energy(k - h)) / (2 * h)
    np.testing.assert_allclose(onsager_specific_heat(k), numeric, rtol=1e-6)
    assert onsager_specific_heat(CRITICAL_COUPLING) == np.inf


@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("k", [0.2, 0.8, -0.5])
def test_chain_closed_forms_match_enumeration(k, periodic):
    n = 8
    conf = np.array(list(itertools.product([-1, 1], repeat=n)))
    bonds = conf[:, :-1] * conf[:, 1:]
    if periodic:
        bonds = np.concatenate([bonds, conf[:, -1:] * conf[:, :1]], axis=1)
    w = np.exp(k * bonds.sum(axis=1))
    w /= w.sum()
    for r in (1, 3):
        exact = w @ (conf[:, 0] * conf[:, r])
        assert chain_correlation(k, r, n, periodic) == pytest.approx(exact, abs=1e-12)
    assert chain_energy(k, n, periodic) == pytest.approx(-(w @ bonds.sum(axis=1)) / n, abs=1e-12)


def test_decimation_recursion_is_atanh_tanh_b():
    k = np.array([1e-9, 0.2, 0.8, 1.5, -0.7])
    for b in (2, 3):
        np.testing.assert_allclose(
            decimation_recursion(k, b), np.arctanh(np.tanh(k) ** b), rtol=1e-13
        )
    np.testing.assert_allclose(
        decimation_recursion(k), 0.5 * np.log1p(2 * np.sinh(k) ** 2), rtol=1e-13
    )


def test_decimation_recursion_is_finite_for_large_coupling():
    # tanh K rounds to 1 for K > 19; the stable form keeps K' = K − ln(2)/2 + O(e^−4K) for b = 2.
    assert decimation_recursion(40.0) == pytest.approx(40.0 - 0.5 * np.log(2.0), abs=1e-12)
    assert np.isfinite(decimation_recursion(1e6))


def test_decimation_flows_to_zero_with_one_stable_fixed_point():
    fps = find_fixed_points(decimation_recursion, np.linspace(0.0, 3.0, 31))
    assert [fp.coupling for fp in fps] == [0.0]
    assert fps[0].stable
    assert np.all(iterate_flow(decimation_recursion, [0.5, 1.5, 3.0], 20)[-1] < 1e-6)


def test_migdal_kadanoff_is_half_log_cosh_4k():
    k = np.linspace(0.01, 2.0, 50)
    np.testing.assert_allclose(
        migdal_kadanoff_recursion(k), 0.5 * np.log(np.cosh(4 * k)), rtol=1e-13
    )
    np.testing.assert_allclose(migdal_kadanoff_derivative(k), 2 * np.tanh(4 * k), rtol=1e-13)


def test_migdal_kadanoff_fixed_point_and_eigenvalue():
    fp = migdal_kadanoff_fixed_point()
    assert fp.coupling == pytest.approx(0.3046889317, abs=1e-8)
    assert fp.eigenvalue == pytest.approx(2 * np.tanh(4 * fp.coupling), abs=1e-8)
    assert fp.eigenvalue == pytest.approx(1.67857, abs=5e-6)  # the issue's 6 digits
    assert not fp.stable
    assert fp.nu == pytest.approx(np.log(2) / np.log(fp.eigenvalue), abs=1e-12)
    # K* is a root of ½ ln cosh 4K − K to machine precision.
    assert abs(0.5 * np.log(np.cosh(4 * fp.coupling)) - fp.coupling) < 1e-15


def test_migdal_kadanoff_flow_runs_away_from_the_critical_point():
    k_star = migdal_kadanoff_fixed_point().coupling
    traj = iterate_flow(migdal_kadanoff_recursion, [0.05, k_star - 1e-3, k_star + 1e-3, 1.0], 40)
    assert np.all(traj[-1, :2] < 1e-8)  # K < K* flows to the stable K* = 0 ...
    assert np.all(traj[-1, 2:] > 1e3)  # ... and K > K* to K* = ∞.
    # Monotone: each step moves away from K*.
    assert np.all(np.diff(traj[:, 1]) <= 0) and np.all(np.diff(traj[:, 2]) >= 0)


def test_flow_diagram_finds_both_finite_fixed_points():
    d = flow_diagram(np.linspace(0.0, 1.0, 41), n_steps=5)
    assert d.trajectories.shape == (6, 41)
    ks = [fp.coupling for fp in d.fixed_points]
    assert ks[0] == 0.0 and d.fixed_points[0].stable
    assert ks[1] == pytest.approx(0.3046889317, abs=1e-8) and not d.fixed_points[1].stable


def test_migdal_kadanoff_other_b_and_dim_are_consistent():
    # Numerical derivative (central difference, h = 1e-6: error ~1e-10) against the closed form.
    for b, dim in ((3, 2), (2, 3)):
        fp = migdal_kadanoff_fixed_point(b, dim)
        h = 1e-6
        numeric = (
            migdal_kadanoff_recursion(fp.coupling + h, b, dim)
            - migdal_kadanoff_recursion(fp.coupling - h, b, dim)
        ) / (2 * h)
        assert fp.eigenvalue == pytest.approx(numeric, abs=1e-7)
        assert migdal_kadanoff_recursion(fp.coupling, b, dim) == pytest.approx(
            fp.coupling, abs=1e-14
        )


def test_bad_input_is_rejected():
    cases = [
        (lambda: onsager_energy(np.inf), "`coupling`: expected finite"),
        (lambda: decimation_recursion(np.nan), "`coupling`: expected finite"),
        (lambda: decimation_recursion(0.5, b=1), "`b`: expected an integer >= 2"),
        (lambda: chain_correlation(float("inf")), "`coupling`: expected a finite"),
        (lambda: find_fixed_points(decimation_recursion, [1.0, 0.5]), "`grid`"),
        (lambda: migdal_kadanoff_recursion(0.3, dim=0), "`dim`: expected an integer >= 1"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
