"""Tests for keras_rg.information.ksg: KSG and Ross k-NN estimators against closed forms and
scikit-learn."""

import math

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.preprocessing import scale

from keras_rg.information import ksg_mi, ross_mi

RHO = 0.75
BIVARIATE = -0.5 * math.log(1 - RHO**2)  # 0.413339


def _bivariate(rng, n):
    x = rng.normal(size=n)
    return x, RHO * x + math.sqrt(1 - RHO**2) * rng.normal(size=n)


def _equicorrelated(rng, d, n, rho=0.5):
    cov = np.full((2 * d, 2 * d), rho) + (1 - rho) * np.eye(2 * d)
    z = rng.multivariate_normal(np.zeros(2 * d), cov, size=n)
    return z[:, :d], z[:, d:], math.log(d + 1) - 0.5 * math.log(2 * d + 1)


def _sklearn_preprocessing(x, y, seed):
    """mutual_info_regression's own steps: unit variance (no centring), then 1e-10-scale jitter
    drawn from RandomState(seed), features first and target second."""
    rs = np.random.RandomState(seed)
    n = x.shape[0]
    xs = scale(x.reshape(n, 1), with_mean=False)
    xs += 1e-10 * np.maximum(1, np.mean(np.abs(xs), axis=0)) * rs.standard_normal(size=(n, 1))
    if y is None:
        return xs, None
    ys = scale(y, with_mean=False)
    ys += 1e-10 * max(1, np.mean(np.abs(ys))) * rs.standard_normal(size=n)
    return xs, ys


def test_bivariate_normal_closed_form(rng):
    # Over 60 runs at n = 2000 the estimate had sd 0.023 and bias +0.005; at n = 8000 the sd is
    # about 0.012, so 0.05 is 4 sd.
    assert BIVARIATE == pytest.approx(0.413339, abs=1e-6)
    x, y = _bivariate(rng, 8000)
    est = ksg_mi(x, y)
    assert est.value == pytest.approx(BIVARIATE, abs=0.05)
    assert est.estimator == "ksg" and est.hyperparameters["n_neighbors"] == 3 and not est.saturated


def test_equicorrelated_three_by_three(rng):
    # d = 3, rho = 0.5: I = log 4 - 1/2 log 7 = 0.4133. Measured sd 0.018 (bias -0.007) at
    # n = 2000, so about 0.0125 at n = 4000: 0.06 is 4 sd plus the bias.
    x, y, exact = _equicorrelated(rng, 3, 4000)
    assert exact == pytest.approx(math.log(4) - 0.5 * math.log(7))
    assert ksg_mi(x, y).value == pytest.approx(exact, abs=0.06)


def test_invariance_under_tanh_and_zero_for_shuffled_pairs(rng):
    # tanh is one-to-one, so I(tanh X; Y) = I(X; Y); KSG is only approximately invariant. The
    # difference measured sd 0.011 (mean -0.006) at n = 2000, the shuffled estimate sd 0.020:
    # at n = 4000 those are ~0.008 and ~0.014, and the tolerances are 4-5 of them.
    x, y = _bivariate(rng, 4000)
    base = ksg_mi(x, y).value
    assert ksg_mi(np.tanh(x), y).value == pytest.approx(base, abs=0.04)
    assert ksg_mi(x, rng.permutation(y)).value == pytest.approx(0.0, abs=0.06)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_sklearn_mutual_info_regression(seed):
    rng = np.random.default_rng(seed)
    x, y = _bivariate(rng, 1000)
    y = y**3  # a non-Gaussian target
    expected = mutual_info_regression(x[:, None], y, random_state=seed)[0]
    # Same preprocessing as scikit-learn: identical neighbour counts, equal to rounding.
    xs, ys = _sklearn_preprocessing(x, y, seed)
    for algorithm in ("tree", "brute"):
        exact = ksg_mi(xs, ys, standardize=False, jitter=0, algorithm=algorithm).value
        assert max(exact, 0.0) == pytest.approx(expected, abs=1e-12)
    # On the raw data: the 1e-10 jitter moves no neighbour count here, so within 1e-6.
    assert ksg_mi(x, y).value == pytest.approx(expected, abs=1e-6)


