"""``replay``: folding a log of events back into the workspace ``apply`` returned.

The events of one command share its revision and are taken as a group; a group
whose revision is not the state's revision + 1 is a :class:`RevisionConflict`, and
an event that does not fit the state is a :class:`RuleViolation`.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pipekit
from pipekit import (
    AcceptLead,
    AddAutomation,
    AddLossReason,
    AddStage,
    Applied,
    Command,
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
    DuplicateLeadId,
    EnableAutomation,
    EnableIncoming,
    Event,
    FailAction,
    HostAction,
    InvalidEvent,
    LeadCreated,
    LeadMoved,
    LeadsRelocated,
    LoseLead,
    MoveLead,
    MovePipeline,
    MoveStage,
    MoveTo,
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
    StageDeleted,
    StageKind,
    Trigger,
    UnknownLead,
    UpdateAutomation,
    WinLead,
    Workspace,
    apply,
    new_workspace,
    replay,
)
from pipekit.codec import dump
from pipekit.evolve import replay as replay_in_evolve
from tests.profiles import COSTLY, EXPENSIVE
from tests.workspace_strategies import History, histories

AT: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)

"""For the laws beside the main one: each replays many logs per example."""

INITIAL: Final = 144
OFFER: Final = 145
NEGOTIATION: Final = 146


def run(commands: Iterable[Command], start: Workspace | None = None) -> list[Applied]:
    """Apply *commands* one after the other, a minute apart; return what each returned."""
    workspace = new_workspace() if start is None else start
    results = []
    for minute, command in enumerate(commands):
        applied = apply(workspace, command, at=AT + timedelta(minutes=minute))
        results.append(applied)
        workspace = applied.workspace
    return results


def log_of(results: Iterable[Applied]) -> list[Event]:
    """Every event of *results*, in order."""
    return [event for applied in results for event in applied.events]


def groups_of(history: History) -> list[tuple[Event, ...]]:
    """The event groups of *history*'s accepted commands that emitted any, in order."""
    return [applied.events for _command, _at, applied in history.applied if applied.events]


def flat(groups: Iterable[Sequence[Event]]) -> list[Event]:
    return [event for group in groups for event in group]


# Every command class, each accepted once, so that every event class comes up.
TOUR: Final[tuple[Command, ...]] = (
    AddLossReason("Too expensive"),
    RenameLossReason(1, "Price"),
    AddLossReason("Bad timing"),
    DeleteLossReason(2),
    CreatePipeline("Partners", incoming=True),
    RenamePipeline(2, "Partner deals"),
    MovePipeline(2, 0),
    SetMainPipeline(2),
    SetMainPipeline(1),
    CreateLead("ACME", price=150_000),
    CreateLead("Globex", pipeline_id=2, incoming=True),
    AcceptLead(2),
    CreateLead("Initech", pipeline_id=2, incoming=True),
    DeclineLead(3),
    AddStage(1, "Demo", position=1),
    RenameStage(1, 147, "Product demo"),
    RecolorStage(1, 147, "#abcdef"),
    MoveStage(1, 147, 0),
    AddAutomation(1, (147, 144), Trigger.ENTERED, HostAction("send_email", {"to": ["a@b.c"]})),
    AddAutomation(1, (144,), Trigger.LEFT, MoveTo(147), delay=timedelta(hours=1)),
    UpdateAutomation(2, (144,), Trigger.MOVED_IN, MoveTo(147), min_price=100),
    DisableAutomation(2),
    EnableAutomation(2),
    AddAutomation(2, (144,), Trigger.CREATED, HostAction("webhook")),
    AddAutomation(1, (145,), Trigger.ENTERED, HostAction("webhook")),
    RemoveAutomation(4),
    MoveLead(1, 147),
    DeleteStage(1, 147),
    RenameTerminal(1, StageKind.WON, "Signed"),
    WinLead(1),
    LoseLead(2, loss_reason_id=1),
    DeleteLead(2),
    DisableIncoming(2),
    EnableIncoming(1),
    DeletePipeline(2),
    AddAutomation(1, (144,), Trigger.ENTERED, MoveTo(145)),
    AddAutomation(1, (145,), Trigger.ENTERED, MoveTo(144)),
    CreateLead("Hooli"),  # automation 1 e-mails (item 1), 5 moves (item 2)
    RunDue(),  # hands 1 over; the moves loop back to 144, where the loop stops
    CompleteAction(1),
    CreateLead("Umbrella"),  # items 6 and 7
    RunDue(),
    FailAction(6, "the mail server said no"),
)


