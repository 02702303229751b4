"""Commands: what a person or a service asks the workspace to do, as plain data.

A command says what should happen, in the imperative (``MoveLead``); pass it to
:func:`pipekit.apply` with the time it happens, and get back the new workspace
and the events that record what did happen. Commands check nothing when built:
``apply`` checks them against the workspace, where the rules can be seen. The one
exception is :class:`RenameTerminal`'s ``outcome``, whose type cannot say "won or
lost": a command that names another kind could never be carried out.

>>> from pipekit import MoveLead
>>> MoveLead(lead_id=7, stage_id=145)
MoveLead(lead_id=7, stage_id=145, pipeline_id=None, expected_version=None)
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeAlias, final

import attrs

from pipekit.automation import Action, Trigger
from pipekit.bounds import Delay, Id, Price, Revision
from pipekit.color import Color
from pipekit.stage import Outcome, StageKind, check_outcome

__all__ = [
    "AcceptLead",
    "AddAutomation",
    "AddLossReason",
    "AddStage",
    "Command",
    "CompleteAction",
    "CreateLead",
    "CreatePipeline",
    "DeclineLead",
    "DeleteLead",
    "DeleteLossReason",
    "DeletePipeline",
    "DeleteStage",
    "DisableAutomation",
    "DisableIncoming",
    "EnableAutomation",
    "EnableIncoming",
    "FailAction",
    "LoseLead",
    "MoveLead",
    "MovePipeline",
    "MoveStage",
    "RecolorStage",
    "RemoveAutomation",
    "RenameLossReason",
    "RenamePipeline",
    "RenameStage",
    "RenameTerminal",
    "RunDue",
    "SetMainPipeline",
    "UpdateAutomation",
    "WinLead",
]

# -- stages -------------------------------------------------------------------------


@final
@attrs.frozen
class AddStage:
    """Add an open stage to a pipeline (see :func:`pipekit.add_stage`)."""

    pipeline_id: Id
    name: str
    position: int | None = None
    color: Color | str | None = None
    stage_id: Id | None = None


@final
@attrs.frozen
class RenameStage:
    """Rename a stage (see :func:`pipekit.rename_stage`)."""

    pipeline_id: Id
    stage_id: Id
    name: str


@final
@attrs.frozen
class RecolorStage:
    """Recolour an open stage (see :func:`pipekit.recolor_stage`)."""

    pipeline_id: Id
    stage_id: Id
    color: Color | str


@final
@attrs.frozen
class MoveStage:
    """Move an open stage to another position (see :func:`pipekit.move_stage`)."""

    pipeline_id: Id
    stage_id: Id
    position: int


@final
@attrs.frozen
class DeleteStage:
    """Delete an open stage, moving its leads to ``move_leads_to`` or the first open stage left."""

    pipeline_id: Id
    stage_id: Id
    move_leads_to: Id | None = None


def _terminal_kind(_command: object, _field: object, value: StageKind) -> None:
    if isinstance(value, StageKind):  # another type is apply's to refuse
        check_outcome(value)


@final
@attrs.frozen
class RenameTerminal:
    """Rename the won or lost stage of a pipeline (see :func:`pipekit.rename_terminal`).

    ``outcome`` is ``StageKind.WON`` or ``StageKind.LOST``; another kind raises
    :class:`~pipekit.InvalidOutcome` here, when the command is built (a value of
    another type raises :class:`TypeError` in ``apply``, as for every command).
    """

    pipeline_id: Id
    outcome: Outcome = attrs.field(validator=_terminal_kind)
    name: str


@final
@attrs.frozen
class EnableIncoming:
    """Switch a pipeline's incoming leads stage on (see :func:`pipekit.enable_incoming`)."""

    pipeline_id: Id
    name: str = "Incoming leads"
    color: Color | str | None = None


@final
@attrs.frozen
class DisableIncoming:
    """Switch a pipeline's incoming leads stage off; refused while leads wait there."""

    pipeline_id: Id


# -- pipelines ----------------------------------------------------------------------


@final
@attrs.frozen
class CreatePipeline:
    """Add a pipeline with the default stages (see :func:`pipekit.default_pipeline`), last."""

    name: str
    incoming: bool = False
    pipeline_id: Id | None = None


@final
@attrs.frozen
class RenamePipeline:
    """Rename a pipeline; pipeline names are unique within the workspace."""

    pipeline_id: Id
    name: str


@final
@attrs.frozen
class MovePipeline:
    """Move a pipeline to *position* (0-based) in the workspace's display order."""

    pipeline_id: Id
    position: int


@final
@attrs.frozen
class SetMainPipeline:
    """Make a pipeline the main one: where new leads go when no pipeline is named."""

    pipeline_id: Id


@final
@attrs.frozen
class DeletePipeline:
    """Delete a pipeline; refused for the last one, the main one, or one holding leads."""

    pipeline_id: Id


# -- leads --------------------------------------------------------------------------
# A command on one existing lead may name, as ``expected_version``, the version of
# the lead its client saw: if the lead changed since, it is refused with
# LeadVersionConflict. Left out, any version will do.


