"""The workspace and ``apply``, run side by side with a naive model of a workspace.

The model keeps pipelines as lists of stage dicts, leads as a dict of dicts and
loss reasons as a list, and changes them in place by the rules of the leads and
pipelines issue (W1-W7), written as plainly as the issue states them and checked in
the order docs/rules.md gives ("The order of checks"). For each command it predicts
either the exact error class or the new state. After every step the real workspace
must agree with the model, and the cross-object rules must hold on the real
workspace by themselves.

The Digital Pipeline's scheduled actions are a dict of dicts in the model: every lead
change is matched by a loop over all the automations, and ``RunDue`` by a loop that
looks at every item each time round (D7, D8). The model also writes down the
scheduling events it expects, which the real events must match one for one.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import signal
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Final, TypedDict, cast

import attrs
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pipekit import (
    KOMMO_PALETTE,
    MAX_AUTOMATIONS,
    MAX_PIPELINES,
    MAX_STAGES,
    AcceptLead,
    ActionCancelled,
    ActionCompleted,
    ActionFailed,
    ActionHandedOver,
    ActionScheduled,
    AddAutomation,
    AddLossReason,
    AddStage,
    AutomationLimitReached,
    AutomationLoopStopped,
    Color,
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
    DuplicateAutomationId,
    DuplicateLeadId,
    DuplicateLossReasonId,
    DuplicateName,
    DuplicatePipelineId,
    DuplicateStageId,
    EnableAutomation,
    EnableIncoming,
    Event,
    FailAction,
    HostAction,
    IncomingDisabled,
    IncomingNotEmpty,
    InvalidColor,
    InvalidDelay,
    InvalidId,
    InvalidName,
    InvalidPrice,
    InvalidPriceRange,
    InvalidStageId,
    InvalidTarget,
    LastOpenStage,
    LastPipeline,
    Lead,
    LeadAccepted,
    LeadCreated,
    LeadMoved,
    LeadNotIncoming,
    LoseLead,
    LossReasonInUse,
    MainPipelineLocked,
    MoveLead,
    MovePipeline,
    MoveStage,
    MoveTo,
    Pipeline,
    PipelineLimitReached,
    PipelineNotEmpty,
    PositionOutOfRange,
    RecolorStage,
    RemoveAutomation,
    RenameLossReason,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RevisionConflict,
    RuleViolation,
    RunDue,
    SetMainPipeline,
    StageKind,
    StageLimitReached,
    StageLocked,
    Trigger,
    UnknownAutomation,
    UnknownLead,
    UnknownLossReason,
    UnknownPipeline,
    UnknownScheduledAction,
    UnknownStage,
    UpdateAutomation,
    WinLead,
    Workspace,
    apply,
    due,
    new_workspace,
    replay,
)
from pipekit.commands import Command
from pipekit.evolve import evolve
from tests import workspace_strategies as ws
from tests.workspace_strategies import START, ZONES

# -- the model --------------------------------------------------------------------


class NaiveStage(TypedDict):
    id: int
    name: str
    color: str
    kind: str


class NaivePipeline(TypedDict):
    id: int
    name: str
    stages: list[NaiveStage]
    next_stage_id: int


class NaiveLead(TypedDict):
    id: int
    name: str
    pipeline_id: int
    stage_id: int
    price: int
    created_at: datetime
    stage_entered_at: datetime
    closed_at: datetime | None
    loss_reason_id: int | None


class NaiveReason(TypedDict):
    id: int
    name: str


class NaiveAutomation(TypedDict):
    id: int
    pipeline_id: int
    stage_ids: list[int]
    trigger: str
    action: object
    delay: timedelta
    min_price: int | None
    max_price: int | None
    enabled: bool


class NaiveItem(TypedDict):
    id: int
    automation_id: int
    lead_id: int
    due_at: datetime
    action: object
    handed_over_at: datetime | None


class Refused(Exception):
    """The model refuses a command with *error*, the class ``apply`` must raise."""

    def __init__(self, error: type[Exception]) -> None:
        self.error = error


PALETTE: Final = [color.hex for color in KOMMO_PALETTE]
CLOSED: Final = ("won", "lost")


def default_stages() -> list[NaiveStage]:
    return [
        {"id": 144, "name": "Initial Contact", "color": "#fffeb2", "kind": "open"},
        {"id": 145, "name": "Offer Made", "color": "#fffd7f", "kind": "open"},
        {"id": 146, "name": "Negotiation", "color": "#fff000", "kind": "open"},
        {"id": 142, "name": "Closed - won", "color": "#ccff66", "kind": "won"},
        {"id": 143, "name": "Closed - lost", "color": "#d5d8db", "kind": "lost"},
    ]


def clean(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise Refused(InvalidName)
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in name):
        raise Refused(InvalidName)
    return name


def key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def parse_color(value: Color | str) -> str:
    text = value.hex if isinstance(value, Color) else value
    digits = text[1:].lower()
    if not text.startswith("#") or len(digits) not in (3, 6):
        raise Refused(InvalidColor)
    if any(c not in "0123456789abcdef" for c in digits):
        raise Refused(InvalidColor)
    return "#" + "".join(c * 2 for c in digits) if len(digits) == 3 else "#" + digits


def unique(name: str, taken: list[tuple[int, str]], except_id: int | None = None) -> None:
    """Refuse *name* if it clashes with a name in *taken* (id, name), other than *except_id*'s."""
    for item_id, other in taken:
        if item_id != except_id and key(other) == key(name):
            raise Refused(DuplicateName)


def opens(pipeline: NaivePipeline) -> list[NaiveStage]:
    return [stage for stage in pipeline["stages"] if stage["kind"] == "open"]


def incoming_of(pipeline: NaivePipeline) -> NaiveStage | None:
    first = pipeline["stages"][0]
    return first if first["kind"] == "incoming" else None


def find_stage(pipeline: NaivePipeline, stage_id: int) -> NaiveStage:
    for stage in pipeline["stages"]:
        if stage["id"] == stage_id:
            return stage
    raise Refused(UnknownStage)


def new_id(
    value: int | None,
    taken: list[int],
    counter: int,
    invalid: type[Exception],
    duplicate: type[Exception],
) -> tuple[int, int]:
    """Return the id of a new thing and the counter after it (W6)."""
    if value is None:
        return counter, counter + 1
    if value < 1:
        raise Refused(invalid)
    if value in taken:
        raise Refused(duplicate)
    return value, max(counter, value + 1)


