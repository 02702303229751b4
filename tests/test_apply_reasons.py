"""The loss-reason commands through ``apply``: events, resulting workspace, violations (W3, W5, W6).

Every call to ``apply`` runs inside ``with unchanged(workspace):``, which fails the test
when the call changed its input; every workspace ``apply`` returns goes through
``checked``, which rebuilds it with the public constructor.
"""

from __future__ import annotations

import pytest

from pipekit import (
    AddLossReason,
    Command,
    CreateLead,
    CreatePipeline,
    DeleteLead,
    DeleteLossReason,
    DuplicateLossReasonId,
    DuplicateName,
    InvalidId,
    InvalidName,
    LoseLead,
    LossReason,
    LossReasonAdded,
    LossReasonDeleted,
    LossReasonInUse,
    LossReasonRenamed,
    MoveLead,
    RenameLossReason,
    UnknownLossReason,
    WinLead,
    Workspace,
    apply,
    new_workspace,
)
from tests.apply_helpers import (
    AT,
    INITIAL,
    LATER,
    LOST,
    apply_checked,
    assert_changes_nothing,
    run,
    unchanged,
)

PRICE = LossReason(1, "Too expensive")
SILENT = LossReason(2, "Went silent")
RIVAL = LossReason(3, "Chose a competitor")


@pytest.fixture
def reasons() -> Workspace:
    """Loss reasons 1 "Too expensive", 2 "Went silent", 3 "Chose a competitor"; revision 3."""
    return run(
        new_workspace(),
        AddLossReason("Too expensive"),
        AddLossReason("Went silent"),
        AddLossReason("Chose a competitor"),
    )


@pytest.fixture
def in_use(reasons: Workspace) -> Workspace:
    """``reasons`` with leads 1 and 2 lost for reason 1, lead 3 lost for reason 2; revision 9."""
    return run(
        reasons,
        CreateLead("ACME"),
        CreateLead("Globex"),
        CreateLead("Initech"),
        LoseLead(1, 1),
        LoseLead(2, 1),
        LoseLead(3, 2),
    )


