"""Pipelines: an ordered row of stages that leads move through.

A :class:`Pipeline` can only exist in a valid state. Its constructor checks every
rule of its shape and raises :class:`~pipekit.InvalidPipeline`, naming the rule,
when one breaks:

- R1: an optional incoming leads stage first, one or more open stages, then the
  won stage and the lost stage, last;
- R6: at most :data:`MAX_STAGES` stages, system stages included;
- R7: valid names, and stage names unique within the pipeline;
- R9: positive ids, unique stage ids, and a stage id counter above every stage id.

>>> from pipekit import default_pipeline
>>> pipeline = default_pipeline("Sales")
>>> [stage.name for stage in pipeline.stages]
['Initial Contact', 'Offer Made', 'Negotiation', 'Closed - won', 'Closed - lost']
>>> pipeline.won.id, pipeline.lost.id
(142, 143)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, final

import attrs

from pipekit._checks import int_text, require_int, require_type
from pipekit.bounds import ID_RANGE, NEXT_ID_RANGE, Id, NextId, Range
from pipekit.color import KOMMO_PALETTE, PALETTE_INDEX
from pipekit.errors import InvalidName, InvalidPipeline, UnknownStage
from pipekit.names import clean_name, name_key
from pipekit.stage import Stage, StageKind

__all__ = [
    "LOST_STAGE_ID",
    "MAX_STAGES",
    "WON_STAGE_ID",
    "Pipeline",
]

MAX_STAGES: Final = 100
"""The most stages a pipeline holds, system stages included (Kommo's limit, R6)."""

WON_STAGE_ID: Final = 142
"""The id of the won stage in every pipeline :func:`default_pipeline` makes, as in Kommo."""

LOST_STAGE_ID: Final = 143
"""The id of the lost stage in every pipeline :func:`default_pipeline` makes, as in Kommo."""


def _to_stages(value: Iterable[Stage]) -> tuple[Stage, ...]:
    stages = tuple(value)
    for stage in stages:
        require_type(stage, Stage, "each stage of a pipeline")
    return stages


def _first_free_id(pipeline: Pipeline) -> int:
    return max((stage.id for stage in pipeline.stages), default=0) + 1


@final
@attrs.frozen
class Pipeline:
    """An ordered row of stages, valid from the moment it exists.

    Build a new one with :func:`default_pipeline` and change it with the command
    functions (:func:`~pipekit.add_stage` and the others), which return a new
    pipeline. ``next_stage_id`` is the id the next added stage gets unless the
    caller names one; it always stays above every stage id the pipeline has held,
    so ids are never reused. Left out, it is one above the highest stage id.
    ``archived`` marks a pipeline Kommo keeps in its archive (``is_archive``); the
    rules treat an archived pipeline like any other, and commands keep the flag.
    """

    id: Id
    name: str
    stages: tuple[Stage, ...] = attrs.field(converter=_to_stages)
    next_stage_id: NextId = attrs.field(default=attrs.Factory(_first_free_id, takes_self=True))
    archived: bool = False
    # What commands look up, kept so that a command costs a C-level scan instead of
    # a Python loop over 100 stages: ids and name keys parallel to ``stages``, and
    # how many stages use each palette colour (for the default colour, R8).
    _ids: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    _keys: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    _uses: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_id(self.id, "a pipeline id", "id", ID_RANGE)
        require_type(self.archived, bool, "archived")
        try:
            object.__setattr__(self, "name", clean_name(self.name))
        except InvalidName as error:
            raise InvalidPipeline(
                "R7", f"the pipeline name is invalid: {error.reason}", ("name",)
            ) from None
        _check_order(self.stages)
        ids = tuple(stage.id for stage in self.stages)
        _check_ids(ids, self.next_stage_id)
        keys = tuple(name_key(stage.name) for stage in self.stages)
        _check_names(self.stages, keys)
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_uses", palette_uses(self.stages))

    @property
    def incoming(self) -> Stage | None:
        """The incoming leads stage, or ``None`` when it is switched off."""
        first = self.stages[0]
        return first if first.kind is StageKind.INCOMING else None

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        """The open stages, in display order."""
        return self.stages[self.first_open_index : -2]

    @property
    def won(self) -> Stage:
        """The won stage (the one before last)."""
        return self.stages[-2]

    @property
    def lost(self) -> Stage:
        """The lost stage (the last one)."""
        return self.stages[-1]

    @property
    def first_open_index(self) -> int:
        """The index in :attr:`stages` of the first open stage: 1 with incoming leads on, else 0."""
        return 1 if self.stages[0].kind is StageKind.INCOMING else 0

    def stage(self, stage_id: int) -> Stage:
        """Return the stage with id *stage_id*, or raise :class:`~pipekit.UnknownStage`."""
        return self.stages[self.index_of(stage_id)]

    def index_of(self, stage_id: int) -> int:
        """Return the index in :attr:`stages` of the stage with id *stage_id*.

        Raises :class:`~pipekit.UnknownStage` when there is none, and
        :class:`TypeError` when *stage_id* is not an ``int``.
        """
        require_int(stage_id, "a stage id")
        try:
            return self._ids.index(stage_id)
        except ValueError:
            raise UnknownStage(stage_id, self.id) from None

    def _clash(self, key: str) -> int | None:
        """Return the index of the stage whose name key is *key*, or ``None``."""
        try:
            return self._keys.index(key)
        except ValueError:
            return None


def palette_uses(stages: Iterable[Stage]) -> tuple[int, ...]:
    """Return how many of *stages* use each colour of the palette, in palette order."""
    uses = [0] * len(KOMMO_PALETTE)
    for stage in stages:
        index = PALETTE_INDEX.get(stage.color)
        if index is not None:
            uses[index] += 1
    return tuple(uses)


def _check_id(value: object, what: str, field: str, bounds: Range) -> None:
    number = require_int(value, what)
    if number < 1:
        raise InvalidPipeline("R9", f"{what} must be a positive integer, got {number}", (field,))
    if number not in bounds:
        raise InvalidPipeline(
            "R9", f"{what} is at most {bounds.high}, got {int_text(number)}", (field,)
        )


def _check_order(stages: tuple[Stage, ...]) -> None:
    if len(stages) > MAX_STAGES:
        raise InvalidPipeline(
            "R6", f"{len(stages)} stages, at most {MAX_STAGES} are allowed", ("stages",)
        )
    kinds = [stage.kind for stage in stages]
    if kinds[-2:] != [StageKind.WON, StageKind.LOST]:
        raise InvalidPipeline(
            "R1", "the last two stages must be the won stage, then the lost stage", ("stages",)
        )
    first = 1 if kinds[0] is StageKind.INCOMING else 0
    body = kinds[first:-2]
    if not body:
        raise InvalidPipeline("R1", "a pipeline needs at least one open stage", ("stages",))
    for position, kind in enumerate(body):
        if kind is not StageKind.OPEN:
            raise InvalidPipeline(
                "R1",
                f"the {kind.label} stage stands at open position {position}: the incoming"
                " leads stage can only come first, and the won and lost stages only last",
                ("stages", first + position),
            )


def _check_ids(ids: tuple[int, ...], next_stage_id: int) -> None:
    seen: set[int] = set()
    for index, stage_id in enumerate(ids):
        if stage_id in seen:
            raise InvalidPipeline(
                "R9", f"two stages have the id {stage_id}", ("stages", index, "id")
            )
        seen.add(stage_id)
    _check_id(next_stage_id, "next_stage_id", "next_stage_id", NEXT_ID_RANGE)
    if next_stage_id <= max(ids):
        raise InvalidPipeline(
            "R9",
            f"next_stage_id {next_stage_id} must be above every stage id ({max(ids)})",
            ("next_stage_id",),
        )


def _check_names(stages: tuple[Stage, ...], keys: tuple[str, ...]) -> None:
    seen: dict[str, Stage] = {}
    for index, (stage, key) in enumerate(zip(stages, keys, strict=True)):
        clash = seen.setdefault(key, stage)
        if clash is not stage:
            raise InvalidPipeline(
                "R7",
                f"stages {clash.id} and {stage.id} have clashing names {stage.name!r}",
                ("stages", index, "name"),
            )


def trusted_pipeline(
    pipeline: Pipeline,
    stages: tuple[Stage, ...],
    ids: tuple[int, ...],
    keys: tuple[str, ...],
    uses: tuple[int, ...],
    next_stage_id: int,
    name: str | None = None,
) -> Pipeline:
    """Build a copy of *pipeline* with new stages that a command has already checked.

    The command has checked what it changed against the same rule functions the
    constructor uses; the rest was valid in *pipeline*, so nothing is checked twice.
    """
    result = object.__new__(Pipeline)
    object.__setattr__(result, "id", pipeline.id)
    object.__setattr__(result, "name", pipeline.name if name is None else name)
    object.__setattr__(result, "stages", stages)
    object.__setattr__(result, "next_stage_id", next_stage_id)
    object.__setattr__(result, "archived", pipeline.archived)
    object.__setattr__(result, "_ids", ids)
    object.__setattr__(result, "_keys", keys)
    object.__setattr__(result, "_uses", uses)
    return result
