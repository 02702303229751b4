"""The lead commands through ``apply``: events, resulting workspace, every violation (W1, W4-W7).

Every call to ``apply`` runs inside ``with unchanged(workspace):``, which fails the test
when the call changed its input; every workspace ``apply`` returns goes through
``checked``, which rebuilds it with the public constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

import attrs
import pytest

from pipekit import (
    MAX_REVISION,
    AcceptLead,
    AddAutomation,
    AddLossReason,
    Command,
    CompleteAction,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DeleteLead,
    DeleteLossReason,
    DeleteStage,
    DuplicateLeadId,
    Event,
    HostAction,
    IncomingDisabled,
    InvalidId,
    InvalidName,
    InvalidPrice,
    InvalidTarget,
    InvalidVersion,
    Lead,
    LeadAccepted,
    LeadCreated,
    LeadDeclined,
    LeadDeleted,
    LeadMoved,
    LeadNotIncoming,
    LeadVersionConflict,
    LoseLead,
    MoveLead,
    MoveStage,
    MoveTo,
    RevisionConflict,
    RunDue,
    SetMainPipeline,
    StageLocked,
    StageTotal,
    Trigger,
    UnknownLead,
    UnknownLossReason,
    UnknownPipeline,
    UnknownStage,
    WinLead,
    Workspace,
    apply,
    apply_to_leads,
    new_workspace,
    replay,
)
from pipekit.codec import dump, load
from tests.apply_helpers import (
    AT,
    INCOMING,
    INITIAL,
    LATER,
    LATEST,
    LOST,
    NEGOTIATION,
    OFFER,
    WON,
    apply_checked,
    assert_changes_nothing,
    run,
    unchanged,
)
from tests.test_account import rebuilt
from tests.test_leads import DictLeads


def moved(
    workspace: Workspace,
    lead_id: int,
    *,
    at: datetime = LATER,
    from_stage: int,
    to_stage: int,
    from_pipeline: int = 1,
    to_pipeline: int = 1,
    loss_reason_id: int | None = None,
    revision: int | None = None,
) -> LeadMoved:
    """The ``LeadMoved`` a command applied to *workspace* should yield."""
    return LeadMoved(
        revision=workspace.revision + 1 if revision is None else revision,
        at=at,
        lead_id=lead_id,
        from_pipeline_id=from_pipeline,
        from_stage_id=from_stage,
        to_pipeline_id=to_pipeline,
        to_stage_id=to_stage,
        loss_reason_id=loss_reason_id,
    )


@pytest.fixture
def board() -> Workspace:
    """Pipelines 1 (main) and 2 "Partners", incoming leads on in both; loss reasons 1 and 2.

    Lead 1 "ACME" (150,000) sits in Initial Contact, lead 2 "Globex" (990) in Offer
    Made, lead 3 "Initech" waits in incoming leads, lead 4 "Umbrella" (70) sits in
    pipeline 2's Initial Contact; all created at ``AT``. Revision 7.
    """
    return run(
        new_workspace(incoming=True),
        CreatePipeline("Partners", incoming=True),
        AddLossReason("Too expensive"),
        AddLossReason("Went silent"),
        CreateLead("ACME", price=150_000),
        CreateLead("Globex", price=990, stage_id=OFFER),
        CreateLead("Initech", incoming=True),
        CreateLead("Umbrella", price=70, pipeline_id=2),
    )


def test_the_board_is_as_documented(board: Workspace) -> None:
    assert board.revision == 7
    assert [(lead.id, lead.pipeline_id, lead.stage_id) for lead in board.leads.values()] == [
        (1, 1, INITIAL),
        (2, 1, OFFER),
        (3, 1, INCOMING),
        (4, 2, INITIAL),
    ]


class TestCreateLead:
    def test_goes_to_the_first_open_stage_of_the_main_pipeline(self) -> None:
        workspace = new_workspace()
        applied = apply_checked(workspace, CreateLead(" ACME ", price=150_000), at=AT)
        lead = Lead(
            id=1,
            name="ACME",
            pipeline_id=1,
            stage_id=INITIAL,
            price=150_000,
            created_at=AT,
            stage_entered_at=AT,
        )
        assert applied.events == (LeadCreated(revision=1, at=AT, lead=lead),)
        result = applied.workspace
        assert dict(result.leads) == {1: lead}
        assert (lead.closed_at, lead.loss_reason_id) == (None, None)
        assert result.leads_in(1, INITIAL) == (lead,)
        assert result.stage_totals(1)[0] == StageTotal(INITIAL, 1, 150_000)
        assert (result.revision, result.next_lead_id) == (1, 2)

    def test_created_at_and_stage_entered_at_are_the_time_given(self, board: Workspace) -> None:
        applied = apply_checked(board, CreateLead("New"), at=LATEST)
        lead = applied.workspace.lead(5)
        assert (lead.created_at, lead.stage_entered_at, lead.closed_at) == (LATEST, LATEST, None)

    def test_skips_the_incoming_stage_by_default(self, board: Workspace) -> None:
        applied = apply_checked(board, CreateLead("New", price=5))
        expected = Lead(5, "New", 1, INITIAL, 5, LATER, LATER)
        assert applied.events == (LeadCreated(revision=8, at=LATER, lead=expected),)
        assert applied.workspace.lead(5) == expected

    def test_goes_to_the_main_pipeline_when_none_is_named(self, board: Workspace) -> None:
        switched = run(board, SetMainPipeline(2))
        applied = apply_checked(switched, CreateLead("New"))
        assert applied.workspace.lead(5) == Lead(5, "New", 2, INITIAL, 0, LATER, LATER)

    def test_goes_to_the_first_open_stage_of_the_pipeline_named(self, board: Workspace) -> None:
        reordered = run(board, MoveStage(2, NEGOTIATION, 0))
        applied = apply_checked(reordered, CreateLead("New", pipeline_id=2))
        assert applied.workspace.lead(5) == Lead(5, "New", 2, NEGOTIATION, 0, LATER, LATER)

    @pytest.mark.parametrize(("pipeline_id", "stage_id"), [(None, NEGOTIATION), (2, OFFER)])
    def test_goes_to_the_open_stage_given(
        self, board: Workspace, pipeline_id: int | None, stage_id: int
    ) -> None:
        command = CreateLead("New", pipeline_id=pipeline_id, stage_id=stage_id)
        applied = apply_checked(board, command)
        lead = applied.workspace.lead(5)
        assert (lead.pipeline_id, lead.stage_id) == (pipeline_id or 1, stage_id)
        assert applied.workspace.leads_in(lead.pipeline_id, stage_id)[-1] == lead

    @pytest.mark.parametrize("pipeline_id", [None, 2])
    def test_with_incoming_waits_in_the_incoming_stage(
        self, board: Workspace, pipeline_id: int | None
    ) -> None:
        applied = apply_checked(
            board, CreateLead("Request", pipeline_id=pipeline_id, incoming=True)
        )
        expected = Lead(5, "Request", pipeline_id or 1, INCOMING, 0, LATER, LATER)
        assert applied.events == (LeadCreated(revision=8, at=LATER, lead=expected),)
        assert applied.workspace.leads_in(pipeline_id or 1, INCOMING)[-1] == expected

    def test_names_need_not_be_unique(self, board: Workspace) -> None:
        applied = apply_checked(board, CreateLead("acme"))
        assert [lead.name for lead in applied.workspace.leads_in(1, INITIAL)] == ["ACME", "acme"]

    def test_takes_ids_from_the_counter_and_never_reuses_them(self, board: Workspace) -> None:
        deleted = run(board, DeleteLead(4))
        applied = apply_checked(deleted, CreateLead("New"))
        assert set(applied.workspace.leads) == {1, 2, 3, 5}
        assert applied.workspace.next_lead_id == 6

    def test_takes_a_given_id_and_moves_the_counter_above_it(self, board: Workspace) -> None:
        applied = apply_checked(board, CreateLead("Big", lead_id=100))
        assert applied.workspace.lead(100).name == "Big"
        assert applied.workspace.next_lead_id == 101
        smaller = apply_checked(applied.workspace, CreateLead("Small", lead_id=50))
        assert smaller.workspace.next_lead_id == 101
        after = apply_checked(smaller.workspace, CreateLead("After"))
        assert after.workspace.lead(101).name == "After"

    def test_rejects_incoming_where_it_is_off(self) -> None:
        workspace = new_workspace()
        match = "pipeline 1 has its incoming leads stage switched off"
        with unchanged(workspace), pytest.raises(IncomingDisabled, match=match) as info:
            apply(workspace, CreateLead("Request", incoming=True), at=LATER)
        assert info.value.pipeline_id == 1

    def test_rejects_incoming_in_a_pipeline_named_where_it_is_off(self, board: Workspace) -> None:
        three = run(board, CreatePipeline("Plain"))
        with unchanged(three), pytest.raises(IncomingDisabled, match="pipeline 3 has"):
            apply(three, CreateLead("Request", pipeline_id=3, incoming=True), at=LATER)

    @pytest.mark.parametrize(
        ("stage_id", "label"), [(WON, "won"), (LOST, "lost"), (INCOMING, "incoming leads")]
    )
    def test_rejects_a_stage_that_is_not_open(
        self, board: Workspace, stage_id: int, label: str
    ) -> None:
        match = f"invalid target in pipeline 1: the {label} stage is not an open stage"
        with unchanged(board), pytest.raises(InvalidTarget, match=match) as info:
            apply(board, CreateLead("New", stage_id=stage_id), at=LATER)
        assert (info.value.pipeline_id, info.value.stage_id) == (1, stage_id)

    @pytest.mark.parametrize("stage_id", [INCOMING, INITIAL])
    def test_rejects_incoming_together_with_a_stage(self, board: Workspace, stage_id: int) -> None:
        match = "a lead sent to incoming leads cannot also name a stage"
        with unchanged(board), pytest.raises(InvalidTarget, match=match):
            apply(board, CreateLead("New", stage_id=stage_id, incoming=True), at=LATER)

    @pytest.mark.parametrize("price", [-1, -150_000])
    def test_rejects_a_negative_price(self, board: Workspace, price: int) -> None:
        match = f"at least 0; got {price}"
        with unchanged(board), pytest.raises(InvalidPrice, match=match) as info:
            apply(board, CreateLead("New", price=price), at=LATER)
        assert info.value.price == price

    @pytest.mark.parametrize(
        ("name", "match"),
        [
            ("", "cannot be empty"),
            ("  ", "cannot be empty"),
            ("a" * 256, "at most 255"),
            ("AC\nME", "control"),
            ("AC\u2029ME", "control"),
        ],
    )
    def test_rejects_an_invalid_name(self, board: Workspace, name: str, match: str) -> None:
        with unchanged(board), pytest.raises(InvalidName, match=match):
            apply(board, CreateLead(name), at=LATER)

    @pytest.mark.parametrize("lead_id", [1, 3, 4])
    def test_rejects_an_id_in_use(self, board: Workspace, lead_id: int) -> None:
        match = f"the workspace already has a lead with id {lead_id}"
        with unchanged(board), pytest.raises(DuplicateLeadId, match=match) as info:
            apply(board, CreateLead("New", lead_id=lead_id), at=LATER)
        assert info.value.value == lead_id

    @pytest.mark.parametrize("lead_id", [0, -1])
    def test_rejects_a_non_positive_id(self, board: Workspace, lead_id: int) -> None:
        match = f"lead ids are positive integers, got {lead_id}"
        with unchanged(board), pytest.raises(InvalidId, match=match):
            apply(board, CreateLead("New", lead_id=lead_id), at=LATER)

    def test_rejects_an_unknown_pipeline(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownPipeline, match="no pipeline has id 9"):
            apply(board, CreateLead("New", pipeline_id=9), at=LATER)

    def test_rejects_an_unknown_stage(self, board: Workspace) -> None:
        match = "no stage has id 999 in pipeline 2"
        with unchanged(board), pytest.raises(UnknownStage, match=match):
            apply(board, CreateLead("New", pipeline_id=2, stage_id=999), at=LATER)

    @pytest.mark.parametrize(
        ("command", "match"),
        [
            (CreateLead(None), "name must be a str"),  # type: ignore[arg-type]
            (CreateLead("New", price="10"), "price must be an int"),  # type: ignore[arg-type]
            (CreateLead("New", price=9.5), "price must be an int"),  # type: ignore[arg-type]
            (CreateLead("New", price=True), "price must be an int"),
            (CreateLead("New", pipeline_id="1"), "pipeline id must be an int"),  # type: ignore[arg-type]
            (CreateLead("New", stage_id="144"), "stage id must be an int"),  # type: ignore[arg-type]
            (CreateLead("New", incoming=1), "incoming must be a bool"),  # type: ignore[arg-type]
            (CreateLead("New", lead_id="5"), "lead id must be an int"),  # type: ignore[arg-type]
        ],
    )
    def test_a_wrong_type_is_a_type_error(
        self, board: Workspace, command: CreateLead, match: str
    ) -> None:
        with unchanged(board), pytest.raises(TypeError, match=match):
            apply(board, command, at=LATER)


class TestMoveLead:
    def test_moves_a_lead_within_its_pipeline(self, board: Workspace) -> None:
        applied = apply_checked(board, MoveLead(1, NEGOTIATION))
        assert applied.events == (moved(board, 1, from_stage=INITIAL, to_stage=NEGOTIATION),)
        result = applied.workspace
        lead = attrs.evolve(board.lead(1), stage_id=NEGOTIATION, stage_entered_at=LATER)
        assert result.lead(1) == lead
        assert result.leads_in(1, INITIAL) == ()
        assert result.leads_in(1, NEGOTIATION) == (lead,)
        assert result.stage_totals(1) == (
            StageTotal(INCOMING, 1, 0),
            StageTotal(INITIAL, 0, 0),
            StageTotal(OFFER, 1, 990),
            StageTotal(NEGOTIATION, 1, 150_000),
            StageTotal(WON, 0, 0),
            StageTotal(LOST, 0, 0),
        )
        assert result.revision == 8

    def test_moves_a_lead_to_another_pipeline(self, board: Workspace) -> None:
        applied = apply_checked(board, MoveLead(1, OFFER, pipeline_id=2))
        assert applied.events == (
            moved(board, 1, from_stage=INITIAL, to_pipeline=2, to_stage=OFFER),
        )
        result = applied.workspace
        lead = attrs.evolve(board.lead(1), pipeline_id=2, stage_id=OFFER, stage_entered_at=LATER)
        assert result.lead(1) == lead
        assert result.leads_in(1, INITIAL) == ()
        assert result.leads_in(2, OFFER) == (lead,)
        assert result.stage_totals(1)[1] == StageTotal(INITIAL, 0, 0)
        assert result.stage_totals(2)[2] == StageTotal(OFFER, 1, 150_000)

    def test_the_same_stage_id_in_another_pipeline_is_a_move(self, board: Workspace) -> None:
        applied = apply_checked(board, MoveLead(1, INITIAL, pipeline_id=2))
        assert applied.events == (
            moved(board, 1, from_stage=INITIAL, to_pipeline=2, to_stage=INITIAL),
        )
        assert [lead.id for lead in applied.workspace.leads_in(2, INITIAL)] == [1, 4]

    @pytest.mark.parametrize("stage_id", [WON, LOST])
    def test_into_won_or_lost_closes_the_lead(self, board: Workspace, stage_id: int) -> None:
        applied = apply_checked(board, MoveLead(2, stage_id))
        assert applied.events == (moved(board, 2, from_stage=OFFER, to_stage=stage_id),)
        assert applied.workspace.lead(2) == attrs.evolve(
            board.lead(2), stage_id=stage_id, stage_entered_at=LATER, closed_at=LATER
        )

    def test_into_won_of_another_pipeline_closes_the_lead(self, board: Workspace) -> None:
        applied = apply_checked(board, MoveLead(1, WON, pipeline_id=2))
        assert applied.workspace.lead(1) == attrs.evolve(
            board.lead(1), pipeline_id=2, stage_id=WON, stage_entered_at=LATER, closed_at=LATER
        )

    @pytest.mark.parametrize(
        ("close", "stage_id"),
        [(WinLead(1), INITIAL), (LoseLead(1, 2), OFFER), (LoseLead(1), NEGOTIATION)],
    )
    def test_back_to_an_open_stage_reopens_the_lead(
        self, board: Workspace, close: Command, stage_id: int
    ) -> None:
        closed = run(board, close, at=LATER)
        origin = closed.lead(1).stage_id
        applied = apply_checked(closed, MoveLead(1, stage_id), at=LATEST)
        assert applied.events == (
            moved(closed, 1, at=LATEST, from_stage=origin, to_stage=stage_id),
        )
        assert applied.workspace.lead(1) == attrs.evolve(
            board.lead(1), stage_id=stage_id, stage_entered_at=LATEST
        )
        lead = applied.workspace.lead(1)
        assert (lead.closed_at, lead.loss_reason_id) == (None, None)

    def test_reopens_a_lead_into_another_pipeline(self, board: Workspace) -> None:
        lost = run(board, LoseLead(1, 1), at=LATER)
        applied = apply_checked(lost, MoveLead(1, OFFER, pipeline_id=2), at=LATEST)
        assert applied.events == (
            moved(lost, 1, at=LATEST, from_stage=LOST, to_pipeline=2, to_stage=OFFER),
        )
        assert applied.workspace.lead(1) == attrs.evolve(
            board.lead(1), pipeline_id=2, stage_id=OFFER, stage_entered_at=LATEST
        )

    def test_from_lost_to_won_clears_the_reason_and_closes_again(self, board: Workspace) -> None:
        lost = run(board, LoseLead(1, 1), at=LATER)
        applied = apply_checked(lost, MoveLead(1, WON), at=LATEST)
        assert applied.events == (moved(lost, 1, at=LATEST, from_stage=LOST, to_stage=WON),)
        assert applied.workspace.lead(1) == attrs.evolve(
            board.lead(1), stage_id=WON, stage_entered_at=LATEST, closed_at=LATEST
        )

    def test_from_won_to_lost_closes_again_without_a_reason(self, board: Workspace) -> None:
        won = run(board, WinLead(1), at=LATER)
        applied = apply_checked(won, MoveLead(1, LOST), at=LATEST)
        assert applied.events == (moved(won, 1, at=LATEST, from_stage=WON, to_stage=LOST),)
        assert applied.workspace.lead(1) == attrs.evolve(
            board.lead(1), stage_id=LOST, stage_entered_at=LATEST, closed_at=LATEST
        )

    @pytest.mark.parametrize("pipeline_id", [None, 1])
    def test_to_the_stage_it_is_in_changes_nothing(
        self, board: Workspace, pipeline_id: int | None
    ) -> None:
        assert_changes_nothing(board, MoveLead(2, OFFER, pipeline_id=pipeline_id))

    @pytest.mark.parametrize("close", [WinLead(1), LoseLead(1, 2)])
    def test_a_closed_lead_to_its_own_stage_changes_nothing(
        self, board: Workspace, close: Command
    ) -> None:
        closed = run(board, close, at=LATER)
        assert_changes_nothing(closed, MoveLead(1, closed.lead(1).stage_id))

    @pytest.mark.parametrize("pipeline_id", [None, 2])
    def test_rejects_a_move_into_incoming(self, board: Workspace, pipeline_id: int | None) -> None:
        match = r"the incoming leads stage \(id 147\) cannot be entered by a move"
        with unchanged(board), pytest.raises(StageLocked, match=match) as info:
            apply(board, MoveLead(1, INCOMING, pipeline_id=pipeline_id), at=LATER)
        assert info.value.stage_id == INCOMING

    @pytest.mark.parametrize(
        ("stage_id", "pipeline_id"),
        [(INITIAL, None), (WON, None), (OFFER, 2), (INCOMING, None), (INCOMING, 2)],
    )
    def test_rejects_a_move_out_of_incoming(
        self, board: Workspace, stage_id: int, pipeline_id: int | None
    ) -> None:
        # Moving it to the incoming stage it waits in is refused too: the lock comes first.
        match = r"the incoming leads stage \(id 147\) cannot be left by a move"
        with unchanged(board), pytest.raises(StageLocked, match=match):
            apply(board, MoveLead(3, stage_id, pipeline_id=pipeline_id), at=LATER)

    def test_rejects_an_unknown_lead(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownLead, match="no lead has id 99") as info:
            apply(board, MoveLead(99, OFFER), at=LATER)
        assert info.value.lead_id == 99

    def test_rejects_an_unknown_pipeline(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownPipeline, match="no pipeline has id 9"):
            apply(board, MoveLead(1, OFFER, pipeline_id=9), at=LATER)

    @pytest.mark.parametrize("pipeline_id", [None, 2])
    def test_rejects_an_unknown_stage(self, board: Workspace, pipeline_id: int | None) -> None:
        match = f"no stage has id 999 in pipeline {pipeline_id or 1}"
        with unchanged(board), pytest.raises(UnknownStage, match=match):
            apply(board, MoveLead(1, 999, pipeline_id=pipeline_id), at=LATER)

    def test_rejects_a_stage_that_only_another_pipeline_has(self, board: Workspace) -> None:
        three = run(board, CreatePipeline("Plain"))
        # Pipeline 3 has no incoming stage: 147 is unknown there.
        with unchanged(three), pytest.raises(UnknownStage, match="no stage has id 147"):
            apply(three, MoveLead(1, INCOMING, pipeline_id=3), at=LATER)

    @pytest.mark.parametrize(
        ("command", "match"),
        [
            (MoveLead("1", OFFER), "lead id must be an int"),  # type: ignore[arg-type]
            (MoveLead(1, "145"), "stage id must be an int"),  # type: ignore[arg-type]
            (MoveLead(1, OFFER, pipeline_id=2.0), "pipeline id must be an int"),  # type: ignore[arg-type]
            (MoveLead(True, OFFER), "lead id must be an int"),
        ],
    )
    def test_a_wrong_type_is_a_type_error(
        self, board: Workspace, command: MoveLead, match: str
    ) -> None:
        with unchanged(board), pytest.raises(TypeError, match=match):
            apply(board, command, at=LATER)


class TestWinLead:
    def test_moves_the_lead_to_won_and_closes_it(self, board: Workspace) -> None:
        applied = apply_checked(board, WinLead(2))
        assert applied.events == (moved(board, 2, from_stage=OFFER, to_stage=WON),)
        lead = attrs.evolve(board.lead(2), stage_id=WON, stage_entered_at=LATER, closed_at=LATER)
        assert applied.workspace.lead(2) == lead
        assert applied.workspace.stage_totals(1)[4] == StageTotal(WON, 1, 990)

    def test_moves_the_lead_to_the_won_stage_of_its_pipeline(self, board: Workspace) -> None:
        applied = apply_checked(board, WinLead(4))
        assert applied.events == (
            moved(board, 4, from_pipeline=2, from_stage=INITIAL, to_pipeline=2, to_stage=WON),
        )
        assert applied.workspace.leads_in(2, WON) == (applied.workspace.lead(4),)
        assert applied.workspace.leads_in(1, WON) == ()

    def test_wins_a_lost_lead_clearing_its_reason(self, board: Workspace) -> None:
        lost = run(board, LoseLead(1, 1), at=LATER)
        applied = apply_checked(lost, WinLead(1), at=LATEST)
        assert applied.events == (moved(lost, 1, at=LATEST, from_stage=LOST, to_stage=WON),)
        assert applied.workspace.lead(1) == attrs.evolve(
            board.lead(1), stage_id=WON, stage_entered_at=LATEST, closed_at=LATEST
        )

    def test_of_a_won_lead_changes_nothing(self, board: Workspace) -> None:
        won = run(board, WinLead(1), at=LATER)
        assert_changes_nothing(won, WinLead(1))
        assert won.lead(1).closed_at == LATER

    def test_rejects_a_lead_in_incoming(self, board: Workspace) -> None:
        match = r"the incoming leads stage \(id 147\) cannot be left by a move"
        with unchanged(board), pytest.raises(StageLocked, match=match):
            apply(board, WinLead(3), at=LATER)

    def test_rejects_an_unknown_lead(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownLead, match="no lead has id 5"):
            apply(board, WinLead(5), at=LATER)

    def test_an_id_of_a_wrong_type_is_a_type_error(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(TypeError, match="lead id must be an int"):
            apply(board, WinLead("1"), at=LATER)  # type: ignore[arg-type]


class TestLoseLead:
    def test_moves_the_lead_to_lost_with_the_reason(self, board: Workspace) -> None:
        applied = apply_checked(board, LoseLead(2, loss_reason_id=1))
        assert applied.events == (
            moved(board, 2, from_stage=OFFER, to_stage=LOST, loss_reason_id=1),
        )
        assert applied.workspace.lead(2) == attrs.evolve(
            board.lead(2),
            stage_id=LOST,
            stage_entered_at=LATER,
            closed_at=LATER,
            loss_reason_id=1,
        )
        assert applied.workspace.stage_totals(1)[5] == StageTotal(LOST, 1, 990)

    def test_moves_the_lead_to_lost_without_a_reason(self, board: Workspace) -> None:
        applied = apply_checked(board, LoseLead(4))
        assert applied.events == (
            moved(board, 4, from_pipeline=2, from_stage=INITIAL, to_pipeline=2, to_stage=LOST),
        )
        assert applied.workspace.lead(4) == attrs.evolve(
            board.lead(4), stage_id=LOST, stage_entered_at=LATER, closed_at=LATER
        )

    def test_loses_a_won_lead_closing_it_again(self, board: Workspace) -> None:
        won = run(board, WinLead(1), at=LATER)
        applied = apply_checked(won, LoseLead(1, 2), at=LATEST)
        assert applied.events == (
            moved(won, 1, at=LATEST, from_stage=WON, to_stage=LOST, loss_reason_id=2),
        )
        assert applied.workspace.lead(1) == attrs.evolve(
            board.lead(1),
            stage_id=LOST,
            stage_entered_at=LATEST,
            closed_at=LATEST,
            loss_reason_id=2,
        )

    @pytest.mark.parametrize(("old", "new"), [(1, 2), (None, 1), (2, None)])
    def test_of_a_lost_lead_only_updates_the_reason(
        self, board: Workspace, old: int | None, new: int | None
    ) -> None:
        lost = run(board, LoseLead(1, old), at=LATER)
        applied = apply_checked(lost, LoseLead(1, new), at=LATEST)
        assert applied.events == (
            moved(lost, 1, at=LATEST, from_stage=LOST, to_stage=LOST, loss_reason_id=new),
        )
        # Still closed since it was lost, and still in lost since then.
        assert applied.workspace.lead(1) == attrs.evolve(lost.lead(1), loss_reason_id=new)
        assert applied.workspace.lead(1).closed_at == LATER
        assert applied.workspace.lead(1).stage_entered_at == LATER
        assert applied.workspace.revision == lost.revision + 1

    @pytest.mark.parametrize("reason", [None, 2])
    def test_of_a_lost_lead_with_the_same_reason_changes_nothing(
        self, board: Workspace, reason: int | None
    ) -> None:
        lost = run(board, LoseLead(1, reason), at=LATER)
        assert_changes_nothing(lost, LoseLead(1, reason))

    def test_rejects_an_unknown_reason(self, board: Workspace) -> None:
        match = "no loss reason has id 99"
        with unchanged(board), pytest.raises(UnknownLossReason, match=match) as info:
            apply(board, LoseLead(1, 99), at=LATER)
        assert info.value.reason_id == 99

    def test_rejects_an_unknown_reason_for_a_lost_lead(self, board: Workspace) -> None:
        lost = run(board, LoseLead(1, 1), at=LATER)
        with unchanged(lost), pytest.raises(UnknownLossReason, match="no loss reason has id 3"):
            apply(lost, LoseLead(1, 3), at=LATEST)

    def test_rejects_a_deleted_reason(self, board: Workspace) -> None:
        deleted = run(board, DeleteLossReason(2))
        with unchanged(deleted), pytest.raises(UnknownLossReason, match="no loss reason has id 2"):
            apply(deleted, LoseLead(1, 2), at=LATER)

    @pytest.mark.parametrize("reason", [None, 1])
    def test_rejects_a_lead_in_incoming(self, board: Workspace, reason: int | None) -> None:
        match = r"the incoming leads stage \(id 147\) cannot be left by a move"
        with unchanged(board), pytest.raises(StageLocked, match=match):
            apply(board, LoseLead(3, reason), at=LATER)

    def test_rejects_an_unknown_lead(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownLead, match="no lead has id 5"):
            apply(board, LoseLead(5, 1), at=LATER)

    def test_a_reason_of_a_wrong_type_is_a_type_error(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(TypeError, match="loss reason id must be an int"):
            apply(board, LoseLead(1, "1"), at=LATER)  # type: ignore[arg-type]


class TestAcceptLead:
    def test_moves_the_lead_to_the_first_open_stage(self, board: Workspace) -> None:
        applied = apply_checked(board, AcceptLead(3))
        assert applied.events == (
            LeadAccepted(
                revision=8,
                at=LATER,
                lead_id=3,
                pipeline_id=1,
                from_stage_id=INCOMING,
                to_stage_id=INITIAL,
            ),
        )
        lead = attrs.evolve(board.lead(3), stage_id=INITIAL, stage_entered_at=LATER)
        result = applied.workspace
        assert result.lead(3) == lead
        assert result.leads_in(1, INCOMING) == ()
        assert result.leads_in(1, INITIAL) == (board.lead(1), lead)
        assert (lead.created_at, lead.closed_at) == (AT, None)

    def test_moves_the_lead_to_the_open_stage_given(self, board: Workspace) -> None:
        applied = apply_checked(board, AcceptLead(3, stage_id=NEGOTIATION))
        assert applied.events == (
            LeadAccepted(
                revision=8,
                at=LATER,
                lead_id=3,
                pipeline_id=1,
                from_stage_id=INCOMING,
                to_stage_id=NEGOTIATION,
            ),
        )
        assert applied.workspace.lead(3) == attrs.evolve(
            board.lead(3), stage_id=NEGOTIATION, stage_entered_at=LATER
        )

    def test_follows_the_order_of_the_open_stages(self, board: Workspace) -> None:
        reordered = run(board, MoveStage(1, OFFER, 0))
        applied = apply_checked(reordered, AcceptLead(3))
        assert applied.workspace.lead(3).stage_id == OFFER

    def test_accepts_within_the_leads_pipeline(self, board: Workspace) -> None:
        waiting = run(board, CreateLead("Partner request", pipeline_id=2, incoming=True))
        applied = apply_checked(waiting, AcceptLead(5, stage_id=OFFER))
        assert applied.events == (
            LeadAccepted(
                revision=9,
                at=LATER,
                lead_id=5,
                pipeline_id=2,
                from_stage_id=INCOMING,
                to_stage_id=OFFER,
            ),
        )
        assert applied.workspace.lead(5).pipeline_id == 2

    def test_an_accepted_lead_moves_freely(self, board: Workspace) -> None:
        accepted = run(board, AcceptLead(3))
        applied = apply_checked(accepted, MoveLead(3, OFFER, pipeline_id=2))
        assert applied.workspace.lead(3).pipeline_id == 2

    @pytest.mark.parametrize(
        ("stage_id", "label"), [(WON, "won"), (LOST, "lost"), (INCOMING, "incoming leads")]
    )
    def test_rejects_a_stage_that_is_not_open(
        self, board: Workspace, stage_id: int, label: str
    ) -> None:
        match = f"invalid target in pipeline 1: the {label} stage is not an open stage"
        with unchanged(board), pytest.raises(InvalidTarget, match=match):
            apply(board, AcceptLead(3, stage_id=stage_id), at=LATER)

    def test_rejects_an_unknown_stage(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownStage, match="no stage has id 999"):
            apply(board, AcceptLead(3, stage_id=999), at=LATER)

    @pytest.mark.parametrize(("lead_id", "stage_id"), [(1, INITIAL), (2, OFFER), (4, INITIAL)])
    def test_rejects_a_lead_that_is_not_incoming(
        self, board: Workspace, lead_id: int, stage_id: int
    ) -> None:
        match = (
            rf"lead {lead_id} is not waiting in an incoming leads stage \(it is in stage"
            rf" {stage_id}\), so it cannot be accepted or declined"
        )
        with unchanged(board), pytest.raises(LeadNotIncoming, match=match) as info:
            apply(board, AcceptLead(lead_id), at=LATER)
        assert (info.value.lead_id, info.value.stage_id) == (lead_id, stage_id)

    def test_rejects_a_closed_lead(self, board: Workspace) -> None:
        won = run(board, WinLead(1))
        with unchanged(won), pytest.raises(LeadNotIncoming, match="it is in stage 142"):
            apply(won, AcceptLead(1), at=LATER)

    def test_rejects_an_accepted_lead(self, board: Workspace) -> None:
        accepted = run(board, AcceptLead(3))
        with unchanged(accepted), pytest.raises(LeadNotIncoming, match="lead 3 is not"):
            apply(accepted, AcceptLead(3), at=LATER)

    def test_rejects_an_unknown_lead(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownLead, match="no lead has id 5"):
            apply(board, AcceptLead(5), at=LATER)

    def test_a_stage_of_a_wrong_type_is_a_type_error(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(TypeError, match="stage id must be an int"):
            apply(board, AcceptLead(3, stage_id="144"), at=LATER)  # type: ignore[arg-type]


class TestDeclineLead:
    def test_removes_the_lead_and_records_it(self, board: Workspace) -> None:
        applied = apply_checked(board, DeclineLead(3))
        assert applied.events == (LeadDeclined(revision=8, at=LATER, lead=board.lead(3)),)
        result = applied.workspace
        assert set(result.leads) == {1, 2, 4}
        assert result.leads_in(1, INCOMING) == ()
        assert result.stage_totals(1)[0] == StageTotal(INCOMING, 0, 0)
        assert result.revision == 8
        with pytest.raises(UnknownLead, match="no lead has id 3"):
            result.lead(3)

    def test_never_gives_the_declined_id_out_again(self, board: Workspace) -> None:
        declined = run(board, CreateLead("Spam", incoming=True), DeclineLead(5))
        applied = apply_checked(declined, CreateLead("Next"))
        assert set(applied.workspace.leads) == {1, 2, 3, 4, 6}

    def test_declines_a_lead_of_another_pipeline(self, board: Workspace) -> None:
        waiting = run(board, CreateLead("Spam", price=3, pipeline_id=2, incoming=True))
        applied = apply_checked(waiting, DeclineLead(5))
        assert applied.events == (LeadDeclined(revision=9, at=LATER, lead=waiting.lead(5)),)
        assert applied.workspace.leads_in(2, INCOMING) == ()

    @pytest.mark.parametrize(("lead_id", "stage_id"), [(1, INITIAL), (4, INITIAL)])
    def test_rejects_a_lead_that_is_not_incoming(
        self, board: Workspace, lead_id: int, stage_id: int
    ) -> None:
        match = (
            rf"lead {lead_id} is not waiting in an incoming leads stage"
            rf" \(it is in stage {stage_id}\)"
        )
        with unchanged(board), pytest.raises(LeadNotIncoming, match=match):
            apply(board, DeclineLead(lead_id), at=LATER)

    def test_rejects_a_lost_lead(self, board: Workspace) -> None:
        lost = run(board, LoseLead(2, 1))
        with unchanged(lost), pytest.raises(LeadNotIncoming, match="it is in stage 143"):
            apply(lost, DeclineLead(2), at=LATER)

    def test_rejects_an_unknown_lead(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownLead, match="no lead has id 5"):
            apply(board, DeclineLead(5), at=LATER)


class TestDeleteLead:
    @pytest.mark.parametrize(
        ("setup", "lead_id"),
        [
            ((), 1),
            ((), 3),
            ((), 4),
            ((WinLead(2),), 2),
            ((LoseLead(2, 1),), 2),
        ],
        ids=["open", "incoming", "other pipeline", "won", "lost"],
    )
    def test_removes_the_lead_from_anywhere(
        self, board: Workspace, setup: tuple[Command, ...], lead_id: int
    ) -> None:
        workspace = run(board, *setup)
        lead = workspace.lead(lead_id)
        applied = apply_checked(workspace, DeleteLead(lead_id))
        assert applied.events == (
            LeadDeleted(revision=workspace.revision + 1, at=LATER, lead=lead),
        )
        result = applied.workspace
        assert set(result.leads) == set(workspace.leads) - {lead_id}
        assert result.leads_in(lead.pipeline_id, lead.stage_id) == ()
        total = next(
            total
            for total in result.stage_totals(lead.pipeline_id)
            if total.stage_id == lead.stage_id
        )
        assert total == StageTotal(lead.stage_id, 0, 0)

    def test_never_gives_the_deleted_id_out_again(self, board: Workspace) -> None:
        deleted = run(board, DeleteLead(4))
        applied = apply_checked(deleted, CreateLead("Next"))
        assert set(applied.workspace.leads) == {1, 2, 3, 5}

    def test_rejects_an_unknown_lead(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownLead, match="no lead has id 5"):
            apply(board, DeleteLead(5), at=LATER)

    def test_rejects_a_lead_deleted_already(self, board: Workspace) -> None:
        deleted = run(board, DeleteLead(1))
        with unchanged(deleted), pytest.raises(UnknownLead, match="no lead has id 1"):
            apply(deleted, DeleteLead(1), at=LATER)

    def test_an_id_of_a_wrong_type_is_a_type_error(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(TypeError, match="lead id must be an int"):
            apply(board, DeleteLead(None), at=LATER)  # type: ignore[arg-type]


# -- lead versions (issue 20) ----------------------------------------------------------


def versions(workspace: Workspace) -> dict[int, int]:
    """Each lead's version, by lead id: lead equality leaves the version out."""
    return {lead_id: lead.version for lead_id, lead in workspace.leads.items()}