class TestAddLossReason:
    def test_adds_a_reason_with_the_next_id(self) -> None:
        workspace = new_workspace()
        applied = apply_checked(workspace, AddLossReason(" Too expensive "), at=AT)
        assert applied.events == (LossReasonAdded(revision=1, at=AT, reason=PRICE),)
        result = applied.workspace
        assert result.loss_reasons == (PRICE,)
        assert result.loss_reason(1) == PRICE
        assert (result.revision, result.next_loss_reason_id) == (1, 2)

    def test_keeps_reasons_in_creation_order(self, reasons: Workspace) -> None:
        applied = apply_checked(reasons, AddLossReason("Bad timing", reason_id=1000))
        applied = apply_checked(applied.workspace, AddLossReason("No budget", reason_id=10))
        assert applied.workspace.loss_reasons == (
            PRICE,
            SILENT,
            RIVAL,
            LossReason(1000, "Bad timing"),
            LossReason(10, "No budget"),
        )

    def test_takes_a_given_id_and_moves_the_counter_above_it(self, reasons: Workspace) -> None:
        applied = apply_checked(reasons, AddLossReason("Bad timing", reason_id=40))
        assert applied.events == (
            LossReasonAdded(revision=4, at=LATER, reason=LossReason(40, "Bad timing")),
        )
        assert applied.workspace.next_loss_reason_id == 41
        after = apply_checked(applied.workspace, AddLossReason("After"))
        assert after.workspace.loss_reason(41).name == "After"

    def test_never_reuses_the_id_of_a_deleted_reason(self, reasons: Workspace) -> None:
        deleted = run(reasons, DeleteLossReason(3))
        applied = apply_checked(deleted, AddLossReason("Again"))
        assert applied.events == (
            LossReasonAdded(revision=5, at=LATER, reason=LossReason(4, "Again")),
        )

    def test_allows_the_name_of_a_deleted_reason(self, reasons: Workspace) -> None:
        deleted = run(reasons, DeleteLossReason(2))
        applied = apply_checked(deleted, AddLossReason("WENT SILENT"))
        assert applied.workspace.loss_reasons[-1] == LossReason(4, "WENT SILENT")

    def test_allows_a_name_a_pipeline_has(self, reasons: Workspace) -> None:
        # Names are unique within each collection, not across them.
        named = run(reasons, CreatePipeline("Sales"))
        applied = apply_checked(named, AddLossReason("Sales"))
        assert applied.workspace.loss_reasons[-1].name == "Sales"

    @pytest.mark.parametrize(
        ("name", "existing"),
        [
            ("Too expensive", PRICE),
            ("TOO EXPENSIVE", PRICE),
            ("  went silent ", SILENT),
            ("Chose a \uff43ompetitor", RIVAL),  # a full-width c: equal under NFKC
        ],
    )
    def test_rejects_a_name_that_clashes(
        self, reasons: Workspace, name: str, existing: LossReason
    ) -> None:
        match = f"clashes with loss reason {existing.id} named '{existing.name}'"
        with unchanged(reasons), pytest.raises(DuplicateName, match=match) as info:
            apply(reasons, AddLossReason(name), at=LATER)
        assert (info.value.existing_id, info.value.what) == (existing.id, "loss reason")

    @pytest.mark.parametrize("reason_id", [1, 3])
    def test_rejects_an_id_in_use(self, reasons: Workspace, reason_id: int) -> None:
        match = f"the workspace already has a loss reason with id {reason_id}"
        with unchanged(reasons), pytest.raises(DuplicateLossReasonId, match=match) as info:
            apply(reasons, AddLossReason("Bad timing", reason_id=reason_id), at=LATER)
        assert info.value.value == reason_id

    @pytest.mark.parametrize("reason_id", [0, -4])
    def test_rejects_a_non_positive_id(self, reasons: Workspace, reason_id: int) -> None:
        match = f"loss reason ids are positive integers, got {reason_id}"
        with unchanged(reasons), pytest.raises(InvalidId, match=match):
            apply(reasons, AddLossReason("Bad timing", reason_id=reason_id), at=LATER)

    @pytest.mark.parametrize(
        ("name", "match"),
        [("", "cannot be empty"), ("a" * 256, "at most 255"), ("No\x7fbudget", "control")],
    )
    def test_rejects_an_invalid_name(self, reasons: Workspace, name: str, match: str) -> None:
        with unchanged(reasons), pytest.raises(InvalidName, match=match):
            apply(reasons, AddLossReason(name), at=LATER)

    @pytest.mark.parametrize(
        ("command", "match"),
        [
            (AddLossReason(None), "name must be a str"),  # type: ignore[arg-type]
            (AddLossReason("Bad timing", reason_id="4"), "loss reason id must be an int"),  # type: ignore[arg-type]
        ],
    )
    def test_a_wrong_type_is_a_type_error(
        self, reasons: Workspace, command: AddLossReason, match: str
    ) -> None:
        with unchanged(reasons), pytest.raises(TypeError, match=match):
            apply(reasons, command, at=LATER)


class TestRenameLossReason:
    def test_renames_a_reason_in_place(self, in_use: Workspace) -> None:
        applied = apply_checked(in_use, RenameLossReason(2, " No answer "))
        assert applied.events == (
            LossReasonRenamed(revision=10, at=LATER, reason_id=2, name="No answer"),
        )
        result = applied.workspace
        assert result.loss_reasons == (PRICE, LossReason(2, "No answer"), RIVAL)
        assert dict(result.leads) == dict(in_use.leads)
        assert result.lead(3).loss_reason_id == 2

    def test_changes_only_the_case_of_its_own_name(self, reasons: Workspace) -> None:
        applied = apply_checked(reasons, RenameLossReason(1, "TOO EXPENSIVE"))
        assert applied.events == (
            LossReasonRenamed(revision=4, at=LATER, reason_id=1, name="TOO EXPENSIVE"),
        )

    @pytest.mark.parametrize("name", ["Too expensive", "\tToo expensive "])
    def test_to_the_same_name_changes_nothing(self, reasons: Workspace, name: str) -> None:
        assert_changes_nothing(reasons, RenameLossReason(1, name))

    def test_rejects_a_name_another_reason_has(self, reasons: Workspace) -> None:
        match = "clashes with loss reason 3 named 'Chose a competitor'"
        with unchanged(reasons), pytest.raises(DuplicateName, match=match):
            apply(reasons, RenameLossReason(1, "chose a COMPETITOR"), at=LATER)

    def test_rejects_an_invalid_name(self, reasons: Workspace) -> None:
        with unchanged(reasons), pytest.raises(InvalidName, match="cannot be empty"):
            apply(reasons, RenameLossReason(1, ""), at=LATER)

    def test_rejects_an_unknown_reason(self, reasons: Workspace) -> None:
        match = "no loss reason has id 4"
        with unchanged(reasons), pytest.raises(UnknownLossReason, match=match) as info:
            apply(reasons, RenameLossReason(4, "Bad timing"), at=LATER)
        assert info.value.reason_id == 4

    def test_a_name_of_a_wrong_type_is_a_type_error(self, reasons: Workspace) -> None:
        with unchanged(reasons), pytest.raises(TypeError, match="name must be a str"):
            apply(reasons, RenameLossReason(1, 3), at=LATER)  # type: ignore[arg-type]


