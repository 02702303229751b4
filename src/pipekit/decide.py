"""Deciding: what a command means for an account and its leads, as events, or why it is refused.

:func:`decide` checks a command against the rules and returns the events that
record what it does, without changing anything: it reads the
:class:`~pipekit.Account` and asks a :class:`~pipekit.leads.LeadTable` for the
leads the command concerns. :func:`pipekit.apply` then applies the events to a
workspace, and :func:`pipekit.apply_to_leads` to an account and a table of leads.
A command that changes nothing decides no events. Each rule is a named check
beside the value it guards (:mod:`pipekit.pipeline`, :mod:`pipekit.account`),
called here and again where an event is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from heapq import heappop, heappush
from typing import Any, Final, TypeAlias

import attrs

from pipekit import commands as c
from pipekit import events as e
from pipekit._checks import require_int, require_type
from pipekit.account import (
    Account,
    Place,
    check_automation,
    check_automation_room,
    check_incoming_empty,
    check_new_automation_id,
    check_new_pipeline_id,
    check_new_reason_id,
    check_pipeline_name,
    check_pipeline_position,
    check_reason_name,
    check_room,
    position,
    refers_to_pipeline,
    refers_to_stage,
)
from pipekit.automation import Automation, HostAction
from pipekit.errors import (
    DuplicateLeadId,
    IncomingDisabled,
    InvalidTarget,
    LeadNotIncoming,
    LeadVersionConflict,
    RuleViolation,
    StageLocked,
    UnknownLead,
    UnknownScheduledAction,
)
from pipekit.events import Event
from pipekit.lead import Lead, LossReason, check_price, positive_id
from pipekit.leads import LeadRecord, LeadTable, evolve_lead
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
from pipekit.reactions import Reactions
from pipekit.scheduling import Scheduled, check_failure_reason
from pipekit.stage import Stage, StageKind

__all__ = ["decide"]

Decision: TypeAlias = tuple[Event, ...]
"""What deciding a command gives: its events, in order; none for a command that changes nothing."""

_NONE: Final[Decision] = ()


def decide(
    account: Account, leads: LeadTable, command: c.Command, *, at: datetime
) -> tuple[Event, ...]:
    """Return the events *command* causes at *at*, or raise why it is refused.

    *account* is the account's configuration and *leads* its leads, however they
    are kept (a :class:`~pipekit.Workspace` is both). The events carry the
    revision after the account's. *at* is trusted to be timezone-aware here;
    :func:`pipekit.apply` checks it.
    """
    decider = _DECIDERS.get(type(command))
    if decider is None:
        raise TypeError(f"not a pipekit command: {type(command).__name__}")
    return decider(_Context(account, leads, account.revision + 1, at), command)


class _Context:
    """What every decider reads: the account, its leads, and the new events' revision and time."""

    __slots__ = ("account", "at", "leads", "revision")

    def __init__(self, account: Account, leads: LeadTable, revision: int, at: datetime) -> None:
        self.account = account
        self.leads = leads
        self.revision = revision
        self.at = at

    def record(self, lead_id: int, expected_version: int | None = None) -> LeadRecord:
        """Return the lead *lead_id* with its scheduled actions.

        Raises :class:`~pipekit.UnknownLead` when there is none, and
        :class:`~pipekit.LeadVersionConflict` when it is not at *expected_version*.
        """
        record = self.leads.record(require_int(lead_id, "a lead id"))
        if record is None:
            raise UnknownLead(lead_id)
        if expected_version is not None:
            version = record.lead.version
            if require_int(expected_version, "expected_version") != version:
                raise LeadVersionConflict(lead_id, expected_version, version)
        return record

    def reactions(
        self, silenced: frozenset[int] = frozenset(), next_id: int | None = None
    ) -> Reactions:
        """Return the reactions of lead changes at this decision's revision and time."""
        return Reactions(self.account, self.revision, self.at, silenced=silenced, next_id=next_id)


# -- stages -------------------------------------------------------------------------


def _add_stage(ctx: _Context, command: c.AddStage) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
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
    return (e.StageAdded(ctx.revision, ctx.at, pipeline.id, added.stages[index], position),)


def _rename_stage(ctx: _Context, command: c.RenameStage) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    renamed = rename_stage(pipeline, command.stage_id, command.name)
    return _renamed(ctx, pipeline, renamed, command.stage_id)


