"""The Digital Pipeline at work: what lead changes schedule, cancel, and what ``RunDue`` does.

Every command goes through ``applied``: ``apply_checked`` fails the test when the
command changed its input (compared with a deep copy) and rebuilds the result with
the public constructor; ``applied`` also replays the command's events over the
input and requires the very workspace ``apply`` returned.

Unless a test says otherwise, the lead is created at ``AT`` in the first open stage
of pipeline 1 (``INITIAL``), commands run at ``LATER``, and automations send an
e-mail (a host action), so that nothing moves unless the test is about moves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

import attrs
import pytest

from pipekit import (
    AcceptLead,
    Action,
    ActionCancelled,
    ActionCompleted,
    ActionFailed,
    ActionHandedOver,
    ActionScheduled,
    AddAutomation,
    AddLossReason,
    Applied,
    AutomationDisabled,
    AutomationEnabled,
    AutomationLoopStopped,
    AutomationRemoved,
    AutomationUpdated,
    Command,
    CompleteAction,
    CreateLead,
    DeclineLead,
    DeleteLead,
    DeletePipeline,
    DeleteStage,
    DisableAutomation,
    DisableIncoming,
    EnableAutomation,
    Event,
    FailAction,
    HostAction,
    IncomingStageDisabled,
    InvalidEvent,
    InvalidWorkspace,
    LeadAccepted,
    LeadCreated,
    LeadDeclined,
    LeadDeleted,
    LeadMoved,
    LeadsRelocated,
    LoseLead,
    MoveLead,
    MoveTo,
    PipelineDeleted,
    RemoveAutomation,
    RunDue,
    Scheduled,
    StageDeleted,
    Trigger,
    UnknownAutomation,
    UnknownLead,
    UnknownScheduledAction,
    UpdateAutomation,
    WinLead,
    Workspace,
    due,
    replay,
)
from pipekit.evolve import evolve
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
from tests.test_apply_automations import DEMO, EMAIL, PARTNERS, office, refused

CALL: Final = HostAction("create_task", {"text": "call back"})
HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)
NO_DELAY: Final = timedelta(0)


def watching(
    *stage_ids: int,
    trigger: Trigger = Trigger.ENTERED,
    action: Action = EMAIL,
    pipeline_id: int = 1,
    delay: timedelta = NO_DELAY,
    min_price: int | None = None,
    max_price: int | None = None,
) -> AddAutomation:
    """An automation of pipeline 1 watching *stage_ids* (ENTERED, e-mail, no delay)."""
    return AddAutomation(
        pipeline_id,
        stage_ids,
        trigger,
        action,
        delay=delay,
        min_price=min_price,
        max_price=max_price,
    )


def setup(*commands: Command, at: datetime = AT) -> Workspace:
    """The office of the automation tests after *commands*, each of which must change it."""
    return run(office(), *commands, at=at)


def applied(workspace: Workspace, command: Command, *, at: datetime = LATER) -> Applied:
    """Apply *command* as ``apply_checked`` does, and check that its events replay to the result."""
    result = apply_checked(workspace, command, at=at)
    assert replay(result.events, initial=workspace) == result.workspace
    return result


def rebuilt(workspace: Workspace, *scheduled: Scheduled, next_scheduled_id: int = 0) -> Workspace:
    """Return *workspace* built again by the constructor, holding *scheduled* and nothing else."""
    counter = {"next_scheduled_id": next_scheduled_id} if next_scheduled_id else {}
    return Workspace(
        pipelines=workspace.pipelines,
        main_pipeline_id=workspace.main_pipeline_id,
        leads=dict(workspace.leads),
        loss_reasons=workspace.loss_reasons,
        revision=workspace.revision,
        automations=workspace.automations,
        scheduled=scheduled,
        **counter,
    )


def scheduled_in(events: tuple[Event, ...]) -> list[Scheduled]:
    return [event.scheduled for event in events if isinstance(event, ActionScheduled)]


def moved(revision: int, lead_id: int, origin: int, target: int, *, at: datetime = LATER) -> Event:
    """A LeadMoved within pipeline 1."""
    return LeadMoved(revision, at, lead_id, 1, origin, 1, target)


class TestTriggers:
    def test_entered_fires_when_a_lead_is_created_in_a_watched_stage(self) -> None:
        workspace = setup(watching(INITIAL, delay=5 * HOUR))
        result = applied(workspace, CreateLead("ACME", price=10))
        revision = workspace.revision + 1
        expected = Scheduled(1, 1, 1, LATER + 5 * HOUR, EMAIL)
        assert result.events == (
            LeadCreated(revision, LATER, result.workspace.lead(1)),
            ActionScheduled(revision, LATER, expected),
        )
        assert result.workspace.scheduled == (expected,)
        assert result.workspace.next_scheduled_id == 2

    def test_entered_fires_when_a_lead_is_moved_in(self) -> None:
        workspace = setup(watching(OFFER), CreateLead("ACME"))
        result = applied(workspace, MoveLead(1, OFFER))
        revision = workspace.revision + 1
        assert result.events == (
            moved(revision, 1, INITIAL, OFFER),
            ActionScheduled(revision, LATER, Scheduled(1, 1, 1, LATER, EMAIL)),
        )

    def test_created_fires_when_a_lead_is_created_in_a_watched_stage(self) -> None:
        workspace = setup(watching(OFFER, trigger=Trigger.CREATED))
        result = applied(workspace, CreateLead("ACME", stage_id=OFFER))
        assert scheduled_in(result.events) == [Scheduled(1, 1, 1, LATER, EMAIL)]

    def test_created_does_not_fire_when_a_lead_is_moved_in(self) -> None:
        workspace = setup(watching(OFFER, trigger=Trigger.CREATED), CreateLead("ACME"))
        result = applied(workspace, MoveLead(1, OFFER))
        assert result.events == (moved(workspace.revision + 1, 1, INITIAL, OFFER),)
        assert result.workspace.scheduled == ()

    def test_moved_in_fires_only_from_outside_the_region(self) -> None:
        workspace = setup(watching(OFFER, NEGOTIATION, trigger=Trigger.MOVED_IN))
        created = applied(workspace, CreateLead("ACME", stage_id=OFFER))
        assert scheduled_in(created.events) == []
        within = applied(created.workspace, MoveLead(1, NEGOTIATION))
        assert scheduled_in(within.events) == []
        workspace = run(within.workspace, CreateLead("Globex"))
        moved_in = applied(workspace, MoveLead(2, OFFER))
        assert scheduled_in(moved_in.events) == [Scheduled(1, 1, 2, LATER, EMAIL)]

    def test_left_fires_only_to_outside_the_region(self) -> None:
        workspace = setup(watching(INITIAL, OFFER, trigger=Trigger.LEFT))
        created = applied(workspace, CreateLead("ACME"))
        assert scheduled_in(created.events) == []
        within = applied(created.workspace, MoveLead(1, OFFER))
        assert scheduled_in(within.events) == []
        left = applied(within.workspace, MoveLead(1, NEGOTIATION))
        assert left.events == (
            moved(within.workspace.revision + 1, 1, OFFER, NEGOTIATION),
            ActionScheduled(within.workspace.revision + 1, LATER, Scheduled(1, 1, 1, LATER, EMAIL)),
        )

    @pytest.mark.parametrize("trigger", list(Trigger), ids=lambda trigger: trigger.name)
    def test_a_move_between_two_watched_stages_fires_nothing(self, trigger: Trigger) -> None:
        workspace = setup(CreateLead("ACME"), watching(INITIAL, OFFER, trigger=trigger))
        result = applied(workspace, MoveLead(1, OFFER))
        assert result.events == (moved(workspace.revision + 1, 1, INITIAL, OFFER),)

    @pytest.mark.parametrize("trigger", list(Trigger), ids=lambda trigger: trigger.name)
    def test_a_disabled_automation_fires_nothing(self, trigger: Trigger) -> None:
        workspace = setup(watching(INITIAL, trigger=trigger), DisableAutomation(1))
        created = applied(workspace, CreateLead("ACME"))
        assert [type(event) for event in created.events] == [LeadCreated]
        left = applied(created.workspace, MoveLead(1, OFFER))
        back = applied(left.workspace, MoveLead(1, INITIAL))
        assert [type(event) for event in (*left.events, *back.events)] == [LeadMoved, LeadMoved]
        assert back.workspace.scheduled == ()

    @pytest.mark.parametrize("delay", [NO_DELAY, timedelta(minutes=90), 2 * DAY], ids=str)
    def test_the_item_is_due_its_delay_after_the_command(self, delay: timedelta) -> None:
        at = datetime(2026, 12, 1, 23, 30, tzinfo=timezone(timedelta(hours=3)))
        workspace = setup(watching(INITIAL, delay=delay))
        result = applied(workspace, CreateLead("ACME"), at=at)
        (item,) = result.workspace.scheduled
        assert item.due_at == at + delay

    def test_nothing_runs_inside_the_triggering_command_even_with_no_delay(self) -> None:
        workspace = setup(watching(INITIAL, action=MoveTo(OFFER)))
        result = applied(workspace, CreateLead("ACME"))
        assert [type(event) for event in result.events] == [LeadCreated, ActionScheduled]
        assert result.workspace.lead(1).stage_id == INITIAL
        assert due(result.workspace, LATER) == (Scheduled(1, 1, 1, LATER, MoveTo(OFFER)),)

    def test_a_move_cancels_then_fires_left_then_entering_each_in_creation_order(self) -> None:
        workspace = setup(
            watching(INITIAL),  # 1: its item for the lead is cancelled
            CreateLead("ACME"),
            watching(OFFER, trigger=Trigger.MOVED_IN),  # 2
            watching(INITIAL, trigger=Trigger.LEFT),  # 3
            watching(OFFER, action=CALL),  # 4
        )
        result = applied(workspace, MoveLead(1, OFFER))
        revision = workspace.revision + 1
        assert result.events == (
            moved(revision, 1, INITIAL, OFFER),
            ActionCancelled(revision, LATER, 1),
            ActionScheduled(revision, LATER, Scheduled(2, 3, 1, LATER, EMAIL)),
            ActionScheduled(revision, LATER, Scheduled(3, 2, 1, LATER, EMAIL)),
            ActionScheduled(revision, LATER, Scheduled(4, 4, 1, LATER, CALL)),
        )

    def test_ids_count_up_from_the_workspace_counter(self) -> None:
        workspace = rebuilt(setup(watching(INITIAL), watching(INITIAL)), next_scheduled_id=40)
        result = applied(workspace, CreateLead("ACME"))
        assert [(item.id, item.automation_id) for item in result.workspace.scheduled] == [
            (40, 1),
            (41, 2),
        ]
        assert result.workspace.next_scheduled_id == 42

    def test_winning_leaves_the_stage_and_enters_won(self) -> None:
        workspace = setup(
            CreateLead("ACME"), watching(INITIAL, trigger=Trigger.LEFT), watching(WON)
        )
        result = applied(workspace, WinLead(1))
        assert [(item.automation_id, item.lead_id) for item in scheduled_in(result.events)] == [
            (1, 1),
            (2, 1),
        ]

    def test_losing_leaves_the_stage_and_enters_lost(self) -> None:
        workspace = setup(
            CreateLead("ACME"), watching(INITIAL, trigger=Trigger.LEFT), watching(LOST)
        )
        result = applied(workspace, LoseLead(1))
        assert [item.automation_id for item in scheduled_in(result.events)] == [1, 2]

    def test_a_new_loss_reason_for_a_lost_lead_is_not_a_move(self) -> None:
        workspace = setup(
            AddLossReason("Too expensive"),
            watching(LOST, delay=DAY),  # 1: fires when the lead is lost
            watching(LOST, trigger=Trigger.LEFT),  # 2
            CreateLead("ACME"),
            LoseLead(1),
        )
        assert [item.automation_id for item in workspace.scheduled] == [1]
        result = applied(workspace, LoseLead(1, loss_reason_id=1))
        revision = workspace.revision + 1
        assert result.events == (LeadMoved(revision, LATER, 1, 1, LOST, 1, LOST, 1),)
        assert result.workspace.scheduled == workspace.scheduled

    def test_accepting_leaves_incoming_leads_and_enters_the_stage(self) -> None:
        workspace = setup(
            watching(INCOMING, trigger=Trigger.LEFT),  # 1
            watching(OFFER),  # 2
            watching(OFFER, trigger=Trigger.CREATED),  # 3: accepting is no creation
            CreateLead("ACME", incoming=True),
        )
        result = applied(workspace, AcceptLead(1, OFFER))
        revision = workspace.revision + 1
        assert result.events == (
            LeadAccepted(revision, LATER, 1, 1, INCOMING, OFFER),
            ActionScheduled(revision, LATER, Scheduled(1, 1, 1, LATER, EMAIL)),
            ActionScheduled(revision, LATER, Scheduled(2, 2, 1, LATER, EMAIL)),
        )

    def test_a_lead_created_in_incoming_leads_fires_its_watchers(self) -> None:
        workspace = setup(watching(INCOMING))
        result = applied(workspace, CreateLead("ACME", incoming=True))
        assert scheduled_in(result.events) == [Scheduled(1, 1, 1, LATER, EMAIL)]


class TestPriceConditions:
    @pytest.mark.parametrize(
        ("price", "fires"),
        [(99, False), (100, True), (150, True), (200, True), (201, False)],
    )
    def test_both_bounds_are_inclusive(self, price: int, fires: bool) -> None:
        workspace = setup(watching(INITIAL, min_price=100, max_price=200))
        result = applied(workspace, CreateLead("ACME", price=price))
        assert len(result.workspace.scheduled) == int(fires)

    @pytest.mark.parametrize(
        ("price", "fires"), [(0, False), (99, False), (100, True), (10**9, True)]
    )
    def test_a_minimum_alone_has_no_upper_bound(self, price: int, fires: bool) -> None:
        workspace = setup(watching(INITIAL, min_price=100))
        result = applied(workspace, CreateLead("ACME", price=price))
        assert len(result.workspace.scheduled) == int(fires)

    @pytest.mark.parametrize(("price", "fires"), [(0, True), (100, True), (101, False)])
    def test_a_maximum_alone_has_no_lower_bound(self, price: int, fires: bool) -> None:
        workspace = setup(watching(INITIAL, max_price=100))
        result = applied(workspace, CreateLead("ACME", price=price))
        assert len(result.workspace.scheduled) == int(fires)

    def test_the_conditions_hold_for_moves_too(self) -> None:
        workspace = setup(
            CreateLead("Cheap", price=5),
            CreateLead("Dear", price=500),
            watching(INITIAL, trigger=Trigger.LEFT, min_price=100),
        )
        cheap = applied(workspace, MoveLead(1, OFFER))
        assert cheap.workspace.scheduled == ()
        dear = applied(cheap.workspace, MoveLead(2, OFFER))
        assert [item.lead_id for item in dear.workspace.scheduled] == [2]


class TestRegions:
    def test_a_stage_of_the_same_id_in_another_pipeline_is_another_stage(self) -> None:
        workspace = setup(watching(INITIAL, pipeline_id=PARTNERS))
        result = applied(workspace, CreateLead("ACME"))
        assert result.workspace.scheduled == ()

    def test_a_move_to_another_pipeline_leaves_the_region(self) -> None:
        workspace = setup(
            watching(INITIAL),  # 1: its item is cancelled
            CreateLead("ACME"),
            watching(INITIAL, trigger=Trigger.LEFT),  # 2
            watching(INITIAL, pipeline_id=PARTNERS, trigger=Trigger.MOVED_IN),  # 3
            watching(INITIAL, pipeline_id=PARTNERS, trigger=Trigger.LEFT),  # 4: not left
        )
        result = applied(workspace, MoveLead(1, INITIAL, pipeline_id=PARTNERS))
        revision = workspace.revision + 1
        assert result.events == (
            LeadMoved(revision, LATER, 1, 1, INITIAL, PARTNERS, INITIAL),
            ActionCancelled(revision, LATER, 1),
            ActionScheduled(revision, LATER, Scheduled(2, 2, 1, LATER, EMAIL)),
            ActionScheduled(revision, LATER, Scheduled(3, 3, 1, LATER, EMAIL)),
        )

    def test_a_move_within_the_region_keeps_the_waiting_items(self) -> None:
        workspace = setup(watching(INITIAL, OFFER, delay=DAY), CreateLead("ACME"))
        result = applied(workspace, MoveLead(1, OFFER))
        assert result.events == (moved(workspace.revision + 1, 1, INITIAL, OFFER),)
        assert result.workspace.scheduled == workspace.scheduled

    def test_coming_back_into_the_region_fires_again(self) -> None:
        workspace = setup(watching(INITIAL, delay=DAY), CreateLead("ACME"), MoveLead(1, OFFER))
        assert workspace.scheduled == ()
        result = applied(workspace, MoveLead(1, INITIAL))
        assert result.workspace.scheduled == (Scheduled(2, 1, 1, LATER + DAY, EMAIL),)


class TestRelocation:
    """DeleteStage moves the stage's leads: they meet the automations as they were before."""

    def test_relocated_leads_fire_what_their_move_matches(self) -> None:
        workspace = setup(
            watching(OFFER),  # 1
            watching(INITIAL, NEGOTIATION, trigger=Trigger.LEFT),  # 2: keeps NEGOTIATION
            CreateLead("ACME"),
            CreateLead("Globex"),
        )
        result = applied(workspace, DeleteStage(1, INITIAL))
        revision = workspace.revision + 1
        assert result.events == (
            LeadsRelocated(revision, LATER, 1, INITIAL, OFFER, (1, 2)),
            ActionScheduled(revision, LATER, Scheduled(1, 2, 1, LATER, EMAIL)),
            ActionScheduled(revision, LATER, Scheduled(2, 1, 1, LATER, EMAIL)),
            ActionScheduled(revision, LATER, Scheduled(3, 2, 2, LATER, EMAIL)),
            ActionScheduled(revision, LATER, Scheduled(4, 1, 2, LATER, EMAIL)),
            AutomationUpdated(
                revision, LATER, attrs.evolve(workspace.automation(2), stage_ids=(NEGOTIATION,))
            ),
            StageDeleted(revision, LATER, 1, INITIAL),
        )

    def test_a_lead_moved_between_stages_of_one_automation_fires_nothing(self) -> None:
        workspace = setup(watching(INITIAL, OFFER, delay=DAY), CreateLead("ACME"))
        result = applied(workspace, DeleteStage(1, INITIAL))
        revision = workspace.revision + 1
        assert result.events == (
            LeadsRelocated(revision, LATER, 1, INITIAL, OFFER, (1,)),
            AutomationUpdated(
                revision, LATER, attrs.evolve(workspace.automation(1), stage_ids=(OFFER,))
            ),
            StageDeleted(revision, LATER, 1, INITIAL),
        )
        assert result.workspace.scheduled == workspace.scheduled

    def test_a_relocation_out_of_the_region_cancels_like_a_move(self) -> None:
        workspace = setup(watching(INITIAL, NEGOTIATION, delay=DAY), CreateLead("ACME"))
        result = applied(workspace, DeleteStage(1, INITIAL))
        assert ActionCancelled(workspace.revision + 1, LATER, 1) in result.events
        assert result.workspace.scheduled == ()

    def test_automations_it_removes_fire_nothing_and_lose_their_waiting_items(self) -> None:
        workspace = setup(
            watching(INITIAL),  # 1: left watching nothing
            CreateLead("ACME"),  # item 1, handed over next
            RunDue(),
            CreateLead("Globex"),  # item 2, waiting
            watching(INITIAL, trigger=Trigger.LEFT),  # 2: left watching nothing
            watching(OFFER, action=MoveTo(INITIAL)),  # 3: its target goes
        )
        handed_over = workspace.scheduled_action(1)
        assert handed_over.handed_over_at == AT
        result = applied(workspace, DeleteStage(1, INITIAL))
        revision = workspace.revision + 1
        assert result.events == (
            LeadsRelocated(revision, LATER, 1, INITIAL, OFFER, (1, 2)),
            ActionCancelled(revision, LATER, 2),
            AutomationRemoved(revision, LATER, 1),
            AutomationRemoved(revision, LATER, 2),
            AutomationRemoved(revision, LATER, 3),
            StageDeleted(revision, LATER, 1, INITIAL),
        )
        # The host still reports on what it was handed, though the automation is gone.
        assert result.workspace.scheduled == (handed_over,)
        assert result.workspace.automations == ()

    def test_automations_that_only_let_go_of_the_stage_keep_their_items(self) -> None:
        workspace = setup(
            watching(INITIAL, NEGOTIATION, delay=DAY),
            CreateLead("ACME", stage_id=NEGOTIATION),
            watching(INITIAL, NEGOTIATION, trigger=Trigger.LEFT),
            MoveLead(1, OFFER),
        )
        assert [item.automation_id for item in workspace.scheduled] == [2]
        workspace = run(workspace, CreateLead("Globex", stage_id=NEGOTIATION))
        assert [item.automation_id for item in workspace.scheduled] == [2, 1]
        result = applied(workspace, DeleteStage(1, INITIAL))
        assert [type(event) for event in result.events] == [
            AutomationUpdated,
            AutomationUpdated,
            StageDeleted,
        ]
        assert result.workspace.scheduled == workspace.scheduled


