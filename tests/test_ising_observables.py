"""Observables and error bars, block spins, and the pseudo-likelihood coupling estimator."""

import numpy as np
import pytest
from scipy import optimize

from keras_rg.systems.ising import (
    block_spin,
    block_spin_flow,
    energy_per_spin,
    estimate_coupling,
    integrated_autocorrelation_time,
    magnetization_per_spin,
    mean_and_error,
    nearest_neighbour_correlation,
    sample_chain,
    sample_lattice,
    summarize,
)


def _ar1(rng, phi, n, chains):
    x = np.empty((n, chains))
    x[0] = rng.normal(size=chains) / np.sqrt(1 - phi**2)  # stationary start
    noise = rng.normal(size=(n, chains))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x


def test_integrated_autocorrelation_time_of_ar1(rng):
    # AR(1) with φ = 0.8: ρ(t) = φ^t, τ = (1 + φ)/(1 − φ) = 9. Sokal's relative error
    # sqrt(2(2W + 1)/N) with W ≈ 5τ and N = 64 · 4000 is 2.7 %: test at 4σ ≈ 11 %.
    x = _ar1(rng, 0.8, 4000, 64)
    tau = integrated_autocorrelation_time(x)
    assert tau == pytest.approx(9.0, rel=0.11)
    # The error of the mean uses τ: the true standard error is sqrt(σ² τ / N), σ² = 1/(1 − φ²).
    est = mean_and_error(x)
    true_se = np.sqrt(9.0 / (1 - 0.64) / x.size)
    assert est.error == pytest.approx(true_se, rel=0.1)
    assert abs(est.value) < 4 * true_se
    # Independent samples: τ ≈ 1; one sample per chain: exactly 1.
    assert integrated_autocorrelation_time(rng.normal(size=(2000, 8))) == pytest.approx(1, abs=0.1)
    assert integrated_autocorrelation_time(np.ones((1, 5))) == 1.0


def test_summarize_error_bars_are_calibrated(rng):
    # Gaussian m (N(0, s²), correlated in time by AR(1), φ = 0.5) has closed-form moments:
    # ⟨m²⟩ = s², ⟨|m|⟩ = s√(2/π), Binder U = 0. Over 200 replicas, the reported errors
    # must match the spread of the estimates (ratio within 20 %: the spread of a standard
    # deviation from 200 replicas is 5 %, jackknife error estimates scatter more).
    n_sites, coupling, s = 100, 0.5, 0.3
    estimates, errors = [], []
    for _ in range(200):
        m = s * np.sqrt(1 - 0.25) * _ar1(rng, 0.5, 400, 4)
        u = rng.normal(-1.0, 0.1, size=m.shape)
        obs = summarize(u, m, n_sites, coupling)
        estimates.append([obs[k].value for k in ("abs_magnetization", "susceptibility", "binder")])
        errors.append([obs[k].error for k in ("abs_magnetization", "susceptibility", "binder")])
    estimates, errors = np.array(estimates), np.array(errors)
    exact = [s * np.sqrt(2 / np.pi), coupling * n_sites * s**2 * (1 - 2 / np.pi), 0.0]
    spread = estimates.std(axis=0, ddof=1)
    np.testing.assert_allclose(errors.mean(axis=0), spread, rtol=0.2)
    # Means agree with the closed forms within 4 standard errors of the replica mean
    # (jackknife bias is O(1/n) = 1e-3 relative, below that).
    assert np.all(np.abs(estimates.mean(axis=0) - exact) < 4 * spread / np.sqrt(200) + 1e-3)


def test_configuration_observables():
    up = np.ones((2, 4, 4), np.int8)
    np.testing.assert_array_equal(energy_per_spin(up), [-2.0, -2.0])
    checker = np.where(np.add.outer(np.arange(4), np.arange(4)) % 2 == 0, 1, -1)[None]
    assert energy_per_spin(checker)[0] == 2.0
    assert magnetization_per_spin(checker)[0] == 0.0
    chain = np.array([[1, 1, -1, -1, 1]])
    assert nearest_neighbour_correlation(chain, "chain", periodic=False)[0] == 0.0
    # Periodic: bonds (1,1), (1,−1), (−1,−1), (−1,1), (1,1) → sum 1, per spin −1/5.
    assert energy_per_spin(chain, "chain", periodic=True)[0] == pytest.approx(-0.2)


def test_block_spin_majority_rule_matches_a_loop(rng):
    s = rng.choice(np.array([-1, 1], np.int8), size=(5, 9, 12))
    out = block_spin(s, 3)
    assert out.shape == (5, 3, 4) and out.dtype == np.int8
    for n in range(5):
        for i in range(3):
            for j in range(4):
                assert out[n, i, j] == np.sign(s[n, 3 * i : 3 * i + 3, 3 * j : 3 * j + 3].sum())
    # b = 2 ties: sum 0 blocks follow the stated rule.
    tie = np.array([[[1, -1], [1, -1]]], np.int8)
    assert block_spin(tie, 2, "plus")[0, 0, 0] == 1
    assert block_spin(tie, 2, "minus")[0, 0, 0] == -1
    assert block_spin(tie, 2, "first")[0, 0, 0] == 1
    assert block_spin(-tie, 2, "first")[0, 0, 0] == -1
    many = np.tile(tie, (4000, 1, 1))
    random = block_spin(many, 2, "random", seed=3)
    np.testing.assert_array_equal(random, block_spin(many, 2, "random", seed=3))
    assert abs(random.mean()) < 4 / np.sqrt(4000)  # fair coin, 4σ
    # "first" and "random" keep the up–down symmetry: B(−s) = −B(s).
    s2 = rng.choice(np.array([-1, 1], np.int8), size=(3, 8, 8))
    np.testing.assert_array_equal(block_spin(-s2, 2, "first"), -block_spin(s2, 2, "first"))