def at_version(workspace: Workspace, lead_id: int, version: int) -> Workspace:
    """Return *workspace* built again, its lead *lead_id* at *version*."""
    leads = dict(workspace.leads)
    leads[lead_id] = attrs.evolve(leads[lead_id], version=version)
    return Workspace(
        pipelines=workspace.pipelines,
        main_pipeline_id=workspace.main_pipeline_id,
        leads=leads,
        loss_reasons=workspace.loss_reasons,
        revision=workspace.revision,
    )


class TestLeadVersion:
    def test_a_new_lead_is_at_version_0(self, board: Workspace) -> None:
        assert versions(board) == {1: 0, 2: 0, 3: 0, 4: 0}
        applied = apply_checked(board, CreateLead("New"))
        (event,) = applied.events
        assert isinstance(event, LeadCreated)
        assert event.lead.version == 0
        assert versions(applied.workspace) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}

    @pytest.mark.parametrize(
        ("setup", "command", "lead_id"),
        [
            ((), MoveLead(1, OFFER), 1),
            ((), MoveLead(1, OFFER, pipeline_id=2), 1),
            ((), WinLead(2), 2),
            ((), LoseLead(2), 2),
            ((), LoseLead(2, 1), 2),
            ((LoseLead(2, 1),), LoseLead(2, 2), 2),
            ((LoseLead(2, 1),), LoseLead(2), 2),
            ((WinLead(2),), LoseLead(2, 1), 2),
            ((), AcceptLead(3), 3),
            ((), AcceptLead(3, stage_id=NEGOTIATION), 3),
            ((), DeleteStage(1, INITIAL), 1),
            ((), DeleteStage(2, INITIAL, move_leads_to=OFFER), 4),
        ],
        ids=[
            "move",
            "move to another pipeline",
            "win",
            "lose",
            "lose with a reason",
            "another loss reason",
            "the loss reason taken away",
            "lose a won lead",
            "accept",
            "accept into a stage",
            "relocation",
            "relocation to a stage named",
        ],
    )
    def test_each_change_to_a_lead_adds_one_to_its_version_alone(
        self,
        board: Workspace,
        setup: tuple[Command, ...],
        command: Command,
        lead_id: int,
    ) -> None:
        workspace = run(board, *setup)
        before = versions(workspace)
        applied = apply_checked(workspace, command)
        assert versions(applied.workspace) == {**before, lead_id: before[lead_id] + 1}
        assert versions(workspace) == before

    def test_the_version_counts_every_change(self, board: Workspace) -> None:
        workspace = run(
            board,
            MoveLead(1, OFFER),
            MoveLead(1, NEGOTIATION),
            MoveLead(1, INITIAL),  # back where it started: equal to itself before, but changed
            WinLead(1),
            LoseLead(1, 1),
            LoseLead(1, 2),
        )
        assert workspace.lead(1).version == 6
        assert workspace.lead(1) == attrs.evolve(
            board.lead(1), stage_id=LOST, closed_at=AT, loss_reason_id=2
        )

    @pytest.mark.parametrize(
        ("setup", "command"),
        [
            ((), MoveLead(1, INITIAL)),
            ((), MoveLead(4, INITIAL, pipeline_id=2)),
            ((WinLead(1),), WinLead(1)),
            ((LoseLead(1, 1),), LoseLead(1, 1)),
            ((LoseLead(1),), LoseLead(1)),
        ],
        ids=["move in place", "move in place, pipeline named", "win", "lose", "lose, no reason"],
    )
    def test_a_command_that_changes_nothing_leaves_the_version(
        self, board: Workspace, setup: tuple[Command, ...], command: Command
    ) -> None:
        workspace = run(board, *setup)
        before = versions(workspace)
        assert_changes_nothing(workspace, command)
        assert versions(workspace) == before

    def test_a_move_an_automation_makes_adds_one(self, board: Workspace) -> None:
        workspace = run(
            board,
            AddAutomation(1, (INITIAL,), Trigger.ENTERED, MoveTo(NEGOTIATION)),
            CreateLead("New"),
        )
        applied = apply_checked(workspace, RunDue(), at=LATER)
        assert applied.workspace.lead(5).stage_id == NEGOTIATION
        assert versions(applied.workspace) == {**versions(workspace), 5: 1}

    def test_scheduled_actions_leave_the_version(self, board: Workspace) -> None:
        email = HostAction("send_email")
        workspace = run(
            board, AddAutomation(1, (OFFER,), Trigger.ENTERED, email), MoveLead(1, OFFER)
        )
        assert workspace.lead(1).version == 1
        (item,) = workspace.scheduled
        handed = run(workspace, RunDue(), at=LATER)
        assert handed.scheduled_action(item.id).handed_over_at == LATER
        done = run(handed, CompleteAction(item.id), at=LATEST)
        assert done.scheduled == ()
        assert versions(handed) == versions(done) == versions(workspace)

    def test_replaying_the_events_gives_the_same_versions(self, board: Workspace) -> None:
        commands: list[Command] = [
            MoveLead(1, OFFER),
            AcceptLead(3),
            WinLead(1),
            DeleteStage(1, OFFER),
            LoseLead(1, 1),
        ]
        workspace, logged = board, list[Event]()
        for command in commands:
            applied = apply(workspace, command, at=LATER)
            workspace, logged = applied.workspace, [*logged, *applied.events]
        assert versions(workspace) == {1: 3, 2: 1, 3: 1, 4: 0}
        assert versions(replay(logged, initial=board)) == versions(workspace)

    def test_the_codec_keeps_the_versions(self, board: Workspace) -> None:
        workspace = run(board, MoveLead(1, OFFER), WinLead(1), AcceptLead(3))
        assert versions(load(Workspace, dump(workspace))) == {1: 2, 2: 0, 3: 1, 4: 0}

    def test_a_lead_at_the_last_version_takes_no_more_changes(self, board: Workspace) -> None:
        workspace = at_version(board, 1, MAX_REVISION)
        with unchanged(workspace), pytest.raises(InvalidVersion, match="got 9007199254740992"):
            apply(workspace, MoveLead(1, OFFER), at=LATER)


