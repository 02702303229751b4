"""Deciding: what a command means for a workspace, as events, or why it is refused.

:func:`decide` checks a command against the rules and returns the events that
record what it does, without changing anything; :func:`pipekit.apply` then folds
them over the workspace with :func:`pipekit.evolve.evolve`. A command that
changes nothing decides no events. Stage commands call the same pure functions
as :mod:`pipekit.pipeline`, so no rule is written twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, TypeAlias

import attrs

from pipekit._checks import require_int, require_type
from pipekit._schedule import time_key
from pipekit.automation import Automation, HostAction, MoveTo, Scheduled
from pipekit.commands import (
    AcceptLead,
    AddAutomation,
    AddLossReason,
    AddStage,
    Command,
    CompleteAction,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DeleteLead,
    DeleteLossReason,
    DeletePipeline,
    DeleteStage,
    DisableAutomation,
    DisableIncoming,
    EnableAutomation,
    EnableIncoming,
    FailAction,
    LoseLead,
    MoveLead,
    MovePipeline,
    MoveStage,
    RecolorStage,
    RemoveAutomation,
    RenameLossReason,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RunDue,
    SetMainPipeline,
    UpdateAutomation,
    WinLead,
)
from pipekit.errors import (
    IncomingDisabled,
    InvalidTarget,
    LeadNotIncoming,
    RuleViolation,
    StageLocked,
    UnknownScheduledAction,
)
from pipekit.events import (
    ActionCancelled,
    ActionCompleted,
    ActionFailed,
    ActionHandedOver,
    ActionScheduled,
    AutomationAdded,
    AutomationDisabled,
    AutomationEnabled,
    AutomationLoopStopped,
    AutomationRemoved,
    AutomationUpdated,
    Event,
    IncomingStageDisabled,
    IncomingStageEnabled,
    LeadAccepted,
    LeadCreated,
    LeadDeclined,
    LeadDeleted,
    LeadMoved,
    LeadsRelocated,
    LossReasonAdded,
    LossReasonDeleted,
    LossReasonRenamed,
    MainPipelineSet,
    PipelineCreated,
    PipelineDeleted,
    PipelineMoved,
    PipelineRenamed,
    StageAdded,
    StageDeleted,
    StageMoved,
    StageRecolored,
    StageRenamed,
)
from pipekit.evolve import evolve
from pipekit.lead import Lead, LossReason, check_price
from pipekit.names import clean_name
from pipekit.pipeline import (
    Pipeline,
    add_stage,
    default_pipeline,
    delete_stage,
    enable_incoming,
    move_stage,
    recolor_stage,
    rename_stage,
    rename_terminal,
)
from pipekit.scheduling import Place, Reactions, check_failure_reason
from pipekit.stage import Stage, StageKind
from pipekit.workspace import (
    Workspace,
    check_automation,
    check_automation_room,
    check_incoming_empty,
    check_new_automation_id,
    check_new_lead_id,
    check_new_pipeline_id,
    check_new_reason_id,
    check_pipeline_name,
    check_pipeline_position,
    check_reason_name,
    check_room,
)

__all__ = ["decide"]

Decision: TypeAlias = tuple[Event, ...]
"""What deciding a command gives: its events, in order; none for a command that changes nothing."""

_NONE: Final[Decision] = ()


def decide(workspace: Workspace, command: Command, *, at: datetime) -> tuple[Event, ...]:
    """Return the events *command* causes in *workspace* at *at*, or raise why it is refused.

    The events carry the revision after *workspace*'s. *at* is trusted to be
    timezone-aware here; :func:`pipekit.apply` checks it.
    """
    decider = _DECIDERS.get(type(command))
    if decider is None:
        raise TypeError(f"not a pipekit command: {type(command).__name__}")
    return decider(workspace, command, workspace.revision + 1, at)


# -- stages -------------------------------------------------------------------------


def _add_stage(workspace: Workspace, command: AddStage, revision: int, at: datetime) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    stage_id = pipeline.next_stage_id if command.stage_id is None else command.stage_id
    added = add_stage(
        pipeline,
        command.name,
        position=command.position,
        color=command.color,
        stage_id=command.stage_id,
    )
    index = added.index_of(stage_id)
    position = index - added.first_open_index
    return (StageAdded(revision, at, pipeline.id, added.stages[index], position),)


def _rename_stage(
    workspace: Workspace, command: RenameStage, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    renamed = rename_stage(pipeline, command.stage_id, command.name)
    return _renamed(pipeline, renamed, command.stage_id, revision, at)


def _rename_terminal(
    workspace: Workspace, command: RenameTerminal, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    renamed = rename_terminal(pipeline, command.outcome, command.name)
    stage_id = pipeline.won.id if command.outcome is StageKind.WON else pipeline.lost.id
    return _renamed(pipeline, renamed, stage_id, revision, at)


def _renamed(
    pipeline: Pipeline, renamed: Pipeline, stage_id: int, revision: int, at: datetime
) -> tuple[Event, ...]:
    if renamed.stages == pipeline.stages:
        return _NONE
    return (StageRenamed(revision, at, pipeline.id, stage_id, renamed.stage(stage_id).name),)


def _recolor_stage(
    workspace: Workspace, command: RecolorStage, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    recolored = recolor_stage(pipeline, command.stage_id, command.color)
    if recolored.stages == pipeline.stages:
        return _NONE
    color = recolored.stage(command.stage_id).color
    return (StageRecolored(revision, at, pipeline.id, command.stage_id, color),)


def _move_stage(workspace: Workspace, command: MoveStage, revision: int, at: datetime) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    moved = move_stage(pipeline, command.stage_id, command.position)
    if moved.stages == pipeline.stages:
        return _NONE
    return (StageMoved(revision, at, pipeline.id, command.stage_id, command.position),)


def _delete_stage(
    workspace: Workspace, command: DeleteStage, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    remaining = delete_stage(pipeline, command.stage_id)
    target = _relocation_target(pipeline, remaining, command)
    lead_ids = tuple(sorted(workspace._bucket(pipeline.id, command.stage_id)[0]))
    deleted = StageDeleted(revision, at, pipeline.id, command.stage_id)
    let_go, reactions = _letting_go(workspace, pipeline.id, command.stage_id, revision, at)
    if not lead_ids:
        return (*reactions.events, *let_go, deleted)
    # The leads move while the stage still exists, so they meet the automations
    # as they were; those about to be removed fire nothing.
    relocated = LeadsRelocated(revision, at, pipeline.id, command.stage_id, target, lead_ids)
    leads = workspace.leads
    origin, place = (pipeline.id, command.stage_id), (pipeline.id, target)
    for lead_id in lead_ids:
        reactions.moved(leads[lead_id], origin, place)
    return (relocated, *reactions.events, *let_go, deleted)


def _letting_go(
    workspace: Workspace, pipeline_id: int, stage_id: int, revision: int, at: datetime
) -> tuple[tuple[Event, ...], Reactions]:
    """Return the events by which the automations let go of a stage about to go (D1).

    An automation whose move targets the stage is removed; one that watches it
    stops watching it, and is removed when it is left watching nothing. Every
    automation is looked at, since a move may target a stage of another pipeline.
    The removed automations' items not handed over are cancelled, by the
    :class:`Reactions` returned, which also keeps those automations silent.
    """
    events: list[Event] = []
    removed: list[int] = []
    for automation in workspace.automations:
        if automation.target == (pipeline_id, stage_id):
            removed.append(automation.id)
        elif automation.pipeline_id == pipeline_id and stage_id in automation.stage_ids:
            rest = tuple(watched for watched in automation.stage_ids if watched != stage_id)
            if rest:
                updated = attrs.evolve(automation, stage_ids=rest)
                events.append(AutomationUpdated(revision, at, updated))
                continue
            removed.append(automation.id)
        else:
            continue
        events.append(AutomationRemoved(revision, at, automation.id))
    reactions = Reactions(workspace, revision, at, silenced=frozenset(removed))
    for automation_id in removed:
        reactions.let_go(automation_id)
    return tuple(events), reactions


def _relocation_target(pipeline: Pipeline, remaining: Pipeline, command: DeleteStage) -> int:
    """Return where the leads of a deleted stage go (W2)."""
    if command.move_leads_to is None:
        return remaining.open_stages[0].id
    target = pipeline.stage(require_int(command.move_leads_to, "move_leads_to"))
    if target.id == command.stage_id:
        raise InvalidTarget(pipeline.id, target.id, "the leads cannot stay in the deleted stage")
    if target.kind is not StageKind.OPEN:
        raise InvalidTarget(
            pipeline.id,
            target.id,
            f"the leads of a deleted stage go to an open stage, not the {target.kind.label} stage",
        )
    return target.id


def _enable_incoming(
    workspace: Workspace, command: EnableIncoming, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    enabled = enable_incoming(pipeline, name=command.name, color=command.color)
    if enabled is pipeline:
        return _NONE
    incoming = enabled.incoming
    assert incoming is not None  # enable_incoming just switched it on
    return (IncomingStageEnabled(revision, at, pipeline.id, incoming),)


def _disable_incoming(
    workspace: Workspace, command: DisableIncoming, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    incoming = pipeline.incoming
    if incoming is None:
        return _NONE
    check_incoming_empty(workspace, pipeline.id, incoming.id)
    # Only a host action may watch incoming leads (D2), and none targets it.
    let_go, reactions = _letting_go(workspace, pipeline.id, incoming.id, revision, at)
    disabled = IncomingStageDisabled(revision, at, pipeline.id, incoming.id)
    return (*reactions.events, *let_go, disabled)


# -- pipelines ----------------------------------------------------------------------


def _create_pipeline(
    workspace: Workspace, command: CreatePipeline, revision: int, at: datetime
) -> Decision:
    require_type(command.incoming, bool, "incoming")
    check_room(workspace)
    name = check_pipeline_name(workspace, command.name)
    # The counter's id is checked too: it stands one past the highest id once all are used.
    asked = workspace.next_pipeline_id if command.pipeline_id is None else command.pipeline_id
    pipeline_id = check_new_pipeline_id(workspace, asked)
    pipeline = default_pipeline(name, pipeline_id=pipeline_id, incoming=command.incoming)
    return (PipelineCreated(revision, at, pipeline),)


def _rename_pipeline(
    workspace: Workspace, command: RenamePipeline, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    name = check_pipeline_name(workspace, command.name, pipeline.id)
    if name == pipeline.name:
        return _NONE
    return (PipelineRenamed(revision, at, pipeline.id, name),)


def _move_pipeline(
    workspace: Workspace, command: MovePipeline, revision: int, at: datetime
) -> Decision:
    index = workspace.pipeline_index(command.pipeline_id)
    if check_pipeline_position(workspace, command.position) == index:
        return _NONE
    return (PipelineMoved(revision, at, command.pipeline_id, command.position),)


def _set_main_pipeline(
    workspace: Workspace, command: SetMainPipeline, revision: int, at: datetime
) -> Decision:
    workspace.pipeline_index(command.pipeline_id)
    if command.pipeline_id == workspace.main_pipeline_id:
        return _NONE
    return (MainPipelineSet(revision, at, command.pipeline_id),)


def _delete_pipeline(
    workspace: Workspace, command: DeletePipeline, revision: int, at: datetime
) -> Decision:
    # Whether it may go (last, main, not empty: W3) is the fact's to check, in evolve.
    workspace.pipeline_index(command.pipeline_id)
    pipeline_id = command.pipeline_id
    removed = tuple(
        AutomationRemoved(revision, at, automation.id)
        for automation in workspace.automations
        if automation.pipeline_id == pipeline_id
        or (automation.target is not None and automation.target[0] == pipeline_id)
    )
    reactions = Reactions(workspace, revision, at)
    for event in removed:
        reactions.let_go(event.automation_id)
    return (*reactions.events, *removed, PipelineDeleted(revision, at, pipeline_id))


# -- leads --------------------------------------------------------------------------


def _create_lead(
    workspace: Workspace, command: CreateLead, revision: int, at: datetime
) -> Decision:
    require_type(command.incoming, bool, "incoming")
    name = clean_name(command.name)
    price = check_price(command.price)
    pipeline_id = workspace.main_pipeline_id if command.pipeline_id is None else command.pipeline_id
    pipeline = workspace.pipeline(pipeline_id)
    stage = _entry_stage(pipeline, command.stage_id, incoming=command.incoming)
    if command.lead_id is None:
        lead_id = workspace.next_lead_id
    else:
        lead_id = check_new_lead_id(workspace, command.lead_id)
    lead = Lead(lead_id, name, pipeline.id, stage.id, price, at, at)
    created = LeadCreated(revision, at, lead)
    if not workspace._watchers:
        return (created,)
    reactions = Reactions(workspace, revision, at)
    reactions.created(lead)
    return (created, *reactions.events)


def _entry_stage(pipeline: Pipeline, stage_id: int | None, *, incoming: bool) -> Stage:
    """Return the stage a new lead goes to (W4)."""
    if incoming:
        if stage_id is not None:
            raise InvalidTarget(
                pipeline.id, stage_id, "a lead sent to incoming leads cannot also name a stage"
            )
        if pipeline.incoming is None:
            raise IncomingDisabled(pipeline.id)
        return pipeline.incoming
    if stage_id is None:
        return pipeline.open_stages[0]
    return _open_target(pipeline, stage_id)


def _open_target(pipeline: Pipeline, stage_id: int) -> Stage:
    stage = pipeline.stage(stage_id)
    if stage.kind is not StageKind.OPEN:
        raise InvalidTarget(
            pipeline.id, stage.id, f"the {stage.kind.label} stage is not an open stage"
        )
    return stage


def _move_lead(workspace: Workspace, command: MoveLead, revision: int, at: datetime) -> Decision:
    lead = workspace.lead(command.lead_id)
    pipeline_id = lead.pipeline_id if command.pipeline_id is None else command.pipeline_id
    target = workspace.pipeline(pipeline_id).stage(command.stage_id)
    _check_not_incoming(workspace, lead)
    if target.kind is StageKind.INCOMING:
        raise StageLocked(
            target.id, target.kind, "entered by a move: new requests arrive there by CreateLead"
        )
    if (pipeline_id, target.id) == (lead.pipeline_id, lead.stage_id):
        return _NONE
    moved = LeadMoved(
        revision, at, lead.id, lead.pipeline_id, lead.stage_id, pipeline_id, target.id
    )
    return (moved, *_after_move(workspace, lead, (pipeline_id, target.id), revision, at))


def _after_move(
    workspace: Workspace, lead: Lead, target: Place, revision: int, at: datetime
) -> tuple[Event, ...]:
    """Return what a lead's move cancels and schedules (nothing, fast, without automations)."""
    if not workspace._watchers and not len(workspace._schedule):
        return _NONE
    reactions = Reactions(workspace, revision, at)
    reactions.moved(lead, (lead.pipeline_id, lead.stage_id), target)
    return tuple(reactions.events)


