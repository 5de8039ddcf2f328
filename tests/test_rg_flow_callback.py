"""Tests for the RGFlow callback: closed forms, logged norms against NumPy, selection, config."""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_rg.callbacks.rg_flow import RGFlow
from keras_rg.flow import beta_coefficients, closed_form_flow
from keras_rg.layers import ScaleCovariantDense
from keras_rg.rg_optimizer import RGOptimizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALPHAS = {"a05": 0.5, "a10": 1.0, "a20": 2.0}
PLAIN_ALPHA = 1.5


@keras.saving.register_keras_serializable(package="keras_rg_tests")
def tanh_beta(theta):
    """A nonlinear user beta, β(θ) = tanh(θ)."""
    return keras.ops.tanh(theta)


@keras.saving.register_keras_serializable(package="keras_rg_tests")
def is_ours(layer):
    return isinstance(layer, ScaleCovariantDense)


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 2)).astype("float32")


def _model(seed=3, dropout=False):
    """Our layers with α < 1, = 1, > 1 (non-zero biases), a plain Dense, a plain head."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    h = inputs
    for name, alpha in ALPHAS.items():
        h = ScaleCovariantDense(4, alpha=alpha, bias_initializer="random_normal", name=name)(h)
    h = keras.layers.Dense(3, activation="tanh", bias_initializer="ones", name="plain")(h)
    if dropout:
        h = keras.layers.Dropout(0.3)(h)
    return keras.Model(inputs, keras.layers.Dense(2, bias_initializer="ones", name="head")(h))


def _numpy_betas(model):
    """{(layer, role): β as a NumPy function}: the callback's selection in closed form."""
    out = {}
    for name, alpha in {**ALPHAS, "plain": PLAIN_ALPHA}.items():
        c_w, c_b = beta_coefficients(alpha)
        out[(name, "kernel")] = lambda t, c=c_w: c * t
        out[(name, "bias")] = lambda t, c=c_b: c * t
    out[("head", "bias")] = np.tanh
    return out


SELECTION = dict(alpha={"plain": PLAIN_ALPHA}, betas={"head/bias": tanh_beta})


@pytest.mark.parametrize("direction", ["paper", "reverse"])
def test_zero_gradient_matches_closed_forms_and_numpy(direction, tmp_path):
    model = _model()
    w0 = {(v.path.split("/")[-2], v.name): v.numpy().astype(np.float64) for v in model.weights}
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    # A piecewise-constant ε schedule: the closed form becomes Π_t (1 − sε_t c).
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([4], [0.05, 0.02])
    eps = [0.05] * 5 + [0.02] * 7  # steps 0..4 use 0.05 (boundary inclusive), 5..11 use 0.02
    log = tmp_path / "log.csv"
    x, y = _data()
    flow = RGFlow(schedule, direction, **SELECTION)
    # Two fit() calls of 6 steps with the same callback: the schedule index continues.
    model.fit(x[:48], y[:48], batch_size=8, verbose=0, callbacks=[flow])
    model.fit(
        x[48:],
        y[48:],
        batch_size=8,
        verbose=0,
        callbacks=[flow, keras.callbacks.CSVLogger(str(log))],
    )
    sign = 1.0 if direction == "paper" else -1.0
    for (layer, role), beta in _numpy_betas(model).items():
        var = getattr(model.get_layer(layer), role)
        expected = w0[(layer, role)]
        for e in eps:
            expected = expected - sign * e * beta(expected)
        # float32 updates, 12 steps, ≤ 3 roundings of 2^-24 each: ≤ 2.2e-6 relative.
        np.testing.assert_allclose(var.numpy(), expected, rtol=2.2e-6)
    # The linear ones also equal the closed form (docs/rg_flow.md, "Signs") for constant ε (first 5 steps).
    c_w, c_b = beta_coefficients(0.5)
    five = closed_form_flow(w0[("a05", "bias")], c_b, 0.05, 5, direction)
    np.testing.assert_allclose(
        closed_form_flow(five, c_b, 0.02, 7, direction),
        model.get_layer("a05").bias.numpy(),
        rtol=2.2e-6,
    )
    # Untouched: no α for the head kernel.
    np.testing.assert_array_equal(model.get_layer("head").kernel.numpy(), w0[("head", "kernel")])
    with open(log) as f:
        row = next(csv.DictReader(f))
    assert float(row["rg_epsilon"]) == pytest.approx(0.02)
    assert {"rg_beta_norm", "rg_beta_norm/a05", "rg_beta_norm/plain", "rg_beta_norm/head"} <= set(
        row
    )


