"""The errors: one root, stable codes, facts as attributes, readable messages, pickling."""

from __future__ import annotations

import copy
import pickle
import re
from datetime import UTC, datetime, timedelta

import pytest

import pipekit
import pipekit.commands
import pipekit.errors
import pipekit.events
from pipekit import (
    AutomationLimitReached,
    CreateLead,
    DeleteLossReason,
    DuplicateAutomationId,
    DuplicateLeadId,
    DuplicateLossReasonId,
    DuplicateName,
    DuplicatePipelineId,
    DuplicateStageId,
    IncomingDisabled,
    IncomingNotEmpty,
    InvalidColor,
    InvalidDelay,
    InvalidEvent,
    InvalidId,
    InvalidName,
    InvalidOutcome,
    InvalidPipeline,
    InvalidPrice,
    InvalidPriceRange,
    InvalidStageId,
    InvalidTarget,
    InvalidVersion,
    InvalidWorkspace,
    LastOpenStage,
    LastPipeline,
    LeadNotIncoming,
    LeadVersionConflict,
    LossReasonInUse,
    MainPipelineLocked,
    MoveLead,
    PipekitError,
    PipelineLimitReached,
    PipelineNotEmpty,
    PositionOutOfRange,
    RevisionConflict,
    RuleViolation,
    ScheduleOutOfRange,
    StageKind,
    StageLimitReached,
    StageLocked,
    UnknownAutomation,
    UnknownLead,
    UnknownLossReason,
    UnknownPipeline,
    UnknownScheduledAction,
    UnknownStage,
)

# The names the core issue fixes.
CORE_NAMES = {
    "Color",
    "KOMMO_PALETTE",
    "StageKind",
    "Stage",
    "Pipeline",
    "MAX_STAGES",
    "MAX_NAME_LENGTH",
    "default_pipeline",
    "add_stage",
    "rename_stage",
    "recolor_stage",
    "move_stage",
    "delete_stage",
    "rename_terminal",
    "enable_incoming",
    "disable_incoming",
    "PipekitError",
    "RuleViolation",
    "InvalidName",
    "DuplicateName",
    "DuplicateStageId",
    "InvalidColor",
    "UnknownStage",
    "StageLocked",
    "PositionOutOfRange",
    "LastOpenStage",
    "StageLimitReached",
    "InvalidPipeline",
}
# The commands the Workspace issue fixes (classes in pipekit.commands).
COMMAND_NAMES = {
    "AddStage",
    "RenameStage",
    "RecolorStage",
    "MoveStage",
    "DeleteStage",
    "RenameTerminal",
    "EnableIncoming",
    "DisableIncoming",
    "CreatePipeline",
    "RenamePipeline",
    "MovePipeline",
    "SetMainPipeline",
    "DeletePipeline",
    "CreateLead",
    "MoveLead",
    "WinLead",
    "LoseLead",
    "AcceptLead",
    "DeclineLead",
    "DeleteLead",
    "AddLossReason",
    "RenameLossReason",
    "DeleteLossReason",
}
# The events the Workspace issue fixes (classes in pipekit.events).
EVENT_NAMES = {
    "StageAdded",
    "StageRenamed",
    "StageRecolored",
    "StageMoved",
    "StageDeleted",
    "LeadsRelocated",
    "IncomingStageEnabled",
    "IncomingStageDisabled",
    "PipelineCreated",
    "PipelineRenamed",
    "PipelineMoved",
    "MainPipelineSet",
    "PipelineDeleted",
    "LeadCreated",
    "LeadMoved",
    "LeadAccepted",
    "LeadDeclined",
    "LeadDeleted",
    "LossReasonAdded",
    "LossReasonRenamed",
    "LossReasonDeleted",
}
# Everything else the Workspace issue fixes: the model, apply, and the errors it names.
WORKSPACE_NAMES = {
    "Lead",
    "LossReason",
    "Workspace",
    "StageTotal",
    "new_workspace",
    "apply",
    "Applied",
    "RevisionConflict",
    "UnknownPipeline",
    "UnknownStage",
    "UnknownLead",
    "UnknownLossReason",
    "LastPipeline",
    "MainPipelineLocked",
    "PipelineNotEmpty",
    "PipelineLimitReached",
    "IncomingDisabled",
    "InvalidTarget",
    "StageLocked",
    "LeadNotIncoming",
    "IncomingNotEmpty",
    "LossReasonInUse",
    "InvalidPrice",
    "RuleViolation",
    "PipekitError",
    "default_pipeline",
}
# The names the persistence issue makes importable from pipekit.
PERSISTENCE_NAMES = {"replay", "DecodeError"}
KOMMO_NAMES = {"plan"}
# The names the Digital Pipeline issue (7) fixes.
AUTOMATION_COMMAND_NAMES = {
    "AddAutomation",
    "UpdateAutomation",
    "EnableAutomation",
    "DisableAutomation",
    "RemoveAutomation",
    "RunDue",
    "CompleteAction",
    "FailAction",
}
AUTOMATION_EVENT_NAMES = {
    "AutomationAdded",
    "AutomationUpdated",
    "AutomationEnabled",
    "AutomationDisabled",
    "AutomationRemoved",
    "ActionScheduled",
    "ActionCompleted",
    "ActionFailed",
    "ActionHandedOver",
    "ActionCancelled",
    "AutomationLoopStopped",
}
AUTOMATION_NAMES = {
    "Trigger",
    "Automation",
    "MoveTo",
    "HostAction",
    "Action",
    "Scheduled",
    "due",
    "UnknownScheduledAction",
    "InvalidDelay",
    "InvalidPriceRange",
    "AutomationLimitReached",
    "UnknownAutomation",
    "DuplicateAutomationId",
    *AUTOMATION_COMMAND_NAMES,
    *AUTOMATION_EVENT_NAMES,
}
ISSUE_NAMES = (
    CORE_NAMES
    | COMMAND_NAMES
    | EVENT_NAMES
    | WORKSPACE_NAMES
    | PERSISTENCE_NAMES
    | KOMMO_NAMES
    | AUTOMATION_NAMES
)

