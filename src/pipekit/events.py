"""Events: past-tense facts about what changed in a workspace.

:func:`pipekit.apply` returns them beside the new workspace. Each carries the
revision it produced and the time it happened, and everything needed to replay it
without the command that caused it. The events of one command share a revision.

>>> from pipekit import CreateLead, apply, new_workspace
>>> from datetime import datetime, timezone
>>> at = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
>>> applied = apply(new_workspace(), CreateLead("ACME", price=990), at=at)
>>> [type(event).__name__ for event in applied.events]
['LeadCreated']
>>> applied.events[0].revision, applied.events[0].lead.stage_id
(1, 144)
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias, final

import attrs

from pipekit.automation import Automation
from pipekit.bounds import Id, Revision
from pipekit.color import Color
from pipekit.lead import Lead, LossReason
from pipekit.pipeline import Pipeline
from pipekit.scheduling import Scheduled
from pipekit.stage import Stage

__all__ = [
    "ActionCancelled",
    "ActionCompleted",
    "ActionFailed",
    "ActionHandedOver",
    "ActionScheduled",
    "AutomationAdded",
    "AutomationDisabled",
    "AutomationEnabled",
    "AutomationLoopStopped",
    "AutomationRemoved",
    "AutomationUpdated",
    "Event",
    "IncomingStageDisabled",
    "IncomingStageEnabled",
    "LeadAccepted",
    "LeadCreated",
    "LeadDeclined",
    "LeadDeleted",
    "LeadMoved",
    "LeadsRelocated",
    "LossReasonAdded",
    "LossReasonDeleted",
    "LossReasonRenamed",
    "MainPipelineSet",
    "PipelineCreated",
    "PipelineDeleted",
    "PipelineMoved",
    "PipelineRenamed",
    "StageAdded",
    "StageDeleted",
    "StageMoved",
    "StageRecolored",
    "StageRenamed",
]


@attrs.frozen
class _Event:
    revision: Revision
    at: datetime


# -- stages -------------------------------------------------------------------------


@final
@attrs.frozen
class StageAdded(_Event):
    """An open stage was added at ``position`` among the open stages."""

    pipeline_id: Id
    stage: Stage
    position: int


@final
@attrs.frozen
class StageRenamed(_Event):
    """A stage was renamed (the won and lost stages too)."""

    pipeline_id: Id
    stage_id: Id
    name: str


@final
@attrs.frozen
class StageRecolored(_Event):
    """An open stage was given another colour."""

    pipeline_id: Id
    stage_id: Id
    color: Color


@final
@attrs.frozen
class StageMoved(_Event):
    """An open stage was moved to ``position`` among the open stages."""

    pipeline_id: Id
    stage_id: Id
    position: int


@final
@attrs.frozen
class StageDeleted(_Event):
    """An open stage was deleted; its leads were relocated first (:class:`LeadsRelocated`)."""

    pipeline_id: Id
    stage_id: Id


@final
@attrs.frozen
class LeadsRelocated(_Event):
    """The leads ``lead_ids`` left a stage about to be deleted for another open stage."""

    pipeline_id: Id
    from_stage_id: Id
    to_stage_id: Id
    lead_ids: tuple[Id, ...]


@final
@attrs.frozen
class IncomingStageEnabled(_Event):
    """A pipeline's incoming leads stage was switched on."""

    pipeline_id: Id
    stage: Stage


@final
@attrs.frozen
class IncomingStageDisabled(_Event):
    """A pipeline's incoming leads stage was switched off."""

    pipeline_id: Id
    stage_id: Id


# -- pipelines ----------------------------------------------------------------------


@final
@attrs.frozen
class PipelineCreated(_Event):
    """A pipeline was added, last in display order."""

    pipeline: Pipeline


@final
@attrs.frozen
class PipelineRenamed(_Event):
    """A pipeline was renamed."""

    pipeline_id: Id
    name: str


@final
@attrs.frozen
class PipelineMoved(_Event):
    """A pipeline was moved to ``position`` in display order."""

    pipeline_id: Id
    position: int


@final
@attrs.frozen
class MainPipelineSet(_Event):
    """Another pipeline became the main one."""

    pipeline_id: Id


@final
@attrs.frozen
class PipelineDeleted(_Event):
    """An empty pipeline was deleted."""

    pipeline_id: Id


# -- leads --------------------------------------------------------------------------


@final
@attrs.frozen
class LeadCreated(_Event):
    """A lead was created, as ``lead`` shows it."""

    lead: Lead


