"""A learnable real-space coarse-graining: a filter on each block -> a binary block variable.

The layer of real-space mutual-information (RSMI) coarse-graining (Koch-Janusz & Ringel,
"Mutual information, neural networks and the renormalization group", Nature Physics 14, 578,
2018; Gökmen, Ringel, Huber & Koch-Janusz, "Statistical physics through the lens of real-space
mutual information", PRL 127, 240603, 2021). Each ``b × b`` block ``V`` of a lattice gets
``h = Λ · V`` (one filter ``Λ`` shared by all blocks, a stride-``b`` convolution) and a binary
variable ``H ∈ {-1, +1}`` with ``P(H = +1) = σ(2h)``. In training, ``H`` is the relaxed,
differentiable binary-concrete sample ``tanh((2h + L) / (2T))`` with logistic noise ``L`` and
temperature ``T`` (Maddison, Mnih & Teh 2017; Jang, Gu & Poole 2017); at inference it is the
most probable value ``sign(h)``. See ``docs/rsmi.md``.
"""

import keras
from keras import ops

from keras_rg.arguments import check_bool, check_float, check_int, invalid_value

__all__ = ["BlockCoarseGraining"]


@keras.saving.register_keras_serializable(package="keras_rg")
class BlockCoarseGraining(keras.layers.Layer):
    """Coarse-grains ``b × b`` blocks of a lattice into binary block variables with a learned filter.

    Input ``(batch, L1, L2)`` or ``(batch, L1, L2, channels)`` (``b`` divides ``L1`` and ``L2``);
    output ``(batch, L1 / b, L2 / b, n_hidden)``: ``sign(Λ · V)`` at inference (``h = 0`` gives +1), the relaxed
    sample ``tanh((2 Λ · V + L) / (2T))`` (``L`` logistic noise) in training, or
    ``tanh(Λ · V / T)`` in training with ``stochastic=False``.

    Args:
        block_size: ``b``. Defaults to 2.
        n_hidden: binary variables per block. Defaults to 1.
        temperature: ``T`` > 0 of the relaxed sampler. Defaults to 0.5.
        stochastic: add logistic noise in training (the binary-concrete sampler). Defaults to
            True.
        kernel_initializer: the filter's initializer. Defaults to ``"random_normal"`` (no
            built-in preference for the uniform block-spin filter).
        seed: seed of the sampler's noise, or None. Defaults to None.

    Attributes:
        kernel: the filter ``Λ``, shape ``(b, b, channels, n_hidden)``.

    Example:
        >>> import numpy as np
        >>> layer = BlockCoarseGraining(2, kernel_initializer="ones")
        >>> s = np.array([[[1, 1, -1, -1], [1, -1, -1, -1]]], "float32")
        >>> np.asarray(layer(s))[0, :, :, 0].tolist()
        [[1.0, -1.0]]
    """

    def __init__(self, block_size=2, n_hidden=1, temperature=0.5, stochastic=True,
                 kernel_initializer="random_normal", seed=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.block_size = check_int("block_size", block_size, 1)
        self.n_hidden = check_int("n_hidden", n_hidden, 1)
        self.temperature = check_float("temperature", temperature, 0.0, open_min=True)
        self.stochastic = check_bool("stochastic", stochastic)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.seed = None if seed is None else check_int("seed", seed, 0)
        self._seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise invalid_value(
                "inputs", "a (batch, L1, L2) or (batch, L1, L2, channels) tensor",
                f"shape {tuple(input_shape)}",
            )  # fmt: skip
        for n in input_shape[1:3]:
            if n is not None and n % self.block_size:
                raise invalid_value(
                    "block_size", f"a divisor of the lattice dimensions {tuple(input_shape[1:3])}",
                    self.block_size,
                )  # fmt: skip
        channels = 1 if len(input_shape) == 3 else input_shape[-1]
        b = self.block_size
        self.kernel = self.add_weight(name="kernel", shape=(b, b, channels, self.n_hidden),
                                      initializer=self.kernel_initializer)  # fmt: skip

    def field(self, inputs):
        """``h = Λ · V`` of every block, shape ``(batch, L1 / b, L2 / b, n_hidden)``."""
        x = ops.cast(inputs, self.compute_dtype)
        if len(x.shape) == 3:
            x = ops.expand_dims(x, -1)
        b = self.block_size
        return ops.conv(x, ops.cast(self.kernel, self.compute_dtype), strides=b, padding="valid")

    def call(self, inputs, training=False):
        h = self.field(inputs)
        if not training:
            return ops.where(h >= 0, ops.ones_like(h), -ops.ones_like(h))
        t = ops.cast(self.temperature, h.dtype)
        if not self.stochastic:
            return ops.tanh(h / t)
        u = keras.random.uniform(ops.shape(h), 1e-6, 1.0 - 1e-6, seed=self._seed_generator)
        u = ops.cast(u, h.dtype)
        return ops.tanh((2.0 * h + ops.log(u) - ops.log1p(-u)) / (2.0 * t))

    def compute_output_shape(self, input_shape):
        b = self.block_size
        return (input_shape[0],
                None if input_shape[1] is None else input_shape[1] // b,
                None if input_shape[2] is None else input_shape[2] // b, self.n_hidden)  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size, "n_hidden": self.n_hidden,
                "temperature": self.temperature, "stochastic": self.stochastic,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "seed": self.seed}  # fmt: skip
