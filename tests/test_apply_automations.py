"""The automation commands through ``apply``, and what stage and pipeline commands do to them.

Every call to ``apply`` runs inside ``with unchanged(workspace):``, which fails the test
when the call changed its input; every workspace ``apply`` returns goes through
``checked``, which rebuilds it with the public constructor (rules D1 to D4).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

import pytest

from pipekit import (
    MAX_AUTOMATIONS,
    ActionCancelled,
    AddAutomation,
    AddStage,
    Automation,
    AutomationAdded,
    AutomationDisabled,
    AutomationEnabled,
    AutomationLimitReached,
    AutomationRemoved,
    AutomationUpdated,
    CreateLead,
    CreatePipeline,
    DeletePipeline,
    DeleteStage,
    DisableAutomation,
    DisableIncoming,
    DuplicateAutomationId,
    EnableAutomation,
    HostAction,
    IncomingStageDisabled,
    InvalidDelay,
    InvalidEvent,
    InvalidId,
    InvalidPrice,
    InvalidPriceRange,
    InvalidTarget,
    InvalidWorkspace,
    LeadsRelocated,
    MoveTo,
    PipelineDeleted,
    PipelineNotEmpty,
    RemoveAutomation,
    StageDeleted,
    Trigger,
    UnknownAutomation,
    UnknownPipeline,
    UnknownStage,
    UpdateAutomation,
    Workspace,
    apply,
    new_workspace,
)
from pipekit.evolve import evolve
from tests.apply_helpers import (
    AT,
    INCOMING,
    INITIAL,
    LATER,
    NEGOTIATION,
    OFFER,
    WON,
    apply_checked,
    assert_changes_nothing,
    run,
    unchanged,
)

EMAIL: Final = HostAction("send_email", {"template": "welcome"})
PARTNERS: Final = 2  # the second pipeline's id
DEMO: Final = 150  # the stage the second pipeline adds, in that pipeline only


def office() -> Workspace:
    """Pipeline 1 with incoming leads on (147); pipeline 2 with an extra open stage, 150."""
    return run(
        new_workspace(incoming=True),  # incoming leads is stage 147 of pipeline 1
        CreatePipeline("Partners"),
        AddStage(PARTNERS, "Demo", stage_id=DEMO),
    )


def with_automations(workspace: Workspace, *commands: AddAutomation) -> Workspace:
    return run(workspace, *commands)


def an_add(**changes: Any) -> AddAutomation:
    fields: dict[str, Any] = {
        "pipeline_id": 1,
        "stage_ids": (INITIAL,),
        "trigger": Trigger.ENTERED,
        "action": MoveTo(OFFER),
    }
    fields.update(changes)
    return AddAutomation(**fields)


def an_update(**changes: Any) -> UpdateAutomation:
    fields: dict[str, Any] = {
        "automation_id": 1,
        "stage_ids": (INITIAL,),
        "trigger": Trigger.ENTERED,
        "action": MoveTo(OFFER),
    }
    fields.update(changes)
    return UpdateAutomation(**fields)


def refused(workspace: Workspace, command: Any) -> None:
    with unchanged(workspace):
        apply(workspace, command, at=LATER)


class TestAddAutomation:
    def test_adds_an_enabled_automation_with_the_next_id(self) -> None:
        workspace = office()
        applied = apply_checked(workspace, an_add(delay=timedelta(hours=2), min_price=100))
        expected = Automation(
            1, 1, (INITIAL,), Trigger.ENTERED, MoveTo(OFFER), timedelta(hours=2), 100, None
        )
        assert applied.events == (AutomationAdded(workspace.revision + 1, LATER, expected),)
        assert applied.workspace.automations == (expected,)
        assert applied.workspace.next_automation_id == 2
        assert applied.workspace.revision == workspace.revision + 1
        assert applied.workspace.automations_of(1) == (expected,)
        assert applied.workspace.automations_of(PARTNERS) == ()

    def test_keeps_creation_order_across_pipelines(self) -> None:
        workspace = with_automations(
            office(),
            an_add(),
            an_add(pipeline_id=PARTNERS, stage_ids=(DEMO,)),
            an_add(stage_ids=(OFFER, NEGOTIATION), action=EMAIL),
        )
        assert [a.id for a in workspace.automations] == [1, 2, 3]
        assert [a.id for a in workspace.automations_of(1)] == [1, 3]

    def test_a_given_id_is_used_and_moves_the_counter_above_it(self) -> None:
        workspace = apply_checked(office(), an_add(automation_id=9)).workspace
        assert workspace.automation(9).id == 9
        assert workspace.next_automation_id == 10
        below = apply_checked(workspace, an_add(automation_id=3)).workspace
        assert below.next_automation_id == 10

    def test_a_host_action_may_watch_incoming_leads(self) -> None:
        workspace = apply_checked(office(), an_add(stage_ids=(INCOMING,), action=EMAIL)).workspace
        assert workspace.automation(1).stage_ids == (INCOMING,)

    def test_a_move_may_target_another_pipeline(self) -> None:
        command = an_add(action=MoveTo(DEMO, pipeline_id=PARTNERS))
        workspace = apply_checked(office(), command).workspace
        assert workspace.automation(1).target == (PARTNERS, DEMO)

    def test_a_move_may_target_won_or_lost(self) -> None:
        workspace = apply_checked(office(), an_add(action=MoveTo(WON))).workspace
        assert workspace.automation(1).target == (1, WON)

    def test_an_unknown_pipeline_is_refused(self) -> None:
        with pytest.raises(UnknownPipeline, match="no pipeline has id 9"):
            refused(office(), an_add(pipeline_id=9))

    def test_an_unknown_stage_is_refused(self) -> None:
        with pytest.raises(UnknownStage, match="no stage has id 999 in pipeline 1"):
            refused(office(), an_add(stage_ids=(INITIAL, 999)))

    def test_a_stage_of_another_pipeline_is_invalid_target(self) -> None:
        with pytest.raises(InvalidTarget, match="stage 147 is not a stage of pipeline 2"):
            refused(office(), an_add(pipeline_id=PARTNERS, stage_ids=(INITIAL, INCOMING)))

    def test_no_stage_is_invalid_target(self) -> None:
        with pytest.raises(InvalidTarget, match="watches at least one stage"):
            refused(office(), an_add(stage_ids=()))

    def test_a_move_watching_incoming_leads_is_invalid_target(self) -> None:
        with pytest.raises(InvalidTarget, match="cannot watch the incoming leads stage"):
            refused(office(), an_add(stage_ids=(INITIAL, INCOMING)))

    def test_a_move_into_incoming_leads_is_invalid_target(self) -> None:
        with pytest.raises(InvalidTarget, match="cannot move leads into the incoming"):
            refused(office(), an_add(action=MoveTo(INCOMING)))

    def test_a_move_to_an_unknown_stage_or_pipeline_is_refused(self) -> None:
        with pytest.raises(UnknownStage, match="no stage has id 999 in pipeline 1"):
            refused(office(), an_add(action=MoveTo(999)))
        with pytest.raises(UnknownStage, match="no stage has id 151 in pipeline 2"):
            refused(office(), an_add(action=MoveTo(151, pipeline_id=PARTNERS)))
        with pytest.raises(UnknownPipeline, match="no pipeline has id 7"):
            refused(office(), an_add(action=MoveTo(OFFER, pipeline_id=7)))

    def test_a_negative_delay_is_invalid_delay(self) -> None:
        with pytest.raises(InvalidDelay, match="at least 0"):
            refused(office(), an_add(delay=timedelta(microseconds=-1)))

    def test_min_above_max_is_invalid_price_range(self) -> None:
        with pytest.raises(InvalidPriceRange, match="min_price 2 is above max_price 1"):
            refused(office(), an_add(min_price=2, max_price=1))
        with pytest.raises(InvalidPrice):
            refused(office(), an_add(min_price=-2))

    def test_a_clashing_id_is_duplicate_automation_id(self) -> None:
        workspace = with_automations(office(), an_add())
        with pytest.raises(DuplicateAutomationId, match="already has an automation with id 1"):
            refused(workspace, an_add(automation_id=1))

    def test_an_id_below_1_is_invalid_id(self) -> None:
        with pytest.raises(InvalidId, match="automation ids are positive"):
            refused(office(), an_add(automation_id=0))

    def test_the_101st_automation_of_a_pipeline_is_refused(self) -> None:
        full = with_automations(office(), *[an_add() for _ in range(MAX_AUTOMATIONS)])
        assert len(full.automations_of(1)) == MAX_AUTOMATIONS
        with pytest.raises(AutomationLimitReached, match="pipeline 1 holds the most") as caught:
            refused(full, an_add())
        assert (caught.value.pipeline_id, caught.value.limit) == (1, MAX_AUTOMATIONS)
        # Another pipeline has room of its own.
        other = apply_checked(full, an_add(pipeline_id=PARTNERS, stage_ids=(DEMO,)))
        assert len(other.workspace.automations) == MAX_AUTOMATIONS + 1

    def test_the_limit_is_checked_before_the_id_and_the_stages(self) -> None:
        full = with_automations(office(), *[an_add() for _ in range(MAX_AUTOMATIONS)])
        with pytest.raises(AutomationLimitReached):
            refused(full, an_add(automation_id=0, stage_ids=(999,)))

    @pytest.mark.parametrize(
        "changes",
        [
            {"pipeline_id": "1"},
            {"stage_ids": "144"},
            {"stage_ids": (144.0,)},
            {"trigger": "entered"},
            {"action": {"type": "MoveTo", "stage_id": 145}},
            {"delay": 60},
            {"min_price": "1"},
            {"max_price": True},
            {"automation_id": "3"},
        ],
        ids=repr,
    )
    def test_a_wrong_type_is_a_type_error(self, changes: dict[str, Any]) -> None:
        with pytest.raises(TypeError):
            refused(office(), an_add(**changes))


class TestUpdateAutomation:
    def test_replaces_the_settings_keeping_id_pipeline_and_enabled(self) -> None:
        workspace = run(with_automations(office(), an_add()), DisableAutomation(1))
        command = an_update(
            stage_ids=(OFFER, NEGOTIATION),
            trigger=Trigger.LEFT,
            action=EMAIL,
            delay=timedelta(days=1),
            max_price=500,
        )
        applied = apply_checked(workspace, command)
        expected = Automation(
            1,
            1,
            (OFFER, NEGOTIATION),
            Trigger.LEFT,
            EMAIL,
            timedelta(days=1),
            None,
            500,
            enabled=False,
        )
        assert applied.events == (AutomationUpdated(workspace.revision + 1, LATER, expected),)
        assert applied.workspace.automations == (expected,)
        assert applied.workspace.automations_of(1) == (expected,)

    def test_the_same_settings_change_nothing(self) -> None:
        workspace = with_automations(office(), an_add(action=EMAIL))
        assert_changes_nothing(
            workspace, an_update(action=HostAction(" send_email ", {"template": "welcome"}))
        )

    def test_an_unknown_automation_is_refused(self) -> None:
        with pytest.raises(UnknownAutomation, match="no automation has id 4") as caught:
            refused(with_automations(office(), an_add()), an_update(automation_id=4))
        assert isinstance(caught.value, LookupError)
        assert caught.value.automation_id == 4

    def test_the_rules_of_adding_apply(self) -> None:
        workspace = with_automations(
            office(), an_add(), an_add(stage_ids=(INCOMING,), action=EMAIL)
        )
        with pytest.raises(InvalidTarget, match="cannot watch the incoming leads stage"):
            refused(workspace, an_update(automation_id=2, stage_ids=(INCOMING,)))
        with pytest.raises(UnknownStage):
            refused(workspace, an_update(stage_ids=(999,)))
        with pytest.raises(InvalidDelay):
            refused(workspace, an_update(delay=timedelta(seconds=-5)))
        with pytest.raises(InvalidPriceRange):
            refused(workspace, an_update(min_price=10, max_price=9))
        with pytest.raises(InvalidTarget, match="at least one stage"):
            refused(workspace, an_update(stage_ids=[]))

    def test_a_wrong_type_is_a_type_error(self) -> None:
        workspace = with_automations(office(), an_add())
        with pytest.raises(TypeError):
            refused(workspace, an_update(automation_id="1"))


class TestEnableAndDisableAutomation:
    def test_disable_then_enable(self) -> None:
        workspace = with_automations(office(), an_add())
        disabled = apply_checked(workspace, DisableAutomation(1))
        assert disabled.events == (AutomationDisabled(workspace.revision + 1, LATER, 1),)
        assert disabled.workspace.automation(1).enabled is False
        enabled = apply_checked(disabled.workspace, EnableAutomation(1))
        assert enabled.events == (AutomationEnabled(workspace.revision + 2, LATER, 1),)
        assert enabled.workspace.automation(1) == workspace.automation(1)

    def test_enabling_an_enabled_one_or_disabling_a_disabled_one_changes_nothing(self) -> None:
        workspace = with_automations(office(), an_add())
        assert_changes_nothing(workspace, EnableAutomation(1))
        assert_changes_nothing(run(workspace, DisableAutomation(1)), DisableAutomation(1))

    @pytest.mark.parametrize("command", [EnableAutomation(3), DisableAutomation(3)], ids=repr)
    def test_an_unknown_automation_is_refused(self, command: Any) -> None:
        with pytest.raises(UnknownAutomation, match="no automation has id 3"):
            refused(with_automations(office(), an_add()), command)


class TestRemoveAutomation:
    def test_removes_it(self) -> None:
        workspace = with_automations(office(), an_add(), an_add(action=EMAIL))
        applied = apply_checked(workspace, RemoveAutomation(1))
        assert applied.events == (AutomationRemoved(workspace.revision + 1, LATER, 1),)
        assert [a.id for a in applied.workspace.automations] == [2]
        assert applied.workspace.next_automation_id == 3

    def test_an_unknown_automation_is_refused(self) -> None:
        with pytest.raises(UnknownAutomation, match="no automation has id 1"):
            refused(office(), RemoveAutomation(1))


class TestDeleteStage:
    def test_watchers_let_go_of_the_stage_and_those_left_with_none_go(self) -> None:
        workspace = with_automations(
            office(),
            an_add(stage_ids=(INITIAL, OFFER), action=MoveTo(NEGOTIATION)),  # 1: keeps OFFER
            an_add(stage_ids=(INITIAL,), action=EMAIL),  # 2: left watching nothing
            an_add(stage_ids=(OFFER,), action=MoveTo(INITIAL)),  # 3: its target goes
            an_add(stage_ids=(NEGOTIATION,), action=EMAIL),  # 4: untouched
            an_add(pipeline_id=PARTNERS, stage_ids=(INITIAL,), action=EMAIL),  # 5: other pipeline
            an_add(pipeline_id=PARTNERS, stage_ids=(DEMO,), action=MoveTo(INITIAL, 1)),  # 6
        )
        workspace = run(workspace, CreateLead("ACME"))
        applied = apply_checked(workspace, DeleteStage(1, INITIAL))
        revision = workspace.revision + 1
        kept = workspace.automation(1)
        assert applied.events == (
            LeadsRelocated(revision, LATER, 1, INITIAL, OFFER, (1,)),
            ActionCancelled(revision, LATER, 2),  # the e-mail of automation 2, which goes
            AutomationUpdated(
                revision, LATER, Automation(1, 1, (OFFER,), kept.trigger, kept.action)
            ),
            AutomationRemoved(revision, LATER, 2),
            AutomationRemoved(revision, LATER, 3),
            AutomationRemoved(revision, LATER, 6),
            StageDeleted(revision, LATER, 1, INITIAL),
        )
        assert [a.id for a in applied.workspace.automations] == [1, 4, 5]
        assert applied.workspace.automation(5) == workspace.automation(5)

    def test_without_leads_or_automations_nothing_more_happens(self) -> None:
        applied = apply_checked(office(), DeleteStage(1, INITIAL))
        assert [type(event) for event in applied.events] == [StageDeleted]


class TestDeletePipeline:
    def test_removes_its_automations_and_those_moving_leads_into_it(self) -> None:
        workspace = with_automations(
            office(),
            an_add(pipeline_id=PARTNERS, stage_ids=(DEMO,), action=EMAIL),  # 1: its own
            an_add(action=MoveTo(DEMO, pipeline_id=PARTNERS)),  # 2: targets it
            an_add(action=EMAIL),  # 3: untouched
            an_add(action=MoveTo(OFFER, pipeline_id=1)),  # 4: untouched
        )
        applied = apply_checked(workspace, DeletePipeline(PARTNERS))
        revision = workspace.revision + 1
        assert applied.events == (
            AutomationRemoved(revision, LATER, 1),
            AutomationRemoved(revision, LATER, 2),
            PipelineDeleted(revision, LATER, PARTNERS),
        )
        assert [a.id for a in applied.workspace.automations] == [3, 4]

    def test_a_refused_delete_keeps_the_automations(self) -> None:
        workspace = with_automations(
            run(office(), CreateLead("Globex", pipeline_id=PARTNERS)),
            an_add(pipeline_id=PARTNERS, stage_ids=(DEMO,), action=EMAIL),
        )
        with pytest.raises(PipelineNotEmpty):
            refused(workspace, DeletePipeline(PARTNERS))


class TestDisableIncoming:
    def test_host_actions_let_go_of_the_incoming_stage(self) -> None:
        workspace = with_automations(
            office(),
            an_add(stage_ids=(INCOMING, INITIAL), action=EMAIL),  # 1: keeps INITIAL
            an_add(stage_ids=(INCOMING,), action=EMAIL),  # 2: left watching nothing
            an_add(),  # 3: untouched
        )
        applied = apply_checked(workspace, DisableIncoming(1))
        revision = workspace.revision + 1
        assert applied.events == (
            AutomationUpdated(
                revision, LATER, Automation(1, 1, (INITIAL,), Trigger.ENTERED, EMAIL)
            ),
            AutomationRemoved(revision, LATER, 2),
            IncomingStageDisabled(revision, LATER, 1, INCOMING),
        )
        assert [a.id for a in applied.workspace.automations] == [1, 3]


class TestEventsThatDoNotFit:
    def test_a_stage_deleted_while_an_automation_refers_to_it(self) -> None:
        workspace = with_automations(office(), an_add(stage_ids=(OFFER,), action=MoveTo(INITIAL)))
        with pytest.raises(InvalidEvent, match="automation 1 still refers to stage 144"):
            evolve(workspace, StageDeleted(9, AT, 1, INITIAL))
        with pytest.raises(InvalidEvent, match="automation 1 still refers to stage 145"):
            evolve(workspace, StageDeleted(9, AT, 1, OFFER))

    def test_incoming_disabled_while_a_host_action_watches_it(self) -> None:
        workspace = with_automations(office(), an_add(stage_ids=(INCOMING,), action=EMAIL))
        with pytest.raises(InvalidEvent, match="automation 1 still refers to stage 147"):
            evolve(workspace, IncomingStageDisabled(9, AT, 1, INCOMING))

    @pytest.mark.parametrize(
        "command",
        [
            an_add(pipeline_id=PARTNERS, stage_ids=(DEMO,), action=EMAIL),
            an_add(action=MoveTo(DEMO, pipeline_id=PARTNERS)),
        ],
        ids=["its own", "targeting it"],
    )
    def test_a_pipeline_deleted_while_an_automation_refers_to_it(self, command: Any) -> None:
        workspace = with_automations(office(), command)
        with pytest.raises(InvalidEvent, match="automation 1 still refers to pipeline 2"):
            evolve(workspace, PipelineDeleted(9, AT, PARTNERS))

    def test_an_update_that_changes_the_pipeline(self) -> None:
        workspace = with_automations(office(), an_add(action=EMAIL))
        moved = Automation(1, PARTNERS, (DEMO,), Trigger.ENTERED, EMAIL)
        with pytest.raises(InvalidEvent, match="cannot change its pipeline"):
            evolve(workspace, AutomationUpdated(9, AT, moved))

    def test_switching_to_the_state_it_is_in(self) -> None:
        workspace = with_automations(office(), an_add())
        with pytest.raises(InvalidEvent, match="automation 1 is enabled already"):
            evolve(workspace, AutomationEnabled(9, AT, 1))
        disabled = run(workspace, DisableAutomation(1))
        with pytest.raises(InvalidEvent, match="automation 1 is disabled already"):
            evolve(disabled, AutomationDisabled(9, AT, 1))

    def test_an_added_automation_is_rechecked(self) -> None:
        workspace = with_automations(office(), an_add())
        again = workspace.automation(1)
        with pytest.raises(DuplicateAutomationId):
            evolve(workspace, AutomationAdded(9, AT, again))
        stray = Automation(2, 1, (999,), Trigger.ENTERED, EMAIL)
        with pytest.raises(UnknownStage):
            evolve(workspace, AutomationAdded(9, AT, stray))


class TestTheWorkspaceConstructor:
    """A workspace built by hand (or decoded) keeps the Digital Pipeline rules, D1 to D4."""

    def build(self, *automations: Automation, **fields: Any) -> Workspace:
        workspace = office()
        return Workspace(
            pipelines=workspace.pipelines,
            main_pipeline_id=1,
            automations=automations,
            **fields,
        )

    def test_counts_the_next_id_above_the_highest(self) -> None:
        workspace = self.build(Automation(4, 1, (INITIAL,), Trigger.LEFT, EMAIL))
        assert workspace.next_automation_id == 5
        assert self.build().next_automation_id == 1

    @pytest.mark.parametrize(
        ("automation", "rule", "match"),
        [
            (Automation(1, 9, (INITIAL,), Trigger.LEFT, EMAIL), "D1", "no pipeline has id 9"),
            (Automation(1, 1, (999,), Trigger.LEFT, EMAIL), "D1", "no stage has id 999"),
            (Automation(1, 2, (INCOMING,), Trigger.LEFT, EMAIL), "D1", "not a stage of pipeline 2"),
            (Automation(1, 1, (INITIAL,), Trigger.LEFT, MoveTo(9)), "D1", "no stage has id 9"),
            (Automation(1, 1, (INCOMING,), Trigger.LEFT, MoveTo(OFFER)), "D2", "cannot watch"),
            (Automation(1, 1, (INITIAL,), Trigger.LEFT, MoveTo(INCOMING)), "D2", "cannot move"),
        ],
        ids=["pipeline", "stage", "stage elsewhere", "target", "watches incoming", "into incoming"],
    )
    def test_an_automation_that_breaks_a_rule(
        self, automation: Automation, rule: str, match: str
    ) -> None:
        with pytest.raises(InvalidWorkspace, match=match) as caught:
            self.build(automation)
        assert caught.value.rule == rule
        assert caught.value.where == ("automations", 0)

    def test_two_automations_with_one_id(self) -> None:
        one = Automation(3, 1, (INITIAL,), Trigger.LEFT, EMAIL)
        with pytest.raises(InvalidWorkspace, match="two automations have the id 3") as caught:
            self.build(one, one)
        assert (caught.value.rule, caught.value.where) == ("D4", ("automations", 1, "id"))

    def test_a_counter_not_above_every_id(self) -> None:
        one = Automation(3, 1, (INITIAL,), Trigger.LEFT, EMAIL)
        with pytest.raises(InvalidWorkspace, match="next automation id 3 must be above") as caught:
            self.build(one, next_automation_id=3)
        assert caught.value.rule == "D4"
        with pytest.raises(TypeError):
            self.build(next_automation_id="1")

    def test_more_than_100_automations_in_a_pipeline(self) -> None:
        many = [
            Automation(number, 1, (INITIAL,), Trigger.LEFT, EMAIL)
            for number in range(1, MAX_AUTOMATIONS + 2)
        ]
        assert len(self.build(*many[:-1]).automations) == MAX_AUTOMATIONS
        with pytest.raises(InvalidWorkspace, match="pipeline 1 has 101 automations") as caught:
            self.build(*many)
        assert caught.value.rule == "D3"

    def test_an_automation_that_is_not_one_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="each automation of a workspace"):
            self.build(an_add())  # type: ignore[arg-type]  # what the check is for

    def test_automations_of_an_unknown_pipeline(self) -> None:
        with pytest.raises(UnknownPipeline):
            office().automations_of(9)