@final
@attrs.frozen
class CreateLead:
    """Create a lead in the first open stage of a pipeline (default: the main one).

    ``stage_id`` names another open stage; ``incoming=True`` puts the lead in the
    pipeline's incoming leads stage instead, to wait to be accepted or declined.
    """

    name: str
    price: Price = 0
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    incoming: bool = False
    lead_id: Id | None = None


@final
@attrs.frozen
class MoveLead:
    """Move a lead to a stage; with another ``pipeline_id``, to a stage of that pipeline."""

    lead_id: Id
    stage_id: Id
    pipeline_id: Id | None = None
    expected_version: Revision | None = None


@final
@attrs.frozen
class WinLead:
    """Move a lead to the won stage of its pipeline."""

    lead_id: Id
    expected_version: Revision | None = None


@final
@attrs.frozen
class LoseLead:
    """Move a lead to the lost stage of its pipeline, with an optional loss reason."""

    lead_id: Id
    loss_reason_id: Id | None = None
    expected_version: Revision | None = None


@final
@attrs.frozen
class AcceptLead:
    """Accept a lead waiting in incoming leads into an open stage (default: the first)."""

    lead_id: Id
    stage_id: Id | None = None
    expected_version: Revision | None = None


@final
@attrs.frozen
class DeclineLead:
    """Decline a lead waiting in incoming leads: it leaves the workspace."""

    lead_id: Id
    expected_version: Revision | None = None


@final
@attrs.frozen
class DeleteLead:
    """Delete a lead, wherever it is."""

    lead_id: Id
    expected_version: Revision | None = None


# -- loss reasons -------------------------------------------------------------------


@final
@attrs.frozen
class AddLossReason:
    """Add a loss reason to the workspace's list; names are unique."""

    name: str
    reason_id: Id | None = None


@final
@attrs.frozen
class RenameLossReason:
    """Rename a loss reason."""

    reason_id: Id
    name: str


@final
@attrs.frozen
class DeleteLossReason:
    """Delete a loss reason; refused while a lead refers to it."""

    reason_id: Id


# -- automations (the Digital Pipeline) ---------------------------------------------


@final
@attrs.frozen
class AddAutomation:
    """Add an automation to a pipeline, enabled, last in creation order.

    It watches ``stage_ids`` (stages of ``pipeline_id``) for ``trigger`` and calls
    for ``action`` ``delay`` later, for leads priced within ``min_price`` and
    ``max_price`` (inclusive; ``None`` for no bound).
    """

    pipeline_id: Id
    stage_ids: tuple[Id, ...]
    trigger: Trigger
    action: Action
    delay: Delay = timedelta(0)
    min_price: Price | None = None
    max_price: Price | None = None
    automation_id: Id | None = None


@final
@attrs.frozen
class UpdateAutomation:
    """Replace an automation's settings, under the rules of :class:`AddAutomation`.

    The pipeline and whether the automation is enabled stay as they are.
    """

    automation_id: Id
    stage_ids: tuple[Id, ...]
    trigger: Trigger
    action: Action
    delay: Delay = timedelta(0)
    min_price: Price | None = None
    max_price: Price | None = None


@final
@attrs.frozen
class EnableAutomation:
    """Switch an automation on."""

    automation_id: Id


@final
@attrs.frozen
class DisableAutomation:
    """Switch an automation off: it keeps its settings and fires for nothing."""

    automation_id: Id


@final
@attrs.frozen
class RemoveAutomation:
    """Remove an automation from the workspace."""

    automation_id: Id


# -- scheduled actions --------------------------------------------------------------


@final
@attrs.frozen
class RunDue:
    """Carry out what is due at the command's time: moves by pipekit, host actions handed over.

    Items are taken one at a time by (due time, id), looking again after each, so
    that what a move schedules with no delay runs in the same call. A move the
    rules refuse ends in :class:`~pipekit.ActionFailed`; a ``RunDue`` never raises
    for what it finds due, and always ends (see :class:`~pipekit.AutomationLoopStopped`).
    """


@final
@attrs.frozen
class CompleteAction:
    """Report that the host carried out the handed-over action *scheduled_id*."""

    scheduled_id: Id


@final
@attrs.frozen
class FailAction:
    """Report that the host could not carry out the handed-over action *scheduled_id*.

    ``reason`` is the host's own words for what went wrong (at most 1000 characters).
    """

    scheduled_id: Id
    reason: str


Command: TypeAlias = (
    AddStage
    | RenameStage
    | RecolorStage
    | MoveStage
    | DeleteStage
    | RenameTerminal
    | EnableIncoming
    | DisableIncoming
    | CreatePipeline
    | RenamePipeline
    | MovePipeline
    | SetMainPipeline
    | DeletePipeline
    | CreateLead
    | MoveLead
    | WinLead
    | LoseLead
    | AcceptLead
    | DeclineLead
    | DeleteLead
    | AddLossReason
    | RenameLossReason
    | DeleteLossReason
    | AddAutomation
    | UpdateAutomation
    | EnableAutomation
    | DisableAutomation
    | RemoveAutomation
    | RunDue
    | CompleteAction
    | FailAction
)
"""Any command :func:`pipekit.apply` accepts."""