def test_epsilon_zero_is_bit_identical_to_plain_fit():
    x, y = _data()
    runs = []
    for callbacks in ([], [RGFlow(0.0, **SELECTION)]):
        model = _model(dropout=True)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        keras.utils.set_random_seed(11)  # same shuffling and dropout masks
        hist = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)
        bits = [np.ascontiguousarray(v.numpy()).view(np.uint32) for v in model.trainable_variables]
        runs.append((bits, hist.history["loss"]))
    assert runs[0][1] == runs[1][1]
    for a, b in zip(runs[0][0], runs[1][0], strict=True):
        np.testing.assert_array_equal(a, b)


def test_logged_norms_equal_numpy_recomputation_from_saved_weights(tmp_path):
    x, y = _data()
    model = _model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    path = str(tmp_path / "w{epoch}.weights.h5")
    flow = RGFlow(0.01, **SELECTION)
    hist = model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[flow, keras.callbacks.ModelCheckpoint(path, save_weights_only=True)],
    )
    fresh = _model(seed=99)
    betas = _numpy_betas(fresh)
    for epoch in (1, 2):
        fresh.load_weights(path.format(epoch=epoch))
        per_layer = {}
        for (layer, role), beta in betas.items():
            theta = getattr(fresh.get_layer(layer), role).numpy().astype(np.float64)
            per_layer[layer] = per_layer.get(layer, 0.0) + float(np.sum(beta(theta) ** 2))
        # float32 sums of ≤ 16 squares on the device vs float64 here: ≤ 16·2^-24 ≈ 1e-6 relative.
        for layer, sq in per_layer.items():
            logged = hist.history[f"rg_beta_norm/{layer}"][epoch - 1]
            assert logged == pytest.approx(np.sqrt(sq), rel=2e-6), layer
        total = hist.history["rg_beta_norm"][epoch - 1]
        assert total == pytest.approx(np.sqrt(sum(per_layer.values())), rel=2e-6)
    assert hist.history["rg_epsilon"] == [0.01, 0.01]


def test_mirrored_strategy_closed_form(two_cpu_strategy):
    with two_cpu_strategy.scope():
        model = _model()
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    b0 = model.get_layer("a20").bias.numpy()
    x, y = _data(n=64)
    model.fit(x, y, batch_size=16, verbose=0, callbacks=[RGFlow(0.05)])  # 4 steps
    c_b = beta_coefficients(2.0)[1]
    for component in two_cpu_strategy.experimental_local_results(model.get_layer("a20").bias.value):
        np.testing.assert_allclose(
            np.asarray(component), closed_form_flow(b0, c_b, 0.05, 4), rtol=1e-6
        )  # 4 steps × 3 roundings of 2^-24


def test_selection_and_warnings():
    x, y = _data(n=16)
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    flow = RGFlow(0.0, layer_types=[keras.layers.Dense], alpha=PLAIN_ALPHA)
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[flow])
    assert {t.layer for t in flow.targets} == {"plain", "head"}
    flow = RGFlow(0.0, predicate=is_ours, layer_names="a*")
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[flow])
    assert {t.layer for t in flow.targets} == set(ALPHAS)
    # A typo in a layer name raises, listing the model's layers.
    with pytest.raises(
        ValueError, match="unknown layer names in `layer_names`: \\['hed'\\].*'head'"
    ):
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[RGFlow(layer_names="hed")])
    # A selection that exists but has no default beta raises instead of logging a norm of 0.0.
    with pytest.raises(
        ValueError, match="RGFlow selected no variables.*layer_names=\\('plain',\\)"
    ):
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[RGFlow(layer_names="plain")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", steps_per_execution=2)
    with pytest.warns(UserWarning, match="steps_per_execution"):
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[RGFlow()])
    fused = RGOptimizer.for_model(model, keras.optimizers.SGD(0.0), 0.1)
    model.compile(optimizer=fused, loss="mse")
    with pytest.warns(UserWarning, match="applied twice.*epsilon=0.001"):
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[RGFlow(1e-3)])


