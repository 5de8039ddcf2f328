"""The scale s(x) of the adaptive and local scale modes, as plain functions of a tensor.

- :func:`global_scale`: ``s(x) = s0 / rms(x)`` per sample, rms over every non-batch axis;
- :func:`local_scale`: ``s(x)_t = s0 / rms_W(t)(x)``, the rms over a window ``W(t)`` of positions
  around (centred) or ending at (causal) position t, over all channels (shared) or per channel.

Both are zero-safe: where the rms is 0 (an all-zero sample or window) the scale is ``s0``. The
statistics are computed in at least float32 (float16 squares overflow above 256).

Covariance (docs/layers.md, "Local scale"): if the input is multiplied by a gain g(t) > 0 that is
constant (= λ) over ``W(t)``, then ``local_scale(g·x)_t = local_scale(x)_t / λ`` exactly.
"""

import keras
from keras import ops

__all__ = ["global_scale", "local_scale"]


def _wide(x):
    return "float64" if keras.backend.standardize_dtype(x.dtype) == "float64" else "float32"


def _safe_scale(mean_sq, s0, dtype):
    nonzero = mean_sq > 0
    rms = ops.sqrt(ops.where(nonzero, mean_sq, ops.ones_like(mean_sq)))
    s = ops.where(nonzero, s0 / rms, ops.full_like(mean_sq, s0))
    return ops.cast(s, dtype)


def global_scale(x, s0=1.0):
    """``s0 / rms(x)`` per sample, shaped ``(batch, 1, ..., 1)`` to broadcast against ``x``."""
    axes = tuple(range(1, len(x.shape)))
    mean_sq = ops.mean(ops.square(ops.cast(x, _wide(x))), axis=axes, keepdims=True)
    return _safe_scale(mean_sq, s0, x.dtype)


def local_scale(x, s0, window, *, causal=False, per_channel=False):
    """``s0 / rms`` of ``x`` over a window around each position (channels last).

    Args:
        x: float tensor ``(batch, steps, channels)`` or ``(batch, height, width, channels)``.
        s0: the scale where the local rms is 1, a float > 0.
        window: window length, a tuple with one int per spatial axis. A centred window covers
            ``(window − 1) // 2`` positions before t and ``window // 2`` after; at the edges it is cut to the
            positions that exist (the mean is over those only).
        causal: the window ends at t (positions ``t − window + 1 .. t``); 1-D inputs only.
        per_channel: one scale per channel (rms over the window of that channel); otherwise one
            scale per position shared by all channels (rms over the window and the channels).

    Returns:
        the scale, shaped ``(batch, *spatial, channels or 1)``, in ``x``'s dtype.
    """
    wide = _wide(x)
    sq = ops.square(ops.cast(x, wide))
    if not per_channel:
        sq = ops.mean(sq, axis=-1, keepdims=True)
    channels = sq.shape[-1]
    kernel = ops.ones((*window, channels, 1), dtype=wide)
    ones = ops.ones_like(sq[:1])
    if causal:
        left = window[0] - 1
        sq = ops.pad(sq, ((0, 0), (left, 0), (0, 0)))
        ones = ops.pad(ones, ((0, 0), (left, 0), (0, 0)))
        padding = "valid"
    else:
        padding = "same"
    total = ops.depthwise_conv(sq, kernel, strides=1, padding=padding)
    count = ops.depthwise_conv(ones, kernel, strides=1, padding=padding)
    return _safe_scale(total / count, s0, x.dtype)