# What pipekit adds to them: the id errors (W6 asks to name the clash errors), the
# error for a hand-built workspace or a forged event, the base types of commands and
# events, and the pipeline limit.
ADDED_NAMES = {
    "InvalidStageId",
    "InvalidId",
    "DuplicateLeadId",
    "DuplicatePipelineId",
    "DuplicateLossReasonId",
    "InvalidWorkspace",
    "InvalidEvent",
    "Command",
    "Event",
    "MAX_PIPELINES",
    "MAX_AUTOMATIONS",
    # The bounds of numbers, and the errors for an outcome and a time past them (issue 18).
    "MAX_ID",
    "MAX_PRICE",
    "MAX_REVISION",
    "MAX_DELAY",
    "InvalidOutcome",
    "ScheduleOutOfRange",
    # The two halves of an account, the lead-level path and lead versions (issue 20).
    "Account",
    "LeadRecord",
    "LeadTable",
    "LeadsApplied",
    "apply_to_leads",
    "InvalidVersion",
    "LeadVersionConflict",
}

CODES: list[tuple[type[PipekitError], str]] = [
    (PipekitError, "pipekit_error"),
    (RuleViolation, "rule_violation"),
    (InvalidName, "invalid_name"),
    (DuplicateName, "duplicate_name"),
    (DuplicateStageId, "duplicate_stage_id"),
    (InvalidId, "invalid_id"),
    (InvalidStageId, "invalid_stage_id"),
    (InvalidColor, "invalid_color"),
    (UnknownStage, "unknown_stage"),
    (StageLocked, "stage_locked"),
    (PositionOutOfRange, "position_out_of_range"),
    (LastOpenStage, "last_open_stage"),
    (StageLimitReached, "stage_limit_reached"),
    (InvalidPipeline, "invalid_pipeline"),
    (RevisionConflict, "revision_conflict"),
    (DuplicateLeadId, "duplicate_lead_id"),
    (DuplicatePipelineId, "duplicate_pipeline_id"),
    (DuplicateLossReasonId, "duplicate_loss_reason_id"),
    (UnknownPipeline, "unknown_pipeline"),
    (UnknownLead, "unknown_lead"),
    (UnknownLossReason, "unknown_loss_reason"),
    (InvalidPrice, "invalid_price"),
    (InvalidTarget, "invalid_target"),
    (LastPipeline, "last_pipeline"),
    (MainPipelineLocked, "main_pipeline_locked"),
    (PipelineNotEmpty, "pipeline_not_empty"),
    (PipelineLimitReached, "pipeline_limit_reached"),
    (IncomingDisabled, "incoming_disabled"),
    (IncomingNotEmpty, "incoming_not_empty"),
    (LeadNotIncoming, "lead_not_incoming"),
    (LossReasonInUse, "loss_reason_in_use"),
    (InvalidWorkspace, "invalid_workspace"),
    (InvalidEvent, "invalid_event"),
    (InvalidDelay, "invalid_delay"),
    (InvalidPriceRange, "invalid_price_range"),
    (AutomationLimitReached, "automation_limit_reached"),
    (UnknownAutomation, "unknown_automation"),
    (UnknownScheduledAction, "unknown_scheduled_action"),
    (DuplicateAutomationId, "duplicate_automation_id"),
    (InvalidOutcome, "invalid_outcome"),
    (ScheduleOutOfRange, "schedule_out_of_range"),
    (InvalidVersion, "invalid_version"),
    (LeadVersionConflict, "lead_version_conflict"),
]
ERRORS = [cls for cls, _ in CODES]
VIOLATIONS = [
    cls
    for cls in ERRORS
    if cls not in (PipekitError, RuleViolation, RevisionConflict, LeadVersionConflict)
]
LOOKUPS = [
    UnknownStage,
    UnknownPipeline,
    UnknownLead,
    UnknownLossReason,
    UnknownAutomation,
    UnknownScheduledAction,
]

