"""The lead half: records, the checks a host's table passes, the Fold, and ``apply_to_leads``.

A CRM that keeps its leads in its own table keeps an :class:`~pipekit.Account`
beside them and applies commands with :func:`~pipekit.apply_to_leads`, which
reads the leads through a :class:`~pipekit.LeadTable`. :class:`DictLeads` is such
a table, as naive as a table can be: plain dicts, scanned for every question, so
simple that it can be trusted by reading. The lead-level path must then do
exactly what :func:`~pipekit.apply` does to a workspace.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import pytest
from hypothesis import given

from pipekit import (
    Account,
    ActionCancelled,
    ActionHandedOver,
    ActionScheduled,
    AddAutomation,
    AddLossReason,
    AutomationLoopStopped,
    AutomationRemoved,
    Command,
    CreateLead,
    DeleteLead,
    DeletePipeline,
    DeleteStage,
    DisableAutomation,
    DuplicateLeadId,
    Event,
    HostAction,
    InvalidEvent,
    LastPipeline,
    Lead,
    LeadCreated,
    LeadDeclined,
    LeadDeleted,
    LeadMoved,
    LeadRecord,
    LeadsApplied,
    LoseLead,
    MoveLead,
    MoveTo,
    PipelineRenamed,
    RemoveAutomation,
    RevisionConflict,
    RunDue,
    Scheduled,
    Trigger,
    UnknownLead,
    UnknownLossReason,
    UpdateAutomation,
    WinLead,
    Workspace,
    apply,
    apply_to_leads,
    new_workspace,
)
from pipekit.account import LeadCounts
from pipekit.leads import Fold, checked_record, evolve_lead
from tests.apply_helpers import AT, INITIAL, LATER, LATEST, NEGOTIATION, OFFER, WON, run
from tests.profiles import MODERATE
from tests.test_account import rebuilt
from tests.workspace_strategies import History, histories

EMAIL: Final = HostAction("send_email", {"template": "welcome"})
CALL: Final = HostAction("create_task", {"text": "call back"})
HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)


class DictLeads:
    """A host's table of leads: one record per lead id in a dict, every question a scan.

    Implements :class:`~pipekit.LeadTable`; :meth:`write` stores what
    :func:`~pipekit.apply_to_leads` returns, as a host does in its transaction.
    """

    def __init__(self, records: Iterable[LeadRecord] = ()) -> None:
        self.records: dict[int, LeadRecord] = {record.lead.id: record for record in records}

    @classmethod
    def of(cls, workspace: Workspace) -> DictLeads:
        """Return a table holding the leads of *workspace*, each with its scheduled actions."""
        records = (workspace.record(lead_id) for lead_id in workspace.leads)
        return cls(record for record in records if record is not None)

    def record(self, lead_id: int) -> LeadRecord | None:
        return self.records.get(lead_id)

    def lead_ids_in(self, pipeline_id: int, stage_id: int) -> list[int]:
        return sorted(
            lead_id
            for lead_id, record in self.records.items()
            if (record.lead.pipeline_id, record.lead.stage_id) == (pipeline_id, stage_id)
        )

    def _items(self) -> Iterator[Scheduled]:
        for record in self.records.values():
            yield from record.scheduled

    def waiting_of(self, automation_id: int) -> list[Scheduled]:
        waiting = (item for item in self._items() if item.handed_over_at is None)
        return sorted(
            (item for item in waiting if item.automation_id == automation_id),
            key=lambda item: item.id,
        )

    def find_scheduled(self, scheduled_id: int) -> Scheduled | None:
        return next((item for item in self._items() if item.id == scheduled_id), None)

    def due(self, now: datetime) -> list[Scheduled]:
        waiting = (item for item in self._items() if item.handed_over_at is None)
        return sorted(
            (item for item in waiting if item.due_at <= now),
            key=lambda item: (item.due_at, item.id),
        )

    def write(self, records: Mapping[int, LeadRecord | None]) -> None:
        """Store each changed record; ``None`` deletes the lead."""
        for lead_id, record in records.items():
            if record is None:
                del self.records[lead_id]
            else:
                self.records[lead_id] = record

    def state(self) -> dict[int, tuple[Lead, int, tuple[Scheduled, ...]]]:
        """Every record with its lead's version, which lead equality leaves out."""
        return {
            lead_id: (record.lead, record.lead.version, record.scheduled)
            for lead_id, record in sorted(self.records.items())
        }


