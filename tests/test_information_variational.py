"""Variational MI bounds (InfoNCE, NWJ) with a Keras critic: closed forms and known-answer
Gaussians."""

import math

import keras
import numpy as np
import pytest

from keras_rg.information.variational import (
    InfoNCELoss,
    NWJLoss,
    PairCritic,
    infonce_bound,
    nwj_bound,
    variational_mi,
)
from tests.helpers import assert_config_roundtrip


def _gaussian(mi, n, seed, d=1):
    """Correlated Gaussian pairs with I(X; Y) = mi nats (d independent coordinate pairs)."""
    rho = math.sqrt(1.0 - math.exp(-2.0 * mi / d))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return x, rho * x + math.sqrt(1.0 - rho**2) * rng.normal(size=(n, d)), rho


def test_bounds_of_the_optimal_critic_are_tight():
    # NWJ with f = 1 + log p(y|x)/p(y) equals I exactly in expectation; InfoNCE with the
    # log ratio is I - (bias that vanishes as K grows) and never above log K
    mi, k = 0.8, 400
    x, y, rho = _gaussian(mi, k * 30, seed=3)
    vals_nwj, vals_nce = [], []
    for b in range(30):
        xs, ys = x[b * k : (b + 1) * k, 0], y[b * k : (b + 1) * k, 0]
        log_ratio = (-((ys[None, :] - rho * xs[:, None]) ** 2) / (2 * (1 - rho**2))
                     + ys[None, :] ** 2 / 2 - 0.5 * math.log(1 - rho**2))  # fmt: skip
        vals_nwj.append(float(nwj_bound(1.0 + log_ratio)))
        vals_nce.append(float(infonce_bound(log_ratio)))
    se = np.std(vals_nwj, ddof=1) / math.sqrt(30)
    assert abs(np.mean(vals_nwj) - mi) < 3 * se
    assert mi - 0.05 < np.mean(vals_nce) <= mi + 3 * np.std(vals_nce, ddof=1) / math.sqrt(30)
    # any critic: InfoNCE <= log K; a constant critic gives exactly 0
    wild = np.random.default_rng(0).normal(scale=50.0, size=(64, 64))
    assert float(infonce_bound(wild)) <= math.log(64) + 1e-9
    assert float(infonce_bound(np.zeros((8, 8)))) == pytest.approx(0.0, abs=1e-12)
    assert float(nwj_bound(np.ones((8, 8)))) == pytest.approx(0.0, abs=1e-12)


def test_critic_and_losses_roundtrip(tmp_path):
    for kind in ("separable", "concat"):
        critic = PairCritic(kind, units=8, depth=1, embedding_dim=3)
        x, y = np.ones((5, 2, 2), "float32"), np.zeros((5, 3), "float32")
        assert tuple(critic([x, y]).shape) == (5, 5)
        assert_config_roundtrip(critic)
        xi, yi = keras.Input((2, 2)), keras.Input((3,))
        model = keras.Model([xi, yi], critic([xi, yi]))
        model.compile("adam", InfoNCELoss())
        path = tmp_path / f"{kind}.keras"
        model.save(path)
        back = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_allclose(back([x, y]), model([x, y]), rtol=1e-6)
        assert isinstance(back.loss, InfoNCELoss)
    for loss in (InfoNCELoss(), NWJLoss()):
        assert type(keras.losses.deserialize(keras.losses.serialize(loss))) is type(loss)
    with pytest.raises(ValueError, match=r"`kind`.*'mlp'"):
        PairCritic("mlp")
    with pytest.raises(TypeError, match=r"`units`"):
        PairCritic(units="8")


def test_bad_input():
    x, y, _ = _gaussian(0.5, 100, seed=0)
    with pytest.raises(ValueError, match=r"`bound`.*'dv'"):
        variational_mi(x, y, bound="dv")
    with pytest.raises(ValueError, match=r"`y`.*99 rows"):
        variational_mi(x, y[:99])
    with pytest.raises(ValueError, match=r"`batch_size`"):
        variational_mi(x, y, batch_size=64)  # 50 held out: not two batches of 64
    with pytest.raises(ValueError, match=r"`x`.*finite"):
        variational_mi(np.full((100, 1), np.nan), y)


@pytest.mark.slow
@pytest.mark.parametrize("bound", ["infonce", "nwj"])
@pytest.mark.parametrize("mi", [0.5, 2.0])
def test_known_answer_gaussians(bound, mi):
    # n = 10,000 (half held out), the setting. A held-out bound is a lower bound in
    # expectation: it may exceed the truth only by noise (2 s.e. allowed: with 1 s.e. an
    # unbiased estimate at the truth would fail 16% of seeds), and it is within 0.1 nats.
    x, y, _ = _gaussian(mi, 10_000, seed=1)
    est = variational_mi(x, y, bound, "concat", n_epochs=20, batch_size=128, seed=0)
    assert est.value <= mi + 2 * est.stderr
    assert est.value > mi - 0.1
    assert est.stderr < 0.03 and est.n_test == 5000 and not est.saturated
    if bound == "infonce":
        assert est.ceiling == pytest.approx(math.log(128))


def test_infonce_at_its_ceiling_warns():
    # Y = X (infinite information) with K = 2: InfoNCE cannot exceed log 2 and says that it
    # measures the batch size, not I(X; Y)
    x = np.random.default_rng(2).normal(size=(400, 2))
    with pytest.warns(UserWarning, match="ceiling"):
        est = variational_mi(x, x.copy(), "infonce", "concat", n_epochs=3, batch_size=2,
                             units=16, learning_rate=1e-2)  # fmt: skip
    assert est.saturated and est.value <= math.log(2) + 1e-6