# One instance of each error, the facts it must carry, and its message.
EXAMPLES: list[tuple[PipekitError, dict[str, object], str]] = [
    (PipekitError("something broke"), {}, "something broke"),
    (RuleViolation("a rule broke"), {}, "a rule broke"),
    (
        InvalidName(" ", "a name cannot be empty or only white space"),
        {"name": " ", "reason": "a name cannot be empty or only white space"},
        "invalid name ' ': a name cannot be empty or only white space",
    ),
    (
        DuplicateName("demo", "Demo", 145),
        {"name": "demo", "existing_name": "Demo", "existing_id": 145, "what": "stage"},
        "the name 'demo' clashes with stage 145 named 'Demo'"
        " (names are compared ignoring case and Unicode compatibility forms)",
    ),
    (
        DuplicateName("sales", "Sales", 2, what="pipeline"),
        {"name": "sales", "existing_name": "Sales", "existing_id": 2, "what": "pipeline"},
        "the name 'sales' clashes with pipeline 2 named 'Sales'"
        " (names are compared ignoring case and Unicode compatibility forms)",
    ),
    (
        DuplicateName("late", "Late", 3, what="loss reason"),
        {"name": "late", "existing_name": "Late", "existing_id": 3, "what": "loss reason"},
        "the name 'late' clashes with loss reason 3 named 'Late'"
        " (names are compared ignoring case and Unicode compatibility forms)",
    ),
    (
        DuplicateStageId(142),
        {"stage_id": 142},
        "the pipeline already has a stage with id 142",
    ),
    (
        InvalidId(0, "lead"),
        {"value": 0, "what": "lead"},
        "lead ids are positive integers, got 0",
    ),
    (
        InvalidId(-4, "loss reason"),
        {"value": -4, "what": "loss reason"},
        "loss reason ids are positive integers, got -4",
    ),
    (
        InvalidStageId(0),
        {"stage_id": 0, "value": 0, "what": "stage"},
        "stage ids are positive integers, got 0",
    ),
    (
        InvalidColor("#12345"),
        {"value": "#12345"},
        "invalid colour '#12345': expected '#rrggbb' or '#rgb' in hex digits",
    ),
    (UnknownStage(7), {"stage_id": 7, "pipeline_id": None}, "no stage has id 7"),
    (
        UnknownStage(7, pipeline_id=2),
        {"stage_id": 7, "pipeline_id": 2},
        "no stage has id 7 in pipeline 2",
    ),
    (
        StageLocked(142, StageKind.WON, "moved"),
        {"stage_id": 142, "kind": StageKind.WON, "action": "moved"},
        "the won stage (id 142) cannot be moved",
    ),
    (
        StageLocked(147, StageKind.INCOMING, "renamed"),
        {"stage_id": 147, "kind": StageKind.INCOMING, "action": "renamed"},
        "the incoming leads stage (id 147) cannot be renamed",
    ),
    (
        PositionOutOfRange(5, 0, 3),
        {"position": 5, "low": 0, "high": 3},
        "position 5 is out of range: here an open stage's position goes from 0 to 3",
    ),
    (
        LastOpenStage(144),
        {"stage_id": 144},
        "stage 144 is the pipeline's last open stage and cannot be deleted:"
        " a pipeline always keeps one open stage for its leads",
    ),
    (
        StageLimitReached(100),
        {"limit": 100},
        "a pipeline holds at most 100 stages, system stages included",
    ),
    (
        InvalidPipeline("R1", "a pipeline needs at least one open stage"),
        {"rule": "R1", "reason": "a pipeline needs at least one open stage"},
        "invalid pipeline (R1): a pipeline needs at least one open stage",
    ),
    (
        RevisionConflict(3, 5),
        {"expected": 3, "actual": 5},
        "expected the workspace at revision 3, but it is at revision 5",
    ),
    (
        # A store that waited out its busy timeout knows no revisions to compare.
        RevisionConflict(None, None),
        {"expected": None, "actual": None},
        "another writer kept the workspace busy for longer than the timeout",
    ),
    (
        DuplicateLeadId(7),
        {"value": 7},
        "the workspace already has a lead with id 7",
    ),
    (
        DuplicatePipelineId(2),
        {"value": 2},
        "the workspace already has a pipeline with id 2",
    ),
    (
        DuplicateLossReasonId(4),
        {"value": 4},
        "the workspace already has a loss reason with id 4",
    ),
    (UnknownPipeline(9), {"pipeline_id": 9, "value": 9}, "no pipeline has id 9"),
    (UnknownLead(12), {"lead_id": 12, "value": 12}, "no lead has id 12"),
    (UnknownLossReason(3), {"reason_id": 3, "value": 3}, "no loss reason has id 3"),
    (
        InvalidPrice(-5),
        {"price": -5},
        "a price is a whole number of minor units, at least 0; got -5",
    ),
    (
        InvalidTarget(1, 142, "the won stage is not an open stage"),
        {"pipeline_id": 1, "stage_id": 142, "reason": "the won stage is not an open stage"},
        "invalid target in pipeline 1: the won stage is not an open stage",
    ),
    (
        InvalidTarget(2, None, "incoming=True cannot come with a stage_id"),
        {"pipeline_id": 2, "stage_id": None, "reason": "incoming=True cannot come with a stage_id"},
        "invalid target in pipeline 2: incoming=True cannot come with a stage_id",
    ),
    (
        LastPipeline(1),
        {"pipeline_id": 1},
        "pipeline 1 is the workspace's last pipeline and cannot be deleted",
    ),
    (
        MainPipelineLocked(1),
        {"pipeline_id": 1},
        "pipeline 1 is the main pipeline and cannot be deleted: set another main pipeline first",
    ),
    (
        PipelineNotEmpty(2, 3),
        {"pipeline_id": 2, "lead_count": 3},
        "pipeline 2 still holds 3 lead(s): move or delete them before deleting the pipeline",
    ),
    (
        PipelineLimitReached(50),
        {"limit": 50},
        "a workspace holds at most 50 pipelines",
    ),
    (
        IncomingDisabled(2),
        {"pipeline_id": 2},
        "pipeline 2 has its incoming leads stage switched off",
    ),
    (
        IncomingNotEmpty(2, 4),
        {"pipeline_id": 2, "lead_count": 4},
        "4 lead(s) wait in the incoming leads stage of pipeline 2:"
        " accept, decline or delete them before switching it off",
    ),
    (
        LeadNotIncoming(7, 144),
        {"lead_id": 7, "stage_id": 144},
        "lead 7 is not waiting in an incoming leads stage (it is in stage 144),"
        " so it cannot be accepted or declined",
    ),
    (
        LossReasonInUse(3, 2),
        {"reason_id": 3, "lead_count": 2},
        "loss reason 3 is given for 2 lost lead(s) and cannot be deleted",
    ),
    (
        InvalidWorkspace("W1", "lead 1 is in pipeline 9, unknown"),
        {"rule": "W1", "reason": "lead 1 is in pipeline 9, unknown"},
        "invalid workspace (W1): lead 1 is in pipeline 9, unknown",
    ),
    (
        InvalidEvent("LeadMoved", "lead 7 is not in stage 144"),
        {"event": "LeadMoved", "reason": "lead 7 is not in stage 144"},
        "LeadMoved does not fit this workspace: lead 7 is not in stage 144",
    ),
    (
        InvalidDelay(timedelta(minutes=-2)),
        {"delay": timedelta(minutes=-2)},
        "an automation's delay is at least 0, got -120 seconds",
    ),
    (
        InvalidVersion(-1),
        {"version": -1},
        "a lead's version is a whole number from 0 to 9007199254740991, got -1",
    ),
    (
        LeadVersionConflict(7, 2, 3),
        {"lead_id": 7, "expected": 2, "actual": 3},
        "expected lead 7 at version 2, but it is at version 3",
    ),
    (
        InvalidPriceRange(500, 100),
        {"min_price": 500, "max_price": 100},
        "min_price 500 is above max_price 100: no price lies between them",
    ),
    (
        AutomationLimitReached(3, 100),
        {"pipeline_id": 3, "limit": 100},
        "pipeline 3 holds the most automations allowed, 100",
    ),
    (
        UnknownAutomation(8),
        {"automation_id": 8, "value": 8},
        "no automation has id 8",
    ),
    (
        DuplicateAutomationId(2),
        {"value": 2},
        "the workspace already has an automation with id 2",
    ),
    (
        UnknownScheduledAction(12),
        {"scheduled_id": 12, "value": 12},
        "no scheduled action handed over to the host has id 12",
    ),
    (
        InvalidOutcome(StageKind.OPEN),
        {"outcome": StageKind.OPEN},
        "an outcome is StageKind.WON or StageKind.LOST, got StageKind.OPEN",
    ),
    (
        ScheduleOutOfRange(3, 7, datetime(9999, 12, 31, 12, tzinfo=UTC), timedelta(days=1)),
        {
            "automation_id": 3,
            "lead_id": 7,
            "at": datetime(9999, 12, 31, 12, tzinfo=UTC),
            "delay": timedelta(days=1),
        },
        "automation 3 would schedule its action for lead 7 at 9999-12-31T12:00:00+00:00 plus"
        " 86400 seconds, past the end of the year 9999, the last time pipekit can hold",
    ),
]


