"""2-D Ising samplers against Onsager and exact enumeration; cluster vs Metropolis at K_c."""

import itertools

import keras
import numpy as np
import pytest

from keras_rg.systems.ising import (
    CRITICAL_COUPLING,
    CheckerboardSampler,
    SwendsenWangSampler,
    energy_per_spin,
    estimate_coupling,
    magnetization_per_spin,
    onsager_energy,
    onsager_magnetization,
    sample_lattice,
)
from keras_rg.systems.ising.lattice import from_sublattices, to_sublattices

# Finite-size effects on the 64 × 64 torus. Away from K_c the correlation length is
# ξ = 1 / (2|K − K_dual|) with tanh K_dual = e^−2K: ξ ≈ 1.6 at K = 0.3 and ξ ≈ 1.7 at K = 0.6.
# Corrections to u and to ⟨|m|⟩ (cold start, no tunnelling at this size) are O(e^−L/ξ) ≈ e^−37,
# far below the Monte Carlo errors (~3e-4 on u, ~1e-4 on |m|), so the infinite-lattice closed
# forms are the right reference. At K = 0.3 Onsager's m = 0 is not comparable with the finite
# lattice's ⟨|m|⟩ ~ (χ/N)^½ ≠ 0, so only u is tested there, as the issue asks.
L = 64
RUNS = {
    # (K, start): cold start above K_c, so no long-lived domain walls form.
    0.3: "hot",
    0.6: "cold",
}


def _run(method, k, seed):
    if method == "swendsen_wang":
        # 50 ms per sweep of 64 chains: fewer chains and sweeps, errors ~3x larger.
        return sample_lattice(
            L,
            k,
            120,
            n_chains=8,
            burn_in=30,
            method=method,
            start=RUNS[k],
            seed=seed,
            store_spins=False,
        )
    return sample_lattice(
        L,
        k,
        150,
        n_chains=64,
        burn_in=200,
        thin=4,
        method=method,
        start=RUNS[k],
        seed=seed,
        store_spins=(method == "metropolis"),
    )


@pytest.fixture(scope="module")
def runs():
    return {
        (method, k): _run(method, k, seed=100 + i)
        for i, (method, k) in enumerate(
            itertools.product(("metropolis", "heat_bath", "swendsen_wang"), RUNS)
        )
    }


@pytest.mark.parametrize("method", ["metropolis", "heat_bath", "swendsen_wang"])
def test_onsager_energy_and_magnetization_on_64x64(runs, method):
    for k in RUNS:
        obs = runs[(method, k)].observables()
        u = obs["energy"]
        assert abs(u.value - onsager_energy(k)) < 3 * u.error, (k, u, onsager_energy(k))
        if k > CRITICAL_COUPLING:
            m = obs["abs_magnetization"]
            assert abs(m.value - onsager_magnetization(k)) < 3 * m.error, (k, m)
        # Power: the 3σ band must resolve u to better than 1 % (checkerboard runs reach ~0.04 %,
        # Swendsen–Wang with fewer sweeps ~0.2 %), so a wrong sampler cannot hide in wide errors.
        assert 3 * u.error < 1e-2 * abs(onsager_energy(k))


def test_pseudo_likelihood_recovers_k_from_2d_samples(runs):
    for k in RUNS:
        run = runs[("metropolis", k)]
        spins = run.spins[::2]  # every 8th sweep is enough and halves the counting work
        n_samples, n_chains = spins.shape[:2]
        groups = np.tile(np.arange(n_chains), n_samples)  # chains are the independent units
        est = estimate_coupling(spins.reshape(-1, L, L), groups=groups)
        assert est.converged
        assert abs(est.nn - k) < 3 * est.nn_error, (k, est)
        assert est.nn_error < 0.01 * k


def test_recorded_series_match_the_configurations(runs):
    run = runs[("metropolis", 0.3)]
    np.testing.assert_allclose(run.energy, energy_per_spin(run.spins), rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.magnetization, magnetization_per_spin(run.spins), atol=1e-12)
    assert run.spins.shape == (150, 64, L, L) and run.spins.dtype == np.int8


def _exact_4x4(k):
    conf = np.array(list(itertools.product([-1, 1], repeat=16)), dtype=np.int8).reshape(-1, 4, 4)
    u = energy_per_spin(conf)
    m = magnetization_per_spin(conf)
    w = np.exp(-16 * k * u)
    w /= w.sum()
    return w @ u, w @ m**2


@pytest.mark.parametrize("k", [0.35, -0.5])
def test_samplers_match_exact_enumeration_on_4x4(k):
    # 2^16 states: exact ⟨u⟩ and ⟨m²⟩. A wrong neighbour map or acceptance rule shows here
    # at many standard errors; both signs of K exercise every acceptance branch.
    u_exact, m2_exact = _exact_4x4(k)
    for method in ("metropolis", "heat_bath", "swendsen_wang"):
        run = sample_lattice(
            4, k, 400, n_chains=64, burn_in=50, method=method, seed=7, store_spins=False
        )
        obs = run.observables()
        assert abs(obs["energy"].value - u_exact) < 4 * obs["energy"].error, method
        m2 = obs["magnetization_sq"]
        assert abs(m2.value - m2_exact) < 4 * m2.error, method