def _rename_terminal(ctx: _Context, command: c.RenameTerminal) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    renamed = rename_terminal(pipeline, command.outcome, command.name)
    stage_id = pipeline.won.id if command.outcome is StageKind.WON else pipeline.lost.id
    return _renamed(ctx, pipeline, renamed, stage_id)


def _renamed(ctx: _Context, pipeline: Pipeline, renamed: Pipeline, stage_id: int) -> Decision:
    if renamed.stages == pipeline.stages:
        return _NONE
    name = renamed.stage(stage_id).name
    return (e.StageRenamed(ctx.revision, ctx.at, pipeline.id, stage_id, name),)


def _recolor_stage(ctx: _Context, command: c.RecolorStage) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    recolored = recolor_stage(pipeline, command.stage_id, command.color)
    if recolored.stages == pipeline.stages:
        return _NONE
    color = recolored.stage(command.stage_id).color
    return (e.StageRecolored(ctx.revision, ctx.at, pipeline.id, command.stage_id, color),)


def _move_stage(ctx: _Context, command: c.MoveStage) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    moved = move_stage(pipeline, command.stage_id, command.position)
    if moved.stages == pipeline.stages:
        return _NONE
    position = command.position
    return (e.StageMoved(ctx.revision, ctx.at, pipeline.id, command.stage_id, position),)


def _delete_stage(ctx: _Context, command: c.DeleteStage) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    remaining = delete_stage(pipeline, command.stage_id)
    target = _relocation_target(pipeline, remaining, command)
    origin = (pipeline.id, command.stage_id)
    deleted = e.StageDeleted(ctx.revision, ctx.at, pipeline.id, command.stage_id)
    let_go, reactions = _letting_go(ctx, origin)
    if not ctx.account.lead_count(*origin):
        return (*reactions.events, *let_go, deleted)
    lead_ids = tuple(ctx.leads.lead_ids_in(*origin))
    # The leads move while the stage still exists, so they meet the automations
    # as they were; those about to be removed fire nothing.
    relocated = e.LeadsRelocated(
        ctx.revision, ctx.at, pipeline.id, command.stage_id, target, lead_ids
    )
    place = (pipeline.id, target)
    for lead_id in lead_ids:
        record = ctx.record(lead_id)
        reactions.moved(record.lead, record.scheduled, origin, place)
    return (relocated, *reactions.events, *let_go, deleted)


def _letting_go(ctx: _Context, place: Place) -> tuple[tuple[Event, ...], Reactions]:
    """Return the events by which the automations let go of a stage about to go (D1).

    An automation whose move targets the stage is removed; one that watches it
    stops watching it, and is removed when it is left watching nothing. Every
    automation is looked at, since a move may target a stage of another pipeline.
    The removed automations' items not handed over are cancelled, by the
    :class:`Reactions` returned, which also keeps those automations silent.
    """
    found: list[Event] = []
    removed: list[int] = []
    for automation in ctx.account.automations:
        if not refers_to_stage(automation, place):
            continue
        rest = tuple(watched for watched in automation.stage_ids if watched != place[1])
        if automation.target != place and rest != automation.stage_ids and rest:
            updated = attrs.evolve(automation, stage_ids=rest)
            found.append(e.AutomationUpdated(ctx.revision, ctx.at, updated))
            continue
        removed.append(automation.id)
        found.append(e.AutomationRemoved(ctx.revision, ctx.at, automation.id))
    reactions = ctx.reactions(silenced=frozenset(removed))
    for automation_id in removed:
        reactions.cancel_all(ctx.leads.waiting_of(automation_id))
    return tuple(found), reactions


def _relocation_target(pipeline: Pipeline, remaining: Pipeline, command: c.DeleteStage) -> int:
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


def _enable_incoming(ctx: _Context, command: c.EnableIncoming) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    enabled = enable_incoming(pipeline, name=command.name, color=command.color)
    if enabled is pipeline:
        return _NONE
    incoming = enabled.incoming
    assert incoming is not None  # enable_incoming just switched it on
    return (e.IncomingStageEnabled(ctx.revision, ctx.at, pipeline.id, incoming),)


def _disable_incoming(ctx: _Context, command: c.DisableIncoming) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    incoming = pipeline.incoming
    if incoming is None:
        return _NONE
    check_incoming_empty(ctx.account, pipeline.id, incoming.id)
    # Only a host action may watch incoming leads (D2), and none targets it.
    let_go, reactions = _letting_go(ctx, (pipeline.id, incoming.id))
    disabled = e.IncomingStageDisabled(ctx.revision, ctx.at, pipeline.id, incoming.id)
    return (*reactions.events, *let_go, disabled)