def _check_not_incoming(workspace: Workspace, lead: Lead) -> None:
    stage = workspace.pipeline(lead.pipeline_id).stage(lead.stage_id)
    if stage.kind is StageKind.INCOMING:
        raise StageLocked(
            stage.id, stage.kind, "left by a move: accept, decline or delete the lead instead"
        )


def _win_lead(workspace: Workspace, command: WinLead, revision: int, at: datetime) -> Decision:
    lead = workspace.lead(command.lead_id)
    _check_not_incoming(workspace, lead)
    won = workspace.pipeline(lead.pipeline_id).won.id
    if lead.stage_id == won:
        return _NONE
    pipeline_id = lead.pipeline_id
    moved = LeadMoved(revision, at, lead.id, pipeline_id, lead.stage_id, pipeline_id, won)
    return (moved, *_after_move(workspace, lead, (pipeline_id, won), revision, at))


def _lose_lead(workspace: Workspace, command: LoseLead, revision: int, at: datetime) -> Decision:
    lead = workspace.lead(command.lead_id)
    _check_not_incoming(workspace, lead)
    reason_id = command.loss_reason_id
    if reason_id is not None:
        workspace.loss_reason_index(reason_id)
    lost = workspace.pipeline(lead.pipeline_id).lost.id
    if lead.stage_id == lost and lead.loss_reason_id == reason_id:
        return _NONE
    pipeline_id = lead.pipeline_id
    moved = LeadMoved(
        revision, at, lead.id, pipeline_id, lead.stage_id, pipeline_id, lost, reason_id
    )
    if lead.stage_id == lost:  # a new loss reason, not a move
        return (moved,)
    return (moved, *_after_move(workspace, lead, (pipeline_id, lost), revision, at))


