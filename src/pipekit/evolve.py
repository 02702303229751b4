"""The one place where an event changes a workspace.

:func:`evolve` applies one event; :func:`pipekit.apply` folds the events a command
decided over the workspace, and replaying a log folds stored events the same way.
An event is a fact, so evolving checks only that the fact fits the workspace and
keeps it valid: the stage commands' pure functions re-check their rules, a lead
must be where the event says it was, a pipeline being deleted must be empty. A
fact that does not fit raises a :class:`~pipekit.RuleViolation` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final

import attrs

from pipekit._checks import require_type
from pipekit._containers import PersistentIndex
from pipekit._schedule import Schedule
from pipekit.automation import HostAction, Scheduled
from pipekit.errors import (
    InvalidEvent,
    LastPipeline,
    LossReasonInUse,
    MainPipelineLocked,
    PipelineNotEmpty,
    RevisionConflict,
    RuleViolation,
    UnknownAutomation,
    UnknownLead,
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
from pipekit.lead import Lead, LossReason, trusted_lead
from pipekit.pipeline import (
    Pipeline,
    add_stage,
    delete_stage,
    disable_incoming,
    enable_incoming,
    move_stage,
    recolor_stage,
    rename_pipeline,
    rename_stage,
)
from pipekit.scheduling import check_failure_reason
from pipekit.stage import StageKind
from pipekit.workspace import (
    EMPTY_BUCKET,
    Bucket,
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
    new_workspace,
    set_schedule,
    trusted_workspace,
    with_leads,
    with_schedule,
)

__all__ = ["evolve", "replay"]

_CLOSED: Final = (StageKind.WON, StageKind.LOST)


def evolve(workspace: Workspace, event: Event) -> Workspace:
    """Return *workspace* with *event* applied, at the event's revision.

    Raises a :class:`~pipekit.RuleViolation` when the event does not fit.
    """
    return _evolved(workspace, event, owned=False)


def evolve_all(workspace: Workspace, events: Iterable[Event]) -> Workspace:
    """Return *workspace* with *events* applied in turn: what :func:`pipekit.apply` does."""
    result = workspace
    for event in events:
        result = _evolved(result, event, owned=result is not workspace)
    return result


def _evolved(workspace: Workspace, event: Event, *, owned: bool) -> Workspace:
    """Return *workspace* with *event* applied; *owned*: built by the fold and held by no one.

    An owned workspace takes a scheduled-action event in place: a command that moves
    a lead and schedules an action builds one workspace, not one per event.
    """
    change = _SCHEDULE_CHANGES.get(type(event))
    if change is None:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise TypeError(f"not a pipekit event: {type(event).__name__}")
        return handler(workspace, event)
    schedule, next_id = change(workspace, event)
    if owned:
        set_schedule(workspace, schedule, next_id, event.revision)
        return workspace
    return with_schedule(workspace, schedule, next_id, event.revision)


def replay(events: Iterable[Event], *, initial: Workspace | None = None) -> Workspace:
    """Return the workspace that folding *events* over *initial* gives.

    *initial* defaults to :func:`~pipekit.new_workspace`. The events of one command
    share a revision and are taken as a group; a group whose revision is not the
    state's revision + 1 (a gap, a repeat, a log out of order) raises
    :class:`~pipekit.RevisionConflict`. Replaying everything :func:`~pipekit.apply`
    emitted from a workspace gives a workspace equal to the one it returned.
    """
    state = new_workspace() if initial is None else require_type(initial, Workspace, "initial")
    start = state
    group: list[Event] = []
    for event in events:
        if type(event) not in _HANDLERS and type(event) not in _SCHEDULE_CHANGES:
            raise TypeError(f"not a pipekit event: {type(event).__name__}")
        revision = event.revision
        if not group or revision != group[0].revision or _repeats(group, event):
            if revision != state.revision + 1:
                raise RevisionConflict._in_log(state.revision + 1, revision)
            group = []
        group.append(event)
        try:
            state = _evolved(state, event, owned=state is not start)
        except RuleViolation:
            if event in group[:-1]:  # a move RunDue made twice, or its group repeated
                raise RevisionConflict._in_log(state.revision + 1, revision) from None
            raise
    return state


def _repeats(group: list[Event], event: Event) -> bool:
    """Return whether *event* starts its group over: the group repeated in the log.

    One command never emits the same event twice, with one exception: a
    ``RunDue`` may move a lead the same way twice, and each move it carries out
    is followed by the ``ActionCompleted`` of a different scheduled action. Such
    a move is taken as part of the group; if it does not fit the state, the
    group was repeated after all (see :func:`replay`).
    """
    for index, earlier in enumerate(group):
        if earlier == event:
            carried = index + 1 < len(group) and isinstance(group[index + 1], ActionCompleted)
            if not (isinstance(event, LeadMoved) and carried):
                return True
    return False


# -- stages -------------------------------------------------------------------------


def _with_pipeline(
    workspace: Workspace, index: int, pipeline: Pipeline, revision: int
) -> Workspace:
    """Return *workspace* with the pipeline at *index* replaced.

    The pipeline's lead buckets follow its stages by id; a new stage starts empty.
    """
    old = workspace.pipelines[index]
    old_buckets = workspace._buckets[index]
    if pipeline.stages is old.stages:
        row = old_buckets
    else:
        row = tuple(
            old_buckets[old.index_of(stage_id)] if stage_id in old.stage_ids else EMPTY_BUCKET
            for stage_id in pipeline.stage_ids
        )
    return trusted_workspace(
        workspace,
        pipelines=_replaced(workspace.pipelines, index, pipeline),
        buckets=_replaced(workspace._buckets, index, row),
        revision=revision,
    )


def _stage_added(workspace: Workspace, event: StageAdded) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    stage = event.stage
    if stage.kind is not StageKind.OPEN:
        raise InvalidEvent("StageAdded", f"the added stage {stage.id} is not an open stage")
    pipeline = add_stage(
        workspace.pipelines[index],
        stage.name,
        position=event.position,
        color=stage.color,
        stage_id=stage.id,
    )
    return _with_pipeline(workspace, index, pipeline, event.revision)


def _stage_renamed(workspace: Workspace, event: StageRenamed) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    pipeline = rename_stage(workspace.pipelines[index], event.stage_id, event.name)
    return _with_pipeline(workspace, index, pipeline, event.revision)


def _stage_recolored(workspace: Workspace, event: StageRecolored) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    pipeline = recolor_stage(workspace.pipelines[index], event.stage_id, event.color)
    return _with_pipeline(workspace, index, pipeline, event.revision)


def _stage_moved(workspace: Workspace, event: StageMoved) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    pipeline = move_stage(workspace.pipelines[index], event.stage_id, event.position)
    return _with_pipeline(workspace, index, pipeline, event.revision)


def _stage_deleted(workspace: Workspace, event: StageDeleted) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    pipeline = workspace.pipelines[index]
    count = len(workspace._buckets[index][pipeline.index_of(event.stage_id)][0])
    if count:
        raise InvalidEvent(
            "StageDeleted", f"stage {event.stage_id} still holds {count} lead(s): relocate them"
        )
    _check_let_go(workspace, "StageDeleted", pipeline.id, event.stage_id)
    return _with_pipeline(workspace, index, delete_stage(pipeline, event.stage_id), event.revision)


def _leads_relocated(workspace: Workspace, event: LeadsRelocated) -> Workspace:
    pipeline = workspace.pipeline(event.pipeline_id)
    if pipeline.stage(event.to_stage_id).kind is not StageKind.OPEN:
        raise InvalidEvent("LeadsRelocated", f"stage {event.to_stage_id} is not an open stage")
    for lead_id in event.lead_ids:
        workspace = _move_lead(
            workspace,
            "LeadsRelocated",
            lead_id,
            (event.pipeline_id, event.from_stage_id),
            (event.pipeline_id, event.to_stage_id),
            event.at,
            None,
            event.revision,
        )
    return trusted_workspace(workspace, revision=event.revision)


def _incoming_enabled(workspace: Workspace, event: IncomingStageEnabled) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    pipeline = workspace.pipelines[index]
    if pipeline.incoming is not None or event.stage.kind is not StageKind.INCOMING:
        raise InvalidEvent(
            "IncomingStageEnabled", f"pipeline {pipeline.id} cannot take this incoming stage"
        )
    stage = event.stage
    enabled = enable_incoming(pipeline, name=stage.name, color=stage.color, stage_id=stage.id)
    return _with_pipeline(workspace, index, enabled, event.revision)


def _incoming_disabled(workspace: Workspace, event: IncomingStageDisabled) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    pipeline = workspace.pipelines[index]
    incoming = pipeline.incoming
    if incoming is None or incoming.id != event.stage_id:
        raise InvalidEvent(
            "IncomingStageDisabled",
            f"stage {event.stage_id} is not the incoming leads stage of pipeline {pipeline.id}",
        )
    check_incoming_empty(workspace, pipeline.id, incoming.id)
    _check_let_go(workspace, "IncomingStageDisabled", pipeline.id, incoming.id)
    return _with_pipeline(workspace, index, disable_incoming(pipeline), event.revision)


def _check_let_go(workspace: Workspace, event_name: str, pipeline_id: int, stage_id: int) -> None:
    """Raise :class:`~pipekit.InvalidEvent` if an automation still watches or targets a stage."""
    for automation in workspace.automations:
        watches = automation.pipeline_id == pipeline_id and stage_id in automation.stage_ids
        if watches or automation.target == (pipeline_id, stage_id):
            raise InvalidEvent(
                event_name, f"automation {automation.id} still refers to stage {stage_id}"
            )


# -- pipelines ----------------------------------------------------------------------


def _pipeline_created(workspace: Workspace, event: PipelineCreated) -> Workspace:
    pipeline = event.pipeline
    check_room(workspace)
    check_new_pipeline_id(workspace, pipeline.id)
    check_pipeline_name(workspace, pipeline.name)
    return trusted_workspace(
        workspace,
        pipelines=(*workspace.pipelines, pipeline),
        pipeline_ids=(*workspace._pipeline_ids, pipeline.id),
        buckets=(*workspace._buckets, (EMPTY_BUCKET,) * len(pipeline.stages)),
        next_pipeline_id=max(workspace.next_pipeline_id, pipeline.id + 1),
        revision=event.revision,
    )


def _pipeline_renamed(workspace: Workspace, event: PipelineRenamed) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    name = check_pipeline_name(workspace, event.name, event.pipeline_id)
    pipeline = rename_pipeline(workspace.pipelines[index], name)
    return _with_pipeline(workspace, index, pipeline, event.revision)


def _pipeline_moved(workspace: Workspace, event: PipelineMoved) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    check_pipeline_position(workspace, event.position)
    return trusted_workspace(
        workspace,
        pipelines=_moved(workspace.pipelines, index, event.position),
        pipeline_ids=_moved(workspace._pipeline_ids, index, event.position),
        buckets=_moved(workspace._buckets, index, event.position),
        revision=event.revision,
    )


def _main_pipeline_set(workspace: Workspace, event: MainPipelineSet) -> Workspace:
    workspace.pipeline_index(event.pipeline_id)
    return trusted_workspace(workspace, main_pipeline_id=event.pipeline_id, revision=event.revision)


def _pipeline_deleted(workspace: Workspace, event: PipelineDeleted) -> Workspace:
    index = workspace.pipeline_index(event.pipeline_id)
    if len(workspace.pipelines) == 1:
        raise LastPipeline(event.pipeline_id)
    if event.pipeline_id == workspace.main_pipeline_id:
        raise MainPipelineLocked(event.pipeline_id)
    count = workspace.lead_count(event.pipeline_id)
    if count:
        raise PipelineNotEmpty(event.pipeline_id, count)
    for automation in workspace.automations:
        target = automation.target
        if automation.pipeline_id == event.pipeline_id or (
            target is not None and target[0] == event.pipeline_id
        ):
            raise InvalidEvent(
                "PipelineDeleted",
                f"automation {automation.id} still refers to pipeline {event.pipeline_id}",
            )
    return trusted_workspace(
        workspace,
        pipelines=_removed(workspace.pipelines, index),
        pipeline_ids=_removed(workspace._pipeline_ids, index),
        buckets=_removed(workspace._buckets, index),
        revision=event.revision,
    )


# -- leads --------------------------------------------------------------------------


def _lead_created(workspace: Workspace, event: LeadCreated) -> Workspace:
    lead = event.lead
    leads = _lead_index(workspace)
    check_new_lead_id(workspace, lead.id)
    index = workspace.pipeline_index(lead.pipeline_id)
    stage_index = workspace.pipelines[index].index_of(lead.stage_id)
    closed = lead.closed_at is not None or lead.loss_reason_id is not None
    if closed or workspace.pipelines[index].stages[stage_index].kind in _CLOSED:
        raise InvalidEvent("LeadCreated", "a lead is created open, in an open or incoming stage")
    return trusted_workspace(
        workspace,
        leads=leads.with_value(lead),
        buckets=_with_bucket(workspace._buckets, index, stage_index, lead, 1),
        next_lead_id=max(workspace.next_lead_id, lead.id + 1),
        revision=event.revision,
    )


def _lead_moved(workspace: Workspace, event: LeadMoved) -> Workspace:
    return _move_lead(
        workspace,
        "LeadMoved",
        event.lead_id,
        (event.from_pipeline_id, event.from_stage_id),
        (event.to_pipeline_id, event.to_stage_id),
        event.at,
        event.loss_reason_id,
        event.revision,
    )


def _lead_accepted(workspace: Workspace, event: LeadAccepted) -> Workspace:
    pipeline = workspace.pipeline(event.pipeline_id)
    incoming = pipeline.incoming
    if incoming is None or incoming.id != event.from_stage_id:
        raise InvalidEvent("LeadAccepted", "the lead was not in the incoming leads stage")
    if pipeline.stage(event.to_stage_id).kind is not StageKind.OPEN:
        raise InvalidEvent("LeadAccepted", f"stage {event.to_stage_id} is not an open stage")
    return _move_lead(
        workspace,
        "LeadAccepted",
        event.lead_id,
        (event.pipeline_id, event.from_stage_id),
        (event.pipeline_id, event.to_stage_id),
        event.at,
        None,
        event.revision,
    )


def _lead_removed(workspace: Workspace, event: LeadDeclined | LeadDeleted) -> Workspace:
    lead = workspace.lead(event.lead.id)
    if lead != event.lead:
        raise InvalidEvent(type(event).__name__, f"lead {lead.id} is not as the event records it")
    if workspace._schedule.of_lead(lead.id):
        raise InvalidEvent(
            type(event).__name__, f"lead {lead.id} still has scheduled actions: cancel them first"
        )
    index = workspace.pipeline_index(lead.pipeline_id)
    stage_index = workspace.pipelines[index].index_of(lead.stage_id)
    return trusted_workspace(
        workspace,
        leads=_lead_index(workspace).without(lead.id),
        buckets=_with_bucket(workspace._buckets, index, stage_index, lead, -1),
        reason_uses=_with_reason_use(workspace, lead.loss_reason_id, -1),
        revision=event.revision,
    )


def _move_lead(
    workspace: Workspace,
    event_name: str,
    lead_id: int,
    origin: tuple[int, int],
    target: tuple[int, int],
    at: datetime,
    loss_reason_id: int | None,
    revision: int,
) -> Workspace:
    """Return *workspace* with the lead moved from *origin* to *target* (pipeline, stage)."""
    lead = _lead_index(workspace).get(lead_id)
    if lead is None:
        raise UnknownLead(lead_id)
    if (lead.pipeline_id, lead.stage_id) != origin:
        raise InvalidEvent(
            event_name, f"lead {lead_id} is in stage {lead.stage_id}, not in stage {origin[1]}"
        )
    from_index = workspace.pipeline_index(origin[0])
    from_stage = workspace.pipelines[from_index].index_of(origin[1])
    to_index = workspace.pipeline_index(target[0])
    to_pipeline = workspace.pipelines[to_index]
    to_stage = to_pipeline.index_of(target[1])
    kind = to_pipeline.stages[to_stage].kind
    if loss_reason_id is not None:
        if kind is not StageKind.LOST:
            raise InvalidEvent(event_name, "only a lead in the lost stage has a loss reason")
        workspace.loss_reason_index(loss_reason_id)
    if kind not in _CLOSED:
        closed_at = None
    elif origin == target:
        closed_at = lead.closed_at
    else:
        closed_at = at
    moved = trusted_lead(
        lead,
        pipeline_id=target[0],
        stage_id=target[1],
        stage_entered_at=lead.stage_entered_at if origin == target else at,
        closed_at=closed_at,
        loss_reason_id=loss_reason_id,
    )
    buckets = workspace._buckets
    if origin != target:
        buckets = _rebucketed(buckets, lead, (from_index, from_stage), (to_index, to_stage))
    reason_uses = workspace._reason_uses
    if loss_reason_id != lead.loss_reason_id:
        reason_uses = _with_reason_use(workspace, lead.loss_reason_id, -1, reason_uses)
        reason_uses = _with_reason_use(workspace, loss_reason_id, 1, reason_uses)
    return with_leads(
        workspace, _lead_index(workspace).with_value(moved), buckets, reason_uses, revision
    )


def _lead_index(workspace: Workspace) -> PersistentIndex[Lead]:
    return workspace.leads  # type: ignore[return-value]  # the constructor makes it one


def _rebucketed(
    buckets: tuple[tuple[Bucket, ...], ...],
    lead: Lead,
    origin: tuple[int, int],
    target: tuple[int, int],
) -> tuple[tuple[Bucket, ...], ...]:
    """Return *buckets* with *lead* moved between two (pipeline, stage) positions."""
    rows = list(buckets)
    row = list(rows[origin[0]])
    ids, total = row[origin[1]]
    row[origin[1]] = (ids.without(lead.id), total - lead.price)
    if target[0] != origin[0]:
        rows[origin[0]] = tuple(row)
        row = list(rows[target[0]])
    ids, total = row[target[1]]
    row[target[1]] = (ids.with_value(lead.id), total + lead.price)
    rows[target[0]] = tuple(row)
    return tuple(rows)


def _with_bucket(
    buckets: tuple[tuple[Bucket, ...], ...], index: int, stage_index: int, lead: Lead, change: int
) -> tuple[tuple[Bucket, ...], ...]:
    row = buckets[index]
    ids, total = row[stage_index]
    if change > 0:
        bucket = (ids.with_value(lead.id), total + lead.price)
    else:
        bucket = (ids.without(lead.id), total - lead.price)
    return _replaced(buckets, index, _replaced(row, stage_index, bucket))


def _with_reason_use(
    workspace: Workspace,
    reason_id: int | None,
    change: int,
    uses: tuple[int, ...] | None = None,
) -> tuple[int, ...]:
    uses = workspace._reason_uses if uses is None else uses
    if reason_id is None:
        return uses
    index = workspace.loss_reason_index(reason_id)
    return _replaced(uses, index, uses[index] + change)


# -- loss reasons -------------------------------------------------------------------


def _reason_added(workspace: Workspace, event: LossReasonAdded) -> Workspace:
    reason = event.reason
    check_new_reason_id(workspace, reason.id)
    check_reason_name(workspace, reason.name)
    return trusted_workspace(
        workspace,
        loss_reasons=(*workspace.loss_reasons, reason),
        reason_uses=(*workspace._reason_uses, 0),
        next_loss_reason_id=max(workspace.next_loss_reason_id, reason.id + 1),
        revision=event.revision,
    )


def _reason_renamed(workspace: Workspace, event: LossReasonRenamed) -> Workspace:
    index = workspace.loss_reason_index(event.reason_id)
    name = check_reason_name(workspace, event.name, event.reason_id)
    return trusted_workspace(
        workspace,
        loss_reasons=_replaced(workspace.loss_reasons, index, LossReason(event.reason_id, name)),
        revision=event.revision,
    )


def _reason_deleted(workspace: Workspace, event: LossReasonDeleted) -> Workspace:
    index = workspace.loss_reason_index(event.reason_id)
    uses = workspace._reason_uses[index]
    if uses:
        raise LossReasonInUse(event.reason_id, uses)
    return trusted_workspace(
        workspace,
        loss_reasons=_removed(workspace.loss_reasons, index),
        reason_uses=_removed(workspace._reason_uses, index),
        revision=event.revision,
    )


# -- automations (the Digital Pipeline) ---------------------------------------------


def _automation_added(workspace: Workspace, event: AutomationAdded) -> Workspace:
    automation = event.automation
    check_new_automation_id(workspace, automation.id)
    check_automation_room(workspace, automation.pipeline_id)
    check_automation(workspace, automation)
    return trusted_workspace(
        workspace,
        automations=(*workspace.automations, automation),
        next_automation_id=max(workspace.next_automation_id, automation.id + 1),
        revision=event.revision,
    )


def _automation_updated(workspace: Workspace, event: AutomationUpdated) -> Workspace:
    automation = event.automation
    index = workspace.automation_index(automation.id)
    if workspace.automations[index].pipeline_id != automation.pipeline_id:
        raise InvalidEvent(
            "AutomationUpdated", f"automation {automation.id} cannot change its pipeline"
        )
    check_automation(workspace, automation)
    return trusted_workspace(
        workspace,
        automations=_replaced(workspace.automations, index, automation),
        revision=event.revision,
    )


def _automation_switched(
    workspace: Workspace, event: AutomationEnabled | AutomationDisabled
) -> Workspace:
    index = workspace.automation_index(event.automation_id)
    enabled = isinstance(event, AutomationEnabled)
    automation = workspace.automations[index]
    if automation.enabled == enabled:
        state = "enabled" if enabled else "disabled"
        raise InvalidEvent(type(event).__name__, f"automation {automation.id} is {state} already")
    if not enabled:
        _check_no_waiting(workspace, "AutomationDisabled", automation.id)
    return trusted_workspace(
        workspace,
        automations=_replaced(
            workspace.automations, index, attrs.evolve(automation, enabled=enabled)
        ),
        revision=event.revision,
    )


def _automation_removed(workspace: Workspace, event: AutomationRemoved) -> Workspace:
    index = workspace.automation_index(event.automation_id)
    _check_no_waiting(workspace, "AutomationRemoved", event.automation_id)
    return trusted_workspace(
        workspace,
        automations=_removed(workspace.automations, index),
        revision=event.revision,
    )


def _check_no_waiting(workspace: Workspace, event_name: str, automation_id: int) -> None:
    if workspace._schedule.waiting_of(automation_id):
        raise InvalidEvent(
            event_name,
            f"automation {automation_id} still has actions waiting: cancel them first",
        )


# -- scheduled actions --------------------------------------------------------------


ScheduleChange = tuple[Schedule, int]
"""What a scheduled-action event changes: the schedule and the next scheduled id."""


def _action_scheduled(workspace: Workspace, event: ActionScheduled) -> ScheduleChange:
    item = event.scheduled
    schedule = workspace._schedule
    # An id at or above the counter is free: only a lower one needs looking up.
    if item.id < workspace.next_scheduled_id and schedule.get(item.id) is not None:
        raise InvalidEvent("ActionScheduled", f"scheduled action {item.id} exists already")
    if item.handed_over_at is not None:
        raise InvalidEvent("ActionScheduled", "an action is scheduled before it is handed over")
    if workspace.leads.get(item.lead_id) is None:
        raise UnknownLead(item.lead_id)
    if item.automation_id not in workspace._automation_ids:
        raise UnknownAutomation(item.automation_id)
    return schedule.with_item(item), max(workspace.next_scheduled_id, item.id + 1)


def _scheduled_item(workspace: Workspace, event_name: str, scheduled_id: int) -> Scheduled:
    item = workspace._schedule.get(scheduled_id)
    if item is None:
        raise InvalidEvent(event_name, f"no scheduled action has id {scheduled_id}")
    return item


def _action_handed_over(workspace: Workspace, event: ActionHandedOver) -> ScheduleChange:
    item = _scheduled_item(workspace, "ActionHandedOver", event.scheduled_id)
    if item.handed_over_at is not None or not isinstance(item.action, HostAction):
        raise InvalidEvent(
            "ActionHandedOver", f"scheduled action {item.id} is not a host action waiting"
        )
    return workspace._schedule.handed_over(item, event.at), workspace.next_scheduled_id


def _action_done(workspace: Workspace, event: ActionCompleted | ActionFailed) -> ScheduleChange:
    name = type(event).__name__
    item = _scheduled_item(workspace, name, event.scheduled_id)
    if isinstance(event, ActionFailed):
        check_failure_reason(event.reason)
    if item.handed_over_at is None and isinstance(item.action, HostAction):
        raise InvalidEvent(name, f"host action {item.id} was never handed over")
    return workspace._schedule.without(item), workspace.next_scheduled_id


def _action_cancelled(workspace: Workspace, event: ActionCancelled) -> ScheduleChange:
    item = _scheduled_item(workspace, "ActionCancelled", event.scheduled_id)
    return workspace._schedule.without(item), workspace.next_scheduled_id


def _loop_stopped(workspace: Workspace, event: AutomationLoopStopped) -> Workspace:
    # A record of why the item before it was cancelled: nothing more changes.
    workspace.lead(event.lead_id)
    return trusted_workspace(workspace, revision=event.revision)


# -- tuples -------------------------------------------------------------------------


def _replaced(items: tuple[Any, ...], index: int, item: Any) -> tuple[Any, ...]:
    as_list = list(items)
    as_list[index] = item
    return tuple(as_list)


def _removed(items: tuple[Any, ...], index: int) -> tuple[Any, ...]:
    return items[:index] + items[index + 1 :]


def _moved(items: tuple[Any, ...], index: int, target: int) -> tuple[Any, ...]:
    rest = items[:index] + items[index + 1 :]
    return (*rest[:target], items[index], *rest[target:])


_HANDLERS: Final[dict[type[Any], Callable[[Workspace, Any], Workspace]]] = {
    StageAdded: _stage_added,
    StageRenamed: _stage_renamed,
    StageRecolored: _stage_recolored,
    StageMoved: _stage_moved,
    StageDeleted: _stage_deleted,
    LeadsRelocated: _leads_relocated,
    IncomingStageEnabled: _incoming_enabled,
    IncomingStageDisabled: _incoming_disabled,
    PipelineCreated: _pipeline_created,
    PipelineRenamed: _pipeline_renamed,
    PipelineMoved: _pipeline_moved,
    MainPipelineSet: _main_pipeline_set,
    PipelineDeleted: _pipeline_deleted,
    LeadCreated: _lead_created,
    LeadMoved: _lead_moved,
    LeadAccepted: _lead_accepted,
    LeadDeclined: _lead_removed,
    LeadDeleted: _lead_removed,
    LossReasonAdded: _reason_added,
    LossReasonRenamed: _reason_renamed,
    LossReasonDeleted: _reason_deleted,
    AutomationAdded: _automation_added,
    AutomationUpdated: _automation_updated,
    AutomationEnabled: _automation_switched,
    AutomationDisabled: _automation_switched,
    AutomationRemoved: _automation_removed,
    AutomationLoopStopped: _loop_stopped,
}

_SCHEDULE_CHANGES: Final[dict[type[Any], Callable[[Workspace, Any], ScheduleChange]]] = {
    ActionScheduled: _action_scheduled,
    ActionHandedOver: _action_handed_over,
    ActionCompleted: _action_done,
    ActionFailed: _action_done,
    ActionCancelled: _action_cancelled,
}