def test_cluster_autocorrelation_is_much_smaller_than_metropolis_at_kc():
    # L = 32 at K_c: Metropolis's τ_int(|m|) grows like L^z with z ≈ 2.17 (≈70 sweeps here),
    # Swendsen–Wang's like L^0.2–0.3 (≈5). 1500 recorded sweeps per chain are > 20 τ, so
    # Sokal's window estimate is reliable; "much smaller" is tested as a factor > 5.
    metro = sample_lattice(
        32, CRITICAL_COUPLING, 1500, n_chains=32, burn_in=500, seed=5, store_spins=False
    )
    sw = sample_lattice(
        32,
        CRITICAL_COUPLING,
        300,
        n_chains=16,
        burn_in=50,
        method="swendsen_wang",
        seed=5,
        store_spins=False,
    )
    tau_m, tau_sw = metro.tau, sw.tau
    assert tau_m["abs_magnetization"] > 5 * tau_sw["abs_magnetization"], (tau_m, tau_sw)
    assert tau_m["energy"] > 2 * tau_sw["energy"], (tau_m, tau_sw)
    assert 1.0 <= tau_sw["abs_magnetization"] < 300 / 20


def test_sampling_is_seeded_and_chains_do_not_depend_on_the_batch():
    a = CheckerboardSampler(8, 0.4, n_chains=4, seed=3)
    b = CheckerboardSampler(8, 0.4, n_chains=4, seed=3)
    c = CheckerboardSampler(8, 0.4, n_chains=2, seed=3)
    for s in (a, b, c):
        s.sweep(5)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(a.spins[:2], c.spins)  # chain i is the same in any batch
    d = CheckerboardSampler(8, 0.4, n_chains=4, seed=4)
    d.sweep(5)
    assert not np.array_equal(a.spins, d.spins)
    # record() runs the same sweeps as sweep() in a loop.
    e, f = CheckerboardSampler(8, 0.4, 4, seed=9), CheckerboardSampler(8, 0.4, 4, seed=9)
    energy, _, spins = e.record(6, thin=2)
    for i in range(6):
        f.sweep(2)
        np.testing.assert_array_equal(spins[i], f.spins)
        np.testing.assert_array_equal(energy[i], f.energy)
    s1, s2 = SwendsenWangSampler(6, 0.4, 2, seed=1), SwendsenWangSampler(6, 0.4, 2, seed=1)
    s1.sweep(3)
    s2.sweep(3)
    np.testing.assert_array_equal(s1.spins, s2.spins)


def test_sublattice_round_trip():
    s = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(3, 6, 6))
    a, b = to_sublattices(s)
    assert a.shape == (3, 6, 3)
    np.testing.assert_array_equal(from_sublattices(a, b), s)
    # Sublattice A holds the sites with r + c even.
    np.testing.assert_array_equal(a[:, 1, :], s[:, 1, 1::2])


def test_output_is_ready_for_fit():
    run = sample_lattice(8, 0.3, 16, n_chains=4, burn_in=10, seed=0)
    targets = np.zeros(64, np.float32)
    ds = run.as_dataset(targets, batch_size=16, seed=1)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (16, 8, 8, 1) and tuple(y.shape) == (16,)
    assert x.dtype.name == "float32" and set(np.unique(x.numpy())) <= {-1.0, 1.0}
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    history = model.fit(ds, epochs=1, verbose=0, shuffle=False)  # the dataset shuffles
    assert np.isfinite(history.history["loss"][0])
    no_spins = sample_lattice(8, 0.3, 2, burn_in=0, store_spins=False)
    with pytest.raises(ValueError, match="store_spins"):
        no_spins.configurations()


def test_bad_input_is_rejected():
    cases = [
        (lambda: CheckerboardSampler(-4, 0.3), ValueError, "`size`: expected a lattice size"),
        (lambda: CheckerboardSampler(7, 0.3), ValueError, "`size`: expected an even"),
        (lambda: sample_lattice(9, 0.3, 1), ValueError, "`size`: expected an even"),
        (lambda: CheckerboardSampler(8, np.inf), ValueError, "`coupling`: expected a finite"),
        (lambda: CheckerboardSampler(8, np.nan), ValueError, "`coupling`: expected a finite"),
        (lambda: SwendsenWangSampler(8, -np.inf), ValueError, "`coupling`: expected a finite"),
        (lambda: SwendsenWangSampler(-3, 0.3), ValueError, "`size`: expected a lattice size"),
        (lambda: CheckerboardSampler(8, 0.3, method="wolf"), ValueError, "`method`"),
        (lambda: CheckerboardSampler(8, 0.3, start="warm"), ValueError, "`start`"),
        (lambda: sample_lattice(8, 0.3, 0), ValueError, "`n_samples`"),
        (lambda: sample_lattice(8, 0.3, 1, thin=0), ValueError, "`thin`"),
        (lambda: sample_lattice(8, 0.3, 1, burn_in=-1), ValueError, "`burn_in`"),
        (lambda: CheckerboardSampler(8.0, 0.3), TypeError, "`size`"),
    ]
    for call, err, match in cases:
        with pytest.raises(err, match=match):
            call()
    # Odd sizes are fine for the cluster sampler.
    assert SwendsenWangSampler(5, 0.3).spins.shape == (1, 5, 5)