def _incoming_lead(workspace: Workspace, lead_id: int) -> tuple[Lead, Pipeline]:
    lead = workspace.lead(lead_id)
    pipeline = workspace.pipeline(lead.pipeline_id)
    incoming = pipeline.incoming
    if incoming is None or incoming.id != lead.stage_id:
        raise LeadNotIncoming(lead.id, lead.stage_id)
    return lead, pipeline


def _accept_lead(
    workspace: Workspace, command: AcceptLead, revision: int, at: datetime
) -> Decision:
    lead, pipeline = _incoming_lead(workspace, command.lead_id)
    if command.stage_id is None:
        target = pipeline.open_stages[0]
    else:
        target = _open_target(pipeline, command.stage_id)
    accepted = LeadAccepted(revision, at, lead.id, pipeline.id, lead.stage_id, target.id)
    return (accepted, *_after_move(workspace, lead, (pipeline.id, target.id), revision, at))


def _decline_lead(
    workspace: Workspace, command: DeclineLead, revision: int, at: datetime
) -> Decision:
    lead, _pipeline = _incoming_lead(workspace, command.lead_id)
    return (*_letting_lead_go(workspace, lead, revision, at), LeadDeclined(revision, at, lead))


def _delete_lead(
    workspace: Workspace, command: DeleteLead, revision: int, at: datetime
) -> Decision:
    lead = workspace.lead(command.lead_id)
    return (*_letting_lead_go(workspace, lead, revision, at), LeadDeleted(revision, at, lead))


