"""Ising configurations as a ``tf.data.Dataset`` ready for ``model.fit``."""

import numpy as np
import tensorflow as tf

from keras_rg.arguments import check_int

__all__ = ["as_dataset"]


def as_dataset(spins, targets=None, batch_size=32, shuffle=True, seed=0, channel_axis=True):
    """Wraps ±1 configurations (and optional targets) as a batched ``tf.data.Dataset``.

    Args:
        spins: array ``(n, L, L)`` (square) or ``(n, N)`` (chain) of ±1.
        targets: optional array with ``n`` rows (labels, couplings, or the inputs themselves
            for an autoencoder). Defaults to None (the dataset yields inputs only).
        batch_size: batch size (>= 1). Defaults to 32.
        shuffle: shuffle once per epoch with ``seed`` (reproducible). Defaults to True.
        seed: shuffle seed, a non-negative integer. Defaults to 0.
        channel_axis: append a length-1 channel axis (``(L, L, 1)`` for ``Conv2D``).
            Defaults to True.

    Returns:
        A ``tf.data.Dataset`` of ``float32`` inputs (and ``targets`` when given), prefetched.

    Example:
        >>> ds = as_dataset(np.ones((10, 4, 4), np.int8), np.zeros(10), batch_size=5)
        >>> [tuple(t.shape) for t in next(iter(ds))]
        [(5, 4, 4, 1), (5,)]
    """
    batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    x = np.asarray(spins, dtype=np.float32)
    if channel_axis:
        x = x[..., None]
    if targets is None:
        ds = tf.data.Dataset.from_tensor_slices(x)
    else:
        y = np.asarray(targets)
        if y.shape[:1] != x.shape[:1]:
            raise ValueError(
                f"Received an invalid value for `targets`: expected {x.shape[0]} rows, one per "
                f"configuration. Received: targets of shape {y.shape}"
            )
        ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(x.shape[0], seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