class TestCancellation:
    @pytest.mark.parametrize(
        "trigger", [Trigger.ENTERED, Trigger.CREATED, Trigger.MOVED_IN], ids=lambda t: t.name
    )
    def test_leaving_the_region_cancels_waiting_items(self, trigger: Trigger) -> None:
        arrival: tuple[Command, ...] = (
            (CreateLead("ACME", stage_id=OFFER),)
            if trigger is Trigger.CREATED
            else (CreateLead("ACME"), MoveLead(1, OFFER))
        )
        workspace = setup(watching(OFFER, trigger=trigger, delay=DAY), *arrival)
        assert len(workspace.scheduled) == 1
        result = applied(workspace, MoveLead(1, NEGOTIATION))
        revision = workspace.revision + 1
        assert result.events == (
            moved(revision, 1, OFFER, NEGOTIATION),
            ActionCancelled(revision, LATER, 1),
        )
        assert result.workspace.scheduled == ()

    def test_an_overdue_item_is_cancelled_as_well_as_a_later_one(self) -> None:
        workspace = setup(watching(INITIAL), watching(INITIAL, delay=2 * DAY), CreateLead("ACME"))
        result = applied(workspace, MoveLead(1, OFFER), at=LATEST)
        revision = workspace.revision + 1
        assert result.events == (
            moved(revision, 1, INITIAL, OFFER, at=LATEST),
            ActionCancelled(revision, LATEST, 1),
            ActionCancelled(revision, LATEST, 2),
        )

    def test_left_items_survive_later_moves(self) -> None:
        workspace = setup(
            watching(INITIAL, trigger=Trigger.LEFT, delay=DAY),
            CreateLead("ACME"),
            MoveLead(1, OFFER),
        )
        (item,) = workspace.scheduled
        onwards = applied(workspace, MoveLead(1, NEGOTIATION))
        won = applied(onwards.workspace, WinLead(1))
        assert [type(event) for event in (*onwards.events, *won.events)] == [LeadMoved, LeadMoved]
        assert won.workspace.scheduled == (item,)

    def test_handed_over_items_survive_moves(self) -> None:
        workspace = setup(watching(INITIAL), CreateLead("ACME"), RunDue())
        (item,) = workspace.scheduled
        assert item.handed_over_at == AT
        result = applied(workspace, MoveLead(1, OFFER))
        assert result.events == (moved(workspace.revision + 1, 1, INITIAL, OFFER),)
        assert result.workspace.scheduled == (item,)

    def test_deleting_a_lead_cancels_all_its_items_handed_over_too(self) -> None:
        workspace = setup(
            watching(INITIAL),
            watching(INITIAL, trigger=Trigger.CREATED, delay=DAY),
            CreateLead("ACME"),  # items 1 (handed over next) and 2
            RunDue(),
            CreateLead("Globex"),  # items 3 and 4
        )
        lead = workspace.lead(1)
        result = applied(workspace, DeleteLead(1))
        revision = workspace.revision + 1
        assert result.events == (
            ActionCancelled(revision, LATER, 1),
            ActionCancelled(revision, LATER, 2),
            LeadDeleted(revision, LATER, lead),
        )
        assert [item.id for item in result.workspace.scheduled] == [3, 4]

    def test_declining_a_lead_cancels_all_its_items_handed_over_too(self) -> None:
        workspace = setup(
            watching(INCOMING),
            watching(INCOMING, action=CALL, delay=DAY),
            CreateLead("ACME", incoming=True),
            RunDue(),
        )
        assert workspace.scheduled_action(1).handed_over_at == AT
        lead = workspace.lead(1)
        result = applied(workspace, DeclineLead(1))
        revision = workspace.revision + 1
        assert result.events == (
            ActionCancelled(revision, LATER, 1),
            ActionCancelled(revision, LATER, 2),
            LeadDeclined(revision, LATER, lead),
        )
        assert result.workspace.scheduled == ()

    @pytest.mark.parametrize(
        ("command", "last"),
        [
            (
                UpdateAutomation(1, (INITIAL,), Trigger.ENTERED, EMAIL, delay=HOUR),
                AutomationUpdated,
            ),
            (DisableAutomation(1), AutomationDisabled),
            (RemoveAutomation(1), AutomationRemoved),
        ],
        ids=["update", "disable", "remove"],
    )
    def test_changing_an_automation_cancels_its_waiting_items_only(
        self, command: Command, last: type[Event]
    ) -> None:
        workspace = setup(
            watching(INITIAL),  # 1
            CreateLead("ACME"),  # item 1, handed over next
            RunDue(),
            watching(INITIAL, delay=DAY),  # 2
            CreateLead("Globex"),  # item 2 of automation 1, item 3 of automation 2
        )
        handed_over, _, other = workspace.scheduled
        result = applied(workspace, command)
        assert result.events[:-1] == (ActionCancelled(workspace.revision + 1, LATER, 2),)
        assert type(result.events[-1]) is last
        assert result.workspace.scheduled == (handed_over, other)

    def test_an_update_that_changes_nothing_cancels_nothing(self) -> None:
        workspace = setup(watching(INITIAL, delay=DAY), CreateLead("ACME"))
        assert_changes_nothing(
            workspace, UpdateAutomation(1, (INITIAL,), Trigger.ENTERED, EMAIL, DAY)
        )

    def test_enabling_schedules_nothing_after_the_fact(self) -> None:
        workspace = setup(
            watching(INITIAL), DisableAutomation(1), CreateLead("ACME"), CreateLead("Globex")
        )
        result = applied(workspace, EnableAutomation(1))
        assert result.events == (AutomationEnabled(workspace.revision + 1, LATER, 1),)
        assert result.workspace.scheduled == ()

    def test_deleting_a_pipeline_cancels_the_waiting_items_of_the_automations_it_removes(
        self,
    ) -> None:
        workspace = setup(
            watching(INITIAL, action=MoveTo(DEMO, PARTNERS), delay=DAY),  # 1: targets it
            watching(DEMO, pipeline_id=PARTNERS, trigger=Trigger.LEFT),  # 2: its own
            watching(DEMO, pipeline_id=PARTNERS),  # 3: its own
            CreateLead("ACME"),  # item 1
            CreateLead("Globex", pipeline_id=PARTNERS, stage_id=DEMO),  # item 2, handed over
            RunDue(),
            MoveLead(2, OFFER, pipeline_id=1),  # item 3
        )
        handed_over = workspace.scheduled_action(2)
        assert handed_over.handed_over_at == AT
        result = applied(workspace, DeletePipeline(PARTNERS))
        revision = workspace.revision + 1
        assert result.events == (
            ActionCancelled(revision, LATER, 1),
            ActionCancelled(revision, LATER, 3),
            AutomationRemoved(revision, LATER, 1),
            AutomationRemoved(revision, LATER, 2),
            AutomationRemoved(revision, LATER, 3),
            PipelineDeleted(revision, LATER, PARTNERS),
        )
        assert result.workspace.scheduled == (handed_over,)

    def test_disabling_incoming_leads_cancels_the_waiting_items_of_the_automations_it_removes(
        self,
    ) -> None:
        workspace = setup(
            watching(INCOMING, trigger=Trigger.LEFT, delay=DAY),  # 1: left watching nothing
            watching(INCOMING, INITIAL, trigger=Trigger.LEFT, delay=DAY),  # 2: keeps INITIAL
            CreateLead("ACME", incoming=True),
            AcceptLead(1, OFFER),  # items 1 and 2
        )
        result = applied(workspace, DisableIncoming(1))
        revision = workspace.revision + 1
        assert result.events == (
            ActionCancelled(revision, LATER, 1),
            AutomationRemoved(revision, LATER, 1),
            AutomationUpdated(
                revision, LATER, attrs.evolve(workspace.automation(2), stage_ids=(INITIAL,))
            ),
            IncomingStageDisabled(revision, LATER, 1, INCOMING),
        )
        assert [item.id for item in result.workspace.scheduled] == [2]


