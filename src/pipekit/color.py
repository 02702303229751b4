"""Stage colours (R8).

>>> from pipekit import Color
>>> Color("#9CF").hex
'#99ccff'
>>> Color("#99ccff") == Color("#9cf")
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, final

import attrs

from pipekit._checks import require_type
from pipekit.errors import InvalidColor

__all__ = [
    "INCOMING_COLOR",
    "KOMMO_PALETTE",
    "LOST_COLOR",
    "PALETTE_INDEX",
    "WON_COLOR",
    "Color",
]

_HEX: Final = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def _normalise(value: str) -> str:
    if _HEX.fullmatch(require_type(value, str, "a colour")) is None:
        raise InvalidColor(value)
    if len(value) == 4:
        value = "#" + "".join(digit * 2 for digit in value[1:])
    return value.lower()


@final
@attrs.frozen(repr=False)
class Color:
    """A colour ``#rrggbb``, in lower case.

    ``#rgb`` is expanded to ``#rrggbb`` and upper case is made lower, so two
    spellings of one colour are equal. Any such colour is valid, because data
    imported from Kommo holds colours outside the palette it accepts on write.
    Anything else raises :class:`~pipekit.InvalidColor`.
    """

    hex: str = attrs.field(converter=_normalise)

    def __repr__(self) -> str:
        return f"Color({self.hex!r})"

    def __str__(self) -> str:
        return self.hex


def to_color(value: Color | str) -> Color:
    """Return *value* as a :class:`Color`, parsing a string."""
    if isinstance(value, Color):
        return value
    if not isinstance(value, str):
        raise TypeError(f"a colour must be a Color or a str, got {type(value).__name__}")
    return Color(value)


KOMMO_PALETTE: Final[tuple[Color, ...]] = tuple(
    Color(value)
    for value in (
        *("#fffeb2", "#fffd7f", "#fff000", "#ffeab2", "#ffdc7f", "#ffce5a", "#ffdbdb"),
        *("#ffc8c8", "#ff8f92", "#d6eaff", "#c1e0ff", "#98cbff", "#ebffb1", "#deff81"),
        *("#87f2c0", "#f9deff", "#f3beff", "#ccc8f9", "#eb93ff", "#f2f3f4", "#e6e8ea"),
    )
)
"""The 21 stage colours Kommo accepts on write, in Kommo's order."""

PALETTE_INDEX: Final[Mapping[Color, int]] = MappingProxyType(
    {color: index for index, color in enumerate(KOMMO_PALETTE)}
)
"""The position of each colour in :data:`KOMMO_PALETTE`."""

INCOMING_COLOR: Final = Color("#c1c1c1")
"""Kommo's system colour of the incoming leads stage."""

WON_COLOR: Final = Color("#ccff66")
"""Kommo's system colour of the won stage."""

LOST_COLOR: Final = Color("#d5d8db")
"""Kommo's system colour of the lost stage."""