def _letting_lead_go(workspace: Workspace, lead: Lead, revision: int, at: datetime) -> list[Event]:
    """Return the events that cancel every scheduled action of a lead about to go."""
    reactions = Reactions(workspace, revision, at)
    reactions.removed(lead.id)
    return reactions.events


# -- loss reasons -------------------------------------------------------------------


def _add_reason(
    workspace: Workspace, command: AddLossReason, revision: int, at: datetime
) -> Decision:
    name = check_reason_name(workspace, command.name)
    if command.reason_id is None:
        reason_id = workspace.next_loss_reason_id
    else:
        reason_id = check_new_reason_id(workspace, command.reason_id)
    return (LossReasonAdded(revision, at, LossReason(reason_id, name)),)


def _rename_reason(
    workspace: Workspace, command: RenameLossReason, revision: int, at: datetime
) -> Decision:
    reason = workspace.loss_reason(command.reason_id)
    name = check_reason_name(workspace, command.name, reason.id)
    if name == reason.name:
        return _NONE
    return (LossReasonRenamed(revision, at, reason.id, name),)


def _delete_reason(
    workspace: Workspace, command: DeleteLossReason, revision: int, at: datetime
) -> Decision:
    # Whether a lead still gives it (W5) is the fact's to check, in evolve.
    workspace.loss_reason_index(command.reason_id)
    return (LossReasonDeleted(revision, at, command.reason_id),)


