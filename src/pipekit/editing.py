"""Making a pipeline and editing its stages: pure functions.

Each command takes a :class:`~pipekit.Pipeline` and returns a new one, or raises a
:class:`~pipekit.RuleViolation` subclass and changes nothing. None of them reads
the clock, randomness or any global state. A command that changes nothing (a
rename to the same name) returns an equal pipeline.

Positions count among the open stages only, from 0.

>>> from pipekit import add_stage, default_pipeline, move_stage
>>> pipeline = add_stage(default_pipeline(), "Demo", position=1)
>>> [stage.name for stage in pipeline.open_stages]
['Initial Contact', 'Demo', 'Offer Made', 'Negotiation']
>>> demo = pipeline.open_stages[1]
>>> [stage.name for stage in move_stage(pipeline, demo.id, 3).open_stages]
['Initial Contact', 'Offer Made', 'Negotiation', 'Demo']
"""

from __future__ import annotations

from typing import Final, TypeVar

from pipekit._checks import require_int, require_type
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
    LastOpenStage,
    PositionOutOfRange,
    StageLimitReached,
    StageLocked,
)
from pipekit.names import clean_name, name_key
from pipekit.pipeline import LOST_STAGE_ID, MAX_STAGES, WON_STAGE_ID, Pipeline, trusted_pipeline
from pipekit.stage import Stage, StageKind, check_id, check_outcome, trusted_stage

__all__ = [
    "DEFAULT_OPEN_STAGE_NAMES",
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
