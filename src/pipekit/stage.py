"""Stages: the columns of a pipeline, and their kinds.

>>> from pipekit import Stage, StageKind
>>> Stage(id=7, name=" Demo ", color="#9cf", kind=StageKind.OPEN)
Stage(id=7, name='Demo', color=Color('#99ccff'), kind=StageKind.OPEN)
"""

from __future__ import annotations

import enum
from typing import Annotated, Final, TypeAlias, final

import attrs

from pipekit._checks import require_int, require_type
from pipekit.bounds import ID_RANGE, Id
from pipekit.color import Color, to_color
from pipekit.errors import InvalidOutcome, InvalidStageId
from pipekit.names import clean_name

__all__ = ["OUTCOMES", "Outcome", "Stage", "StageKind", "check_outcome"]


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


def check_outcome(value: StageKind) -> StageKind:
    """Return *value* if it is ``StageKind.WON`` or ``StageKind.LOST``, else raise why not.

    Another kind raises :class:`~pipekit.InvalidOutcome`; a value that is no
    :class:`StageKind` raises :class:`TypeError`.
    """
    if require_type(value, StageKind, "outcome") not in OUTCOMES:
        raise InvalidOutcome(value)
    return value


def check_id(value: int) -> int:
    """Return *value* if it is a valid stage id: an ``int`` from 1 to ``MAX_ID`` (R9)."""
    if require_int(value, "a stage id") not in ID_RANGE:
        raise InvalidStageId(value)
    return value


def _check_kind(value: StageKind) -> StageKind:
    return require_type(value, StageKind, "a stage kind")


@final
@attrs.frozen
class Stage:
    """One stage of a pipeline: an id, a name, a colour and a kind.

    The name is stripped and checked against R7 (:class:`~pipekit.InvalidName`),
    the colour may be given as a string (:class:`~pipekit.InvalidColor`), and the
    id must be a positive ``int`` (:class:`~pipekit.InvalidStageId`).
    """

    id: Id = attrs.field(converter=check_id)
    name: str = attrs.field(converter=clean_name)
    color: Color = attrs.field(converter=to_color)
    kind: StageKind = attrs.field(converter=_check_kind)


def trusted_stage(stage_id: int, name: str, color: Color, kind: StageKind) -> Stage:
    """Build a :class:`Stage` from values a command has already checked."""
    stage = object.__new__(Stage)
    object.__setattr__(stage, "id", stage_id)
    object.__setattr__(stage, "name", name)
    object.__setattr__(stage, "color", color)
    object.__setattr__(stage, "kind", kind)
    return stage
