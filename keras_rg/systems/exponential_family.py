"""``RadialExponentialFamily``: P(x; θ) ∝ exp(−Σ θ_r (xᵀAx)^r) as a TFP distribution, exact sampling.

The maths it rests on (whitening, the radial quadrature, log Z and the moments) lives in
:mod:`keras_rg.systems.radial_quadrature` and the argument checks in
:mod:`keras_rg.systems.radial_checks`; their public functions are re-exported here. Usage and
accuracy: docs/exponential_family.md.
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from keras_rg.systems.radial_checks import as_theta, check_dim
from keras_rg.systems.radial_quadrature import (
    RadialQuadrature,
    log_partition,
    log_partition_from,
    log_radial_integral,
    radial_moment,
    whitening_matrices,
    whitening_transform,
)

__all__ = [
    "RadialExponentialFamily",
    "log_partition",
    "log_radial_integral",
    "radial_moment",
    "whitening_transform",
]

# Newton steps after the cubic Hermite start of the inverse CDF (its error is ~1e-5 of a cell;
# each step squares it).
_NEWTON_STEPS = 2


def _gauss_legendre_01(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


# Gauss–Legendre rules on [0, 1] for the CDF inside one table cell: 8 points for the table, 4 for
# the inverse's Newton steps (cells are narrow enough, |Δ log density| <= 1/4, for both to be
# exact to float64).
_GL_X, _GL_W = _gauss_legendre_01(8)
_GL4_X, _GL4_W = _gauss_legendre_01(4)


def _cell_index(table, values):
    """``i`` with ``table[i] <= v < table[i + 1]`` (clipped to the cells) by a vectorised binary
    search: a fixed number of gathers, fast both in TF graphs and under XLA (where
    ``tf.searchsorted`` compares every value with every table entry)."""
    n = int(table.shape[0])
    lo = tf.zeros_like(values, dtype=tf.int32)
    hi = tf.fill(tf.shape(values), n - 1)
    for _ in range(max(1, math.ceil(math.log2(n)))):
        mid = (lo + hi) // 2
        right = tf.gather(table, mid) <= values
        lo = tf.where(right, mid, lo)
        hi = tf.where(right, hi, mid)
    return tf.clip_by_value(lo, 0, n - 2)


class RadialExponentialFamily(tfp.distributions.Distribution):
    """``P(x; θ) = exp(−Σ_{r=1}^R θ_r (xᵀAx)^r) / Z(θ)`` on R^N, with exact sampling.

    The family of Gong & Xia, "Interpreting FCDNNs via RG on exponential family", eq. 12–16. The whitening ``x = C M^(−1/2) y`` of eq. 17–24 makes the density depend on
    ``ρ = |y|² = xᵀAx`` only, so a draw is an exact 1-D inverse-CDF draw of ρ (density
    ``∝ ρ^(N/2−1) e^(−Σ θ_r ρ^r)``) times a uniform direction, mapped back to x.

    #### Mathematical details

    ``log Z = −½ log det A + (N/2) log π − log Γ(N/2) + log ∫_0^∞ ρ^(N/2−1) e^(−Σ θ_r ρ^r) dρ``,
    computed once at construction to near float64 precision (see ``log_radial_integral``).
    ``E[ρ^k]`` are ratios of such integrals; ``E[x] = 0`` and ``Cov[x] = E[ρ]/N · A^(−1)``.

    The couplings and A are concrete values fixed at construction (the log-partition is a
    constant of the distribution); ``log_prob`` and ``sample`` are TensorFlow ops and work inside
    ``tf.function`` and XLA.

    Args:
        theta: couplings ``(θ_1, ..., θ_R)``, every θ_r > 0.
        dim: the dimension N. May be omitted when ``A`` is given.
        A: symmetric positive-definite ``(N, N)`` matrix. Defaults to the identity.
        dtype: dtype of samples and log-probabilities. Defaults to ``tf.float32``.
        validate_args: passed to ``tfp.distributions.Distribution``. Argument values are always
            checked at construction. Defaults to False.
        allow_nan_stats: passed to ``tfp.distributions.Distribution``. Defaults to True.
        name: the distribution's name. Defaults to ``"RadialExponentialFamily"``.

    Example:
        >>> dist = RadialExponentialFamily([0.5, 0.1], dim=4)
        >>> x = dist.sample(1000, seed=1)  # (1000, 4); the same seed gives the same draw
        >>> lp = dist.log_prob(x)

    #### References

    Gong & Xia, "Interpreting FCDNNs via RG on exponential family", §3.1; docs/exponential_family.md.
    """

    def __init__(
        self,
        theta,
        dim=None,
        A=None,
        dtype=tf.float32,
        validate_args=False,
        allow_nan_stats=True,
        name="RadialExponentialFamily",
    ):
        parameters = dict(locals())
        theta_np = as_theta(theta)
        n, mat, mu, C = check_dim(dim, A)
        self._theta_np = theta_np
        self._dim = n
        self._A_np = mat
        self._W_np, self._W_inv_np = (None, None) if mat is None else whitening_matrices(mu, C)
        self._quad = RadialQuadrature(theta_np, 0.5 * n)
        self._log_partition = log_partition_from(n, mu, self._quad.log_integral)
        self._build_cdf_table()
        with tf.name_scope(name) as scope:
            self._theta = tf.constant(theta_np, dtype=tf.float64, name="theta")
            self._A = None if mat is None else tf.constant(mat, dtype=tf.float64, name="A")
            super().__init__(
                dtype=tf.as_dtype(dtype),
                reparameterization_type=tfp.distributions.NOT_REPARAMETERIZED,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                parameters=parameters,
                name=scope,
            )

    # ----------------------------------------------------------------------------- properties
    @property
    def theta(self):
        """The couplings as a float64 tensor of shape ``(R,)``."""
        return self._theta

    @property
    def A(self):
        """The quadratic-form matrix as a float64 ``(N, N)`` tensor (identity when not given)."""
        if self._A is None:
            return tf.eye(self._dim, dtype=tf.float64)
        return self._A

    @property
    def dim(self):
        """The dimension N."""
        return self._dim

    @property
    def order(self):
        """The number of couplings R."""
        return int(self._theta_np.size)

    @property
    def log_partition(self):
        """``log Z(θ)`` (float64 Python float)."""
        return self._log_partition

    def radial_moment(self, k):
        """``E[ρ^k]`` for ``ρ = xᵀAx`` (Python float), k a real number > −N/2."""
        return radial_moment(self._theta_np, self._dim, k)

    def radial_moments(self, max_order):
        """``[E[ρ^1], ..., E[ρ^max_order]]`` as a float64 NumPy array."""
        return np.array([self.radial_moment(k) for k in range(1, int(max_order) + 1)])

    # ----------------------------------------------------------------------------- whitening
    def whiten(self, x):
        """``y = M^(1/2) Cᵀ x`` (eq. 23 inverted), so that ``|y|² = xᵀAx``; float64 tensor."""
        x = tf.cast(x, tf.float64)
        if self._W_np is None:
            return x
        return tf.linalg.matvec(tf.constant(self._W_np), x)

    def unwhiten(self, y):
        """``x = C M^(−1/2) y`` (eq. 23); float64 tensor."""
        y = tf.cast(y, tf.float64)
        if self._W_inv_np is None:
            return y
        return tf.linalg.matvec(tf.constant(self._W_inv_np), y)

    def quadratic_form(self, x):
        """``ρ = xᵀAx`` over the last axis, float64."""
        x = tf.cast(x, tf.float64)
        if self._A is None:
            return tf.reduce_sum(tf.square(x), axis=-1)
        return tf.einsum("...i,ij,...j->...", x, self._A, x)

    # ----------------------------------------------------------------------------- radial CDF
    def _build_cdf_table(self):
        # CDF of d = log ρ − u0 at table nodes: 8-point Gauss–Legendre per cell (exact to
        # float64 for cells this narrow), accumulated and normalised.
        q = self._quad
        # Table nodes: the quadrature grid, with cells split where the log-density changes by more
        # than 1/4 across them (the steep tails), so that the log-linear start of the inverse is
        # close and three Newton steps reach float64 everywhere.
        split = np.maximum(1, np.ceil(np.abs(np.diff(q.log_density(q.d))) / 0.25)).astype(int)
        width = np.repeat(np.diff(q.d) / split, split)
        offset = np.concatenate([np.arange(k) for k in split])
        table = np.append(np.repeat(q.d[:-1], split) + offset * width, q.d[-1])
        width = np.diff(table)
        nodes = table[:-1, None] + width[:, None] * _GL_X[None, :]
        dens = np.exp(q.log_density(nodes.ravel()).reshape(nodes.shape))
        cells = width * np.sum(_GL_W[None, :] * dens, axis=1)
        # Accumulate in extended precision where the platform has it (x86: 64-bit mantissa), so
        # that the CDF near 1 is not limited by the rounding of ~10^3 float64 additions.
        cdf = np.concatenate([[0.0], np.cumsum(cells.astype(np.longdouble))])
        total = float(cdf[-1])
        self._cdf_d = tf.constant(table)
        self._cdf = tf.constant((cdf / cdf[-1]).astype(np.float64))
        self._cdf_terms = (tf.constant(q.c), tf.constant(q.powers), float(q.a))
        self._cdf_offset = -math.log(q.h) - q.log_sum - math.log(total)
        self._u0 = float(q.u0)
        self._cdf_density = tf.constant(np.exp(q.log_density(table) - math.log(total)))
        # The inverse CDF and the map to samples are compiled (XLA) once per input length.
        self._quantile_compiled = tf.function(
            self._quantile_flat, jit_compile=True, reduce_retracing=True, autograph=False
        )
        self._transform_compiled = tf.function(
            self._transform, jit_compile=True, reduce_retracing=True, autograph=False
        )

    def _d_log_density(self, d):
        c, p, a = self._cdf_terms
        g = a * d - tf.reduce_sum(c * tf.math.expm1(p * d[..., None]), axis=-1)
        return g + self._cdf_offset

    def _cdf_in_cell(self, idx, d):
        lo = tf.gather(self._cdf_d, idx)
        span = d - lo
        nodes = lo[..., None] + span[..., None] * tf.constant(_GL4_X)
        dens = tf.exp(self._d_log_density(nodes))
        return tf.gather(self._cdf, idx) + span * tf.reduce_sum(dens * tf.constant(_GL4_W), -1)

    def radial_cdf(self, rho):
        """``P(xᵀAx ≤ ρ)``, exact to near float64 precision; float64 tensor of ρ's shape."""
        rho = tf.convert_to_tensor(rho, dtype=tf.float64)
        shape = tf.shape(rho)
        rho = tf.reshape(rho, [-1])
        d = tf.math.log(tf.maximum(rho, np.finfo(np.float64).tiny)) - self._u0
        d = tf.clip_by_value(d, self._cdf_d[0], self._cdf_d[-1])
        idx = _cell_index(self._cdf_d, d)
        out = tf.clip_by_value(self._cdf_in_cell(idx, d), 0.0, 1.0)
        return tf.reshape(tf.where(rho <= 0, tf.zeros_like(out), out), shape)

    def radial_quantile(self, p):
        """The inverse of ``radial_cdf``: the ρ with ``P(xᵀAx ≤ ρ) = p``; float64 tensor."""
        p = tf.convert_to_tensor(p, dtype=tf.float64)
        shape = tf.shape(p)
        return tf.reshape(self._quantile_compiled(tf.reshape(p, [-1])), shape)

    def _quantile_flat(self, p):
        idx = _cell_index(self._cdf, p)
        lo, hi = tf.gather(self._cdf_d, idx), tf.gather(self._cdf_d, idx + 1)
        c_lo, c_hi = tf.gather(self._cdf, idx), tf.gather(self._cdf, idx + 1)
        # Start from the cubic Hermite interpolant of the inverse CDF d(F) (its slope 1/density
        # is tabulated at the nodes), then polish by Newton on F(d) = p inside the cell.
        mass = c_hi - c_lo
        t = tf.clip_by_value(tf.math.divide_no_nan(p - c_lo, mass), 0.0, 1.0)
        t2, t3 = t * t, t * t * t
        slope_lo = mass / tf.gather(self._cdf_density, idx)
        slope_hi = mass / tf.gather(self._cdf_density, idx + 1)
        d = (
            (2 * t3 - 3 * t2 + 1) * lo
            + (t3 - 2 * t2 + t) * slope_lo
            + (3 * t2 - 2 * t3) * hi
            + (t3 - t2) * slope_hi
        )
        d = tf.clip_by_value(d, lo, hi)
        for _ in range(_NEWTON_STEPS):
            dens = tf.exp(self._d_log_density(d))
            step = tf.math.divide_no_nan(self._cdf_in_cell(idx, d) - p, dens)
            d = tf.clip_by_value(d - step, lo, hi)
        return tf.exp(self._u0 + d)

    # ----------------------------------------------------------------------------- tfp hooks
    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            theta=tfp.util.ParameterProperties(event_ndims=1, is_preferred=False),
            A=tfp.util.ParameterProperties(event_ndims=2, is_preferred=False),
        )

    def _batch_shape(self):
        return tf.TensorShape([])

    def _batch_shape_tensor(self):
        return tf.constant([], dtype=tf.int32)

    def _event_shape(self):
        return tf.TensorShape([self._dim])

    def _event_shape_tensor(self):
        return tf.constant([self._dim], dtype=tf.int32)

    def _sample_n(self, n, seed=None):
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seed = (0, int(seed) % 2**31)  # an integer seed is reproducible, as a stateless pair
        seed = tfp.random.sanitize_seed(seed, salt="RadialExponentialFamily")
        radius_seed, direction_seed = tfp.random.split_seed(seed, n=2)
        p = tf.random.stateless_uniform([n], seed=radius_seed, dtype=tf.float64, alg="philox")
        # Directions: normalised Gaussians, drawn at the output precision (at least float32).
        zdt = tf.float64 if self.dtype == tf.float64 else tf.float32
        z = tf.random.stateless_normal([n, self._dim], seed=direction_seed, dtype=zdt, alg="philox")
        return self._transform_compiled(p, z)

    def _transform(self, p, z):
        """Uniforms and Gaussian directions to samples: ρ = F^(−1)(p), x = W^(−1) √ρ z/|z|."""
        rho = self._quantile_flat(p)
        z = tf.cast(z, tf.float64)
        y = z * (tf.sqrt(rho) / tf.norm(z, axis=-1))[:, None]
        return tf.cast(self.unwhiten(y), self.dtype)

    def _log_prob(self, x):
        rho = self.quadratic_form(x)
        p = tf.range(1, self.order + 1, dtype=tf.float64)
        energy = tf.reduce_sum(self._theta * tf.pow(rho[..., None], p), axis=-1)
        return tf.cast(-energy - self._log_partition, self.dtype)

    def _mean(self):
        return tf.zeros([self._dim], dtype=self.dtype)

    def _covariance(self):
        inv = np.eye(self._dim) if self._A_np is None else np.linalg.inv(self._A_np)
        return tf.constant(self.radial_moment(1) / self._dim * inv, dtype=self.dtype)

    def _variance(self):
        return tf.linalg.diag_part(self._covariance())

    def _entropy(self):
        m = self.radial_moments(self.order)
        return tf.constant(self._log_partition + float(np.dot(self._theta_np, m)), self.dtype)

    def _default_event_space_bijector(self):
        return tfp.bijectors.Identity(validate_args=self.validate_args)