class TestRunDue:
    def test_hands_a_due_host_action_over(self) -> None:
        workspace = setup(watching(INITIAL, delay=HOUR), CreateLead("ACME"))
        at = AT + HOUR
        result = applied(workspace, RunDue(), at=at)
        assert result.events == (ActionHandedOver(workspace.revision + 1, at, 1),)
        item = result.workspace.scheduled_action(1)
        assert item == attrs.evolve(workspace.scheduled_action(1), handed_over_at=at)
        assert result.workspace.scheduled == (item,)
        assert due(result.workspace, LATEST) == ()

    def test_takes_items_by_due_time_then_id_across_utc_offsets(self) -> None:
        workspace = setup(watching(NEGOTIATION), CreateLead("ACME"))
        east, west = timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))
        workspace = rebuilt(
            workspace,
            Scheduled(1, 1, 1, datetime(2026, 12, 1, 7, 0, tzinfo=UTC), EMAIL),
            Scheduled(2, 1, 1, datetime(2026, 12, 1, 9, 0, tzinfo=east), EMAIL),  # 06:00 UTC
            Scheduled(3, 1, 1, datetime(2026, 12, 1, 0, 30, tzinfo=west), EMAIL),  # 06:00 UTC
            Scheduled(4, 1, 1, datetime(2026, 12, 1, 5, 59, tzinfo=UTC), EMAIL),
        )
        at = datetime(2026, 12, 1, 12, 0, tzinfo=east)  # 09:00 UTC
        result = applied(workspace, RunDue(), at=at)
        revision = workspace.revision + 1
        assert result.events == tuple(ActionHandedOver(revision, at, i) for i in (4, 2, 3, 1))

    def test_leaves_what_is_not_due_yet(self) -> None:
        workspace = setup(
            watching(INITIAL, delay=HOUR), watching(INITIAL, delay=2 * HOUR), CreateLead("ACME")
        )
        result = applied(workspace, RunDue(), at=AT + HOUR)
        assert result.events == (ActionHandedOver(workspace.revision + 1, AT + HOUR, 1),)
        assert due(result.workspace, AT + 2 * HOUR) == (workspace.scheduled_action(2),)

    def test_carries_out_a_move_as_lead_moved_then_action_completed(self) -> None:
        workspace = setup(watching(INITIAL, action=MoveTo(OFFER), delay=HOUR), CreateLead("ACME"))
        at = AT + HOUR
        result = applied(workspace, RunDue(), at=at)
        revision = workspace.revision + 1
        # The item carrying the move is not cancelled by the lead leaving its region.
        assert result.events == (
            moved(revision, 1, INITIAL, OFFER, at=at),
            ActionCompleted(revision, at, 1),
        )
        assert result.workspace.lead(1).stage_id == OFFER
        assert result.workspace.scheduled == ()

    def test_a_move_naming_a_pipeline_goes_there(self) -> None:
        workspace = setup(watching(INITIAL, action=MoveTo(DEMO, PARTNERS)), CreateLead("ACME"))
        result = applied(workspace, RunDue())
        revision = workspace.revision + 1
        assert result.events == (
            LeadMoved(revision, LATER, 1, 1, INITIAL, PARTNERS, DEMO),
            ActionCompleted(revision, LATER, 1),
        )

    def test_a_move_naming_no_pipeline_stays_in_the_automation_pipeline(self) -> None:
        workspace = setup(
            watching(INITIAL, trigger=Trigger.LEFT, action=MoveTo(NEGOTIATION)),
            CreateLead("ACME"),
            MoveLead(1, OFFER, pipeline_id=PARTNERS),
        )
        result = applied(workspace, RunDue())
        assert result.events[0] == LeadMoved(
            workspace.revision + 1, LATER, 1, PARTNERS, OFFER, 1, NEGOTIATION
        )

    def test_looks_again_so_items_the_run_schedules_with_no_delay_are_handled(self) -> None:
        workspace = setup(
            watching(INITIAL, action=MoveTo(OFFER)),  # 1
            watching(OFFER),  # 2
            watching(OFFER, action=MoveTo(NEGOTIATION), delay=timedelta(minutes=1)),  # 3
            CreateLead("ACME"),  # item 1
        )
        result = applied(workspace, RunDue())
        revision = workspace.revision + 1
        later = Scheduled(3, 3, 1, LATER + timedelta(minutes=1), MoveTo(NEGOTIATION))
        assert result.events == (
            moved(revision, 1, INITIAL, OFFER),
            ActionCompleted(revision, LATER, 1),
            ActionScheduled(revision, LATER, Scheduled(2, 2, 1, LATER, EMAIL)),
            ActionScheduled(revision, LATER, later),
            ActionHandedOver(revision, LATER, 2),
        )
        assert result.workspace.scheduled == (
            Scheduled(2, 2, 1, LATER, EMAIL, handed_over_at=LATER),
            later,
        )

    def test_a_move_to_where_the_lead_is_ends_in_action_failed(self) -> None:
        workspace = setup(
            watching(INITIAL, trigger=Trigger.LEFT, action=MoveTo(OFFER)),  # 1
            CreateLead("ACME"),
            MoveLead(1, OFFER),  # item 1: the lead is there already
            watching(OFFER, trigger=Trigger.MOVED_IN, delay=HOUR),  # 2: never fires
        )
        result = applied(workspace, RunDue())
        revision = workspace.revision + 1
        assert result.events == (ActionFailed(revision, LATER, 1, "invalid_target"),)
        assert result.workspace.lead(1) == workspace.lead(1)
        assert result.workspace.scheduled == ()

    def test_a_move_of_a_lead_in_incoming_leads_ends_in_action_failed(self) -> None:
        workspace = setup(
            watching(INITIAL, action=MoveTo(OFFER), delay=DAY), CreateLead("ACME", incoming=True)
        )
        workspace = rebuilt(workspace, Scheduled(1, 1, 1, AT, MoveTo(OFFER)))
        result = applied(workspace, RunDue())
        assert result.events == (ActionFailed(workspace.revision + 1, LATER, 1, "stage_locked"),)
        assert result.workspace.lead(1).stage_id == INCOMING

    def test_a_move_to_a_stage_that_is_gone_ends_in_action_failed(self) -> None:
        workspace = setup(watching(INITIAL, action=MoveTo(OFFER), delay=DAY), CreateLead("ACME"))
        workspace = rebuilt(workspace, Scheduled(1, 1, 1, AT, MoveTo(999)))
        result = applied(workspace, RunDue())
        assert result.events == (ActionFailed(workspace.revision + 1, LATER, 1, "unknown_stage"),)

    def test_a_failed_move_does_not_stop_the_run(self) -> None:
        workspace = setup(
            watching(INITIAL, trigger=Trigger.LEFT, action=MoveTo(OFFER)),  # 1
            watching(INITIAL, trigger=Trigger.LEFT, delay=timedelta(seconds=1)),  # 2
            CreateLead("ACME"),
            MoveLead(1, OFFER),  # items 1 and 2
        )
        result = applied(workspace, RunDue())
        revision = workspace.revision + 1
        assert result.events == (
            ActionFailed(revision, LATER, 1, "invalid_target"),
            ActionHandedOver(revision, LATER, 2),
        )

    def test_nothing_due_changes_nothing(self) -> None:
        assert_changes_nothing(office(), RunDue())
        workspace = setup(watching(INITIAL, delay=2 * DAY), CreateLead("ACME"))
        assert due(workspace, LATEST) == ()
        assert_changes_nothing(workspace, RunDue())

    def test_handed_over_items_are_not_handed_over_again(self) -> None:
        workspace = setup(watching(INITIAL), CreateLead("ACME"), RunDue())
        assert_changes_nothing(workspace, RunDue())