def two_leads() -> list[Applied]:
    """Lead 1 moved to "Offer Made", then lead 2 created: three commands, three events."""
    return run([CreateLead("ACME"), MoveLead(1, OFFER), CreateLead("Globex")])


def relocating_delete() -> list[Applied]:
    """Two leads in "Offer Made", then the stage deleted: its group holds two events."""
    return run(
        [
            CreateLead("ACME", stage_id=OFFER),
            CreateLead("Globex", stage_id=OFFER),
            DeleteStage(1, OFFER),
        ]
    )


class TestImport:
    def test_replay_is_importable_from_pipekit(self) -> None:
        assert pipekit.replay is replay_in_evolve
        assert "replay" in pipekit.__all__


class TestReplayGivesWhatApplyReturned:
    @EXPENSIVE
    @given(histories())
    def test_every_prefix_of_groups_gives_the_workspace_at_that_revision(
        self, history: History
    ) -> None:
        workspace = history.start
        log: list[Event] = []
        for _command, _at, applied in history.applied:
            log.extend(applied.events)
            workspace = applied.workspace
            assert replay(log, initial=history.start) == workspace

    @COSTLY
    @given(histories(incoming=False))
    def test_initial_defaults_to_new_workspace(self, history: History) -> None:
        assert replay(flat(groups_of(history))) == history.final

    @EXPENSIVE
    @given(histories(), st.data())
    def test_replaying_in_two_parts_is_replaying_in_one(
        self, history: History, data: st.DataObject
    ) -> None:
        groups = groups_of(history)
        cut = data.draw(st.integers(0, len(groups)), label="cut")
        middle = replay(flat(groups[:cut]), initial=history.start)
        assert replay(flat(groups[cut:]), initial=middle) == history.final

    def test_every_command_and_event_class_replays(self) -> None:
        results = run(TOUR)
        log = log_of(results)

        assert {type(command) for command in TOUR} == set(typing.get_args(Command))
        assert {type(event) for event in log} == set(typing.get_args(Event))
        assert replay(log) == results[-1].workspace

    def test_no_events_give_the_initial_workspace(self) -> None:
        workspace = two_leads()[-1].workspace

        assert replay([]) == new_workspace()
        assert replay([], initial=workspace) == workspace

    def test_takes_any_iterable_of_events(self) -> None:
        results = two_leads()
        log = log_of(results)

        assert replay(iter(log)) == results[-1].workspace
        assert replay(tuple(log)) == results[-1].workspace
        assert replay(event for event in log) == results[-1].workspace

    def test_the_initial_workspace_is_unchanged(self) -> None:
        start = run([CreateLead("ACME")])[-1].workspace
        before = copy.deepcopy(start)
        results = run([MoveLead(1, OFFER), WinLead(1)], start)

        assert replay(log_of(results), initial=start) == results[-1].workspace
        assert start == before
        assert start.revision == 1

    def test_an_initial_workspace_is_unchanged_by_a_log_of_scheduled_actions(self) -> None:
        # Each event here changes only the schedule, the first one in the initial workspace.
        welcome = HostAction("send_email")
        added = AddAutomation(1, (OFFER,), Trigger.ENTERED, welcome)
        start = run([added, CreateLead("ACME"), MoveLead(1, OFFER)])[-1].workspace
        before = copy.deepcopy(start)
        handed = apply(start, RunDue(), at=AT + timedelta(hours=1))
        completed = apply(handed.workspace, CompleteAction(1), at=AT + timedelta(hours=2))
        log = [*handed.events, *completed.events]

        assert [type(event).__name__ for event in log] == ["ActionHandedOver", "ActionCompleted"]
        assert replay(log, initial=start) == completed.workspace
        assert start == before
        assert start.revision == 3
        assert [item.handed_over_at for item in start.scheduled] == [None]


