"""Argument checks shared by every part of skrank.

Only the standard library is imported here, so that the preprocessing, the Keras
layers, the estimators and the command line can all use the same checks (and
the same error messages) without importing one another.
"""

import numbers
from collections.abc import Sequence


def _is_positive_int(value) -> bool:
    # bool is an int subclass: True must not pass for 1.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def check_positive_int(value, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an ``int`` if it is an integer of at least 1.

    Parameters
    ----------
    value : object
        The value to check. Python and NumPy integers pass; bools, floats
        (even ``2.0``) and strings do not.
    name : str
        The parameter's name, quoted in the error message.
    allow_none : bool, default=False
        Whether None is accepted (and returned).

    Returns
    -------
    int or None

    Raises
    ------
    ValueError
        Naming the parameter and the value received.

    Examples
    --------
    >>> from skrank._validation import check_positive_int
    >>> check_positive_int(3, "epochs")
    3
    >>> check_positive_int(0, "epochs")
    Traceback (most recent call last):
    ...
    ValueError: epochs must be a positive integer; got epochs=0.
    """
    if value is None and allow_none:
        return None
    if not _is_positive_int(value):
        expected = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(f"{name} must be {expected}; got {name}={value!r}.")
    return int(value)


def check_positive_int_sequence(values, name: str, *, allow_empty: bool = False) -> list[int]:
    """Return ``values`` as a list of ``int`` if it is a sequence of positive integers.

    Parameters
    ----------
    values : object
        The value to check: a list, tuple or other sequence (not a string) whose
        items pass :func:`check_positive_int`.
    name : str
        The parameter's name, quoted in the error message.
    allow_empty : bool, default=False
        Whether an empty sequence is accepted.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        Naming the parameter and the value received.

    Examples
    --------
    >>> from skrank._validation import check_positive_int_sequence
    >>> check_positive_int_sequence((64, 16), "units")
    [64, 16]
    >>> check_positive_int_sequence([64, 0], "units")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: units must be a non-empty sequence of positive integers ...; got units=[64, 0].
    """
    is_sequence = isinstance(values, Sequence) and not isinstance(values, str | bytes)
    if not (
        is_sequence and (allow_empty or len(values)) and all(_is_positive_int(v) for v in values)
    ):
        expected = "a sequence" if allow_empty else "a non-empty sequence"
        raise ValueError(
            f"{name} must be {expected} of positive integers such as (64, 16); "
            f"got {name}={values!r}."
        )
    return [int(v) for v in values]