class TestLoops:
    def test_two_automations_moving_a_lead_back_and_forth_are_stopped(self) -> None:
        workspace = setup(
            watching(INITIAL, action=MoveTo(OFFER)),  # 1
            watching(OFFER, action=MoveTo(INITIAL)),  # 2
            CreateLead("ACME"),  # item 1
        )
        result = applied(workspace, RunDue())
        revision = workspace.revision + 1
        assert result.events == (
            moved(revision, 1, INITIAL, OFFER),
            ActionCompleted(revision, LATER, 1),
            ActionScheduled(revision, LATER, Scheduled(2, 2, 1, LATER, MoveTo(INITIAL))),
            moved(revision, 1, OFFER, INITIAL),
            ActionCompleted(revision, LATER, 2),
            ActionScheduled(revision, LATER, Scheduled(3, 1, 1, LATER, MoveTo(OFFER))),
            ActionCancelled(revision, LATER, 3),
            AutomationLoopStopped(revision, LATER, 3, 1, (1, 2)),
        )
        assert result.workspace.lead(1).stage_id == INITIAL
        assert result.workspace.scheduled == ()

    def test_the_chain_lists_the_automations_in_the_order_the_lead_passed_them(self) -> None:
        workspace = setup(
            watching(NEGOTIATION, action=MoveTo(INITIAL)),  # 1
            watching(INITIAL, action=MoveTo(OFFER)),  # 2
            watching(OFFER, action=MoveTo(NEGOTIATION)),  # 3
            CreateLead("ACME"),  # item 1, of automation 2
        )
        result = applied(workspace, RunDue())
        stopped = result.events[-1]
        assert stopped == AutomationLoopStopped(workspace.revision + 1, LATER, 4, 1, (2, 3, 1))
        assert result.workspace.lead(1).stage_id == INITIAL

    def test_items_scheduled_before_the_run_are_never_loops(self) -> None:
        workspace = setup(
            watching(INITIAL, trigger=Trigger.LEFT),
            CreateLead("ACME"),
            MoveLead(1, OFFER),  # item 1
            MoveLead(1, INITIAL),
            MoveLead(1, OFFER),  # item 2, of the same automation, for the same lead
        )
        result = applied(workspace, RunDue())
        revision = workspace.revision + 1
        assert result.events == (
            ActionHandedOver(revision, LATER, 1),
            ActionHandedOver(revision, LATER, 2),
        )

    def test_each_lead_keeps_a_chain_of_its_own(self) -> None:
        workspace = setup(
            watching(INITIAL, action=MoveTo(OFFER)),
            watching(OFFER),
            CreateLead("ACME"),
            CreateLead("Globex"),
        )
        result = applied(workspace, RunDue())
        assert not any(isinstance(event, AutomationLoopStopped) for event in result.events)
        assert [lead.stage_id for lead in result.workspace.leads.values()] == [OFFER, OFFER]
        assert [item.handed_over_at for item in result.workspace.scheduled] == [LATER, LATER]

    def test_a_delayed_back_and_forth_advances_one_step_per_run(self) -> None:
        workspace = setup(
            watching(INITIAL, action=MoveTo(OFFER), delay=HOUR),
            watching(OFFER, action=MoveTo(INITIAL), delay=HOUR),
            CreateLead("ACME"),
        )
        for step, stage_id in enumerate([OFFER, INITIAL, OFFER], start=1):
            result = applied(workspace, RunDue(), at=AT + step * HOUR)
            assert [type(event) for event in result.events] == [
                LeadMoved,
                ActionCompleted,
                ActionScheduled,
            ]
            workspace = result.workspace
            assert workspace.lead(1).stage_id == stage_id