class TestGroups:
    def test_the_events_of_one_command_share_its_revision(self) -> None:
        deleted = relocating_delete()[-1]

        assert [type(event) for event in deleted.events] == [LeadsRelocated, StageDeleted]
        assert {event.revision for event in deleted.events} == {3}

    def test_a_group_of_several_events_replays_as_one_revision(self) -> None:
        results = relocating_delete()
        workspace = replay(log_of(results))

        assert workspace == results[-1].workspace
        assert workspace.revision == 3
        assert [lead.stage_id for lead in workspace.leads.values()] == [INITIAL, INITIAL]

    def test_a_gap_is_a_revision_conflict(self) -> None:
        first, _second, third = two_leads()

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*first.events, *third.events])
        assert (raised.value.expected, raised.value.actual) == (2, 3)

    def test_a_log_that_does_not_start_at_revision_one_is_a_revision_conflict(self) -> None:
        _first, second, third = two_leads()

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*second.events, *third.events])
        assert (raised.value.expected, raised.value.actual) == (1, 2)

    def test_a_group_repeated_later_is_a_revision_conflict(self) -> None:
        first, second, third = two_leads()

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*first.events, *second.events, *third.events, *second.events])
        assert (raised.value.expected, raised.value.actual) == (4, 2)

    def test_a_group_of_several_events_repeated_later_is_a_revision_conflict(self) -> None:
        results = relocating_delete()
        deleted = results[-1].events
        later = apply(results[-1].workspace, CreateLead("Initech"), at=AT).events

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*log_of(results), *later, *deleted])
        assert (raised.value.expected, raised.value.actual) == (5, 3)

    def test_a_group_repeated_at_once_is_a_revision_conflict(self) -> None:
        first, second, _third = two_leads()

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*first.events, *second.events, *second.events])
        assert (raised.value.expected, raised.value.actual) == (3, 2)

    def test_a_run_that_moves_a_lead_the_same_way_twice_is_one_group(self) -> None:
        # Two automations move leads on from 144, one moves them back: RunDue moves
        # the lead 144 -> 145 twice, with equal LeadMoved events, in one group.
        results = run(
            [
                AddAutomation(1, (144,), Trigger.ENTERED, MoveTo(145)),
                AddAutomation(1, (145,), Trigger.ENTERED, MoveTo(144)),
                AddAutomation(1, (144,), Trigger.ENTERED, MoveTo(145)),
                CreateLead("ACME"),
                RunDue(),
            ]
        )
        moves = [event for event in results[-1].events if isinstance(event, LeadMoved)]
        assert moves[0] == moves[2]
        assert replay(log_of(results)) == results[-1].workspace
        with pytest.raises(RevisionConflict, match="revision"):
            replay([*log_of(results), *results[-1].events])

    def test_a_rename_repeated_at_once_is_a_revision_conflict(self) -> None:
        # Renaming twice to the same name fits the state, so only the revision
        # tells the repeat from a command that emitted two events.
        (renamed,) = run([RenamePipeline(1, "Sales")])

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*renamed.events, *renamed.events])
        assert (raised.value.expected, raised.value.actual) == (2, 1)

    def test_groups_out_of_order_are_a_revision_conflict(self) -> None:
        first, second, third = two_leads()

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*first.events, *third.events, *second.events])
        assert (raised.value.expected, raised.value.actual) == (2, 3)

    def test_a_group_split_by_another_is_a_revision_conflict(self) -> None:
        first, second, deleted = relocating_delete()
        relocated, stage_deleted = deleted.events
        later = apply(deleted.workspace, CreateLead("Initech"), at=AT).events

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay([*first.events, *second.events, relocated, *later, stage_deleted])
        assert (raised.value.expected, raised.value.actual) == (5, 3)

    def test_starting_from_a_later_state_is_a_revision_conflict(self) -> None:
        results = two_leads()

        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay(log_of(results), initial=results[-1].workspace)
        assert (raised.value.expected, raised.value.actual) == (4, 1)

    def test_starting_from_an_earlier_state_is_a_revision_conflict(self) -> None:
        first, second, third = two_leads()

        with pytest.raises(RevisionConflict, match="revision"):
            replay(third.events, initial=first.workspace)
        assert replay(third.events, initial=second.workspace) == third.workspace

    @COSTLY
    @given(histories(), st.data())
    def test_leaving_out_any_group_but_the_last_is_a_revision_conflict(
        self, history: History, data: st.DataObject
    ) -> None:
        groups = groups_of(history)
        if len(groups) < 2:
            return
        gone = data.draw(st.integers(0, len(groups) - 2), label="left out")
        with pytest.raises(RevisionConflict, match="revision"):
            replay(flat(groups[:gone] + groups[gone + 1 :]), initial=history.start)

    @COSTLY
    @given(histories(), st.data())
    def test_repeating_any_group_after_another_is_a_revision_conflict(
        self, history: History, data: st.DataObject
    ) -> None:
        groups = groups_of(history)
        if len(groups) < 2:
            return
        again = data.draw(st.integers(0, len(groups) - 2), label="repeated")
        with pytest.raises(RevisionConflict, match="revision") as raised:
            replay(flat([*groups, groups[again]]), initial=history.start)
        assert raised.value.actual == groups[again][0].revision


