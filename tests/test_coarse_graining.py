"""BlockCoarseGraining: the majority rule as a filter, the relaxed sampler, config and .keras
round trips, bad input."""

import keras
import numpy as np
import pytest

from keras_rg import BlockCoarseGraining
from keras_rg.systems.ising import block_spin
from tests.helpers import assert_config_roundtrip, assert_model_roundtrip


def test_uniform_filter_is_the_majority_rule():
    rng = np.random.default_rng(0)
    s = rng.choice([-1, 1], size=(20, 8, 8)).astype("float32")
    layer = BlockCoarseGraining(2, kernel_initializer="ones")
    out = np.asarray(layer(s))[..., 0]
    # without ties (sum != 0) sign(sum) is the majority; ties give +1 (the 'plus' rule)
    np.testing.assert_array_equal(out, block_spin(s.astype(np.int8), 2, "plus"))
    assert out.shape == (20, 4, 4)


def test_relaxed_sampler_statistics():
    # training: tanh((2h + L) / 2T) with logistic noise; as T -> 0, P(H = +1) = sigmoid(2h)
    layer = BlockCoarseGraining(1, temperature=1e-3, kernel_initializer="ones", seed=1)
    h = np.full((20000, 1, 1), 0.4, "float32")
    sample = np.asarray(layer(h, training=True))
    p = np.mean(sample > 0)
    expect = 1.0 / (1.0 + np.exp(-0.8))
    assert abs(p - expect) < 4 * np.sqrt(expect * (1 - expect) / 20000)
    smooth = BlockCoarseGraining(1, temperature=2.0, stochastic=False, kernel_initializer="ones")
    np.testing.assert_allclose(np.asarray(smooth(h, training=True)), np.tanh(0.2), rtol=1e-6)


def test_config_and_keras_roundtrip(tmp_path):
    layer = BlockCoarseGraining(2, n_hidden=3, temperature=0.25, stochastic=False, seed=4,
                                kernel_initializer="glorot_uniform")  # fmt: skip
    back = assert_config_roundtrip(layer)
    assert (back.block_size, back.n_hidden, back.temperature, back.seed) == (2, 3, 0.25, 4)
    model = keras.Sequential([keras.Input((8, 8, 2)), layer, keras.layers.Flatten(),
                              keras.layers.Dense(1)])  # fmt: skip
    x = np.random.default_rng(1).choice([-1.0, 1.0], size=(4, 8, 8, 2)).astype("float32")
    loaded = assert_model_roundtrip(model, x, tmp_path)
    np.testing.assert_array_equal(loaded.layers[0].kernel, layer.kernel)
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bad_input():
    with pytest.raises(ValueError, match=r"`temperature`"):
        BlockCoarseGraining(temperature=0.0)
    with pytest.raises(TypeError, match=r"`block_size`"):
        BlockCoarseGraining(block_size=2.0)
    with pytest.raises(TypeError, match=r"`stochastic`"):
        BlockCoarseGraining(stochastic="yes")
    with pytest.raises(ValueError, match=r"`block_size`.*divisor"):
        BlockCoarseGraining(3)(np.ones((1, 8, 8), "float32"))
    with pytest.raises(ValueError, match=r"`inputs`"):
        BlockCoarseGraining(2)(np.ones((8, 8), "float32"))


def test_trains_under_jit_and_a_distribution_strategy():
    import tensorflow as tf

    x = np.random.default_rng(2).choice([-1.0, 1.0], size=(32, 8, 8)).astype("float32")
    y = x.reshape(32, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(32, -1)  # block means
    for strategy in (None, tf.distribute.MirroredStrategy(["/cpu:0"])):
        scope = strategy.scope() if strategy else keras.utils.set_random_seed(0) or _null()
        with scope:
            layer = BlockCoarseGraining(2, seed=1)
            model = keras.Sequential([keras.Input((8, 8)), layer, keras.layers.Flatten()])
            model.compile("adam", "mse", jit_compile=strategy is None)
        before = np.array(layer.kernel)
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)  # the noisy sampler inside
        assert np.all(np.isfinite(history.history["loss"]))
        assert not np.allclose(np.array(layer.kernel), before)  # gradients reach the filter


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False