def test_block_spin_flow_runs_away_from_criticality():
    # 32 × 32, 16 chains: the nearest-neighbour projection of the block-spin coupling falls
    # below K for K = 0.3 < K_c and rises above K for K = 0.6 > K_c, step after step. The
    # measured changes (≈ −0.1 and +0.13 per step) are > 20 standard errors.
    for k, start, direction in ((0.3, "hot", -1), (0.6, "cold", 1)):
        run = sample_lattice(32, k, 60, n_chains=16, burn_in=200, thin=3, start=start, seed=21)
        groups = np.tile(np.arange(16), 60)
        flow = block_spin_flow(run.configurations(), 2, 2, groups=groups)
        ks = np.array([e.nn for e in flow])
        errs = np.array([e.nn_error for e in flow])
        steps = direction * np.diff(ks)
        assert np.all(steps > 5 * np.hypot(errs[1:], errs[:-1])), (k, ks, errs)


def _log_pl_direct(theta, feats):
    # Σ_i log σ(2 θ·x_i) over every site, without the counting shortcut.
    z = 2.0 * sum(t * f.astype(float) for t, f in zip(theta, feats, strict=True))
    return -np.sum(np.logaddexp(0.0, -z))


@pytest.mark.parametrize(
    ("geometry", "periodic", "terms"),
    [
        ("square", True, ("nn", "nnn", "plaquette", "field")),
        ("square", False, ("nn", "nnn", "field")),
        ("chain", False, ("nn", "nnn", "field")),
    ],
)
def test_pseudo_likelihood_is_the_maximiser(rng, geometry, periodic, terms):
    from keras_rg.systems.ising.coupling import _features

    shape = (40, 6, 5) if geometry == "square" else (40, 11)
    # Biased i.i.d. spins: the counting shortcut must maximise the same function as a direct
    # sum over every site (here the field is clearly non-zero, the couplings near zero).
    s = np.where(rng.random(shape) < 0.6, 1, -1).astype(np.int8)
    est = estimate_coupling(s, geometry, terms, periodic)
    feats = _features(s, geometry, terms, periodic)
    res = optimize.minimize(
        lambda t: -_log_pl_direct(t, feats),
        np.zeros(len(terms)),
        method="BFGS",
        options={"gtol": 1e-10},
    )
    np.testing.assert_allclose([est.couplings[t] for t in terms], res.x, atol=1e-5)
    assert est.converged


def test_pseudo_likelihood_errors_are_calibrated():
    # 60 independent data sets of 200 exact chains at K = 0.8: the sandwich error must match
    # the spread of the estimates (within 25 %: the spread of a standard deviation from 60
    # replicas is ≈ 9 %).
    ests, errs = [], []
    for seed in range(60):
        e = estimate_coupling(sample_chain(32, 0.8, 200, seed=seed), "chain", periodic=False)
        ests.append(e.nn)
        errs.append(e.nn_error)
    assert np.mean(errs) == pytest.approx(np.std(ests, ddof=1), rel=0.25)
    assert abs(np.mean(ests) - 0.8) < 4 * np.std(ests, ddof=1) / np.sqrt(60)


def test_pseudo_likelihood_edge_cases():
    ordered = np.ones((5, 8, 8), np.int8)  # perfectly ordered: the estimate runs to infinity
    assert not estimate_coupling(ordered, max_iter=20).converged
    single = estimate_coupling(np.where(np.arange(64).reshape(1, 8, 8) % 3, 1, -1))
    assert np.isnan(single.nn_error)  # one configuration: no error bar
    cases = [
        (lambda: estimate_coupling(ordered, "cubic"), "`geometry`"),
        (lambda: estimate_coupling(ordered, terms=("nn", "nn")), "`terms`"),
        (lambda: estimate_coupling(ordered, terms=()), "`terms`"),
        (lambda: estimate_coupling(ordered, groups=[0, 1]), "`groups`"),
        (lambda: estimate_coupling(np.ones(5)), "`spins`"),
        (lambda: block_spin(ordered, 3), "`b`: expected a block size that divides"),
        (lambda: block_spin(ordered, 2, tie_break="coin"), "`tie_break`"),
        (lambda: block_spin_flow(ordered, 2, 4), r"`n_steps`: expected b \*\* n_steps = 16"),
        (lambda: summarize(np.ones(5), np.ones(4), 4, 0.3), "`magnetization`"),
        (lambda: mean_and_error(np.ones((2, 2, 2))), "`series`"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
