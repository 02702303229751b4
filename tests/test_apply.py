"""``apply`` itself: the time, the expected revision, revision counting, events, and types (W7).

The commands' own rules are tested per command in ``test_apply_stages``,
``test_apply_pipelines``, ``test_apply_leads`` and ``test_apply_reasons``; here is what
``apply`` promises for every command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

import attrs
import pytest

from pipekit import (
    AcceptLead,
    AddLossReason,
    AddStage,
    Command,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DeleteLead,
    DeleteLossReason,
    DeletePipeline,
    DeleteStage,
    DisableIncoming,
    EnableIncoming,
    Lead,
    LeadCreated,
    LeadMoved,
    LeadsRelocated,
    LoseLead,
    MoveLead,
    MovePipeline,
    MoveStage,
    PipekitError,
    RecolorStage,
    RenameLossReason,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RevisionConflict,
    RuleViolation,
    SetMainPipeline,
    StageDeleted,
    StageKind,
    UnknownLead,
    UnknownLossReason,
    UnknownPipeline,
    UnknownStage,
    WinLead,
    Workspace,
    apply,
    default_pipeline,
    new_workspace,
)
from tests.apply_helpers import (
    AT,
    INITIAL,
    LATER,
    LATEST,
    OFFER,
    run,
    unchanged,
)


@pytest.fixture
def board() -> Workspace:
    """Incoming leads on; lead 1 in Initial Contact, lead 2 waiting in incoming; reason 1.

    Revision 3.
    """
    return run(
        new_workspace(incoming=True),
        AddLossReason("Too expensive"),
        CreateLead("ACME", price=150_000),
        CreateLead("Initech", incoming=True),
    )


class TestTheTime:
    def test_is_carried_by_the_events_and_the_lead(self, board: Workspace) -> None:
        applied = apply(board, MoveLead(1, OFFER), at=LATEST)
        assert [event.at for event in applied.events] == [LATEST]
        assert applied.workspace.lead(1).stage_entered_at == LATEST

    def test_may_be_in_any_time_zone(self, board: Workspace) -> None:
        tokyo = datetime(2026, 11, 27, 18, 30, tzinfo=timezone(timedelta(hours=9)))
        applied = apply(board, MoveLead(1, OFFER), at=tokyo)
        (event,) = applied.events
        assert event.at == tokyo
        assert event.at.utcoffset() == timedelta(hours=9)
        assert applied.workspace.lead(1).stage_entered_at == tokyo

    def test_may_be_long_ago(self) -> None:
        # The core never reads the clock: any aware time is taken as given.
        past = datetime(1999, 1, 1, tzinfo=UTC)
        applied = apply(new_workspace(), CreateLead("ACME"), at=past)
        assert applied.workspace.lead(1).created_at == past

    @pytest.mark.parametrize(
        "command",
        [CreateLead("ACME"), MoveLead(1, INITIAL), MoveLead(99, OFFER)],
        ids=["changing", "changing nothing", "refused"],
    )
    def test_naive_is_a_value_error_not_a_rule_violation(
        self, board: Workspace, command: Command
    ) -> None:
        naive = datetime(2026, 11, 27, 9, 30)
        with (
            unchanged(board),
            pytest.raises(ValueError, match="at must be timezone-aware") as info,
        ):
            apply(board, command, at=naive)
        assert not isinstance(info.value, PipekitError)

    @pytest.mark.parametrize(
        "at",
        ["2026-11-27T09:30:00+00:00", date(2026, 11, 27), 1_795_772_200, None],
        ids=["str", "date", "int", "None"],
    )
    def test_of_a_wrong_type_is_a_type_error(self, board: Workspace, at: object) -> None:
        with unchanged(board), pytest.raises(TypeError, match="at must be a datetime"):
            apply(board, CreateLead("ACME"), at=at)  # type: ignore[arg-type]  # on purpose

    def test_is_keyword_only(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(TypeError):
            apply(board, CreateLead("ACME"), AT)  # type: ignore[call-arg]  # on purpose


class TestExpectedRevision:
    def test_that_matches_lets_the_command_through(self, board: Workspace) -> None:
        applied = apply(board, MoveLead(1, OFFER), at=LATER, expected_revision=3)
        assert applied.workspace.revision == 4
        assert applied.events == (
            LeadMoved(
                revision=4,
                at=LATER,
                lead_id=1,
                from_pipeline_id=1,
                from_stage_id=INITIAL,
                to_pipeline_id=1,
                to_stage_id=OFFER,
            ),
        )

    def test_that_matches_lets_a_command_that_changes_nothing_through(
        self, board: Workspace
    ) -> None:
        applied = apply(board, MoveLead(1, INITIAL), at=LATER, expected_revision=3)
        assert applied.workspace is board
        assert applied.events == ()

    def test_zero_matches_a_new_workspace(self) -> None:
        applied = apply(new_workspace(), CreateLead("ACME"), at=AT, expected_revision=0)
        assert applied.workspace.revision == 1

    @pytest.mark.parametrize("expected", [0, 2, 4, 100])
    def test_that_differs_is_a_revision_conflict(self, board: Workspace, expected: int) -> None:
        match = f"expected the workspace at revision {expected}, but it is at revision 3"
        with unchanged(board), pytest.raises(RevisionConflict, match=match) as info:
            apply(board, MoveLead(1, OFFER), at=LATER, expected_revision=expected)
        assert (info.value.expected, info.value.actual) == (expected, 3)
        assert info.value.code == "revision_conflict"

    def test_a_conflict_is_a_pipekit_error_but_not_a_rule_violation(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(PipekitError) as info:
            apply(board, MoveLead(1, OFFER), at=LATER, expected_revision=1)
        assert isinstance(info.value, RevisionConflict)
        assert not isinstance(info.value, RuleViolation)
        assert not isinstance(info.value, ValueError)

    def test_a_conflict_comes_before_the_commands_own_rules(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(RevisionConflict):
            apply(board, MoveLead(99, OFFER), at=LATER, expected_revision=2)

    def test_a_stale_view_conflicts_after_another_change(self, board: Workspace) -> None:
        seen = board.revision
        changed = apply(board, MoveLead(1, OFFER), at=LATER, expected_revision=seen).workspace
        with unchanged(changed), pytest.raises(RevisionConflict, match="at revision 4"):
            apply(changed, WinLead(1), at=LATEST, expected_revision=seen)

    @pytest.mark.parametrize("expected", ["3", 3.0, True])
    def test_of_a_wrong_type_is_a_type_error(self, board: Workspace, expected: object) -> None:
        with unchanged(board), pytest.raises(TypeError, match="expected_revision must be an int"):
            apply(board, MoveLead(1, OFFER), at=LATER, expected_revision=expected)  # type: ignore[arg-type]


class TestRevision:
    def test_starts_at_zero(self) -> None:
        assert new_workspace().revision == 0
        assert new_workspace(incoming=True).revision == 0

    def test_rises_by_one_per_command_that_changes_something(self) -> None:
        workspace = new_workspace()
        commands: list[Command] = [
            CreatePipeline("Partners"),
            AddLossReason("Too expensive"),
            CreateLead("ACME"),
            MoveLead(1, OFFER),
            LoseLead(1, 1),
            AddStage(2, "Demo"),
            DeleteStage(1, OFFER),
        ]
        for expected, command in enumerate(commands, start=1):
            applied = apply(workspace, command, at=AT)
            assert applied.workspace.revision == expected
            workspace = applied.workspace

    @pytest.mark.parametrize(
        "command",
        [
            MoveLead(1, INITIAL),
            LoseLead(3, 1),
            WinLead(4),
            RenameStage(1, OFFER, "Offer Made"),
            RecolorStage(1, OFFER, "#fffd7f"),
            MoveStage(1, OFFER, 1),
            RenameTerminal(1, StageKind.WON, "Closed - won"),
            EnableIncoming(1),
            DisableIncoming(2),
            RenamePipeline(1, "Pipeline"),
            MovePipeline(2, 1),
            SetMainPipeline(1),
            RenameLossReason(1, "Too expensive"),
        ],
        ids=repr,
    )
    def test_stays_for_a_command_that_changes_nothing(self, command: Command) -> None:
        workspace = run(
            new_workspace(incoming=True),
            CreatePipeline("Partners"),
            AddLossReason("Too expensive"),
            CreateLead("ACME"),
            CreateLead("Initech", incoming=True),
            CreateLead("Lost"),
            LoseLead(3, 1),
            CreateLead("Won"),
            WinLead(4),
        )
        with unchanged(workspace):
            applied = apply(workspace, command, at=LATER)
        assert applied.workspace is workspace
        assert applied.events == ()
        assert applied.workspace.revision == 8

    def test_stays_for_a_refused_command(self, board: Workspace) -> None:
        with unchanged(board), pytest.raises(UnknownLead):
            apply(board, WinLead(99), at=LATER)
        assert apply(board, WinLead(1), at=LATER).workspace.revision == 4

    def test_counts_only_the_commands_that_changed_something(self, board: Workspace) -> None:
        workspace = board
        outcomes = []
        for command in (
            MoveLead(1, OFFER),  # changes
            MoveLead(1, OFFER),  # nothing
            MoveLead(2, OFFER),  # refused: lead 2 waits in incoming
            AcceptLead(2),  # changes
            WinLead(1),  # changes
            WinLead(1),  # nothing
        ):
            try:
                applied = apply(workspace, command, at=LATER)
            except RuleViolation:
                outcomes.append("refused")
                continue
            outcomes.append("changed" if applied.events else "nothing")
            workspace = applied.workspace
        assert outcomes == ["changed", "nothing", "refused", "changed", "changed", "nothing"]
        assert workspace.revision == board.revision + 3


class TestEvents:
    def test_all_events_of_a_command_share_its_revision_and_time(self, board: Workspace) -> None:
        filled = run(board, CreateLead("Globex"), CreateLead("Hooli", stage_id=OFFER))
        applied = apply(filled, DeleteStage(1, INITIAL), at=LATEST)
        assert applied.events == (
            LeadsRelocated(
                revision=6,
                at=LATEST,
                pipeline_id=1,
                from_stage_id=INITIAL,
                to_stage_id=OFFER,
                lead_ids=(1, 3),
            ),
            StageDeleted(revision=6, at=LATEST, pipeline_id=1, stage_id=INITIAL),
        )
        assert {(event.revision, event.at) for event in applied.events} == {(6, LATEST)}
        assert applied.workspace.revision == 6

    def test_carry_the_revision_they_produce(self, board: Workspace) -> None:
        workspace = board
        for command in (CreateLead("Globex"), MoveLead(3, OFFER), WinLead(3)):
            applied = apply(workspace, command, at=LATER)
            assert [event.revision for event in applied.events] == [applied.workspace.revision]
            workspace = applied.workspace

    def test_are_a_tuple(self, board: Workspace) -> None:
        applied = apply(board, CreateLead("Globex"), at=LATER)
        assert isinstance(applied.events, tuple)
        assert applied.events == (
            LeadCreated(revision=4, at=LATER, lead=Lead(3, "Globex", 1, INITIAL, 0, LATER, LATER)),
        )

    def test_are_frozen(self, board: Workspace) -> None:
        (event,) = apply(board, CreateLead("Globex"), at=LATER).events
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            event.revision = 9  # type: ignore[misc]  # on purpose

    def test_applied_is_frozen(self, board: Workspace) -> None:
        applied = apply(board, CreateLead("Globex"), at=LATER)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            applied.workspace = board  # type: ignore[misc]  # on purpose


class TestTheWorkspace:
    def test_may_be_built_by_hand(self) -> None:
        lead = Lead(7, "ACME", 3, INITIAL, 10, AT, AT)
        workspace = Workspace(
            pipelines=(default_pipeline("Sales", pipeline_id=3),), main_pipeline_id=3, leads=[lead]
        )
        applied = apply(workspace, CreateLead("Next"), at=LATER)
        assert applied.workspace.lead(8) == Lead(8, "Next", 3, INITIAL, 0, LATER, LATER)
        assert applied.workspace.revision == 1

    @pytest.mark.parametrize(
        "workspace", [None, "workspace", default_pipeline()], ids=["None", "str", "pipeline"]
    )
    def test_of_a_wrong_type_is_a_type_error(self, workspace: object) -> None:
        with pytest.raises(TypeError, match="workspace must be a Workspace"):
            apply(workspace, CreateLead("ACME"), at=AT)  # type: ignore[arg-type]  # on purpose


class TestCommandType:
    @pytest.mark.parametrize(
        "command",
        [
            None,
            "CreateLead",
            object(),
            MoveLead,
            LeadCreated(1, AT, Lead(1, "ACME", 1, INITIAL, 0, AT, AT)),
            {"lead_id": 1, "stage_id": OFFER},
        ],
        ids=["None", "str", "object", "a command class", "an event", "a dict"],
    )
    def test_that_is_not_a_command_is_a_type_error(self, board: Workspace, command: object) -> None:
        with unchanged(board), pytest.raises(TypeError, match="not a pipekit command") as info:
            apply(board, command, at=LATER)  # type: ignore[arg-type]  # on purpose
        assert not isinstance(info.value, PipekitError)


# Each command with one field of a wrong Python type, on ``board``.
WRONG_TYPES: Final[list[Command]] = [
    AddStage(None, "Demo"),  # type: ignore[arg-type]
    AddStage(1, b"Demo"),  # type: ignore[arg-type]
    RenameStage(1, "145", "Offer"),  # type: ignore[arg-type]
    RecolorStage(1, OFFER, None),  # type: ignore[arg-type]
    MoveStage(1, OFFER, 1.0),  # type: ignore[arg-type]
    DeleteStage(1, OFFER, move_leads_to="144"),  # type: ignore[arg-type]
    DeleteStage(1.0, OFFER),  # type: ignore[arg-type]
    RenameTerminal(1, "won", "Done"),  # type: ignore[arg-type]
    EnableIncoming("1"),  # type: ignore[arg-type]
    EnableIncoming(1, name=1),  # type: ignore[arg-type]
    DisableIncoming(None),  # type: ignore[arg-type]
    CreatePipeline(3),  # type: ignore[arg-type]
    CreatePipeline("Sales", incoming="yes"),  # type: ignore[arg-type]
    RenamePipeline(1, None),  # type: ignore[arg-type]
    MovePipeline(1, "0"),  # type: ignore[arg-type]
    SetMainPipeline("1"),  # type: ignore[arg-type]
    DeletePipeline(b"1"),  # type: ignore[arg-type]
    CreateLead("ACME", price="100"),  # type: ignore[arg-type]
    CreateLead("ACME", price=1.5),  # type: ignore[arg-type]
    CreateLead(["ACME"]),  # type: ignore[arg-type]
    CreateLead("ACME", stage_id=144.0),  # type: ignore[arg-type]
    MoveLead(lead_id="1", stage_id=OFFER),  # type: ignore[arg-type]
    MoveLead(lead_id=1, stage_id=None),  # type: ignore[arg-type]
    MoveLead(lead_id=1, stage_id=OFFER, pipeline_id="1"),  # type: ignore[arg-type]
    WinLead(1.0),  # type: ignore[arg-type]
    LoseLead(1, loss_reason_id="1"),  # type: ignore[arg-type]
    AcceptLead("2"),  # type: ignore[arg-type]
    AcceptLead(2, stage_id="144"),  # type: ignore[arg-type]
    DeclineLead(None),  # type: ignore[arg-type]
    DeleteLead("1"),  # type: ignore[arg-type]
    AddLossReason(None),  # type: ignore[arg-type]
    AddLossReason("Timing", reason_id=2.0),  # type: ignore[arg-type]
    RenameLossReason("1", "Price"),  # type: ignore[arg-type]
    RenameLossReason(1, 0),  # type: ignore[arg-type]
    DeleteLossReason(True),
]


@pytest.mark.parametrize("command", WRONG_TYPES, ids=repr)
def test_a_field_of_a_wrong_type_is_a_type_error(board: Workspace, command: Command) -> None:
    with unchanged(board), pytest.raises(TypeError) as info:
        apply(board, command, at=LATER)
    assert not isinstance(info.value, PipekitError)


# Each command naming an unknown id (filled in by ``make``), and the error it must raise.
UNKNOWN_IDS: Final[list[tuple[Callable[[int], Command], type[RuleViolation]]]] = [
    (lambda n: AddStage(n, "Demo"), UnknownPipeline),
    (lambda n: RenameStage(n, OFFER, "Offer"), UnknownPipeline),
    (lambda n: RenameStage(1, n, "Offer"), UnknownStage),
    (lambda n: RecolorStage(n, OFFER, "#abcdef"), UnknownPipeline),
    (lambda n: RecolorStage(1, n, "#abcdef"), UnknownStage),
    (lambda n: MoveStage(n, OFFER, 0), UnknownPipeline),
    (lambda n: MoveStage(1, n, 0), UnknownStage),
    (lambda n: DeleteStage(n, OFFER), UnknownPipeline),
    (lambda n: DeleteStage(1, n), UnknownStage),
    (lambda n: DeleteStage(1, INITIAL, move_leads_to=n), UnknownStage),
    (lambda n: RenameTerminal(n, StageKind.LOST, "Lost"), UnknownPipeline),
    (lambda n: EnableIncoming(n), UnknownPipeline),
    (lambda n: DisableIncoming(n), UnknownPipeline),
    (lambda n: RenamePipeline(n, "Sales"), UnknownPipeline),
    (lambda n: MovePipeline(n, 0), UnknownPipeline),
    (lambda n: SetMainPipeline(n), UnknownPipeline),
    (lambda n: DeletePipeline(n), UnknownPipeline),
    (lambda n: CreateLead("ACME", pipeline_id=n), UnknownPipeline),
    (lambda n: CreateLead("ACME", stage_id=n), UnknownStage),
    (lambda n: MoveLead(n, OFFER), UnknownLead),
    (lambda n: MoveLead(1, n), UnknownStage),
    (lambda n: MoveLead(1, OFFER, pipeline_id=n), UnknownPipeline),
    (lambda n: WinLead(n), UnknownLead),
    (lambda n: LoseLead(n), UnknownLead),
    (lambda n: LoseLead(1, loss_reason_id=n), UnknownLossReason),
    (lambda n: AcceptLead(n), UnknownLead),
    (lambda n: AcceptLead(2, stage_id=n), UnknownStage),
    (lambda n: DeclineLead(n), UnknownLead),
    (lambda n: DeleteLead(n), UnknownLead),
    (lambda n: RenameLossReason(n, "Price"), UnknownLossReason),
    (lambda n: DeleteLossReason(n), UnknownLossReason),
]


@pytest.mark.parametrize("unknown", [99, 0, -1, 10**30], ids=["99", "0", "-1", "huge"])
@pytest.mark.parametrize(
    ("make", "error"), UNKNOWN_IDS, ids=[repr(make(99)) for make, _error in UNKNOWN_IDS]
)
def test_an_unknown_id_raises_its_lookup_error_and_nothing_else(
    board: Workspace,
    make: Callable[[int], Command],
    error: type[RuleViolation],
    unknown: int,
) -> None:
    with unchanged(board), pytest.raises(RuleViolation) as info:
        apply(board, make(unknown), at=LATER)
    assert type(info.value) is error
    assert isinstance(info.value, LookupError)
    assert str(unknown) in str(info.value)
    assert info.value.code.startswith("unknown_")
