"""Real-space mutual-information (RSMI) coarse-graining trained on lattice samples.

A :class:`~keras_rg.coarse_graining.BlockCoarseGraining` layer maps each ``b × b`` block ``V``
to a binary variable ``H``; it is trained, with no knowledge of RG, to maximise a variational
lower bound (InfoNCE or NWJ, :mod:`keras_rg.information.variational`) on ``I(H; E)``, where the
environment ``E`` is a shell of width ``environment`` around the block, beyond a buffer of width
``buffer`` (Koch-Janusz & Ringel, Nature Physics 14, 578, 2018; Gökmen, Ringel, Huber &
Koch-Janusz, PRL 127, 240603, 2021). See ``docs/rsmi.md``.
"""

import dataclasses
import math

import keras
import numpy as np

from keras_rg.arguments import check_choice, check_float, check_int, invalid_value
from keras_rg.coarse_graining import BlockCoarseGraining
from keras_rg.information.variational import BOUNDS, InfoNCELoss, NWJLoss, PairCritic

__all__ = [
    "RSMIResult",
    "block_environment_pairs",
    "filter_similarity",
    "learned_map",
    "rsmi_versus_majority",
    "train_rsmi",
]


def block_environment_pairs(spins, block_size=2, buffer=1, environment=2, n_pairs=10_000, seed=0):
    """Random (block, environment) pairs from periodic lattice configurations.

    Each pair takes a random configuration and a random block of the ``b``-grid; the window of
    side ``b + 2 (buffer + environment)`` centred on the block is cut out (periodically), and the
    environment is that window with the block and its buffer set to 0.

    Args:
        spins: ±1 configurations ``(n, L1, L2)``.
        block_size, buffer, environment: the geometry (``buffer`` >= 0, ``environment`` >= 1).
        n_pairs: pairs drawn. Defaults to 10,000.
        seed: NumPy seed. Defaults to 0.

    Returns:
        ``(blocks, environments)``: float32 arrays ``(n_pairs, b, b)`` and ``(n_pairs, w, w)``.
    """
    s = np.asarray(spins)
    if s.ndim != 3:
        raise invalid_value("spins", "an array (n, L1, L2)", f"shape {s.shape}")
    b = check_int("block_size", block_size, 1)
    buffer = check_int("buffer", buffer, 0)
    environment = check_int("environment", environment, 1)
    n_pairs = check_int("n_pairs", n_pairs, 1)
    pad = buffer + environment
    w = b + 2 * pad
    if min(s.shape[1:]) < w or any(n % b for n in s.shape[1:]):
        raise invalid_value(
            "spins", f"lattices with sides >= {w} and divisible by block_size={b}",
            f"shape {s.shape}",
        )  # fmt: skip
    rng = np.random.default_rng(check_int("seed", seed, 0))
    conf = rng.integers(0, s.shape[0], n_pairs)
    r0 = rng.integers(0, s.shape[1] // b, n_pairs) * b - pad
    c0 = rng.integers(0, s.shape[2] // b, n_pairs) * b - pad
    rows = (r0[:, None] + np.arange(w)[None]) % s.shape[1]
    cols = (c0[:, None] + np.arange(w)[None]) % s.shape[2]
    window = s[conf[:, None, None], rows[:, :, None], cols[:, None, :]].astype(np.float32)
    blocks = window[:, pad : pad + b, pad : pad + b].copy()
    window[:, environment : w - environment, environment : w - environment] = 0.0
    return blocks, window


def filter_similarity(kernel):
    """Cosine similarity of a block filter to the uniform (block-spin) filter, and whether all
    its entries share one sign. Returns ``(abs_cosine, sign_consistent)``."""
    k = np.asarray(kernel, dtype=float).reshape(-1)
    norm = np.linalg.norm(k)
    if norm == 0:
        return 0.0, False
    cosine = abs(k.sum()) / (norm * math.sqrt(k.size))
    return float(cosine), bool(np.all(k > 0) or np.all(k < 0))


@dataclasses.dataclass(frozen=True)
class RSMIResult:
    """The outcome of one RSMI training run.

    Attributes:
        layer: the trained :class:`BlockCoarseGraining` (apply it with ``training=False``).
        kernel: its filter ``Λ``, ``(b, b)`` for one hidden variable and one channel.
        cosine: ``|cos|`` between ``Λ`` and the uniform filter.
        sign_consistent: all filter entries share one sign.
        bound: the bound maximised.
        mi_history: the bound (nats) on the training batches after each epoch.
        mi_held_out: the bound on held-out pairs with the final critic.
    """

    layer: object
    kernel: np.ndarray
    cosine: float
    sign_consistent: bool
    bound: str
    mi_history: tuple
    mi_held_out: float

    def to_dict(self):
        """The numbers as a plain dict (the layer by its config)."""
        return {
            "kernel": np.asarray(self.kernel).tolist(), "cosine": self.cosine,
            "sign_consistent": self.sign_consistent, "bound": self.bound,
            "mi_history": list(self.mi_history), "mi_held_out": self.mi_held_out,
        }  # fmt: skip


def train_rsmi(spins, block_size=2, buffer=1, environment=2, bound="infonce", n_pairs=20_000,
               n_epochs=8, batch_size=256, temperature=0.5, learning_rate=3e-3, seed=0):  # fmt: skip
    """Trains an RSMI coarse-graining on lattice configurations.

    Args:
        spins: ±1 configurations ``(n, L1, L2)`` (periodic).
        block_size: ``b``. Defaults to 2.
        buffer: width of the shell between block and environment (>= 0). Defaults to 1.
        environment: width of the environment shell. Defaults to 2.
        bound: ``"infonce"`` or ``"nwj"``. Defaults to ``"infonce"``.
        n_pairs: (block, environment) pairs; 10% are held out. Defaults to 20,000.
        n_epochs: epochs. Defaults to 8.
        batch_size: K of the bound. Defaults to 256.
        temperature: of the relaxed binary sampler. Defaults to 0.5.
        learning_rate: Adam's. Defaults to 3e-3.
        seed: seeds the pairs, the weights and the sampler. Defaults to 0.

    Returns:
        An :class:`RSMIResult`.
    """
    check_choice("bound", bound, BOUNDS)
    seed = check_int("seed", seed, 0)
    batch_size = check_int("batch_size", batch_size, 2)
    n_epochs = check_int("n_epochs", n_epochs, 1)
    check_float("learning_rate", learning_rate, 0.0, open_min=True)
    blocks, env = block_environment_pairs(spins, block_size, buffer, environment, n_pairs, seed)
    n_test = max(2 * batch_size, n_pairs // 10)
    if n_pairs - n_test < batch_size:
        raise invalid_value("n_pairs", f"at least {n_test + batch_size}", n_pairs)
    keras.utils.set_random_seed(seed)
    layer = BlockCoarseGraining(block_size, temperature=temperature, seed=seed, name="rsmi")
    critic = PairCritic("separable", units=32, depth=2, embedding_dim=8, name="critic")
    v_in = keras.Input(blocks.shape[1:])
    e_in = keras.Input(env.shape[1:])
    model = keras.Model([v_in, e_in], critic([layer(v_in), e_in]))
    model.compile(keras.optimizers.Adam(learning_rate),
                  InfoNCELoss() if bound == "infonce" else NWJLoss())  # fmt: skip
    n_fit = ((n_pairs - n_test) // batch_size) * batch_size
    history = model.fit([blocks[:n_fit], env[:n_fit]], np.zeros(n_fit, np.float32),
                        batch_size=batch_size, epochs=n_epochs, shuffle=True, verbose=0)  # fmt: skip
    held = []
    for i in range(n_test // batch_size):
        sl = slice(n_fit + i * batch_size, n_fit + (i + 1) * batch_size)
        held.append(-float(np.mean(model.compute_loss(
            y=np.zeros(batch_size, np.float32),
            y_pred=model([blocks[sl], env[sl]], training=True)))))  # fmt: skip
    kernel = np.asarray(layer.kernel)[:, :, 0, 0]
    cosine, consistent = filter_similarity(kernel)
    return RSMIResult(
        layer=layer, kernel=kernel, cosine=cosine, sign_consistent=consistent, bound=bound,
        mi_history=tuple(-float(v) for v in history.history["loss"]),
        mi_held_out=float(np.mean(held)),
    )  # fmt: skip


def learned_map(layer):
    """The trained layer as a coarse-graining callable ``spins -> ±1 block variables``
    (inference mode: ``sign(Λ · V)``)."""

    def apply(spins):
        return np.asarray(layer(np.asarray(spins, np.float32), training=False))[..., 0]

    return apply


def rsmi_versus_majority(size=64, n_chains=8, n_samples=50, spacing=0.04, n_couplings=5,
                         n_pairs=20_000, n_epochs=8, seed=0):  # fmt: skip
    """Trains RSMI at ``K_c`` and measures the coupling flow of the learned map and of the
    majority rule on the same samples (``n_couplings`` couplings evenly spaced in
    ``K_c ± spacing``).

    Each map's flow is measured with two projections, the nearest-neighbour coupling alone
    (``"nn"``) and ``nn + nnn`` from a two-coupling fit (``"nn+nnn"``), at two steps: level
    0 -> 1 (the one-step map from the nearest-neighbour axis) and 1 -> 2 (after one step).
    The ``nn+nnn`` flows carry delete-one-chain jackknife replicates from level 1, so their
    level 1 -> 2 errors keep the correlation between the levels (the others are Monte Carlo
    errors that ignore it, conservative).

    Returns:
        dict with ``"rsmi"`` (:class:`RSMIResult`), ``"flows"`` ``{map: {projection:
        CouplingFlow}}`` and ``"fixed_points"`` ``{map: {projection: {level:
        ThermalFixedPoint}}}``, maps ``"learned"`` and ``"majority"``.
    """
    from keras_rg.systems.ising import (
        CRITICAL_COUPLING,
        coupling_flow,
        majority_rule,
        sample_coupling_window,
        thermal_fixed_point,
    )

    n_couplings = check_int("n_couplings", n_couplings, 4)
    couplings = CRITICAL_COUPLING + np.linspace(-spacing, spacing, n_couplings)
    samples = sample_coupling_window(couplings, size=size, n_chains=n_chains,
                                     n_samples=n_samples, seed=seed * 101)  # fmt: skip
    rsmi = train_rsmi(samples[n_couplings // 2][1], n_pairs=n_pairs, n_epochs=n_epochs, seed=seed)
    maps = {"learned": learned_map(rsmi.layer), "majority": majority_rule(seed=seed)}
    projections = {"nn": ("nn",), "nn+nnn": ("nn", "nnn")}
    flows, fixed = {}, {}
    for name, cg in maps.items():
        flows[name], fixed[name] = {}, {}
        for proj, terms in projections.items():
            # jackknife errors (over chains) for the primary projection, after one step
            flow = coupling_flow(samples, cg, n_steps=2, terms=terms,
                                 jackknife_from_level=1 if proj == "nn+nnn" else None)  # fmt: skip
            flows[name][proj] = flow
            fixed[name][proj] = {lvl: thermal_fixed_point(flow, lvl, degree=2, seed=seed)
                                 for lvl in (1, 2)}  # fmt: skip
    return {"rsmi": rsmi, "flows": flows, "fixed_points": fixed}