# -- automations (the Digital Pipeline) ---------------------------------------------


def _add_automation(
    workspace: Workspace, command: AddAutomation, revision: int, at: datetime
) -> Decision:
    pipeline = workspace.pipeline(command.pipeline_id)
    check_automation_room(workspace, pipeline.id)
    if command.automation_id is None:
        automation_id = workspace.next_automation_id
    else:
        automation_id = check_new_automation_id(workspace, command.automation_id)
    automation = Automation(
        automation_id,
        pipeline.id,
        command.stage_ids,
        command.trigger,
        command.action,
        delay=command.delay,
        min_price=command.min_price,
        max_price=command.max_price,
    )
    check_automation(workspace, automation)
    return (AutomationAdded(revision, at, automation),)


def _update_automation(
    workspace: Workspace, command: UpdateAutomation, revision: int, at: datetime
) -> Decision:
    old = workspace.automation(command.automation_id)
    new = Automation(
        old.id,
        old.pipeline_id,
        command.stage_ids,
        command.trigger,
        command.action,
        delay=command.delay,
        min_price=command.min_price,
        max_price=command.max_price,
        enabled=old.enabled,
    )
    check_automation(workspace, new)
    if new == old:
        return _NONE
    return (
        *_letting_automation_go(workspace, old, revision, at),
        AutomationUpdated(revision, at, new),
    )