# -- pipelines ----------------------------------------------------------------------


def _create_pipeline(ctx: _Context, command: c.CreatePipeline) -> Decision:
    account = ctx.account
    require_type(command.incoming, bool, "incoming")
    check_room(account)
    name = check_pipeline_name(account, command.name)
    # The counter's id is checked too: it stands one past the highest id once all are used.
    asked = account.next_pipeline_id if command.pipeline_id is None else command.pipeline_id
    pipeline_id = check_new_pipeline_id(account, asked)
    pipeline = default_pipeline(name, pipeline_id=pipeline_id, incoming=command.incoming)
    return (e.PipelineCreated(ctx.revision, ctx.at, pipeline),)


def _rename_pipeline(ctx: _Context, command: c.RenamePipeline) -> Decision:
    pipeline = ctx.account.pipeline(command.pipeline_id)
    name = check_pipeline_name(ctx.account, command.name, pipeline.id)
    renamed = e.PipelineRenamed(ctx.revision, ctx.at, pipeline.id, name)
    return _NONE if name == pipeline.name else (renamed,)


def _move_pipeline(ctx: _Context, command: c.MovePipeline) -> Decision:
    index = ctx.account.pipeline_index(command.pipeline_id)
    if check_pipeline_position(ctx.account, command.position) == index:
        return _NONE
    return (e.PipelineMoved(ctx.revision, ctx.at, command.pipeline_id, command.position),)


def _set_main_pipeline(ctx: _Context, command: c.SetMainPipeline) -> Decision:
    ctx.account.pipeline_index(command.pipeline_id)
    if command.pipeline_id == ctx.account.main_pipeline_id:
        return _NONE
    return (e.MainPipelineSet(ctx.revision, ctx.at, command.pipeline_id),)


def _delete_pipeline(ctx: _Context, command: c.DeletePipeline) -> Decision:
    # Whether it may go (last, main, not empty: W3) is the fact's to check, when applied.
    ctx.account.pipeline_index(command.pipeline_id)
    pipeline_id = command.pipeline_id
    removed = tuple(
        e.AutomationRemoved(ctx.revision, ctx.at, automation.id)
        for automation in ctx.account.automations
        if refers_to_pipeline(automation, pipeline_id)
    )
    reactions = ctx.reactions()
    for event in removed:
        reactions.cancel_all(ctx.leads.waiting_of(event.automation_id))
    return (*reactions.events, *removed, e.PipelineDeleted(ctx.revision, ctx.at, pipeline_id))


# -- leads --------------------------------------------------------------------------


def _create_lead(ctx: _Context, command: c.CreateLead) -> Decision:
    account = ctx.account
    require_type(command.incoming, bool, "incoming")
    name = clean_name(command.name)
    price = check_price(command.price)
    pipeline_id = account.main_pipeline_id if command.pipeline_id is None else command.pipeline_id
    pipeline = account.pipeline(pipeline_id)
    stage = _entry_stage(pipeline, command.stage_id, incoming=command.incoming)
    if command.lead_id is None:
        lead_id = account.next_lead_id
    else:
        lead_id = positive_id(command.lead_id, "lead")
        if ctx.leads.record(lead_id) is not None:
            raise DuplicateLeadId(lead_id)
    lead = Lead(lead_id, name, pipeline.id, stage.id, price, ctx.at, ctx.at)
    created = e.LeadCreated(ctx.revision, ctx.at, lead)
    if not account.watching:
        return (created,)
    reactions = ctx.reactions()
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


def _move_lead(ctx: _Context, command: c.MoveLead) -> Decision:
    record = ctx.record(command.lead_id, command.expected_version)
    return _moved(ctx, record, command.pipeline_id, command.stage_id)


def _moved(
    ctx: _Context,
    record: LeadRecord,
    pipeline_id: int | None,
    stage_id: int,
    next_id: int | None = None,
) -> Decision:
    """Return the events of a move of *record*'s lead to a stage, or raise why it is refused."""
    lead = record.lead
    pipeline_id = lead.pipeline_id if pipeline_id is None else pipeline_id
    target = ctx.account.pipeline(pipeline_id).stage(stage_id)
    _check_not_incoming(ctx.account, lead)
    if target.kind is StageKind.INCOMING:
        raise StageLocked(
            target.id, target.kind, "entered by a move: new requests arrive there by CreateLead"
        )
    if (pipeline_id, target.id) == (lead.pipeline_id, lead.stage_id):
        return _NONE
    moved = e.LeadMoved(
        ctx.revision, ctx.at, lead.id, lead.pipeline_id, lead.stage_id, pipeline_id, target.id
    )
    return (moved, *_after_move(ctx, record, (pipeline_id, target.id), next_id))


