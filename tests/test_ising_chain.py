"""1-D Ising chain: exact sampling, nearest-neighbour correlation, decimation, pseudo-likelihood."""

import itertools

import numpy as np
import pytest
from scipy import stats

from keras_rg.systems.ising import (
    chain_correlation,
    decimate,
    decimation_recursion,
    estimate_coupling,
    nearest_neighbour_correlation,
    sample_chain,
)

# Exact samples are independent, so plain standard errors apply. 4000 chains of 64 spins:
# 252 000 bonds, standard error of tanh K about 0.002 at K = 0.2.
N_CHAINS, LENGTH = 4000, 64


@pytest.mark.parametrize("k", [0.2, 0.8, 1.5])
def test_sampled_nn_correlation_is_tanh_k(k):
    s = sample_chain(LENGTH, k, N_CHAINS, seed=11)
    corr = nearest_neighbour_correlation(s, "chain", periodic=False)
    # In an open chain the bonds are i.i.d., so the per-chain means are i.i.d. too.
    err = corr.std(ddof=1) / np.sqrt(corr.size)
    assert abs(corr.mean() - np.tanh(k)) < 3 * err


@pytest.mark.parametrize("k", [0.2, 0.8, 1.5])
def test_decimated_samples_have_coupling_atanh_tanh2_k(k):
    s = decimate(sample_chain(LENGTH, k, N_CHAINS, seed=12), 2)
    assert s.shape == (N_CHAINS, LENGTH // 2)
    # The decimated chain is an exact open chain at K' (its bonds are products of two i.i.d.
    # bonds): both the bond mean and the pseudo-likelihood estimate must give K'.
    target = decimation_recursion(k)
    bonds = (s[:, 1:] * s[:, :-1]).mean(axis=1)
    err = bonds.std(ddof=1) / np.sqrt(bonds.size)
    assert abs(bonds.mean() - np.tanh(target)) < 3 * err
    est = estimate_coupling(s, "chain", periodic=False)
    assert est.converged
    assert abs(est.nn - target) < 3 * est.nn_error


@pytest.mark.parametrize("k", [0.2, 0.8, 1.5])
def test_pseudo_likelihood_recovers_k_from_exact_chains(k):
    s = sample_chain(LENGTH, k, 1000, seed=13)
    est = estimate_coupling(s, "chain", periodic=False, terms=("nn", "nnn", "field"))
    # The chain has only a nearest-neighbour coupling: the others must vanish within errors.
    assert abs(est.couplings["nn"] - k) < 3 * est.errors["nn"]
    assert abs(est.couplings["nnn"]) < 3 * est.errors["nnn"]
    assert abs(est.couplings["field"]) < 3 * est.errors["field"]


@pytest.mark.parametrize("k", [0.7, -0.9, 2.0])
def test_periodic_sampler_matches_the_boltzmann_distribution(k):
    n, m = 6, 100_000
    s = sample_chain(n, k, m, periodic=True, seed=14)
    conf = np.array(list(itertools.product([-1, 1], repeat=n)))
    w = np.exp(k * (conf * np.roll(conf, -1, axis=1)).sum(axis=1))
    w /= w.sum()
    counts = np.bincount(((s + 1) // 2) @ (2 ** np.arange(n)[::-1]), minlength=2**n)
    # Chi-square goodness of fit over the 64 states (expected counts >= 5 at these K).
    keep = w * m >= 5
    assert counts[~keep].sum() <= 5 * max(1, (~keep).sum())
    pvalue = stats.chisquare(counts[keep], w[keep] * m * counts[keep].sum() / (w[keep] * m).sum())
    assert pvalue.pvalue > 1e-3
    corr = nearest_neighbour_correlation(s, "chain", periodic=True)
    assert corr.mean() == pytest.approx(chain_correlation(k, 1, n, True), abs=4 * corr.std() / 300)


def test_sampling_is_seeded_and_reproducible():
    a = sample_chain(32, 0.5, 10, seed=3)
    assert a.dtype == np.int8 and set(np.unique(a)) <= {-1, 1}
    np.testing.assert_array_equal(a, sample_chain(32, 0.5, 10, seed=3))
    assert not np.array_equal(a, sample_chain(32, 0.5, 10, seed=4))
    np.testing.assert_array_equal(
        sample_chain(8, 0.5, 5, periodic=True, seed=1), sample_chain(8, 0.5, 5, True, 1)
    )


def test_large_and_negative_couplings():
    s = sample_chain(50, 25.0, 20, seed=0)  # ordered: all bonds satisfied
    assert np.all(s[:, 1:] == s[:, :-1])
    s = sample_chain(50, -25.0, 20, seed=0)  # antiferromagnetic order
    assert np.all(s[:, 1:] == -s[:, :-1])
    # An odd ring at K → −∞ is frustrated: exactly one unsatisfied bond per sample.
    s = sample_chain(7, -25.0, 50, periodic=True, seed=0)
    assert np.all((s * np.roll(s, -1, axis=1) == 1).sum(axis=1) == 1)


def test_bad_input_is_rejected():
    # One test for all cases: the per-test fixture set-up costs more than the checks.
    cases = [
        (lambda: sample_chain(-5, 0.5, 10), "`length`: expected an integer >= 2"),
        (lambda: sample_chain(10, float("nan"), 10), "`coupling`: expected a finite"),
        (lambda: sample_chain(10, np.inf, 10), "`coupling`: expected a finite"),
        (lambda: sample_chain(10, 0.5, 0), "`n_samples`: expected an integer >= 1"),
        (lambda: decimate(np.ones((2, 9)), 2, periodic=True), "`b`: expected a factor"),
        (lambda: estimate_coupling(np.ones((2, 9)), "chain", ("plaquette",)), "`terms`"),
        (lambda: estimate_coupling(np.zeros((2, 9)), "chain"), "`spins`: expected spins"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(TypeError, match="`length`"):
        sample_chain(10.5, 0.5, 10)
    with pytest.raises(TypeError, match="`coupling`"):
        sample_chain(10, "hot", 10)