class TestDeleteLossReason:
    def test_deletes_a_reason_no_lead_gives(self, in_use: Workspace) -> None:
        applied = apply_checked(in_use, DeleteLossReason(3))
        assert applied.events == (LossReasonDeleted(revision=10, at=LATER, reason_id=3),)
        result = applied.workspace
        assert result.loss_reasons == (PRICE, SILENT)
        assert dict(result.leads) == dict(in_use.leads)
        with pytest.raises(UnknownLossReason, match="no loss reason has id 3"):
            result.loss_reason(3)

    @pytest.mark.parametrize(("reason_id", "count"), [(1, 2), (2, 1)])
    def test_rejects_a_reason_a_lead_gives(
        self, in_use: Workspace, reason_id: int, count: int
    ) -> None:
        match = (
            rf"loss reason {reason_id} is given for {count} lost lead\(s\) and cannot be deleted"
        )
        with unchanged(in_use), pytest.raises(LossReasonInUse, match=match) as info:
            apply(in_use, DeleteLossReason(reason_id), at=LATER)
        assert (info.value.reason_id, info.value.lead_count) == (reason_id, count)

    @pytest.mark.parametrize(
        "release",
        [MoveLead(3, INITIAL), WinLead(3), LoseLead(3, 3), LoseLead(3), DeleteLead(3)],
        ids=["reopened", "won", "other reason", "no reason", "deleted"],
    )
    def test_allows_it_once_no_lead_gives_it(self, in_use: Workspace, release: Command) -> None:
        released = run(in_use, release)
        applied = apply_checked(released, DeleteLossReason(2))
        assert applied.events == (LossReasonDeleted(revision=11, at=LATER, reason_id=2),)
        assert applied.workspace.loss_reasons == tuple(
            reason for reason in released.loss_reasons if reason.id != 2
        )

    def test_still_refuses_while_another_lead_gives_it(self, in_use: Workspace) -> None:
        partly = run(in_use, MoveLead(1, INITIAL))
        with unchanged(partly), pytest.raises(LossReasonInUse, match=r"for 1 lost lead\(s\)"):
            apply(partly, DeleteLossReason(1), at=LATER)
        released = run(partly, MoveLead(2, INITIAL, pipeline_id=1))
        applied = apply_checked(released, DeleteLossReason(1))
        assert applied.workspace.loss_reasons == (SILENT, RIVAL)

    def test_counts_leads_of_every_pipeline(self, reasons: Workspace) -> None:
        other = run(
            reasons,
            CreatePipeline("Partners"),
            CreateLead("Umbrella", pipeline_id=2),
            LoseLead(1, 3),
        )
        assert other.lead(1).stage_id == LOST
        with unchanged(other), pytest.raises(LossReasonInUse, match="loss reason 3"):
            apply(other, DeleteLossReason(3), at=LATER)

    def test_rejects_an_unknown_reason(self, reasons: Workspace) -> None:
        with unchanged(reasons), pytest.raises(UnknownLossReason, match="no loss reason has id 9"):
            apply(reasons, DeleteLossReason(9), at=LATER)

    def test_rejects_a_reason_deleted_already(self, reasons: Workspace) -> None:
        deleted = run(reasons, DeleteLossReason(1))
        with unchanged(deleted), pytest.raises(UnknownLossReason, match="no loss reason has id 1"):
            apply(deleted, DeleteLossReason(1), at=LATER)

    def test_an_id_of_a_wrong_type_is_a_type_error(self, reasons: Workspace) -> None:
        with unchanged(reasons), pytest.raises(TypeError, match="loss reason id must be an int"):
            apply(reasons, DeleteLossReason("1"), at=LATER)  # type: ignore[arg-type]