def _after_move(
    ctx: _Context, record: LeadRecord, target: Place, next_id: int | None = None
) -> Decision:
    """Return what a lead's move cancels and schedules (nothing, fast, without automations).

    New items take ids from *next_id* on, or from the account's counter.
    """
    if not ctx.account.watching and not record.scheduled:
        return _NONE
    lead = record.lead
    reactions = ctx.reactions(next_id=next_id)
    reactions.moved(lead, record.scheduled, (lead.pipeline_id, lead.stage_id), target)
    return tuple(reactions.events)


def _check_not_incoming(account: Account, lead: Lead) -> None:
    index, stage_index = position(account, (lead.pipeline_id, lead.stage_id))
    stage = account.pipelines[index].stages[stage_index]
    if stage.kind is StageKind.INCOMING:
        raise StageLocked(
            stage.id, stage.kind, "left by a move: accept, decline or delete the lead instead"
        )


def _win_lead(ctx: _Context, command: c.WinLead) -> Decision:
    record = ctx.record(command.lead_id, command.expected_version)
    lead = record.lead
    _check_not_incoming(ctx.account, lead)
    won = ctx.account.pipeline(lead.pipeline_id).won.id
    if lead.stage_id == won:
        return _NONE
    pipeline_id = lead.pipeline_id
    moved = e.LeadMoved(ctx.revision, ctx.at, lead.id, pipeline_id, lead.stage_id, pipeline_id, won)
    return (moved, *_after_move(ctx, record, (pipeline_id, won)))


def _lose_lead(ctx: _Context, command: c.LoseLead) -> Decision:
    record = ctx.record(command.lead_id, command.expected_version)
    lead = record.lead
    _check_not_incoming(ctx.account, lead)
    reason_id = command.loss_reason_id
    if reason_id is not None:
        ctx.account.loss_reason_index(reason_id)
    lost = ctx.account.pipeline(lead.pipeline_id).lost.id
    if lead.stage_id == lost and lead.loss_reason_id == reason_id:
        return _NONE
    pipeline_id = lead.pipeline_id
    moved = e.LeadMoved(
        ctx.revision, ctx.at, lead.id, pipeline_id, lead.stage_id, pipeline_id, lost, reason_id
    )
    if lead.stage_id == lost:  # a new loss reason, not a move
        return (moved,)
    return (moved, *_after_move(ctx, record, (pipeline_id, lost)))


def _incoming_lead(
    ctx: _Context, lead_id: int, expected_version: int | None
) -> tuple[LeadRecord, Pipeline]:
    record = ctx.record(lead_id, expected_version)
    lead = record.lead
    pipeline = ctx.account.pipeline(lead.pipeline_id)
    incoming = pipeline.incoming
    if incoming is None or incoming.id != lead.stage_id:
        raise LeadNotIncoming(lead.id, lead.stage_id)
    return record, pipeline


def _accept_lead(ctx: _Context, command: c.AcceptLead) -> Decision:
    record, pipeline = _incoming_lead(ctx, command.lead_id, command.expected_version)
    lead = record.lead
    if command.stage_id is None:
        target = pipeline.open_stages[0]
    else:
        target = _open_target(pipeline, command.stage_id)
    accepted = e.LeadAccepted(ctx.revision, ctx.at, lead.id, pipeline.id, lead.stage_id, target.id)
    return (accepted, *_after_move(ctx, record, (pipeline.id, target.id)))


def _decline_lead(ctx: _Context, command: c.DeclineLead) -> Decision:
    record, _pipeline = _incoming_lead(ctx, command.lead_id, command.expected_version)
    declined = e.LeadDeclined(ctx.revision, ctx.at, record.lead)
    return (*_cancelled(ctx, record.scheduled), declined)


def _delete_lead(ctx: _Context, command: c.DeleteLead) -> Decision:
    record = ctx.record(command.lead_id, command.expected_version)
    deleted = e.LeadDeleted(ctx.revision, ctx.at, record.lead)
    return (*_cancelled(ctx, record.scheduled), deleted)


def _cancelled(ctx: _Context, items: Iterable[Scheduled]) -> list[Event]:
    """Return the events that cancel *items*: a lead's about to go, or an automation's."""
    reactions = ctx.reactions()
    reactions.cancel_all(items)
    return reactions.events


