"""The bounds of pipekit's numbers: ids, prices, delays and revisions, each stated once.

A JavaScript client holds an integer exactly up to ``2**53 - 1``, so every number
pipekit keeps stays within that: ids from 1 to :data:`MAX_ID`, prices from 0 to
:data:`MAX_PRICE`, revisions from 0 to :data:`MAX_REVISION`, and an automation's
delay from 0 to :data:`MAX_DELAY` (ten years). Each bound is a :class:`Range`, and
the same range serves everywhere: the constructors of the values check it (through
:func:`~pipekit.lead.positive_id`, :func:`~pipekit.lead.check_price` and their
kin), so ``apply`` refuses a command that would break it; the codec refuses a
number out of range with a :class:`~pipekit.DecodeError` at its pointer; and the
JSON Schemas state it as ``minimum`` and ``maximum``. A field's type says which
range holds: :data:`Id`, :data:`NextId`, :data:`Price`, :data:`Revision`,
:data:`Delay` (plain ``int`` with their range attached, so code that passes an
``int`` type-checks as before); any other integer of a document, such as a
position, lies in :data:`SAFE_RANGE`.

>>> from pipekit import MAX_ID, MAX_DELAY
>>> MAX_ID == 2**53 - 1, 0 in ID_RANGE, MAX_ID in ID_RANGE, MAX_ID + 1 in ID_RANGE
(True, False, True, False)
>>> MAX_DELAY
datetime.timedelta(days=3653)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Final, TypeAlias, final

import attrs

__all__ = [
    "DELAY_RANGE",
    "ID_RANGE",
    "MAX_DELAY",
    "MAX_ID",
    "MAX_PRICE",
    "MAX_REVISION",
    "MAX_SAFE_INTEGER",
    "NEXT_ID_RANGE",
    "PRICE_RANGE",
    "REVISION_RANGE",
    "SAFE_RANGE",
    "Delay",
    "Id",
    "NextId",
    "Price",
    "Range",
    "Revision",
    "microseconds",
]

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""The largest integer that a JavaScript number (a double) holds exactly, with its neighbours."""

MAX_ID: Final = MAX_SAFE_INTEGER
"""The highest id of a lead, pipeline, stage, loss reason, automation or scheduled action."""

MAX_PRICE: Final = MAX_SAFE_INTEGER
"""The highest price, in minor units; a stage's total is a sum of prices, kept exactly too."""

MAX_REVISION: Final = MAX_SAFE_INTEGER
"""The highest revision a workspace or an event carries."""

MAX_DELAY: Final = timedelta(days=3653)
"""The longest delay of an automation: ten years, leap days included."""


@final
@attrs.frozen
class Range:
    """An inclusive range of integers: where a number of a given kind may lie.

    >>> 7 in Range(1, 10), 11 in Range(1, 10), True in Range(0, 1)
    (True, False, False)
    """

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )


_MICROSECOND: Final = timedelta(microseconds=1)


def microseconds(delay: timedelta) -> int:
    """Return *delay* in whole microseconds: how a document writes it, and how it is bounded."""
    return delay // _MICROSECOND


SAFE_RANGE: Final = Range(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
"""Where any integer of a document lies: the integers a JavaScript client holds exactly."""

ID_RANGE: Final = Range(1, MAX_ID)
"""Where an id lies: from 1 to :data:`MAX_ID`."""

NEXT_ID_RANGE: Final = Range(1, MAX_ID + 1)
"""Where an id counter (``next_lead_id``...) lies: up to one above the highest id."""

PRICE_RANGE: Final = Range(0, MAX_PRICE)
"""Where a price lies: from 0 to :data:`MAX_PRICE`."""

REVISION_RANGE: Final = Range(0, MAX_REVISION)
"""Where a revision lies: from 0 to :data:`MAX_REVISION`."""

DELAY_RANGE: Final = Range(0, microseconds(MAX_DELAY))
"""Where a delay lies, in whole microseconds: from 0 to :data:`MAX_DELAY`."""

Id: TypeAlias = Annotated[int, ID_RANGE]
"""An id: an ``int`` in :data:`ID_RANGE`."""

NextId: TypeAlias = Annotated[int, NEXT_ID_RANGE]
"""An id counter: an ``int`` in :data:`NEXT_ID_RANGE`."""

Price: TypeAlias = Annotated[int, PRICE_RANGE]
"""A price in minor units: an ``int`` in :data:`PRICE_RANGE`."""

Revision: TypeAlias = Annotated[int, REVISION_RANGE]
"""A revision: an ``int`` in :data:`REVISION_RANGE`."""

Delay: TypeAlias = Annotated[timedelta, DELAY_RANGE]
"""An automation's delay: a ``timedelta`` whose microseconds lie in :data:`DELAY_RANGE`."""
