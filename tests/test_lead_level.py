"""The lead-level path agrees with the workspace: ``apply_to_leads`` over a table is ``apply``.

A CRM that keeps its leads in its own table keeps an :class:`~pipekit.Account` beside
them and applies commands with :func:`pipekit.apply_to_leads`, writing back the records
it returns. Random programs of commands run both ways from the same start, one on a
:class:`~pipekit.Workspace` and one on an account and :class:`DictTable` (the simplest
table a host could write), and after every command the two must agree: the same
events or the same refusal, the same account, the same leads at the same versions,
and the same scheduled actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    AcceptLead,
    Account,
    AddAutomation,
    AddLossReason,
    CompleteAction,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DeleteLead,
    Event,
    FailAction,
    LeadRecord,
    LeadTable,
    LoseLead,
    MoveLead,
    PipekitError,
    RunDue,
    Scheduled,
    Trigger,
    WinLead,
    Workspace,
    apply,
    apply_to_leads,
    new_workspace,
)
from pipekit.commands import Command
from tests.profiles import scaled
from tests.workspace_strategies import (
    COMMAND_STRATEGIES,
    HOST_ACTIONS,
    START,
    VALID_DELAYS,
    ZONES,
    new_automations,
    new_leads,
)

# -- the table -------------------------------------------------------------------------


class DictTable:
    """A :class:`~pipekit.LeadTable` over two dicts: records by lead id, scheduled items by id.

    Every query scans; what matters here is that each answer is plainly right.
    """

    def __init__(self) -> None:
        self.records: dict[int, LeadRecord] = {}
        self.items: dict[int, Scheduled] = {}

    def record(self, lead_id: int) -> LeadRecord | None:
        return self.records.get(lead_id)

    def lead_ids_in(self, pipeline_id: int, stage_id: int) -> list[int]:
        return sorted(
            lead_id
            for lead_id, record in self.records.items()
            if (record.lead.pipeline_id, record.lead.stage_id) == (pipeline_id, stage_id)
        )

    def waiting_of(self, automation_id: int) -> list[Scheduled]:
        return sorted(
            (
                item
                for item in self.items.values()
                if item.automation_id == automation_id and item.handed_over_at is None
            ),
            key=lambda item: item.id,
        )

    def find_scheduled(self, scheduled_id: int) -> Scheduled | None:
        return self.items.get(scheduled_id)

    def due(self, now: datetime) -> list[Scheduled]:
        return sorted(
            (
                item
                for item in self.items.values()
                if item.handed_over_at is None and item.due_at <= now
            ),
            key=lambda item: (item.due_at, item.id),
        )

    def write(self, records: Mapping[int, LeadRecord | None]) -> None:
        """Store what ``apply_to_leads`` returned: each record, ``None`` for a lead gone."""
        for lead_id, record in records.items():
            old = self.records.pop(lead_id, None)
            for item in () if old is None else old.scheduled:
                del self.items[item.id]
            if record is not None:
                self.records[lead_id] = record
                self.items.update((item.id, item) for item in record.scheduled)

    def contents(self) -> tuple[dict[int, LeadRecord], dict[int, Scheduled]]:
        """A copy of what the table holds, to see that applying wrote nothing to it."""
        return dict(self.records), dict(self.items)


def _is_a_table(table: DictTable) -> LeadTable:
    return table  # mypy checks here that DictTable answers the protocol


# -- programs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    """Commands and their times, from ``new_workspace(incoming=incoming)``.

    The ``repr`` is valid Python: a failing example prints the program that rebuilds it.
    """

    incoming: bool
    steps: tuple[tuple[Command, datetime], ...]


# The commands that name the version of the lead their client saw.
_VERSIONED: Final = (MoveLead, WinLead, LoseLead, AcceptLead, DeclineLead, DeleteLead)

# Lead commands and the Digital Pipeline's come up more often than the others, so that
# scheduled items are made, come due, are handed over and are reported on.
_KINDS: Final = st.sampled_from(
    [
        *COMMAND_STRATEGIES,
        *[CreateLead] * 3,
        *[MoveLead] * 3,
        WinLead,
        LoseLead,
        AcceptLead,
        AddAutomation,
        *[RunDue] * 4,
        *[CompleteAction] * 3,
        *[FailAction] * 2,
    ]
)
# The version a client names, against the lead's: none, the same, one before or one ahead.
_VERSION_SEEN: Final = st.sampled_from([None, None, 0, 0, -1, 1])


@st.composite
def _with_version(draw: st.DrawFn, command: Command, workspace: Workspace) -> Command:
    """*command*, naming now and then the version of its lead (current, stale or ahead)."""
    if not isinstance(command, _VERSIONED):
        return command
    lead = workspace.leads.get(command.lead_id)
    shift = draw(_VERSION_SEEN)
    if shift is None:
        return command
    version = 0 if lead is None else lead.version
    return attrs.evolve(command, expected_version=max(0, version + shift))


@st.composite
def programs(draw: st.DrawFn) -> Program:
    """Programs of about 15 to 40 commands, each drawn against the state they meet.

    A few pipelines, loss reasons, automations and leads come first, made by commands
    the rules accept; then commands of any kind, valid or not. Times move forward by
    up to a day a command, so that delayed actions come due.
    """
    incoming = draw(st.booleans())
    zone = draw(st.sampled_from(ZONES))
    workspace, now = new_workspace(incoming=incoming), START
    steps: list[tuple[Command, datetime]] = []

    def run(command: Command) -> None:
        nonlocal workspace, now
        now += timedelta(seconds=draw(st.sampled_from([0, 60, 3600, 4 * 3600, 86_400])))
        at = now.astimezone(zone)
        steps.append((command, at))
        workspace, _outcome = on_workspace(workspace, command, at)

    for number in range(2, draw(st.integers(2, 3)) + 1):
        run(CreatePipeline(f"Pipeline {number}", incoming=draw(st.booleans())))
    for number in range(1, draw(st.integers(0, 2)) + 1):
        run(AddLossReason(f"Reason {number}"))
    if draw(st.integers(0, 3)):  # a host action for most leads, for the host to report on
        first = workspace.pipelines[0]
        watched = tuple(stage.id for stage in first.open_stages)
        action = draw(HOST_ACTIONS)
        run(AddAutomation(first.id, watched, Trigger.ENTERED, action, delay=draw(VALID_DELAYS)))
    for _ in range(draw(st.integers(1, 4))):
        run(draw(new_automations(workspace)))
    for _ in range(draw(st.integers(2, 8))):
        run(draw(new_leads(workspace)))
    if draw(st.integers(0, 3)):
        run(RunDue())  # so that host actions are handed over, and can be reported on
    for _ in range(draw(st.integers(10, 25))):
        command = draw(COMMAND_STRATEGIES[draw(_KINDS)](workspace))
        run(draw(_with_version(command, workspace)))
    return Program(incoming, tuple(steps))


# -- running both ways -----------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a command was refused, as far as a caller can tell: class, code and message."""

    kind: type[Exception]
    code: str | None
    message: str

    @classmethod
    def of(cls, error: Exception) -> Refusal:
        return cls(type(error), getattr(error, "code", None), str(error))