def _enable_automation(
    workspace: Workspace, command: EnableAutomation, revision: int, at: datetime
) -> Decision:
    automation = workspace.automation(command.automation_id)
    if automation.enabled:
        return _NONE
    return (AutomationEnabled(revision, at, automation.id),)


def _disable_automation(
    workspace: Workspace, command: DisableAutomation, revision: int, at: datetime
) -> Decision:
    automation = workspace.automation(command.automation_id)
    if not automation.enabled:
        return _NONE
    let_go = _letting_automation_go(workspace, automation, revision, at)
    return (*let_go, AutomationDisabled(revision, at, automation.id))


def _remove_automation(
    workspace: Workspace, command: RemoveAutomation, revision: int, at: datetime
) -> Decision:
    automation = workspace.automation(command.automation_id)
    let_go = _letting_automation_go(workspace, automation, revision, at)
    return (*let_go, AutomationRemoved(revision, at, automation.id))


def _letting_automation_go(
    workspace: Workspace, automation: Automation, revision: int, at: datetime
) -> list[Event]:
    """Return the events that cancel an automation's items not handed over."""
    reactions = Reactions(workspace, revision, at)
    reactions.let_go(automation.id)
    return reactions.events


# -- scheduled actions --------------------------------------------------------------


def _run_due(workspace: Workspace, command: RunDue, revision: int, at: datetime) -> Decision:
    # Each step is folded in at once, so that the next look at what is due sees
    # what the step scheduled, cancelled or moved.
    bound = time_key(at)
    state = workspace
    events: list[Event] = []
    run = _Run()
    while True:
        item = next(state._schedule.due(bound), None)
        if item is None:
            return tuple(events)
        for event in _carry_out(state, item, run, revision, at):
            state = evolve(state, event)
            if isinstance(event, ActionScheduled):
                run.born.add(event.scheduled.id)
            events.append(event)


class _Run:
    """What one RunDue remembers: the automations each lead passed, the items it scheduled."""

    __slots__ = ("born", "passed")

    def __init__(self) -> None:
        self.passed: dict[int, list[int]] = {}
        self.born: set[int] = set()


