"""RSMI coarse-graining trained on critical Ising samples learns the block-spin filter."""

import numpy as np
import pytest

from keras_rg.experiments.rsmi import block_environment_pairs, filter_similarity, train_rsmi
from keras_rg.systems.ising import CRITICAL_COUPLING, sample_coupling_window


def test_pairs_geometry():
    s = np.arange(2 * 12 * 12).reshape(2, 12, 12) % 7 - 3
    blocks, env = block_environment_pairs(s, 2, buffer=1, environment=2, n_pairs=50, seed=0)
    assert blocks.shape == (50, 2, 2) and env.shape == (50, 8, 8)
    assert np.all(env[:, 2:6, 2:6] == 0)  # block and buffer are hidden from the environment
    with pytest.raises(ValueError, match=r"`spins`.*>= 8"):
        block_environment_pairs(np.ones((2, 6, 6)), 2, 1, 2)


def test_filter_similarity():
    assert filter_similarity(np.ones((2, 2))) == (pytest.approx(1.0), True)
    assert filter_similarity(-np.ones((2, 2))) == (pytest.approx(1.0), True)
    cos, same = filter_similarity([[1.0, -1.0], [1.0, 1.0]])
    assert cos == pytest.approx(0.5) and not same


def test_rsmi_learns_a_block_spin_filter_at_criticality():
    # no knowledge of RG: a random initial filter, maximising InfoNCE of I(H; environment)
    (_, spins, _), = sample_coupling_window([CRITICAL_COUPLING], size=16, n_chains=4,
                                            n_samples=50, seed=0)  # fmt: skip
    result = train_rsmi(spins, n_pairs=6000, n_epochs=5, batch_size=128, seed=0)
    assert result.cosine >= 0.95 and result.sign_consistent
    assert result.mi_history[-1] > result.mi_history[0]
    assert 0.1 < result.mi_held_out < np.log(2)  # a binary H carries at most log 2 nats
