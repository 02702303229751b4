"""The bounds of numbers (``pipekit.bounds``): ids, prices, revisions, delays and due times.

Every id is an integer from 1 to ``2**53 - 1`` and every price one from 0 to
``2**53 - 1`` (what a JavaScript client holds exactly); a delay lies between 0
and ten years; and a due time past the end of the year 9999 is refused by the
command that would schedule it. Each bound is checked by the value's
constructor, hence ``apply``, and by the codec; ``test_schema.py`` holds the
JSON Schemas to the same bounds. The reproducers of issue 18 are here, each as
a test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest

from pipekit import (
    MAX_DELAY,
    MAX_ID,
    MAX_PRICE,
    MAX_REVISION,
    ActionFailed,
    AddAutomation,
    AddStage,
    Automation,
    Command,
    CreateLead,
    CreatePipeline,
    DecodeError,
    HostAction,
    InvalidDelay,
    InvalidId,
    InvalidPipeline,
    InvalidPrice,
    InvalidStageId,
    InvalidWorkspace,
    MoveLead,
    MoveStage,
    MoveTo,
    PipekitError,
    PositionOutOfRange,
    RunDue,
    ScheduleOutOfRange,
    Trigger,
    UnknownLead,
    Workspace,
    apply,
    default_pipeline,
    new_workspace,
)
from pipekit.bounds import ID_RANGE, NEXT_ID_RANGE, Range
from pipekit.codec import dump, load, load_command
from tests.apply_helpers import AT, INITIAL, OFFER, checked, run, unchanged

LAST_NOON: Final = datetime(9999, 12, 31, 12, 0, tzinfo=UTC)
"""The issue's time: a one-day delay from here passes ``datetime.max``."""

WELCOME: Final = HostAction("send_email")


def refused(workspace: Workspace, command: Command, *, at: datetime = AT) -> PipekitError:
    """Return the error *command* raises, checking that it changed nothing."""
    with unchanged(workspace), pytest.raises(PipekitError) as caught:
        apply(workspace, command, at=at)
    return caught.value


def one_lead() -> Workspace:
    return run(new_workspace(), CreateLead("ACME"))


class TestTheBounds:
    def test_are_what_a_javascript_client_holds_exactly(self) -> None:
        assert MAX_ID == MAX_PRICE == MAX_REVISION == 2**53 - 1
        assert float(MAX_ID) == MAX_ID
        assert float(MAX_ID + 2) != MAX_ID + 2
        assert timedelta(days=3653) == MAX_DELAY

    def test_a_range_holds_ints_from_low_to_high_only(self) -> None:
        assert [value in Range(1, 3) for value in (0, 1, 3, 4)] == [False, True, True, False]
        assert True not in Range(0, 1)
        assert 1.0 not in Range(0, 1)
        assert MAX_ID in ID_RANGE
        assert MAX_ID + 1 not in ID_RANGE
        assert MAX_ID + 1 in NEXT_ID_RANGE
        assert MAX_ID + 2 not in NEXT_ID_RANGE


class TestHugeIdsInDocuments:
    """Issue 18, item 1: huge ids made the id index recurse once per bit."""

    def test_lead_ids_1_and_1_plus_2_to_the_4400_are_a_decode_error(self) -> None:
        document = dump(run(new_workspace(), CreateLead("ACME"), CreateLead("Globex")))
        assert isinstance(document, dict)
        document["leads"][1]["id"] = 1 + 2**4400
        document["next_lead_id"] = 2 + 2**4400
        with pytest.raises(DecodeError, match="from 1 to 9007199254740991") as caught:
            load(Workspace, document)
        assert caught.value.path == "/leads/1/id"

    def test_scheduled_ids_1_and_2_to_the_5010_are_a_decode_error(self) -> None:
        watched = run(
            new_workspace(),
            AddAutomation(1, (INITIAL,), Trigger.ENTERED, WELCOME),
            CreateLead("ACME"),
            CreateLead("Globex"),
        )
        document = dump(watched)
        assert isinstance(document, dict)
        assert [item["id"] for item in document["scheduled"]] == [1, 2]
        document["scheduled"][1]["id"] = 2**5010
        with pytest.raises(DecodeError, match="an integer of 5011 bits") as caught:
            load(Workspace, document)
        assert caught.value.path == "/scheduled/1/id"

    @pytest.mark.parametrize(
        "document",
        [
            {"type": "MoveLead", "lead_id": 10**5000, "stage_id": 145},
            {"type": 10**5000},
            {"type": "MoveStage", "pipeline_id": 1, "stage_id": 145, "position": -(10**5000)},
        ],
        ids=["a huge id", "a huge tag", "a huge position"],
    )
    def test_a_number_of_over_4300_digits_is_a_decode_error(self, document: Any) -> None:
        with pytest.raises(DecodeError, match="bits"):
            load_command(document)


