"""Stages: the columns of a pipeline, and their kinds.

>>> from pipekit import Stage, StageKind
>>> Stage(id=7, name=" Demo ", color="#9cf", kind=StageKind.OPEN)
Stage(id=7, name='Demo', color=Color('#99ccff'), kind=StageKind.OPEN)
"""

from __future__ import annotations

from typing import final

import attrs

from pipekit._checks import require_int, require_type
from pipekit.bounds import ID_RANGE, Id
from pipekit.color import Color, to_color
from pipekit.errors import InvalidOutcome, InvalidStageId
from pipekit.kind import OUTCOMES, Outcome, StageKind
from pipekit.names import clean_name

__all__ = ["OUTCOMES", "Outcome", "Stage", "StageKind", "check_outcome"]


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