class CountingLeads(DictLeads):
    """A :class:`DictLeads` that counts how often each record is asked for."""

    def __init__(self, records: Iterable[LeadRecord] = ()) -> None:
        super().__init__(records)
        self.asked: dict[int, int] = {}

    def record(self, lead_id: int) -> LeadRecord | None:
        self.asked[lead_id] = self.asked.get(lead_id, 0) + 1
        return super().record(lead_id)


def desk() -> Workspace:
    """Automations 1 (e-mail after a day) and 2 (a call after an hour) watch 144; three leads.

    Leads 1 "ACME" and 2 "Globex" were created in 144 at ``AT``: items 1 and 2 are
    lead 1's, items 3 and 4 lead 2's (odd ids automation 1's, even ids 2's). Lead 3
    "Initech" sits in 145, with nothing scheduled. Loss reason 1 exists. Revision 6.
    """
    return run(
        new_workspace(),
        AddLossReason("Too expensive"),
        AddAutomation(1, (INITIAL,), Trigger.ENTERED, EMAIL, delay=DAY),
        AddAutomation(1, (INITIAL,), Trigger.ENTERED, CALL, delay=HOUR),
        CreateLead("ACME", price=100),
        CreateLead("Globex", price=20),
        CreateLead("Initech", stage_id=OFFER),
    )


def test_the_desk_is_as_documented() -> None:
    workspace = desk()
    assert workspace.revision == 6
    assert [(item.id, item.automation_id, item.lead_id) for item in workspace.scheduled] == [
        (2, 2, 1),
        (4, 2, 2),
        (1, 1, 1),
        (3, 1, 2),
    ]
    assert workspace.lead(3).stage_id == OFFER
    assert workspace.lead(1) == ACME


def item(scheduled_id: int, lead_id: int = 1, automation_id: int = 1) -> Scheduled:
    return Scheduled(scheduled_id, automation_id, lead_id, AT + DAY, EMAIL)


ACME: Final = Lead(1, "ACME", 1, INITIAL, 100, AT, AT)
"""Lead 1 of the desk, as it was created."""


# -- the records a table gives ---------------------------------------------------------------


class TestCheckedRecord:
    def test_no_record_is_none(self) -> None:
        assert checked_record(None, 1) is None

    def test_a_valid_record_is_returned_as_it_is(self) -> None:
        record = desk().record(1)
        assert record is not None
        assert checked_record(record, 1) is record
        lone = LeadRecord(desk().lead(3))
        assert checked_record(lone, 3) is lone

    @pytest.mark.parametrize(
        ("record", "match"),
        [
            ((ACME, ()), "a lead record must be a LeadRecord, got tuple"),
            (ACME, "a lead record must be a LeadRecord, got Lead"),
            (LeadRecord(1, ()), "a record's lead must be a Lead, got int"),  # type: ignore[arg-type]
            (
                LeadRecord(ACME, [item(1)]),  # type: ignore[arg-type]
                "a record's scheduled actions must be a tuple, got list",
            ),
            (
                LeadRecord(ACME, (item(1), 2)),  # type: ignore[arg-type]
                "each scheduled action of a record must be a Scheduled, got int",
            ),
        ],
        ids=["tuple", "lead", "lead id", "list", "item id"],
    )
    def test_a_record_of_the_wrong_types_is_a_type_error(self, record: object, match: str) -> None:
        with pytest.raises(TypeError, match=f"^{match}$"):
            checked_record(record, 1)

    def test_a_record_of_another_lead_is_a_value_error(self) -> None:
        record = desk().record(2)
        with pytest.raises(ValueError, match=r"^the table gave lead 2 for lead 1$"):
            checked_record(record, 1)

    def test_an_item_of_another_lead_is_a_value_error(self) -> None:
        record = LeadRecord(ACME, (item(1), item(3, lead_id=2)))
        match = r"^lead 1's scheduled actions must be its own, by ascending id: got action 3 for"
        with pytest.raises(ValueError, match=match + " lead 2$"):
            checked_record(record, 1)

    @pytest.mark.parametrize(("first", "second"), [(2, 1), (1, 1)])
    def test_items_out_of_id_order_are_a_value_error(self, first: int, second: int) -> None:
        record = LeadRecord(ACME, (item(first), item(second)))
        match = f"by ascending id: got action {second} for lead 1$"
        with pytest.raises(ValueError, match=match):
            checked_record(record, 1)


