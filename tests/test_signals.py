"""Built-in signals: determinism, shapes, amplitude control, waveform classes, bad input."""

import numpy as np
import pytest

from keras_rg.systems.signals import WAVEFORMS, make_signals, train_test_signals


def test_seeded_and_shaped():
    x1, y1 = make_signals(50, length=64, seed=3)
    x2, y2 = make_signals(50, length=64, seed=3)
    x3, _ = make_signals(50, length=64, seed=4)
    assert x1.shape == (50, 64, 1) and x1.dtype == np.float32 and y1.dtype == np.int32
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert set(np.unique(y1)) <= set(range(len(WAVEFORMS)))


def test_amplitude_range_is_respected():
    # noise-free: the peak |x| is the amplitude (the waveforms have unit peak), up to sampling
    x, _ = make_signals(2000, amplitude_range=(3.0, 7.0), noise_range=(0.0, 0.0), seed=1)
    peaks = np.abs(x).max(axis=(1, 2))
    assert peaks.max() <= 7.0 + 1e-5
    assert np.quantile(peaks, 0.01) >= 3.0 * 0.9  # a sine sampled at 128 points nearly peaks
    # log-uniform amplitudes: the median of the peaks sits near the geometric mean
    assert abs(np.median(peaks) / np.sqrt(21.0) - 1) < 0.1


def test_scaling_a_split_equals_scaling_its_range():
    (_, _), (xt, _) = train_test_signals(10, 200, train_amplitude_range=(0.5, 2.0), seed=2)
    (_, _), (xt10, _) = train_test_signals(
        10, 200, train_amplitude_range=(0.5, 2.0), test_amplitude_range=(5.0, 20.0), seed=2
    )
    np.testing.assert_allclose(10 * xt, xt10, rtol=1e-5, atol=1e-5)


def test_waveform_shapes():
    x, y = make_signals(400, classes=("square", "sine"), noise_range=(0, 0), seed=5)
    # a square wave only takes the values ±a: its samples have |x| equal to their max
    square = np.abs(x[y == 0, :, 0])
    np.testing.assert_allclose(square, np.broadcast_to(square.max(axis=1, keepdims=True), square.shape),
                               rtol=1e-6)  # fmt: skip
    sine = np.abs(x[y == 1, :, 0])
    assert np.all(np.std(sine / sine.max(axis=1, keepdims=True), axis=1) > 0.2)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"n": 0}, ValueError, r"`n`.*n=0"),
        ({"n": 5, "length": 4}, ValueError, r"`length`.*length=4"),
        ({"n": 5, "classes": ("sine", "chirp")}, ValueError, r"`classes`.*chirp"),
        ({"n": 5, "amplitude_range": (0.0, 1.0)}, ValueError, r"`amplitude_range`"),
        ({"n": 5, "amplitude_range": (2.0, 1.0)}, ValueError, r"`amplitude_range`.*\(2.0, 1.0\)"),
        ({"n": 5, "noise_range": (-0.1, 0.1)}, ValueError, r"`noise_range`"),
        ({"n": 5, "frequency_range": 3}, TypeError, r"`frequency_range`.*3"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_signals(**kwargs)


def test_gain_envelopes_are_seeded_smooth_and_have_the_log_std():
    from keras_rg.systems.signals import gain_envelopes

    g = gain_envelopes(400, 128, log_std=1.0, seed=4)
    np.testing.assert_array_equal(g, gain_envelopes(400, 128, log_std=1.0, seed=4))
    assert g.shape == (400, 128, 1) and np.all(g > 0)
    assert abs(np.log(g).std() - 1.0) < 0.1
    # at most 1.5 cycles per window: neighbouring samples differ by far less than the spread
    assert np.abs(np.diff(np.log(g), axis=1)).max() < 0.5
    np.testing.assert_array_equal(gain_envelopes(3, 16, log_std=0.0), np.ones((3, 16, 1)))
    with pytest.raises(TypeError, match="`log_std`"):
        gain_envelopes(3, 16, log_std="1")
    with pytest.raises(ValueError, match="`frequency_range`"):
        gain_envelopes(3, 16, frequency_range=(2.0, 1.0))
