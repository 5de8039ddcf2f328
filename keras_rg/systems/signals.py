"""Seeded multi-scale 1-D signal classification data: the built-in data of ``keras-rg demo``.

Each sample is one waveform (the class) with random amplitude, frequency, phase and noise:

    x(t) = a · w(2π f t + φ) + a · ν · ε(t),   t = 0, 1/n, ..., (n−1)/n,   ε ~ N(0, 1),

with ``w`` one of sine, square, sawtooth, triangle (each of unit peak amplitude), a drawn
log-uniformly from ``amplitude_range``, f uniformly from ``frequency_range`` (cycles per window),
φ uniformly from [0, 2π) and the relative noise level ν uniformly from ``noise_range``. Since the
noise scales with a, multiplying a whole split by c > 0 is the same as drawing its amplitudes from
c times the range: the amplitude range of each split is the caller's to set, and out-of-range
splits test scale generalisation (Liaw, "A Renormalization Group Framework for Scale-Invariant
Feature Learning in Deep Neural Networks", motivation (3)).

:func:`gain_envelopes` and :func:`gain_fields` draw smooth multiplicative gains g(t) > 0 (a random
sum of slow cosines in log g) for signals and images: real recordings change gain along the
signal, not by one global factor (docs/layers.md, "Local scale").
"""

import numpy as np

__all__ = ["WAVEFORMS", "gain_envelopes", "gain_fields", "make_signals", "train_test_signals"]

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


def _log_gain_scale(log_std, n_components):
    # a sum of K cosines with N(0, c²) amplitudes and uniform phases has E var = K c² / 2
    return log_std * np.sqrt(2.0 / n_components)


def _check_envelope_args(n, log_std, frequency_range, n_components):
    from keras_rg.arguments import check_int, check_positive

    check_int("n", n)
    check_int("n_components", n_components)
    log_std = check_positive("log_std", log_std, allow_zero=True)
    return log_std, _check_range("frequency_range", frequency_range)


def gain_envelopes(
    n, length=128, *, log_std=1.0, frequency_range=(0.5, 1.5), n_components=3, seed=0
):
    """Smooth random gains ``g(t) = exp(Σ_k c_k cos(2π f_k t / length + φ_k))`` along a signal.

    The ``n_components`` frequencies ``f_k`` are uniform in ``frequency_range`` (cycles per
    window), phases uniform, amplitudes ``c_k ~ N(0, 2 log_std² / n_components)``, so the
    expected variance of ``log g`` over the window is ``log_std²``.

    Returns:
        ``(n, length, 1)`` float32 gains > 0: multiply signals ``(n, length, channels)`` by them.

    Example:
        >>> g = gain_envelopes(2, 64, seed=1)
        >>> g.shape, bool((g > 0).all())
        ((2, 64, 1), True)
    """
    log_std, (f_lo, f_hi) = _check_envelope_args(n, log_std, frequency_range, n_components)
    rng = np.random.default_rng(seed)
    c = rng.normal(scale=_log_gain_scale(log_std, n_components), size=(n, n_components, 1))
    f = rng.uniform(f_lo, f_hi, size=(n, n_components, 1))
    phi = rng.uniform(0, 2 * np.pi, size=(n, n_components, 1))
    t = np.arange(length)[None, None, :] / length
    log_g = np.sum(c * np.cos(2 * np.pi * f * t + phi), axis=1)
    return np.exp(log_g)[..., None].astype("float32")


def gain_fields(
    n, shape=(8, 8), *, log_std=1.0, frequency_range=(0.5, 1.5), n_components=3, seed=0
):
    """Smooth random illumination gains for images: plane-wave cosines in log g with random
    directions, ``frequency_range`` cycles per image side, expected ``var(log g) = log_std²``.

    Returns:
        ``(n, height, width, 1)`` float32 gains > 0.

    Example:
        >>> gain_fields(3, (8, 8), seed=0).shape
        (3, 8, 8, 1)
    """
    log_std, (f_lo, f_hi) = _check_envelope_args(n, log_std, frequency_range, n_components)
    h, w = (int(v) for v in shape)
    rng = np.random.default_rng(seed)
    k = n_components
    c = rng.normal(scale=_log_gain_scale(log_std, k), size=(n, k, 1, 1))
    f = rng.uniform(f_lo, f_hi, size=(n, k, 1, 1))
    angle = rng.uniform(0, 2 * np.pi, size=(n, k, 1, 1))
    phi = rng.uniform(0, 2 * np.pi, size=(n, k, 1, 1))
    yy, xx = np.meshgrid(np.arange(h) / h, np.arange(w) / w, indexing="ij")
    proj = np.cos(angle) * yy[None, None] + np.sin(angle) * xx[None, None]
    log_g = np.sum(c * np.cos(2 * np.pi * f * proj + phi), axis=1)
    return np.exp(log_g)[..., None].astype("float32")