Outcome = tuple[Event, ...] | Refusal


def on_workspace(workspace: Workspace, command: Command, at: datetime) -> tuple[Workspace, Outcome]:
    try:
        applied = apply(workspace, command, at=at)
    except (PipekitError, ValueError) as error:
        return workspace, Refusal.of(error)
    return applied.workspace, applied.events


def on_table(
    account: Account, table: DictTable, command: Command, at: datetime
) -> tuple[Account, Outcome]:
    """Apply *command* the lead-level way, and write the records back as a host would."""
    before = table.contents()
    try:
        applied = apply_to_leads(account, table, command, at=at)
    except (PipekitError, ValueError) as error:
        assert table.contents() == before
        return account, Refusal.of(error)
    assert table.contents() == before  # deciding and applying read the table, never write it
    table.write(applied.records)
    return applied.account, applied.events


def versions(records: list[LeadRecord | None]) -> list[int | None]:
    return [None if record is None else record.lead.version for record in records]


def assert_same(workspace: Workspace, account: Account, table: DictTable) -> None:
    """The workspace and the account with its table hold the same state, versions included."""
    assert workspace.account == account
    assert set(workspace.leads) == set(table.records)
    lead_ids = sorted(workspace.leads)
    ours = [workspace.record(lead_id) for lead_id in lead_ids]
    theirs = [table.record(lead_id) for lead_id in lead_ids]
    assert ours == theirs
    assert versions(ours) == versions(theirs)  # Lead equality leaves versions out
    assert {item.id for item in workspace.scheduled} == set(table.items)
    assert account.next_scheduled_id == workspace.next_scheduled_id