class TestCompleteAndFail:
    def handed_over(self) -> Workspace:
        """Item 1 handed over at AT, item 2 (a call) waiting, item 3 (a move) waiting."""
        return setup(
            watching(INITIAL),
            watching(INITIAL, action=CALL, delay=DAY),
            watching(INITIAL, action=MoveTo(OFFER), delay=DAY),
            CreateLead("ACME"),
            RunDue(),
        )

    def test_complete_removes_the_item(self) -> None:
        workspace = self.handed_over()
        result = applied(workspace, CompleteAction(1))
        assert result.events == (ActionCompleted(workspace.revision + 1, LATER, 1),)
        assert [item.id for item in result.workspace.scheduled] == [2, 3]

    def test_fail_removes_the_item_with_the_host_reason(self) -> None:
        workspace = self.handed_over()
        result = applied(workspace, FailAction(1, "mailbox full"))
        assert result.events == (ActionFailed(workspace.revision + 1, LATER, 1, "mailbox full"),)
        assert [item.id for item in result.workspace.scheduled] == [2, 3]

    def test_a_reason_of_1000_characters_is_fine(self) -> None:
        result = applied(self.handed_over(), FailAction(1, "x" * 1000))
        assert result.events[0] == ActionFailed(result.workspace.revision, LATER, 1, "x" * 1000)

    def test_the_host_reports_even_when_the_automation_is_gone(self) -> None:
        workspace = run(self.handed_over(), RemoveAutomation(1))
        assert workspace.scheduled_action(1).automation_id == 1
        result = applied(workspace, CompleteAction(1))
        assert [item.id for item in result.workspace.scheduled] == [2, 3]

    @pytest.mark.parametrize("scheduled_id", [9, 2, 3], ids=["unknown", "waiting", "a move"])
    def test_an_id_not_handed_over_is_unknown_scheduled_action(self, scheduled_id: int) -> None:
        workspace = self.handed_over()
        match = f"no scheduled action handed over to the host has id {scheduled_id}"
        with pytest.raises(UnknownScheduledAction, match=match) as caught:
            refused(workspace, CompleteAction(scheduled_id))
        assert isinstance(caught.value, LookupError)
        assert caught.value.code == "unknown_scheduled_action"
        assert caught.value.scheduled_id == scheduled_id
        with pytest.raises(UnknownScheduledAction, match=match):
            refused(workspace, FailAction(scheduled_id, "no such thing"))

    @pytest.mark.parametrize(
        "report", [CompleteAction(1), FailAction(1, "bounced")], ids=["completed", "failed"]
    )
    def test_an_id_reported_on_already_is_unknown_scheduled_action(self, report: Command) -> None:
        workspace = run(self.handed_over(), report)
        match = "no scheduled action handed over to the host has id 1"
        with pytest.raises(UnknownScheduledAction, match=match):
            refused(workspace, CompleteAction(1))
        with pytest.raises(UnknownScheduledAction, match=match):
            refused(workspace, FailAction(1, "again"))

    def test_a_cancelled_id_is_unknown_scheduled_action(self) -> None:
        workspace = run(self.handed_over(), DeleteLead(1))
        with pytest.raises(UnknownScheduledAction, match="has id 1"):
            refused(workspace, CompleteAction(1))

    def test_a_reason_that_is_not_a_string_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="a reason must be a str, got int"):
            refused(self.handed_over(), FailAction(1, 404))  # type: ignore[arg-type]  # the check

    def test_a_reason_over_1000_characters_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="at most 1000 characters, got 1001"):
            refused(self.handed_over(), FailAction(1, "x" * 1001))

    def test_an_id_that_is_not_an_int_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="a scheduled action id must be an int"):
            refused(self.handed_over(), CompleteAction("1"))  # type: ignore[arg-type]  # the check


