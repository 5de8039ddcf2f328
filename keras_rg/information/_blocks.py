"""Blocked pairwise distances in TensorFlow: memory O(block * n), never O(n^2 * d).

The blocked estimators are TensorFlow programs that take and return NumPy arrays, so they run
beside any Keras backend; TensorFlow is imported (quietly) on their first use, not when
``keras_rg.information`` is imported (docs/distributed.md).
"""

import functools
import sys

__all__ = [
    "compiled",
    "tf",
    "DEFAULT_BUDGET_BYTES",
    "RUNTIME_ALLOWANCE_BYTES",
    "plan_block_rows",
    "peak_bytes",
    "row_blocks",
    "self_mask",
    "squared_distances",
    "chebyshev_distances",
]


class _LazyTensorFlow:
    """``tensorflow``, imported quietly on the first attribute access."""

    def __getattr__(self, name):
        if "tensorflow" not in sys.modules:
            from keras_rg._quiet import import_tensorflow_quietly

            import_tensorflow_quietly()
        return getattr(sys.modules["tensorflow"], name)


tf = _LazyTensorFlow()


def compiled(fn):
    """``tf.function(fn, reduce_retracing=True)``, built on the first call."""
    cache = []

    @functools.wraps(fn)
    def call(*args):
        if not cache:
            cache.append(tf.function(fn, reduce_retracing=True))
        return cache[0](*args)

    return call


# Bytes allowed for one block's (block, n) temporaries. The samples themselves (n * d) come on top.
DEFAULT_BUDGET_BYTES = 128 * 2**20
# TensorFlow's own working buffers beside the arrays (measured 30-40 MiB at n = 20000, d = 1024).
RUNTIME_ALLOWANCE_BYTES = 64 * 2**20


def plan_block_rows(n, d, *, temporaries, itemsize=8, budget_bytes=DEFAULT_BUDGET_BYTES):
    """Rows per block so that ``temporaries`` live ``(block, n)`` arrays fit ``budget_bytes``.

    Args:
        n: Number of samples (columns of every block).
        d: Features per sample (a block also holds its own ``(block, d)`` rows).
        temporaries: How many ``(block, n)`` arrays a block step keeps alive at once.
        itemsize: Bytes per element. Defaults to 8 (float64).
        budget_bytes: The budget for one block. Defaults to 128 MiB.

    Returns:
        An integer in ``[1, n]``.
    """
    per_row = itemsize * (temporaries * n + d)
    return int(max(1, min(n, budget_bytes // per_row)))


def peak_bytes(n, d, block, *, temporaries, itemsize=8):
    """Upper estimate of the bytes a blocked pass holds at once: the ``(n, d)`` samples twice (the
    float64 host copy and its TensorFlow tensor), per-sample norms and labels, one block's
    temporaries and a fixed allowance for TensorFlow's own buffers."""
    resident = 8 * (n * d + 2 * n) + itemsize * n * d
    blocks = itemsize * block * (temporaries * n + d)
    return int(resident + blocks + RUNTIME_ALLOWANCE_BYTES)


def row_blocks(n, block):
    """Yields ``(start, stop)`` row ranges of at most ``block`` rows covering ``range(n)``."""
    for start in range(0, n, block):
        yield start, min(n, start + block)


def self_mask(start, rows, n):
    """Boolean ``(rows, n)``: True where column ``j`` is row ``start + i`` itself."""
    row_ids = tf.range(rows) + start
    return tf.equal(row_ids[:, None], tf.range(n)[None, :])


def squared_distances(block, samples, block_sqnorm, samples_sqnorm):
    """``|a_i - b_j|^2`` for a ``(rows, d)`` block against all ``(n, d)`` samples, clipped at 0
    (the expansion ``|a|^2 + |b|^2 - 2 a.b`` can round slightly below zero)."""
    cross = tf.matmul(block, samples, transpose_b=True)
    dist = block_sqnorm[:, None] + samples_sqnorm[None, :] - 2.0 * cross
    return tf.maximum(dist, tf.zeros((), dist.dtype))


def chebyshev_distances(block, samples):
    """Max-norm distances ``max_k |a_ik - b_jk|`` of a ``(rows, d)`` block against ``(n, d)``
    samples; holds one ``(rows, n, d)`` difference, so plan blocks with ``temporaries >= d``."""
    return tf.reduce_max(tf.abs(block[:, None, :] - samples[None, :, :]), axis=-1)