def _carry_out(
    state: Workspace, item: Scheduled, run: _Run, revision: int, at: datetime
) -> tuple[Event, ...]:
    """Return the events that carry out, hand over or stop one due *item*."""
    chain = run.passed.setdefault(item.lead_id, [])
    if item.id in run.born and item.automation_id in chain:
        return (
            ActionCancelled(revision, at, item.id),
            AutomationLoopStopped(revision, at, item.id, item.lead_id, tuple(chain)),
        )
    chain.append(item.automation_id)
    action = item.action
    if isinstance(action, HostAction):
        return (ActionHandedOver(revision, at, item.id),)
    completed = ActionCompleted(revision, at, item.id)
    try:
        moved = _carried_move(state, item, action, completed, revision, at)
    except RuleViolation as error:
        return (ActionFailed(revision, at, item.id, error.code),)
    return (moved[0], completed, *moved[1:])


def _carried_move(
    state: Workspace,
    item: Scheduled,
    action: MoveTo,
    completed: ActionCompleted,
    revision: int,
    at: datetime,
) -> tuple[Event, ...]:
    """Return the events of a due move, or raise why the rules refuse it."""
    automation = state.automation(item.automation_id)
    pipeline_id = automation.pipeline_id if action.pipeline_id is None else action.pipeline_id
    # Taken out first, so that the move does not cancel the very item carrying it.
    after = evolve(state, completed)
    moved = _move_lead(after, MoveLead(item.lead_id, action.stage_id, pipeline_id), revision, at)
    if not moved:
        raise InvalidTarget(
            pipeline_id,
            action.stage_id,
            f"lead {item.lead_id} is in stage {action.stage_id} already",
        )
    return tuple(moved)


def _handed_over(workspace: Workspace, scheduled_id: int) -> Scheduled:
    item = workspace._schedule.get(require_int(scheduled_id, "a scheduled action id"))
    if item is None or item.handed_over_at is None:
        raise UnknownScheduledAction(scheduled_id)
    return item


def _complete_action(
    workspace: Workspace, command: CompleteAction, revision: int, at: datetime
) -> Decision:
    item = _handed_over(workspace, command.scheduled_id)
    return (ActionCompleted(revision, at, item.id),)


def _fail_action(
    workspace: Workspace, command: FailAction, revision: int, at: datetime
) -> Decision:
    reason = check_failure_reason(command.reason)
    item = _handed_over(workspace, command.scheduled_id)
    return (ActionFailed(revision, at, item.id, reason),)


# Each decider takes its own command class: the table holds them under the loosest
# argument type, and decide() looks a command's one up by its exact class.
_DECIDERS: Final[dict[type[Command], Callable[[Workspace, Any, int, datetime], Decision]]] = {
    AddStage: _add_stage,
    RenameStage: _rename_stage,
    RecolorStage: _recolor_stage,
    MoveStage: _move_stage,
    DeleteStage: _delete_stage,
    RenameTerminal: _rename_terminal,
    EnableIncoming: _enable_incoming,
    DisableIncoming: _disable_incoming,
    CreatePipeline: _create_pipeline,
    RenamePipeline: _rename_pipeline,
    MovePipeline: _move_pipeline,
    SetMainPipeline: _set_main_pipeline,
    DeletePipeline: _delete_pipeline,
    CreateLead: _create_lead,
    MoveLead: _move_lead,
    WinLead: _win_lead,
    LoseLead: _lose_lead,
    AcceptLead: _accept_lead,
    DeclineLead: _decline_lead,
    DeleteLead: _delete_lead,
    AddLossReason: _add_reason,
    RenameLossReason: _rename_reason,
    DeleteLossReason: _delete_reason,
    AddAutomation: _add_automation,
    UpdateAutomation: _update_automation,
    EnableAutomation: _enable_automation,
    DisableAutomation: _disable_automation,
    RemoveAutomation: _remove_automation,
    RunDue: _run_due,
    CompleteAction: _complete_action,
    FailAction: _fail_action,
}