@final
@attrs.frozen
class LeadMoved(_Event):
    """A lead changed stage (``WinLead`` and ``LoseLead`` included).

    ``loss_reason_id`` is the reason the lead has after the move: set only when it
    enters, or stays in, the lost stage. A ``LoseLead`` on a lead already in lost
    records only a new reason: then the from and to stages are the same.
    """

    lead_id: Id
    from_pipeline_id: Id
    from_stage_id: Id
    to_pipeline_id: Id
    to_stage_id: Id
    loss_reason_id: Id | None = None


@final
@attrs.frozen
class LeadAccepted(_Event):
    """A lead waiting in incoming leads was accepted into an open stage."""

    lead_id: Id
    pipeline_id: Id
    from_stage_id: Id
    to_stage_id: Id


@final
@attrs.frozen
class LeadDeclined(_Event):
    """A lead waiting in incoming leads was declined and left the workspace, as ``lead`` was."""

    lead: Lead


@final
@attrs.frozen
class LeadDeleted(_Event):
    """A lead was deleted and left the workspace, as ``lead`` was."""

    lead: Lead


# -- loss reasons -------------------------------------------------------------------


@final
@attrs.frozen
class LossReasonAdded(_Event):
    """A loss reason was added to the workspace's list."""

    reason: LossReason


@final
@attrs.frozen
class LossReasonRenamed(_Event):
    """A loss reason was renamed."""

    reason_id: Id
    name: str


@final
@attrs.frozen
class LossReasonDeleted(_Event):
    """A loss reason was deleted."""

    reason_id: Id


# -- automations (the Digital Pipeline) ---------------------------------------------


@final
@attrs.frozen
class AutomationAdded(_Event):
    """An automation was added, last in creation order, as ``automation`` shows it."""

    automation: Automation


@final
@attrs.frozen
class AutomationUpdated(_Event):
    """An automation's settings changed: ``automation`` is how it is now (same id, pipeline).

    ``DeleteStage`` and ``DisableIncoming`` emit it too, for an automation that
    stops watching the stage that goes.
    """

    automation: Automation


@final
@attrs.frozen
class AutomationEnabled(_Event):
    """An automation was switched on."""

    automation_id: Id


@final
@attrs.frozen
class AutomationDisabled(_Event):
    """An automation was switched off."""

    automation_id: Id


@final
@attrs.frozen
class AutomationRemoved(_Event):
    """An automation left the workspace: removed, or left with nothing to watch or no target."""

    automation_id: Id


# -- scheduled actions --------------------------------------------------------------


@final
@attrs.frozen
class ActionScheduled(_Event):
    """A lead change matched an automation: its action is due at ``scheduled.due_at``."""

    scheduled: Scheduled


@final
@attrs.frozen
class ActionHandedOver(_Event):
    """A host action fell due and went to the host, which reports back on it."""

    scheduled_id: Id


@final
@attrs.frozen
class ActionCompleted(_Event):
    """A scheduled action was carried out: a move by pipekit, a host action by the host."""

    scheduled_id: Id


@final
@attrs.frozen
class ActionFailed(_Event):
    """A scheduled action could not be carried out.

    ``reason`` is the host's own words for a host action, and for a move the
    rules refused the ``code`` of the error they raised (``"unknown_stage"``...).
    """

    scheduled_id: Id
    reason: str


@final
@attrs.frozen
class ActionCancelled(_Event):
    """A scheduled action will not happen: its lead left, or its automation changed or went."""

    scheduled_id: Id


@final
@attrs.frozen
class AutomationLoopStopped(_Event):
    """Within one run, a lead came back to an automation it had passed: that action was cancelled.

    ``automation_ids`` are the automations the lead passed through in that run, in
    the order they ran; the stopped item's automation is one of them.
    """

    scheduled_id: Id
    lead_id: Id
    automation_ids: tuple[Id, ...]


Event: TypeAlias = (
    StageAdded
    | StageRenamed
    | StageRecolored
    | StageMoved
    | StageDeleted
    | LeadsRelocated
    | IncomingStageEnabled
    | IncomingStageDisabled
    | PipelineCreated
    | PipelineRenamed
    | PipelineMoved
    | MainPipelineSet
    | PipelineDeleted
    | LeadCreated
    | LeadMoved
    | LeadAccepted
    | LeadDeclined
    | LeadDeleted
    | LossReasonAdded
    | LossReasonRenamed
    | LossReasonDeleted
    | AutomationAdded
    | AutomationUpdated
    | AutomationEnabled
    | AutomationDisabled
    | AutomationRemoved
    | ActionScheduled
    | ActionHandedOver
    | ActionCompleted
    | ActionFailed
    | ActionCancelled
    | AutomationLoopStopped
)
"""Any event :func:`pipekit.apply` emits."""
