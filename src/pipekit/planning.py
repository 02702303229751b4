"""Planning: the commands that turn the pipeline you have into the pipeline you want.

:func:`plan` compares two pipelines and returns the workspace commands that, applied
in order with :func:`pipekit.apply`, turn the first into the second. It decides
nothing itself: every command goes through the workspace's rules when applied.

>>> from pipekit import default_pipeline, move_stage, rename_stage
>>> current = default_pipeline("Sales")
>>> desired = rename_stage(move_stage(current, 146, 0), 144, "First call")
>>> for command in plan(current, desired):
...     print(command)
RenameStage(pipeline_id=1, stage_id=144, name='First call')
MoveStage(pipeline_id=1, stage_id=146, position=0)
>>> plan(current, current)
()
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import count
from typing import Final, TypeAlias

from pipekit._checks import require_type
from pipekit.commands import (
    AddStage,
    Command,
    DeleteStage,
    DisableIncoming,
    EnableIncoming,
    MoveStage,
    RecolorStage,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
)
from pipekit.errors import StageLocked
from pipekit.names import name_key
from pipekit.pipeline import Pipeline
from pipekit.stage import Stage, StageKind

__all__ = ["plan"]

_TEMPORARY: Final = "pipekit temporary name"
"""The start of a name a stage holds for a moment while names are swapped."""

_Ref: TypeAlias = int | StageKind
"""A stage to rename: an open stage by id, the won or lost stage by kind."""


def plan(current: Pipeline, desired: Pipeline) -> tuple[Command, ...]:
    """Return the commands that turn *current* into *desired*, for ``current.id``.

    Open stages are matched by id: an open stage of *desired* whose id is an open
    stage of *current* is kept (renamed, recoloured or moved as needed), the other
    open stages of *desired* are added (the pipeline gives them new ids), and the
    open stages of *current* that *desired* lacks are deleted. The incoming leads,
    won and lost stages are matched by kind. Stages that do not change get no
    command, so ``plan(pipeline, pipeline) == ()``, and the stages kept in place
    form a longest increasing subsequence, so the plan moves as few stages as can be.

    The commands come in this order, which keeps the pipeline valid after every
    one of them and never exceeds the stage limit:

    1. :class:`~pipekit.RenamePipeline`, when the names differ (the workspace
       refuses a name another of its pipelines has);
    2. :class:`~pipekit.DeleteStage` for the stages *desired* lacks, whose leads go
       to the first open stage left, as Kommo's own delete does: they end in the
       first kept stage in *current*'s order. When *desired* keeps no open stage,
       *current*'s first one stays until *desired*'s first is added before it, and
       its leads land there. That stage is added under a temporary name while its
       own is taken, and renamed in step 4 by the id the pipeline gives it;
    3. :class:`~pipekit.DisableIncoming`, when *desired* has no incoming leads
       stage, or one with another name or colour: that stage can be neither renamed
       nor recoloured (R4), so it is switched off here and on again in step 8,
       which gives it a new id. Applying this step raises
       :class:`~pipekit.IncomingNotEmpty` while leads wait there;
    4. :class:`~pipekit.RenameStage` and :class:`~pipekit.RenameTerminal`, each to a
       name that is free by then; names that go round in a cycle pass through a
       temporary name;
    5. :class:`~pipekit.RecolorStage`;
    6. :class:`~pipekit.MoveStage`, each stage moved once, to its place next to
       the stages already in theirs;
    7. :class:`~pipekit.AddStage`, with *desired*'s name, position and colour;
    8. :class:`~pipekit.EnableIncoming`, with *desired*'s name and colour.

    The won and lost stages cannot be recoloured (R5): when their colours differ
    between the two pipelines, :class:`~pipekit.StageLocked` is raised. Ids of the
    system stages and ``next_stage_id`` are not compared, and neither is
    ``archived``, which no command changes. Arguments that are not
    :class:`~pipekit.Pipeline` objects raise :class:`TypeError`.
    """
    require_type(current, Pipeline, "current")
    require_type(desired, Pipeline, "desired")
    for terminal, wanted in ((current.won, desired.won), (current.lost, desired.lost)):
        if terminal.color != wanted.color:
            raise StageLocked(terminal.id, terminal.kind, "recoloured")
    pipeline_id = current.id
    commands: list[Command] = []
    if current.name != desired.name:
        commands.append(RenamePipeline(pipeline_id, desired.name))

    opens = {stage.id: stage for stage in current.open_stages}
    wanted_ids = {stage.id for stage in desired.open_stages}
    kept = [stage for stage in desired.open_stages if stage.id in opens]
    added = [(at, stage) for at, stage in enumerate(desired.open_stages) if stage.id not in opens]
    # Kommo's delete sends a stage's leads to the first open stage left: deleting the
    # stages ahead of the first kept one from the back sends each lead through at most
    # one other stage on its way.
    order = current.open_stages
    ahead = next((at for at, stage in enumerate(order) if stage.id in wanted_ids), len(order))
    removed = [*order[:ahead][::-1], *(s for s in order[ahead:] if s.id not in wanted_ids)]
    # Every name either pipeline uses: a temporary name must clash with none of them.
    taken = {name_key(stage.name) for stage in (*current.stages, *desired.stages)}
    names: dict[_Ref, str] = {stage.id: opens[stage.id].name for stage in kept}
    targets: dict[_Ref, str] = {stage.id: stage.name for stage in kept}

    # The last open stage cannot be deleted (R3): when none is kept, one stays until
    # desired's first open stage exists to take its leads.
    survivor = removed.pop() if not kept else None
    commands.extend(DeleteStage(pipeline_id, stage.id) for stage in removed)
    if survivor is not None:
        _, first = added.pop(0)
        gone = {stage.id for stage in removed}
        left = {name_key(stage.name) for stage in current.stages if stage.id not in gone}
        name = first.name if name_key(first.name) not in left else _temporary_name(taken)
        commands.append(AddStage(pipeline_id, name, position=0, color=first.color))
        commands.append(DeleteStage(pipeline_id, survivor.id))
        # No other stage is added before it, so it takes the id the pipeline holds next.
        names[current.next_stage_id] = name
        targets[current.next_stage_id] = first.name

    incoming, wanted_incoming = current.incoming, desired.incoming
    switch_off = incoming is not None and (
        wanted_incoming is None
        or (incoming.name, incoming.color) != (wanted_incoming.name, wanted_incoming.color)
    )
    if switch_off:
        commands.append(DisableIncoming(pipeline_id))

    names[StageKind.WON], targets[StageKind.WON] = current.won.name, desired.won.name
    names[StageKind.LOST], targets[StageKind.LOST] = current.lost.name, desired.lost.name
    commands.extend(_renames(pipeline_id, names, targets, taken))

    commands.extend(
        RecolorStage(pipeline_id, stage.id, stage.color)
        for stage in kept
        if stage.color != opens[stage.id].color
    )
    commands.extend(_moves(pipeline_id, current, kept))
    commands.extend(
        AddStage(pipeline_id, stage.name, position=position, color=stage.color)
        for position, stage in added
    )
    if wanted_incoming is not None and (incoming is None or switch_off):
        commands.append(
            EnableIncoming(pipeline_id, name=wanted_incoming.name, color=wanted_incoming.color)
        )
    return tuple(commands)


def _renames(
    pipeline_id: int, names: dict[_Ref, str], targets: dict[_Ref, str], taken: set[str]
) -> list[Command]:
    """Return the renames from *names* to *targets*, each to a name free at its turn.

    *names* holds every stage whose name can stand in the way: the ones to rename and
    the kept ones. The incoming stage can be left out: if it is still there, it has
    its desired name, which no other stage wants.
    """
    holders = {name_key(name): ref for ref, name in names.items()}
    pending = {ref: name for ref, name in targets.items() if names[ref] != name}
    commands: list[Command] = []

    def rename(ref: _Ref, name: str) -> None:
        del holders[name_key(names[ref])]
        holders[name_key(name)] = ref
        names[ref] = name
        if isinstance(ref, StageKind):
            commands.append(RenameTerminal(pipeline_id, ref, name))
        else:
            commands.append(RenameStage(pipeline_id, ref, name))

    while pending:
        # A stage may take a name that no stage holds, or that only it holds (a case change).
        ready = next(
            (ref for ref, name in pending.items() if holders.get(name_key(name), ref) == ref),
            None,
        )
        if ready is None:
            # Each wanted name is held by another stage waiting for its own: only cycles
            # are left, and moving one stage aside opens its cycle.
            rename(next(iter(pending)), _temporary_name(taken))
        else:
            rename(ready, pending.pop(ready))
    return commands


def _temporary_name(taken: set[str]) -> str:
    """Return a short name whose key is not in *taken*, and add its key there."""
    name = next(
        name
        for name in (f"{_TEMPORARY} {number}" for number in count(1))
        if name_key(name) not in taken
    )
    taken.add(name_key(name))
    return name


def _moves(pipeline_id: int, current: Pipeline, kept: list[Stage]) -> list[Command]:
    """Return the moves that put the *kept* stages (in desired order) in that order.

    The stages of one longest increasing subsequence of their desired places stay
    where they are; each other one is moved once, right after the stage that comes
    before it in *desired* (which has its place by then), or first.
    """
    rank = {stage.id: place for place, stage in enumerate(kept)}
    order = [stage.id for stage in current.open_stages if stage.id in rank]
    staying = {order[index] for index in _longest_increasing([rank[i] for i in order])}
    commands: list[Command] = []
    for place, stage in enumerate(kept):
        if stage.id in staying:
            continue
        order.remove(stage.id)
        position = order.index(kept[place - 1].id) + 1 if place else 0
        order.insert(position, stage.id)
        commands.append(MoveStage(pipeline_id, stage.id, position))
    return commands


def _longest_increasing(values: list[int]) -> list[int]:
    """Return the indices of one longest strictly increasing subsequence of *values*."""
    # Patience sorting: ends[k] is the index of the smallest value that ends an
    # increasing run of length k + 1 so far; before[i] is the index before i in its run.
    ends: list[int] = []
    before: list[int | None] = []
    for index, value in enumerate(values):
        length = bisect_left(ends, value, key=values.__getitem__)
        before.append(ends[length - 1] if length else None)
        if length == len(ends):
            ends.append(index)
        else:
            ends[length] = index
    indices: list[int] = []
    at = ends[-1] if ends else None
    while at is not None:
        indices.append(at)
        at = before[at]
    return indices[::-1]