def example_id(example: tuple[PipekitError, dict[str, object], str]) -> str:
    return type(example[0]).__name__


def public_bases(cls: type[PipekitError]) -> set[str]:
    """The error classes of pipekit.errors.__all__ that *cls* derives from, itself aside."""
    return {base.__name__ for base in cls.__mro__[1:] if base.__name__ in pipekit.errors.__all__}


class TestPublicNames:
    def test_all_holds_exactly_the_issue_names_and_the_added_ones(self) -> None:
        assert set(pipekit.__all__) == ISSUE_NAMES | ADDED_NAMES

    @pytest.mark.parametrize("name", sorted(ISSUE_NAMES))
    def test_every_issue_name_is_exported(self, name: str) -> None:
        assert name in pipekit.__all__
        assert hasattr(pipekit, name)

    @pytest.mark.parametrize("name", sorted(ADDED_NAMES))
    def test_every_added_name_is_exported(self, name: str) -> None:
        assert hasattr(pipekit, name)

    def test_all_lists_each_name_once(self) -> None:
        assert len(pipekit.__all__) == len(set(pipekit.__all__))

    @pytest.mark.parametrize("name", sorted(COMMAND_NAMES | AUTOMATION_COMMAND_NAMES))
    def test_every_command_comes_from_pipekit_commands(self, name: str) -> None:
        assert getattr(pipekit, name) is getattr(pipekit.commands, name)
        assert name in pipekit.commands.__all__

    @pytest.mark.parametrize("name", sorted(EVENT_NAMES | AUTOMATION_EVENT_NAMES))
    def test_every_event_comes_from_pipekit_events(self, name: str) -> None:
        assert getattr(pipekit, name) is getattr(pipekit.events, name)
        assert name in pipekit.events.__all__

    def test_the_table_covers_every_error_of_the_errors_module(self) -> None:
        assert {cls.__name__ for cls in ERRORS} == set(pipekit.errors.__all__)

    @pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
    def test_every_error_is_importable_from_pipekit(self, cls: type[PipekitError]) -> None:
        assert getattr(pipekit, cls.__name__) is cls
        assert cls.__name__ in pipekit.__all__

    def test_every_error_has_an_example(self) -> None:
        assert {type(error) for error, _, _ in EXAMPLES} == set(ERRORS)


