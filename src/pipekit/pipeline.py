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

The stage commands are pure functions here too: each takes a pipeline and
returns a new one, or raises a :class:`~pipekit.RuleViolation` subclass and
changes nothing. None of them reads the clock, randomness or any global state; a
command that changes nothing (a rename to the same name) returns an equal
pipeline. Positions count among the open stages only, from 0.

>>> from pipekit import add_stage, move_stage
>>> pipeline = add_stage(default_pipeline(), "Demo", position=1)
>>> [stage.name for stage in pipeline.open_stages]
['Initial Contact', 'Demo', 'Offer Made', 'Negotiation']
>>> demo = pipeline.open_stages[1]
>>> [stage.name for stage in move_stage(pipeline, demo.id, 3).open_stages]
['Initial Contact', 'Offer Made', 'Negotiation', 'Demo']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, TypeVar, final

import attrs

from pipekit._checks import int_text, require_int, require_type
from pipekit.bounds import ID_RANGE, NEXT_ID_RANGE, Id, NextId, Range
from pipekit.color import (
    INCOMING_COLOR,
    KOMMO_PALETTE,
    LOST_COLOR,
    PALETTE_INDEX,
    WON_COLOR,
    Color,
    to_color,
)
from pipekit.errors import (
    DuplicateName,
    DuplicateStageId,
    InvalidName,
    InvalidPipeline,
    LastOpenStage,
    PositionOutOfRange,
    StageLimitReached,
    StageLocked,
    UnknownStage,
)
from pipekit.names import clean_name, name_key
from pipekit.stage import Stage, StageKind, check_id, check_outcome, trusted_stage

