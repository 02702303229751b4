"""The errors: one root, stable codes, facts as attributes, readable messages, pickling."""

from __future__ import annotations

import copy
import pickle
import re

import pytest

import pipekit
from pipekit import (
    DuplicateName,
    DuplicateStageId,
    InvalidColor,
    InvalidName,
    InvalidPipeline,
    InvalidStageId,
    LastOpenStage,
    PipekitError,
    PositionOutOfRange,
    RuleViolation,
    StageKind,
    StageLimitReached,
    StageLocked,
    UnknownStage,
)

# The names the issue fixes, and the one error pipekit adds to them.
ISSUE_NAMES = {
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
ADDED_NAMES = {"InvalidStageId"}

CODES: list[tuple[type[PipekitError], str]] = [
    (PipekitError, "pipekit_error"),
    (RuleViolation, "rule_violation"),
    (InvalidName, "invalid_name"),
    (DuplicateName, "duplicate_name"),
    (DuplicateStageId, "duplicate_stage_id"),
    (InvalidStageId, "invalid_stage_id"),
    (InvalidColor, "invalid_color"),
    (UnknownStage, "unknown_stage"),
    (StageLocked, "stage_locked"),
    (PositionOutOfRange, "position_out_of_range"),
    (LastOpenStage, "last_open_stage"),
    (StageLimitReached, "stage_limit_reached"),
    (InvalidPipeline, "invalid_pipeline"),
]
VIOLATIONS = [cls for cls, _ in CODES if cls not in (PipekitError, RuleViolation)]

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
        DuplicateStageId(142),
        {"stage_id": 142},
        "the pipeline already has a stage with id 142",
    ),
    (InvalidStageId(0), {"stage_id": 0}, "stage ids are positive integers, got 0"),
    (
        InvalidColor("#12345"),
        {"value": "#12345"},
        "invalid colour '#12345': expected '#rrggbb' or '#rgb' in hex digits",
    ),
    (UnknownStage(7), {"stage_id": 7}, "no stage has id 7"),
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
]


def example_id(example: tuple[PipekitError, dict[str, object], str]) -> str:
    return type(example[0]).__name__


class TestPublicNames:
    def test_all_holds_exactly_the_issue_names_and_invalid_stage_id(self) -> None:
        assert set(pipekit.__all__) == ISSUE_NAMES | ADDED_NAMES

    @pytest.mark.parametrize("name", sorted(ISSUE_NAMES))
    def test_every_issue_name_is_exported(self, name: str) -> None:
        assert name in pipekit.__all__
        assert hasattr(pipekit, name)

    def test_all_lists_each_name_once(self) -> None:
        assert len(pipekit.__all__) == len(set(pipekit.__all__))

    @pytest.mark.parametrize("cls", [cls for cls, _ in CODES], ids=lambda cls: cls.__name__)
    def test_every_error_is_importable_from_pipekit(self, cls: type[PipekitError]) -> None:
        assert getattr(pipekit, cls.__name__) is cls


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

    def test_unknown_stage_is_also_a_lookup_error(self) -> None:
        assert issubclass(UnknownStage, LookupError)

    @pytest.mark.parametrize(
        "cls",
        [cls for cls in VIOLATIONS if cls is not UnknownStage],
        ids=[cls.__name__ for cls in VIOLATIONS if cls is not UnknownStage],
    )
    def test_only_unknown_stage_is_a_lookup_error(self, cls: type[PipekitError]) -> None:
        assert not issubclass(cls, LookupError)


class TestCodes:
    @pytest.mark.parametrize(("cls", "code"), CODES, ids=[cls.__name__ for cls, _ in CODES])
    def test_each_class_has_its_stable_code(self, cls: type[PipekitError], code: str) -> None:
        assert cls.code == code

    def test_codes_are_distinct_snake_case(self) -> None:
        codes = [cls.code for cls, _ in CODES]
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
    def test_pickles_with_every_protocol(self, protocol: int) -> None:
        error = StageLocked(142, StageKind.WON, "deleted")
        restored = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(restored) is StageLocked
        assert str(restored) == str(error)
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


class TestRaisedByTheLibrary:
    def test_a_rejected_command_raises_an_error_with_its_facts(self) -> None:
        pipeline = pipekit.default_pipeline()
        with pytest.raises(PositionOutOfRange) as info:
            pipekit.move_stage(pipeline, 144, 7)
        assert (info.value.position, info.value.low, info.value.high) == (7, 0, 2)
        assert info.value.code == "position_out_of_range"
