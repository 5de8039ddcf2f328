"""Model builders for the scale comparisons: baselines, scale-covariant designs, normalisations,
the strongest-baseline verdict, and the UCR/digits loaders (no download)."""

import importlib

import keras
import numpy as np
import pytest

from keras_rg import models
from keras_rg.systems import real_data


def test_local_normalise_matches_a_loop_and_rms_normalise_is_exact(rng):
    x = rng.normal(size=(3, 20, 2)).astype("float32")
    got = models.local_normalise(x, 5)
    for t in range(20):
        lo, hi = max(t - 2, 0), min(t + 3, 20)
        rms = np.sqrt(np.mean(x[:, lo:hi] ** 2, axis=(1, 2)))
        np.testing.assert_allclose(got[:, t], x[:, t] / rms[:, None], rtol=1e-5)
    y = models.rms_normalise(x)
    np.testing.assert_allclose(np.sqrt(np.mean(y**2, axis=(1, 2))), 1.0, rtol=1e-6)
    assert np.all(models.rms_normalise(np.zeros((2, 4, 1))) == 0)


@pytest.mark.parametrize("shape", [(32, 1), (8, 8, 1)])
@pytest.mark.parametrize("design", models.DESIGNS)
def test_scale_covariant_designs_are_invariant(shape, design, rng):
    model = models.build_scale_covariant(shape, 3, design, "tanh", 1.0, window=5)
    x = rng.normal(size=(4, *shape)).astype("float32")
    logits = model(x).numpy()
    for lam in (0.01, 100.0):
        scaled = model(lam * x).numpy()
        # covariant: homogeneous of degree α³ = 1 (logits scale); the others: invariant
        expected = lam * logits if design == "covariant" else logits
        np.testing.assert_allclose(scaled, expected, rtol=2e-4, atol=1e-5 * np.abs(expected).max())


def test_baseline_specs_and_the_strongest_verdict():
    specs = models.baseline_specs((32, 1), 3, window=5)
    assert set(specs) == set(models.BASELINES)
    assert specs["rms_norm"].preprocess is models.rms_normalise
    bias_free = specs["bias_free"].build()
    assert not any(w.path.endswith("/bias") for w in bias_free.weights)
    assert any(w.path.endswith("/bias") for w in specs["plain"].build().weights)
    acc = {
        "scale_covariant": {"1x": 0.95, "0.01x": 0.95, "100x": 0.95, "envelope": 0.8},
        "plain": {"1x": 0.99, "0.01x": 0.25, "100x": 0.99, "envelope": 0.85},
        "rms_norm": {"1x": 0.97, "0.01x": 0.97, "100x": 0.97, "envelope": 0.86},
        "local_norm": {"1x": 0.96, "0.01x": 0.96, "100x": 0.96, "envelope": 0.95},
    }
    v = models.compare_with_strongest(acc, 1000)
    assert v["strongest_on_amplitude"] == "rms_norm"  # best worst case, not best at 1x
    assert v["in_distribution_gap"] == pytest.approx(-0.02)
    assert v["gap_se"] == pytest.approx(np.hypot(np.sqrt(0.95 * 0.05 / 1000),
                                                 np.sqrt(0.97 * 0.03 / 1000)))  # fmt: skip
    assert v["strongest_on_envelope"] == "local_norm" and v["exactly_invariant"]


def test_fit_and_score_reports_every_column():
    x = np.random.default_rng(0).normal(size=(64, 32, 1)).astype("float32")
    y = (x[:, :16].std(axis=(1, 2)) > x[:, 16:].std(axis=(1, 2))).astype("int32")
    spec = models.baseline_specs((32, 1), 2)["augmented"]
    _, history, scores = models.fit_and_score(spec, (x, y), (x, y), factors=(1.0, 10.0),
                                              gains=np.ones((1, 32, 1)), epochs=1)  # fmt: skip
    assert set(scores) == {"1x", "10x", "envelope", "parameters"}
    assert len(history.history["loss"]) == 1


def _fake_aeon(tmp_path, monkeypatch):
    folder = tmp_path / "aeon" / "datasets" / "data" / "Tiny"
    folder.mkdir(parents=True)
    (tmp_path / "aeon" / "__init__.py").write_text("raise ImportError('never imported')\n")
    header = "# a comment\n@problemName Tiny\n@classLabel true a b\n@data\n"
    (folder / "Tiny_TRAIN.ts").write_text(header + "1.0,2.0,3.0:b\n-1,0.5,2:a\n")
    (folder / "Tiny_TEST.ts").write_text(header + "0,0,1:a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()


def test_load_ucr_reads_the_bundled_files_without_importing_aeon(tmp_path, monkeypatch):
    _fake_aeon(tmp_path, monkeypatch)
    (x, y), (xt, yt) = real_data.load_ucr("Tiny")
    np.testing.assert_array_equal(x[..., 0], [[1, 2, 3], [-1, 0.5, 2]])
    np.testing.assert_array_equal(y, [1, 0])
    assert xt.shape == (1, 3, 1) and yt.tolist() == [0]
    with pytest.raises(ValueError, match=r"`name`.*\['Tiny'\].*'Nope'"):
        real_data.load_ucr("Nope")


def test_load_ucr_without_aeon_names_the_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"keras-rg\[ucr\]"):
        real_data.load_ucr("GunPoint")


def test_digits_images():
    (x, y), (xt, yt) = real_data.load_digits_images()
    assert x.shape[1:] == (8, 8, 1) and len(x) + len(xt) == 1797
    assert x.min() == 0.0 and x.max() == 1.0 and set(np.unique(y)) == set(range(10))
    keras.utils.clear_session()