__all__ = [
    "DEFAULT_OPEN_STAGE_NAMES",
    "LOST_STAGE_ID",
    "MAX_STAGES",
    "WON_STAGE_ID",
    "Pipeline",
    "add_stage",
    "default_pipeline",
    "delete_stage",
    "disable_incoming",
    "enable_incoming",
    "move_stage",
    "recolor_stage",
    "rename_pipeline",
    "rename_stage",
    "rename_terminal",
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

    @property
    def stage_ids(self) -> tuple[int, ...]:
        """The ids of :attr:`stages`, in the same order."""
        return self._ids

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


# -- the stage commands ------------------------------------------------------------------

_T = TypeVar("_T")

DEFAULT_OPEN_STAGE_NAMES: Final = ("Initial Contact", "Offer Made", "Negotiation")
"""The open stages of a new pipeline, in order (R2)."""


def default_pipeline(
    name: str = "Pipeline", *, pipeline_id: int = 1, incoming: bool = False
) -> Pipeline:
    """Return a new pipeline with Kommo's default stages (R2).

    The open stages ``Initial Contact``, ``Offer Made`` and ``Negotiation`` take
    the first three palette colours and the ids 144, 145 and 146; ``Closed - won``
    (id 142) and ``Closed - lost`` (id 143) take Kommo's system colours. With
    ``incoming=True`` the incoming leads stage is switched on exactly as
    :func:`enable_incoming` would (id 147), so both ways give equal pipelines.

    >>> default_pipeline(incoming=True).incoming
    Stage(id=147, name='Incoming leads', color=Color('#c1c1c1'), kind=StageKind.INCOMING)
    """
    require_type(incoming, bool, "incoming")
    first_id = LOST_STAGE_ID + 1
    pipeline = Pipeline(
        id=pipeline_id,
        name=clean_name(name),
        stages=(
            *(
                Stage(first_id + offset, stage_name, color, StageKind.OPEN)
                for offset, (stage_name, color) in enumerate(
                    zip(DEFAULT_OPEN_STAGE_NAMES, KOMMO_PALETTE, strict=False)
                )
            ),
            Stage(WON_STAGE_ID, "Closed - won", WON_COLOR, StageKind.WON),
            Stage(LOST_STAGE_ID, "Closed - lost", LOST_COLOR, StageKind.LOST),
        ),
    )
    return enable_incoming(pipeline) if incoming else pipeline


def add_stage(
    pipeline: Pipeline,
    name: str,
    *,
    position: int | None = None,
    color: Color | str | None = None,
    stage_id: int | None = None,
) -> Pipeline:
    """Return *pipeline* with a new open stage at *position* among the open stages.

    *position* goes from 0 to ``len(pipeline.open_stages)``; left out, the stage
    comes after the last open stage. Left without a *color*, the stage takes the
    first palette colour the pipeline does not use yet, or else the one used by
    the fewest stages, first in palette order (R8). Left without a *stage_id*, it
    takes ``pipeline.next_stage_id``; a host may pass its own positive id instead.

    Raises :class:`~pipekit.StageLimitReached`, :class:`~pipekit.InvalidName`,
    :class:`~pipekit.DuplicateName`, :class:`~pipekit.PositionOutOfRange`,
    :class:`~pipekit.InvalidColor`, :class:`~pipekit.InvalidStageId` or
    :class:`~pipekit.DuplicateStageId`, checked in that order.
    """
    _check_pipeline(pipeline)
    if len(pipeline.stages) >= MAX_STAGES:
        raise StageLimitReached(MAX_STAGES)
    name, key = _new_name(pipeline, name)
    first_open = pipeline.first_open_index
    open_count = len(pipeline.stages) - first_open - 2
    if position is None:
        position = open_count
    _check_position(position, open_count)
    chosen = _default_color(pipeline) if color is None else to_color(color)
    stage_id, next_stage_id = _new_id(pipeline, stage_id)
    index = first_open + position
    return _inserted(
        pipeline,
        index,
        trusted_stage(stage_id, name, chosen, StageKind.OPEN),
        key,
        next_stage_id,
    )


def rename_stage(pipeline: Pipeline, stage_id: int, name: str) -> Pipeline:
    """Return *pipeline* with the stage *stage_id* renamed to *name*.

    Open, won and lost stages can be renamed; the incoming leads stage cannot
    (:class:`~pipekit.StageLocked`). A new name that clashes with another stage's
    raises :class:`~pipekit.DuplicateName`; changing only the case of a stage's own
    name is fine.
    """
    _check_pipeline(pipeline)
    index = pipeline.index_of(stage_id)
    stage = pipeline.stages[index]
    if stage.kind is StageKind.INCOMING:
        raise StageLocked(stage.id, stage.kind, "renamed")
    name = clean_name(name)
    if name == stage.name:
        return pipeline
    key = name_key(name)
    clash = pipeline._clash(key)
    if clash is not None and clash != index:
        _raise_duplicate(pipeline, name, clash)
    return _replaced(pipeline, index, trusted_stage(stage.id, name, stage.color, stage.kind), key)


def rename_terminal(pipeline: Pipeline, outcome: StageKind, name: str) -> Pipeline:
    """Return *pipeline* with its won or lost stage renamed to *name*.

    *outcome* is :attr:`StageKind.WON <pipekit.StageKind.WON>` or
    :attr:`StageKind.LOST <pipekit.StageKind.LOST>`; any other kind raises
    :class:`~pipekit.InvalidOutcome`.
    """
    _check_pipeline(pipeline)
    terminal = pipeline.won if check_outcome(outcome) is StageKind.WON else pipeline.lost
    return rename_stage(pipeline, terminal.id, name)


def recolor_stage(pipeline: Pipeline, stage_id: int, color: Color | str) -> Pipeline:
    """Return *pipeline* with the open stage *stage_id* coloured *color*.

    System stages keep their colour (:class:`~pipekit.StageLocked`).
    """
    _check_pipeline(pipeline)
    index = pipeline.index_of(stage_id)
    stage = _open_stage(pipeline, index, "recoloured")
    chosen = to_color(color)
    if chosen == stage.color:
        return pipeline
    return _replaced(
        pipeline,
        index,
        trusted_stage(stage.id, stage.name, chosen, stage.kind),
        pipeline._keys[index],
    )


def move_stage(pipeline: Pipeline, stage_id: int, position: int) -> Pipeline:
    """Return *pipeline* with the open stage *stage_id* moved to *position*.

    *position* is where the stage ends up among the open stages, from 0 to
    ``len(pipeline.open_stages) - 1`` (:class:`~pipekit.PositionOutOfRange`).
    System stages never move (:class:`~pipekit.StageLocked`).
    """
    _check_pipeline(pipeline)
    index = pipeline.index_of(stage_id)
    _open_stage(pipeline, index, "moved")
    first_open = pipeline.first_open_index
    open_count = len(pipeline.stages) - first_open - 2
    _check_position(position, open_count - 1)
    target = first_open + position
    if target == index:
        return pipeline
    return _moved(pipeline, index, target)


def delete_stage(pipeline: Pipeline, stage_id: int) -> Pipeline:
    """Return *pipeline* without the open stage *stage_id*.

    System stages are never deleted (:class:`~pipekit.StageLocked`), nor is the
    last open stage (:class:`~pipekit.LastOpenStage`). The stage's id is not given
    out again. Moving the stage's leads is the workspace's job.
    """
    _check_pipeline(pipeline)
    index = pipeline.index_of(stage_id)
    stage = _open_stage(pipeline, index, "deleted")
    if len(pipeline.stages) - pipeline.first_open_index - 2 == 1:
        raise LastOpenStage(stage.id)
    return _removed(pipeline, index)


def enable_incoming(
    pipeline: Pipeline,
    *,
    name: str = "Incoming leads",
    color: Color | str | None = None,
    stage_id: int | None = None,
) -> Pipeline:
    """Return *pipeline* with the incoming leads stage switched on, first.

    The stage is named *name* and coloured *color* (Kommo's ``#c1c1c1`` when left
    out); its id is *stage_id* or ``pipeline.next_stage_id``. When the stage is on
    already, *pipeline* comes back unchanged, whatever values the other arguments
    hold (arguments of the wrong type still raise :class:`TypeError`).
    """
    _check_pipeline(pipeline)
    require_type(name, str, "a name")
    if color is not None and not isinstance(color, Color | str):
        raise TypeError(f"a colour must be a Color or a str, got {type(color).__name__}")
    if stage_id is not None:
        require_int(stage_id, "a stage id")
    if pipeline.incoming is not None:
        return pipeline
    if len(pipeline.stages) >= MAX_STAGES:
        raise StageLimitReached(MAX_STAGES)
    name, key = _new_name(pipeline, name)
    chosen = INCOMING_COLOR if color is None else to_color(color)
    stage_id, next_stage_id = _new_id(pipeline, stage_id)
    return _inserted(
        pipeline, 0, trusted_stage(stage_id, name, chosen, StageKind.INCOMING), key, next_stage_id
    )


def rename_pipeline(pipeline: Pipeline, name: str) -> Pipeline:
    """Return *pipeline* renamed to *name* (R7).

    That pipeline names are unique is a rule of the workspace, which checks it.
    """
    _check_pipeline(pipeline)
    name = clean_name(name)
    if name == pipeline.name:
        return pipeline
    return trusted_pipeline(
        pipeline,
        pipeline.stages,
        pipeline._ids,
        pipeline._keys,
        pipeline._uses,
        pipeline.next_stage_id,
        name=name,
    )


def disable_incoming(pipeline: Pipeline) -> Pipeline:
    """Return *pipeline* with the incoming leads stage switched off.

    When it is off already, *pipeline* comes back unchanged. The stage's id is not
    given out again. Refusing this while leads wait there is the workspace's job.
    """
    _check_pipeline(pipeline)
    if pipeline.incoming is None:
        return pipeline
    return _removed(pipeline, 0)


# -- the checks each command makes on what it changes -------------------------


def _check_pipeline(pipeline: object) -> None:
    require_type(pipeline, Pipeline, "pipeline")


def _check_position(position: int, high: int) -> None:
    if not 0 <= require_int(position, "a position") <= high:
        raise PositionOutOfRange(position, 0, high)


def _new_name(pipeline: Pipeline, name: str) -> tuple[str, str]:
    """Return the stripped *name* and its key, if no stage of *pipeline* has it."""
    name = clean_name(name)
    key = name_key(name)
    clash = pipeline._clash(key)
    if clash is not None:
        _raise_duplicate(pipeline, name, clash)
    return name, key


def _raise_duplicate(pipeline: Pipeline, name: str, index: int) -> None:
    existing = pipeline.stages[index]
    raise DuplicateName(name, existing.name, existing.id)


def _new_id(pipeline: Pipeline, stage_id: int | None) -> tuple[int, int]:
    """Return the id for a new stage and the pipeline's next counter value (R9)."""
    if stage_id is None:
        # The counter may stand one past the highest id, when every id is used up.
        return check_id(pipeline.next_stage_id), pipeline.next_stage_id + 1
    check_id(stage_id)
    if stage_id in pipeline._ids:
        raise DuplicateStageId(stage_id)
    return stage_id, max(pipeline.next_stage_id, stage_id + 1)


def _open_stage(pipeline: Pipeline, index: int, action: str) -> Stage:
    stage = pipeline.stages[index]
    if stage.kind is not StageKind.OPEN:
        raise StageLocked(stage.id, stage.kind, action)
    return stage


def _default_color(pipeline: Pipeline) -> Color:
    # The least used palette colour, first in palette order: an unused one if any.
    uses = pipeline._uses
    return KOMMO_PALETTE[uses.index(min(uses))]


# -- building the result ------------------------------------------------------


def _inserted(
    pipeline: Pipeline, index: int, stage: Stage, key: str, next_stage_id: int
) -> Pipeline:
    stages, ids, keys = pipeline.stages, pipeline._ids, pipeline._keys
    return trusted_pipeline(
        pipeline,
        (*stages[:index], stage, *stages[index:]),
        (*ids[:index], stage.id, *ids[index:]),
        (*keys[:index], key, *keys[index:]),
        _counted(pipeline._uses, stage.color, 1),
        next_stage_id,
    )


def _replaced(pipeline: Pipeline, index: int, stage: Stage, key: str) -> Pipeline:
    stages, keys = pipeline.stages, pipeline._keys
    uses = _counted(_counted(pipeline._uses, stages[index].color, -1), stage.color, 1)
    return trusted_pipeline(
        pipeline,
        (*stages[:index], stage, *stages[index + 1 :]),
        pipeline._ids,
        (*keys[:index], key, *keys[index + 1 :]),
        uses,
        pipeline.next_stage_id,
    )


def _removed(pipeline: Pipeline, index: int) -> Pipeline:
    stages, ids, keys = pipeline.stages, pipeline._ids, pipeline._keys
    return trusted_pipeline(
        pipeline,
        stages[:index] + stages[index + 1 :],
        ids[:index] + ids[index + 1 :],
        keys[:index] + keys[index + 1 :],
        _counted(pipeline._uses, stages[index].color, -1),
        pipeline.next_stage_id,
    )


def _moved(pipeline: Pipeline, index: int, target: int) -> Pipeline:
    return trusted_pipeline(
        pipeline,
        _move_item(pipeline.stages, index, target),
        _move_item(pipeline._ids, index, target),
        _move_item(pipeline._keys, index, target),
        pipeline._uses,
        pipeline.next_stage_id,
    )


def _move_item(items: tuple[_T, ...], index: int, target: int) -> tuple[_T, ...]:
    rest = items[:index] + items[index + 1 :]
    return (*rest[:target], items[index], *rest[target:])


def _counted(uses: tuple[int, ...], color: Color, change: int) -> tuple[int, ...]:
    index = PALETTE_INDEX.get(color)
    if index is None:
        return uses
    return (*uses[:index], uses[index] + change, *uses[index + 1 :])
