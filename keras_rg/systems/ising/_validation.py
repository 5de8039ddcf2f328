"""Argument checks shared by the Ising modules, with messages that name the argument."""

import math
import numbers

import numpy as np

from keras_rg.arguments import check_int

__all__ = [
    "check_lattice_block_size",
    "check_choice",
    "check_coupling",
    "check_lattice_size",
    "check_spins",
]


def _invalid(name, expected, value):
    return ValueError(
        f"Received an invalid value for `{name}`: expected {expected}. Received: {name}={value!r}"
    )


def check_lattice_size(name, value, even=False, minimum=2):
    """Checks a linear lattice size: an integer ``>= minimum``, even when ``even`` is set."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value < minimum:
        raise _invalid(name, f"a lattice size, an integer >= {minimum}", value)
    value = check_int(name, value, minimum)
    if even and value % 2:
        raise _invalid(
            name,
            "an even lattice size (the checkerboard needs two sublattices that close "
            "periodically); use method='swendsen_wang' for odd sizes",
            value,
        )
    return value


def check_coupling(name, value):
    """Returns ``value`` as a finite ``float``; raises for non-numbers and non-finite numbers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:
            arr = np.asarray(value)
        except Exception:  # pragma: no cover - exotic objects
            arr = None
        if arr is None or arr.shape != () or not np.issubdtype(arr.dtype, np.number):
            raise TypeError(
                f"Received an invalid type for `{name}`: expected a finite real number. "
                f"Received: {name}={value!r}"
            )
        value = arr.item()
    if not math.isfinite(value):
        raise _invalid(name, "a finite real number", value)
    return float(value)


def check_choice(name, value, choices):
    """Checks that ``value`` is one of ``choices``."""
    if value not in choices:
        raise _invalid(name, f"one of {sorted(choices)}", value)
    return value


def check_lattice_block_size(name, value, shape):
    """Checks a block-spin block side: an integer >= 2 dividing every entry of ``shape``."""
    value = check_int(name, value, 2)
    bad = [n for n in shape if n % value]
    if bad:
        raise _invalid(
            name,
            f"a block size that divides the lattice dimensions {tuple(shape)}",
            value,
        )
    return value


def check_spins(name, spins, min_ndim, geometry):
    """Returns ``spins`` as an ``int8`` array of +-1 values with at least ``min_ndim`` axes."""
    arr = np.asarray(spins)
    if arr.ndim < min_ndim:
        raise _invalid(
            name,
            f"an array of +-1 spins with at least {min_ndim} axes for geometry='{geometry}'",
            f"array of shape {arr.shape}",
        )
    if arr.size and not np.all(np.abs(arr) == 1):
        raise _invalid(name, "spins equal to +1 or -1", "an array with other values")
    return arr.astype(np.int8, copy=False)