class TestHierarchy:
    def test_pipekit_error_is_the_root_and_not_a_value_error(self) -> None:
        assert issubclass(PipekitError, Exception)
        assert not issubclass(PipekitError, ValueError)

    def test_rule_violation_is_a_pipekit_error_and_a_value_error(self) -> None:
        assert issubclass(RuleViolation, PipekitError)
        assert issubclass(RuleViolation, ValueError)

    @pytest.mark.parametrize("cls", VIOLATIONS, ids=[cls.__name__ for cls in VIOLATIONS])
    def test_every_violation_is_a_rule_violation(self, cls: type[PipekitError]) -> None:
        assert issubclass(cls, RuleViolation)
        assert issubclass(cls, ValueError)

    def test_revision_conflict_is_a_pipekit_error_but_not_a_rule_violation(self) -> None:
        # The command may be fine: the caller's view of the workspace is stale.
        assert issubclass(RevisionConflict, PipekitError)
        assert issubclass(LeadVersionConflict, RevisionConflict)
        assert not issubclass(RevisionConflict, RuleViolation)
        assert not issubclass(RevisionConflict, ValueError)
        assert not issubclass(RevisionConflict, LookupError)

    @pytest.mark.parametrize("cls", LOOKUPS, ids=[cls.__name__ for cls in LOOKUPS])
    def test_unknown_ids_are_also_lookup_errors(self, cls: type[Exception]) -> None:
        assert issubclass(cls, RuleViolation)
        assert issubclass(cls, LookupError)

    @pytest.mark.parametrize(
        "cls",
        [cls for cls in ERRORS if cls not in LOOKUPS],
        ids=[cls.__name__ for cls in ERRORS if cls not in LOOKUPS],
    )
    def test_only_the_unknown_ids_are_lookup_errors(self, cls: type[PipekitError]) -> None:
        assert not issubclass(cls, LookupError)

    def test_invalid_stage_id_is_an_invalid_id(self) -> None:
        assert issubclass(InvalidStageId, InvalidId)

    @pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
    def test_public_bases_are_exactly_the_documented_ones(self, cls: type[PipekitError]) -> None:
        expected = {
            PipekitError: set(),
            RuleViolation: {"PipekitError"},
            RevisionConflict: {"PipekitError"},
            LeadVersionConflict: {"PipekitError", "RevisionConflict"},
            InvalidStageId: {"PipekitError", "RuleViolation", "InvalidId"},
        }.get(cls, {"PipekitError", "RuleViolation"})
        assert public_bases(cls) == expected


