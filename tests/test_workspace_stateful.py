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
from typing import Any, Final, TypeAlias, TypedDict, cast

import attrs
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from pipekit import (
    KOMMO_PALETTE,
    MAX_AUTOMATIONS,
    MAX_DELAY,
    MAX_ID,
    MAX_PIPELINES,
    MAX_PRICE,
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
    LeadVersionConflict,
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
from tests.profiles import machine_runs
from tests.strategies import color_texts, raw_names
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
    version: int


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

    def lead(self, lead_id: int, expected_version: int | None = None) -> NaiveLead:
        if lead_id not in self.leads:
            raise Refused(UnknownLead)
        lead = self.leads[lead_id]
        # A lead command naming a version is refused once the lead changed since.
        if expected_version is not None and expected_version != lead["version"]:
            raise Refused(LeadVersionConflict)
        return lead

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
                lead = self.lead(command.lead_id, command.expected_version)
                if self.kind_of(lead) != "incoming":
                    raise Refused(LeadNotIncoming)
                self.delete_lead(lead["id"])
            case DeleteLead():
                self.delete_lead(self.lead(command.lead_id, command.expected_version)["id"])
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
            lead["version"] += 1
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
            "version": 0,
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
        lead["version"] += 1
        self.lead_changed(lead, origin, at)

    def move_lead(self, command: MoveLead, at: datetime) -> None:
        lead = self.lead(command.lead_id, command.expected_version)
        pipeline_id = lead["pipeline_id"] if command.pipeline_id is None else command.pipeline_id
        target = find_stage(self.pipeline(pipeline_id), command.stage_id)
        if self.kind_of(lead) == "incoming" or target["kind"] == "incoming":
            raise Refused(StageLocked)
        if (lead["pipeline_id"], lead["stage_id"]) != (pipeline_id, target["id"]):
            self.enter(lead, pipeline_id, target, at)

    def win_lead(self, command: WinLead, at: datetime) -> None:
        lead = self.lead(command.lead_id, command.expected_version)
        if self.kind_of(lead) == "incoming":
            raise Refused(StageLocked)
        won = self.pipeline(lead["pipeline_id"])["stages"][-2]
        if lead["stage_id"] != won["id"]:
            self.enter(lead, lead["pipeline_id"], won, at)

    def lose_lead(self, command: LoseLead, at: datetime) -> None:
        lead = self.lead(command.lead_id, command.expected_version)
        if self.kind_of(lead) == "incoming":
            raise Refused(StageLocked)
        if command.loss_reason_id is not None:
            self.reason(command.loss_reason_id)
        lost = self.pipeline(lead["pipeline_id"])["stages"][-1]
        if lead["stage_id"] != lost["id"]:
            self.enter(lead, lead["pipeline_id"], lost, at)
        elif lead["loss_reason_id"] != command.loss_reason_id:
            lead["version"] += 1  # already in lost: only the reason changes (W5)
        lead["loss_reason_id"] = command.loss_reason_id

    def accept_lead(self, command: AcceptLead, at: datetime) -> None:
        lead = self.lead(command.lead_id, command.expected_version)
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
        if any(not 1 <= stage_id <= MAX_ID for stage_id in command.stage_ids):
            raise Refused(InvalidStageId)
        if not timedelta(0) <= command.delay <= MAX_DELAY:
            raise Refused(InvalidDelay)
        for price in (command.min_price, command.max_price):
            if price is not None and not 0 <= price <= MAX_PRICE:
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
    if "StageKind" in text or "Outcome" in text:
        return "outcome"
    kind = text.split(" |")[0]
    # Bounded numbers (pipekit.bounds) are ints and timedeltas to the type checks.
    return {
        "Id": "int",
        "Price": "int",
        "Revision": "int",
        "Delay": "timedelta",
        "tuple[Id, ...]": "tuple[int, ...]",
    }.get(kind, kind)


# -- what the rules draw from -----------------------------------------------------------
#
# Every step hands what it made (ids, places, names) to the bundle ``made``, and the
# rules draw the ids their commands name from it: mostly something made before, now
# and then something deleted since, or an id that was never given. Each rule takes
# whole commands as arguments, so a failure prints a program of commands that can be
# pasted into a test.


@attrs.frozen
class Made:
    """A thing a step made, by kind: a pipeline id, a (pipeline id, stage id) place..."""

    kind: str
    value: Any


MADE: Final[Bundle[Made]] = Bundle("made")
PIPELINE, PLACE, LEAD, WAITING, GIVING_REASON = "pipeline", "place", "lead", "waiting", "giving"
REASON, AUTOMATION, MOVE, ITEM, HANDED, NAME = (
    "reason",
    "automation",
    "move",
    "item",
    "handed",
    "name",
)
# Ids that name nothing, in the bundle from the start: every kind has one at any time.
NEVER_GIVEN: Final = (0, 10**6)


def made(kind: str) -> st.SearchStrategy[Any]:
    """The values of the things of *kind* made so far (or ids that name nothing)."""
    return MADE.filter(lambda one: one.kind == kind).map(lambda one: one.value)


def second(pair: tuple[int, int]) -> int:
    return pair[1]


PIPELINE_IDS: Final = made(PIPELINE)
STAGE_IDS: Final = made(PLACE).map(second)
# A stage of its pipeline mostly; sometimes one of another pipeline, or none.
PLACES: Final[st.SearchStrategy[tuple[int, int]]] = st.one_of(
    made(PLACE), made(PLACE), st.tuples(PIPELINE_IDS, STAGE_IDS)
)
LEAD_IDS: Final = made(LEAD)
WAITING_LEAD_IDS: Final = st.one_of(made(WAITING), made(WAITING), LEAD_IDS)
REASON_IDS: Final = made(REASON)
AUTOMATION_IDS: Final = made(AUTOMATION)
# Mostly an item handed over (a host may report on it), else one waiting, gone or never given.
ITEM_IDS: Final = st.one_of(made(HANDED), made(HANDED), made(HANDED), made(ITEM))
_SAID: Final = made(NAME)
# A name a user might type: new, invalid, or one given before, restated or re-cased.
NAMES_NEAR: Final = st.one_of(
    raw_names(),
    ws.NAMES,
    st.one_of(
        _SAID, _SAID.map(str.upper), _SAID.map(str.lower), _SAID.map(lambda name: f" {name} ")
    ),
)
COLORS: Final = st.one_of(color_texts(), st.sampled_from(PALETTE), st.just("#12"))
SECONDS: Final = st.integers(0, 86_400)
DEFAULT_OPEN: Final = (144, 145, 146)


def new_ids(known: st.SearchStrategy[int]) -> st.SearchStrategy[int | None]:
    """The id a command passes for a new thing: mostly none, else free, clashing or invalid.

    One made before clashes, unless it is gone (then it is free again); 33 and 65 lie
    past a multiple of 32, where the persistent index orders ids by their low bits.
    """
    return st.one_of(st.none(), st.none(), st.none(), known, st.sampled_from([-1, 0, 33, 65]))


@st.composite
def working_automations(
    draw: st.DrawFn, pipeline_ids: st.SearchStrategy[int], stage_ids: st.SearchStrategy[int]
) -> AddAutomation:
    """``AddAutomation`` that a pipeline holding the stages accepts, unless it is full.

    It watches one to three stages (incoming leads only for a host action, which the
    rules check) and a move targets a stage, mostly in its own pipeline; no delay more
    often than not.
    """
    if draw(st.booleans()):
        action: MoveTo | HostAction = draw(ws.HOST_ACTIONS)
    else:
        elsewhere = draw(st.one_of(st.none(), st.none(), st.none(), pipeline_ids))
        action = MoveTo(draw(stage_ids.filter(bool)), pipeline_id=elsewhere or None)
    watched = draw(st.lists(stage_ids, min_size=1, max_size=3, unique=True))
    # No bound, or bounds in order (an unset one sorts as 0).
    low, high = sorted([draw(ws.BOUNDS), draw(ws.BOUNDS)], key=lambda bound: bound or 0)
    return AddAutomation(
        draw(pipeline_ids),
        tuple(watched),
        draw(ws.TRIGGERS),
        action,
        delay=draw(ws.VALID_DELAYS),
        min_price=low,
        max_price=high,
    )


# What a new workspace holds: pipelines 1 to 4 (those created), the default stages.
FIRST_AUTOMATIONS: Final = working_automations(
    st.integers(1, 4), st.sampled_from([142, 143, *DEFAULT_OPEN])
)
FIRST_LEADS: Final = st.one_of(
    st.builds(
        CreateLead,
        ws.NAMES,
        price=st.integers(0, 10**9),
        pipeline_id=st.integers(1, 4),
        stage_id=st.sampled_from(DEFAULT_OPEN),
    ),
    st.builds(
        CreateLead,
        ws.NAMES,
        price=st.integers(0, 10**9),
        pipeline_id=st.integers(1, 4),
        incoming=st.just(True),
    ),
)


Settings: TypeAlias = tuple[
    tuple[int, ...], Trigger, MoveTo | HostAction, timedelta, int | None, int | None
]


def _settings(pipeline_ids: st.SearchStrategy[int]) -> st.SearchStrategy[Settings]:
    """What Add and Update share: stages (now and then none), trigger, action, delay, prices."""
    # A MoveTo is a value, valid from birth: its ids are positive, if unknown.
    positive = STAGE_IDS.filter(lambda stage_id: stage_id > 0)
    moves = st.builds(
        MoveTo,
        positive,
        pipeline_id=st.one_of(st.none(), st.none(), st.none(), pipeline_ids.filter(bool)),
    )
    return st.tuples(
        st.lists(STAGE_IDS, max_size=3, unique=True).map(tuple),
        st.sampled_from(Trigger),
        st.one_of(ws.HOST_ACTIONS, moves),
        ws.DELAYS,
        ws.BOUNDS,
        ws.BOUNDS,
    )


def _rename_stage(place: tuple[int, int], name: str) -> RenameStage:
    return RenameStage(*place, name)


def _recolor_stage(place: tuple[int, int], color: str) -> RecolorStage:
    return RecolorStage(*place, color)


def _move_stage(place: tuple[int, int], position: int) -> MoveStage:
    return MoveStage(*place, position)


def _delete_stage(place: tuple[int, int], target: int | None) -> DeleteStage:
    return DeleteStage(*place, move_leads_to=target)


def _add_automation(
    pipeline_id: int, settings: Settings, automation_id: int | None
) -> AddAutomation:
    return AddAutomation(pipeline_id, *settings, automation_id=automation_id)


def _update_automation(automation_id: int, settings: Settings) -> UpdateAutomation:
    return UpdateAutomation(automation_id, *settings)


# One strategy per command class, each drawing ids from what was made.
COMMANDS: Final[dict[type[Command], st.SearchStrategy[Any]]] = {
    AddStage: st.builds(
        AddStage,
        PIPELINE_IDS,
        NAMES_NEAR,
        position=st.none() | st.integers(-1, 8),
        color=st.one_of(st.none(), st.none(), COLORS),
        stage_id=new_ids(STAGE_IDS),
    ),
    RenameStage: st.builds(_rename_stage, PLACES, NAMES_NEAR),
    RecolorStage: st.builds(_recolor_stage, PLACES, COLORS),
    MoveStage: st.builds(_move_stage, PLACES, st.integers(-1, 7)),
    DeleteStage: st.builds(_delete_stage, PLACES, st.one_of(st.none(), st.none(), STAGE_IDS)),
    RenameTerminal: st.builds(
        RenameTerminal,
        PIPELINE_IDS,
        st.sampled_from([StageKind.WON, StageKind.LOST]),
        NAMES_NEAR,
    ),
    EnableIncoming: st.builds(
        EnableIncoming,
        PIPELINE_IDS,
        name=st.just("Incoming leads") | NAMES_NEAR,
        color=st.one_of(st.none(), st.none(), color_texts(), st.just("grey")),
    ),
    DisableIncoming: st.builds(DisableIncoming, PIPELINE_IDS),
    CreatePipeline: st.builds(
        CreatePipeline,
        NAMES_NEAR,
        incoming=st.booleans(),
        pipeline_id=new_ids(PIPELINE_IDS),
    ),
    RenamePipeline: st.builds(RenamePipeline, PIPELINE_IDS, NAMES_NEAR),
    MovePipeline: st.builds(MovePipeline, PIPELINE_IDS, st.integers(-1, 4)),
    SetMainPipeline: st.builds(SetMainPipeline, PIPELINE_IDS),
    DeletePipeline: st.builds(DeletePipeline, PIPELINE_IDS),
    CreateLead: st.builds(
        CreateLead,
        st.one_of(ws.NAMES, raw_names()),
        price=ws.PRICES,
        pipeline_id=st.none() | PIPELINE_IDS,
        stage_id=st.one_of(st.none(), st.none(), STAGE_IDS),
        incoming=st.booleans(),
        lead_id=new_ids(LEAD_IDS),
    ),
    MoveLead: st.builds(
        MoveLead,
        LEAD_IDS,
        STAGE_IDS,
        pipeline_id=st.one_of(st.none(), st.none(), PIPELINE_IDS),
    ),
    WinLead: st.builds(WinLead, LEAD_IDS),
    # Leads lost already come up more often (losing one again only changes the
    # reason), and so do leads waiting in incoming leads (which cannot be lost).
    LoseLead: st.builds(
        LoseLead,
        st.one_of(LEAD_IDS, made(GIVING_REASON), made(WAITING)),
        loss_reason_id=st.none() | REASON_IDS,
    ),
    AcceptLead: st.builds(AcceptLead, WAITING_LEAD_IDS, stage_id=st.none() | STAGE_IDS),
    DeclineLead: st.builds(DeclineLead, WAITING_LEAD_IDS),
    DeleteLead: st.builds(DeleteLead, st.one_of(LEAD_IDS, made(GIVING_REASON))),
    AddLossReason: st.builds(AddLossReason, NAMES_NEAR, reason_id=new_ids(REASON_IDS)),
    RenameLossReason: st.builds(RenameLossReason, REASON_IDS, NAMES_NEAR),
    DeleteLossReason: st.builds(DeleteLossReason, REASON_IDS),
    AddAutomation: st.builds(
        _add_automation, PIPELINE_IDS, _settings(PIPELINE_IDS), new_ids(AUTOMATION_IDS)
    ),
    UpdateAutomation: st.builds(_update_automation, AUTOMATION_IDS, _settings(PIPELINE_IDS)),
    EnableAutomation: st.builds(EnableAutomation, AUTOMATION_IDS),
    DisableAutomation: st.builds(DisableAutomation, AUTOMATION_IDS),
    RemoveAutomation: st.builds(RemoveAutomation, AUTOMATION_IDS),
    RunDue: st.just(RunDue()),
    CompleteAction: st.builds(CompleteAction, ITEM_IDS),
    FailAction: st.builds(FailAction, ITEM_IDS, ws.FAILURE_REASONS),
}
ANY_COMMAND: Final = st.sampled_from(list(COMMANDS)).flatmap(COMMANDS.__getitem__)


def _with_a_wrong_type(command: Command) -> st.SearchStrategy[tuple[Command, str, object]]:
    fields = [
        item
        for item in attrs.fields(type(command))
        # Sent to incoming leads, a lead must not name a stage: any value there is refused.
        if not (isinstance(command, CreateLead) and command.incoming and item.name == "stage_id")
    ]
    return st.sampled_from(fields).flatmap(
        lambda item: st.tuples(
            st.just(command),
            st.just(item.name),
            st.sampled_from(WRONG_TYPES[field_kind(item.type)]),
        )
    )


# A command with fields, one of them, and a value of the wrong type for it.
WRONG_TYPED: Final = (
    st.sampled_from([kind for kind in COMMANDS if attrs.fields(kind)])
    .flatmap(COMMANDS.__getitem__)
    .flatmap(_with_a_wrong_type)
)
HOW_MANY: Final = st.sampled_from(["two", "five", "one past the limit"])


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
        # What the steps made: seen already, and not yet handed to the bundle.
        self.seen: set[Made] = set()
        self.fresh: list[Made] = []
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
        target=MADE,
        incoming=st.booleans(),
        zone=st.sampled_from(ZONES),
        pipelines=st.lists(st.booleans(), max_size=3),
        reasons=st.integers(0, 3),
        automations=st.lists(FIRST_AUTOMATIONS, max_size=3),
        leads=st.lists(st.tuples(FIRST_LEADS, SECONDS), max_size=10),
        seconds=SECONDS,
    )
    def start(
        self,
        incoming: bool,
        zone: timezone,
        pipelines: list[bool],
        reasons: int,
        automations: list[AddAutomation],
        leads: list[tuple[CreateLead, int]],
        seconds: int,
    ) -> MultipleResults[Made]:
        self.workspace = new_workspace(incoming=incoming)
        self.model = NaiveWorkspace(incoming=incoming)
        self.zone = zone
        self.observed = observe(self.workspace)
        self.previous, self.previous_state = self.workspace, self.observed
        self.start_scheduling(self.workspace)
        kinds = (PIPELINE, LEAD, WAITING, GIVING_REASON, REASON, AUTOMATION, MOVE, ITEM, HANDED)
        self.fresh = [Made(kind, value) for kind in kinds for value in NEVER_GIVEN]
        self.fresh += [Made(PLACE, (1, NEVER_GIVEN[1])), Made(PLACE, (NEVER_GIVEN[1], 144))]
        self.seen = set(self.fresh)
        self.discover()
        # Some pipelines, loss reasons, automations and leads from the start, through the
        # commands like everything else, so that most runs have something for each command.
        at = self.tick(seconds)
        for number, with_incoming in enumerate(pipelines, start=2):
            self.run(CreatePipeline(f"Pipeline {number}", incoming=with_incoming), at)
        for number in range(1, reasons + 1):
            self.run(AddLossReason(f"Reason {number}"), at)
        for automation in automations:
            self.run(automation, at)
        for lead, later in leads:
            self.run(lead, self.tick(later))
        return self.take_made()

    # -- running one command on both --------------------------------------------------

    def tick(self, seconds: int) -> datetime:
        """Move the clock forward (or not at all) and return the time, in this run's zone."""
        self.now += timedelta(seconds=seconds)
        return self.now.astimezone(self.zone)

    def step(self, command: Command, seconds: int) -> MultipleResults[Made]:
        """Run *command* a few *seconds* after the last; return what it made."""
        self.run(command, self.tick(seconds))
        return self.take_made()

    def take_made(self) -> MultipleResults[Made]:
        """Hand what the steps made since the last call to the bundle."""
        fresh, self.fresh = self.fresh, []
        return multiple(*fresh)

    def discover(self) -> None:
        """Note what the workspace holds that no step made before (ids, places, names)."""
        workspace = self.workspace
        found = [Made(NAME, reason.name) for reason in workspace.loss_reasons]
        found += [Made(REASON, reason.id) for reason in workspace.loss_reasons]
        for pipeline in workspace.pipelines:
            found += [Made(PIPELINE, pipeline.id), Made(NAME, pipeline.name)]
            found += [Made(PLACE, (pipeline.id, stage.id)) for stage in pipeline.stages]
            found += [Made(NAME, stage.name) for stage in pipeline.stages]
            if pipeline.incoming is not None:
                waiting = workspace.leads_in(pipeline.id, pipeline.incoming.id)
                found += [Made(WAITING, lead.id) for lead in waiting]
        for lead_id, lead in workspace.leads.items():
            found.append(Made(LEAD, lead_id))
            if lead.loss_reason_id is not None:
                found.append(Made(GIVING_REASON, lead_id))
        for automation in workspace.automations:
            found.append(Made(AUTOMATION, automation.id))
            if isinstance(automation.action, MoveTo):
                found.append(Made(MOVE, automation.id))
        for item in workspace.scheduled:
            found.append(Made(ITEM, item.id))
            if item.handed_over_at is not None:
                found.append(Made(HANDED, item.id))
        for one in found:
            if one not in self.seen:
                self.seen.add(one)
                self.fresh.append(one)

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
        if changed:
            self.discover()

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
        # Replay equals apply, step by step, derived indexes (which == ignores) included.
        assert self.replayed == self.workspace
        assert totals(self.replayed) == totals(self.workspace)

    # -- one rule per command ----------------------------------------------------------

    @rule(target=MADE, command=COMMANDS[AddStage], seconds=SECONDS)
    def add_stage(self, command: AddStage, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[RenameStage], seconds=SECONDS)
    def rename_stage(self, command: RenameStage, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[RecolorStage], seconds=SECONDS)
    def recolor_stage(self, command: RecolorStage, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[MoveStage], seconds=SECONDS)
    def move_stage(self, command: MoveStage, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[DeleteStage], seconds=SECONDS)
    def delete_stage(self, command: DeleteStage, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[RenameTerminal], seconds=SECONDS)
    def rename_terminal(self, command: RenameTerminal, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[EnableIncoming], seconds=SECONDS)
    def enable_incoming(self, command: EnableIncoming, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[DisableIncoming], seconds=SECONDS)
    def disable_incoming(self, command: DisableIncoming, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[CreatePipeline], seconds=SECONDS)
    def create_pipeline(self, command: CreatePipeline, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[RenamePipeline], seconds=SECONDS)
    def rename_pipeline(self, command: RenamePipeline, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[MovePipeline], seconds=SECONDS)
    def move_pipeline(self, command: MovePipeline, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[SetMainPipeline], seconds=SECONDS)
    def set_main_pipeline(self, command: SetMainPipeline, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[DeletePipeline], seconds=SECONDS)
    def delete_pipeline(self, command: DeletePipeline, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[CreateLead], seconds=SECONDS)
    def create_lead(self, command: CreateLead, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[MoveLead], seconds=SECONDS)
    def move_lead(self, command: MoveLead, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[WinLead], seconds=SECONDS)
    def win_lead(self, command: WinLead, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[LoseLead], seconds=SECONDS)
    def lose_lead(self, command: LoseLead, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[AcceptLead], seconds=SECONDS)
    def accept_lead(self, command: AcceptLead, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[DeclineLead], seconds=SECONDS)
    def decline_lead(self, command: DeclineLead, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[DeleteLead], seconds=SECONDS)
    def delete_lead(self, command: DeleteLead, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[AddLossReason], seconds=SECONDS)
    def add_loss_reason(self, command: AddLossReason, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[RenameLossReason], seconds=SECONDS)
    def rename_loss_reason(self, command: RenameLossReason, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[DeleteLossReason], seconds=SECONDS)
    def delete_loss_reason(self, command: DeleteLossReason, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[AddAutomation], seconds=SECONDS)
    def add_automation(self, command: AddAutomation, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[UpdateAutomation], seconds=SECONDS)
    def update_automation(self, command: UpdateAutomation, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[EnableAutomation], seconds=SECONDS)
    def enable_automation(self, command: EnableAutomation, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[DisableAutomation], seconds=SECONDS)
    def disable_automation(self, command: DisableAutomation, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, command=COMMANDS[RemoveAutomation], seconds=SECONDS)
    def remove_automation(self, command: RemoveAutomation, seconds: int) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(target=MADE, automation_id=AUTOMATION_IDS, seconds=SECONDS)
    def restate_an_automation(self, automation_id: int, seconds: int) -> MultipleResults[Made]:
        # An update to the settings it has already changes nothing, and cancels nothing.
        automation = next((a for a in self.workspace.automations if a.id == automation_id), None)
        if automation is None:
            command = UpdateAutomation(automation_id, (144,), Trigger.ENTERED, HostAction("x"))
        else:
            command = UpdateAutomation(
                automation.id,
                automation.stage_ids,
                automation.trigger,
                automation.action,
                automation.delay,
                automation.min_price,
                automation.max_price,
            )
        return self.step(command, seconds)

    @rule(
        target=MADE,
        command=ANY_COMMAND,
        off_by=st.one_of(st.just(0), st.just(0), st.integers(-3, 2)),
        seconds=SECONDS,
    )
    def apply_at_an_expected_revision(
        self, command: Command, off_by: int, seconds: int
    ) -> MultipleResults[Made]:
        # The revision the workspace is at, or one it is not (refused: RevisionConflict).
        expected = max(-1, self.workspace.revision + off_by)
        self.run(command, self.tick(seconds), expected)
        return self.take_made()

    # -- reaching the limits and the rarer states ----------------------------------------

    def how_many(self, how_many: str, now: int, limit: int) -> int:
        """Two, five, or as many as take *now* things one past *limit*."""
        return {"two": 2, "five": 5}.get(how_many, limit - now + 1)

    @precondition(lambda self: len(self.workspace.pipelines) < MAX_PIPELINES)
    @rule(target=MADE, how_many=HOW_MANY, seconds=SECONDS)
    def create_many_pipelines(self, how_many: str, seconds: int) -> MultipleResults[Made]:
        # Reaching the 50-pipeline limit needs many creations in a row: go one past it.
        count = self.how_many(how_many, len(self.workspace.pipelines), MAX_PIPELINES)
        at = self.tick(seconds)
        for number in range(count):
            self.run(CreatePipeline(f"Bulk {self.model.next_pipeline_id}-{number}"), at)
        return self.take_made()

    @precondition(lambda self: any(len(p.stages) < MAX_STAGES for p in self.workspace.pipelines))
    @rule(target=MADE, pipeline_id=PIPELINE_IDS, how_many=HOW_MANY, seconds=SECONDS)
    def add_many_stages(
        self, pipeline_id: int, how_many: str, seconds: int
    ) -> MultipleResults[Made]:
        pipeline = next((p for p in self.workspace.pipelines if p.id == pipeline_id), None)
        size = MAX_STAGES if pipeline is None else len(pipeline.stages)
        at = self.tick(seconds)
        for number in range(self.how_many(how_many, size, MAX_STAGES)):
            self.run(AddStage(pipeline_id, f"Bulk {number} of {self.model.revision}"), at)
        return self.take_made()

    @rule(
        target=MADE,
        pipeline_id=PIPELINE_IDS,
        leads_to=st.lists(st.none() | STAGE_IDS, max_size=6),
        seconds=SECONDS,
    )
    def delete_every_open_stage(
        self, pipeline_id: int, leads_to: list[int | None], seconds: int
    ) -> MultipleResults[Made]:
        # Deleting them one by one relocates the leads again and again (W2), until the
        # last open stage, which stays (LastOpenStage). The n-th deletion sends the
        # leads to the n-th of *leads_to*, or lets the rules choose (None, or no more).
        pipeline = next((p for p in self.workspace.pipelines if p.id == pipeline_id), None)
        at = self.tick(seconds)
        for number, stage in enumerate(() if pipeline is None else pipeline.open_stages):
            target = leads_to[number] if number < len(leads_to) else None
            self.run(DeleteStage(pipeline_id, stage.id, move_leads_to=target), at)
        return self.take_made()

    @rule(
        target=MADE,
        place=PLACES,
        other=STAGE_IDS,
        finale=st.sampled_from(["delete the stage", "delete the pipeline", "disable incoming"]),
        seconds=SECONDS,
        later=SECONDS,
    )
    def automate_a_stage_then_delete_it(
        self, place: tuple[int, int], other: int, finale: str, seconds: int, later: int
    ) -> MultipleResults[Made]:
        # Automations that watch and target a stage, then the stage goes (D1), or the
        # pipeline, or incoming leads are switched off: random commands rarely line up so.
        pipeline_id, stage_id = place
        at = self.tick(seconds)
        self.run(AddAutomation(pipeline_id, (other,), Trigger.ENTERED, MoveTo(stage_id)), at)
        watched = (stage_id, other) if other != stage_id else (stage_id,)
        self.run(AddAutomation(pipeline_id, watched, Trigger.LEFT, HostAction("webhook")), at)
        self.run(AddAutomation(pipeline_id, (stage_id,), Trigger.CREATED, HostAction("x")), at)
        finales: dict[str, Command] = {
            "delete the stage": DeleteStage(pipeline_id, stage_id),
            "delete the pipeline": DeletePipeline(pipeline_id),
            "disable incoming": DisableIncoming(pipeline_id),
        }
        return self.step(finales[finale], later)

    @rule(
        target=MADE,
        place=PLACES,
        # A place made before: a MoveTo names no pipeline that could never be.
        target_place=made(PLACE),
        delay=st.sampled_from([timedelta(0), timedelta(hours=1)]),
        hand_over_first=st.booleans(),
        finale=st.sampled_from(
            [
                "delete the target stage",
                "delete the target pipeline",
                "delete the watched stage",
                "disable the move",
                "remove the host action",
                "update the host action",
                "delete the lead",
            ]
        ),
        seconds=SECONDS,
        later=SECONDS,
    )
    def schedule_then_let_the_automation_go(
        self,
        place: tuple[int, int],
        target_place: tuple[int, int],
        delay: timedelta,
        hand_over_first: bool,
        finale: str,
        seconds: int,
        later: int,
    ) -> MultipleResults[Made]:
        # Items waiting, or handed over, when their automation changes or goes: with the
        # stage it watches or targets, with the pipeline it moves leads to, or on its own.
        (source, stage_id), (there, target_id) = place, target_place
        at = self.tick(seconds)
        first = self.workspace.next_automation_id
        move = MoveTo(target_id, pipeline_id=there)
        self.run(AddAutomation(source, (stage_id,), Trigger.ENTERED, move, delay), at)
        self.run(AddAutomation(source, (stage_id,), Trigger.ENTERED, HostAction("x"), delay), at)
        self.run(CreateLead("Scheduled", pipeline_id=source, stage_id=stage_id), at)
        if hand_over_first:
            self.run(RunDue(), at + delay)
        finales: dict[str, Command] = {
            "delete the target stage": DeleteStage(there, target_id),
            "delete the target pipeline": DeletePipeline(there),
            "delete the watched stage": DeleteStage(source, stage_id),
            "disable the move": DisableAutomation(first),
            "remove the host action": RemoveAutomation(first + 1),
            "update the host action": UpdateAutomation(
                first + 1, (stage_id,), Trigger.ENTERED, HostAction("y"), delay
            ),
            "delete the lead": DeleteLead(self.workspace.next_lead_id - 1),
        }
        return self.step(finales[finale], later)

    @rule(
        target=MADE,
        commands=st.lists(st.tuples(COMMANDS[CreateLead], SECONDS), min_size=1, max_size=12),
    )
    def create_many_leads(self, commands: list[tuple[CreateLead, int]]) -> MultipleResults[Made]:
        for command, seconds in commands:
            self.run(command, self.tick(seconds))
        return self.take_made()

    @rule(
        target=MADE,
        lead_id=LEAD_IDS,
        seen=st.sampled_from(["current", "one before", "one after"]),
        way=st.sampled_from(["move", "win", "lose", "delete"]),
        stage_id=STAGE_IDS,
        seconds=SECONDS,
    )
    def act_on_the_version_seen(
        self, lead_id: int, seen: str, way: str, stage_id: int, seconds: int
    ) -> MultipleResults[Made]:
        # A client names the version it saw: the current one goes through, a stale one
        # (or one from the future) is refused; the model keeps versions of its own.
        lead = self.workspace.leads.get(lead_id)
        version = 0 if lead is None else lead.version
        version = max(0, version + {"current": 0, "one before": -1, "one after": 1}[seen])
        commands: dict[str, Command] = {
            "move": MoveLead(lead_id, stage_id, expected_version=version),
            "win": WinLead(lead_id, expected_version=version),
            "lose": LoseLead(lead_id, expected_version=version),
            "delete": DeleteLead(lead_id, expected_version=version),
        }
        return self.step(commands[way], seconds)

    @rule(
        target=MADE,
        command=made(WAITING).flatmap(
            lambda lead_id: st.one_of(
                st.just(AcceptLead(lead_id)),
                st.builds(AcceptLead, st.just(lead_id), STAGE_IDS),
                st.just(DeclineLead(lead_id)),
                st.just(DeleteLead(lead_id)),
                st.just(WinLead(lead_id)),
                st.builds(LoseLead, st.just(lead_id), st.none() | REASON_IDS),
                st.builds(MoveLead, st.just(lead_id), STAGE_IDS),
            )
        ),
        seconds=SECONDS,
    )
    def settle_a_waiting_lead(self, command: Command, seconds: int) -> MultipleResults[Made]:
        # Leads wait in incoming leads rarely enough that every way out needs its own rule.
        return self.step(command, seconds)

    @rule(
        target=MADE,
        lead_id=made(GIVING_REASON),
        way=st.sampled_from(["delete", "win", "move", "lose", "lose for another reason"]),
        other=REASON_IDS,
        seconds=SECONDS,
        later=SECONDS,
    )
    def release_a_loss_reason_and_delete_it(
        self, lead_id: int, way: str, other: int, seconds: int, later: int
    ) -> MultipleResults[Made]:
        # A reason is in use until the last lead giving it lets go of it, whichever way.
        lead = self.workspace.leads.get(lead_id)
        reason_id = other if lead is None or lead.loss_reason_id is None else lead.loss_reason_id
        main = self.workspace.pipeline(self.workspace.main_pipeline_id)
        pipeline = main if lead is None else self.workspace.pipeline(lead.pipeline_id)
        ways: dict[str, Command] = {
            "delete": DeleteLead(lead_id),
            "win": WinLead(lead_id),
            "move": MoveLead(lead_id, pipeline.open_stages[0].id),
            "lose": LoseLead(lead_id),
            "lose for another reason": LoseLead(lead_id, other),
        }
        self.run(ways[way], self.tick(seconds))
        return self.step(DeleteLossReason(reason_id), later)

    # -- the Digital Pipeline at work: RunDue at any time, the host reporting back ------

    @rule(target=MADE, later=LATER)
    def run_due(self, later: timedelta) -> MultipleResults[Made]:
        # The clock moves on by nothing, minutes, hours or days, so every delay comes due.
        self.now += later
        at = self.now.astimezone(self.zone)
        waiting = len(due(self.workspace, at))
        self.run(RunDue(), at)  # RunDue terminates: it returned
        assert due(self.workspace, at) == ()
        note(f"RunDue found {min(waiting, 3)}{'+' if waiting >= 3 else ''} due")
        return self.take_made()

    @rule(
        target=MADE,
        later=LATER,
        reports=st.lists(st.sampled_from(["complete", "fail", "leave"])),
        seconds=SECONDS,
    )
    def host_works_through_what_is_due(
        self, later: timedelta, reports: list[str], seconds: int
    ) -> MultipleResults[Made]:
        # As docs/automations.md tells a host to: RunDue now, then report on each action
        # it was handed, in order, some done, some failed, some left for later.
        self.run_due(later)
        handed = [item.id for item in self.workspace.scheduled if item.handed_over_at is not None]
        for item_id, report in zip(handed, reports, strict=False):
            if report == "leave":
                continue
            done = report == "complete"
            report_back = CompleteAction(item_id) if done else FailAction(item_id, "no answer")
            self.run(report_back, self.tick(seconds))
            note("the host reported back")
        return self.take_made()

    @rule(target=MADE, command=working_automations(PIPELINE_IDS, STAGE_IDS), seconds=SECONDS)
    def add_a_working_automation(
        self, command: AddAutomation, seconds: int
    ) -> MultipleResults[Made]:
        return self.step(command, seconds)

    @rule(
        target=MADE,
        automation_id=made(MOVE),
        trigger=st.sampled_from([Trigger.ENTERED, Trigger.MOVED_IN]),
        seconds=SECONDS,
    )
    def close_a_loop(
        self, automation_id: int, trigger: Trigger, seconds: int
    ) -> MultipleResults[Made]:
        # Moves leads back from where a move sends them, with no delay, so that RunDue
        # meets loops; a move removed or disabled since sends nothing back.
        move = next((a for a in self.workspace.automations if a.id == automation_id), None)
        if move is None or move.target is None or not move.enabled:
            return multiple()
        back = MoveTo(move.stage_ids[0], pipeline_id=move.pipeline_id)
        return self.step(AddAutomation(move.target[0], (move.target[1],), trigger, back), seconds)

    @rule(
        target=MADE,
        command=st.one_of(COMMANDS[CompleteAction], COMMANDS[FailAction]),
        seconds=SECONDS,
    )
    def report_back(self, command: Command, seconds: int) -> MultipleResults[Made]:
        # Mostly on items handed over; sometimes on wrong ids (UnknownScheduledAction).
        self.run(command, self.tick(seconds))
        if not self.last_refused:
            note("the host reported back")
        return self.take_made()

    @rule(
        target=MADE,
        trigger=st.sampled_from([Trigger.ENTERED, Trigger.MOVED_IN, Trigger.LEFT]),
        first=PLACES,
        rest=st.lists(STAGE_IDS, min_size=1, max_size=2, unique=True),
        host_action_on_the_way=st.booleans(),
        way=st.sampled_from(["create a lead in the first", "move in", "move out"]),
        lead_id=LEAD_IDS,
        run_it_at_once=st.booleans(),
        seconds=SECONDS,
    )
    def automate_a_loop(
        self,
        trigger: Trigger,
        first: tuple[int, int],
        rest: list[int],
        host_action_on_the_way: bool,
        way: str,
        lead_id: int,
        run_it_at_once: bool,
        seconds: int,
    ) -> MultipleResults[Made]:
        # Moves with no delay from stage to stage and round again, and a lead sent into
        # them: random automations rarely line up so. RunDue must stop the loop.
        pipeline_id, first_id = first
        ring = [first_id, *(stage_id for stage_id in rest if stage_id != first_id)]
        at = self.tick(seconds)
        for here, there in zip(ring, [*ring[1:], first_id], strict=True):
            self.run(AddAutomation(pipeline_id, (here,), trigger, MoveTo(there)), at)
        if host_action_on_the_way:
            self.run(AddAutomation(pipeline_id, (first_id,), Trigger.ENTERED, HostAction("x")), at)
        ways: dict[str, Command] = {
            "create a lead in the first": CreateLead(
                "Looping", pipeline_id=pipeline_id, stage_id=first_id
            ),
            "move in": MoveLead(lead_id, first_id, pipeline_id=pipeline_id),
            # Out of the first: LEFT.
            "move out": MoveLead(lead_id, rest[0], pipeline_id=pipeline_id),
        }
        self.run(ways[way], at)
        if run_it_at_once:
            self.run(RunDue(), at)
        return self.take_made()

    # -- misuse: wrong types, naive times (W7) ------------------------------------------

    @rule(broken=WRONG_TYPED, seconds=SECONDS)
    def command_with_a_wrong_type(self, broken: tuple[Command, str, object], seconds: int) -> None:
        command, name, wrong = broken
        at = self.tick(seconds)
        accepted = isinstance(self.predict(command, at), NaiveWorkspace)
        mistyped: Command = attrs.evolve(cast(Any, command), **{name: wrong})
        self.previous, self.previous_state = self.workspace, self.observed
        self.last_command, self.last_refused = mistyped, True
        error = raised(lambda: apply(self.workspace, mistyped, at=at))
        if accepted:
            # Every field is looked at on the way to accepting the command, so its type too.
            assert type(error) is TypeError, (mistyped, error)
        else:
            # Refused for another reason, maybe before the field is looked at.
            assert isinstance(error, TypeError | ValueError), (mistyped, error)

    @rule(
        command=ANY_COMMAND,
        misuse=st.sampled_from(
            ["naive at", "at is text", "not a command", "not a workspace", "revision is text"]
        ),
        seconds=SECONDS,
    )
    def apply_misused(self, command: Command, misuse: str, seconds: int) -> None:
        at = self.tick(seconds)
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
TestWorkspaceMachine.settings = machine_runs(4, 150, 2000, steps=(30, 60, 100))
