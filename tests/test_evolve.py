"""evolve refuses events that do not fit the workspace: forged or out-of-place facts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipekit import (
    AddLossReason,
    Color,
    CreateLead,
    IncomingNotEmpty,
    IncomingStageDisabled,
    IncomingStageEnabled,
    InvalidEvent,
    Lead,
    LeadAccepted,
    LeadCreated,
    LeadDeleted,
    LeadMoved,
    LeadsRelocated,
    RuleViolation,
    Stage,
    StageAdded,
    StageDeleted,
    StageKind,
    UnknownLead,
    Workspace,
    apply,
    new_workspace,
)
from pipekit.codec import dump, load
from pipekit.evolve import evolve
from pipekit.pipeline import default_pipeline, rename_pipeline

AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def with_lead(*, incoming: bool = False) -> Workspace:
    workspace = new_workspace(incoming=incoming)
    return apply(workspace, CreateLead("ACME", price=500, incoming=incoming), at=AT).workspace


def refused(workspace: Workspace, event: object, error: type[RuleViolation], match: str) -> None:
    before = dump(workspace)
    with pytest.raises(error, match=match):
        evolve(workspace, event)  # type: ignore[arg-type]  # forged events of every kind
    assert dump(workspace) == before


class TestStages:
    def test_an_added_stage_must_be_open(self) -> None:
        stage = Stage(200, "Sneaky", "#fff", StageKind.WON)
        refused(new_workspace(), StageAdded(1, AT, 1, stage, 0), InvalidEvent, "not an open")

    def test_a_deleted_stage_must_be_empty(self) -> None:
        event = StageDeleted(2, AT, 1, 144)
        refused(with_lead(), event, InvalidEvent, r"still holds 1 lead\(s\)")

    def test_leads_are_relocated_to_an_open_stage_only(self) -> None:
        event = LeadsRelocated(2, AT, 1, 144, 142, (1,))
        refused(with_lead(), event, InvalidEvent, "142 is not an open stage")

    def test_an_enabled_incoming_stage_must_be_an_incoming_stage(self) -> None:
        stage = Stage(300, "Inbox", "#c1c1c1", StageKind.OPEN)
        event = IncomingStageEnabled(1, AT, 1, stage)
        refused(new_workspace(), event, InvalidEvent, "cannot take this incoming stage")

    def test_incoming_is_not_enabled_twice(self) -> None:
        stage = Stage(300, "Inbox", "#c1c1c1", StageKind.INCOMING)
        event = IncomingStageEnabled(1, AT, 1, stage)
        refused(new_workspace(incoming=True), event, InvalidEvent, "cannot take")

    def test_only_the_incoming_stage_is_disabled(self) -> None:
        event = IncomingStageDisabled(1, AT, 1, 144)
        refused(new_workspace(incoming=True), event, InvalidEvent, "is not the incoming")

    def test_incoming_with_waiting_leads_is_not_disabled(self) -> None:
        event = IncomingStageDisabled(2, AT, 1, 147)
        refused(with_lead(incoming=True), event, IncomingNotEmpty, "wait in the incoming")


class TestLeads:
    def test_a_lead_is_created_open(self) -> None:
        lead = Lead(9, "Closed", 1, 142, 0, AT, AT, closed_at=AT)
        refused(new_workspace(), LeadCreated(1, AT, lead), InvalidEvent, "created open")

    def test_a_lead_is_not_created_in_won(self) -> None:
        lead = Lead(9, "Won", 1, 142, 0, AT, AT)
        refused(new_workspace(), LeadCreated(1, AT, lead), InvalidEvent, "created open")

    def test_a_moved_lead_must_be_where_the_event_says(self) -> None:
        event = LeadMoved(2, AT, 1, 1, 145, 1, 146)
        refused(with_lead(), event, InvalidEvent, "is in stage 144, not in stage 145")

    def test_an_unknown_lead_is_not_moved(self) -> None:
        event = LeadMoved(2, AT, 9, 1, 144, 1, 145)
        refused(with_lead(), event, UnknownLead, "no lead has id 9")

    def test_only_a_lead_in_lost_has_a_loss_reason(self) -> None:
        workspace = apply(with_lead(), AddLossReason("Price"), at=AT).workspace
        event = LeadMoved(3, AT, 1, 1, 144, 1, 142, 1)
        refused(workspace, event, InvalidEvent, "only a lead in the lost stage")

    def test_an_accepted_lead_must_come_from_incoming(self) -> None:
        event = LeadAccepted(2, AT, 1, 1, 144, 145)
        refused(with_lead(incoming=True), event, InvalidEvent, "not in the incoming")

    def test_an_accepted_lead_goes_to_an_open_stage(self) -> None:
        event = LeadAccepted(2, AT, 1, 1, 147, 142)
        refused(with_lead(incoming=True), event, InvalidEvent, "142 is not an open stage")

    def test_a_removed_lead_must_be_as_recorded(self) -> None:
        workspace = with_lead()
        other = Lead(1, "Someone else", 1, 144, 500, AT, AT)
        refused(workspace, LeadDeleted(2, AT, other), InvalidEvent, "not as the event records")


class TestEvolve:
    def test_a_command_is_not_an_event(self) -> None:
        with pytest.raises(TypeError, match="not a pipekit event: CreateLead"):
            evolve(new_workspace(), CreateLead("ACME"))  # type: ignore[arg-type]


class TestOtherEdges:
    def test_rename_pipeline_to_its_own_name_returns_it(self) -> None:
        pipeline = default_pipeline("Sales")
        assert rename_pipeline(pipeline, " Sales ") is pipeline
        assert rename_pipeline(pipeline, "Deals").name == "Deals"

    def test_a_value_that_is_not_json_is_named_in_the_error(self) -> None:
        with pytest.raises(
            ValueError, match=r"at /: expected a string, got a complex \(not JSON\)"
        ):
            load(Color, 1j)
