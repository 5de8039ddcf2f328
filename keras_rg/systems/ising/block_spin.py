"""Real-space RG of 2-D configurations: majority-rule block spins and the measured coupling flow."""

import numpy as np

from keras_rg.arguments import check_int
from keras_rg.systems.ising._validation import (
    check_choice,
    check_lattice_block_size,
    check_spins,
)
from keras_rg.systems.ising.coupling import estimate_coupling

__all__ = ["block_spin", "block_spin_flow"]

_TIE_BREAKS = ("random", "first", "plus", "minus")


def block_spin(spins, b=2, tie_break="random", seed=0):
    """Majority-rule block spins: each ``b × b`` block becomes the sign of its spin sum.

    Ties (a zero sum, possible only for even ``b``) are resolved by ``tie_break``:
    ``"random"`` (±1 with probability ½ from a seeded NumPy generator; keeps the map symmetric
    under a global flip), ``"first"`` (the block's top-left spin; also flip-symmetric),
    ``"plus"`` (+1) or ``"minus"`` (−1; the rule of a sum-then-``x > 0`` threshold).

    Args:
        spins: ±1 array ``(..., L1, L2)``; the last two axes are the lattice.
        b: block size, dividing both L1 and L2. Defaults to 2.
        tie_break: see above. Defaults to ``"random"``.
        seed: seed for ``"random"`` tie breaks. Defaults to 0.

    Returns:
        An ``int8`` array ``(..., L1 / b, L2 / b)`` of ±1.

    Example:
        >>> s = np.array([[[1, 1, -1, -1], [1, -1, -1, -1], [1, 1, 1, -1], [-1, 1, 1, 1]]])
        >>> block_spin(s, 2).tolist()
        [[[1, -1], [1, 1]]]
    """
    s = check_spins("spins", spins, 2, "square")
    b = check_lattice_block_size("b", b, s.shape[-2:])
    check_choice("tie_break", tie_break, _TIE_BREAKS)
    seed = check_int("seed", seed, 0)
    n1, n2 = s.shape[-2] // b, s.shape[-1] // b
    blocks = s.reshape(s.shape[:-2] + (n1, b, n2, b)).astype(np.int32)
    total = blocks.sum(axis=(-3, -1))
    out = np.sign(total).astype(np.int8)
    ties = total == 0
    if ties.any():
        if tie_break == "random":
            fill = np.where(np.random.default_rng(seed).random(out.shape) < 0.5, -1, 1)
        elif tie_break == "first":
            fill = blocks[..., :, 0, :, 0]
        else:
            fill = np.full(out.shape, 1 if tie_break == "plus" else -1)
        out = np.where(ties, fill, out).astype(np.int8)
    return out


def block_spin_flow(spins, b=2, n_steps=1, terms=("nn",), groups=None, tie_break="random", seed=0):
    """The measured real-space RG flow: couplings of the configurations and of their block spins.

    Applies ``block_spin`` ``n_steps`` times and estimates the couplings at every level with
    ``estimate_coupling`` (pseudo-likelihood, periodic square lattice). With ``terms=("nn",)``
    this is the nearest-neighbour projection of the renormalised Hamiltonian, which also gains
    next-nearest-neighbour and plaquette couplings; add them to ``terms`` to see them.

    Args:
        spins: ±1 array ``(..., L, L)``; ``L`` divisible by ``b ** n_steps``.
        b: block size. Defaults to 2.
        n_steps: RG steps. Defaults to 1.
        terms: couplings estimated at each level. Defaults to ``("nn",)``.
        groups: independence groups for the error bars (see ``estimate_coupling``).
            Defaults to None.
        tie_break: see ``block_spin``. Defaults to ``"random"``.
        seed: seed for random tie breaks (step ``k`` uses ``seed + k``). Defaults to 0.

    Returns:
        A list of ``n_steps + 1`` ``CouplingEstimate``: the input, then each blocked level.

    Example:
        >>> from keras_rg.systems.ising import sample_lattice
        >>> run = sample_lattice(16, 0.3, 20, n_chains=4, burn_in=100, seed=0)
        >>> [round(e.nn, 1) for e in block_spin_flow(run.spins, 2, 1)]  # doctest: +SKIP
        [0.3, 0.1]
    """
    n_steps = check_int("n_steps", n_steps, 1)
    s = check_spins("spins", spins, 2, "square")
    b = check_lattice_block_size("b", b, s.shape[-2:])
    if any(n % b**n_steps for n in s.shape[-2:]):
        raise ValueError(
            f"Received an invalid value for `n_steps`: expected b ** n_steps = {b**n_steps} to "
            f"divide the lattice dimensions {s.shape[-2:]}. Received: n_steps={n_steps}"
        )
    flow = [estimate_coupling(s, "square", terms, groups=groups)]
    for step in range(n_steps):
        s = block_spin(s, b, tie_break, seed + step)
        flow.append(estimate_coupling(s, "square", terms, groups=groups))
    return flow
