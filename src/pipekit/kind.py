"""The kinds of stage: incoming leads, open, won and lost.

A module of its own, below every other, so that the errors that name a stage's
kind (:class:`~pipekit.StageLocked`, :class:`~pipekit.InvalidOutcome`) need not
import the stages themselves. :mod:`pipekit.stage` offers the same names.

>>> from pipekit import StageKind
>>> StageKind.INCOMING.label, StageKind.WON.is_system
('incoming leads', True)
"""

from __future__ import annotations

import enum
from typing import Annotated, Final, TypeAlias, final

__all__ = ["OUTCOMES", "Outcome", "StageKind"]


@final
class StageKind(enum.Enum):
    """What a stage is for, which decides what may be done with it.

    ``INCOMING`` is the optional first stage where requests wait to be accepted
    or declined; ``OPEN`` stages are the ones people shape freely; ``WON`` and
    ``LOST`` are the two closing stages that end every pipeline.
    """

    INCOMING = "incoming"
    OPEN = "open"
    WON = "won"
    LOST = "lost"

    @property
    def label(self) -> str:
        """The kind as a person reads it in a message: ``"incoming leads"``, ``"won"``..."""
        return "incoming leads" if self is StageKind.INCOMING else self.value

    @property
    def is_system(self) -> bool:
        """Whether the stage is a system stage (incoming leads, won or lost)."""
        return self is not StageKind.OPEN

    def __repr__(self) -> str:
        return f"StageKind.{self.name}"


OUTCOMES: Final = (StageKind.WON, StageKind.LOST)
"""The kinds a lead closes with: the two terminal stages (R5)."""

Outcome: TypeAlias = Annotated[StageKind, OUTCOMES]
"""A :class:`StageKind` that is one of :data:`OUTCOMES`; the JSON Schemas allow those alone."""