def assert_same_answers(workspace: Workspace, table: DictTable, at: datetime) -> None:
    """The table answers each query of the protocol as the workspace does: it is a fair model."""
    for pipeline in workspace.pipelines:
        for stage in pipeline.stages:
            place = (pipeline.id, stage.id)
            assert list(workspace.lead_ids_in(*place)) == table.lead_ids_in(*place)
    for automation in workspace.automations:
        assert list(workspace.waiting_of(automation.id)) == table.waiting_of(automation.id)
    for later in (at, at + timedelta(hours=4), at + timedelta(days=2)):
        assert list(workspace.due(later)) == table.due(later)


class TestApplyToLeadsAgreesWithApply:
    @given(programs())
    @scaled(20, 2000, 20_000, deadline=None)
    def test_every_command_gives_the_same_outcome_and_state(self, program: Program) -> None:
        workspace = new_workspace(incoming=program.incoming)
        account, table = workspace.account, DictTable()
        for command, at in program.steps:
            workspace, expected = on_workspace(workspace, command, at)
            account, outcome = on_table(account, table, command, at)
            assert outcome == expected, command
            assert_same(workspace, account, table)
            if outcome and not isinstance(outcome, Refusal):  # a refusal left both as they were
                assert_same_answers(workspace, table, at)


class TestDictTable:
    def test_is_a_lead_table(self) -> None:
        table = DictTable()
        assert _is_a_table(table) is table

    def test_writes_a_record_and_drops_one_gone(self) -> None:
        at = START
        workspace = apply(new_workspace(), CreateLead("ACME"), at=at).workspace
        table = DictTable()
        record = workspace.record(1)
        assert record is not None
        table.write({1: record})
        assert table.record(1) == record
        table.write({1: None})
        assert table.record(1) is None
        assert table.contents() == ({}, {})


@pytest.mark.parametrize("shift", [-1, 1])
def test_a_stale_version_is_refused_the_same_way(shift: int) -> None:
    at = START
    workspace = apply(new_workspace(), CreateLead("ACME"), at=at).workspace
    workspace = apply(workspace, MoveLead(1, 145), at=at).workspace
    account, table = workspace.account, DictTable()
    record = workspace.record(1)
    assert record is not None
    table.write({1: record})
    command = WinLead(1, expected_version=record.lead.version + shift)
    _workspace, expected = on_workspace(workspace, command, at)
    _account, outcome = on_table(account, table, command, at)
    assert isinstance(expected, Refusal)
    assert expected.code == "lead_version_conflict"
    assert outcome == expected


class Liar(DictTable):
    """A table that answers every lead id with what *answer* gives: a host's bug."""

    def __init__(self, answer: LeadRecord | tuple[str]) -> None:
        super().__init__()
        self.answer = answer

    def record(self, lead_id: int) -> LeadRecord | None:
        return self.answer  # type: ignore[return-value]  # a wrong answer, on purpose


class Counting(DictTable):
    """A table that notes each lead id it is asked the record of."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[int] = []

    def record(self, lead_id: int) -> LeadRecord | None:
        self.asked.append(lead_id)
        return super().record(lead_id)


def two_leads() -> Workspace:
    workspace = new_workspace()
    for command in (CreateLead("ACME"), CreateLead("Globex")):
        workspace = apply(workspace, command, at=START).workspace
    return workspace


class TestRecordsFromTheTable:
    def test_refuses_the_record_of_another_lead(self) -> None:
        workspace = two_leads()
        record = workspace.record(2)
        assert record is not None
        with pytest.raises(ValueError, match="the table gave lead 2 for lead 1"):
            apply_to_leads(workspace.account, Liar(record), MoveLead(1, 145), at=START)

    def test_refuses_what_is_not_a_record(self) -> None:
        workspace = two_leads()
        with pytest.raises(TypeError, match="lead record"):
            apply_to_leads(workspace.account, Liar(("lead",)), MoveLead(1, 145), at=START)

    def test_a_lead_command_reads_its_lead_once(self) -> None:
        workspace = two_leads()
        table = Counting()
        for lead_id in workspace.leads:
            record = workspace.record(lead_id)
            assert record is not None
            table.write({lead_id: record})
        applied = apply_to_leads(workspace.account, table, MoveLead(1, 145), at=START)
        assert [type(event).__name__ for event in applied.events] == ["LeadMoved"]
        assert table.asked == [1]