def _move(version: int | None) -> Command:
    return MoveLead(1, OFFER, expected_version=version)


def _win(version: int | None) -> Command:
    return WinLead(1, expected_version=version)


def _lose(version: int | None) -> Command:
    return LoseLead(1, 2, expected_version=version)


def _delete(version: int | None) -> Command:
    return DeleteLead(1, expected_version=version)


def _accept(version: int | None) -> Command:
    return AcceptLead(3, expected_version=version)


def _decline(version: int | None) -> Command:
    return DeclineLead(3, expected_version=version)


VERSIONED: Final = [(_move, 1), (_win, 1), (_lose, 1), (_delete, 1), (_accept, 3), (_decline, 3)]
"""Each command that names a lead's expected version, with the lead it names."""
VERSIONED_IDS: Final = [
    "MoveLead",
    "WinLead",
    "LoseLead",
    "DeleteLead",
    "AcceptLead",
    "DeclineLead",
]


def seen(board: Workspace) -> Workspace:
    """*board* with lead 1 moved twice (version 2), and lead 3 built at version 2."""
    return at_version(run(board, MoveLead(1, NEGOTIATION), MoveLead(1, INITIAL)), 3, 2)


class TestExpectedVersion:
    @pytest.mark.parametrize(("make", "lead_id"), VERSIONED, ids=VERSIONED_IDS)
    def test_the_version_the_lead_is_at_is_applied(
        self, board: Workspace, make: Callable[[int | None], Command], lead_id: int
    ) -> None:
        workspace = seen(board)
        assert workspace.lead(lead_id).version == 2
        applied = apply_checked(workspace, make(2))
        assert applied.events == apply(workspace, make(None), at=LATER).events
        assert applied.events

    @pytest.mark.parametrize("expected", [0, 1, 3])
    @pytest.mark.parametrize(("make", "lead_id"), VERSIONED, ids=VERSIONED_IDS)
    def test_any_other_version_raises_lead_version_conflict(
        self,
        board: Workspace,
        make: Callable[[int | None], Command],
        lead_id: int,
        expected: int,
    ) -> None:
        workspace = seen(board)
        before = versions(workspace)
        match = f"^expected lead {lead_id} at version {expected}, but it is at version 2$"
        with unchanged(workspace), pytest.raises(LeadVersionConflict, match=match) as info:
            apply(workspace, make(expected), at=LATER)
        error = info.value
        assert (error.lead_id, error.expected, error.actual) == (lead_id, expected, 2)
        assert isinstance(error, RevisionConflict)
        assert error.code == "lead_version_conflict"
        assert versions(workspace) == before

    def test_a_client_that_saw_the_lead_before_a_change_conflicts(self, board: Workspace) -> None:
        seen_at = board.lead(1).version
        changed = run(board, MoveLead(1, NEGOTIATION))
        with pytest.raises(LeadVersionConflict, match="at version 0, but it is at version 1"):
            apply(changed, MoveLead(1, OFFER, expected_version=seen_at), at=LATER)
        fresh = changed.lead(1).version
        applied = apply_checked(changed, MoveLead(1, OFFER, expected_version=fresh))
        assert applied.workspace.lead(1).stage_id == OFFER

    def test_a_change_to_another_lead_never_conflicts(self, board: Workspace) -> None:
        workspace = run(
            board,
            MoveLead(2, NEGOTIATION),
            WinLead(4),
            AcceptLead(3),
            CreateLead("New"),
            DeleteLead(2),
            DeleteStage(1, NEGOTIATION),
        )
        assert workspace.revision > board.revision
        for command in (
            MoveLead(1, OFFER, expected_version=0),
            WinLead(1, expected_version=0),
            LoseLead(1, 1, expected_version=0),
            DeleteLead(1, expected_version=0),
        ):
            assert apply_checked(workspace, command).events

    def test_a_stale_version_is_told_before_any_rule(self, board: Workspace) -> None:
        workspace = seen(board)
        for command in (
            MoveLead(1, 999, expected_version=0),  # an unknown stage
            MoveLead(1, INITIAL, expected_version=0),  # where it is: would change nothing
            LoseLead(1, 99, expected_version=0),  # an unknown loss reason
        ):
            with unchanged(workspace), pytest.raises(LeadVersionConflict):
                apply(workspace, command, at=LATER)

    def test_an_unknown_lead_raises_unknown_lead_whatever_the_version(
        self, board: Workspace
    ) -> None:
        with unchanged(board), pytest.raises(UnknownLead, match="no lead has id 9"):
            apply(board, MoveLead(9, OFFER, expected_version=0), at=LATER)

    @pytest.mark.parametrize("version", ["0", True, 0.0])
    def test_a_version_that_is_not_an_int_is_a_type_error(
        self, board: Workspace, version: object
    ) -> None:
        command = WinLead(1, expected_version=version)  # type: ignore[arg-type]
        with unchanged(board), pytest.raises(TypeError, match="expected_version must be an int"):
            apply(board, command, at=LATER)

    def test_the_expected_revision_is_checked_apart(self, board: Workspace) -> None:
        command = MoveLead(1, OFFER, expected_version=0)
        assert apply_checked(board, command).events
        applied = apply(board, command, at=LATER, expected_revision=board.revision)
        assert applied.workspace.lead(1).stage_id == OFFER
        with pytest.raises(RevisionConflict) as info:
            apply(board, command, at=LATER, expected_revision=board.revision - 1)
        assert type(info.value) is RevisionConflict