# -- the fold ----------------------------------------------------------------------------


def fold_of(workspace: Workspace) -> Fold:
    return Fold(workspace.account, workspace)


def cancelled(workspace: Workspace, *scheduled_ids: int) -> list[ActionCancelled]:
    revision = workspace.revision + 1
    return [ActionCancelled(revision, LATER, scheduled_id) for scheduled_id in scheduled_ids]


def deleted(workspace: Workspace, lead_id: int) -> list[Event]:
    """The events that delete a lead: its items cancelled, then the lead."""
    record = workspace.record(lead_id)
    assert record is not None
    gone = cancelled(workspace, *(found.id for found in record.scheduled))
    return [*gone, LeadDeleted(workspace.revision + 1, LATER, record.lead)]


class TestFoldRecords:
    def test_reads_each_record_from_the_table_once(self) -> None:
        workspace = desk()
        table = CountingLeads(DictLeads.of(workspace).records.values())
        fold = Fold(workspace.account, table)
        assert fold.record(1) == workspace.record(1)
        assert fold.record(1) == workspace.record(1)
        assert fold.record(9) is None
        assert fold.record(9) is None
        fold.apply(LeadMoved(7, LATER, 1, 1, INITIAL, 1, OFFER))
        assert table.asked == {1: 1, 9: 1}

    def test_answers_as_the_events_left_the_lead_and_keeps_both(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        before = workspace.record(1)
        fold.apply(LeadMoved(7, LATER, 1, 1, INITIAL, 1, OFFER))
        after = fold.record(1)
        assert after is not None
        assert (after.lead.stage_id, after.lead.version) == (OFFER, 1)
        assert fold.changes == {1: (before, after)}
        assert workspace.lead(1).stage_id == INITIAL  # the table is never written to

    def test_a_refused_event_changes_nothing(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        account = fold.account
        with pytest.raises(InvalidEvent, match="lead 1 is in stage 144, not in stage 145"):
            fold.apply(LeadMoved(7, LATER, 1, 1, OFFER, 1, NEGOTIATION))
        assert fold.account is account
        assert fold.record(1) == workspace.record(1)
        assert all(before is after for before, after in fold.changes.values())


class TestFoldFindScheduled:
    def test_finds_the_tables_items_before_any_event(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        assert fold.find_scheduled(3) == workspace.scheduled_action(3)
        assert fold.find_scheduled(99) is None

    def test_an_item_cancelled_earlier_in_the_fold_is_not_found(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        for event in cancelled(workspace, 1):
            fold.apply(event)
        assert fold.find_scheduled(1) is None
        assert workspace.find_scheduled(1) is not None
        assert fold.find_scheduled(2) == workspace.scheduled_action(2)  # the same lead's other
        assert fold.find_scheduled(3) == workspace.scheduled_action(3)  # another lead's

    def test_an_item_of_a_lead_deleted_in_the_fold_is_not_found(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        for event in deleted(workspace, 2):
            fold.apply(event)
        assert fold.record(2) is None
        assert (fold.find_scheduled(3), fold.find_scheduled(4)) == (None, None)

    def test_an_item_scheduled_in_the_fold_is_found(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        new = Scheduled(5, 1, 3, LATEST, EMAIL)
        fold.apply(ActionScheduled(7, LATER, new))
        assert fold.find_scheduled(5) == new
        assert workspace.find_scheduled(5) is None

    def test_an_item_handed_over_in_the_fold_is_found_handed_over(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        fold.apply(ActionHandedOver(7, LATER, 2))
        found = fold.find_scheduled(2)
        assert found is not None
        assert found.handed_over_at == LATER


class TestFoldWaitingOf:
    def test_gives_the_tables_items_before_any_event(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        assert list(fold.waiting_of(1)) == list(workspace.waiting_of(1))
        assert [found.id for found in fold.waiting_of(1)] == [1, 3]

    def test_leaves_out_an_item_cancelled_in_the_fold(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        for event in cancelled(workspace, 1):
            fold.apply(event)
        assert [found.id for found in fold.waiting_of(1)] == [3]
        assert sorted(found.id for found in fold.waiting_of(2)) == [2, 4]

    def test_leaves_out_an_item_handed_over_in_the_fold(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        fold.apply(ActionHandedOver(7, LATER, 2))
        assert [found.id for found in fold.waiting_of(2)] == [4]

    def test_gives_an_item_scheduled_in_the_fold(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        new = Scheduled(5, 1, 3, LATEST, EMAIL)
        fold.apply(ActionScheduled(7, LATER, new))
        assert sorted(found.id for found in fold.waiting_of(1)) == [1, 3, 5]
        assert [found.id for found in fold.waiting_of(2)] == [2, 4]

    def test_leaves_out_the_items_of_a_lead_deleted_in_the_fold(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        for event in deleted(workspace, 2):
            fold.apply(event)
        assert [found.id for found in fold.waiting_of(1)] == [1]

    def test_gives_the_items_by_id_as_a_table_does(self) -> None:
        workspace = desk()
        fold = fold_of(workspace)
        fold.record(1)  # read, and left as it was
        assert list(fold.waiting_of(2)) == list(workspace.waiting_of(2))

    def test_an_automation_with_an_item_left_cannot_go(self) -> None:
        # The check that applying AutomationRemoved makes reads the fold, not the table.
        workspace = desk()
        fold = fold_of(workspace)
        fold.apply(ActionScheduled(7, LATER, Scheduled(5, 1, 3, LATEST, EMAIL)))
        for event in cancelled(workspace, 1, 3):
            fold.apply(event)
        match = "automation 1 still has actions waiting: cancel them first"
        with pytest.raises(InvalidEvent, match=match):
            fold.apply(AutomationRemoved(7, LATER, 1))
        fold.apply(ActionCancelled(7, LATER, 5))
        fold.apply(AutomationRemoved(7, LATER, 1))
        assert [automation.id for automation in fold.account.automations] == [2]


class TestFoldPassesThrough:
    def test_lead_ids_in_and_due_answer_from_the_table(self) -> None:
        # Deciding asks them before any event; the fold does not follow its events there.
        workspace = desk()
        fold = fold_of(workspace)
        fold.apply(LeadMoved(7, LATER, 1, 1, INITIAL, 1, OFFER))
        assert tuple(fold.lead_ids_in(1, INITIAL)) == workspace.lead_ids_in(1, INITIAL) == (1, 2)
        assert list(fold.due(AT + DAY)) == list(workspace.due(AT + DAY))
        assert [found.id for found in fold.due(AT + DAY)] == [2, 4, 1, 3]


class TestForgedEvents:
    @pytest.mark.parametrize(
        "forge",
        [
            lambda r: AutomationLoopStopped(r, LATER, 1, 9, (1, 2)),
            lambda r: LeadDeleted(r, LATER, Lead(9, "Ghost", 1, INITIAL, 0, AT, AT)),
            lambda r: LeadDeclined(r, LATER, Lead(9, "Ghost", 1, INITIAL, 0, AT, AT)),
            lambda r: LeadMoved(r, LATER, 9, 1, INITIAL, 1, OFFER),
        ],
        ids=["AutomationLoopStopped", "LeadDeleted", "LeadDeclined", "LeadMoved"],
    )
    def test_an_event_for_an_unknown_lead_raises_unknown_lead(self, forge: Any) -> None:
        workspace = desk()
        event = forge(workspace.revision + 1)
        with pytest.raises(UnknownLead, match=r"^no lead has id 9$") as info:
            workspace.evolved((event,))
        assert info.value.lead_id == 9
        fold = fold_of(workspace)
        with pytest.raises(UnknownLead, match=r"^no lead has id 9$"):
            fold.apply(event)
        assert fold.account is workspace.account

    def test_a_loop_stopped_for_a_lead_changes_only_the_revision(self) -> None:
        workspace = desk()
        result = workspace.evolved((AutomationLoopStopped(7, LATER, 1, 1, (1, 2)),))
        assert result.revision == 7
        assert result.record(1) == workspace.record(1)
        assert result.account == Account(
            pipelines=workspace.pipelines,
            main_pipeline_id=1,
            loss_reasons=workspace.loss_reasons,
            automations=workspace.automations,
            revision=7,
            next_lead_id=4,
            next_scheduled_id=5,
            lead_counts={(1, INITIAL): 2, (1, OFFER): 1},
        )

    def test_an_item_scheduled_below_the_leads_others_keeps_them_in_id_order(self) -> None:
        # Item 1 is free: a log forged, or written by hand, may schedule it again.
        start = desk()
        workspace = start.evolved(cancelled(start, 1))
        again = Scheduled(1, 1, 1, LATEST, EMAIL)
        result = workspace.evolved((ActionScheduled(8, LATER, again),))
        record = result.record(1)
        assert record is not None
        assert [found.id for found in record.scheduled] == [1, 2]
        assert checked_record(record, 1) is record
        fold = fold_of(workspace)
        fold.apply(ActionScheduled(8, LATER, again))
        assert fold.record(1) == record
        assert result.scheduled_action(1) == again

    def test_an_item_scheduled_again_while_it_exists_is_refused(self) -> None:
        workspace = desk()
        again = Scheduled(1, 1, 3, LATEST, EMAIL)
        with pytest.raises(InvalidEvent, match="scheduled action 1 exists already"):
            workspace.evolved((ActionScheduled(7, LATER, again),))


# -- one lead's change --------------------------------------------------------------------


class TestEvolveLead:
    def test_moves_the_lead_of_a_record_and_keeps_its_items(self) -> None:
        workspace = desk()
        record = workspace.record(1)
        assert record is not None
        result = evolve_lead(workspace.account, record, LeadMoved(7, LATER, 1, 1, INITIAL, 1, WON))
        assert result is not None
        assert (result.lead.stage_id, result.lead.closed_at, result.lead.version) == (
            WON,
            LATER,
            1,
        )
        assert result.scheduled == record.scheduled
        assert record == workspace.record(1)

    def test_a_lead_removed_has_no_record(self) -> None:
        workspace = desk()
        lead = workspace.lead(3)
        result = evolve_lead(workspace.account, LeadRecord(lead), LeadDeleted(7, LATER, lead))
        assert result is None

    def test_creating_a_lead_that_has_a_record_raises_duplicate_lead_id(self) -> None:
        workspace = desk()
        lead = workspace.lead(3)
        with pytest.raises(DuplicateLeadId, match="already has a lead with id 3"):
            evolve_lead(workspace.account, LeadRecord(lead), LeadCreated(7, LATER, lead))

    def test_moving_no_record_raises_unknown_lead(self) -> None:
        with pytest.raises(UnknownLead, match=r"^no lead has id 1$"):
            evolve_lead(desk().account, None, LeadMoved(7, LATER, 1, 1, INITIAL, 1, OFFER))

    @pytest.mark.parametrize(
        "event",
        [
            PipelineRenamed(7, LATER, 1, "Sales"),
            AutomationLoopStopped(7, LATER, 1, 1, (1,)),
            AutomationRemoved(7, LATER, 1),
        ],
        ids=lambda event: type(event).__name__,
    )
    def test_refuses_an_event_that_is_not_one_leads(self, event: Any) -> None:
        record = desk().record(1)
        with pytest.raises(TypeError, match=f"^not a lead event: {type(event).__name__}$"):
            evolve_lead(desk().account, record, event)


# -- apply_to_leads -------------------------------------------------------------------------


LEAD_COMMANDS: Final[list[tuple[Command, datetime]]] = [
    (CreateLead("New", price=5), LATER),
    (MoveLead(1, OFFER), LATER),
    (MoveLead(3, INITIAL), LATER),
    (WinLead(2), LATER),
    (LoseLead(1, 1), LATER),
    (DeleteLead(1), LATER),
    (DeleteStage(1, INITIAL, move_leads_to=NEGOTIATION), LATER),
    (DeleteStage(1, OFFER), LATER),
    (RemoveAutomation(1), LATER),
    (DisableAutomation(2), LATER),
    (UpdateAutomation(1, (INITIAL, OFFER), Trigger.ENTERED, MoveTo(NEGOTIATION)), LATER),
    (RunDue(), AT + HOUR),
    (RunDue(), AT + DAY),
    (AddLossReason("Went silent"), LATER),
]


class TestApplyToLeads:
    @pytest.mark.parametrize(("command", "at"), LEAD_COMMANDS, ids=lambda value: repr(value))
    def test_does_what_apply_does(self, command: Command, at: datetime) -> None:
        workspace = desk()
        applied = apply(workspace, command, at=at)
        table = DictLeads.of(workspace)
        before = copy.deepcopy(table.state())
        result = apply_to_leads(rebuilt(workspace.account), table, command, at=at)
        assert result.events == applied.events
        assert result.account == applied.workspace.account
        assert type(result.account.tally) is LeadCounts  # a host's account keeps plain counts
        assert table.state() == before  # nothing is written to the table
        table.write(result.records)
        assert table.state() == DictLeads.of(applied.workspace).state()

    @pytest.mark.parametrize(("command", "at"), LEAD_COMMANDS, ids=lambda value: repr(value))
    def test_records_hold_the_leads_that_changed_and_no_other(
        self, command: Command, at: datetime
    ) -> None:
        workspace = desk()
        after = apply(workspace, command, at=at).workspace
        result = apply_to_leads(rebuilt(workspace.account), DictLeads.of(workspace), command, at=at)
        lead_ids = {*workspace.leads, *after.leads}
        changed = {
            lead_id for lead_id in lead_ids if workspace.record(lead_id) != after.record(lead_id)
        }
        assert set(result.records) == changed
        for lead_id, record in result.records.items():
            assert record == after.record(lead_id)

    def test_a_lead_moved_is_the_only_record(self) -> None:
        workspace = desk()
        result = apply_to_leads(
            rebuilt(workspace.account), DictLeads.of(workspace), MoveLead(3, NEGOTIATION), at=LATER
        )
        (record,) = result.records.values()
        assert set(result.records) == {3}
        assert record == LeadRecord(Lead(3, "Initech", 1, NEGOTIATION, 0, AT, LATER))
        assert record.lead.version == 1
        assert result.account.lead_counts == {(1, INITIAL): 2, (1, NEGOTIATION): 1}
        assert result.account.revision == 7

    def test_a_lead_that_went_is_none(self) -> None:
        workspace = desk()
        table = DictLeads.of(workspace)
        result = apply_to_leads(rebuilt(workspace.account), table, DeleteLead(2), at=LATER)
        assert result.records == {2: None}
        assert [type(event).__name__ for event in result.events] == [
            "ActionCancelled",
            "ActionCancelled",
            "LeadDeleted",
        ]
        assert result.account.lead_counts == {(1, INITIAL): 1, (1, OFFER): 1}

    def test_a_lead_created_is_a_new_record(self) -> None:
        workspace = desk()
        result = apply_to_leads(
            rebuilt(workspace.account),
            DictLeads.of(workspace),
            CreateLead("Hooli", price=7),
            at=LATER,
        )
        (record,) = result.records.values()
        assert record is not None
        assert record.lead == Lead(4, "Hooli", 1, INITIAL, 7, LATER, LATER)
        assert [(found.id, found.automation_id) for found in record.scheduled] == [(5, 1), (6, 2)]
        assert (result.account.next_lead_id, result.account.next_scheduled_id) == (5, 7)

    def test_a_command_that_changes_nothing_returns_the_account_itself(self) -> None:
        workspace = desk()
        account = rebuilt(workspace.account)
        result = apply_to_leads(account, DictLeads.of(workspace), MoveLead(1, INITIAL), at=LATER)
        assert result == LeadsApplied(account, (), {})
        assert result.account is account

    def test_a_refused_command_raises_as_apply_does(self) -> None:
        workspace = desk()
        refused: list[tuple[Command, type[Exception]]] = [
            (MoveLead(9, OFFER), UnknownLead),
            (LoseLead(1, 7), UnknownLossReason),
            (DeletePipeline(1), LastPipeline),
        ]
        for command, error in refused:
            with pytest.raises(error) as by_workspace:
                apply(workspace, command, at=LATER)
            with pytest.raises(error) as by_leads:
                apply_to_leads(
                    rebuilt(workspace.account), DictLeads.of(workspace), command, at=LATER
                )
            assert str(by_leads.value) == str(by_workspace.value)

    def test_the_expected_revision_must_be_the_accounts(self) -> None:
        workspace = desk()
        table = DictLeads.of(workspace)
        result = apply_to_leads(
            rebuilt(workspace.account), table, MoveLead(1, OFFER), at=LATER, expected_revision=6
        )
        assert result.account.revision == 7
        match = r"^expected the workspace at revision 5, but it is at revision 6$"
        with pytest.raises(RevisionConflict, match=match) as info:
            apply_to_leads(
                rebuilt(workspace.account), table, MoveLead(1, OFFER), at=LATER, expected_revision=5
            )
        assert (info.value.expected, info.value.actual) == (5, 6)

    def test_an_expected_revision_that_is_not_an_int_is_a_type_error(self) -> None:
        workspace = desk()
        with pytest.raises(TypeError, match="expected_revision must be an int, got str"):
            apply_to_leads(
                rebuilt(workspace.account),
                DictLeads.of(workspace),
                MoveLead(1, OFFER),
                at=LATER,
                expected_revision="6",  # type: ignore[arg-type]  # what is under test
            )

    def test_a_naive_time_is_a_value_error(self) -> None:
        workspace = desk()
        with pytest.raises(ValueError, match="at must be timezone-aware, got the naive"):
            apply_to_leads(
                rebuilt(workspace.account),
                DictLeads.of(workspace),
                MoveLead(1, OFFER),
                at=datetime(2026, 11, 27, 10),
            )

    def test_an_account_that_is_not_an_account_is_a_type_error(self) -> None:
        workspace = desk()
        with pytest.raises(TypeError, match=r"^account must be an? Account, got Workspace$"):
            apply_to_leads(workspace, workspace, MoveLead(1, OFFER), at=LATER)  # type: ignore[arg-type]

    def test_a_command_that_is_not_a_command_is_a_type_error(self) -> None:
        workspace = desk()
        with pytest.raises(TypeError, match=r"^not a pipekit command: LeadMoved$"):
            apply_to_leads(
                rebuilt(workspace.account),
                DictLeads.of(workspace),
                LeadMoved(7, LATER, 1, 1, INITIAL, 1, OFFER),  # type: ignore[arg-type]
                at=LATER,
            )

    @pytest.mark.parametrize(
        ("wrong", "error"),
        [
            (lambda table: table.records[2], ValueError),
            (lambda table: tuple(table.records[1]), TypeError),
            (lambda table: LeadRecord(table.records[1].lead, (item(2), item(1))), ValueError),
        ],
        ids=["another lead's", "a tuple", "items out of order"],
    )
    def test_a_record_the_table_gets_wrong_is_refused(
        self, wrong: Any, error: type[Exception]
    ) -> None:
        workspace = desk()
        table = DictLeads.of(workspace)
        table.records[1] = wrong(table)
        with pytest.raises(error):
            apply_to_leads(rebuilt(workspace.account), table, MoveLead(1, OFFER), at=LATER)


def refusal(workspace: Workspace, command: Command, at: datetime) -> ValueError:
    """Return the ValueError (a RuleViolation, most often) with which ``apply`` refuses."""
    try:
        apply(workspace, command, at=at)
    except ValueError as error:
        return error
    pytest.fail("the history says this command was refused, and it was not")


class TestTheLeadLevelPathAgreesWithApply:
    @MODERATE
    @given(histories(max_steps=20))
    def test_a_history_through_a_table_gives_the_same_events_account_and_leads(
        self, history: History
    ) -> None:
        workspace = history.start
        account = rebuilt(workspace.account)
        table = DictLeads.of(workspace)
        for (command, at), applied in zip(history.steps, history.results, strict=True):
            if applied is None:
                expected = refusal(workspace, command, at)
                with pytest.raises(type(expected)) as by_leads:
                    apply_to_leads(account, table, command, at=at)
                assert str(by_leads.value) == str(expected)
                continue
            result = apply_to_leads(account, table, command, at=at)
            assert result.events == applied.events
            assert result.account == applied.workspace.account
            table.write(result.records)
            workspace, account = applied.workspace, result.account
        assert table.state() == DictLeads.of(history.final).state()
