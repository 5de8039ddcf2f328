"""2-D periodic Ising lattice: a vectorised, XLA-compiled checkerboard sampler for many chains."""

import numpy as np
import tensorflow as tf

from keras_rg.arguments import check_int
from keras_rg.systems.ising._validation import (
    check_choice,
    check_coupling,
    check_lattice_size,
)

__all__ = ["CheckerboardSampler", "from_sublattices", "to_sublattices"]

_METHODS = ("metropolis", "heat_bath")
_STARTS = ("hot", "cold")
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO32 = 4294967296.0


def to_sublattices(spins):
    """Splits ``(..., L, L)`` spins into the two checkerboard sublattices, each ``(..., L, L/2)``.

    Site ``(r, c)`` is on sublattice A when ``r + c`` is even: ``A[r, j] = s[r, 2j + r % 2]`` and
    ``B[r, j] = s[r, 2j + 1 − r % 2]``. Every nearest-neighbour bond joins an A and a B site.
    """
    s = np.asarray(spins)
    a = np.empty(s.shape[:-1] + (s.shape[-1] // 2,), s.dtype)
    b = np.empty_like(a)
    a[..., 0::2, :], a[..., 1::2, :] = s[..., 0::2, 0::2], s[..., 1::2, 1::2]
    b[..., 0::2, :], b[..., 1::2, :] = s[..., 0::2, 1::2], s[..., 1::2, 0::2]
    return a, b


def from_sublattices(a, b):
    """Inverse of ``to_sublattices``: interleaves the two ``(..., L, L/2)`` halves."""
    a, b = np.asarray(a), np.asarray(b)
    s = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    s[..., 0::2, 0::2], s[..., 1::2, 1::2] = a[..., 0::2, :], a[..., 1::2, :]
    s[..., 0::2, 1::2], s[..., 1::2, 0::2] = b[..., 0::2, :], b[..., 1::2, :]
    return s


def _mix64(z):
    # SplitMix64 output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
    bw = tf.bitwise
    z = bw.bitwise_xor(z, bw.right_shift(z, np.uint64(30))) * _MIX1
    z = bw.bitwise_xor(z, bw.right_shift(z, np.uint64(27))) * _MIX2
    return bw.bitwise_xor(z, bw.right_shift(z, np.uint64(31)))


def _threshold(p):
    # P(r < T) = T / 2^32 for a uniform 32-bit r: acceptance exact to 2^-32.
    return tf.cast(tf.floor(p * _TWO32), tf.uint64)


def _neighbour_sum(other, even_rows, for_a):
    # Sum of the four neighbours of each site of one sublattice, read from the other one.
    vertical = tf.roll(other, 1, 1) + tf.roll(other, -1, 1) + other
    left, right = tf.roll(other, 1, 2), tf.roll(other, -1, 2)
    side = tf.where(even_rows, left, right) if for_a else tf.where(even_rows, right, left)
    return vertical + side


def _thresholds(coupling, method):
    # Five 32-bit thresholds, one per value v in (−4, −2, 0, 2, 4) of the selecting variable:
    # s h (Metropolis: flip with probability min(1, exp(−2K s h))) or h (heat bath: s' = +1 with
    # probability 1 / (1 + exp(−2K h))).
    one = tf.constant(1.0, tf.float64)
    values = tf.constant([-4.0, -2.0, 0.0, 2.0, 4.0], tf.float64)
    if method == "metropolis":
        p = tf.minimum(one, tf.exp(-2.0 * coupling * values))
    else:
        p = tf.sigmoid(2.0 * coupling * values)
    return tf.unstack(_threshold(p))


def _update(s, nb, r, thresholds, method):
    key = s * nb if method == "metropolis" else nb
    t = thresholds
    thr = tf.where(
        key == -4,
        t[0],
        tf.where(key == -2, t[1], tf.where(key == 0, t[2], tf.where(key == 2, t[3], t[4]))),
    )
    accept = r < thr
    if method == "metropolis":
        return tf.where(accept, -s, s)
    return tf.where(accept, tf.ones_like(s), -tf.ones_like(s))


def _sweeps(a, b, keys, coupling, start, n_sweeps, method):
    """Runs ``n_sweeps`` checkerboard sweeps; returns the sublattices, energy and magnetisation."""
    _, n_rows, half = a.shape
    even_rows = tf.reshape(tf.range(n_rows) % 2 == 0, (1, n_rows, 1))
    sites = tf.cast(
        tf.reshape(tf.range(n_rows * half, dtype=tf.int64), (1, n_rows, half)), tf.uint64
    )
    keys = tf.reshape(keys, (-1, 1, 1))
    thresholds = _thresholds(coupling, method)
    per_sweep = np.uint64(n_rows * half)

    def body(i, a, b):
        # One 64-bit SplitMix64 draw per (A, B) site pair and sweep, counter-based: chain c's
        # stream is keys[c] + n γ, n = sweep · L²/2 + site + 1. High half for A, low half for B.
        counter = tf.cast(start + i, tf.uint64) * per_sweep + sites + np.uint64(1)
        z = _mix64(keys + counter * _GAMMA)
        a = _update(
            a,
            _neighbour_sum(b, even_rows, True),
            tf.bitwise.right_shift(z, np.uint64(32)),
            thresholds,
            method,
        )
        low = tf.bitwise.bitwise_and(z, np.uint64(0xFFFFFFFF))
        b = _update(b, _neighbour_sum(a, even_rows, False), low, thresholds, method)
        return i + 1, a, b

    _, a, b = tf.while_loop(lambda i, a, b: i < n_sweeps, body, (tf.constant(0, tf.int64), a, b))
    n_sites = tf.cast(2 * n_rows * half, tf.float64)
    bonds = tf.reduce_sum(tf.cast(a * _neighbour_sum(b, even_rows, True), tf.int32), axis=(1, 2))
    total = tf.reduce_sum(tf.cast(a, tf.int32), axis=(1, 2)) + tf.reduce_sum(
        tf.cast(b, tf.int32), axis=(1, 2)
    )
    return a, b, -tf.cast(bonds, tf.float64) / n_sites, tf.cast(total, tf.float64) / n_sites


_compiled_sweeps = tf.function(_sweeps, jit_compile=True)


@tf.function
def _record(a, b, keys, coupling, start, thin, n_samples, method, store):
    # The sample loop runs in the TensorFlow runtime (one compiled sweep call per sample, no
    # Python round trip); the per-sample observables and configurations go to TensorArrays.
    energy = tf.TensorArray(tf.float64, size=n_samples)
    magnetization = tf.TensorArray(tf.float64, size=n_samples)
    size = n_samples if store else 0
    sa = tf.TensorArray(tf.int8, size=size, element_shape=a.shape)
    sb = tf.TensorArray(tf.int8, size=size, element_shape=b.shape)
    for j in tf.range(n_samples):
        a, b, e, m = _compiled_sweeps(
            a, b, keys, coupling, start + tf.cast(j, tf.int64) * thin, thin, method
        )
        energy = energy.write(j, e)
        magnetization = magnetization.write(j, m)
        if store:
            sa = sa.write(j, a)
            sb = sb.write(j, b)
    return a, b, energy.stack(), magnetization.stack(), sa.stack(), sb.stack()


class CheckerboardSampler:
    """Many independent 2-D periodic Ising chains, updated by a jit-compiled checkerboard sweep.

    ``P(s) ∝ exp(K Σ_<ij> s_i s_j)`` on an ``L × L`` torus. A sweep updates sublattice A (sites
    with ``r + c`` even) given B, then B given A, with single-spin Metropolis
    (flip with probability ``min(1, e^(−2K s_i h_i))``) or heat-bath updates, for all chains at
    once inside one XLA-compiled ``tf.function`` (CPU or GPU). The lattice is stored as the two
    sublattices, so no work is spent on the half that is not being updated.

    Random numbers are counter-based (SplitMix64 of ``key_c + n γ``): chain ``c`` draws from a
    key made from ``(seed, c)`` by NumPy's ``SeedSequence``, so a chain's trajectory depends only on
    ``seed``, its index, and the sweep count, not on ``n_chains`` or on how the sweeps are split
    into calls. The spin arithmetic is integer; only the five acceptance thresholds come from a
    float64 ``exp``, so another device can differ only where its ``exp`` rounds differently at
    a 2^-32 threshold boundary. Acceptance probabilities are realised to 2^-32.

    Args:
        size: L, the linear lattice size: an even integer >= 2.
        coupling: K = βJ, a finite float (K > 0 ferromagnetic).
        n_chains: independent chains run as one batch. Defaults to 1.
        method: ``"metropolis"`` or ``"heat_bath"``. Defaults to ``"metropolis"``.
        start: ``"hot"`` (independent random spins) or ``"cold"`` (all +1; use it for K > K_c so
            that no long-lived domain walls form). Defaults to ``"hot"``.
        seed: a non-negative integer. Defaults to 0.

    Example:
        >>> sampler = CheckerboardSampler(16, 0.3, n_chains=8, seed=1)
        >>> sampler.sweep(100)
        >>> sampler.spins.shape
        (8, 16, 16)
    """

    def __init__(self, size, coupling, n_chains=1, method="metropolis", start="hot", seed=0):
        self.size = check_lattice_size("size", size, even=True)
        self.coupling = check_coupling("coupling", coupling)
        self.n_chains = check_int("n_chains", n_chains, 1)
        self.method = check_choice("method", method, _METHODS)
        self.start = check_choice("start", start, _STARTS)
        self.seed = check_int("seed", seed, 0)
        keys, spins = [], []
        for c in range(self.n_chains):
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(c,)))
            keys.append(rng.integers(0, 2**64, dtype=np.uint64, endpoint=False))
            if self.start == "hot":
                spins.append(np.where(rng.random((self.size, self.size)) < 0.5, -1, 1))
            else:
                spins.append(np.ones((self.size, self.size)))
        a, b = to_sublattices(np.asarray(spins, dtype=np.int8))
        self._a, self._b = tf.constant(a), tf.constant(b)
        self._keys = tf.constant(np.asarray(keys, dtype=np.uint64))
        self._coupling = tf.constant(self.coupling, tf.float64)
        self.n_sweeps = 0
        self.energy, self.magnetization = self._observe()

    def _observe(self):
        _, _, e, m = _compiled_sweeps(
            self._a,
            self._b,
            self._keys,
            self._coupling,
            tf.constant(0, tf.int64),
            tf.constant(0, tf.int64),
            self.method,
        )
        return e.numpy(), m.numpy()

    def sweep(self, n_sweeps=1):
        """Advances every chain by ``n_sweeps`` full sweeps (each spin visited once per sweep).

        Updates ``energy`` and ``magnetization`` (per spin, one entry per chain) as a side effect.
        """
        n = check_int("n_sweeps", n_sweeps, 0)
        a, b, e, m = _compiled_sweeps(
            self._a,
            self._b,
            self._keys,
            self._coupling,
            tf.constant(self.n_sweeps, tf.int64),
            tf.constant(n, tf.int64),
            self.method,
        )
        self._a, self._b = a, b
        self.n_sweeps += n
        self.energy, self.magnetization = e.numpy(), m.numpy()

    def record(self, n_samples, thin=1, store_spins=True):
        """Records ``n_samples`` samples, ``thin`` sweeps apart, in one TensorFlow loop.

        Returns:
            ``(energy, magnetization, spins)``: per-spin series ``(n_samples, n_chains)`` and the
            configurations ``(n_samples, n_chains, L, L)`` (None unless ``store_spins``).
        """
        n_samples = check_int("n_samples", n_samples, 1)
        thin = check_int("thin", thin, 1)
        a, b, e, m, sa, sb = _record(
            self._a,
            self._b,
            self._keys,
            self._coupling,
            tf.constant(self.n_sweeps, tf.int64),
            tf.constant(thin, tf.int64),
            tf.constant(n_samples, tf.int32),
            self.method,
            bool(store_spins),
        )
        self._a, self._b = a, b
        self.n_sweeps += n_samples * thin
        e, m = e.numpy(), m.numpy()
        self.energy, self.magnetization = e[-1], m[-1]
        spins = from_sublattices(sa.numpy(), sb.numpy()) if store_spins else None
        return e, m, spins

    @property
    def spins(self):
        """The current configurations, an ``int8`` array ``(n_chains, L, L)`` of ±1."""
        return from_sublattices(self._a.numpy(), self._b.numpy())
