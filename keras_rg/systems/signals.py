"""Seeded multi-scale 1-D signal classification data: the built-in data of ``keras-rg demo``.

Each sample is one waveform (the class) with random amplitude, frequency, phase and noise:

    x(t) = a · w(2π f t + φ) + a · ν · ε(t),   t = 0, 1/n, ..., (n−1)/n,   ε ~ N(0, 1),

with ``w`` one of sine, square, sawtooth, triangle (each of unit peak amplitude), a drawn
log-uniformly from ``amplitude_range``, f uniformly from ``frequency_range`` (cycles per window),
φ uniformly from [0, 2π) and the relative noise level ν uniformly from ``noise_range``. Since the
noise scales with a, multiplying a whole split by c > 0 is the same as drawing its amplitudes from
c times the range: the amplitude range of each split is the caller's to set, and out-of-range
splits test scale generalisation (seed 000, motivation (3)).
"""

import numpy as np

__all__ = ["WAVEFORMS", "make_signals", "train_test_signals"]

WAVEFORMS = ("sine", "square", "sawtooth", "triangle")


def _wave(name, phase):
    if name == "sine":
        return np.sin(phase)
    if name == "square":
        return np.where(np.sin(phase) >= 0, 1.0, -1.0)
    frac = np.mod(phase / (2 * np.pi), 1.0)
    if name == "sawtooth":
        return 2.0 * frac - 1.0
    return 1.0 - 4.0 * np.abs(frac - 0.5)  # triangle


def _check_range(name, value, positive=True):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(
            f"Received an invalid value for `{name}`: expected a pair (low, high). "
            f"Received: {name}={value!r}"
        ) from None
    bad = not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi or (lo <= 0 if positive else lo < 0)
    if bad:
        need = "0 < low <= high" if positive else "0 <= low <= high"
        raise ValueError(
            f"Received an invalid value for `{name}`: expected finite {need}. "
            f"Received: {name}={value!r}"
        )
    return lo, hi


def make_signals(
    n,
    *,
    length=128,
    classes=WAVEFORMS,
    amplitude_range=(0.5, 2.0),
    frequency_range=(1.0, 6.0),
    noise_range=(0.0, 0.2),
    seed=0,
    dtype="float32",
):
    """Draws ``n`` labelled signals.

    Args:
        n: number of samples, a positive integer.
        length: samples per signal, an integer >= 8. Defaults to 128.
        classes: waveform names, a subset of ``WAVEFORMS``; label i is ``classes[i]``.
        amplitude_range: (low, high), 0 < low <= high; amplitudes are log-uniform in it.
            Defaults to (0.5, 2.0).
        frequency_range: (low, high) cycles per window, 0 < low <= high. Defaults to (1, 6).
        noise_range: (low, high) noise std relative to the amplitude, 0 <= low <= high.
            Defaults to (0, 0.2).
        seed: integer seed; the same seed gives the same data. Defaults to 0.
        dtype: NumPy float dtype of ``x``. Defaults to ``"float32"``.

    Returns:
        ``(x, y)``: ``x`` of shape ``(n, length, 1)`` and integer labels ``y`` of shape ``(n,)``.

    Example:
        >>> x, y = make_signals(4, length=64, seed=1)
        >>> x.shape, y.shape
        ((4, 64, 1), (4,))
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(
            f"Received an invalid value for `n`: expected a positive integer. Received: n={n!r}"
        )
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 8:
        raise ValueError(
            f"Received an invalid value for `length`: expected an integer >= 8. Received: length={length!r}"
        )
    classes = tuple(classes)
    unknown = [c for c in classes if c not in WAVEFORMS]
    if unknown or not classes:
        raise ValueError(
            f"Received an invalid value for `classes`: expected a non-empty subset of {WAVEFORMS}. "
            f"Received: classes={classes!r}"
        )
    a_lo, a_hi = _check_range("amplitude_range", amplitude_range)
    f_lo, f_hi = _check_range("frequency_range", frequency_range)
    n_lo, n_hi = _check_range("noise_range", noise_range, positive=False)

    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(classes), size=n)
    amp = np.exp(rng.uniform(np.log(a_lo), np.log(a_hi), size=(n, 1)))
    freq = rng.uniform(f_lo, f_hi, size=(n, 1))
    phase0 = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
    noise = rng.uniform(n_lo, n_hi, size=(n, 1))
    t = np.arange(length)[None, :] / length
    phase = 2 * np.pi * freq * t + phase0
    x = np.empty((n, length))
    for k, name in enumerate(classes):
        rows = y == k
        x[rows] = _wave(name, phase[rows])
    x = amp * (x + noise * rng.standard_normal((n, length)))
    return x[..., None].astype(dtype), y.astype("int32")


def train_test_signals(
    n_train=4000,
    n_test=1000,
    *,
    train_amplitude_range=(0.5, 2.0),
    test_amplitude_range=None,
    seed=0,
    **kwargs,
):
    """Independent train and test splits with their own amplitude ranges.

    Args:
        n_train, n_test: split sizes.
        train_amplitude_range: amplitudes of the training split. Defaults to (0.5, 2.0).
        test_amplitude_range: amplitudes of the test split; None means the training range.
        seed: the train split uses ``seed``, the test split ``seed + 1``.
        **kwargs: passed to :func:`make_signals` (length, classes, frequency and noise ranges).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``.
    """
    test_range = train_amplitude_range if test_amplitude_range is None else test_amplitude_range
    train = make_signals(n_train, amplitude_range=train_amplitude_range, seed=seed, **kwargs)
    test = make_signals(n_test, amplitude_range=test_range, seed=seed + 1, **kwargs)
    return train, test