class TestDue:
    def workspace(self) -> Workspace:
        """Items 1 to 4 for one lead, due at AT, AT + 1 h, AT + 1 h, AT + 1 day; 1 handed over."""
        workspace = setup(watching(NEGOTIATION), CreateLead("ACME"))
        east = timezone(timedelta(hours=2))
        return rebuilt(
            workspace,
            Scheduled(4, 1, 1, AT + DAY, EMAIL),
            Scheduled(3, 1, 1, (AT + HOUR).astimezone(east), EMAIL),
            Scheduled(2, 1, 1, AT + HOUR, MoveTo(OFFER)),
            Scheduled(1, 1, 1, AT, EMAIL, handed_over_at=AT),
        )

    def test_returns_waiting_items_due_by_now_by_due_time_then_id(self) -> None:
        workspace = self.workspace()
        assert [item.id for item in due(workspace, AT + HOUR)] == [2, 3]
        assert [item.id for item in due(workspace, AT + DAY)] == [2, 3, 4]

    def test_an_item_due_exactly_now_is_due(self) -> None:
        workspace = self.workspace()
        assert [item.id for item in due(workspace, AT + HOUR - timedelta(microseconds=1))] == []
        assert [item.id for item in due(workspace, AT + HOUR)] == [2, 3]

    def test_excludes_handed_over_items(self) -> None:
        workspace = self.workspace()
        assert [item.id for item in workspace.scheduled] == [1, 2, 3, 4]
        assert due(workspace, AT) == ()

    def test_limit_returns_the_first_ones(self) -> None:
        workspace = self.workspace()
        assert [item.id for item in due(workspace, AT + DAY, limit=2)] == [2, 3]
        assert due(workspace, AT + DAY, limit=0) == ()
        assert len(due(workspace, AT + DAY, limit=10)) == 3

    def test_a_naive_now_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="now must be timezone-aware"):
            due(self.workspace(), datetime(2026, 12, 1, 9, 0))  # the check

    def test_a_negative_limit_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="limit is at least 0, got -1"):
            due(self.workspace(), AT, limit=-1)

    @pytest.mark.parametrize("limit", [True, 1.0, "1"], ids=repr)
    def test_a_limit_that_is_not_an_int_is_a_type_error(self, limit: object) -> None:
        with pytest.raises(TypeError, match="limit must be an int"):
            due(self.workspace(), AT, limit=limit)  # type: ignore[arg-type]  # the check

    def test_does_not_change_the_workspace(self) -> None:
        workspace = self.workspace()
        with unchanged(workspace):
            due(workspace, LATEST)


