"""Scale-covariant layers: Theorem 1 (exact covariance), adaptive homogeneity, zero safety, model
kinds, jit, mixed precision, MirroredStrategy, saving, learning, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rg.activations import PowerLaw, ScaleAware
from keras_rg.layers import ScaleCovariantConv1D, ScaleCovariantDense
from keras_rg.systems.signals import make_signals, train_test_signals
from tests.helpers import assert_model_roundtrip

ACTIVATIONS = [ScaleAware("tanh", 0.5), ScaleAware("gelu", 1.0), ScaleAware("softplus", 2.0),
               PowerLaw(1.5)]  # fmt: skip


def _dense(act, **kw):
    layer = ScaleCovariantDense(5, activation=act, dtype="float64", **kw)
    layer.build((None, 4))
    return layer


def _conv(act, **kw):
    layer = ScaleCovariantConv1D(3, 4, activation=act, padding="same", dtype="float64", **kw)
    layer.build((None, 16, 2))
    return layer


def _randomise(layer, rng):
    for v in layer.weights:
        v.assign(rng.normal(size=v.shape))


@pytest.mark.parametrize("make, shape", [(_dense, (6, 4)), (_conv, (6, 16, 2))])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("lam", [0.1, 0.7, 3.0, 25.0])
def test_theorem_1_covariance(make, shape, act, lam, rng):
    # float64 throughout: the identities are exact algebra, so 1e-12 relative is rounding only.
    x = rng.normal(size=shape)
    s = 0.8
    free = make(act, use_bias=False, scale=s)
    _randomise(free, rng)
    lhs = free(lam * x).numpy()  # T(λx; s)
    rhs = lam**act.alpha * free(x, scale=lam * s).numpy()  # λ^α T(x; λs)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12 * np.abs(rhs).max())

    biased = make(act, use_bias=True, scale=s)
    _randomise(biased, rng)
    b = biased.bias.numpy()
    lhs = biased(lam * x).numpy()  # T(λx; s; b)
    biased.bias.assign(lam ** (-act.alpha) * b)  # running bias b ↦ λ^(−α) b
    rhs = lam**act.alpha * biased(x, scale=lam * s).numpy()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12 * np.abs(rhs).max())
    # without the running bias the covariance fails by exactly (1 − λ^α) b
    biased.bias.assign(b)
    gap = biased(lam * x).numpy() - lam**act.alpha * biased(x, scale=lam * s).numpy()
    np.testing.assert_allclose(gap, np.broadcast_to((1 - lam**act.alpha) * b, gap.shape),
                               atol=1e-10)  # fmt: skip


@pytest.mark.parametrize("make, shape", [(_dense, (6, 4)), (_conv, (6, 16, 2))])
@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
def test_adaptive_is_homogeneous(make, shape, act, rng):
    layer = make(act, scale_mode="adaptive", use_bias=False, scale=1.3)
    _randomise(layer, rng)
    x = rng.normal(size=shape)
    lams = np.exp(
        rng.uniform(np.log(1e-3), np.log(1e3), size=(shape[0],) + (1,) * (len(shape) - 1))
    )
    np.testing.assert_allclose(
        layer(lams * x).numpy(),
        lams.reshape((-1,) + (1,) * (len(shape) - 1)) ** act.alpha * layer(x).numpy(),
        rtol=1e-11, atol=1e-14,
    )  # fmt: skip
    # the scale in force is s0 / rms(x), per sample
    rms = np.sqrt(np.mean(x.reshape(shape[0], -1) ** 2, axis=1))
    np.testing.assert_allclose(layer.current_scale(x).numpy(), 1.3 / rms, rtol=1e-12)


def test_adaptive_zero_input_finite_outputs_and_gradients():
    layer = ScaleCovariantDense(3, activation=ScaleAware("softplus", 0.5), scale_mode="adaptive")
    x = tf.zeros((4, 6))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y**2)
    grads = tape.gradient(loss, [x] + layer.trainable_weights)
    assert np.all(np.isfinite(y.numpy()))
    # σ_s(0) with s = s0 = 1 is softplus(0) = log 2 for every input unit
    np.testing.assert_allclose(y.numpy(), np.log(2) * layer.kernel.numpy().sum(0)[None].repeat(4, 0),
                               rtol=1e-6)  # fmt: skip
    for g in grads:
        assert np.all(np.isfinite(g.numpy()))


def test_trainable_scale_is_log_parametrised_and_learns(rng):
    layer = ScaleCovariantDense(2, activation=ScaleAware("tanh", 1.0), scale_mode="trainable",
                                scale=2.0)  # fmt: skip
    layer.build((None, 3))
    assert layer.current_scale() == pytest.approx(2.0)
    np.testing.assert_allclose(layer.log_scale.numpy(), np.log(2.0), rtol=1e-7)
    x = rng.normal(size=(8, 3)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    g = tape.gradient(loss, layer.log_scale)
    assert g is not None and np.isfinite(g.numpy()) and g.numpy() != 0
    layer.log_scale.assign(-50.0)  # s stays positive however far log s moves
    assert layer.current_scale() > 0
    assert layer.alpha == 1.0 and layer.scaling_dimension == 1.0


def _sequential():
    return keras.Sequential([
        keras.Input((16, 1)),
        ScaleCovariantConv1D(4, 3, activation=ScaleAware("tanh", 0.5), scale_mode="adaptive"),
        keras.layers.GlobalMaxPooling1D(),
        ScaleCovariantDense(3, activation=ScaleAware("gelu", 1.0), scale_mode="trainable"),
    ])  # fmt: skip


def _functional():
    inp = keras.Input((16, 1))
    h = ScaleCovariantConv1D(4, 3, activation="gelu", alpha=0.5, padding="causal")(inp)
    h = keras.layers.Flatten()(h)
    out = ScaleCovariantDense(3, activation=ScaleAware("tanh", 1.0))(h)
    return keras.Model(inp, out)


@keras.saving.register_keras_serializable(package="keras_rg_tests")
class SubclassedNet(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = ScaleCovariantConv1D(4, 3, activation=ScaleAware("tanh", 0.5), strides=2)
        self.pool = keras.layers.GlobalMaxPooling1D()
        self.head = ScaleCovariantDense(3, activation=ScaleAware("tanh", 1.0), use_bias=False)

    def call(self, x):
        return self.head(self.pool(self.conv(x)))


@pytest.mark.parametrize(
    "build", [_sequential, _functional, SubclassedNet], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("jit", [False, True])
def test_model_kinds_fit_and_save(build, jit, tmp_path, rng):
    x, y = make_signals(64, length=16, seed=3)
    model = build()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)  # fmt: skip
    history = model.fit(x, y % 3, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    if build is not SubclassedNet:
        assert_model_roundtrip(model, x[:8], tmp_path)
    else:
        model.save(tmp_path / "sub.keras")
        loaded = keras.models.load_model(tmp_path / "sub.keras")
        np.testing.assert_array_equal(loaded.predict(x[:8], verbose=0),
                                      model.predict(x[:8], verbose=0))  # fmt: skip


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    x, y = make_signals(64, length=16, seed=4)
    model = _sequential()
    layer = model.layers[0]
    assert layer.compute_dtype == policy.split("_")[1] and layer.kernel.dtype == "float32"
    out = model(x[:4])
    assert out.dtype == policy.split("_")[1]
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y % 3, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # the same weights in float32 give the same outputs, to the compute dtype's precision
    # (float16: 11-bit mantissa, ~5e-4 relative per op; bfloat16: 8 bits, ~4e-3 per op; a few
    # ops deep, so 2e-2 and 6e-2 of the output's scale)
    mixed_out = np.asarray(model(x[:16]), dtype=np.float32)
    weights = model.get_weights()
    keras.config.set_dtype_policy("float32")
    reference = _sequential()
    reference.set_weights(weights)
    ref_out = np.asarray(reference(x[:16]))
    tol = 6e-2 if policy == "mixed_bfloat16" else 2e-2
    np.testing.assert_allclose(mixed_out, ref_out, atol=tol * np.abs(ref_out).max())


def test_mirrored_strategy_matches_single_device(two_cpu_strategy):
    x, y = make_signals(64, length=16, seed=5)

    def train(strategy):
        keras.utils.set_random_seed(7)
        with strategy.scope():
            model = _sequential()
            model.compile(keras.optimizers.SGD(0.05),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
        model.fit(x, y % 3, epochs=2, batch_size=32, shuffle=False, verbose=0)
        return [w.numpy() for w in model.weights]

    single = train(tf.distribute.get_strategy())
    mirrored = train(two_cpu_strategy)
    for a, b in zip(single, mirrored, strict=True):
        # the same global batch split in two and all-reduced: equal up to summation order
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_learns_signals_above_90_percent():
    # the adaptive, bias-free covariant design on the demo's data sizes
    from keras_rg.models import build_scale_covariant

    (x, y), (xt, yt) = train_test_signals(4000, 1000, seed=11)
    model = build_scale_covariant((128, 1), 4, "covariant", "tanh", 1.0)
    model.compile(keras.optimizers.Adam(3e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])  # fmt: skip
    model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    acc = [model.evaluate(c * xt, yt, verbose=0)[1] for c in (1.0, 0.1, 10.0)]
    assert acc[0] >= 0.90
    # homogeneous network: the arg-max cannot change with the amplitude
    assert acc[1] == acc[0] and acc[2] == acc[0]


@pytest.mark.parametrize(
    "factory, exc, match",
    [
        (lambda: ScaleCovariantDense(3, alpha=-0.5), ValueError, r"`alpha`.*alpha=-0.5"),
        (lambda: ScaleCovariantDense(3, scale="2"), TypeError, r"`scale`.*'2'"),
        (lambda: ScaleCovariantDense(3, alpha="1"), TypeError, r"`alpha`"),
        (lambda: ScaleCovariantDense(3, scale_mode="local"), ValueError, r"'local' needs"),
        (lambda: ScaleCovariantDense(3, activation="relu", scale_mode="trainable"), ValueError,
         r"homogeneous.*relu"),
        (lambda: ScaleCovariantConv1D(3, 3, activation="leaky_relu", scale_mode="trainable"),
         ValueError, r"homogeneous.*leaky_relu"),
        (lambda: ScaleCovariantDense(3, activation=ScaleAware("linear", 0.5),
                                     scale_mode="trainable"), ValueError, r"homogeneous"),
        (lambda: ScaleCovariantDense(3, alpha=float("nan")), ValueError, r"`alpha`.*nan"),
        (lambda: ScaleCovariantDense(3, scale=-1.0), ValueError, r"`scale`.*scale=-1.0"),
        (lambda: ScaleCovariantDense(3, scale_mode="auto"), ValueError, r"`scale_mode`.*'auto'"),
        (lambda: ScaleCovariantDense(3, activation="nope"), ValueError, r"`base`.*'nope'"),
        (lambda: ScaleCovariantDense(0), ValueError, r"`units`.*units=0"),
        (lambda: ScaleCovariantDense(3, activation=PowerLaw(2.0), alpha=1.0), ValueError,
         r"`alpha`.*alpha=2.0"),
        (lambda: ScaleCovariantDense(3, activation=PowerLaw(2.0), scale_mode="trainable"),
         ValueError, r"scale_mode='trainable'.*PowerLaw"),
        (lambda: ScaleCovariantConv1D(3, 0), ValueError, r"`kernel_size`.*kernel_size=0"),
        (lambda: ScaleCovariantConv1D(3, 3, padding="full"), ValueError, r"`padding`.*'full'"),
    ],
)  # fmt: skip
def test_bad_arguments(factory, exc, match):
    with pytest.raises(exc, match=match):
        factory()


def test_non_float_input_is_a_type_error():
    layer = ScaleCovariantDense(3)
    with pytest.raises(TypeError, match=r"`inputs`.*floating-point.*int32"):
        layer(np.ones((2, 4), dtype="int32"))
    with pytest.raises(ValueError, match=r"inputs=None"):
        ScaleCovariantDense(3, scale_mode="adaptive").current_scale()


def test_output_shapes():
    for pad, steps in [("valid", 13), ("same", 16), ("causal", 16)]:
        layer = ScaleCovariantConv1D(5, 4, padding=pad)
        assert layer.compute_output_shape((None, 16, 2)) == (None, steps, 5)
        assert tuple(layer(np.zeros((2, 16, 2), "float32")).shape) == (2, steps, 5)
    layer = ScaleCovariantConv1D(5, 4, strides=3)
    assert tuple(layer(np.zeros((2, 16, 2), "float32")).shape) == layer.compute_output_shape(
        (2, 16, 2)
    )


def test_homogeneous_bases_reduce_to_plain_layers(rng):
    # relu: σ_s(x) = s^(1−α) relu(x): fixed mode is a plain layer with W scaled by s^(1−α),
    # adaptive mode a plain layer on x / rms(x)^(1−α) (docs/layers.md)
    x = rng.normal(size=(5, 4))
    layer = ScaleCovariantDense(3, activation=ScaleAware("relu", 0.5), scale=4.0,
                                dtype="float64")  # fmt: skip
    layer.build((None, 4))
    _randomise(layer, rng)
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), np.maximum(x, 0) @ (4.0**0.5 * w) + b,
                               rtol=1e-12)  # fmt: skip
    adaptive = ScaleCovariantDense(3, activation=ScaleAware("relu", 0.5), scale_mode="adaptive",
                                   use_bias=False, dtype="float64")  # fmt: skip
    adaptive.build((None, 4))
    _randomise(adaptive, rng)
    rms = np.sqrt(np.mean(x**2, axis=1, keepdims=True))
    np.testing.assert_allclose(adaptive(x).numpy(),
                               (np.maximum(x, 0) / rms**0.5) @ adaptive.kernel.numpy(),
                               rtol=1e-12)  # fmt: skip


def test_alpha_zero_adaptive_layer_is_invariant_with_bias(rng):
    layer = ScaleCovariantConv1D(3, 4, activation=ScaleAware("tanh", 0.0), scale_mode="adaptive",
                                 dtype="float64")  # fmt: skip
    layer.build((None, 16, 2))
    _randomise(layer, rng)
    x = rng.normal(size=(4, 16, 2))
    lams = np.array([1e-3, 0.5, 7.0, 1e4]).reshape(4, 1, 1)
    np.testing.assert_allclose(layer(lams * x).numpy(), layer(x).numpy(), rtol=1e-12)
