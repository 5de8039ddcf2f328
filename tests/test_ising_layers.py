"""Layers beside RG: layer couplings, the LayerCouplings callback, the flow figure, the example."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_rg.callbacks.layer_couplings import LayerCouplings
from keras_rg.systems.ising import (
    block_spin,
    decimation_recursion,
    estimate_coupling,
    migdal_kadanoff_fixed_point,
    migdal_kadanoff_recursion,
    sample_chain,
    sample_lattice,
)
from keras_rg.systems.layer_couplings import layer_couplings, layer_spins
from tests.helpers import assert_config_roundtrip

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lattice_data():
    run = sample_lattice(
        16, 0.4, 40, n_chains=8, burn_in=100, thin=3, method="swendsen_wang", seed=2
    )
    return run.configurations()


def _block_model(size, name="block"):
    # A 2×2 stride-2 convolution with unit weights sums each block: sign(sum) with ties → −1 is
    # the majority rule with tie_break="minus".
    inp = keras.Input((size, size, 1))
    ident = keras.layers.Identity(name="ident")(inp)
    out = keras.layers.Conv2D(
        1, 2, strides=2, use_bias=False, kernel_initializer="ones", name=name
    )(ident)
    return keras.Model(inp, out)


def test_conv_block_layer_coupling_is_the_block_spin_coupling(lattice_data):
    x = lattice_data[..., None].astype("float32")
    est = layer_couplings(_block_model(16), x, periodic=True, batch_size=100)
    assert list(est) == ["ident", "block"]
    direct = estimate_coupling(lattice_data)
    blocked = estimate_coupling(block_spin(lattice_data, 2, "minus"))
    # Same spins, same estimator: equal to rounding.
    assert est["ident"].nn == pytest.approx(direct.nn, abs=1e-12)
    assert est["ident"].nn_error == pytest.approx(direct.nn_error, abs=1e-12)
    assert est["block"].nn == pytest.approx(blocked.nn, abs=1e-12)
    spins, groups, geometry = layer_spins(_block_model(16), x, "block")
    assert spins.shape == (len(x), 8, 8) and geometry == "square"
    np.testing.assert_array_equal(groups, np.arange(len(x)))


@pytest.mark.parametrize("k", [0.5, 1.2])
def test_a_decimating_dense_layer_reproduces_the_decimation_flow(k):
    # A Dense layer whose kernel copies every second spin of a 1-D chain performs decimation;
    # read as a chain of units, its coupling must be K' = atanh(tanh² K) within error bars.
    n = 64
    s = sample_chain(n, k, 2000, seed=31)
    kernel = np.zeros((n, n // 2), np.float32)
    kernel[np.arange(0, n, 2), np.arange(n // 2)] = 1.0
    model = keras.Sequential(
        [
            keras.Input((n,)),
            keras.layers.Dense(n, use_bias=False, kernel_initializer="identity", name="copy"),
            keras.layers.Dense(n // 2, use_bias=False, name="decimate"),
        ]
    )
    model.get_layer("decimate").set_weights([kernel])
    est = layer_couplings(model, s.astype("float32"))  # Dense outputs: open chains
    assert abs(est["copy"].nn - k) < 3 * est["copy"].nn_error
    target = decimation_recursion(k)
    assert abs(est["decimate"].nn - target) < 3 * est["decimate"].nn_error
    # The RG step is visible: the decimated coupling is smaller by many standard errors.
    assert est["copy"].nn - est["decimate"].nn > 10 * est["decimate"].nn_error


def test_thresholds_and_lattice_shape(lattice_data):
    x = lattice_data[..., None].astype("float32")
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Flatten(name="flat"),
            keras.layers.ReLU(name="relu"),
        ]
    )
    # A flattened lattice read back with its shape is the lattice itself.
    est = layer_couplings(model, x, ["flat"], lattice_shape=(16, 16), periodic=True)
    assert est["flat"].nn == pytest.approx(estimate_coupling(lattice_data).nn, abs=1e-12)
    # ReLU maps −1 → 0 and +1 → 1: threshold 0 (strictly above → +1) keeps the spins, as does
    # the per-unit "mean", strictly between 0 and 1 for every unit that takes both values.
    # (A per-unit "median" is 0 or 1 itself for such two-valued units, so it is not the identity.)
    for threshold in (0.0, "mean"):
        spins, _, geometry = layer_spins(model, x, "relu", threshold, (16, 16))
        assert geometry == "square"
        np.testing.assert_array_equal(spins, lattice_data)
    # Without a lattice shape a flat output is one chain of 256 units in index order.
    spins, _, geometry = layer_spins(model, x, "relu")
    assert geometry == "chain" and spins.shape == (len(x), 256)
    cases = [
        (lambda: layer_couplings(model, x, threshold="max"), "`threshold`"),
        (lambda: layer_couplings(model, x, threshold=float("nan")), "`threshold`"),
        (lambda: layer_couplings(model, x, lattice_shape=(1,)), "`lattice_shape`"),
        (lambda: layer_couplings(model, x, lattice_shape=(3, 5)), "`lattice_shape`: layer"),
        (
            lambda: layer_couplings(model, x, ["nope"]),
            "`layer_names`: 'nope' matches no layer.*Available",
        ),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_callback_logs_layer_couplings_into_history(lattice_data):
    x = lattice_data[..., None].astype("float32")
    y = (lattice_data.mean(axis=(1, 2)) > 0).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(2, 2, strides=2, activation="tanh", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    probe = x[:64]
    cb = LayerCouplings(probe, layer_names="conv", periodic=True, terms=("nn", "field"))
    every2 = LayerCouplings(probe, layer_names=["conv"], periodic=True, every_n_epochs=2)
    history = model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[cb, every2])
    assert len(history.history["coupling/conv"]) == 3
    assert len(history.history["coupling_field/conv"]) == 3
    assert [epoch for epoch, _ in every2.history] == [1]
    # The logged value is the function's value on the final model.
    final = layer_couplings(model, probe, ["conv"], terms=("nn", "field"), periodic=True)
    assert history.history["coupling/conv"][-1] == pytest.approx(final["conv"].nn, abs=1e-12)
    assert history.history["coupling_error/conv"][-1] > 0
    back = assert_config_roundtrip(every2)
    np.testing.assert_array_equal(back.probe, every2.probe)
    bad = [
        (lambda: LayerCouplings(probe, every_n_epochs=0), "`every_n_epochs`"),
        (lambda: LayerCouplings(probe[:1]), "`probe`: expected at least 2 samples"),
        (lambda: LayerCouplings(probe, terms=("field",)), "`terms`"),
        (lambda: LayerCouplings(probe, threshold="mode"), "`threshold`"),
    ]
    for call, match in bad:
        with pytest.raises(ValueError, match=match):
            call()


def test_callback_under_mirrored_strategy(two_cpu_strategy, lattice_data):
    x = lattice_data[:64, ..., None].astype("float32")
    with two_cpu_strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((16, 16, 1)),
                keras.layers.Conv2D(2, 2, strides=2, activation="tanh", name="conv"),
                keras.layers.Flatten(),
                keras.layers.Dense(1),
            ]
        )
        model.compile("sgd", "mse")
    cb = LayerCouplings(x[:32], layer_names=["conv"], periodic=True)
    history = model.fit(x, np.zeros(64), epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    assert np.isfinite(history.history["coupling/conv"][0])


def test_flow_figure():
    pytest.importorskip("matplotlib")
    from keras_rg.plotting.ising import plot_coupling_flow

    ax = plot_coupling_flow(
        measured=([0.3], [0.2], [0.01]), layers={"conv": (0.3, 0.15)}, cobweb_from=[0.25]
    )
    k, kp = ax.lines[0].get_data()
    np.testing.assert_allclose(kp, migdal_kadanoff_recursion(k), rtol=1e-12)
    markers = [line.get_xdata()[0] for line in ax.lines if line.get_marker() == "o"]
    assert markers[0] == 0.0
    assert markers[1] == pytest.approx(migdal_kadanoff_fixed_point().coupling, abs=1e-12)
    assert ax.get_xlabel() == "K" and ax.get_ylabel() == "K'"
    ax = plot_coupling_flow("decimation", k_max=2.0)
    assert [line.get_xdata()[0] for line in ax.lines if line.get_marker() == "o"] == [0.0]
    with pytest.raises(ValueError, match="`recursion`"):
        plot_coupling_flow("kadanoff")
    with pytest.raises(ValueError, match="`k_max`"):
        plot_coupling_flow(k_max=-1.0)


def test_example_runs_quick():
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ising_rg.py"), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Block-spin RG" in out.stdout and "Layer couplings beside" in out.stdout
    assert "K* = 0.3046889317" in out.stdout
