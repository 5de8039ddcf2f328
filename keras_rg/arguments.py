"""Argument checks shared by every keras_rg module, with one rule and one message format.

The rule:

- a value of the wrong **type** raises ``TypeError``; a value of the right type that is out of
  range raises ``ValueError``;
- strings are never accepted as numbers, and ``bool`` is never accepted as a number;
- NumPy scalars, 0-d arrays and scalar tensors are accepted where a Python number is;
- every check takes ``(name, value, ...)`` and returns the value converted (``int``, ``float``,
  ``np.ndarray``), so a constructor can write ``self.units = check_int("units", units)``.

Messages follow Keras: "Received an invalid value for `units`: expected an integer >= 1.
Received: units=0".

Example:

>>> from keras_rg.arguments import check_int, check_positive
>>> check_int("units", 4)
4
>>> check_positive("epsilon", 0.0, allow_zero=True)
0.0
>>> check_positive("epsilon", "1e-3")
Traceback (most recent call last):
...
TypeError: Received an invalid type for `epsilon`: expected a finite float > 0. Received: epsilon='1e-3' of type str
"""

import math
import numbers
import warnings

import numpy as np

__all__ = [
    "check_array",
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "check_positive",
    "invalid_type",
    "invalid_value",
    "renamed_argument",
]

_UNSET = object()


def invalid_value(name, expected, value):
    """The ``ValueError`` for argument ``name``: ``expected`` says what is accepted."""
    return ValueError(
        f"Received an invalid value for `{name}`: expected {expected}. Received: {name}={value!r}"
    )


def invalid_type(name, expected, value):
    """The ``TypeError`` for argument ``name``: ``expected`` says what is accepted."""
    return TypeError(
        f"Received an invalid type for `{name}`: expected {expected}. "
        f"Received: {name}={value!r} of type {type(value).__name__}"
    )


def _scalar(value):
    """A Python/NumPy scalar from ``value`` (numbers, 0-d arrays, scalar tensors), else None."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return None
    if isinstance(value, numbers.Number):
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        try:
            arr = np.asarray(value)
        except Exception:  # noqa: BLE001 - not array-like after all
            return None
        if arr.shape == () and (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
        ):
            return arr.item()
    return None


def check_int(name, value, minimum=1, maximum=None):
    """Returns ``value`` as an ``int`` if it is an integer in ``[minimum, maximum]``.

    Python and NumPy integers, 0-d integer arrays and scalar integer tensors are accepted;
    bools, floats (even ``2.0``) and strings are not (``TypeError``).
    """
    expected = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    scalar = _scalar(value)
    if not isinstance(scalar, numbers.Integral):
        raise invalid_type(name, expected, value)
    if scalar < minimum or (maximum is not None and scalar > maximum):
        raise invalid_value(name, expected, value)
    return int(scalar)


def check_float(name, value, minimum=None, maximum=None, *, open_min=False, open_max=False):
    """Returns ``value`` as a finite ``float`` in the stated range.

    ``minimum``/``maximum`` bound it (``None``: unbounded); ``open_min``/``open_max`` exclude the
    bound itself. Integers are accepted and converted; strings and bools raise ``TypeError``.
    """
    parts = ["a finite float"]
    if minimum is not None:
        parts.append(f"{'>' if open_min else '>='} {minimum}")
    if maximum is not None:
        parts.append(f"{'<' if open_max else '<='} {maximum}")
    expected = " ".join(parts[:2]) + (f" and {parts[2]}" if len(parts) == 3 else "")
    scalar = _scalar(value)
    if scalar is None or isinstance(scalar, complex):
        raise invalid_type(name, expected, value)
    scalar = float(scalar)
    bad = not math.isfinite(scalar)
    if minimum is not None:
        bad = bad or scalar < minimum or (open_min and scalar == minimum)
    if maximum is not None:
        bad = bad or scalar > maximum or (open_max and scalar == maximum)
    if bad:
        raise invalid_value(name, expected, value)
    return scalar


def check_positive(name, value, *, allow_zero=False):
    """Returns ``value`` as a finite ``float`` > 0 (>= 0 with ``allow_zero``)."""
    return check_float(name, value, 0, open_min=not allow_zero)


def check_bool(name, value):
    """Returns ``value`` as a ``bool``; only ``True``/``False`` (and NumPy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise invalid_type(name, "True or False", value)
    return bool(value)


def check_choice(name, value, choices):
    """Returns ``value`` if it is one of ``choices`` (compared with ``==``)."""
    if isinstance(value, (list, dict, set)) or value not in tuple(choices):
        raise invalid_value(name, f"one of {list(choices)}", value)
    return value


def check_array(name, value, *, min_ndim=1, max_ndim=None, min_rows=1, dtype=np.float64):
    """Returns ``value`` as a NumPy array of ``dtype``, with at least ``min_rows`` rows.

    Raises ``ValueError`` naming ``name`` for an empty array, too few rows, the wrong number of
    axes or non-finite entries, and ``TypeError`` for data that is not numeric.
    """
    try:
        arr = np.asarray(value)
    except Exception as err:  # noqa: BLE001 - ragged lists and the like
        raise invalid_type(name, "a numeric array", value) from err
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(
            f"Received an invalid type for `{name}`: expected a numeric array. "
            f"Received: {name} with dtype {arr.dtype}"
        )
    shape = f"array of shape {arr.shape}"
    if arr.ndim < min_ndim or (max_ndim is not None and arr.ndim > max_ndim):
        axes = f"{min_ndim}" if max_ndim == min_ndim else f">= {min_ndim}"
        if max_ndim is not None and max_ndim != min_ndim:
            axes += f" and <= {max_ndim}"
        raise ValueError(
            f"Received an invalid value for `{name}`: expected an array with {axes} axes. "
            f"Received: {name} as an {shape}"
        )
    if arr.size == 0 or (arr.ndim and arr.shape[0] < min_rows):
        raise ValueError(
            f"Received an invalid value for `{name}`: expected at least {max(min_rows, 1)} "
            f"sample(s) (rows) and no empty axis. Received: {name} as an {shape}"
        )
    arr = arr.astype(dtype, copy=False) if dtype is not None else arr
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(
            f"Received an invalid value for `{name}`: expected finite entries. "
            f"Received: {name} with {int(np.sum(~np.isfinite(arr)))} NaN or infinite entries"
        )
    return arr


def renamed_argument(kwargs, old, new, value, owner, default=_UNSET):
    """Takes the deprecated argument ``old`` out of ``kwargs`` and returns the value for ``new``.

    Old names are kept for one release: passing ``old`` warns with a ``DeprecationWarning`` that
    names ``owner`` and the new name, and its value is used. Passing both raises ``TypeError``.
    ``default`` is ``new``'s default, used to tell whether ``new`` was also passed.

    >>> kwargs = {"burnin": 10}
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed_argument(kwargs, "burnin", "burn_in", 0, "LangevinSamples", default=0)
    10
    >>> kwargs, str(caught[0].message)
    ({}, 'LangevinSamples: `burnin` is deprecated and will be removed in the next release; use `burn_in`.')
    """
    if old not in kwargs:
        return value
    old_value = kwargs.pop(old)
    if default is not _UNSET and value is not default and value != default:
        raise TypeError(f"{owner}: pass `{new}` only; `{old}` is its deprecated name.")
    warnings.warn(
        f"{owner}: `{old}` is deprecated and will be removed in the next release; use `{new}`.",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value
