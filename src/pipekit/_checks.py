"""Type checks at the public edge (a wrong Python type is a programming error, R12), and reprs."""

from __future__ import annotations

from typing import Final, TypeVar

import attrs

__all__ = ["constructor_repr", "int_text", "require_int", "require_type"]

_T = TypeVar("_T")


def require_type(value: object, kind: type[_T], what: str) -> _T:
    """Return *value* if it is a *kind*, else raise :class:`TypeError` naming *what*."""
    if not isinstance(value, kind):
        article = "an" if kind.__name__[0] in "AEIOU" else "a"
        raise TypeError(f"{what} must be {article} {kind.__name__}, got {type(value).__name__}")
    return value


def require_int(value: object, what: str) -> int:
    """Return *value* if it is an ``int`` and not a ``bool``, else raise :class:`TypeError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    return value


_LONGEST_SHOWN: Final = 128
"""The most bits of an integer a message writes out in digits."""


def int_text(value: int) -> str:
    """Return *value* as a message shows it: its digits, or its size when it is huge.

    Python refuses to write an ``int`` of over 4300 digits as text (a guard against
    slow conversions), so a message about any integer a caller gave goes through here.

    >>> int_text(-42), int_text(2**4400)
    ('-42', 'an integer of 4401 bits')
    """
    if value.bit_length() <= _LONGEST_SHOWN:
        return str(value)
    sign = "a negative" if value < 0 else "an"
    return f"{sign} integer of {value.bit_length()} bits"


def constructor_repr(value: attrs.AttrsInstance) -> str:
    """Return *value* written as a call of its constructor, by the names it takes, to evaluate back.

    For a class that keeps a field under a private name (``_schedule``) and takes it
    under another (``scheduled=``).
    """
    names = (field.alias or field.name for field in attrs.fields(type(value)) if field.init)
    shown = ", ".join(f"{name}={getattr(value, name)!r}" for name in names)
    return f"{type(value).__name__}({shown})"
