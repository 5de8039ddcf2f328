"""Argument checks shared across the package, with messages that name the argument."""

import numbers

__all__ = ["check_int"]


def check_int(name, value, minimum=1, type_error=False):
    """Returns ``value`` as an ``int`` if it is an integer ``>= minimum``; raises otherwise.

    Python ints and NumPy integers are accepted; bools are not. A failed check raises
    ``ValueError``, except that with ``type_error=True`` a value that is not an integer at all
    raises ``TypeError`` (an integer below ``minimum`` still raises ``ValueError``).
    """
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_int or value < minimum:
        error = TypeError if type_error and not is_int else ValueError
        raise error(
            f"Received an invalid value for `{name}`: expected an integer >= {minimum}. "
            f"Received: {name}={value!r}"
        )
    return int(value)