class TestForgedEvents:
    """``evolve`` refuses scheduling events that do not fit, as a log with a forgery would hold."""

    def workspace(self) -> Workspace:
        """Item 1 (host action) handed over, item 2 (host action) and 3 (move) waiting."""
        return setup(
            watching(INITIAL),
            watching(INITIAL, action=CALL, delay=DAY),
            watching(INITIAL, action=MoveTo(OFFER), delay=DAY),
            CreateLead("ACME"),
            RunDue(),
        )

    def refused_event(self, workspace: Workspace, event: Event) -> None:
        with unchanged(workspace):
            evolve(workspace, event)

    def test_scheduling_an_id_in_use(self) -> None:
        workspace = self.workspace()
        again = Scheduled(2, 1, 1, LATER, EMAIL)
        with pytest.raises(InvalidEvent, match="scheduled action 2 exists already"):
            self.refused_event(workspace, ActionScheduled(9, LATER, again))

    def test_scheduling_an_item_handed_over_already(self) -> None:
        item = Scheduled(7, 1, 1, LATER, EMAIL, handed_over_at=LATER)
        with pytest.raises(InvalidEvent, match="scheduled before it is handed over"):
            self.refused_event(self.workspace(), ActionScheduled(9, LATER, item))

    def test_scheduling_for_an_unknown_lead_or_automation(self) -> None:
        workspace = self.workspace()
        with pytest.raises(UnknownLead, match="no lead has id 5"):
            self.refused_event(
                workspace, ActionScheduled(9, LATER, Scheduled(7, 1, 5, LATER, EMAIL))
            )
        with pytest.raises(UnknownAutomation, match="no automation has id 5"):
            self.refused_event(
                workspace, ActionScheduled(9, LATER, Scheduled(7, 5, 1, LATER, EMAIL))
            )

    @pytest.mark.parametrize("scheduled_id", [1, 3], ids=["handed over", "a move"])
    def test_handing_over_what_is_not_a_waiting_host_action(self, scheduled_id: int) -> None:
        with pytest.raises(InvalidEvent, match=f"{scheduled_id} is not a host action waiting"):
            self.refused_event(self.workspace(), ActionHandedOver(9, LATER, scheduled_id))

    @pytest.mark.parametrize(
        "event",
        [ActionCompleted(9, LATER, 2), ActionFailed(9, LATER, 2, "bounced")],
        ids=["completed", "failed"],
    )
    def test_reporting_on_a_host_action_never_handed_over(self, event: Event) -> None:
        with pytest.raises(InvalidEvent, match="host action 2 was never handed over"):
            self.refused_event(self.workspace(), event)

    @pytest.mark.parametrize(
        "event",
        [
            ActionHandedOver(9, LATER, 8),
            ActionCompleted(9, LATER, 8),
            ActionFailed(9, LATER, 8, "bounced"),
            ActionCancelled(9, LATER, 8),
        ],
        ids=lambda event: type(event).__name__,
    )
    def test_an_unknown_scheduled_id(self, event: Event) -> None:
        with pytest.raises(InvalidEvent, match="no scheduled action has id 8"):
            self.refused_event(self.workspace(), event)

    def test_deleting_a_lead_that_still_has_items(self) -> None:
        workspace = self.workspace()
        deleted = LeadDeleted(9, LATER, workspace.lead(1))
        with pytest.raises(InvalidEvent, match="lead 1 still has scheduled actions"):
            self.refused_event(workspace, deleted)
        # Only the handed-over item is left: that still counts.
        workspace = run(workspace, RemoveAutomation(2), RemoveAutomation(3))
        with pytest.raises(InvalidEvent, match="lead 1 still has scheduled actions"):
            self.refused_event(workspace, attrs.evolve(deleted, revision=workspace.revision + 1))

    def test_declining_a_lead_that_still_has_items(self) -> None:
        workspace = setup(watching(INCOMING, delay=DAY), CreateLead("ACME", incoming=True))
        with pytest.raises(InvalidEvent, match="lead 1 still has scheduled actions"):
            self.refused_event(workspace, LeadDeclined(9, LATER, workspace.lead(1)))

    @pytest.mark.parametrize(
        "event",
        [AutomationRemoved(9, LATER, 2), AutomationDisabled(9, LATER, 2)],
        ids=lambda event: type(event).__name__,
    )
    def test_removing_or_disabling_an_automation_with_waiting_items(self, event: Event) -> None:
        with pytest.raises(InvalidEvent, match="automation 2 still has actions waiting"):
            self.refused_event(self.workspace(), event)

    def test_an_automation_with_only_handed_over_items_may_go(self) -> None:
        workspace = self.workspace()
        removed = evolve(workspace, AutomationRemoved(workspace.revision + 1, LATER, 1))
        assert removed.scheduled == workspace.scheduled