# -- loss reasons -------------------------------------------------------------------


def _add_reason(ctx: _Context, command: c.AddLossReason) -> Decision:
    account = ctx.account
    name = check_reason_name(account, command.name)
    if command.reason_id is None:
        reason_id = account.next_loss_reason_id
    else:
        reason_id = check_new_reason_id(account, command.reason_id)
    return (e.LossReasonAdded(ctx.revision, ctx.at, LossReason(reason_id, name)),)


def _rename_reason(ctx: _Context, command: c.RenameLossReason) -> Decision:
    reason = ctx.account.loss_reason(command.reason_id)
    name = check_reason_name(ctx.account, command.name, reason.id)
    renamed = e.LossReasonRenamed(ctx.revision, ctx.at, reason.id, name)
    return _NONE if name == reason.name else (renamed,)


def _delete_reason(ctx: _Context, command: c.DeleteLossReason) -> Decision:
    # Whether a lead still gives it (W5) is the fact's to check, when applied.
    ctx.account.loss_reason_index(command.reason_id)
    return (e.LossReasonDeleted(ctx.revision, ctx.at, command.reason_id),)


# -- automations (the Digital Pipeline) ---------------------------------------------


def _add_automation(ctx: _Context, command: c.AddAutomation) -> Decision:
    account = ctx.account
    pipeline = account.pipeline(command.pipeline_id)
    check_automation_room(account, pipeline.id)
    if command.automation_id is None:
        automation_id = account.next_automation_id
    else:
        automation_id = check_new_automation_id(account, command.automation_id)
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
    check_automation(account, automation)
    return (e.AutomationAdded(ctx.revision, ctx.at, automation),)


def _update_automation(ctx: _Context, command: c.UpdateAutomation) -> Decision:
    old = ctx.account.automation(command.automation_id)
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
    check_automation(ctx.account, new)
    if new == old:
        return _NONE
    let_go = _cancelled(ctx, ctx.leads.waiting_of(old.id))
    return (*let_go, e.AutomationUpdated(ctx.revision, ctx.at, new))


def _enable_automation(ctx: _Context, command: c.EnableAutomation) -> Decision:
    automation = ctx.account.automation(command.automation_id)
    if automation.enabled:
        return _NONE
    return (e.AutomationEnabled(ctx.revision, ctx.at, automation.id),)


def _disable_automation(ctx: _Context, command: c.DisableAutomation) -> Decision:
    automation = ctx.account.automation(command.automation_id)
    if not automation.enabled:
        return _NONE
    let_go = _cancelled(ctx, ctx.leads.waiting_of(automation.id))
    return (*let_go, e.AutomationDisabled(ctx.revision, ctx.at, automation.id))


def _remove_automation(ctx: _Context, command: c.RemoveAutomation) -> Decision:
    automation = ctx.account.automation(command.automation_id)
    let_go = _cancelled(ctx, ctx.leads.waiting_of(automation.id))
    return (*let_go, e.AutomationRemoved(ctx.revision, ctx.at, automation.id))


# -- scheduled actions --------------------------------------------------------------


def _run_due(ctx: _Context, command: c.RunDue) -> Decision:
    """Carry out, hand over or stop each due item in turn, as one command.

    A step sees what the steps before it did: the run keeps the records of the
    leads it touched as its own events left them (by the same
    :func:`~pipekit.leads.evolve_lead` that applies them), and the items it
    scheduled that fall due at once, which come after those due before: their
    due time is the run's own, and their ids are higher.
    """
    run = _Run(ctx)
    for item in ctx.leads.due(ctx.at):
        run.step(item)
    while run.born:
        run.step(heappop(run.born)[1])
    return tuple(run.events)


