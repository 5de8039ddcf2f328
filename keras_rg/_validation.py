"""Deprecated: use :func:`keras_rg.arguments.check_int` (one argument-check module for the package).

Kept only until every caller has moved to :mod:`keras_rg.arguments`; it delegates to it, so both
accept the same values (Python/NumPy integers, 0-d integer arrays, scalar integer tensors; never
bools, floats or strings).
"""

from keras_rg import arguments

__all__ = ["check_int"]


def check_int(name, value, minimum=1, type_error=False):
    """:func:`keras_rg.arguments.check_int`, except that without ``type_error`` a value that is
    not an integer raises ``ValueError`` (the old rule); new code calls the shared check."""
    try:
        return arguments.check_int(name, value, minimum=minimum)
    except TypeError as err:
        if type_error:
            raise
        raise ValueError(str(err).replace("invalid type", "invalid value", 1)) from None