class NaiveWorkspace:
    """A workspace in plain dicts and lists, changed in place by plainly written rules."""

    def __init__(self, incoming: bool) -> None:
        self.pipelines: list[NaivePipeline] = [self.new_pipeline(1, "Pipeline", incoming)]
        self.main = 1
        self.leads: dict[int, NaiveLead] = {}
        self.reasons: list[NaiveReason] = []
        self.revision = 0
        self.next_pipeline_id = 2
        self.next_lead_id = 1
        self.next_reason_id = 1
        self.automations: list[NaiveAutomation] = []
        self.next_automation_id = 1
        self.scheduled: dict[int, NaiveItem] = {}
        self.next_scheduled_id = 1
        # The scheduling events of the command being applied, as :func:`told` writes them.
        self.told: list[tuple[object, ...]] = []

    def copy(self) -> NaiveWorkspace:
        """A copy that shares nothing this one changes in place (datetimes never change)."""
        other = copy.copy(self)
        other.pipelines = [
            {**pipeline, "stages": [{**stage} for stage in pipeline["stages"]]}
            for pipeline in self.pipelines
        ]
        other.leads = {lead_id: {**lead} for lead_id, lead in self.leads.items()}
        other.reasons = [{**reason} for reason in self.reasons]
        other.automations = [
            {**automation, "stage_ids": list(automation["stage_ids"])}
            for automation in self.automations
        ]
        other.scheduled = {item_id: {**item} for item_id, item in self.scheduled.items()}
        other.told = []
        return other

    def state(self) -> dict[str, object]:
        """Everything the workspace shows, in the form :func:`observe` gives the real one.

        A new dict of the model's parts (not copies of them).
        """
        return {
            "pipelines": self.pipelines,
            "main": self.main,
            "leads": self.leads,
            "reasons": self.reasons,
            "revision": self.revision,
            "counters": (self.next_pipeline_id, self.next_lead_id, self.next_reason_id),
            "automations": self.automations,
            "next_automation_id": self.next_automation_id,
            "scheduled": sorted(self.scheduled.values(), key=by_due_time),
            "next_scheduled_id": self.next_scheduled_id,
        }

    def due(self, now: datetime) -> list[int]:
        """The ids of the items not handed over that are due at *now*, by due time then id."""
        waiting = [item for item in self.scheduled.values() if item["handed_over_at"] is None]
        return [item["id"] for item in sorted(waiting, key=by_due_time) if item["due_at"] <= now]

    # -- lookups ------------------------------------------------------------------

    def new_pipeline(self, pipeline_id: int, name: str, incoming: bool) -> NaivePipeline:
        pipeline: NaivePipeline = {
            "id": pipeline_id,
            "name": name,
            "stages": default_stages(),
            "next_stage_id": 147,
        }
        if incoming:
            self.enable(pipeline, "Incoming leads", None)
        return pipeline

    def pipeline(self, pipeline_id: int) -> NaivePipeline:
        for pipeline in self.pipelines:
            if pipeline["id"] == pipeline_id:
                return pipeline
        raise Refused(UnknownPipeline)

    def lead(self, lead_id: int) -> NaiveLead:
        if lead_id not in self.leads:
            raise Refused(UnknownLead)
        return self.leads[lead_id]

    def reason(self, reason_id: int) -> NaiveReason:
        for reason in self.reasons:
            if reason["id"] == reason_id:
                return reason
        raise Refused(UnknownLossReason)

    def leads_in(self, pipeline_id: int, stage_id: int) -> list[NaiveLead]:
        return [
            lead
            for lead_id, lead in sorted(self.leads.items())
            if (lead["pipeline_id"], lead["stage_id"]) == (pipeline_id, stage_id)
        ]

    def kind_of(self, lead: NaiveLead) -> str:
        return find_stage(self.pipeline(lead["pipeline_id"]), lead["stage_id"])["kind"]

    # -- applying -------------------------------------------------------------------

    def applied(
        self, command: Command, at: datetime, expected_revision: int | None
    ) -> NaiveWorkspace:
        """Return a copy with *command* applied, or raise :class:`Refused` as ``apply`` must."""
        if expected_revision is not None and expected_revision != self.revision:
            raise Refused(RevisionConflict)
        after = self.copy()
        after.dispatch(command, at)
        if after.state() != self.state():
            after.revision += 1
        return after

    def dispatch(self, command: Command, at: datetime) -> None:
        match command:
            case AddStage():
                self.add_stage(command)
            case RenameStage():
                self.rename_stage(
                    self.pipeline(command.pipeline_id), command.stage_id, command.name
                )
            case RecolorStage():
                self.recolor_stage(command)
            case MoveStage():
                self.move_stage(command)
            case DeleteStage():
                self.delete_stage(command, at)
            case RenameTerminal():
                pipeline = self.pipeline(command.pipeline_id)
                if command.outcome not in (StageKind.WON, StageKind.LOST):
                    raise Refused(ValueError)
                index = -2 if command.outcome is StageKind.WON else -1
                self.rename_stage(pipeline, pipeline["stages"][index]["id"], command.name)
            case EnableIncoming():
                pipeline = self.pipeline(command.pipeline_id)
                self.enable(pipeline, command.name, command.color)
            case DisableIncoming():
                self.disable_incoming(command)
            case CreatePipeline():
                self.create_pipeline(command)
            case RenamePipeline():
                pipeline = self.pipeline(command.pipeline_id)
                name = clean(command.name)
                unique(name, [(p["id"], p["name"]) for p in self.pipelines], pipeline["id"])
                pipeline["name"] = name
            case MovePipeline():
                pipeline = self.pipeline(command.pipeline_id)
                if not 0 <= command.position < len(self.pipelines):
                    raise Refused(PositionOutOfRange)
                self.pipelines.remove(pipeline)
                self.pipelines.insert(command.position, pipeline)
            case SetMainPipeline():
                self.main = self.pipeline(command.pipeline_id)["id"]
            case DeletePipeline():
                self.delete_pipeline(command)
            case CreateLead():
                self.create_lead(command, at)
            case MoveLead():
                self.move_lead(command, at)
            case WinLead():
                self.win_lead(command, at)
            case LoseLead():
                self.lose_lead(command, at)
            case AcceptLead():
                self.accept_lead(command, at)
            case DeclineLead():
                lead = self.lead(command.lead_id)
                if self.kind_of(lead) != "incoming":
                    raise Refused(LeadNotIncoming)
                self.delete_lead(lead["id"])
            case DeleteLead():
                self.delete_lead(self.lead(command.lead_id)["id"])
            case AddLossReason():
                self.add_reason(command)
            case RenameLossReason():
                reason = self.reason(command.reason_id)
                name = clean(command.name)
                unique(name, [(r["id"], r["name"]) for r in self.reasons], reason["id"])
                reason["name"] = name
            case DeleteLossReason():
                reason = self.reason(command.reason_id)
                if any(lead["loss_reason_id"] == reason["id"] for lead in self.leads.values()):
                    raise Refused(LossReasonInUse)
                self.reasons.remove(reason)
            case AddAutomation():
                self.add_automation(command)
            case UpdateAutomation():
                self.update_automation(command)
            case EnableAutomation():
                self.automation(command.automation_id)["enabled"] = True
            case DisableAutomation():
                automation = self.automation(command.automation_id)
                if automation["enabled"]:
                    self.cancel_waiting_items_of(automation["id"])
                automation["enabled"] = False
            case RemoveAutomation():
                automation = self.automation(command.automation_id)
                self.cancel_waiting_items_of(automation["id"])
                self.automations.remove(automation)
            case RunDue():
                self.run_due(at)
            case CompleteAction():
                item = self.handed_over(command.scheduled_id)
                del self.scheduled[item["id"]]
                self.told.append(("ActionCompleted", item["id"]))
            case FailAction():
                if len(command.reason) > 1000:
                    raise Refused(ValueError)
                item = self.handed_over(command.scheduled_id)
                del self.scheduled[item["id"]]
                self.told.append(("ActionFailed", item["id"], command.reason))

    # -- stages (the core's rules, R1-R10) --------------------------------------------

    def add_stage(self, command: AddStage) -> None:
        pipeline = self.pipeline(command.pipeline_id)
        stages = pipeline["stages"]
        if len(stages) >= MAX_STAGES:
            raise Refused(StageLimitReached)
        name = clean(command.name)
        unique(name, [(s["id"], s["name"]) for s in stages])
        open_count = len(opens(pipeline))
        position = open_count if command.position is None else command.position
        if not 0 <= position <= open_count:
            raise Refused(PositionOutOfRange)
        if command.color is None:
            # The least used palette colour, first in palette order.
            counts = Counter(s["color"] for s in stages)
            uses = [counts[color] for color in PALETTE]
            color = PALETTE[uses.index(min(uses))]
        else:
            color = parse_color(command.color)
        stage_id, pipeline["next_stage_id"] = new_id(
            command.stage_id,
            [s["id"] for s in stages],
            pipeline["next_stage_id"],
            InvalidStageId,
            DuplicateStageId,
        )
        first_open = 1 if incoming_of(pipeline) else 0
        stages.insert(
            first_open + position, {"id": stage_id, "name": name, "color": color, "kind": "open"}
        )

    def rename_stage(self, pipeline: NaivePipeline, stage_id: int, name: str) -> None:
        stage = find_stage(pipeline, stage_id)
        if stage["kind"] == "incoming":
            raise Refused(StageLocked)
        name = clean(name)
        unique(name, [(s["id"], s["name"]) for s in pipeline["stages"]], stage_id)
        stage["name"] = name

    def recolor_stage(self, command: RecolorStage) -> None:
        stage = find_stage(self.pipeline(command.pipeline_id), command.stage_id)
        if stage["kind"] != "open":
            raise Refused(StageLocked)
        stage["color"] = parse_color(command.color)

    def move_stage(self, command: MoveStage) -> None:
        pipeline = self.pipeline(command.pipeline_id)
        stage = find_stage(pipeline, command.stage_id)
        if stage["kind"] != "open":
            raise Refused(StageLocked)
        open_count = len(opens(pipeline))
        if not 0 <= command.position < open_count:
            raise Refused(PositionOutOfRange)
        pipeline["stages"].remove(stage)
        first_open = 1 if incoming_of(pipeline) else 0
        pipeline["stages"].insert(first_open + command.position, stage)

    def delete_stage(self, command: DeleteStage, at: datetime) -> None:
        pipeline = self.pipeline(command.pipeline_id)
        stage = find_stage(pipeline, command.stage_id)
        if stage["kind"] != "open":
            raise Refused(StageLocked)
        if len(opens(pipeline)) == 1:
            raise Refused(LastOpenStage)
        if command.move_leads_to is None:
            target = next(s for s in opens(pipeline) if s is not stage)
        else:
            target = find_stage(pipeline, command.move_leads_to)
            if target is stage or target["kind"] != "open":
                raise Refused(InvalidTarget)
        # The leads meet the automations as they were before the stage went (D7).
        automations_before: list[NaiveAutomation] = [
            {**a, "stage_ids": list(a["stage_ids"])} for a in self.automations
        ]
        removed = self.let_go(pipeline["id"], stage["id"])
        # W2: the leads go to the target, nothing lost; they enter it now.
        for lead in self.leads_in(pipeline["id"], stage["id"]):
            lead["stage_id"] = target["id"]
            lead["stage_entered_at"] = at
            origin = (pipeline["id"], stage["id"])
            self.lead_changed(lead, origin, at, automations_before, silenced=removed)
        pipeline["stages"].remove(stage)

    def let_go(self, pipeline_id: int, stage_id: int) -> list[int]:
        """A stage goes: watchers stop watching it; those left with none, or moving there, go.

        The removed automations' items not handed over are cancelled; return their ids.
        """
        removed = []
        for automation in list(self.automations):
            if target_of(automation) == (pipeline_id, stage_id):
                removed.append(automation["id"])
            elif automation["pipeline_id"] == pipeline_id and stage_id in automation["stage_ids"]:
                automation["stage_ids"].remove(stage_id)
                if not automation["stage_ids"]:
                    removed.append(automation["id"])
        for automation_id in removed:
            self.cancel_waiting_items_of(automation_id)
            self.automations.remove(self.automation(automation_id))
        return removed

    def enable(self, pipeline: NaivePipeline, name: str, color: Color | str | None) -> None:
        if incoming_of(pipeline) is not None:
            return
        if len(pipeline["stages"]) >= MAX_STAGES:
            raise Refused(StageLimitReached)
        name = clean(name)
        unique(name, [(s["id"], s["name"]) for s in pipeline["stages"]])
        chosen = "#c1c1c1" if color is None else parse_color(color)
        stage_id = pipeline["next_stage_id"]
        pipeline["next_stage_id"] += 1
        pipeline["stages"].insert(
            0, {"id": stage_id, "name": name, "color": chosen, "kind": "incoming"}
        )

    def disable_incoming(self, command: DisableIncoming) -> None:
        pipeline = self.pipeline(command.pipeline_id)
        incoming = incoming_of(pipeline)
        if incoming is None:
            return
        if self.leads_in(pipeline["id"], incoming["id"]):
            raise Refused(IncomingNotEmpty)
        self.let_go(pipeline["id"], incoming["id"])
        pipeline["stages"].remove(incoming)

    # -- pipelines (W3) ------------------------------------------------------------

    def create_pipeline(self, command: CreatePipeline) -> None:
        if len(self.pipelines) >= MAX_PIPELINES:
            raise Refused(PipelineLimitReached)
        name = clean(command.name)
        unique(name, [(p["id"], p["name"]) for p in self.pipelines])
        pipeline_id, self.next_pipeline_id = new_id(
            command.pipeline_id,
            [p["id"] for p in self.pipelines],
            self.next_pipeline_id,
            InvalidId,
            DuplicatePipelineId,
        )
        self.pipelines.append(self.new_pipeline(pipeline_id, name, command.incoming))

    def delete_pipeline(self, command: DeletePipeline) -> None:
        pipeline = self.pipeline(command.pipeline_id)
        if len(self.pipelines) == 1:
            raise Refused(LastPipeline)
        if pipeline["id"] == self.main:
            raise Refused(MainPipelineLocked)
        if any(lead["pipeline_id"] == pipeline["id"] for lead in self.leads.values()):
            raise Refused(PipelineNotEmpty)
        self.pipelines.remove(pipeline)
        for automation in list(self.automations):
            target = target_of(automation)
            if automation["pipeline_id"] == pipeline["id"] or (
                target is not None and target[0] == pipeline["id"]
            ):
                self.cancel_waiting_items_of(automation["id"])
                self.automations.remove(automation)

    # -- leads (W4, W5) --------------------------------------------------------------

    def create_lead(self, command: CreateLead, at: datetime) -> None:
        name = clean(command.name)
        if command.price < 0:
            raise Refused(InvalidPrice)
        pipeline_id = self.main if command.pipeline_id is None else command.pipeline_id
        pipeline = self.pipeline(pipeline_id)
        if command.incoming:
            if command.stage_id is not None:
                raise Refused(InvalidTarget)
            stage = incoming_of(pipeline)
            if stage is None:
                raise Refused(IncomingDisabled)
        elif command.stage_id is None:
            stage = opens(pipeline)[0]
        else:
            stage = find_stage(pipeline, command.stage_id)
            if stage["kind"] != "open":
                raise Refused(InvalidTarget)
        lead_id, self.next_lead_id = new_id(
            command.lead_id, list(self.leads), self.next_lead_id, InvalidId, DuplicateLeadId
        )
        self.leads[lead_id] = {
            "id": lead_id,
            "name": name,
            "pipeline_id": pipeline_id,
            "stage_id": stage["id"],
            "price": command.price,
            "created_at": at,
            "stage_entered_at": at,
            "closed_at": None,
            "loss_reason_id": None,
        }
        self.lead_changed(self.leads[lead_id], None, at)

    def enter(self, lead: NaiveLead, pipeline_id: int, stage: NaiveStage, at: datetime) -> None:
        """Put *lead* in another stage: it enters it now, closes or reopens (W5)."""
        origin = (lead["pipeline_id"], lead["stage_id"])
        lead["pipeline_id"] = pipeline_id
        lead["stage_id"] = stage["id"]
        lead["stage_entered_at"] = at
        lead["closed_at"] = at if stage["kind"] in CLOSED else None
        lead["loss_reason_id"] = None
        self.lead_changed(lead, origin, at)

    def move_lead(self, command: MoveLead, at: datetime) -> None:
        lead = self.lead(command.lead_id)
        pipeline_id = lead["pipeline_id"] if command.pipeline_id is None else command.pipeline_id
        target = find_stage(self.pipeline(pipeline_id), command.stage_id)
        if self.kind_of(lead) == "incoming" or target["kind"] == "incoming":
            raise Refused(StageLocked)
        if (lead["pipeline_id"], lead["stage_id"]) != (pipeline_id, target["id"]):
            self.enter(lead, pipeline_id, target, at)

    def win_lead(self, command: WinLead, at: datetime) -> None:
        lead = self.lead(command.lead_id)
        if self.kind_of(lead) == "incoming":
            raise Refused(StageLocked)
        won = self.pipeline(lead["pipeline_id"])["stages"][-2]
        if lead["stage_id"] != won["id"]:
            self.enter(lead, lead["pipeline_id"], won, at)

    def lose_lead(self, command: LoseLead, at: datetime) -> None:
        lead = self.lead(command.lead_id)
        if self.kind_of(lead) == "incoming":
            raise Refused(StageLocked)
        if command.loss_reason_id is not None:
            self.reason(command.loss_reason_id)
        lost = self.pipeline(lead["pipeline_id"])["stages"][-1]
        if lead["stage_id"] != lost["id"]:
            self.enter(lead, lead["pipeline_id"], lost, at)
        # Already in lost: only the reason changes (W5).
        lead["loss_reason_id"] = command.loss_reason_id

    def accept_lead(self, command: AcceptLead, at: datetime) -> None:
        lead = self.lead(command.lead_id)
        if self.kind_of(lead) != "incoming":
            raise Refused(LeadNotIncoming)
        pipeline = self.pipeline(lead["pipeline_id"])
        if command.stage_id is None:
            target = opens(pipeline)[0]
        else:
            target = find_stage(pipeline, command.stage_id)
            if target["kind"] != "open":
                raise Refused(InvalidTarget)
        self.enter(lead, pipeline["id"], target, at)

    # -- loss reasons (W5) ------------------------------------------------------------

    def add_reason(self, command: AddLossReason) -> None:
        name = clean(command.name)
        unique(name, [(r["id"], r["name"]) for r in self.reasons])
        reason_id, self.next_reason_id = new_id(
            command.reason_id,
            [r["id"] for r in self.reasons],
            self.next_reason_id,
            InvalidId,
            DuplicateLossReasonId,
        )
        self.reasons.append({"id": reason_id, "name": name})

    # -- automations (D1-D5) -----------------------------------------------------------

    def automation(self, automation_id: int) -> NaiveAutomation:
        for automation in self.automations:
            if automation["id"] == automation_id:
                return automation
        raise Refused(UnknownAutomation)

    def add_automation(self, command: AddAutomation) -> None:
        pipeline = self.pipeline(command.pipeline_id)
        if sum(a["pipeline_id"] == pipeline["id"] for a in self.automations) >= MAX_AUTOMATIONS:
            raise Refused(AutomationLimitReached)
        automation_id, counter = new_id(
            command.automation_id,
            [a["id"] for a in self.automations],
            self.next_automation_id,
            InvalidId,
            DuplicateAutomationId,
        )
        automation = self.settings(command, pipeline["id"], automation_id, enabled=True)
        self.automations.append(automation)
        self.next_automation_id = counter

    def update_automation(self, command: UpdateAutomation) -> None:
        old = self.automation(command.automation_id)
        new = self.settings(command, old["pipeline_id"], old["id"], enabled=old["enabled"])
        if new != old:
            self.cancel_waiting_items_of(old["id"])
        old.update(new)

    def settings(
        self,
        command: AddAutomation | UpdateAutomation,
        pipeline_id: int,
        automation_id: int,
        *,
        enabled: bool,
    ) -> NaiveAutomation:
        """The automation a command describes, or why it is refused.

        In the order of docs/rules.md: the value's own checks in field order (D5), the
        stages and the target (D1), then incoming leads (D2).
        """
        if command.delay < timedelta(0):
            raise Refused(InvalidDelay)
        for price in (command.min_price, command.max_price):
            if price is not None and price < 0:
                raise Refused(InvalidPrice)
        if not command.stage_ids or len(set(command.stage_ids)) < len(command.stage_ids):
            raise Refused(InvalidTarget)
        low, high = command.min_price, command.max_price
        if low is not None and high is not None and low > high:
            raise Refused(InvalidPriceRange)
        pipeline = self.pipeline(pipeline_id)
        everywhere = {s["id"] for p in self.pipelines for s in p["stages"]}
        for stage_id in command.stage_ids:
            if stage_id not in [s["id"] for s in pipeline["stages"]]:
                raise Refused(InvalidTarget if stage_id in everywhere else UnknownStage)
        automation: NaiveAutomation = {
            "id": automation_id,
            "pipeline_id": pipeline_id,
            "stage_ids": list(command.stage_ids),
            "trigger": command.trigger.value,
            "action": command.action,
            "delay": command.delay,
            "min_price": low,
            "max_price": high,
            "enabled": enabled,
        }
        target = target_of(automation)
        if target is not None:
            target_stage = find_stage(self.pipeline(target[0]), target[1])
            incoming = incoming_of(pipeline)
            if incoming is not None and incoming["id"] in command.stage_ids:
                raise Refused(InvalidTarget)
            if target_stage["kind"] == "incoming":
                raise Refused(InvalidTarget)
        return automation

    # -- scheduled actions (D6-D8) -------------------------------------------------------

    def lead_changed(
        self,
        lead: NaiveLead,
        origin: tuple[int, int] | None,
        at: datetime,
        automations: list[NaiveAutomation] | None = None,
        silenced: list[int] | None = None,
    ) -> None:
        """*lead* was just created (*origin* None) or moved from *origin*: cancel, then schedule.

        Matched against *automations* (the workspace's, unless given); those in
        *silenced* are about to be removed and fire nothing.
        """
        automations = self.automations if automations is None else automations
        place = (lead["pipeline_id"], lead["stage_id"])
        if origin is not None:
            # Leaving the region ends what entering it scheduled; LEFT items survive.
            for item in sorted(self.scheduled.values(), key=lambda item: item["id"]):
                if item["lead_id"] != lead["id"] or item["handed_over_at"] is not None:
                    continue
                automation = next(a for a in automations if a["id"] == item["automation_id"])
                if automation["trigger"] != "left" and place not in region(automation):
                    self.cancel(item["id"])
        leaving: list[NaiveAutomation] = []
        entering: list[NaiveAutomation] = []
        for automation in automations:
            if not automation["enabled"] or automation["id"] in (silenced or []):
                continue
            if not price_fits(automation, lead):
                continue
            was_in = origin in region(automation)
            is_in = place in region(automation)
            trigger = automation["trigger"]
            if origin is None:  # created
                fires = is_in and trigger in ("created", "entered")
            elif trigger == "left":
                fires = was_in and not is_in
            else:
                fires = is_in and not was_in and trigger in ("moved_in", "entered")
            if fires:
                (leaving if trigger == "left" else entering).append(automation)
        for automation in leaving + entering:
            item_id = self.next_scheduled_id
            self.next_scheduled_id += 1
            self.scheduled[item_id] = {
                "id": item_id,
                "automation_id": automation["id"],
                "lead_id": lead["id"],
                "due_at": at + automation["delay"],
                "action": automation["action"],
                "handed_over_at": None,
            }
            self.told.append(
                ("ActionScheduled", item_id, automation["id"], lead["id"], at + automation["delay"])
            )

    def cancel(self, item_id: int) -> None:
        del self.scheduled[item_id]
        self.told.append(("ActionCancelled", item_id))

    def cancel_waiting_items_of(self, automation_id: int) -> None:
        for item_id, item in sorted(self.scheduled.items()):
            if item["automation_id"] == automation_id and item["handed_over_at"] is None:
                self.cancel(item_id)

    def delete_lead(self, lead_id: int) -> None:
        """A lead goes, and every item of it, handed over or not, before it."""
        for item_id, item in sorted(self.scheduled.items()):
            if item["lead_id"] == lead_id:
                self.cancel(item_id)
        del self.leads[lead_id]

    def handed_over(self, item_id: int) -> NaiveItem:
        item = self.scheduled.get(item_id)
        if item is None or item["handed_over_at"] is None:
            raise Refused(UnknownScheduledAction)
        return item

    def run_due(self, at: datetime) -> None:
        """Take the first item due, carry it out, look again: until nothing is due at *at*."""
        first_new_id = self.next_scheduled_id  # items from here on are scheduled by this run
        passed: dict[int, list[int]] = {}  # per lead, the automations whose items ran for it
        while True:
            due = self.due(at)
            if not due:
                return
            item = self.scheduled[due[0]]
            chain = passed.setdefault(item["lead_id"], [])
            if item["id"] >= first_new_id and item["automation_id"] in chain:
                self.cancel(item["id"])
                self.told.append(
                    ("AutomationLoopStopped", item["id"], item["lead_id"], tuple(chain))
                )
                continue
            chain.append(item["automation_id"])
            if isinstance(item["action"], HostAction):
                item["handed_over_at"] = at
                self.told.append(("ActionHandedOver", item["id"]))
            else:
                self.carry_out_move(item, at)

    def carry_out_move(self, item: NaiveItem, at: datetime) -> None:
        """Move the lead as a MoveLead would, or fail with the code of the refusal."""
        action = item["action"]
        assert isinstance(action, MoveTo)
        # Taken out first, so that the move does not cancel the very item carrying it.
        del self.scheduled[item["id"]]
        automation = self.automation(item["automation_id"])
        pipeline_id = (
            automation["pipeline_id"] if action.pipeline_id is None else action.pipeline_id
        )
        move = MoveLead(item["lead_id"], action.stage_id, pipeline_id=pipeline_id)
        lead = self.leads[item["lead_id"]]
        try:
            self.copy().move_lead(move, at)  # would the rules allow it?
            if (lead["pipeline_id"], lead["stage_id"]) == (pipeline_id, action.stage_id):
                raise Refused(InvalidTarget)  # a move that changes nothing is refused too
        except Refused as refusal:
            code = cast(type[RuleViolation], refusal.error).code
            self.told.append(("ActionFailed", item["id"], code))
            return
        self.told.append(("LeadMoved", lead["id"], pipeline_id, action.stage_id))
        self.told.append(("ActionCompleted", item["id"]))
        self.move_lead(move, at)