class _Run:
    """One RunDue: the records it touched, the automations each lead passed, the items born."""

    __slots__ = ("born", "born_ids", "ctx", "events", "next_id", "passed", "records")

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.records: dict[int, LeadRecord | None] = {}
        self.passed: dict[int, list[int]] = {}
        self.born: list[tuple[int, Scheduled]] = []
        self.born_ids: set[int] = set()
        self.events: list[Event] = []
        self.next_id = ctx.account.next_scheduled_id

    def step(self, item: Scheduled) -> None:
        """Carry out, hand over or stop *item*, unless a step before cancelled or moved it on."""
        lead_id = item.lead_id
        if lead_id not in self.records:
            self.records[lead_id] = self.ctx.leads.record(lead_id)
        record = self.records[lead_id]
        if record is None or record.item(item.id) != item:
            return
        for event in self._carry_out(record, item):
            if not isinstance(event, e.AutomationLoopStopped):
                record = evolve_lead(self.ctx.account, record, event)
            if isinstance(event, e.ActionScheduled):
                born = event.scheduled
                self.next_id = born.id + 1
                self.born_ids.add(born.id)
                if born.due_at <= self.ctx.at:
                    heappush(self.born, (born.id, born))
            self.events.append(event)
        self.records[lead_id] = record

    def _carry_out(self, record: LeadRecord, item: Scheduled) -> Decision:
        """Return the events that carry out, hand over or stop one due *item*."""
        ctx = self.ctx
        chain = self.passed.setdefault(item.lead_id, [])
        if item.id in self.born_ids and item.automation_id in chain:
            return (
                e.ActionCancelled(ctx.revision, ctx.at, item.id),
                e.AutomationLoopStopped(ctx.revision, ctx.at, item.id, item.lead_id, tuple(chain)),
            )
        chain.append(item.automation_id)
        action = item.action
        if isinstance(action, HostAction):
            return (e.ActionHandedOver(ctx.revision, ctx.at, item.id),)
        completed = e.ActionCompleted(ctx.revision, ctx.at, item.id)
        automation = ctx.account.automation(item.automation_id)
        pipeline_id = automation.pipeline_id if action.pipeline_id is None else action.pipeline_id
        # Taken out first, so that the move does not cancel the very item carrying it.
        rest = tuple(other for other in record.scheduled if other.id != item.id)
        try:
            moved = _moved(
                ctx, LeadRecord(record.lead, rest), pipeline_id, action.stage_id, self.next_id
            )
            if not moved:
                raise InvalidTarget(
                    pipeline_id,
                    action.stage_id,
                    f"lead {item.lead_id} is in stage {action.stage_id} already",
                )
        except RuleViolation as error:
            return (e.ActionFailed(ctx.revision, ctx.at, item.id, error.code),)
        return (moved[0], completed, *moved[1:])


def _handed_over(ctx: _Context, scheduled_id: int) -> Scheduled:
    item = ctx.leads.find_scheduled(require_int(scheduled_id, "a scheduled action id"))
    if item is None or item.handed_over_at is None:
        raise UnknownScheduledAction(scheduled_id)
    return item


def _complete_action(ctx: _Context, command: c.CompleteAction) -> Decision:
    item = _handed_over(ctx, command.scheduled_id)
    return (e.ActionCompleted(ctx.revision, ctx.at, item.id),)


def _fail_action(ctx: _Context, command: c.FailAction) -> Decision:
    reason = check_failure_reason(command.reason)
    item = _handed_over(ctx, command.scheduled_id)
    return (e.ActionFailed(ctx.revision, ctx.at, item.id, reason),)


# Each decider takes its own command class: the table holds them under the loosest
# argument type, and decide() looks a command's one up by its exact class.
_DECIDERS: Final[dict[type[c.Command], Callable[[_Context, Any], Decision]]] = {
    c.AddStage: _add_stage,
    c.RenameStage: _rename_stage,
    c.RecolorStage: _recolor_stage,
    c.MoveStage: _move_stage,
    c.DeleteStage: _delete_stage,
    c.RenameTerminal: _rename_terminal,
    c.EnableIncoming: _enable_incoming,
    c.DisableIncoming: _disable_incoming,
    c.CreatePipeline: _create_pipeline,
    c.RenamePipeline: _rename_pipeline,
    c.MovePipeline: _move_pipeline,
    c.SetMainPipeline: _set_main_pipeline,
    c.DeletePipeline: _delete_pipeline,
    c.CreateLead: _create_lead,
    c.MoveLead: _move_lead,
    c.WinLead: _win_lead,
    c.LoseLead: _lose_lead,
    c.AcceptLead: _accept_lead,
    c.DeclineLead: _decline_lead,
    c.DeleteLead: _delete_lead,
    c.AddLossReason: _add_reason,
    c.RenameLossReason: _rename_reason,
    c.DeleteLossReason: _delete_reason,
    c.AddAutomation: _add_automation,
    c.UpdateAutomation: _update_automation,
    c.EnableAutomation: _enable_automation,
    c.DisableAutomation: _disable_automation,
    c.RemoveAutomation: _remove_automation,
    c.RunDue: _run_due,
    c.CompleteAction: _complete_action,
    c.FailAction: _fail_action,
}