class TestExpectedVersionOnTheLeadLevel:
    """The same through ``apply_to_leads``: a host's own table, and an account beside it."""

    @pytest.mark.parametrize(("make", "lead_id"), VERSIONED, ids=VERSIONED_IDS)
    def test_the_version_the_lead_is_at_is_applied(
        self, board: Workspace, make: Callable[[int | None], Command], lead_id: int
    ) -> None:
        workspace = seen(board)
        table = DictLeads.of(workspace)
        result = apply_to_leads(rebuilt(workspace.account), table, make(2), at=LATER)
        assert result.events == apply(workspace, make(2), at=LATER).events
        assert lead_id in result.records

    @pytest.mark.parametrize("expected", [1, 3])
    @pytest.mark.parametrize(("make", "lead_id"), VERSIONED, ids=VERSIONED_IDS)
    def test_any_other_version_raises_lead_version_conflict(
        self,
        board: Workspace,
        make: Callable[[int | None], Command],
        lead_id: int,
        expected: int,
    ) -> None:
        workspace = seen(board)
        table = DictLeads.of(workspace)
        before = table.state()
        match = f"^expected lead {lead_id} at version {expected}, but it is at version 2$"
        with pytest.raises(LeadVersionConflict, match=match) as info:
            apply_to_leads(rebuilt(workspace.account), table, make(expected), at=LATER)
        error = info.value
        assert (error.lead_id, error.expected, error.actual) == (lead_id, expected, 2)
        assert table.state() == before

    def test_a_change_to_another_lead_never_conflicts(self, board: Workspace) -> None:
        account, table = rebuilt(board.account), DictLeads.of(board)
        for command in (MoveLead(2, NEGOTIATION), AcceptLead(3), WinLead(4), DeleteLead(2)):
            result = apply_to_leads(account, table, command, at=LATER)
            table.write(result.records)
            account = result.account
        assert account.revision == board.revision + 4
        result = apply_to_leads(account, table, WinLead(1, expected_version=0), at=LATEST)
        table.write(result.records)
        assert table.state()[1][1] == 1  # lead 1's version
        with pytest.raises(LeadVersionConflict, match="at version 0, but it is at version 1"):
            apply_to_leads(result.account, table, LoseLead(1, expected_version=0), at=LATEST)
