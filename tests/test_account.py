"""The Account: an account's configuration, with counts standing in for its leads.

An account holds no lead: only how many leads each stage holds and how many give
each loss reason. These tests build accounts by hand, read them through their
queries, and hold :func:`~pipekit.account.evolve_account` to what the workspace
path does with the same configuration events.
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import re
import types
from datetime import timedelta
from typing import Any, Final

import pytest

from pipekit import (
    Account,
    AddAutomation,
    AddLossReason,
    AddStage,
    Automation,
    AutomationAdded,
    AutomationEnabled,
    AutomationLoopStopped,
    AutomationUpdated,
    Color,
    Command,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DeleteLossReason,
    DeletePipeline,
    DeleteStage,
    DisableAutomation,
    DisableIncoming,
    DuplicateName,
    DuplicatePipelineId,
    EnableAutomation,
    EnableIncoming,
    Event,
    HostAction,
    IncomingNotEmpty,
    IncomingStageDisabled,
    InvalidEvent,
    InvalidWorkspace,
    LeadCreated,
    LeadMoved,
    LeadsRelocated,
    LoseLead,
    LossReason,
    LossReasonAdded,
    LossReasonDeleted,
    LossReasonInUse,
    MainPipelineLocked,
    MainPipelineSet,
    MovePipeline,
    MoveStage,
    MoveTo,
    Pipeline,
    PipelineCreated,
    PipelineDeleted,
    PipelineNotEmpty,
    RecolorStage,
    RemoveAutomation,
    RenameLossReason,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RuleViolation,
    SetMainPipeline,
    Stage,
    StageAdded,
    StageDeleted,
    StageKind,
    Trigger,
    UnknownAutomation,
    UnknownLossReason,
    UnknownPipeline,
    UnknownStage,
    UpdateAutomation,
    Workspace,
    apply,
    default_pipeline,
    new_workspace,
)
from pipekit.account import LeadCounts, evolve_account, position, with_tally
from pipekit.automation import FrozenList, FrozenMapping
from tests.apply_helpers import AT, INCOMING, INITIAL, LATER, LOST, NEGOTIATION, OFFER, WON, run

# The default pipeline (id 1) has open stages 144, 145, 146, won 142 and lost 143;
# "Sales" (id 2) has the same, plus its incoming leads stage 147 first.
MAIN: Final = default_pipeline()
SALES: Final = default_pipeline("Sales", pipeline_id=2, incoming=True)
TOO_EXPENSIVE: Final = LossReason(1, "Too expensive")
NO_BUDGET: Final = LossReason(2, "No budget")
EMAIL: Final = HostAction("send_email", {"template": "welcome", "cc": ["sales@example.com"]})
WATCHING_OFFER: Final = Automation(1, 1, (OFFER,), Trigger.ENTERED, EMAIL)
MOVING_TO_SALES: Final = Automation(
    2, 1, (NEGOTIATION,), Trigger.LEFT, MoveTo(INITIAL, pipeline_id=2), delay=timedelta(hours=1)
)
SLEEPING: Final = Automation(3, 2, (INCOMING,), Trigger.CREATED, EMAIL, enabled=False)

NAMESPACE: Final = {
    "Account": Account,
    "Automation": Automation,
    "Color": Color,
    "FrozenList": FrozenList,
    "FrozenMapping": FrozenMapping,
    "HostAction": HostAction,
    "LossReason": LossReason,
    "MoveTo": MoveTo,
    "Pipeline": Pipeline,
    "Stage": Stage,
    "StageKind": StageKind,
    "Trigger": Trigger,
    "datetime": dt,
}


def account(**changes: Any) -> Account:
    """Pipelines 1 (main) and 2, loss reasons 1 and 2, with *changes* to the fields."""
    fields: dict[str, Any] = {
        "pipelines": (MAIN, SALES),
        "main_pipeline_id": 1,
        "loss_reasons": (TOO_EXPENSIVE, NO_BUDGET),
    }
    return Account(**{**fields, **changes})


def counted() -> Account:
    """Three leads in 1/144, one lost in 1/143 giving reason 1, one waiting in 2/147."""
    return account(
        lead_counts={(1, INITIAL): 3, (1, LOST): 1, (2, INCOMING): 1},
        reason_counts={1: 1},
        automations=(WATCHING_OFFER, MOVING_TO_SALES, SLEEPING),
        revision=9,
        next_lead_id=6,
        next_scheduled_id=4,
    )


class TestConstruction:
    def test_holds_its_configuration(self) -> None:
        result = counted()
        assert result.pipelines == (MAIN, SALES)
        assert result.main_pipeline is MAIN
        assert result.loss_reasons == (TOO_EXPENSIVE, NO_BUDGET)
        assert result.automations == (WATCHING_OFFER, MOVING_TO_SALES, SLEEPING)
        assert (result.revision, result.next_lead_id, result.next_scheduled_id) == (9, 6, 4)

    def test_holds_the_counts_it_is_given(self) -> None:
        result = counted()
        assert result.lead_counts == {(1, INITIAL): 3, (1, LOST): 1, (2, INCOMING): 1}
        assert result.reason_counts == {1: 1}
        assert (result.lead_count(1), result.lead_count(2)) == (4, 1)
        assert result.lead_count(1, INITIAL) == 3
        assert result.lead_count(1, OFFER) == 0
        assert (result.reason_count(1), result.reason_count(2)) == (1, 0)

    def test_counts_default_to_no_leads(self) -> None:
        result = account()
        assert (result.lead_counts, result.reason_counts) == ({}, {})
        assert [result.lead_count(pipeline.id) for pipeline in result.pipelines] == [0, 0]
        assert result.reason_count(2) == 0

    def test_counts_of_zero_are_left_out_and_change_nothing(self) -> None:
        with_zeros = account(
            lead_counts={(1, INITIAL): 2, (1, OFFER): 0, (2, WON): 0}, reason_counts={2: 0}
        )
        assert with_zeros.lead_counts == {(1, INITIAL): 2}
        assert with_zeros.reason_counts == {}
        assert with_zeros == account(lead_counts={(1, INITIAL): 2})

    def test_takes_counts_from_any_mapping(self) -> None:
        result = account(
            lead_counts=types.MappingProxyType({(2, OFFER): 4}),
            reason_counts=types.MappingProxyType({2: 1}),
        )
        assert (result.lead_counts, result.reason_counts) == ({(2, OFFER): 4}, {2: 1})

    def test_the_counts_read_back_are_the_readers_own(self) -> None:
        result = counted()
        lead_counts = result.lead_counts
        reason_counts = result.reason_counts
        assert isinstance(lead_counts, dict)
        assert isinstance(reason_counts, dict)
        lead_counts[(1, OFFER)] = 50
        reason_counts[2] = 50
        assert result.lead_count(1, OFFER) == 0
        assert result.reason_count(2) == 0
        assert result == counted()

    def test_the_counters_default_to_one_above_the_highest_id(self) -> None:
        result = account(
            pipelines=(MAIN, default_pipeline("Partners", pipeline_id=7)),
            loss_reasons=(LossReason(4, "Gone quiet"),),
            automations=(Automation(12, 7, (INITIAL,), Trigger.ENTERED, EMAIL),),
        )
        assert result.next_pipeline_id == 8
        assert result.next_loss_reason_id == 5
        assert result.next_automation_id == 13

    def test_the_lead_and_scheduled_counters_default_to_one(self) -> None:
        # The account holds no lead and no scheduled action: their ids are the table's.
        result = account(lead_counts={(1, INITIAL): 5})
        assert (result.next_lead_id, result.next_scheduled_id) == (1, 1)

    def test_with_nothing_else_the_counters_start_at_one(self) -> None:
        result = Account(pipelines=(MAIN,), main_pipeline_id=1)
        assert (result.next_loss_reason_id, result.next_automation_id) == (1, 1)
        assert result.next_pipeline_id == 2


class TestCountsRefused:
    @pytest.mark.parametrize(
        ("place", "match"),
        [
            ((9, INITIAL), "no pipeline has id 9"),
            ((1, 999), "no stage has id 999 in pipeline 1"),
            ((1, INCOMING), "no stage has id 147 in pipeline 1"),  # a stage of pipeline 2 only
        ],
    )
    def test_a_stage_the_account_lacks_breaks_w1(self, place: tuple[int, int], match: str) -> None:
        with pytest.raises(
            InvalidWorkspace, match=f"^invalid workspace \\(W1\\): lead_counts names {match}$"
        ) as info:
            account(lead_counts={(1, OFFER): 1, place: 2})
        assert (info.value.rule, info.value.where) == ("W1", ("lead_counts",))

    def test_a_loss_reason_the_account_lacks_breaks_w5(self) -> None:
        match = "reason_counts names the unknown loss reason 3"
        with pytest.raises(InvalidWorkspace, match=match) as info:
            account(reason_counts={1: 1, 3: 2})
        assert (info.value.rule, info.value.where) == ("W5", ("reason_counts",))

    @pytest.mark.parametrize(
        ("field", "counts"),
        [("lead_counts", {(1, INITIAL): -1}), ("reason_counts", {2: -1})],
    )
    def test_a_negative_count_breaks_w6(self, field: str, counts: dict[Any, int]) -> None:
        with pytest.raises(InvalidWorkspace, match="a count is at least 0, got -1") as info:
            account(**{field: counts})
        assert (info.value.rule, info.value.where) == ("W6", (field,))

    @pytest.mark.parametrize("count", [True, "1", 1.0, None])
    @pytest.mark.parametrize("field", ["lead_counts", "reason_counts"])
    def test_a_count_that_is_not_an_int_is_a_type_error(self, field: str, count: object) -> None:
        counts = {(1, INITIAL) if field == "lead_counts" else 1: count}
        match = f"each count of {field} must be an int, got {type(count).__name__}"
        with pytest.raises(TypeError, match=match):
            account(**{field: counts})

    @pytest.mark.parametrize("key", [INITIAL, (1,), (1, INITIAL, 0), "1/144", None])
    def test_a_key_that_is_not_a_pair_is_a_type_error(self, key: Any) -> None:
        pair = re.escape("each key of lead_counts must be a (pipeline id, stage id) pair")
        match = f"^{pair}, got {re.escape(repr(key))}$"
        with pytest.raises(TypeError, match=match):
            account(lead_counts={(1, OFFER): 1, key: 1})

    @pytest.mark.parametrize(
        ("key", "match"),
        [
            (("1", INITIAL), "a pipeline id must be an int, got str"),
            ((True, INITIAL), "a pipeline id must be an int, got bool"),
            ((1, 144.0), "a stage id must be an int, got float"),
        ],
    )
    def test_an_id_of_a_pair_that_is_not_an_int_is_a_type_error(
        self, key: tuple[Any, Any], match: str
    ) -> None:
        with pytest.raises(TypeError, match=match):
            account(lead_counts={key: 1})

    @pytest.mark.parametrize("key", [True, 1.0, "1"])
    def test_a_reason_id_that_is_not_an_int_is_a_type_error(self, key: Any) -> None:
        with pytest.raises(TypeError, match="a loss reason id must be an int"):
            account(reason_counts={key: 1})

    @pytest.mark.parametrize("field", ["lead_counts", "reason_counts"])
    @pytest.mark.parametrize("given", [[((1, INITIAL), 1)], None, ((1, 1),)])
    def test_counts_that_are_not_a_mapping_are_a_type_error(
        self, field: str, given: object
    ) -> None:
        with pytest.raises(
            TypeError, match=f"^{field} must be a [Mm]apping, got {type(given).__name__}$"
        ):
            account(**{field: given})


class TestQueries:
    def test_finds_a_pipeline_its_position_and_a_stage(self) -> None:
        result = counted()
        assert result.pipeline(2) is SALES
        assert (result.pipeline_index(1), result.pipeline_index(2)) == (0, 1)
        assert result.stage((2, INCOMING)) is SALES.stages[0]

    def test_finds_a_loss_reason_and_its_position(self) -> None:
        result = counted()
        assert result.loss_reason(2) is NO_BUDGET
        assert result.loss_reason_index(2) == 1

    def test_finds_an_automation_its_position_and_those_of_a_pipeline(self) -> None:
        result = counted()
        assert result.automation(2) is MOVING_TO_SALES
        assert result.automation_index(3) == 2
        assert result.automations_of(1) == (WATCHING_OFFER, MOVING_TO_SALES)
        assert result.automations_of(2) == (SLEEPING,)
        assert account().automations_of(2) == ()

    def test_watchers_are_the_enabled_automations_watching_a_stage(self) -> None:
        result = counted()
        assert result.watchers((1, OFFER)) == (WATCHING_OFFER,)
        assert result.watchers((1, NEGOTIATION)) == (MOVING_TO_SALES,)
        assert result.watchers((2, INCOMING)) == ()  # SLEEPING is disabled
        assert result.watchers((2, OFFER)) == ()  # the same stage id in another pipeline
        assert result.watching

    def test_an_account_whose_automations_are_all_disabled_is_not_watching(self) -> None:
        assert not account(automations=(SLEEPING,)).watching
        assert not account().watching

    @pytest.mark.parametrize(
        "query",
        [
            lambda a: a.pipeline(9),
            lambda a: a.pipeline_index(9),
            lambda a: a.stage((9, INITIAL)),
            lambda a: a.automations_of(9),
            lambda a: a.lead_count(9),
            lambda a: a.lead_count(9, INITIAL),
        ],
    )
    def test_an_unknown_pipeline_raises_unknown_pipeline(self, query: Any) -> None:
        with pytest.raises(UnknownPipeline, match=r"^no pipeline has id 9$") as info:
            query(counted())
        assert info.value.pipeline_id == 9

    @pytest.mark.parametrize(
        "query", [lambda a: a.stage((1, INCOMING)), lambda a: a.lead_count(1, INCOMING)]
    )
    def test_an_unknown_stage_raises_unknown_stage(self, query: Any) -> None:
        with pytest.raises(UnknownStage, match=r"^no stage has id 147 in pipeline 1$") as info:
            query(counted())
        assert (info.value.stage_id, info.value.pipeline_id) == (INCOMING, 1)

    @pytest.mark.parametrize(
        "query",
        [lambda a: a.loss_reason(3), lambda a: a.loss_reason_index(3), lambda a: a.reason_count(3)],
    )
    def test_an_unknown_loss_reason_raises_unknown_loss_reason(self, query: Any) -> None:
        with pytest.raises(UnknownLossReason, match=r"^no loss reason has id 3$") as info:
            query(counted())
        assert info.value.reason_id == 3

    @pytest.mark.parametrize("query", [lambda a: a.automation(4), lambda a: a.automation_index(4)])
    def test_an_unknown_automation_raises_unknown_automation(self, query: Any) -> None:
        with pytest.raises(UnknownAutomation, match=r"^no automation has id 4$") as info:
            query(counted())
        assert info.value.automation_id == 4

    @pytest.mark.parametrize(
        ("query", "match"),
        [
            (lambda a: a.pipeline("1"), "a pipeline id must be an int, got str"),
            (lambda a: a.lead_count(True), "a pipeline id must be an int, got bool"),
            (lambda a: a.loss_reason(1.0), "a loss reason id must be an int, got float"),
            (lambda a: a.automation("1"), "an automation id must be an int, got str"),
        ],
    )
    def test_an_id_that_is_not_an_int_is_a_type_error(self, query: Any, match: str) -> None:
        with pytest.raises(TypeError, match=match):
            query(counted())


class TestValue:
    def test_repr_evaluates_to_an_equal_account(self) -> None:
        for value in (counted(), account(), new_workspace(incoming=True).account):
            text = repr(value)
            assert text.startswith("Account(pipelines=(Pipeline(")
            assert eval(text, NAMESPACE) == value

    def test_repr_shows_the_counts_as_the_constructor_takes_them(self) -> None:
        text = repr(counted())
        assert text.endswith(
            ", lead_counts={(1, 144): 3, (1, 143): 1, (2, 147): 1}, reason_counts={1: 1})"
        )

    def test_equal_fields_make_equal_accounts_with_equal_hashes(self) -> None:
        assert counted() == counted()
        assert hash(counted()) == hash(counted())

    @pytest.mark.parametrize(
        "changes",
        [
            {"lead_counts": {(1, INITIAL): 3}},
            {"reason_counts": {}},
            {"revision": 10},
            {"next_lead_id": 7},
            {"next_scheduled_id": 5},
            {"main_pipeline_id": 2},
            {"automations": (WATCHING_OFFER,)},
        ],
        ids=lambda changes: next(iter(changes)),
    )
    def test_any_different_field_makes_a_different_account(self, changes: dict[str, Any]) -> None:
        fields: dict[str, Any] = {
            "lead_counts": {(1, INITIAL): 3, (1, LOST): 1, (2, INCOMING): 1},
            "reason_counts": {1: 1},
            "automations": (WATCHING_OFFER, MOVING_TO_SALES, SLEEPING),
            "revision": 9,
            "next_lead_id": 6,
            "next_scheduled_id": 4,
        }
        assert account(**fields) == counted()
        assert account(**{**fields, **changes}) != counted()

    def test_is_frozen(self) -> None:
        result = counted()
        with pytest.raises(AttributeError):
            result.revision = 10  # type: ignore[misc]  # what is under test
        assert result == counted()

    def test_pickles_and_copies_to_an_equal_account(self) -> None:
        result = counted()
        for restored in (
            pickle.loads(pickle.dumps(result)),
            copy.copy(result),
            copy.deepcopy(result),
        ):
            assert restored == result
            assert restored.lead_counts == result.lead_counts
            assert restored.watchers((1, OFFER)) == (WATCHING_OFFER,)


def office() -> Workspace:
    """Pipelines 1 (main, incoming on), 2 "Partners" and 3 "Spare"; reasons 1 and 2; leads.

    Lead 1 sits in 1/144, lead 2 in 1/146, lead 3 waits in 1/147, lead 4 sits in
    2/144 and lead 5 is lost in 1/143 giving reason 1. Pipeline 3 and stage 1/145
    are empty. Automation 1 (pipeline 1) watches 145, automation 2 (pipeline 3)
    watches 144 and automation 3 (pipeline 2, disabled) watches 145; all were
    added after the leads, so nothing is scheduled.
    """
    return run(
        new_workspace(incoming=True),
        CreatePipeline("Partners"),
        CreatePipeline("Spare"),
        AddLossReason("Too expensive"),
        AddLossReason("Went silent"),
        CreateLead("ACME", price=100),
        CreateLead("Globex", price=20, stage_id=NEGOTIATION),
        CreateLead("Initech", incoming=True),
        CreateLead("Umbrella", price=3, pipeline_id=2),
        CreateLead("Hooli"),
        LoseLead(5, 1),
        AddAutomation(1, (OFFER,), Trigger.ENTERED, EMAIL),
        AddAutomation(3, (INITIAL,), Trigger.ENTERED, EMAIL),
        AddAutomation(2, (OFFER,), Trigger.ENTERED, EMAIL),
        DisableAutomation(3),
    )


class TestTally:
    def test_a_workspace_tally_equals_plain_counts_of_the_same_leads(self) -> None:
        tally = office().account.tally
        plain = LeadCounts(((1, 1, 0, 1, 0, 1), (1, 0, 0, 0, 0), (0, 0, 0, 0, 0)))
        assert type(tally) is not LeadCounts
        assert tally == plain
        assert plain == tally
        assert hash(tally) == hash(plain)

    def test_a_tally_counting_otherwise_is_not_equal(self) -> None:
        tally = office().account.tally
        assert tally != LeadCounts(((1, 2, 0, 0, 0, 1), (1, 0, 0, 0, 0), (0, 0, 0, 0, 0)))
        assert tally != LeadCounts(((1, 1, 0, 1, 0, 1), (1, 0, 0, 0, 0)))

    def test_a_tally_is_never_equal_to_what_is_not_a_tally(self) -> None:
        plain = LeadCounts(((0, 1),))
        assert plain != ((0, 1),)
        assert plain.__eq__(((0, 1),)) is NotImplemented

    def test_repr_shows_the_kind_and_the_counts(self) -> None:
        assert repr(LeadCounts(((0, 2), (1,)))) == "LeadCounts(((0, 2), (1,)))"
        assert repr(office().account.tally) == (
            "StageLeads(((1, 1, 0, 1, 0, 1), (1, 0, 0, 0, 0), (0, 0, 0, 0, 0)))"
        )

    def test_an_account_counts_leads_with_plain_counts(self) -> None:
        assert counted().tally == LeadCounts(((3, 0, 0, 0, 1), (1, 0, 0, 0, 0, 0)))
        assert type(counted().tally) is LeadCounts

    def test_a_workspace_account_equals_one_built_by_hand_with_its_counts(self) -> None:
        workspace = office()
        by_hand = Account(
            pipelines=workspace.pipelines,
            main_pipeline_id=1,
            loss_reasons=workspace.loss_reasons,
            automations=workspace.automations,
            revision=workspace.revision,
            next_lead_id=6,
            lead_counts={
                (1, INCOMING): 1,
                (1, INITIAL): 1,
                (1, NEGOTIATION): 1,
                (1, LOST): 1,
                (2, INITIAL): 1,
            },
            reason_counts={1: 1},
        )
        assert workspace.account == by_hand
        assert hash(workspace.account) == hash(by_hand)
        assert workspace.account.lead_counts == by_hand.lead_counts
        assert workspace.account != rebuilt(by_hand, reason_counts={2: 1})

    def test_with_tally_takes_a_tally_that_counts_the_same(self) -> None:
        before = counted()
        tally = LeadCounts(((3, 0, 0, 0, 1), (1, 0, 0, 0, 0, 0)))
        result = with_tally(before, tally)
        assert result.tally is tally
        assert result == before
        assert before.tally is not tally

    def test_with_tally_refuses_a_tally_that_counts_otherwise(self) -> None:
        before = counted()
        for tally in (
            LeadCounts(((3, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0))),
            LeadCounts(((3, 0, 0, 0, 1),)),
            office().account.tally,
        ):
            with pytest.raises(ValueError, match=r"^the tally does not count the account's leads$"):
                with_tally(before, tally)
        assert before == counted()


def rebuilt(value: Account, **changes: Any) -> Account:
    """Return *value* built again by its constructor, with *changes*: its tally plain counts.

    What a host that keeps its leads in its own table holds: an account built from
    what it stored, never from a workspace.
    """
    fields = {
        "pipelines": value.pipelines,
        "main_pipeline_id": value.main_pipeline_id,
        "loss_reasons": value.loss_reasons,
        "automations": value.automations,
        "revision": value.revision,
        "next_pipeline_id": value.next_pipeline_id,
        "next_lead_id": value.next_lead_id,
        "next_loss_reason_id": value.next_loss_reason_id,
        "next_automation_id": value.next_automation_id,
        "next_scheduled_id": value.next_scheduled_id,
        "lead_counts": value.lead_counts,
        "reason_counts": value.reason_counts,
    }
    return Account(**{**fields, **changes})


class TestPosition:
    def test_gives_the_indexes_of_a_pipeline_and_of_its_stage(self) -> None:
        assert position(counted(), (1, INITIAL)) == (0, 0)
        assert position(counted(), (2, INCOMING)) == (1, 0)
        assert position(counted(), (2, LOST)) == (1, 5)

    def test_an_unknown_pipeline_raises_unknown_pipeline(self) -> None:
        with pytest.raises(UnknownPipeline, match=r"^no pipeline has id 3$") as info:
            position(counted(), (3, INITIAL))
        assert info.value.pipeline_id == 3

    def test_an_unknown_stage_raises_unknown_stage(self) -> None:
        with pytest.raises(UnknownStage, match=r"^no stage has id 147 in pipeline 1$") as info:
            position(counted(), (1, INCOMING))
        assert (info.value.stage_id, info.value.pipeline_id) == (INCOMING, 1)


# -- evolve_account: the configuration events ---------------------------------------------


CONFIGURATION_COMMANDS: Final[list[Command]] = [
    AddStage(1, "Qualified", position=1),
    AddStage(2, "Demo", color="#ff0000", stage_id=300),
    RenameStage(1, NEGOTIATION, "Talks"),
    RenameTerminal(2, StageKind.WON, "Signed"),
    RecolorStage(1, INITIAL, "#00ff00"),
    MoveStage(1, NEGOTIATION, 0),
    MoveStage(1, INITIAL, 2),
    DeleteStage(1, OFFER),  # empty; automation 1 watches it alone, so it is removed
    DeleteStage(2, NEGOTIATION),  # empty and watched by nothing
    EnableIncoming(2, "Requests"),
    CreatePipeline("Fourth", incoming=True),
    CreatePipeline("Tenth", pipeline_id=10),
    RenamePipeline(2, "Channel"),
    MovePipeline(3, 0),
    MovePipeline(1, 2),
    SetMainPipeline(2),
    DeletePipeline(3),  # empty; automation 2 is its own, so it is removed
    AddLossReason("Too slow"),
    AddLossReason("Too late", reason_id=9),
    RenameLossReason(1, "Far too expensive"),
    DeleteLossReason(2),
    AddAutomation(2, (INITIAL, OFFER), Trigger.MOVED_IN, MoveTo(WON)),
    UpdateAutomation(1, (OFFER, NEGOTIATION), Trigger.LEFT, EMAIL, min_price=5),
    EnableAutomation(3),
    DisableAutomation(1),
    RemoveAutomation(2),
]


def _events_of(workspace: Workspace, command: Command) -> tuple[Event, ...]:
    applied = apply(workspace, command, at=LATER)
    assert applied.events, f"{command!r} changed nothing"
    return applied.events


class TestEvolveAccount:
    @pytest.mark.parametrize("command", CONFIGURATION_COMMANDS, ids=repr)
    def test_gives_the_account_of_the_workspace_apply_returns(self, command: Command) -> None:
        workspace = office()
        applied = apply(workspace, command, at=LATER)
        assert applied.events, f"{command!r} changed nothing"
        # The workspace's own account, and one a host rebuilt from what it stored.
        for start in (workspace.account, rebuilt(workspace.account)):
            result = start
            for event in applied.events:
                result = evolve_account(result, event)
            assert result == applied.workspace.account
            assert result.lead_counts == applied.workspace.account.lead_counts
            assert result.revision == workspace.revision + 1
            assert type(result.tally) is type(start.tally)
        assert workspace.account == office().account

    def test_disabling_incoming_leads_gives_the_account_apply_does(self) -> None:
        # The only lead waiting is declined first: incoming leads cannot go while one waits.
        workspace = run(office(), DeclineLead(3))
        applied = apply(workspace, DisableIncoming(1), at=LATER)
        (event,) = applied.events
        assert isinstance(event, IncomingStageDisabled)
        assert evolve_account(workspace.account, event) == applied.workspace.account

    def test_the_counts_follow_their_stages(self) -> None:
        workspace = office()
        (moved,) = _events_of(workspace, MovePipeline(2, 0))
        result = evolve_account(workspace.account, moved)
        assert result.lead_counts == workspace.account.lead_counts
        assert result.tally == LeadCounts(((1, 0, 0, 0, 0), (1, 1, 0, 1, 0, 1), (0, 0, 0, 0, 0)))

    @pytest.mark.parametrize(
        "event",
        [
            LeadMoved(1, AT, 1, 1, INITIAL, 1, OFFER),
            LeadsRelocated(1, AT, 1, OFFER, INITIAL, (1,)),
            AutomationLoopStopped(1, AT, 1, 1, (1,)),
        ],
        ids=lambda event: type(event).__name__,
    )
    def test_refuses_an_event_that_is_not_the_configurations(self, event: Event) -> None:
        before = office().account
        with pytest.raises(TypeError, match=type(event).__name__):
            evolve_account(before, event)
        assert before == office().account

    def test_refuses_a_lead_created(self) -> None:
        workspace = office()
        (created,) = _events_of(workspace, CreateLead("New"))
        assert isinstance(created, LeadCreated)
        with pytest.raises(TypeError, match="LeadCreated"):
            evolve_account(workspace.account, created)

    def test_refuses_what_is_not_an_event(self) -> None:
        with pytest.raises(TypeError, match=r"^not a pipekit event: AddStage$"):
            evolve_account(office().account, AddStage(1, "Qualified"))  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("forge", "error"),
        [
            (
                lambda r: StageAdded(r, AT, 1, Stage(300, "Done", "#ccff66", StageKind.WON), 1),
                InvalidEvent,
            ),
            (lambda r: StageDeleted(r, AT, 1, NEGOTIATION), InvalidEvent),  # holds lead 2
            (lambda r: StageDeleted(r, AT, 1, OFFER), InvalidEvent),  # automation 1 watches it
            (lambda r: IncomingStageDisabled(r, AT, 1, INCOMING), IncomingNotEmpty),
            (lambda r: IncomingStageDisabled(r, AT, 2, INITIAL), InvalidEvent),
            (
                lambda r: PipelineCreated(r, AT, default_pipeline("Other", pipeline_id=2)),
                DuplicatePipelineId,
            ),
            (
                lambda r: PipelineCreated(r, AT, default_pipeline(" partners ", pipeline_id=9)),
                DuplicateName,
            ),
            (lambda r: MainPipelineSet(r, AT, 9), UnknownPipeline),
            (lambda r: PipelineDeleted(r, AT, 1), MainPipelineLocked),
            (lambda r: PipelineDeleted(r, AT, 2), PipelineNotEmpty),
            (lambda r: PipelineDeleted(r, AT, 3), InvalidEvent),  # automation 2 is its own
            (lambda r: LossReasonAdded(r, AT, LossReason(7, "WENT SILENT")), DuplicateName),
            (lambda r: LossReasonDeleted(r, AT, 1), LossReasonInUse),
            (
                lambda r: AutomationAdded(r, AT, Automation(8, 1, (999,), Trigger.ENTERED, EMAIL)),
                UnknownStage,
            ),
            (
                lambda r: AutomationUpdated(
                    r, AT, Automation(1, 2, (OFFER,), Trigger.ENTERED, EMAIL)
                ),
                InvalidEvent,
            ),  # an automation cannot change its pipeline
            (lambda r: AutomationEnabled(r, AT, 1), InvalidEvent),  # enabled already
        ],
    )
    def test_a_forged_event_is_refused_as_the_workspace_refuses_it(
        self, forge: Any, error: type[RuleViolation]
    ) -> None:
        workspace = office()
        event = forge(workspace.revision + 1)
        with pytest.raises(error) as by_account:
            evolve_account(workspace.account, event)
        with pytest.raises(error) as by_workspace:
            workspace.evolved((event,))
        assert type(by_account.value) is type(by_workspace.value)
        assert str(by_account.value) == str(by_workspace.value)
        assert workspace.account == office().account
