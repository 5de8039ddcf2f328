"""Argument checks of the radial exponential family: couplings θ, the matrix A and the dimension N,
and the squared radii ``xᵀAx`` of samples checked against A.

Shared by :mod:`keras_rg.systems.radial_quadrature`, :mod:`keras_rg.systems.exponential_family`,
:mod:`keras_rg.systems.canonical_rg`, :mod:`keras_rg.systems.coupling_fit` and
:mod:`keras_rg.systems.cumulants` (the family is described in docs/exponential_family.md).
"""

import numpy as np

from keras_rg.arguments import check_int, invalid_type

__all__ = ["as_spd", "as_theta", "check_dim", "squared_radii"]


def _float_array(name, value, expected):
    """``value`` as a float64 array; TypeError unless its entries are real numbers (strings and
    bools are not, even when NumPy could convert them)."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = None
    if arr is None or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise invalid_type(name, expected, value)
    return arr.astype(np.float64)


def as_theta(theta, name="theta", positive=True):
    """Checks couplings θ: a non-empty 1-D finite float vector, every θ_r > 0 (``positive``) or at
    least a normalisable set (highest non-zero coupling > 0); returns it as float64."""
    arr = np.atleast_1d(_float_array(name, theta, "a 1-D sequence of floats"))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a non-empty 1-D vector of finite "
            f"floats. Received: {name}={theta!r}"
        )
    if positive and np.any(arr <= 0):
        raise ValueError(
            f"Received an invalid value for `{name}`: expected every coupling θ_r > 0. "
            f"Received: {name}={arr.tolist()}"
        )
    nz = np.flatnonzero(arr)
    if nz.size == 0 or arr[nz[-1]] <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`: the highest non-zero coupling must be > 0 "
            f"for exp(-Σ θ_r ρ^r) to be integrable. Received: {name}={arr.tolist()}"
        )
    return arr


def as_spd(A, name="A"):
    """Checks a symmetric positive-definite matrix; returns ``(A, eigenvalues, eigenvectors)``."""
    mat = _float_array(name, A, "a square matrix of floats")
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] == 0:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a square (N, N) matrix. "
            f"Received: {name} of shape {mat.shape}"
        )
    if not np.all(np.isfinite(mat)):
        raise ValueError(
            f"Received an invalid value for `{name}`: expected finite entries. Received: {name}={A!r}"
        )
    scale = max(np.max(np.abs(mat)), np.finfo(np.float64).tiny)
    if np.max(np.abs(mat - mat.T)) > 1e-10 * scale:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a symmetric positive-definite "
            f"matrix; it is not symmetric (max |A - Aᵀ| = {np.max(np.abs(mat - mat.T)):.3g})."
        )
    mat = 0.5 * (mat + mat.T)
    mu, C = np.linalg.eigh(mat)
    if mu[0] <= 1e-13 * mu[-1] or mu[0] <= 0:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a symmetric positive-definite "
            f"matrix; its smallest eigenvalue is {mu[0]:.3g}."
        )
    return mat, mu, C


def check_dim(dim, A):
    """Checks the dimension N against ``A``; returns ``(N, A, eigenvalues, eigenvectors)`` (the
    last three None when ``A`` is None: the identity)."""
    mat = mu = C = None
    if A is not None:
        mat, mu, C = as_spd(A)
    if dim is None:
        if mat is None:
            raise ValueError(
                "Received an invalid value for `dim`: expected a positive integer when `A` is "
                "not given. Received: dim=None"
            )
        return mat.shape[0], mat, mu, C
    dim = check_int("dim", dim)
    if mat is not None and mat.shape[0] != dim:
        raise ValueError(
            f"Received mismatched dimensions: `dim`={dim} but `A` has shape {mat.shape}; "
            "they must agree."
        )
    return int(dim), mat, mu, C


def squared_radii(x, A=None):
    """``ρ_i = x_iᵀ A x_i`` of samples ``x`` (n, N), a float64 array, checked against ``A``;
    returns ``(ρ, eigenvalues of A)``, the eigenvalues None when ``A`` is None (the identity)."""
    if A is None:
        return np.sum(x * x, axis=1), None
    mat, mu, _ = as_spd(A)
    if mat.shape[0] != x.shape[1]:
        raise ValueError(
            f"Received mismatched dimensions: `A` has shape {mat.shape} but `x` has "
            f"{x.shape[1]} columns."
        )
    return np.einsum("ni,ij,nj->n", x, mat, x), mu