def by_due_time(item: NaiveItem) -> tuple[datetime, int]:
    return (item["due_at"], item["id"])


def region(automation: NaiveAutomation) -> list[tuple[int, int]]:
    """The places (pipeline id, stage id) an automation watches, as one region."""
    return [(automation["pipeline_id"], stage_id) for stage_id in automation["stage_ids"]]


def price_fits(automation: NaiveAutomation, lead: NaiveLead) -> bool:
    low, high = automation["min_price"], automation["max_price"]
    return (low is None or low <= lead["price"]) and (high is None or lead["price"] <= high)


def target_of(automation: NaiveAutomation) -> tuple[int, int] | None:
    action = automation["action"]
    if not isinstance(action, MoveTo):
        return None
    return (action.pipeline_id or automation["pipeline_id"], action.stage_id)


# -- reading the real workspace ---------------------------------------------------------


def observe(workspace: Workspace) -> dict[str, object]:
    """The real workspace's public state, in the model's form."""
    return {
        "pipelines": [
            {
                "id": pipeline.id,
                "name": pipeline.name,
                "stages": [
                    {"id": s.id, "name": s.name, "color": s.color.hex, "kind": s.kind.value}
                    for s in pipeline.stages
                ],
                "next_stage_id": pipeline.next_stage_id,
            }
            for pipeline in workspace.pipelines
        ],
        "main": workspace.main_pipeline_id,
        "leads": {lead_id: attrs.asdict(lead) for lead_id, lead in workspace.leads.items()},
        "reasons": [{"id": r.id, "name": r.name} for r in workspace.loss_reasons],
        "revision": workspace.revision,
        "counters": (
            workspace.next_pipeline_id,
            workspace.next_lead_id,
            workspace.next_loss_reason_id,
        ),
        "automations": [
            {
                **attrs.asdict(a, recurse=False),
                "stage_ids": list(a.stage_ids),
                "trigger": a.trigger.value,
            }
            for a in workspace.automations
        ],
        "next_automation_id": workspace.next_automation_id,
        "scheduled": [attrs.asdict(item, recurse=False) for item in workspace.scheduled],
        "next_scheduled_id": workspace.next_scheduled_id,
    }