class TestWorkspaceRuleD6:
    """A workspace built by hand (or decoded) keeps its scheduled actions consistent: rule D6."""

    def base(self) -> Workspace:
        return setup(watching(NEGOTIATION), CreateLead("ACME"))

    def test_keeps_the_items_by_due_time_then_id_and_counts_above_them(self) -> None:
        late = Scheduled(2, 1, 1, LATER, EMAIL)
        early = Scheduled(5, 1, 1, AT, MoveTo(OFFER))
        tied = Scheduled(3, 1, 1, LATER.astimezone(timezone(timedelta(hours=-4))), EMAIL)
        workspace = rebuilt(self.base(), late, early, tied)
        assert workspace.scheduled == (early, late, tied)
        assert workspace.next_scheduled_id == 6
        assert rebuilt(self.base()).next_scheduled_id == 1
        assert workspace.scheduled_action(3) == tied

    def test_an_unknown_item_is_unknown_scheduled_action(self) -> None:
        with pytest.raises(UnknownScheduledAction, match="has id 4"):
            self.base().scheduled_action(4)

    def test_two_items_with_one_id(self) -> None:
        one = Scheduled(3, 1, 1, AT, EMAIL)
        with pytest.raises(InvalidWorkspace, match="two scheduled actions have the id 3") as caught:
            rebuilt(self.base(), one, attrs.evolve(one, due_at=LATER))
        assert (caught.value.rule, caught.value.where) == ("D6", ("scheduled", 3, "id"))

    @pytest.mark.parametrize("handed_over_at", [None, AT], ids=["waiting", "handed over"])
    def test_an_item_for_an_unknown_lead(self, handed_over_at: datetime | None) -> None:
        item = Scheduled(1, 1, 7, AT, EMAIL, handed_over_at=handed_over_at)
        with pytest.raises(
            InvalidWorkspace, match="scheduled action 1 is for lead 7, unknown"
        ) as caught:
            rebuilt(self.base(), item)
        assert (caught.value.rule, caught.value.where) == ("D6", ("scheduled", 1, "lead_id"))

    def test_a_waiting_item_of_an_unknown_automation(self) -> None:
        item = Scheduled(1, 4, 1, AT, EMAIL)
        match = "scheduled action 1 waits on automation 4, unknown"
        with pytest.raises(InvalidWorkspace, match=match) as caught:
            rebuilt(self.base(), item)
        assert (caught.value.rule, caught.value.where) == ("D6", ("scheduled", 1, "automation_id"))

    def test_a_handed_over_item_of_an_automation_that_is_gone_is_fine(self) -> None:
        item = Scheduled(1, 4, 1, AT, EMAIL, handed_over_at=AT)
        assert rebuilt(self.base(), item).scheduled == (item,)

    def test_a_counter_not_above_every_id(self) -> None:
        item = Scheduled(3, 1, 1, AT, EMAIL)
        match = "the next scheduled action id 3 must be above every scheduled action id"
        with pytest.raises(InvalidWorkspace, match=match) as caught:
            rebuilt(self.base(), item, next_scheduled_id=3)
        assert (caught.value.rule, caught.value.where) == ("D6", ("next_scheduled_id",))

    def test_an_item_that_is_not_one_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="each scheduled action of a workspace"):
            rebuilt(self.base(), EMAIL)  # type: ignore[arg-type]  # what the check is for

    def test_a_move_is_never_handed_over(self) -> None:
        with pytest.raises(
            ValueError, match="a MoveTo is carried out by pipekit, never handed over"
        ):
            Scheduled(1, 1, 1, AT, MoveTo(OFFER), handed_over_at=AT)