def test_config_roundtrip_is_json_and_rebuilds():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    flow = RGFlow(
        schedule,
        "reverse",
        beta="covariant",
        delta=1.5,
        alpha={"plain": 2.0},
        betas={"head/bias": tanh_beta, "plain/kernel": None},
        layer_types=[keras.layers.Dense, "ScaleCovariantDense"],
        layer_names=["a*", "plain", "head"],
        predicate=is_ours,
    )
    config = flow.get_config()
    json.dumps(config)
    back = RGFlow.from_config(json.loads(json.dumps(config)))
    assert back.get_config() == config
    assert back.predicate is is_ours
    assert back.betas["head/bias"] is tanh_beta


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="`epsilon`.*epsilon=-1.0"):
        RGFlow(-1.0)
    with pytest.raises(ValueError, match="`epsilon`.*epsilon=inf"):
        RGFlow(float("inf"))
    with pytest.raises(TypeError, match="`epsilon`"):
        RGFlow("big")
    with pytest.raises(TypeError, match="`epsilon`.*'1e-3' of type str"):
        RGFlow(epsilon="1e-3")
    with pytest.raises(TypeError, match="`epsilon`.*True of type bool"):
        RGFlow(epsilon=True)
    assert RGFlow(epsilon=np.float32(0.5)).epsilon == 0.5  # NumPy scalars are numbers
    with pytest.raises(ValueError, match="`direction`.*'downhill'"):
        RGFlow(direction="downhill")
    with pytest.raises(ValueError, match="`beta`.*'exact'"):
        RGFlow(beta="exact")
    with pytest.raises(ValueError, match="`delta`"):
        RGFlow(delta=1.0)
    with pytest.raises(ValueError, match="`alpha`.*alpha=-2"):
        RGFlow(alpha=-2.0)
    with pytest.raises(TypeError, match="`betas`"):
        RGFlow(betas={"head/bias": 3.0})
    with pytest.raises(TypeError, match="`layer_names`"):
        RGFlow(layer_names=[1])
    with pytest.raises(TypeError, match="`predicate`"):
        RGFlow(predicate="ours")
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="`betas`.*shape"):
        model.fit(*_data(n=8), verbose=0, callbacks=[RGFlow(betas={"head": lambda t: t[:1]})])


def test_example_runs_quick():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "rg_flow.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    # The report printed before training: every row's c and factor are the closed forms
    # c_W = α − 1, c_b = −α and f = 1 − εc with ε = 1e-3 (the paper's β and sign).
    before = out.stdout.split("After training")[0]
    rows = [line.split() for line in before.splitlines() if line.split()[:1]
            and line.split()[0].endswith(("/kernel", "/bias"))]  # fmt: skip
    alphas = {"conv_a05": 0.5, "conv_a10": 1.0, "plain_dense": 1.0, "head_a20": 2.0}
    assert len(rows) == 2 * len(alphas)
    for variable, alpha, c, norm, _, factor, stability in rows:
        layer, role = variable.split("/")[-2:]
        expected_c = alphas[layer] - 1.0 if role == "kernel" else -alphas[layer]
        assert float(alpha) == alphas[layer]
        assert float(c) == expected_c
        if variable == "conv_a05/bias":  # initialised to ones (8 filters): ‖β(b)‖ = α·√8
            assert float(norm) == pytest.approx(0.5 * np.sqrt(8), rel=1e-3)
        assert float(factor) == pytest.approx(1.0 - 1e-3 * expected_c, abs=1e-12)
        assert stability == ("marginal" if expected_c == 0 else
                             "expanding" if expected_c < 0 else "contracting")  # fmt: skip
    assert "rg_beta_norm" in out.stdout


