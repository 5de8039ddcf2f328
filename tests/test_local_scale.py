"""The local scale mode and ScaleCovariantConv2D: the local covariance law of docs/layers.md
(exact for a gain constant over the window, bounded for a slowly varying one), the window
statistics against a NumPy reference, 2-D layers in models, bad arguments.

Keras's own layer-test harness (``keras.src.testing.TestCase.run_layer_test``) is private API;
it is used in this test module only, for ScaleCovariantConv2D, and skipped if it moves.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rg.activations import ScaleAware
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantConv2D, local_scale
from keras_rg.systems.signals import gain_envelopes, gain_fields
from tests.helpers import assert_model_roundtrip


def _reference_local_scale(x, s0, w, causal=False, per_channel=False):
    """NumPy loop: s0 / rms over the (cut) window of each step, 1-D."""
    sq = x**2 if per_channel else np.mean(x**2, axis=-1, keepdims=True)
    out = np.empty_like(sq)
    steps = x.shape[1]
    for t in range(steps):
        lo, hi = (t - w + 1, t + 1) if causal else (t - (w - 1) // 2, t - (w - 1) // 2 + w)
        lo, hi = max(lo, 0), min(hi, steps)
        out[:, t] = s0 / np.sqrt(sq[:, lo:hi].mean(axis=1))
    return out


@pytest.mark.parametrize("w", [1, 4, 9])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("per_channel", [False, True])
def test_local_scale_matches_reference(w, causal, per_channel, rng):
    x = rng.normal(size=(3, 20, 2))
    got = np.asarray(local_scale(tf.constant(x), 0.7, (w,), causal=causal,
                                 per_channel=per_channel))  # fmt: skip
    np.testing.assert_allclose(got, _reference_local_scale(x, 0.7, w, causal, per_channel),
                               rtol=1e-12)  # fmt: skip


def test_local_scale_is_zero_safe():
    x = np.zeros((1, 12, 1))
    x[0, 8:] = 2.0
    s = np.asarray(local_scale(tf.constant(x), 1.5, (3,)))
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[0, :6, 0], 1.5)  # windows of zeros: s = s0
    np.testing.assert_allclose(s[0, 9:11, 0], 1.5 / 2.0)


def _conv1d(alpha, w, **kw):
    layer = ScaleCovariantConv1D(3, 5, activation=ScaleAware("tanh", alpha), scale_mode="local",
                                 window=w, use_bias=False, dtype="float64", **kw)  # fmt: skip
    layer.build((None, 64, 2))
    return layer


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("kw", [{}, {"causal": True}, {"per_channel": True}], ids=str)
def test_exact_law_for_piecewise_constant_gain(alpha, kw, rng):
    # g = λ1 on steps < 32, λ2 after: every output whose receptive field and windows lie on one
    # side is T(gx)_u = λ^α T(x)_u to float64 rounding.
    w, k = 7, 5
    layer = _conv1d(alpha, w, **kw)
    x = rng.normal(size=(4, 64, 2))
    lam1, lam2 = 0.01, 250.0
    g = np.where(np.arange(64) < 32, lam1, lam2)[None, :, None]
    lhs, base = layer(g * x).numpy(), layer(x).numpy()
    reach = (w - 1) if kw.get("causal") else (w - 1) // 2  # window reach beyond the receptive field
    for u in range(lhs.shape[1]):
        steps = np.arange(u, u + k)
        lo = steps.min() - reach
        hi = steps.max() + (0 if kw.get("causal") else w - 1 - (w - 1) // 2)
        if hi < 32:
            lam = lam1
        elif lo >= 32:
            lam = lam2
        else:
            continue
        np.testing.assert_allclose(lhs[:, u], lam**alpha * base[:, u], rtol=1e-12,
                                   atol=1e-12 * np.abs(lam**alpha * base).max())  # fmt: skip
    # a constant gain: the whole output, any λ
    np.testing.assert_allclose(layer(37.0 * x).numpy(), 37.0**alpha * base, rtol=1e-12,
                               atol=1e-12 * 37.0**alpha * np.abs(base).max())  # fmt: skip


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("w", [5, 17])
def test_bounded_law_for_slowly_varying_gain(alpha, w, rng):
    # σ_{s'}(g x)_t = ḡ_t^α σ_s(r_t x_t) with ḡ_t = s_t / s'_t and r_t = g_t / ḡ_t, so
    # |h'_t − ḡ_t^α h_t| <= ḡ_t^α · L · s_t^(1−α) · |x_t| · (e^δ_t − 1), δ_t = the range of log g
    # over the window of t, L = 1 the Lipschitz constant of tanh (docs/layers.md).
    act = ScaleAware("tanh", alpha)
    x = rng.normal(size=(64, 128, 1))
    g = gain_envelopes(64, 128, log_std=1.0, seed=3).astype("float64")
    s = np.asarray(local_scale(tf.constant(x), 1.0, (w,)))
    s_g = np.asarray(local_scale(tf.constant(g * x), 1.0, (w,)))
    h = np.asarray(act(tf.constant(x), scale=s))
    h_g = np.asarray(act(tf.constant(g * x), scale=s_g))
    g_bar = s / s_g
    log_g = np.log(g[..., 0])
    half = (w - 1) // 2
    delta = np.stack([np.ptp(log_g[:, max(t - half, 0):t - half + w], axis=1)
                      for t in range(128)], axis=1)[..., None]  # fmt: skip
    # ḡ is an RMS-weighted mean of g over the window: inside [min g, max g]
    assert np.all(np.abs(np.log(g / g_bar)) <= delta + 1e-12)
    err = np.abs(h_g - g_bar**alpha * h)
    bound = g_bar**alpha * s ** (1 - alpha) * np.abs(x) * np.expm1(delta)
    assert np.all(err <= bound * (1 + 1e-9) + 1e-15)
    # the bound is informative: somewhere the error reaches a fair fraction of it
    assert np.max(err / np.maximum(bound, 1e-300)) > 0.2


def test_bounded_law_error_grows_with_the_gain_slope(rng):
    # a slower envelope (fewer cycles per window) gives a smaller δ and a smaller error
    act = ScaleAware("tanh", 0.0)
    x = rng.normal(size=(64, 128, 1))

    def worst(freq):
        g = gain_envelopes(64, 128, frequency_range=freq, seed=5).astype("float64")
        s_g = local_scale(tf.constant(g * x), 1.0, (9,))
        s = local_scale(tf.constant(x), 1.0, (9,))
        return float(np.mean(np.abs(np.asarray(act(tf.constant(g * x), scale=s_g))
                                    - np.asarray(act(tf.constant(x), scale=s)))))  # fmt: skip

    assert worst((0.1, 0.2)) < worst((0.5, 1.5)) < worst((3.0, 4.0))


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_conv2d_exact_law_and_adaptive_homogeneity(alpha, rng):
    x = rng.normal(size=(3, 12, 12, 2))
    layer = ScaleCovariantConv2D(4, 3, activation=ScaleAware("tanh", alpha), scale_mode="local",
                                 window=(3, 5), use_bias=False, dtype="float64")  # fmt: skip
    lam = np.array([0.01, 3.0, 400.0]).reshape(3, 1, 1, 1)
    np.testing.assert_allclose(layer(lam * x).numpy(), lam**alpha * layer(x).numpy(),
                               rtol=1e-11, atol=1e-14)  # fmt: skip
    # an illumination field constant over the top half, another over the bottom half
    g = np.where(np.arange(12)[:, None] < 6, 0.05, 20.0)[None, :, :, None] * np.ones((1, 1, 12, 1))
    out, base = layer(g * x).numpy(), layer(x).numpy()
    # rows 0..1 (top) and 8..9 (bottom) of the valid output: receptive field + window one side
    np.testing.assert_allclose(out[:, :2], 0.05**alpha * base[:, :2], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(out[:, 8:], 20.0**alpha * base[:, 8:], rtol=1e-11, atol=1e-14)
    adaptive = ScaleCovariantConv2D(4, (3, 2), strides=2, activation=ScaleAware("gelu", 0.5),
                                    scale_mode="adaptive", use_bias=False, dtype="float64")  # fmt: skip
    np.testing.assert_allclose(adaptive(lam * x).numpy(), lam**0.5 * adaptive(x).numpy(),
                               rtol=1e-11, atol=1e-14)  # fmt: skip


def test_gain_fields_are_smooth_and_seeded():
    g = gain_fields(200, (8, 8), log_std=1.0, seed=2)
    np.testing.assert_array_equal(g, gain_fields(200, (8, 8), log_std=1.0, seed=2))
    assert abs(np.log(g).std() - 1.0) < 0.15
    # neighbouring pixels differ far less than the field's spread
    assert np.abs(np.diff(np.log(g), axis=1)).mean() < 0.5


@pytest.mark.parametrize("jit", [False, True])
def test_conv2d_model_fits_and_saves(jit, tmp_path, rng):
    x = rng.normal(size=(32, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=32)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        ScaleCovariantConv2D(4, 3, activation="tanh", alpha=0.0, scale_mode="local", window=3,
                             per_channel=True, padding="same"),
        ScaleCovariantConv2D(4, (3, 3), activation="relu", strides=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(3),
    ])  # fmt: skip
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)  # fmt: skip
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert_model_roundtrip(model, x[:4], tmp_path)


def test_conv2d_mirrored_matches_single_device(two_cpu_strategy, rng):
    x = rng.normal(size=(32, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 2, size=32)

    def train(strategy):
        keras.utils.set_random_seed(3)
        with strategy.scope():
            model = keras.Sequential([
                keras.Input((6, 6, 1)),
                ScaleCovariantConv2D(3, 3, alpha=0.0, scale_mode="local", window=3),
                keras.layers.Flatten(),
                keras.layers.Dense(2),
            ])  # fmt: skip
            model.compile(keras.optimizers.SGD(0.05),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        return [w.numpy() for w in model.weights]

    for a, b in zip(train(tf.distribute.get_strategy()), train(two_cpu_strategy), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_keras_layer_test_harness():
    testing = pytest.importorskip("keras.src.testing")  # private Keras API: tests only
    case = testing.TestCase()
    case.run_layer_test(
        ScaleCovariantConv2D,
        init_kwargs={"filters": 3, "kernel_size": 3, "scale_mode": "local", "window": 3,
                     "alpha": 0.5, "padding": "same"},
        input_shape=(2, 6, 6, 2),
        expected_output_shape=(2, 6, 6, 3),
        expected_num_trainable_weights=2,
        supports_masking=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "factory, exc, match",
    [
        (lambda: ScaleCovariantConv1D(3, 3, scale_mode="local"), ValueError, r"window=None"),
        (lambda: ScaleCovariantConv1D(3, 3, scale_mode="local", window=0), ValueError,
         r"`window`.*window=0"),
        (lambda: ScaleCovariantConv1D(3, 3, scale_mode="local", window="9"), TypeError,
         r"`window`"),
        (lambda: ScaleCovariantConv1D(3, 3, window=9), ValueError, r"scale_mode='local' only"),
        (lambda: ScaleCovariantConv1D(3, 3, scale_mode="local", window=5, causal=1), TypeError,
         r"`causal`"),
        (lambda: ScaleCovariantConv2D(3, 3, scale_mode="local", window=(3, 3, 3)), ValueError,
         r"`window`.*2 integer"),
        (lambda: ScaleCovariantConv2D(3, 3, scale_mode="local", window=3, causal=True),
         ValueError, r"causal"),
        (lambda: ScaleCovariantConv2D(3, (3, 0)), ValueError, r"`kernel_size`"),
        (lambda: ScaleCovariantConv2D(3, 3, padding="causal"), ValueError, r"`padding`"),
    ],
)  # fmt: skip
def test_bad_local_arguments(factory, exc, match):
    with pytest.raises(exc, match=match):
        factory()