def test_brute_force_tensorflow_counts_equal_the_tree(rng):
    x, y, _ = _equicorrelated(rng, 2, 500)
    tree = ksg_mi(x, y, n_neighbors=5, algorithm="tree")
    brute = ksg_mi(x, y, n_neighbors=5, algorithm="brute", block_size=37)
    assert brute.value == tree.value
    assert brute.hyperparameters["algorithm"] == "brute"
    labels = rng.integers(0, 3, size=500)
    labels[:2] = 7  # a two-member class: k is capped at 1 for it
    assert ross_mi(x, labels, algorithm="brute", block_size=41).value == pytest.approx(
        ross_mi(x, labels, algorithm="tree").value, abs=1e-12
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_ross_agrees_with_sklearn_mutual_info_classif(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=600)
    labels[0] = 9  # a singleton class: dropped by both
    x = labels + rng.normal(size=600)
    expected = mutual_info_classif(x[:, None], labels, random_state=seed)[0]
    xs, _ = _sklearn_preprocessing(x, None, seed)
    for algorithm in ("tree", "brute"):
        got = ross_mi(xs, labels, standardize=False, jitter=0, algorithm=algorithm)
        assert max(got.value, 0.0) == pytest.approx(expected, abs=1e-12)
        assert got.n == 599


def test_ross_two_gaussian_classes_closed_form(rng):
    # Y = +-1 equiprobable, X | Y ~ N(Y, 1): I = h(mixture) - 1/2 log(2 pi e) = 0.33683 by
    # quadrature. Over 30 runs at n = 4000 the estimate had sd 0.0074 (mean 0.3377): 4 sd = 0.03.
    def density(z):
        return 0.5 * (stats.norm.pdf(z, -1.0, 1.0) + stats.norm.pdf(z, 1.0, 1.0))

    h = -integrate.quad(lambda z: density(z) * math.log(density(z)), -30, 30, limit=200)[0]
    exact = h - 0.5 * math.log(2 * math.pi * math.e)
    labels = rng.integers(0, 2, size=4000)
    x = np.where(labels == 1, 1.0, -1.0) + rng.normal(size=4000)
    assert ross_mi(x, labels).value == pytest.approx(exact, abs=0.03)


def test_warns_above_ten_dimensions(rng):
    x, y = rng.normal(size=(200, 6)), rng.normal(size=(200, 5))
    with pytest.warns(UserWarning, match=r"11 dimensions"):
        ksg_mi(x, y)
    with pytest.warns(UserWarning, match=r"11 dimensions"):
        ross_mi(np.hstack([x, y]), rng.integers(0, 2, size=200))


def test_invalid_arguments(rng):
    x = rng.normal(size=20)
    with pytest.raises(ValueError, match=r"`n_neighbors`: expected an integer >= 1"):
        ksg_mi(x, x, n_neighbors=0)
    with pytest.raises(ValueError, match=r"`n_neighbors`: expected fewer neighbours than samples"):
        ksg_mi(x, x, n_neighbors=20)
    with pytest.raises(ValueError, match=r"`transform`"):
        ksg_mi(x, x, transform="rank")
    with pytest.raises(TypeError, match=r"unexpected keyword"):
        ksg_mi(x, x, neighbours=3)
    with pytest.raises(ValueError, match=r"`algorithm`.*Received: algorithm='kd'"):
        ksg_mi(x, x, algorithm="kd")
    with pytest.raises(ValueError, match=r"`y`: expected 20 samples"):
        ksg_mi(x, x[:10])
    with pytest.raises(ValueError, match=r"`labels`: expected at least one class"):
        ross_mi(x, np.arange(20))


def test_empty_inputs_raise_naming_the_argument():
    with pytest.raises(ValueError, match=r"`x`.*shape \(0,\)"):
        ksg_mi(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match=r"`y`.*shape \(5, 0\)"):
        ksg_mi(np.zeros(5), np.zeros((5, 0)))
    with pytest.raises(ValueError, match=r"`x`.*shape \(0, 3\)"):
        ross_mi(np.zeros((0, 3)), np.zeros(0, int))


def test_k_is_a_deprecated_alias_of_n_neighbors(rng):
    x, y = _bivariate(rng, 300)
    with pytest.warns(DeprecationWarning, match=r"`k` is deprecated.*`n_neighbors`"):
        old = ksg_mi(x, y, k=5)
    assert old.value == ksg_mi(x, y, n_neighbors=5).value
    labels = (x > 0).astype(int)
    with pytest.warns(DeprecationWarning, match=r"ross_mi: `k` is deprecated"):
        old = ross_mi(y, labels, k=4)
    assert old.value == ross_mi(y, labels, n_neighbors=4).value
    with pytest.raises(TypeError, match=r"pass `n_neighbors` only"):
        ksg_mi(x, y, k=5, n_neighbors=4)


# --- ties: ReLU zeros, dead and constant units, quantised data ----------------------------------
# Before the jitter these gave -2.65 (half-zero ReLU unit vs labels), -2.0 (two ReLU units),
# -7.1 (both sides constant) and -6.4 (a dead unit vs labels).


def _relu_case(seed, n=2000):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    labels = (z + 0.5 * rng.normal(size=n) > 0).astype(int)
    other = np.maximum(0.8 * z + 0.6 * rng.normal(size=n), 0.0)
    return np.maximum(z, 0.0), other, labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ties_relu_units_agree_with_sklearn(seed):
    relu, other, labels = _relu_case(seed)
    # Both sides jitter the ~1000 tied zeros with different draws; over seeds 0-4 the two
    # differed by at most 0.012 nats (Ross) and 0.002 (KSG), against values of 0.31.
    sk_ross = mutual_info_classif(relu[:, None], labels, random_state=seed)[0]
    assert ross_mi(relu, labels, seed=seed).value == pytest.approx(sk_ross, abs=0.04)
    sk_ksg = mutual_info_regression(relu[:, None], other, random_state=seed)[0]
    assert ksg_mi(relu, other, seed=seed).value == pytest.approx(sk_ksg, abs=0.03)
    assert sk_ross > 0.2 and sk_ksg > 0.2  # the cases carry information


@pytest.mark.parametrize("seed", [0, 1])
def test_ties_constant_and_dead_units_give_zero(seed):
    _, _, labels = _relu_case(seed)
    n = labels.shape[0]
    for x, y in ((np.ones(n), np.full(n, 2.0)), (np.zeros(n), np.arange(n) % 7 * 1.0)):
        value = ksg_mi(x, y, seed=seed).value
        assert abs(value) < 0.05, value
        assert mutual_info_regression(x[:, None], y, random_state=seed)[0] < 0.05
    dead = ross_mi(np.zeros((n, 3)), labels, seed=seed).value
    assert abs(dead) < 0.05 and mutual_info_classif(np.zeros((n, 1)), labels)[0] < 0.05


def test_ties_quantised_input_agrees_with_sklearn(rng):
    z = rng.normal(size=2000)
    q = np.round(2 * z) / 2  # 17 levels: every value tied with many others
    expected = mutual_info_regression(q[:, None], z, random_state=0)[0]
    assert ksg_mi(q, z).value == pytest.approx(expected, abs=0.03)
    # I(Q; Z) = H(Q) for a deterministic quantiser: the empirical entropy of the levels.
    p = np.unique(q, return_counts=True)[1] / q.size
    assert ksg_mi(q, z).value == pytest.approx(-np.sum(p * np.log(p)), abs=0.1)


def test_copula_is_exactly_invariant_under_monotone_maps(rng):
    x, y = _bivariate(rng, 1500)
    base = ksg_mi(x, y, transform="copula").value
    assert ksg_mi(np.exp(x), y, transform="copula").value == base
    assert ksg_mi(x, np.arctan(3 * y) - 7.0, transform="copula").value == base
    assert (
        ksg_mi(x**3, -np.exp(-y), transform="copula").value == base
    )  # decreasing: also a bijection
    labels = (y > 0).astype(int)
    assert (
        ross_mi(np.exp(x), labels, transform="copula").value
        == ross_mi(x, labels, transform="copula").value
    )
    assert base == pytest.approx(BIVARIATE, abs=0.07)


def test_copula_fixes_heavy_tails(rng):
    # Cauchy marginals through a Gaussian copula: the MI is that of the underlying normals.
    x, y = _bivariate(rng, 4000)
    cx, cy = np.tan(np.pi * (stats.norm.cdf(x) - 0.5)), np.tan(np.pi * (stats.norm.cdf(y) - 0.5))
    assert ksg_mi(cx, cy, transform="copula").value == pytest.approx(BIVARIATE, abs=0.05)