def test_nothing_selected_raises_at_train_begin():
    """A plain model with no alpha or betas: raise at on_train_begin, not log rg_beta_norm=0."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="only")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="RGFlow selected no variables.*pass `alpha`"):
        model.fit(*_data(n=8), verbose=0, callbacks=[RGFlow(1e-3)])


def test_alpha_lists_skipped_weights_once():
    """With alpha=, weights outside W·x + b (LSTM, Embedding, BatchNormalization) are listed."""
    inputs = keras.Input((5,), dtype="int32")
    h = keras.layers.Embedding(10, 4, name="emb")(inputs)
    h = keras.layers.LSTM(3, name="lstm")(h)
    h = keras.layers.BatchNormalization(name="bn")(h)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(h))
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).integers(0, 10, (8, 5))
    flow = RGFlow(1e-3, alpha=1.5)
    with pytest.warns(UserWarning, match="skips 6 trainable weight") as caught:
        model.fit(x, np.zeros((8, 2)), verbose=0, callbacks=[flow])
    skips = [w for w in caught if "skips" in str(w.message)]
    assert len(skips) == 1  # once per fit, not per batch
    message = str(skips[0].message)
    for path in ("emb/embeddings", "lstm_cell/kernel", "lstm_cell/recurrent_kernel", "bn/gamma"):
        assert path in message
    assert "Embedding has no `kernel` or `bias`" in message
    assert {t.layer for t in flow.targets} == {"out"}


def _trained(eps, strategy=None, policy="float32", weights=None, fused=False, initial_scale=None):
    """Weights and optimizer steps after 2 epochs (8 steps) of SGD + the RG step on fixed data."""
    x, y = _data(n=64)
    keras.config.set_dtype_policy(policy)
    try:

        def build():
            model = _model()
            if weights is not None:
                model.set_weights(weights)
            sgd = keras.optimizers.SGD(0.05)
            opt = RGOptimizer.for_model(model, sgd, eps, **SELECTION) if fused else sgd
            if initial_scale is not None:
                opt = keras.optimizers.LossScaleOptimizer(opt, initial_scale=initial_scale)
            model.compile(optimizer=opt, loss="mse")
            return model

        if strategy is None:
            model = build()
        else:
            with strategy.scope():
                model = build()
        callbacks = [] if fused else [RGFlow(eps, **SELECTION)]
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=callbacks)
        weights = [np.asarray(v, dtype=np.float64) for v in model.trainable_variables]
        return weights, int(np.asarray(model.optimizer.iterations.numpy()))
    finally:
        keras.config.set_dtype_policy("float32")


def _max_gap(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b, strict=True))


def test_mirrored_training_matches_a_single_device_run(two_cpu_strategy):
    """With real gradients, the callback under MirroredStrategy follows the single-device run."""
    distributed, _ = _trained(0.05, two_cpu_strategy)
    single, _ = _trained(0.05)
    no_flow, _ = _trained(0.0)
    # Gradients summed over 2 replicas instead of one batch: float32 reordering, ~1e-7 relative
    # per step over 8 steps; 1e-5 leaves margin.
    for a, b in zip(distributed, single, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # ...and the RG step ran on both replicas: it moves the weights far beyond that tolerance.
    assert _max_gap(single, no_flow) > 1e-2


def test_mixed_float16_training_matches_float32():
    """Under mixed_float16 (float32 variables, float16 compute) the trajectory stays within the
    float16 rounding of the float32 run; the RG step moves the weights far more than that gap.
    The loss scale starts at 2^8 so that no step overflows and is skipped (next test)."""
    start = [np.asarray(w) for w in _model().get_weights()]
    reference, _ = _trained(0.05, weights=start)
    mixed, steps = _trained(0.05, policy="mixed_float16", weights=start, initial_scale=2.0**8)
    no_flow, _ = _trained(0.0, weights=start)
    scale = max(float(np.max(np.abs(a))) for a in reference)
    assert steps == 8
    # float16 keeps 11 significant bits (4.9e-4 relative); 8 SGD steps on float16 gradients
    # compound a few of them.
    assert _max_gap(mixed, reference) <= 5e-3 * scale
    assert _max_gap(reference, no_flow) > 20 * _max_gap(mixed, reference)


def test_steps_skipped_by_loss_scaling_skip_the_rg_step():
    """The default loss scale (2^15) overflows on the first step, which the LossScaleOptimizer
    skips; RGFlow skips its RG step with it, so it follows RGOptimizer (whose step lives inside
    the skipped update) instead of taking one RG step more."""
    start = [np.asarray(w) for w in _model().get_weights()]
    callback, steps = _trained(0.05, policy="mixed_float16", weights=start)
    fused, fused_steps = _trained(0.05, policy="mixed_float16", weights=start, fused=True)
    assert steps == fused_steps == 7  # one of 8 steps skipped
    # The same float16 computations in the same order: the float32 margin of the fused test.
    for a, b in zip(callback, fused, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
