"""One entry point for 2-D Ising sampling: burn-in, thinning, recorded series and error bars."""

import dataclasses

import numpy as np

from keras_rg.arguments import check_int
from keras_rg.systems.ising._validation import check_choice
from keras_rg.systems.ising.cluster import SwendsenWangSampler
from keras_rg.systems.ising.dataset import as_dataset
from keras_rg.systems.ising.lattice import CheckerboardSampler
from keras_rg.systems.ising.observables import integrated_autocorrelation_time, summarize

__all__ = ["LatticeSamples", "sample_lattice"]

_METHODS = ("metropolis", "heat_bath", "swendsen_wang")


@dataclasses.dataclass
class LatticeSamples:
    """Recorded 2-D Ising samples: series per chain, configurations, and derived statistics.

    Attributes:
        coupling: K of the run.
        size: L.
        method: the update used.
        burn_in: sweeps discarded before recording.
        thin: sweeps between recorded samples.
        energy: energy per spin, shape ``(n_samples, n_chains)``.
        magnetization: signed magnetisation per spin, same shape.
        spins: ``int8`` configurations ``(n_samples, n_chains, L, L)``, or None when not stored.
    """

    coupling: float
    size: int
    method: str
    burn_in: int
    thin: int
    energy: np.ndarray
    magnetization: np.ndarray
    spins: np.ndarray | None = None

    @property
    def tau(self):
        """Integrated autocorrelation times of ``u`` and ``|m|``, in recorded samples.

        Multiply by ``thin`` for sweeps; when ``thin`` is larger than the true time in sweeps
        the value is ~1 (independent samples).
        """
        return {
            "energy": integrated_autocorrelation_time(self.energy),
            "abs_magnetization": integrated_autocorrelation_time(np.abs(self.magnetization)),
        }

    def observables(self, block_length=None):
        """``summarize`` of the recorded series: values with error bars (a dict of Estimate)."""
        return summarize(
            self.energy,
            self.magnetization,
            self.size**2,
            self.coupling,
            2 * self.size**2,
            block_length,
        )

    def configurations(self):
        """All stored configurations as ``(n_samples · n_chains, L, L)``, sample-major."""
        if self.spins is None:
            raise ValueError(
                "Received an invalid value for `store_spins`: configurations were not stored. "
                "Sample again with store_spins=True. Received: store_spins=False"
            )
        return self.spins.reshape((-1, self.size, self.size))

    def as_dataset(self, targets=None, batch_size=32, shuffle=True, seed=0):
        """The stored configurations as a ``tf.data.Dataset`` (see ``as_dataset``)."""
        return as_dataset(self.configurations(), targets, batch_size, shuffle, seed)


def sample_lattice(
    size,
    coupling,
    n_samples,
    n_chains=1,
    burn_in=1000,
    thin=1,
    method="metropolis",
    start="hot",
    seed=0,
    store_spins=True,
):
    """Samples the zero-field 2-D periodic Ising model ``P(s) ∝ exp(K Σ_<ij> s_i s_j)``.

    Runs ``n_chains`` independent chains together, discards ``burn_in`` sweeps, then records
    ``n_samples`` samples ``thin`` sweeps apart. ``"metropolis"`` and ``"heat_bath"`` use the
    jit-compiled ``CheckerboardSampler`` (even L); ``"swendsen_wang"`` uses the cluster sampler,
    which is the one to use near ``K_c = 0.4407``. Use ``start="cold"`` for ``K > K_c``.

    Args:
        size: L (an even integer >= 2 for checkerboard methods; >= 2 for Swendsen–Wang).
        coupling: K = βJ, a finite float.
        n_samples: samples recorded per chain (>= 1).
        n_chains: independent chains. Defaults to 1.
        burn_in: sweeps discarded first (>= 0). Defaults to 1000.
        thin: sweeps per recorded sample (>= 1). Defaults to 1.
        method: ``"metropolis"``, ``"heat_bath"`` or ``"swendsen_wang"``.
            Defaults to ``"metropolis"``.
        start: ``"hot"`` or ``"cold"``. Defaults to ``"hot"``.
        seed: a non-negative integer; the same arguments give the same samples. Defaults to 0.
        store_spins: keep the configurations (``n_samples · n_chains · L²`` bytes).
            Defaults to True.

    Returns:
        A ``LatticeSamples``; ``.observables()`` gives values with error bars, ``.tau`` the
        integrated autocorrelation times, ``.as_dataset()`` a ``tf.data.Dataset`` for ``fit``.

    Example:
        >>> run = sample_lattice(16, 0.3, n_samples=50, n_chains=8, burn_in=100, seed=1)
        >>> run.energy.shape, run.spins.shape
        ((50, 8), (50, 8, 16, 16))
    """
    check_choice("method", method, _METHODS)
    n_samples = check_int("n_samples", n_samples, 1)
    burn_in = check_int("burn_in", burn_in, 0)
    thin = check_int("thin", thin, 1)
    if method == "swendsen_wang":
        sampler = SwendsenWangSampler(size, coupling, n_chains, start, seed)
    else:
        sampler = CheckerboardSampler(size, coupling, n_chains, method, start, seed)
    sampler.sweep(burn_in)
    energy, magnetization, spins = sampler.record(n_samples, thin, store_spins)
    return LatticeSamples(
        coupling=sampler.coupling,
        size=sampler.size,
        method=method,
        burn_in=burn_in,
        thin=thin,
        energy=energy,
        magnetization=magnetization,
        spins=spins,
    )