class TestHugeIdsThroughApply:
    def test_create_lead_with_1_plus_2_to_the_4400_is_refused(self) -> None:
        error = refused(one_lead(), CreateLead("Globex", lead_id=1 + 2**4400))
        assert isinstance(error, InvalidId)
        assert (error.what, error.value) == ("lead", 1 + 2**4400)
        assert (
            str(error)
            == "lead ids are at most 9007199254740991 (2**53 - 1), got an integer of 4401 bits"
        )

    def test_create_lead_with_10_to_the_4300_minus_1_is_refused(self) -> None:
        error = refused(new_workspace(), CreateLead("Globex", lead_id=10**4300 - 1))
        assert isinstance(error, InvalidId)
        assert "an integer of 14285 bits" in str(error)

    def test_the_highest_id_is_accepted_and_uses_the_counter_up(self) -> None:
        workspace = checked(run(new_workspace(), CreateLead("Last", lead_id=MAX_ID)))
        assert workspace.next_lead_id == MAX_ID + 1
        assert load(Workspace, dump(workspace)) == workspace
        error = refused(workspace, CreateLead("One too many"))
        assert isinstance(error, InvalidId)
        assert error.value == MAX_ID + 1

    def test_a_pipeline_counter_used_up_is_an_invalid_id(self) -> None:
        workspace = run(new_workspace(), CreatePipeline("Last", pipeline_id=MAX_ID))
        error = refused(workspace, CreatePipeline("One too many"))
        assert isinstance(error, InvalidId)
        assert (error.what, error.value) == ("pipeline", MAX_ID + 1)

    def test_a_stage_counter_used_up_is_an_invalid_stage_id(self) -> None:
        workspace = run(new_workspace(), AddStage(1, "Last", stage_id=MAX_ID))
        assert workspace.pipeline(1).next_stage_id == MAX_ID + 1
        assert isinstance(refused(workspace, AddStage(1, "One too many")), InvalidStageId)

    def test_a_scheduled_action_counter_used_up_is_an_invalid_id(self) -> None:
        watched = run(new_workspace(), AddAutomation(1, (INITIAL,), Trigger.ENTERED, WELCOME))
        used_up = Workspace(
            pipelines=watched.pipelines,
            main_pipeline_id=1,
            automations=watched.automations,
            next_scheduled_id=MAX_ID + 1,
        )
        error = refused(used_up, CreateLead("ACME"))
        assert isinstance(error, InvalidId)
        assert (error.what, error.value) == ("scheduled action", MAX_ID + 1)

    def test_a_lookup_of_a_huge_id_is_unknown_and_says_so_in_one_line(self) -> None:
        error = refused(one_lead(), MoveLead(10**5000, OFFER))
        assert isinstance(error, UnknownLead)
        assert str(error) == "no lead has id an integer of 16610 bits"

    def test_a_huge_position_is_out_of_range(self) -> None:
        error = refused(new_workspace(), MoveStage(1, OFFER, 10**5000))
        assert isinstance(error, PositionOutOfRange)
        assert "an integer of 16610 bits is out of range" in str(error)


class TestPrices:
    def test_two_leads_priced_10_to_the_4299_are_refused(self) -> None:
        error = refused(new_workspace(), CreateLead("ACME", price=10**4299))
        assert isinstance(error, InvalidPrice)
        assert error.price == 10**4299

    def test_two_leads_at_the_highest_price_total_exactly(self) -> None:
        top = CreateLead("ACME", price=MAX_PRICE)
        workspace = checked(run(new_workspace(), top, top))
        assert workspace.stage_totals(1)[0].total == 2 * MAX_PRICE
        assert load(Workspace, dump(workspace)) == workspace

    def test_an_automation_price_bound_past_max_price_is_refused(self) -> None:
        command = AddAutomation(1, (INITIAL,), Trigger.ENTERED, WELCOME, max_price=MAX_PRICE + 1)
        assert isinstance(refused(new_workspace(), command), InvalidPrice)


