"""Stages and their kinds: valid from construction, frozen, with a repr that is Python."""

from __future__ import annotations

import copy
import pickle

import attrs
import pytest

from pipekit import Color, InvalidColor, InvalidName, InvalidStageId, Stage, StageKind

COLOUR_TYPE_ERROR = "colour must be a (Color or a )?str"
NAMESPACE = {"Stage": Stage, "StageKind": StageKind, "Color": Color}


def demo() -> Stage:
    return Stage(id=7, name="Demo", color=Color("#99ccff"), kind=StageKind.OPEN)


class TestConstruction:
    def test_holds_its_fields(self) -> None:
        stage = demo()
        assert stage.id == 7
        assert stage.name == "Demo"
        assert stage.color == Color("#99ccff")
        assert stage.kind is StageKind.OPEN

    def test_takes_positional_arguments(self) -> None:
        assert Stage(7, "Demo", Color("#99ccff"), StageKind.OPEN) == demo()

    def test_strips_the_name(self) -> None:
        assert Stage(7, "  Demo\t", "#99ccff", StageKind.OPEN).name == "Demo"

    def test_parses_a_colour_given_as_a_string(self) -> None:
        stage = Stage(7, "Demo", "#9CF", StageKind.OPEN)
        assert isinstance(stage.color, Color)
        assert stage.color == Color("#99ccff")

    @pytest.mark.parametrize("kind", list(StageKind))
    def test_takes_every_kind(self, kind: StageKind) -> None:
        assert Stage(7, "Demo", "#99ccff", kind).kind is kind

    @pytest.mark.parametrize("name", ["", "   ", "De\nmo", "a" * 256])
    def test_rejects_an_invalid_name(self, name: str) -> None:
        with pytest.raises(InvalidName, match="invalid name"):
            Stage(7, name, "#99ccff", StageKind.OPEN)

    def test_rejects_an_invalid_colour(self) -> None:
        with pytest.raises(InvalidColor, match="invalid colour 'blue'"):
            Stage(7, "Demo", "blue", StageKind.OPEN)

    @pytest.mark.parametrize("stage_id", [0, -1, -142])
    def test_rejects_a_non_positive_id(self, stage_id: int) -> None:
        with pytest.raises(InvalidStageId, match=f"positive integers, got {stage_id}") as info:
            Stage(stage_id, "Demo", "#99ccff", StageKind.OPEN)
        assert info.value.stage_id == stage_id

    def test_accepts_a_large_id(self) -> None:
        assert Stage(58141803, "Demo", "#99ccff", StageKind.OPEN).id == 58141803

    @pytest.mark.parametrize("stage_id", [True, False, "7", 7.0, None])
    def test_id_that_is_not_an_int_is_a_type_error(self, stage_id: object) -> None:
        with pytest.raises(TypeError, match="stage id must be an int"):
            Stage(stage_id, "Demo", "#99ccff", StageKind.OPEN)  # type: ignore[arg-type]

    @pytest.mark.parametrize("name", [None, 7, b"Demo"])
    def test_name_that_is_not_a_str_is_a_type_error(self, name: object) -> None:
        with pytest.raises(TypeError, match="name must be a str"):
            Stage(7, name, "#99ccff", StageKind.OPEN)  # type: ignore[arg-type]

    @pytest.mark.parametrize("color", [None, 0x99CCFF])
    def test_colour_of_a_wrong_type_is_a_type_error(self, color: object) -> None:
        with pytest.raises(TypeError, match=COLOUR_TYPE_ERROR):
            Stage(7, "Demo", color, StageKind.OPEN)  # type: ignore[arg-type]

    @pytest.mark.parametrize("kind", ["open", None, 1])
    def test_kind_that_is_not_a_stage_kind_is_a_type_error(self, kind: object) -> None:
        with pytest.raises(TypeError, match="stage kind must be a StageKind"):
            Stage(7, "Demo", "#99ccff", kind)  # type: ignore[arg-type]


class TestValueObject:
    @pytest.mark.parametrize("field", ["id", "name", "color", "kind"])
    def test_is_frozen(self, field: str) -> None:
        stage = demo()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(stage, field, getattr(stage, field))

    def test_equal_fields_make_equal_stages(self) -> None:
        assert Stage(7, " Demo", "#9cf", StageKind.OPEN) == demo()
        assert hash(Stage(7, " Demo", "#9cf", StageKind.OPEN)) == hash(demo())

    @pytest.mark.parametrize(
        "other",
        [
            Stage(8, "Demo", "#99ccff", StageKind.OPEN),
            Stage(7, "demo", "#99ccff", StageKind.OPEN),
            Stage(7, "Demo", "#99ccfe", StageKind.OPEN),
            Stage(7, "Demo", "#99ccff", StageKind.WON),
        ],
    )
    def test_any_different_field_makes_a_different_stage(self, other: Stage) -> None:
        assert other != demo()

    def test_pickles_to_an_equal_stage(self) -> None:
        stage = demo()
        restored = pickle.loads(pickle.dumps(stage))
        assert restored == stage
        assert restored.kind is StageKind.OPEN

    def test_copies_are_equal(self) -> None:
        assert copy.copy(demo()) == demo()
        assert copy.deepcopy(demo()) == demo()


class TestRepr:
    def test_repr_is_the_constructor_call(self) -> None:
        assert repr(Stage(7, " Demo ", "#9cf", StageKind.OPEN)) == (
            "Stage(id=7, name='Demo', color=Color('#99ccff'), kind=StageKind.OPEN)"
        )

    @pytest.mark.parametrize("kind", list(StageKind))
    def test_repr_evaluates_to_an_equal_stage(self, kind: StageKind) -> None:
        stage = Stage(142, "Closed - 'won' \"x\"", "#CCFF66", kind)
        assert eval(repr(stage), NAMESPACE) == stage


class TestStageKind:
    @pytest.mark.parametrize(
        ("kind", "label"),
        [
            (StageKind.INCOMING, "incoming leads"),
            (StageKind.OPEN, "open"),
            (StageKind.WON, "won"),
            (StageKind.LOST, "lost"),
        ],
    )
    def test_label_reads_as_words(self, kind: StageKind, label: str) -> None:
        assert kind.label == label

    @pytest.mark.parametrize(
        ("kind", "is_system"),
        [
            (StageKind.INCOMING, True),
            (StageKind.OPEN, False),
            (StageKind.WON, True),
            (StageKind.LOST, True),
        ],
    )
    def test_only_open_is_not_a_system_kind(self, kind: StageKind, is_system: bool) -> None:
        assert kind.is_system is is_system

    def test_has_exactly_four_kinds_in_display_order(self) -> None:
        assert list(StageKind) == [
            StageKind.INCOMING,
            StageKind.OPEN,
            StageKind.WON,
            StageKind.LOST,
        ]

    @pytest.mark.parametrize("kind", list(StageKind))
    def test_repr_evaluates_to_the_same_member(self, kind: StageKind) -> None:
        assert repr(kind) == f"StageKind.{kind.name}"
        assert eval(repr(kind), NAMESPACE) is kind

    @pytest.mark.parametrize("kind", list(StageKind))
    def test_pickles_to_the_same_member(self, kind: StageKind) -> None:
        assert pickle.loads(pickle.dumps(kind)) is kind