class TestCodes:
    @pytest.mark.parametrize(("cls", "code"), CODES, ids=[cls.__name__ for cls, _ in CODES])
    def test_each_class_has_its_stable_code(self, cls: type[PipekitError], code: str) -> None:
        assert cls.code == code

    @pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
    def test_each_class_states_its_own_code(self, cls: type[PipekitError]) -> None:
        # Inheriting the code of a base would give two errors the same code.
        assert "code" in vars(cls)

    def test_codes_are_distinct_snake_case(self) -> None:
        codes = [cls.code for cls in ERRORS]
        assert len(set(codes)) == len(codes)
        assert all(re.fullmatch(r"[a-z]+(?:_[a-z]+)*", code) for code in codes)

    @pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
    def test_an_instance_has_its_class_code(
        self, example: tuple[PipekitError, dict[str, object], str]
    ) -> None:
        error, _, _ = example
        assert error.code == type(error).code


class TestFacts:
    @pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
    def test_attributes_hold_the_facts(
        self, example: tuple[PipekitError, dict[str, object], str]
    ) -> None:
        error, facts, _ = example
        for name, value in facts.items():
            assert getattr(error, name) == value

    @pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
    def test_message_explains_the_facts(
        self, example: tuple[PipekitError, dict[str, object], str]
    ) -> None:
        error, _, message = example
        assert str(error) == message
        assert error.args == (message,)

    def test_attributes_can_be_written(self) -> None:
        # Frameworks annotate exceptions; pipekit's errors are not frozen.
        error = UnknownStage(7)
        error.stage_id = 8
        assert error.stage_id == 8
        conflict = RevisionConflict(3, 5)
        conflict.actual = 6
        assert conflict.actual == 6