class TestCountersAndRevision:
    @pytest.mark.parametrize(
        "field",
        [
            "next_pipeline_id",
            "next_lead_id",
            "next_loss_reason_id",
            "next_automation_id",
            "next_scheduled_id",
        ],
    )
    def test_a_counter_is_at_most_one_above_the_highest_id(self, field: str) -> None:
        pipelines = (default_pipeline(),)
        highest: dict[str, Any] = {field: MAX_ID + 1}
        assert getattr(Workspace(pipelines, 1, **highest), field) == MAX_ID + 1
        past: dict[str, Any] = {field: MAX_ID + 2}
        with pytest.raises(InvalidWorkspace, match="at most 9007199254740992") as caught:
            Workspace(pipelines, 1, **past)
        assert caught.value.where == (field,)

    def test_a_stage_counter_is_at_most_one_above_the_highest_id(self) -> None:
        pipeline = default_pipeline()
        with pytest.raises(InvalidPipeline, match="next_stage_id is at most 9007199254740992"):
            type(pipeline)(1, "Sales", pipeline.stages, next_stage_id=MAX_ID + 2)

    def test_a_pipeline_id_past_max_id_is_refused(self) -> None:
        with pytest.raises(InvalidPipeline, match="a pipeline id is at most 9007199254740991"):
            default_pipeline(pipeline_id=MAX_ID + 1)

    def test_a_revision_past_max_revision_is_refused(self) -> None:
        pipelines = (default_pipeline(),)
        assert Workspace(pipelines, 1, revision=MAX_REVISION).revision == MAX_REVISION
        with pytest.raises(InvalidWorkspace, match="the revision is at most 9007199254740991"):
            Workspace(pipelines, 1, revision=MAX_REVISION + 1)


class TestDelays:
    """Issue 18, item 2: a delay of 300000000000000000 microseconds was accepted and saved."""

    def test_the_issue_delay_is_a_decode_error_at_its_pointer(self) -> None:
        document = {
            "type": "AddAutomation",
            "pipeline_id": 1,
            "stage_ids": [144],
            "trigger": "entered",
            "action": {"type": "HostAction", "kind": "send_email"},
            "delay": 300000000000000000,
        }
        with pytest.raises(DecodeError, match="from 0 to 315619200000000") as caught:
            load_command(document)
        assert caught.value.path == "/delay"

    def test_the_issue_delay_is_refused_by_apply(self) -> None:
        delay = timedelta(microseconds=300000000000000000)
        command = AddAutomation(1, (INITIAL,), Trigger.ENTERED, WELCOME, delay=delay)
        error = refused(new_workspace(), command)
        assert isinstance(error, InvalidDelay)
        assert error.delay == delay
        assert str(error) == (
            "an automation's delay is at most 3653 days (ten years), got 3e+11 seconds"
        )

    def test_ten_years_is_the_longest_delay(self) -> None:
        automation = Automation(1, 1, (INITIAL,), Trigger.ENTERED, WELCOME, delay=MAX_DELAY)
        assert automation.delay == MAX_DELAY
        with pytest.raises(InvalidDelay, match="at most 3653 days"):
            Automation(
                1,
                1,
                (INITIAL,),
                Trigger.ENTERED,
                WELCOME,
                delay=MAX_DELAY + timedelta(microseconds=1),
            )


class TestDueTimesPastTheYear9999:
    """Issue 18, item 2: a one-day delay at 9999-12-31T12:00:00+00:00 raised OverflowError."""

    def watched(self, *, trigger: Trigger = Trigger.ENTERED, stage: int = INITIAL) -> Workspace:
        add = AddAutomation(1, (stage,), trigger, WELCOME, delay=timedelta(days=1))
        return run(new_workspace(), CreateLead("Early"), add)

    def test_create_lead_is_refused(self) -> None:
        error = refused(self.watched(), CreateLead("ACME"), at=LAST_NOON)
        assert isinstance(error, ScheduleOutOfRange)
        assert (error.automation_id, error.lead_id) == (1, 2)
        assert (error.at, error.delay) == (LAST_NOON, timedelta(days=1))
        assert error.code == "schedule_out_of_range"

    def test_move_lead_is_refused(self) -> None:
        workspace = self.watched(trigger=Trigger.LEFT)
        error = refused(workspace, MoveLead(1, OFFER), at=LAST_NOON)
        assert isinstance(error, ScheduleOutOfRange)
        assert error.lead_id == 1

    def test_the_same_move_a_day_earlier_schedules_at_the_last_day(self) -> None:
        workspace = self.watched(trigger=Trigger.LEFT)
        applied = apply(workspace, MoveLead(1, OFFER), at=LAST_NOON - timedelta(days=1))
        assert [item.due_at for item in applied.workspace.scheduled] == [LAST_NOON]

    def test_run_due_records_the_move_it_cannot_make_as_failed(self) -> None:
        # A due move whose arrival would schedule past the end: RunDue never raises for it.
        workspace = run(
            new_workspace(),
            AddAutomation(1, (INITIAL,), Trigger.ENTERED, MoveTo(OFFER)),
            AddAutomation(1, (OFFER,), Trigger.ENTERED, WELCOME, delay=timedelta(days=1)),
        )
        workspace = apply(workspace, CreateLead("ACME"), at=LAST_NOON).workspace
        applied = apply(workspace, RunDue(), at=LAST_NOON)
        assert applied.events == (ActionFailed(4, LAST_NOON, 1, "schedule_out_of_range"),)
        assert workspace.lead(1).stage_id == applied.workspace.lead(1).stage_id == INITIAL
