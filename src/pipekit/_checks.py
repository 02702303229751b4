"""Type checks at the public edge: a wrong Python type is a programming error (R12)."""

from __future__ import annotations

from typing import TypeVar

__all__ = ["require_int", "require_type"]

_T = TypeVar("_T")


def require_type(value: object, kind: type[_T], what: str) -> _T:
    """Return *value* if it is a *kind*, else raise :class:`TypeError` naming *what*."""
    if not isinstance(value, kind):
        raise TypeError(f"{what} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def require_int(value: object, what: str) -> int:
    """Return *value* if it is an ``int`` and not a ``bool``, else raise :class:`TypeError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    return value