def without_revision(state: dict[str, object]) -> dict[str, object]:
    return {name: value for name, value in state.items() if name != "revision"}


def raised(action: Callable[[], object]) -> Exception | None:
    """Return what *action* raised, or ``None``."""
    try:
        action()
    except Exception as error:  # every class is compared exactly by the caller
        return error
    return None


@contextlib.contextmanager
def returning_within(seconds: float) -> Iterator[None]:
    """Fail the step, rather than hang the run, if the block takes longer than *seconds*.

    ``RunDue`` must always end; a broken loop rule would make it run forever. Where
    there is no interval timer (Windows, or off the main thread) the block just runs.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise AssertionError(f"apply did not return within {seconds} s: RunDue must always end")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def told(events: Sequence[Event], *, moves: bool) -> list[tuple[object, ...]]:
    """The scheduling events among *events* in the form the model writes them down.

    With *moves*, the lead moves too (those ``RunDue`` carries out). The order of
    the cancellations within one run of them is left open by the rules: sorted here.
    """
    told: list[tuple[object, ...]] = []
    for event in events:
        name = type(event).__name__
        if isinstance(event, ActionScheduled):
            item = event.scheduled
            told.append((name, item.id, item.automation_id, item.lead_id, item.due_at))
        elif isinstance(event, ActionCancelled | ActionHandedOver | ActionCompleted):
            told.append((name, event.scheduled_id))
        elif isinstance(event, ActionFailed):
            told.append((name, event.scheduled_id, event.reason))
        elif isinstance(event, AutomationLoopStopped):
            told.append((name, event.scheduled_id, event.lead_id, event.automation_ids))
        elif isinstance(event, LeadMoved) and moves:
            told.append((name, event.lead_id, event.to_pipeline_id, event.to_stage_id))
    return in_order(told)


def in_order(told: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """*told* with each run of cancellations sorted by id."""
    result: list[tuple[object, ...]] = []
    for cancelling, group in itertools.groupby(
        told, key=lambda entry: entry[0] == "ActionCancelled"
    ):
        run = list(group)
        result.extend(sorted(run, key=lambda entry: cast(int, entry[1])) if cancelling else run)
    return result


SCHEDULING_EVENTS: Final = (
    ActionScheduled,
    ActionCancelled,
    ActionHandedOver,
    ActionCompleted,
    ActionFailed,
    AutomationLoopStopped,
)
# The commands whose own event comes first, then what the lead change schedules and
# cancels; and those whose cancellations come first, then their own event.
LEAD_CHANGES: Final = (CreateLead, MoveLead, WinLead, LoseLead, AcceptLead)
LETTING_GO: Final = (
    DeleteLead,
    DeclineLead,
    UpdateAutomation,
    DisableAutomation,
    RemoveAutomation,
)
# How far the clock moves before a RunDue: not at all, or enough for each delay.
LATER: Final = st.one_of(
    st.sampled_from(
        [timedelta(0), timedelta(0), timedelta(minutes=5), timedelta(hours=3), timedelta(days=1)]
    ),
    st.integers(0, 2 * 86_400).map(lambda seconds: timedelta(seconds=seconds)),
)


def rebuilt(workspace: Workspace, *, leads_as_mapping: bool) -> Workspace:
    """*workspace* built again through the public constructors, from its public fields."""
    pipelines = [
        Pipeline(id=p.id, name=p.name, stages=p.stages, next_stage_id=p.next_stage_id)
        for p in workspace.pipelines
    ]
    leads = [Lead(**attrs.asdict(lead)) for lead in workspace.leads.values()]
    return Workspace(
        pipelines=pipelines,
        main_pipeline_id=workspace.main_pipeline_id,
        leads={lead.id: lead for lead in leads} if leads_as_mapping else leads,
        loss_reasons=workspace.loss_reasons,
        revision=workspace.revision,
        next_pipeline_id=workspace.next_pipeline_id,
        next_lead_id=workspace.next_lead_id,
        next_loss_reason_id=workspace.next_loss_reason_id,
        automations=[attrs.evolve(a) for a in workspace.automations],
        next_automation_id=workspace.next_automation_id,
        scheduled=[attrs.evolve(item) for item in workspace.scheduled],
        next_scheduled_id=workspace.next_scheduled_id,
    )


def totals(workspace: Workspace) -> list[tuple[int, int, int, int]]:
    return [
        (pipeline.id, total.stage_id, total.count, total.total)
        for pipeline in workspace.pipelines
        for total in workspace.stage_totals(pipeline.id)
    ]


# Values of the wrong Python type for each kind of command field (W7: TypeError).
WRONG_TYPES: Final[dict[str, list[object]]] = {
    "int": ["1", 1.0, True],
    "str": [b"Demo", 7, None],
    "bool": [1, "yes", None],
    "color": [0x99CCFF, ("#99ccff",)],
    "outcome": ["won", 142],
    "tuple[int, ...]": [144, ("144",), (1.5,)],
    "Trigger": ["entered", 0],
    "Action": [{"type": "MoveTo", "stage_id": 145}, 145],
    "timedelta": [0, 60.0],
}


def field_kind(annotation: object) -> str:
    text = str(annotation)
    if "Color" in text:
        return "color"
    if "StageKind" in text:
        return "outcome"
    return text.split(" |")[0]


# -- the machine ------------------------------------------------------------------------


class WorkspaceMachine(RuleBasedStateMachine):
    """Random command sequences on a real workspace and on the model, compared at each step."""

    def __init__(self) -> None:
        super().__init__()
        self.workspace = new_workspace()
        self.model = NaiveWorkspace(incoming=False)
        self.zone = ZONES[0]
        self.now = START
        # The step just taken, for the invariants that compare before and after.
        self.observed = observe(self.workspace)
        self.previous, self.previous_state = self.workspace, self.observed
        self.last_command: object = None
        self.last_refused = False
        self.changes = 0
        self.start_scheduling(self.workspace)

    def start_scheduling(self, workspace: Workspace) -> None:
        """Forget the scheduled ids and events seen: the run starts again from *workspace*."""
        self.initial = workspace
        # Every event applied so far, and the workspace they fold into, step by step.
        self.events: list[Event] = []
        self.replayed = workspace
        # Every scheduled id seen, and how each of those that ended did so.
        self.born: set[int] = set()
        self.handed: set[int] = set()
        self.ended: dict[int, str] = {}

    @initialize(
        data=st.data(),
        incoming=st.booleans(),
        zone=st.sampled_from(ZONES),
        pipelines=st.lists(st.booleans(), max_size=3),
        reasons=st.integers(0, 3),
        automations=st.integers(0, 3),
        leads=st.integers(0, 10),
    )
    def start(
        self,
        data: st.DataObject,
        incoming: bool,
        zone: timezone,
        pipelines: list[bool],
        reasons: int,
        automations: int,
        leads: int,
    ) -> None:
        self.workspace = new_workspace(incoming=incoming)
        self.model = NaiveWorkspace(incoming=incoming)
        self.zone = zone
        self.observed = observe(self.workspace)
        self.previous, self.previous_state = self.workspace, self.observed
        self.start_scheduling(self.workspace)
        # Some pipelines, loss reasons, automations and leads from the start, through the
        # commands like everything else, so that most runs have something for each command.
        at = self.tick(data)
        for number, with_incoming in enumerate(pipelines, start=2):
            self.run(CreatePipeline(f"Pipeline {number}", incoming=with_incoming), at)
        for number in range(1, reasons + 1):
            self.run(AddLossReason(f"Reason {number}"), at)
        for _ in range(automations):
            self.run(data.draw(ws.new_automations(self.workspace), label="automation"), at)
        for _ in range(leads):
            self.run(data.draw(ws.new_leads(self.workspace), label="lead"), self.tick(data))

    # -- running one command on both --------------------------------------------------

    def tick(self, data: st.DataObject) -> datetime:
        """Move the clock forward (or not at all) and return the time, in this run's zone."""
        self.now += timedelta(seconds=data.draw(st.integers(0, 86_400), label="seconds later"))
        return self.now.astimezone(self.zone)

    def step(self, data: st.DataObject, strategy: st.SearchStrategy[Command]) -> None:
        self.run(data.draw(strategy, label="command"), self.tick(data))

    def predict(
        self, command: Command, at: datetime, expected: int | None = None
    ) -> NaiveWorkspace | type[Exception]:
        """Return the model after *command*, or the class of the error it is refused with."""
        try:
            return self.model.applied(command, at, expected)
        except Refused as refusal:
            return refusal.error

    def run(self, command: Command, at: datetime, expected: int | None = None) -> None:
        before, before_state = self.workspace, self.observed
        self.previous, self.previous_state, self.last_command = before, before_state, command
        model = self.predict(command, at, expected)
        self.last_refused = not isinstance(model, NaiveWorkspace)
        if not isinstance(model, NaiveWorkspace):
            error = raised(lambda: apply(before, command, at=at, expected_revision=expected))
            got = "accepted it" if error is None else f"raised {error!r}"
            assert type(error) is model, (
                f"{command!r}: the model refuses it with {model.__name__}, apply {got}"
            )
            return
        with returning_within(10):  # RunDue terminates (D8)
            applied = apply(before, command, at=at, expected_revision=expected)
        self.model, self.workspace = model, applied.workspace
        self.observed = observe(applied.workspace)
        changed = without_revision(self.observed) != without_revision(before_state)
        self.changes += changed
        # Events exactly when something changed, each stamped with the new revision and at.
        assert bool(applied.events) == changed, (command, applied.events)
        for event in applied.events:
            assert event.revision == applied.workspace.revision
            assert event.at == at
        if not changed:
            assert applied.workspace is before
        self.check_scheduling(command, applied.events, model)

    def check_scheduling(
        self, command: Command, events: Sequence[Event], model: NaiveWorkspace
    ) -> None:
        """Compare the scheduling events with the model's, and follow each scheduled id."""
        running = isinstance(command, RunDue)
        real = told(events, moves=running)
        assert real == in_order(model.told), (command, events)
        if running:
            # A RunDue emits nothing but moves and scheduling events.
            assert len(real) == len(events), events
        own = [e for e in events if not isinstance(e, SCHEDULING_EVENTS)]
        if isinstance(command, LEAD_CHANGES) and own:
            assert isinstance(events[0], LeadCreated | LeadMoved | LeadAccepted), events
            assert own == [events[0]], events
        if isinstance(command, LETTING_GO) and own:
            assert own == [events[-1]], events
        for event in events:
            if isinstance(event, ActionScheduled):
                assert event.scheduled.id not in self.born, event
                self.born.add(event.scheduled.id)
            elif isinstance(event, ActionHandedOver):
                assert event.scheduled_id in self.born, event
                assert event.scheduled_id not in self.handed, event
                assert event.scheduled_id not in self.ended, event
                self.handed.add(event.scheduled_id)
            elif isinstance(event, ActionCompleted | ActionFailed | ActionCancelled):
                assert event.scheduled_id in self.born, event
                assert event.scheduled_id not in self.ended, (event, self.ended)
                self.ended[event.scheduled_id] = type(event).__name__
            elif isinstance(event, AutomationLoopStopped):
                # Just after the cancellation of the item that would have looped.
                assert self.ended.get(event.scheduled_id) == "ActionCancelled", event
                note("RunDue stopped a loop")
            self.replayed = evolve(self.replayed, event)
            self.events.append(event)
        # Replay equals apply, step by step.
        assert self.replayed == self.workspace

    # -- one rule per command ----------------------------------------------------------

    @rule(data=st.data())
    def add_stage(self, data: st.DataObject) -> None:
        self.step(data, ws.add_stage_commands(self.workspace))

    @rule(data=st.data())
    def rename_stage(self, data: st.DataObject) -> None:
        self.step(data, ws.rename_stage_commands(self.workspace))

    @rule(data=st.data())
    def recolor_stage(self, data: st.DataObject) -> None:
        self.step(data, ws.recolor_stage_commands(self.workspace))

    @rule(data=st.data())
    def move_stage(self, data: st.DataObject) -> None:
        self.step(data, ws.move_stage_commands(self.workspace))

    @rule(data=st.data())
    def delete_stage(self, data: st.DataObject) -> None:
        self.step(data, ws.delete_stage_commands(self.workspace))

    @rule(data=st.data())
    def rename_terminal(self, data: st.DataObject) -> None:
        self.step(data, ws.rename_terminal_commands(self.workspace))

    @rule(data=st.data())
    def enable_incoming(self, data: st.DataObject) -> None:
        self.step(data, ws.enable_incoming_commands(self.workspace))

    @rule(data=st.data())
    def disable_incoming(self, data: st.DataObject) -> None:
        self.step(data, ws.disable_incoming_commands(self.workspace))

    @rule(data=st.data())
    def create_pipeline(self, data: st.DataObject) -> None:
        self.step(data, ws.create_pipeline_commands(self.workspace))

    @rule(data=st.data())
    def rename_pipeline(self, data: st.DataObject) -> None:
        self.step(data, ws.rename_pipeline_commands(self.workspace))

    @rule(data=st.data())
    def move_pipeline(self, data: st.DataObject) -> None:
        self.step(data, ws.move_pipeline_commands(self.workspace))

    @rule(data=st.data())
    def set_main_pipeline(self, data: st.DataObject) -> None:
        self.step(data, ws.set_main_pipeline_commands(self.workspace))

    @rule(data=st.data())
    def delete_pipeline(self, data: st.DataObject) -> None:
        self.step(data, ws.delete_pipeline_commands(self.workspace))

    @rule(data=st.data())
    def create_lead(self, data: st.DataObject) -> None:
        self.step(data, ws.create_lead_commands(self.workspace))

    @rule(data=st.data())
    def move_lead(self, data: st.DataObject) -> None:
        self.step(data, ws.move_lead_commands(self.workspace))

    @rule(data=st.data())
    def win_lead(self, data: st.DataObject) -> None:
        self.step(data, ws.win_lead_commands(self.workspace))

    @rule(data=st.data())
    def lose_lead(self, data: st.DataObject) -> None:
        self.step(data, ws.lose_lead_commands(self.workspace))

    @rule(data=st.data())
    def accept_lead(self, data: st.DataObject) -> None:
        self.step(data, ws.accept_lead_commands(self.workspace))

    @rule(data=st.data())
    def decline_lead(self, data: st.DataObject) -> None:
        self.step(data, ws.decline_lead_commands(self.workspace))

    @rule(data=st.data())
    def delete_lead(self, data: st.DataObject) -> None:
        self.step(data, ws.delete_lead_commands(self.workspace))

    @rule(data=st.data())
    def add_loss_reason(self, data: st.DataObject) -> None:
        self.step(data, ws.add_loss_reason_commands(self.workspace))

    @rule(data=st.data())
    def rename_loss_reason(self, data: st.DataObject) -> None:
        self.step(data, ws.rename_loss_reason_commands(self.workspace))

    @rule(data=st.data())
    def delete_loss_reason(self, data: st.DataObject) -> None:
        self.step(data, ws.delete_loss_reason_commands(self.workspace))

    @rule(data=st.data())
    def add_automation(self, data: st.DataObject) -> None:
        self.step(data, ws.add_automation_commands(self.workspace))

    @rule(data=st.data())
    def update_automation(self, data: st.DataObject) -> None:
        self.step(data, ws.update_automation_commands(self.workspace))

    @rule(data=st.data())
    def enable_automation(self, data: st.DataObject) -> None:
        self.step(data, ws.enable_automation_commands(self.workspace))

    @rule(data=st.data())
    def disable_automation(self, data: st.DataObject) -> None:
        self.step(data, ws.disable_automation_commands(self.workspace))

    @rule(data=st.data())
    def remove_automation(self, data: st.DataObject) -> None:
        self.step(data, ws.remove_automation_commands(self.workspace))

    @rule(data=st.data())
    def apply_at_an_expected_revision(self, data: st.DataObject) -> None:
        command = data.draw(ws.commands(self.workspace), label="command")
        revision = self.workspace.revision
        expected = data.draw(
            st.just(revision) | st.integers(-1, revision + 2), label="expected_revision"
        )
        self.run(command, self.tick(data), expected)

    # -- reaching the limits and the rarer states ----------------------------------------

    @precondition(lambda self: len(self.workspace.pipelines) < MAX_PIPELINES)
    @rule(data=st.data())
    def create_many_pipelines(self, data: st.DataObject) -> None:
        # Reaching the 50-pipeline limit needs many creations in a row: go one past it.
        past_the_limit = MAX_PIPELINES - len(self.workspace.pipelines) + 1
        count = data.draw(st.sampled_from([2, 5, past_the_limit]), label="count")
        at = self.tick(data)
        for number in range(count):
            self.run(CreatePipeline(f"Bulk {self.model.next_pipeline_id}-{number}"), at)

    @precondition(lambda self: any(len(p.stages) < MAX_STAGES for p in self.workspace.pipelines))
    @rule(data=st.data())
    def add_many_stages(self, data: st.DataObject) -> None:
        pipeline = data.draw(
            st.sampled_from([p for p in self.workspace.pipelines if len(p.stages) < MAX_STAGES]),
            label="pipeline",
        )
        past_the_limit = MAX_STAGES - len(pipeline.stages) + 1
        count = data.draw(st.sampled_from([2, 5, past_the_limit]), label="count")
        at = self.tick(data)
        for number in range(count):
            self.run(AddStage(pipeline.id, f"Bulk {number} of {self.model.revision}"), at)

    @rule(data=st.data())
    def delete_every_open_stage(self, data: st.DataObject) -> None:
        # Deleting them one by one relocates the leads again and again (W2), until the
        # last open stage, which stays (LastOpenStage).
        pipeline = data.draw(st.sampled_from(self.workspace.pipelines), label="pipeline")
        at = self.tick(data)
        for stage in pipeline.open_stages:
            stage_ids = [stage.id for stage in pipeline.stages]
            target = data.draw(st.none() | st.sampled_from(stage_ids), label="move_leads_to")
            self.run(DeleteStage(pipeline.id, stage.id, move_leads_to=target), at)

    @rule(data=st.data())
    def automate_a_stage_then_delete_it(self, data: st.DataObject) -> None:
        # Automations that watch and target a stage, then the stage goes (D1), or the
        # pipeline, or incoming leads are switched off: random commands rarely line up so.
        pipeline = data.draw(st.sampled_from(self.workspace.pipelines), label="pipeline")
        stage = data.draw(st.sampled_from(pipeline.open_stages), label="stage")
        other = data.draw(st.sampled_from(pipeline.stages), label="other stage")
        at = self.tick(data)
        self.run(AddAutomation(pipeline.id, (other.id,), Trigger.ENTERED, MoveTo(stage.id)), at)
        watched = (stage.id, other.id) if other.id != stage.id else (stage.id,)
        self.run(AddAutomation(pipeline.id, watched, Trigger.LEFT, HostAction("webhook")), at)
        self.run(AddAutomation(pipeline.id, (stage.id,), Trigger.CREATED, HostAction("x")), at)
        finales: list[Command] = [
            DeleteStage(pipeline.id, stage.id),
            DeletePipeline(pipeline.id),
            DisableIncoming(pipeline.id),
        ]
        finale = data.draw(st.sampled_from(finales), label="finale")
        self.run(finale, self.tick(data))

    @rule(data=st.data())
    def schedule_then_let_the_automation_go(self, data: st.DataObject) -> None:
        # Items waiting, or handed over, when their automation changes or goes: with the
        # stage it watches or targets, with the pipeline it moves leads to, or on its own.
        source = data.draw(st.sampled_from(self.workspace.pipelines), label="pipeline")
        there = data.draw(st.sampled_from(self.workspace.pipelines), label="target pipeline")
        stage = data.draw(st.sampled_from(source.open_stages), label="stage")
        targets = [s for s in there.stages if s.kind is not StageKind.INCOMING and s != stage]
        target = data.draw(st.sampled_from(targets), label="target")
        delay = data.draw(st.sampled_from([timedelta(0), timedelta(hours=1)]), label="delay")
        at = self.tick(data)
        first = self.workspace.next_automation_id
        move = MoveTo(target.id, pipeline_id=there.id)
        self.run(AddAutomation(source.id, (stage.id,), Trigger.ENTERED, move, delay), at)
        self.run(AddAutomation(source.id, (stage.id,), Trigger.ENTERED, HostAction("x"), delay), at)
        self.run(CreateLead("Scheduled", pipeline_id=source.id, stage_id=stage.id), at)
        if data.draw(st.booleans(), label="hand over first"):
            self.run(RunDue(), at + delay)
        finales: list[Command] = [
            DeleteStage(there.id, target.id),
            DeletePipeline(there.id),
            DeleteStage(source.id, stage.id),
            DisableAutomation(first),
            RemoveAutomation(first + 1),
            UpdateAutomation(first + 1, (stage.id,), Trigger.ENTERED, HostAction("y"), delay),
            DeleteLead(self.workspace.next_lead_id - 1),
        ]
        self.run(data.draw(st.sampled_from(finales), label="finale"), self.tick(data))

    @rule(data=st.data(), count=st.integers(1, 12))
    def create_many_leads(self, data: st.DataObject, count: int) -> None:
        for _ in range(count):
            self.step(data, ws.create_lead_commands(self.workspace))

    @precondition(lambda self: bool(ws.waiting_leads(self.workspace)))
    @rule(data=st.data())
    def settle_a_waiting_lead(self, data: st.DataObject) -> None:
        # Leads wait in incoming leads rarely enough that every way out needs its own rule.
        lead = data.draw(st.sampled_from(ws.waiting_leads(self.workspace)), label="waiting lead")
        stage_id = data.draw(ws.stage_ids(self.workspace, lead.pipeline_id), label="stage_id")
        reason_id = data.draw(st.none() | ws.reason_ids(self.workspace), label="loss_reason_id")
        ways: list[Command] = [
            AcceptLead(lead.id),
            AcceptLead(lead.id, stage_id),
            DeclineLead(lead.id),
            DeleteLead(lead.id),
            WinLead(lead.id),
            LoseLead(lead.id, reason_id),
            MoveLead(lead.id, stage_id),
        ]
        self.run(data.draw(st.sampled_from(ways), label="command"), self.tick(data))

    @precondition(lambda self: any(lead.loss_reason_id for lead in self.workspace.leads.values()))
    @rule(data=st.data())
    def release_a_loss_reason_and_delete_it(self, data: st.DataObject) -> None:
        # A reason is in use until the last lead giving it lets go of it, whichever way.
        lost = [lead for lead in self.workspace.leads.values() if lead.loss_reason_id]
        lead = data.draw(st.sampled_from(lost), label="lost lead")
        reason_id = lead.loss_reason_id
        assert reason_id is not None
        others = [r.id for r in self.workspace.loss_reasons if r.id != reason_id]
        pipeline = self.workspace.pipeline(lead.pipeline_id)
        ways: list[Command] = [
            DeleteLead(lead.id),
            WinLead(lead.id),
            MoveLead(lead.id, pipeline.open_stages[0].id),
            LoseLead(lead.id),
            *(LoseLead(lead.id, other) for other in others),
        ]
        self.run(data.draw(st.sampled_from(ways), label="command"), self.tick(data))
        self.run(DeleteLossReason(reason_id), self.tick(data))

    # -- the Digital Pipeline at work: RunDue at any time, the host reporting back ------

    @rule(later=LATER)
    def run_due(self, later: timedelta) -> None:
        # The clock moves on by nothing, minutes, hours or days, so every delay comes due.
        self.now += later
        at = self.now.astimezone(self.zone)
        waiting = len(due(self.workspace, at))
        self.run(RunDue(), at)  # RunDue terminates: it returned
        assert due(self.workspace, at) == ()
        note(f"RunDue found {min(waiting, 3)}{'+' if waiting >= 3 else ''} due")

    @rule(data=st.data(), later=LATER)
    def host_works_through_what_is_due(self, data: st.DataObject, later: timedelta) -> None:
        # As docs/automations.md tells a host to: RunDue now, then report on each action
        # it was handed, some done, some failed, some left for later.
        self.run_due(later)
        handed = [item.id for item in self.workspace.scheduled if item.handed_over_at is not None]
        some = st.lists(st.sampled_from(handed), unique=True) if handed else st.just([])
        for item_id in data.draw(some, label="reports"):
            reports: list[Command] = [CompleteAction(item_id), FailAction(item_id, "no answer")]
            report = data.draw(st.sampled_from(reports), label="report")
            self.run(report, self.tick(data))
            note("the host reported back")

    @rule(data=st.data())
    def add_a_working_automation(self, data: st.DataObject) -> None:
        self.step(data, ws.new_automations(self.workspace))

    @rule(data=st.data())
    def report_back(self, data: st.DataObject) -> None:
        # Mostly on items handed over; sometimes on wrong ids (UnknownScheduledAction).
        reports = st.one_of(
            ws.complete_action_commands(self.workspace), ws.fail_action_commands(self.workspace)
        )
        self.step(data, reports)
        if not self.last_refused:
            note("the host reported back")

    @rule(
        data=st.data(), trigger=st.sampled_from([Trigger.ENTERED, Trigger.MOVED_IN, Trigger.LEFT])
    )
    def automate_a_loop(self, data: st.DataObject, trigger: Trigger) -> None:
        # Moves with no delay from stage to stage and round again, and a lead sent into
        # them: random automations rarely line up so. RunDue must stop the loop.
        pipeline = data.draw(st.sampled_from(self.workspace.pipelines), label="pipeline")
        first = data.draw(st.sampled_from(pipeline.open_stages), label="first stage")
        others = [s for s in pipeline.stages if s != first and s.kind is not StageKind.INCOMING]
        rest = data.draw(st.lists(st.sampled_from(others), min_size=1, max_size=2, unique=True))
        ring = [first, *rest]
        at = self.tick(data)
        for here, there in zip(ring, [*ring[1:], first], strict=True):
            self.run(AddAutomation(pipeline.id, (here.id,), trigger, MoveTo(there.id)), at)
        if data.draw(st.booleans(), label="a host action on the way"):
            self.run(AddAutomation(pipeline.id, (first.id,), Trigger.ENTERED, HostAction("x")), at)
        leads = [lead for lead in self.workspace.leads.values() if lead.pipeline_id == pipeline.id]
        ways: list[Command] = [CreateLead("Looping", pipeline_id=pipeline.id, stage_id=first.id)]
        ways += [MoveLead(lead.id, first.id) for lead in leads[:3]]
        ways += [MoveLead(lead.id, rest[0].id) for lead in leads[:1]]  # out of the first: LEFT
        self.run(data.draw(st.sampled_from(ways), label="command"), at)
        if data.draw(st.booleans(), label="run it at once"):
            self.run(RunDue(), at)

    # -- misuse: wrong types, naive times (W7) ------------------------------------------

    @rule(data=st.data())
    def command_with_a_wrong_type(self, data: st.DataObject) -> None:
        command = data.draw(
            ws.commands(self.workspace).filter(lambda command: bool(attrs.fields(type(command)))),
            label="command",
        )
        at = self.tick(data)
        accepted = isinstance(self.predict(command, at), NaiveWorkspace)
        fields = [
            item
            for item in attrs.fields(type(command))
            # Sent to incoming leads, a lead must not name a stage: any value there is refused.
            if not (
                isinstance(command, CreateLead) and command.incoming and item.name == "stage_id"
            )
        ]
        item = data.draw(st.sampled_from(fields), label="field")
        wrong = data.draw(st.sampled_from(WRONG_TYPES[field_kind(item.type)]), label="wrong value")
        broken: Command = attrs.evolve(cast(Any, command), **{item.name: wrong})
        self.previous, self.previous_state = self.workspace, self.observed
        self.last_command, self.last_refused = broken, True
        error = raised(lambda: apply(self.workspace, broken, at=at))
        if accepted:
            # Every field is looked at on the way to accepting the command, so its type too.
            assert type(error) is TypeError, (broken, error)
        else:
            # Refused for another reason, maybe before the field is looked at.
            assert isinstance(error, TypeError | ValueError), (broken, error)

    @rule(
        data=st.data(),
        misuse=st.sampled_from(
            ["naive at", "at is text", "not a command", "not a workspace", "revision is text"]
        ),
    )
    def apply_misused(self, data: st.DataObject, misuse: str) -> None:
        command = data.draw(ws.commands(self.workspace), label="command")
        at = self.tick(data)
        workspace: Any = self.workspace
        expected: Any = None
        subject: Any = command
        when: Any = at
        if misuse == "naive at":
            when = at.replace(tzinfo=None)
        elif misuse == "at is text":
            when = at.isoformat()
        elif misuse == "not a command":
            subject = attrs.asdict(command)
        elif misuse == "not a workspace":
            workspace = observe(self.workspace)
        else:
            expected = str(self.workspace.revision)
        self.previous, self.previous_state = self.workspace, self.observed
        self.last_command, self.last_refused = command, True
        error = raised(lambda: apply(workspace, subject, at=when, expected_revision=expected))
        assert type(error) is (ValueError if misuse == "naive at" else TypeError), error

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        real, naive = observe(self.workspace), self.model.state()
        # Part by part, lead by lead, so that a failure shows what differs.
        real_leads, naive_leads = real.pop("leads"), naive.pop("leads")
        assert isinstance(real_leads, dict)
        assert isinstance(naive_leads, dict)
        assert sorted(real_leads) == sorted(naive_leads)
        for lead_id, lead in real_leads.items():
            assert lead == naive_leads[lead_id]
        for part, value in real.items():
            assert (part, value) == (part, naive[part])

    @invariant()
    def every_lead_sits_in_an_existing_stage(self) -> None:
        # W1, read off the real workspace alone.
        stages = {p.id: {s.id for s in p.stages} for p in self.workspace.pipelines}
        for lead_id, lead in self.workspace.leads.items():
            assert lead.id == lead_id
            assert lead.pipeline_id in stages
            assert lead.stage_id in stages[lead.pipeline_id]

    @invariant()
    def every_automation_refers_to_what_exists_and_no_move_touches_incoming(self) -> None:
        # D1 and D2, read off the real workspace alone.
        stages = {p.id: {s.id: s.kind for s in p.stages} for p in self.workspace.pipelines}
        for automation in self.workspace.automations:
            watched = stages[automation.pipeline_id]
            assert automation.stage_ids
            assert all(stage_id in watched for stage_id in automation.stage_ids)
            if isinstance(automation.action, MoveTo):
                pipeline_id = automation.action.pipeline_id or automation.pipeline_id
                target = stages[pipeline_id][automation.action.stage_id]
                assert target is not StageKind.INCOMING
                kinds = [watched[stage_id] for stage_id in automation.stage_ids]
                assert StageKind.INCOMING not in kinds
            else:
                assert isinstance(automation.action, HostAction)

    @invariant()
    def closed_exactly_in_won_or_lost_and_a_reason_only_in_lost(self) -> None:
        # W5, read off the real workspace alone.
        kinds = {(p.id, s.id): s.kind for p in self.workspace.pipelines for s in p.stages}
        reasons = {reason.id for reason in self.workspace.loss_reasons}
        for lead in self.workspace.leads.values():
            kind = kinds[lead.pipeline_id, lead.stage_id]
            assert (lead.closed_at is not None) == (kind in (StageKind.WON, StageKind.LOST))
            if lead.loss_reason_id is not None:
                assert kind is StageKind.LOST
                assert lead.loss_reason_id in reasons

    @invariant()
    def leads_appear_and_leave_only_through_their_commands(self) -> None:
        before, after = set(self.previous.leads), set(self.workspace.leads)
        appeared, left = after - before, before - after
        command = self.last_command
        if self.last_refused:
            assert not appeared
            assert not left
        elif isinstance(command, CreateLead):
            assert len(appeared) == 1
            assert not left
            if command.lead_id is not None:
                assert appeared == {command.lead_id}
        elif isinstance(command, DeclineLead | DeleteLead):
            assert not appeared
            assert left == {command.lead_id}
        else:
            assert not appeared
            assert not left

    @invariant()
    def refused_commands_leave_the_workspace_as_it_was(self) -> None:
        if self.last_refused:
            assert self.workspace is self.previous
            assert observe(self.workspace) == self.previous_state

    @invariant()
    def revision_counts_the_commands_that_changed_something(self) -> None:
        assert self.workspace.revision == self.changes

    @invariant()
    def stage_totals_and_leads_in_match_the_model(self) -> None:
        where: dict[tuple[int, int], list[NaiveLead]] = {}
        for _lead_id, lead in sorted(self.model.leads.items()):
            where.setdefault((lead["pipeline_id"], lead["stage_id"]), []).append(lead)
        expected = []
        for pipeline in self.model.pipelines:
            for stage in pipeline["stages"]:
                leads = where.get((pipeline["id"], stage["id"]), [])
                real = self.workspace.leads_in(pipeline["id"], stage["id"])
                assert [lead.id for lead in real] == [lead["id"] for lead in leads]
                total = sum(lead["price"] for lead in leads)
                expected.append((pipeline["id"], stage["id"], len(leads), total))
        assert totals(self.workspace) == expected

    @invariant()
    def the_public_constructor_rebuilds_it(self) -> None:
        # Leads given as a mapping or as a plain list, in turn.
        leads_as_mapping = self.workspace.revision % 2 == 0
        again = rebuilt(self.workspace, leads_as_mapping=leads_as_mapping)
        assert again == self.workspace
        # The derived indexes too, which == does not compare.
        assert totals(again) == totals(self.workspace)

    @invariant()
    def due_agrees_with_the_model(self) -> None:
        for later in (timedelta(0), timedelta(minutes=5), timedelta(hours=3), timedelta(days=2)):
            now = (self.now + later).astimezone(self.zone)
            found = due(self.workspace, now)
            assert [item.id for item in found] == self.model.due(now)
        assert due(self.workspace, now, limit=1) == found[:1]

    @invariant()
    def every_scheduled_item_refers_to_what_exists(self) -> None:
        # D6, read off the real workspace alone: its lead exists; one not handed over has
        # its automation, and the action it has; a move's target exists, or it fails.
        automations = {automation.id: automation for automation in self.workspace.automations}
        stages = {p.id: {s.id for s in p.stages} for p in self.workspace.pipelines}
        for item in self.workspace.scheduled:
            assert item.lead_id in self.workspace.leads
            if item.handed_over_at is not None:
                assert isinstance(item.action, HostAction)
                continue
            automation = automations[item.automation_id]
            assert item.action == automation.action
            if isinstance(item.action, MoveTo):
                pipeline_id = item.action.pipeline_id or automation.pipeline_id
                if item.action.stage_id not in stages.get(pipeline_id, set()):
                    at = max(item.due_at, self.now)
                    events = apply(self.workspace, RunDue(), at=at).events
                    assert ActionCompleted(self.workspace.revision + 1, at, item.id) not in events

    @invariant()
    def each_scheduled_item_stays_until_it_ends_once(self) -> None:
        # Completed, failed or cancelled at most once (checked as the events come), and
        # in ``scheduled`` from its ActionScheduled until then; handed over at most once.
        waiting = {item.id for item in self.workspace.scheduled if item.handed_over_at is None}
        handed = {item.id for item in self.workspace.scheduled if item.handed_over_at is not None}
        assert waiting | handed == self.born - set(self.ended)
        assert handed == self.handed - set(self.ended)
        for item in self.workspace.scheduled:
            assert self.workspace.scheduled_action(item.id) is item
        for item_id in sorted(self.ended)[-2:]:
            error = raised(functools.partial(self.workspace.scheduled_action, item_id))
            assert type(error) is UnknownScheduledAction

    def teardown(self) -> None:
        # The whole log, replayed at once from where the run started, gives the workspace.
        assert replay(self.events, initial=self.initial) == self.workspace


TestWorkspaceMachine = WorkspaceMachine.TestCase
