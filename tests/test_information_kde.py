"""Tests for keras_rg.information.kde (pairwise KDE bounds) and its blocked TensorFlow kernels."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from keras_rg.information import _blocks, kde_mi_input, kde_mi_labels, kde_mi_plane
from keras_rg.information.kde import KDE_TEMPORARIES


def _dense_reference(t, labels, noise_variance):
    """The same bounds from the full (n, n) distance matrix, with NumPy/SciPy only."""
    n = t.shape[0]
    dist = np.sum((t[:, None, :] - t[None, :, :]) ** 2, axis=-1)
    same = labels[:, None] == labels[None, :]
    out = {}
    for name, scale in (("kl", 2.0), ("bd", 8.0)):
        logits = -dist / (scale * noise_variance)
        out[f"all_{name}"] = np.mean(logsumexp(logits, axis=1))
        out[f"cls_{name}"] = np.mean(logsumexp(np.where(same, logits, -np.inf), axis=1))
    p = np.bincount(labels) / n
    h_y = -np.sum(p * np.log(p))
    x_upper, x_lower = math.log(n) - out["all_kl"], math.log(n) - out["all_bd"]
    y_value = h_y - out["all_kl"] + out["cls_kl"]
    y_upper = min(h_y - out["all_kl"] + out["cls_bd"], h_y)
    y_lower = max(h_y - out["all_bd"] + out["cls_kl"], 0.0)
    return (x_lower, x_upper), (y_lower, y_value, y_upper)


def test_matches_dense_numpy_reference(rng):
    t = rng.normal(size=(300, 5)) * 0.4
    labels = rng.integers(0, 3, size=300)
    (x_lower, x_upper), (y_lower, y_value, y_upper) = _dense_reference(t, labels, 0.1)
    i_tx = kde_mi_input(t, noise_variance=0.1)
    i_ty = kde_mi_labels(t, labels, noise_variance=0.1)
    # Same float64 sums in another order: agreement to rounding.
    np.testing.assert_allclose([i_tx.lower, i_tx.upper, i_tx.value], [x_lower, x_upper, x_upper])
    np.testing.assert_allclose([i_ty.lower, i_ty.value, i_ty.upper], [y_lower, y_value, y_upper])
    assert i_tx.estimator == "kde" and i_tx.n == 300
    assert i_tx.hyperparameters == {"noise_variance": 0.1, "dtype": "float64",
                                    "relative_noise": False, "absolute_noise_variance": 0.1}  # fmt: skip


def test_blocks_and_one_pass_plane_give_the_same_numbers(rng):
    t = rng.normal(size=(203, 7))
    labels = np.eye(4)[rng.integers(0, 4, size=203)]  # one-hot rows are accepted
    whole = kde_mi_plane(t, labels, block_size=1000)
    blocked = kde_mi_plane(t, labels, block_size=7)  # 29 blocks, the last one short
    single = (kde_mi_input(t), kde_mi_labels(t, labels))
    for other in (blocked, single):
        for a, b in zip(whole, other, strict=True):
            np.testing.assert_allclose([a.lower, a.value, a.upper], [b.lower, b.value, b.upper])


def test_linear_gaussian_channel_is_bracketed(rng):
    # X ~ N(0, S), T = WX, noise s2: I(T + Z; X) = 1/2 log det(I + W S W^T / s2) = 0.9757.
    # With A = W S W^T, as n -> inf the bounds tend to 1/2 log det(I + A / (c s2)) +
    # 1/2 tr(A (A + c s2 I)^-1): 1.562 (KL, c = 1) and 0.664 (BD, c = 4). Over 20 runs at
    # n = 2000 their standard deviations were 0.020 and 0.013, so the margins (>= 0.31 nats) are
    # over 15 of them, and the checks on the limits below allow 5 of them.
    cov = np.array([[1.0, 0.5], [0.5, 1.0]])
    w = np.array([[1.0, 0.3], [-0.2, 0.8]])
    s2 = 0.5
    exact = 0.5 * np.linalg.slogdet(np.eye(2) + w @ cov @ w.T / s2)[1]
    assert exact == pytest.approx(0.9757188505, abs=1e-9)
    t = rng.multivariate_normal([0.0, 0.0], cov, size=2000) @ w.T
    est = kde_mi_input(t, noise_variance=s2)
    assert est.lower < exact < est.upper
    assert est.lower == pytest.approx(0.664, abs=0.06) and est.upper == pytest.approx(
        1.562, abs=0.1
    )


def test_ceiling_log_n_for_an_injective_layer_at_small_noise(rng):
    x = rng.uniform(-1.0, 1.0, size=(256, 4))  # 256 distinct inputs
    t = np.tanh(x @ np.array([[2.0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 3, 0], [1, 0, 0, 1]]))
    est = kde_mi_input(t, noise_variance=1e-9)
    # Nearest pairs are ~1e-2 apart: exp(-1e-4 / 2e-9) underflows, only the self terms remain.
    assert est.value == pytest.approx(math.log(256), abs=1e-12)
    assert est.lower == pytest.approx(math.log(256), abs=1e-12)
    assert est.ceiling == pytest.approx(math.log(256)) and est.saturated


def test_bounds_fall_as_the_noise_grows(rng):
    t = rng.normal(size=(400, 3))
    values = [kde_mi_input(t, noise_variance=s2) for s2 in (0.01, 0.1, 1.0, 10.0)]
    uppers = [v.upper for v in values]
    lowers = [v.lower for v in values]
    assert all(a > b for a, b in zip(uppers, uppers[1:], strict=False))
    assert all(a > b for a, b in zip(lowers, lowers[1:], strict=False))
    assert all(0.0 <= v.lower <= v.upper <= v.ceiling for v in values)


def test_separated_classes_give_the_label_entropy(rng):
    labels = np.repeat([0, 1, 2], [50, 100, 250])
    t = labels[:, None] * 100.0 + rng.normal(size=(400, 2))
    p = np.array([50, 100, 250]) / 400
    est = kde_mi_labels(t, labels)
    # Between-class terms are exp(-(100 - 8)^2 / 0.8) ~ 0: the estimate is H(Y) to rounding.
    assert est.value == pytest.approx(-np.sum(p * np.log(p)), abs=1e-12)


def _mixture_information(mean, variance):
    """I(T; Y) for Y = +-1 equiprobable and T | Y ~ N(Y mean, variance), by quadrature."""
    sd = math.sqrt(variance)

    def density(z):
        return 0.5 * (stats.norm.pdf(z, -mean, sd) + stats.norm.pdf(z, mean, sd))

    h = -integrate.quad(lambda z: density(z) * math.log(density(z)), -15, 15, limit=200)[0]
    return h - 0.5 * math.log(2 * math.pi * math.e * variance)


@pytest.mark.parametrize("noise", [0.5, 1.0, 2.0])
def test_label_bracket_unclipped_closed_form_and_contains_the_truth(noise):
    # T = +-1 by class (500 each): T + Z | Y is exactly N(+-1, noise), so I(T + Z; Y) is the
    # two-Gaussian mixture's value by quadrature, and the pairwise bounds have closed forms:
    # upper = log 2 - log(1 + exp(-4 / (2 noise))) (KL), lower = log 2 - log(1 + exp(-4 / (8
    # noise))) (Bhattacharyya). Both lie strictly inside [0, log 2]: nothing is clipped.
    labels = np.repeat([0, 1], 500)
    t = np.where(labels == 1, 1.0, -1.0)
    est = kde_mi_labels(t, labels, noise_variance=noise)
    upper = math.log(2) - math.log1p(math.exp(-2.0 / noise))
    lower = math.log(2) - math.log1p(math.exp(-0.5 / noise))
    assert est.upper == pytest.approx(upper, abs=1e-12)
    assert est.value == pytest.approx(upper, abs=1e-12)  # KL form throughout
    assert est.lower == pytest.approx(lower, abs=1e-12)
    assert 0.0 < est.lower < _mixture_information(1.0, noise) < est.upper < math.log(2) - 0.01


def test_kl_value_on_sampled_classes_records_its_overestimate(rng):
    # T | Y ~ N(+-1, 1) plus noise 0.5: I(T + Z; Y) = 0.2522 by quadrature; the KL-form value
    # measured 0.311 (sd 0.009 over 10 runs): it overestimates by ~0.06 nats here.
    exact = _mixture_information(1.0, 1.5)
    labels = rng.integers(0, 2, size=2000)
    t = np.where(labels == 1, 1.0, -1.0) + rng.normal(size=2000)
    est = kde_mi_labels(t, labels, noise_variance=0.5)
    assert exact == pytest.approx(0.2522, abs=1e-4)
    assert est.value == pytest.approx(0.311, abs=0.04)  # 4 sd


@pytest.mark.parametrize("scale", [1e-3, 1e-2, 0.37, 10.0, 1e3])
def test_relative_noise_is_invariant_under_rescaling(rng, scale):
    t = np.maximum(rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)), 0.0)
    labels = rng.integers(0, 3, size=300)
    base = kde_mi_plane(t, labels, noise_variance=0.2, relative_noise=True)
    moved = kde_mi_plane(scale * t, labels, noise_variance=0.2, relative_noise=True)
    for a, b in zip(base, moved, strict=True):
        assert b.value == pytest.approx(a.value, rel=1e-6)
        assert b.lower == pytest.approx(a.lower, rel=1e-6)
    # The absolute noise is rho times the layer's total variance tr Cov(T) ...
    expected = 0.2 * np.sum(np.var(scale * t, axis=0))
    assert moved[0].hyperparameters["absolute_noise_variance"] == pytest.approx(expected, 1e-12)
    # ... and equals the absolute-noise estimate at that variance; absolute noise is not invariant.
    same = kde_mi_input(scale * t, noise_variance=expected)
    assert same.value == pytest.approx(moved[0].value, rel=1e-9)
    if scale != 1.0:
        assert kde_mi_input(scale * t).value != pytest.approx(kde_mi_input(t).value, rel=1e-3)


def test_relative_noise_on_a_constant_layer_gives_zero():
    est = kde_mi_input(np.full((50, 3), 2.5), relative_noise=True)
    assert est.value == pytest.approx(0.0, abs=1e-12) and est.lower == pytest.approx(0, abs=1e-12)


def test_float32_pairwise_sums_agree_with_float64(rng):
    # Centred first, the float32 rounding error in each squared distance is ~1e-7 |t - mean|^2:
    # for these unit-spread, offset activations a relative error ~1e-5 per kernel term at most,
    # and it averages out; measured differences were ~3e-7 nats.
    labels = rng.integers(0, 10, size=1000)
    for t in (
        100.0 + 0.02 * rng.normal(size=(1000, 256)),
        np.maximum(rng.normal(size=(1000, 64)), 0),
    ):
        wide = kde_mi_plane(t, labels, noise_variance=0.1)
        narrow = kde_mi_plane(t, labels, noise_variance=0.1, dtype="float32")
        for a, b in zip(wide, narrow, strict=True):
            assert abs(a.value - b.value) < 1e-5 and abs(a.lower - b.lower) < 1e-5
        assert narrow[0].hyperparameters["dtype"] == "float32"


def test_trailing_axes_are_flattened_and_float32_accepted(rng):
    t = rng.normal(size=(64, 2, 3)).astype(np.float32)
    a = kde_mi_input(t)
    wide = t.reshape(64, 6).astype(np.float64)
    before = wide.copy()
    b = kde_mi_input(wide)
    assert a.value == pytest.approx(b.value, abs=1e-12)
    np.testing.assert_array_equal(wide, before)  # centring happens on a copy


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"noise_variance": -1.0}, r"`noise_variance`.*finite float > 0.*noise_variance=-1.0"),
        ({"noise_variance": float("nan")}, r"`noise_variance`"),
        ({"block_size": 0}, r"`block_size`.*integer >= 1.*block_size=0"),
        ({"dtype": "float16"}, r"`dtype`.*Received: dtype='float16'"),
    ],
)
def test_invalid_hyperparameters(kwargs, match):
    with pytest.raises(TypeError, match=r"`relative_noise`"):
        kde_mi_input(np.zeros((5, 2)), relative_noise="yes")
    with pytest.raises(ValueError, match=match):
        kde_mi_input(np.zeros((5, 2)), **kwargs)


def test_invalid_data():
    bad = np.zeros((5, 2))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"`t`: expected finite entries.*1 NaN"):
        kde_mi_input(bad)
    with pytest.raises(ValueError, match=r"`t`: expected at least 2 sample"):
        kde_mi_input(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"`t`.*shape \(0, 4\)"):
        kde_mi_input(np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r"`labels`: expected 5 class labels"):
        kde_mi_labels(np.zeros((5, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"`labels`: expected integer class labels"):
        kde_mi_labels(np.zeros((3, 2)), [0.5, 1.0, 0.0])


def test_block_plan_fits_20000_by_1024_in_2_gib():
    block = _blocks.plan_block_rows(20000, 1024, temporaries=KDE_TEMPORARIES)
    peak = _blocks.peak_bytes(20000, 1024, block, temporaries=KDE_TEMPORARIES)
    assert 1 <= block < 20000
    assert peak < 2 * 2**30  # about 0.5 GiB; a dense (n, n) float64 matrix alone is 3 GiB
    assert 20000**2 * 8 > 2 * 2**30


def test_measured_peak_memory_stays_within_the_block_plan():
    # In a fresh process, the resident-set high-water mark reset just before the call: n = 8000
    # needs 488 MiB for one dense (n, n) float64 matrix; the blocked pass must stay under its own
    # plan (~135 MiB at block 128, 64 of them an allowance for TensorFlow's own buffers).
    script = textwrap.dedent(
        """
        import numpy as np
        from keras_rg.information import kde_mi_input
        def kib(field):
            return next(int(line.split()[1]) for line in open("/proc/self/status")
                        if line.startswith(field))
        t = np.random.default_rng(0).normal(size=(8000, 32))
        kde_mi_input(t[:64], block_size=16)
        kde_mi_input(t[:300], block_size=128)
        with open("/proc/self/clear_refs", "w") as f:  # reset the high-water mark to now
            f.write("5")
        before = kib("VmRSS:")
        kde_mi_input(t, block_size=128)
        print((kib("VmHWM:") - before) * 1024)
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    measured = int(out.stdout.strip().splitlines()[-1])
    planned = _blocks.peak_bytes(8000, 32, 128, temporaries=KDE_TEMPORARIES)
    assert measured <= planned
    assert measured < 8000**2 * 8 / 4  # under a quarter of one dense matrix