class TestEventsThatDoNotFit:
    def test_a_lead_moved_from_where_it_is_not_is_refused(self) -> None:
        created = run([CreateLead("ACME")])[-1]
        elsewhere = LeadMoved(
            revision=2,
            at=AT,
            lead_id=1,
            from_pipeline_id=1,
            from_stage_id=OFFER,
            to_pipeline_id=1,
            to_stage_id=NEGOTIATION,
        )

        with pytest.raises(InvalidEvent, match="lead 1 is in stage 144, not in stage 145"):
            replay([*created.events, elsewhere])

    def test_a_lead_moved_that_does_not_exist_is_refused(self) -> None:
        ghost = LeadMoved(
            revision=1,
            at=AT,
            lead_id=7,
            from_pipeline_id=1,
            from_stage_id=INITIAL,
            to_pipeline_id=1,
            to_stage_id=OFFER,
        )

        with pytest.raises(UnknownLead, match="no lead has id 7"):
            replay([ghost])

    def test_a_lead_created_twice_is_refused(self) -> None:
        (created,) = run([CreateLead("ACME")])[-1].events
        assert isinstance(created, LeadCreated)
        again = LeadCreated(revision=2, at=AT, lead=created.lead)

        with pytest.raises(DuplicateLeadId, match="already has a lead with id 1"):
            replay([created, again])

    def test_the_events_of_a_group_out_of_order_are_refused(self) -> None:
        first, second, deleted = relocating_delete()
        relocated, stage_deleted = deleted.events

        with pytest.raises(InvalidEvent, match=r"stage 145 still holds 2 lead\(s\)"):
            replay([*first.events, *second.events, stage_deleted, relocated])

    def test_replay_returns_nothing_partial(self) -> None:
        start = run([CreateLead("ACME")])[-1].workspace
        before = copy.deepcopy(start)
        fitting = log_of(run([MoveLead(1, OFFER), CreateLead("Globex")], start))
        stale = LeadMoved(
            revision=4,
            at=AT,
            lead_id=1,
            from_pipeline_id=1,
            from_stage_id=INITIAL,
            to_pipeline_id=1,
            to_stage_id=NEGOTIATION,
        )
        result: Workspace | None = None

        with pytest.raises(RuleViolation, match="LeadMoved does not fit"):
            result = replay([*fitting, stale], initial=start)
        assert result is None
        assert start == before


class TestTypes:
    @pytest.mark.parametrize("initial", ["workspace", {}, 0])
    def test_initial_must_be_a_workspace(self, initial: object) -> None:
        with pytest.raises(TypeError, match="initial must be a Workspace"):
            replay([], initial=initial)  # type: ignore[arg-type]  # the wrong type on purpose

    @pytest.mark.parametrize("events", [None, 5])
    def test_events_must_be_iterable(self, events: object) -> None:
        with pytest.raises(TypeError, match="not iterable"):
            replay(events)  # type: ignore[arg-type]  # the wrong type on purpose

    @pytest.mark.parametrize(
        "item",
        [
            object(),
            "LeadCreated",
            CreateLead("ACME"),
            dump(run([CreateLead("ACME")])[-1].events[0]),
        ],
        ids=["object", "str", "command", "event-document"],
    )
    def test_every_item_must_be_an_event(self, item: object) -> None:
        with pytest.raises(TypeError, match="event"):
            replay([item])  # type: ignore[list-item]  # the wrong type on purpose
