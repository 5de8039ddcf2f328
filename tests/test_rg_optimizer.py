"""Tests for keras_rg.rg_optimizer.RGOptimizer: closed forms, bit identity, equivalence, tf.distribute."""

import keras
import numpy as np
import pytest

from keras_rg.callbacks.rg_flow import RGFlow
from keras_rg.flow import LinearBeta, beta_coefficients, closed_form_flow
from keras_rg.layers import ScaleCovariantDense
from keras_rg.rg_optimizer import RGOptimizer
from tests.helpers import assert_config_roundtrip, assert_model_roundtrip

ALPHAS = {"a05": 0.5, "a10": 1.0, "a20": 2.0}


@keras.saving.register_keras_serializable(package="keras_rg_tests")
def soft_beta(theta):
    """A nonlinear user beta, β(θ) = tanh(θ)."""
    return keras.ops.tanh(theta)


def _data(n=96, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype("float32"), rng.normal(size=(n, k)).astype("float32")


def _alpha_model(seed=3, dropout=False):
    """Three of our layers with α < 1, = 1, > 1 (non-zero biases) and a plain Dense head."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    h = inputs
    for name, alpha in ALPHAS.items():
        h = ScaleCovariantDense(4, alpha=alpha, bias_initializer="random_normal", name=name)(h)
    if dropout:
        h = keras.layers.Dropout(0.3)(h)
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(h))


def _bits(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32)).view(np.uint32)


@pytest.mark.parametrize(
    "direction, jit_compile, steps_per_execution",
    [("paper", True, 4), ("reverse", False, 1)],
)
def test_zero_gradient_follows_the_closed_form(direction, jit_compile, steps_per_execution):
    model = _alpha_model()
    w0 = {v.path: v.numpy() for v in model.trainable_variables}
    eps, steps = 0.05, 12
    opt = RGOptimizer.for_model(model, keras.optimizers.SGD(0.0), eps, direction)
    model.compile(
        optimizer=opt, loss="mse", jit_compile=jit_compile, steps_per_execution=steps_per_execution
    )
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # 96 / 8 = 12 steps
    assert int(opt.iterations) == steps
    for name, alpha in ALPHAS.items():
        layer = model.get_layer(name)
        c_w, c_b = beta_coefficients(alpha)
        for var, c in ((layer.kernel, c_w), (layer.bias, c_b)):
            expected = closed_form_flow(w0[var.path], c, eps, steps, direction)
            # Each float32 step rounds εc·θ, the product and the difference: ≤ 3·2^-24 relative,
            # so ≤ 12·3·2^-24 ≈ 2.1e-6 after 12 steps.
            np.testing.assert_allclose(var.numpy(), expected, rtol=2.2e-6, atol=0)
    # The plain head has no α: untouched.
    head = model.get_layer("head")
    np.testing.assert_array_equal(np.asarray(head.kernel), w0[head.kernel.path])


def test_epsilon_zero_is_bit_identical_to_plain_fit():
    x, y = _data()
    runs = []
    for wrap in (False, True):
        model = _alpha_model(dropout=True)
        inner = keras.optimizers.Adam(1e-2)
        opt = RGOptimizer.for_model(model, inner, epsilon=0.0) if wrap else inner
        model.compile(optimizer=opt, loss="mse")
        keras.utils.set_random_seed(11)  # same shuffling and dropout masks
        hist = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        runs.append(([_bits(v) for v in model.trainable_variables], hist.history["loss"]))
    (plain_w, plain_loss), (rg_w, rg_loss) = runs
    assert plain_loss == rg_loss
    for a, b in zip(plain_w, rg_w, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fused_and_callback_give_the_same_trajectory():
    x, y = _data()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=4, decay_rate=0.5)
    selection = dict(alpha=1.5, betas={"head/bias": soft_beta})
    results = []
    for fused in (True, False):
        model = _alpha_model()
        inner = keras.optimizers.Adam(1e-2)
        if fused:
            model.compile(
                optimizer=RGOptimizer.for_model(model, inner, schedule, **selection), loss="mse"
            )
            callbacks = []
        else:
            model.compile(optimizer=inner, loss="mse")
            callbacks = [RGFlow(schedule, **selection)]
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=callbacks)
        results.append([v.numpy() for v in model.trainable_variables])
    # The same float32 operations in the same order; at most op fusion could differ (≤ 1 ulp per
    # step over 24 steps), so rtol 1e-6 is the float32 margin. (Measured: bit-identical.)
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_mirrored_strategy_matches_a_single_device_run(two_cpu_strategy):
    x, y = _data(n=64)

    def run(strategy, eps):
        def build():
            model = _alpha_model()
            # A schedule: ε reaches the per-device update as a per-replica tensor.
            schedule = keras.optimizers.schedules.ExponentialDecay(eps, 4, 0.5)
            opt = RGOptimizer.for_model(model, keras.optimizers.SGD(0.05), schedule, alpha=1.5)
            model.compile(optimizer=opt, loss="mse")
            return model

        if strategy is None:
            model = build()
        else:
            with strategy.scope():
                model = build()
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)  # 8 global steps
        return [v.numpy() for v in model.trainable_variables]

    distributed = run(two_cpu_strategy, 0.05)
    single = run(None, 0.05)
    no_flow = run(None, 0.0)
    # Gradients are summed across 2 replicas instead of over one batch: float32 reordering,
    # ~1e-7 relative per step over 8 steps; 1e-5 leaves margin.
    for a, b in zip(distributed, single, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # ...and the RG step really ran on both replicas: it moves the weights far beyond that.
    moved = max(np.max(np.abs(a - b)) for a, b in zip(single, no_flow, strict=True))
    assert moved > 1e-3


def test_mixed_float16_with_loss_scaling_keeps_the_closed_form():
    keras.config.set_dtype_policy("mixed_float16")
    model = _alpha_model()
    w0 = np.asarray(model.get_layer("a05").bias)
    model.compile(
        optimizer=RGOptimizer.for_model(model, keras.optimizers.SGD(0.0), 0.05), loss="mse"
    )
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    bias = model.get_layer("a05").bias
    assert keras.backend.standardize_dtype(bias.dtype) == "float32"
    np.testing.assert_allclose(
        np.asarray(bias), closed_form_flow(w0, -0.5, 0.05, 12), rtol=2.2e-6
    )  # float32 variables: the bound of the zero-gradient test


def test_serialization_and_resumed_training(tmp_path):
    x, y = _data()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=4, decay_rate=0.5)
    model = _alpha_model()
    opt = RGOptimizer.for_model(
        model, keras.optimizers.Adam(1e-2), schedule, "reverse", betas={"head/kernel": soft_beta}
    )
    back = assert_config_roundtrip(opt)
    assert back.betas == {k: v for k, v in opt.betas.items()}
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    loaded = assert_model_roundtrip(model, x, tmp_path)
    assert isinstance(loaded.optimizer, RGOptimizer)
    assert loaded.optimizer.get_config() == opt.get_config()
    assert int(loaded.optimizer.iterations) == 12
    for m in (model, loaded):
        m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    # Same weights, optimizer moments and ε schedule position: the same next epoch.
    for a, b in zip(model.trainable_variables, loaded.trainable_variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_bad_input_names_the_argument():
    model = _alpha_model()
    sgd = keras.optimizers.SGD(0.1)
    with pytest.raises(TypeError, match="`inner_optimizer`"):
        RGOptimizer(object(), {})
    with pytest.raises(ValueError, match="`epsilon`.*epsilon=-0.5"):
        RGOptimizer(sgd, {}, epsilon=-0.5)
    with pytest.raises(ValueError, match="`epsilon`.*epsilon=nan"):
        RGOptimizer(sgd, {}, epsilon=float("nan"))
    with pytest.raises(ValueError, match="`direction`.*'up'"):
        RGOptimizer(sgd, {}, direction="up")
    with pytest.raises(ValueError, match="weight_decay"):
        RGOptimizer(sgd, {}, weight_decay=0.1)
    with pytest.raises(ValueError, match="`betas`.*'nope/kernel'"):
        RGOptimizer(sgd, {"nope/kernel": LinearBeta(1.0)}).build(model.trainable_variables)
    with pytest.raises(ValueError, match="`betas`.*shape"):
        RGOptimizer(sgd, {"head/kernel": lambda t: t[0]}).build(model.trainable_variables)
    with pytest.raises(ValueError, match="unknown layer names.*\\['missing'\\].*'a05'"):
        RGOptimizer.for_model(model, sgd, layer_names="missing")
    with pytest.raises(ValueError, match="for_model selected no variables"):
        RGOptimizer.for_model(model, sgd, layer_names="head")
    with pytest.raises(TypeError, match="`epsilon`.*'1e-3'"):
        RGOptimizer(sgd, {}, epsilon="1e-3")