class TestPickling:
    @pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
    def test_keeps_type_message_and_facts(
        self, example: tuple[PipekitError, dict[str, object], str]
    ) -> None:
        error, facts, message = example
        restored = pickle.loads(pickle.dumps(error))
        assert type(restored) is type(error)
        assert restored.args == error.args
        assert str(restored) == message
        for name, value in facts.items():
            assert getattr(restored, name) == value
        assert vars(restored) == vars(error)

    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    @pytest.mark.parametrize(
        "error",
        [StageLocked(142, StageKind.WON, "deleted"), RevisionConflict(3, 5), UnknownLead(12)],
        ids=lambda error: type(error).__name__,
    )
    def test_pickles_with_every_protocol(self, protocol: int, error: PipekitError) -> None:
        restored = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(restored) is type(error)
        assert str(restored) == str(error)
        assert vars(restored) == vars(error)

    def test_keeps_the_stage_kind_member(self) -> None:
        restored = pickle.loads(pickle.dumps(StageLocked(142, StageKind.WON, "deleted")))
        assert restored.kind is StageKind.WON

    @pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
    def test_copies_keep_type_message_and_facts(
        self, example: tuple[PipekitError, dict[str, object], str]
    ) -> None:
        error, _, message = example
        for copied in (copy.copy(error), copy.deepcopy(error)):
            assert type(copied) is type(error)
            assert str(copied) == message
            assert vars(copied) == vars(error)

    def test_keeps_attributes_set_after_raising(self) -> None:
        error = UnknownStage(7)
        error.add_note("while importing")
        restored = pickle.loads(pickle.dumps(error))
        assert restored.__notes__ == ["while importing"]


AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


class TestRaisedByTheLibrary:
    def test_a_rejected_command_raises_an_error_with_its_facts(self) -> None:
        pipeline = pipekit.default_pipeline()
        with pytest.raises(PositionOutOfRange) as info:
            pipekit.move_stage(pipeline, 144, 7)
        assert (info.value.position, info.value.low, info.value.high) == (7, 0, 2)
        assert info.value.code == "position_out_of_range"

    def test_an_unknown_lead_is_a_lookup_error_with_the_id(self) -> None:
        with pytest.raises(LookupError) as info:
            pipekit.apply(pipekit.new_workspace(), MoveLead(lead_id=99, stage_id=145), at=AT)
        assert type(info.value) is UnknownLead
        assert info.value.lead_id == 99
        assert info.value.code == "unknown_lead"

    def test_a_stale_revision_is_a_revision_conflict_not_a_value_error(self) -> None:
        workspace = pipekit.new_workspace()
        with pytest.raises(PipekitError) as info:
            pipekit.apply(workspace, CreateLead("ACME"), at=AT, expected_revision=3)
        assert type(info.value) is RevisionConflict
        assert not isinstance(info.value, ValueError)
        assert (info.value.expected, info.value.actual) == (3, 0)

    def test_an_unknown_loss_reason_names_its_id(self) -> None:
        with pytest.raises(UnknownLossReason, match=r"^no loss reason has id 4$") as info:
            pipekit.apply(pipekit.new_workspace(), DeleteLossReason(reason_id=4), at=AT)
        assert info.value.reason_id == 4
