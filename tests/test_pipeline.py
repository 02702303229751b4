"""The Pipeline value object: valid from construction (R10), frozen, with a repr that is Python."""

from __future__ import annotations

import copy
import pickle

import attrs
import pytest

from pipekit import (
    MAX_STAGES,
    Color,
    DuplicateName,
    InvalidPipeline,
    Pipeline,
    Stage,
    StageKind,
    UnknownStage,
    add_stage,
    default_pipeline,
    delete_stage,
    move_stage,
    rename_stage,
)

NAMESPACE = {"Pipeline": Pipeline, "Stage": Stage, "StageKind": StageKind, "Color": Color}

INCOMING = Stage(200, "Incoming leads", "#c1c1c1", StageKind.INCOMING)
WON = Stage(142, "Closed - won", "#ccff66", StageKind.WON)
LOST = Stage(143, "Closed - lost", "#d5d8db", StageKind.LOST)


def open_stage(stage_id: int, name: str | None = None) -> Stage:
    return Stage(stage_id, f"Stage {stage_id}" if name is None else name, "#fffeb2", StageKind.OPEN)


MINIMAL = (open_stage(1), WON, LOST)


def opens(count: int) -> tuple[Stage, ...]:
    return tuple(open_stage(stage_id) for stage_id in range(1, count + 1))


def sales() -> Pipeline:
    """A pipeline with every kind of stage."""
    return Pipeline(id=3, name="Sales", stages=(INCOMING, open_stage(1), open_stage(2), WON, LOST))


class TestConstruction:
    def test_builds_from_id_name_and_stages_alone(self) -> None:
        stages = MINIMAL
        pipeline = Pipeline(id=1, name="x", stages=stages)
        assert pipeline.id == 1
        assert pipeline.name == "x"
        assert pipeline.stages == stages

    def test_takes_positional_arguments(self) -> None:
        stages = MINIMAL
        assert Pipeline(1, "x", stages, 144) == Pipeline(id=1, name="x", stages=stages)

    def test_next_stage_id_defaults_to_one_above_the_highest_id(self) -> None:
        assert Pipeline(id=1, name="x", stages=MINIMAL).next_stage_id == 144
        pipeline = Pipeline(id=1, name="x", stages=(open_stage(500), open_stage(7), WON, LOST))
        assert pipeline.next_stage_id == 501

    def test_keeps_a_next_stage_id_above_every_id(self) -> None:
        pipeline = Pipeline(id=1, name="x", stages=MINIMAL, next_stage_id=9000)
        assert pipeline.next_stage_id == 9000

    def test_builds_with_incoming_leads_on(self) -> None:
        assert sales().stages == (INCOMING, open_stage(1), open_stage(2), WON, LOST)

    def test_stages_given_as_a_list_become_a_tuple(self) -> None:
        pipeline = Pipeline(id=1, name="x", stages=[open_stage(1), WON, LOST])
        assert pipeline.stages == MINIMAL
        assert isinstance(pipeline.stages, tuple)

    def test_stages_given_as_a_generator_become_a_tuple(self) -> None:
        pipeline = Pipeline(id=1, name="x", stages=(stage for stage in MINIMAL))
        assert pipeline.stages == MINIMAL

    def test_strips_the_pipeline_name(self) -> None:
        assert Pipeline(id=1, name="  Sales\t", stages=MINIMAL).name == "Sales"

    def test_holds_exactly_max_stages(self) -> None:
        assert MAX_STAGES == 100
        pipeline = Pipeline(id=1, name="x", stages=(*opens(98), WON, LOST))
        assert len(pipeline.stages) == 100

    def test_counts_incoming_leads_towards_max_stages(self) -> None:
        pipeline = Pipeline(id=1, name="x", stages=(INCOMING, *opens(97), WON, LOST))
        assert len(pipeline.stages) == 100

    def test_is_not_archived_unless_asked(self) -> None:
        assert Pipeline(id=1, name="x", stages=MINIMAL).archived is False
        assert Pipeline(id=1, name="x", stages=MINIMAL, archived=True).archived is True

    def test_the_archived_flag_tells_pipelines_apart(self) -> None:
        plain = Pipeline(id=1, name="x", stages=MINIMAL)
        assert attrs.evolve(plain, archived=True) != plain

    def test_commands_keep_the_archived_flag(self) -> None:
        archived = attrs.evolve(sales(), archived=True)
        demo = add_stage(archived, "Demo")
        assert demo.archived is True
        assert move_stage(demo, demo.open_stages[-1].id, 0).archived is True
        assert delete_stage(demo, demo.open_stages[-1].id).archived is True
        assert rename_stage(demo, 1, "First").archived is True

    def test_accepts_colours_outside_the_palette(self) -> None:
        stage = Stage(1, "Imported", "#123456", StageKind.OPEN)
        assert Pipeline(id=1, name="x", stages=(stage, WON, LOST)).stages[0] == stage


class TestShapeRule:
    """R1: optional incoming first, one or more open stages, then won, then lost."""

    @pytest.mark.parametrize(
        ("stages", "match"),
        [
            pytest.param((), "last two stages must be the won stage", id="empty"),
            pytest.param((open_stage(1),), "last two stages must be the won", id="open only"),
            pytest.param((WON, open_stage(1), LOST), "last two stages", id="won before open"),
            pytest.param((open_stage(1), LOST, WON), "last two stages", id="lost before won"),
            pytest.param((open_stage(1), LOST), "last two stages", id="won missing"),
            pytest.param((open_stage(1), WON), "last two stages", id="lost missing"),
            pytest.param(
                (open_stage(1), WON, LOST, open_stage(2)), "last two stages", id="open after lost"
            ),
            pytest.param((WON, LOST), "at least one open stage", id="no open stage"),
            pytest.param((INCOMING, WON, LOST), "at least one open stage", id="incoming only"),
            pytest.param(
                (
                    INCOMING,
                    Stage(201, "Inbox", "#c1c1c1", StageKind.INCOMING),
                    open_stage(1),
                    WON,
                    LOST,
                ),
                r"incoming leads stage\b.*can only come first",
                id="two incoming",
            ),
            pytest.param(
                (open_stage(1), INCOMING, open_stage(2), WON, LOST),
                r"incoming leads stage\b.*can only come first",
                id="incoming not first",
            ),
            pytest.param(
                (open_stage(1), INCOMING, WON, LOST),
                "incoming leads stage can only come first",
                id="incoming before won",
            ),
            pytest.param(
                (open_stage(1), Stage(150, "Paid", "#ccff66", StageKind.WON), WON, LOST),
                r"\bwon stage\b.*can only come first",
                id="two won",
            ),
            pytest.param(
                (LOST, open_stage(1), WON, Stage(151, "Gone", "#d5d8db", StageKind.LOST)),
                r"\blost stage\b.*can only come first",
                id="lost first",
            ),
        ],
    )
    def test_rejects_a_broken_order(self, stages: tuple[Stage, ...], match: str) -> None:
        with pytest.raises(InvalidPipeline, match=match) as info:
            Pipeline(id=1, name="x", stages=stages)
        assert info.value.rule == "R1"
        assert str(info.value).startswith("invalid pipeline (R1): ")


class TestStageLimitRule:
    """R6: at most 100 stages, system stages included."""

    def test_rejects_101_stages(self) -> None:
        with pytest.raises(InvalidPipeline, match="101 stages, at most 100 are allowed") as info:
            Pipeline(id=1, name="x", stages=(*opens(99), WON, LOST))
        assert info.value.rule == "R6"

    def test_rejects_101_stages_with_incoming_leads(self) -> None:
        with pytest.raises(InvalidPipeline, match="101 stages") as info:
            Pipeline(id=1, name="x", stages=(INCOMING, *opens(98), WON, LOST))
        assert info.value.rule == "R6"


class TestNameRule:
    """R7: a valid pipeline name, and stage names that do not clash."""

    @pytest.mark.parametrize(
        ("name", "match"),
        [
            ("", "pipeline name is invalid: a name cannot be empty"),
            ("   ", "pipeline name is invalid: a name cannot be empty"),
            ("a" * 256, "pipeline name is invalid: a name has at most 255 characters"),
            ("Sales\nTeam", "pipeline name is invalid: a name cannot hold control"),
            ("Sales\u2028Team", "pipeline name is invalid: a name cannot hold control"),
        ],
    )
    def test_rejects_an_invalid_pipeline_name(self, name: str, match: str) -> None:
        with pytest.raises(InvalidPipeline, match=match) as info:
            Pipeline(id=1, name=name, stages=MINIMAL)
        assert info.value.rule == "R7"

    def test_accepts_a_pipeline_name_of_255_code_points(self) -> None:
        assert Pipeline(id=1, name="a" * 255, stages=MINIMAL).name == "a" * 255

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("Demo", "Demo"),
            ("Demo", "DEMO "),
            ("\uff44\uff45\uff4d\uff4f", "demo"),
            ("Stra\u00dfe", "STRASSE"),
        ],
    )
    def test_rejects_clashing_open_stage_names(self, first: str, second: str) -> None:
        stages = (open_stage(1, first), open_stage(2, second), WON, LOST)
        with pytest.raises(InvalidPipeline, match="stages 1 and 2 have clashing names") as info:
            Pipeline(id=1, name="x", stages=stages)
        assert info.value.rule == "R7"

    def test_rejects_an_open_stage_named_like_a_system_stage(self) -> None:
        stages = (INCOMING, open_stage(1, "closed - WON"), WON, LOST)
        with pytest.raises(InvalidPipeline, match="stages 1 and 142 have clashing") as info:
            Pipeline(id=1, name="x", stages=stages)
        assert info.value.rule == "R7"

    def test_accepts_names_that_differ_inside(self) -> None:
        stages = (open_stage(1, "Demo"), open_stage(2, "De mo"), WON, LOST)
        assert len(Pipeline(id=1, name="x", stages=stages).stages) == 4


class TestIdRule:
    """R9: positive ids, unique stage ids, a counter above every stage id."""

    def test_rejects_a_duplicate_stage_id(self) -> None:
        stages = (open_stage(142), WON, LOST)
        with pytest.raises(InvalidPipeline, match="two stages have the id 142") as info:
            Pipeline(id=1, name="x", stages=stages)
        assert info.value.rule == "R9"

    @pytest.mark.parametrize("next_stage_id", [143, 142, 2])
    def test_rejects_a_counter_not_above_every_id(self, next_stage_id: int) -> None:
        match = f"next_stage_id {next_stage_id} must be above every stage id \\(143\\)"
        with pytest.raises(InvalidPipeline, match=match) as info:
            Pipeline(id=1, name="x", stages=MINIMAL, next_stage_id=next_stage_id)
        assert info.value.rule == "R9"

    @pytest.mark.parametrize("next_stage_id", [0, -5])
    def test_rejects_a_non_positive_counter(self, next_stage_id: int) -> None:
        match = f"next_stage_id must be a positive integer, got {next_stage_id}"
        with pytest.raises(InvalidPipeline, match=match) as info:
            Pipeline(id=1, name="x", stages=MINIMAL, next_stage_id=next_stage_id)
        assert info.value.rule == "R9"

    @pytest.mark.parametrize("pipeline_id", [0, -1])
    def test_rejects_a_non_positive_pipeline_id(self, pipeline_id: int) -> None:
        match = f"a pipeline id must be a positive integer, got {pipeline_id}"
        with pytest.raises(InvalidPipeline, match=match) as info:
            Pipeline(id=pipeline_id, name="x", stages=MINIMAL)
        assert info.value.rule == "R9"


class TestWrongTypes:
    """R12: each test passes a wrong type on purpose, hence its ``type: ignore[arg-type]``."""

    @pytest.mark.parametrize(
        "stages",
        [
            ("Demo", WON, LOST),
            (open_stage(1), WON, LOST, None),
            ({"id": 1, "name": "Demo"}, WON, LOST),
        ],
    )
    def test_stages_holding_a_non_stage_is_a_type_error(self, stages: tuple[object, ...]) -> None:
        with pytest.raises(TypeError, match="each stage of a pipeline must be a Stage"):
            Pipeline(id=1, name="x", stages=stages)  # type: ignore[arg-type]

    def test_stages_that_are_not_iterable_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            Pipeline(id=1, name="x", stages=None)  # type: ignore[arg-type]

    @pytest.mark.parametrize("pipeline_id", [True, "1", 1.0, None])
    def test_pipeline_id_that_is_not_an_int_is_a_type_error(self, pipeline_id: object) -> None:
        with pytest.raises(TypeError, match="a pipeline id must be an int"):
            Pipeline(id=pipeline_id, name="x", stages=MINIMAL)  # type: ignore[arg-type]

    @pytest.mark.parametrize("name", [None, 1, b"x"])
    def test_name_that_is_not_a_str_is_a_type_error(self, name: object) -> None:
        with pytest.raises(TypeError, match="name must be a str"):
            Pipeline(id=1, name=name, stages=MINIMAL)  # type: ignore[arg-type]

    @pytest.mark.parametrize("next_stage_id", [True, "144", 144.0])
    def test_counter_that_is_not_an_int_is_a_type_error(self, next_stage_id: object) -> None:
        with pytest.raises(TypeError, match="next_stage_id must be an int"):
            Pipeline(id=1, name="x", stages=MINIMAL, next_stage_id=next_stage_id)  # type: ignore[arg-type]

    @pytest.mark.parametrize("archived", [None, 0, 1, "yes"])
    def test_archived_that_is_not_a_bool_is_a_type_error(self, archived: object) -> None:
        with pytest.raises(TypeError, match="archived must be a bool"):
            Pipeline(id=1, name="x", stages=MINIMAL, archived=archived)  # type: ignore[arg-type]


class TestProperties:
    def test_incoming_is_none_when_switched_off(self) -> None:
        assert default_pipeline().incoming is None

    def test_incoming_is_the_first_stage_when_switched_on(self) -> None:
        assert sales().incoming == INCOMING

    def test_open_stages_leave_out_the_system_stages(self) -> None:
        assert sales().open_stages == (open_stage(1), open_stage(2))
        assert Pipeline(id=1, name="x", stages=MINIMAL).open_stages == (open_stage(1),)

    def test_won_and_lost_are_the_last_two_stages(self) -> None:
        assert sales().won == WON
        assert sales().lost == LOST

    def test_first_open_index_is_one_with_incoming_leads_on(self) -> None:
        assert sales().first_open_index == 1

    def test_first_open_index_is_zero_with_incoming_leads_off(self) -> None:
        assert default_pipeline().first_open_index == 0


class TestStageLookup:
    @pytest.mark.parametrize("stage", [INCOMING, open_stage(1), open_stage(2), WON, LOST])
    def test_stage_returns_the_stage_with_the_id(self, stage: Stage) -> None:
        assert sales().stage(stage.id) == stage

    @pytest.mark.parametrize(("stage_id", "index"), [(200, 0), (1, 1), (2, 2), (142, 3), (143, 4)])
    def test_index_of_returns_the_index_in_stages(self, stage_id: int, index: int) -> None:
        assert sales().index_of(stage_id) == index

    @pytest.mark.parametrize("stage_id", [999, 0, -1, 144])
    def test_stage_with_an_unknown_id_raises_unknown_stage(self, stage_id: int) -> None:
        with pytest.raises(UnknownStage, match=f"no stage has id {stage_id}") as info:
            sales().stage(stage_id)
        assert info.value.stage_id == stage_id

    def test_stage_ids_are_the_stages_ids_in_order(self) -> None:
        pipeline = sales()
        assert pipeline.stage_ids == tuple(stage.id for stage in pipeline.stages)
        assert all(
            pipeline.index_of(stage_id) == i for i, stage_id in enumerate(pipeline.stage_ids)
        )

    def test_index_of_an_unknown_id_raises_unknown_stage(self) -> None:
        with pytest.raises(UnknownStage, match=r"^no stage has id 999 in pipeline 3$") as info:
            sales().index_of(999)
        assert (info.value.stage_id, info.value.pipeline_id) == (999, 3)

    def test_unknown_stage_is_a_lookup_error(self) -> None:
        with pytest.raises(LookupError):
            sales().stage(999)

    @pytest.mark.parametrize("stage_id", ["1", True, 1.0, None])
    def test_stage_id_that_is_not_an_int_is_a_type_error(self, stage_id: object) -> None:
        with pytest.raises(TypeError, match="stage id must be an int"):
            # a wrong type on purpose
            sales().stage(stage_id)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="stage id must be an int"):
            sales().index_of(stage_id)  # type: ignore[arg-type]


class TestValueObject:
    def test_equal_fields_make_equal_pipelines(self) -> None:
        assert sales() == sales()
        assert hash(sales()) == hash(sales())

    def test_a_default_counter_equals_the_same_counter_given(self) -> None:
        stages = MINIMAL
        assert Pipeline(id=1, name="x", stages=stages) == Pipeline(
            id=1, name="x", stages=stages, next_stage_id=144
        )

    @pytest.mark.parametrize(
        "other",
        [
            Pipeline(
                id=4, name="Sales", stages=(INCOMING, open_stage(1), open_stage(2), WON, LOST)
            ),
            Pipeline(
                id=3, name="Deals", stages=(INCOMING, open_stage(1), open_stage(2), WON, LOST)
            ),
            Pipeline(
                id=3, name="Sales", stages=(INCOMING, open_stage(2), open_stage(1), WON, LOST)
            ),
            Pipeline(id=3, name="Sales", stages=(open_stage(1), open_stage(2), WON, LOST)),
            Pipeline(
                id=3,
                name="Sales",
                stages=(INCOMING, open_stage(1), open_stage(2), WON, LOST),
                next_stage_id=500,
            ),
        ],
    )
    def test_any_different_field_makes_a_different_pipeline(self, other: Pipeline) -> None:
        assert other != sales()

    @pytest.mark.parametrize("field", ["id", "name", "stages", "next_stage_id"])
    def test_is_frozen(self, field: str) -> None:
        pipeline = sales()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(pipeline, field, getattr(pipeline, field))
        assert pipeline == sales()

    def test_evolve_validates_like_the_constructor(self) -> None:
        pipeline = sales()
        with pytest.raises(InvalidPipeline, match="at least one open stage") as info:
            attrs.evolve(pipeline, stages=(WON, LOST))
        assert info.value.rule == "R1"
        assert attrs.evolve(pipeline, name="Deals").name == "Deals"

    def test_repr_evaluates_to_an_equal_pipeline(self) -> None:
        pipeline = add_stage(sales(), 'It\'s "quoted"', color="#123456", stage_id=9000)
        assert eval(repr(pipeline), NAMESPACE) == pipeline

    def test_repr_shows_the_counter(self) -> None:
        assert repr(default_pipeline()).endswith(", next_stage_id=147, archived=False)")
        assert repr(default_pipeline()).startswith("Pipeline(id=1, name='Pipeline', stages=(Stage(")


class TestPickling:
    def test_pickles_to_an_equal_pipeline(self) -> None:
        pipeline = default_pipeline("Sales", incoming=True)
        restored = pickle.loads(pickle.dumps(pipeline))
        assert restored == pipeline
        assert restored.next_stage_id == 148

    def test_commands_work_on_an_unpickled_pipeline(self) -> None:
        pipeline = default_pipeline("Sales", incoming=True)
        restored = pickle.loads(pickle.dumps(pipeline))
        assert add_stage(restored, "Demo") == add_stage(pipeline, "Demo")
        assert rename_stage(restored, 145, "Offer") == rename_stage(pipeline, 145, "Offer")
        assert move_stage(restored, 146, 0) == move_stage(pipeline, 146, 0)
        assert delete_stage(restored, 144) == delete_stage(pipeline, 144)
        with pytest.raises(DuplicateName, match="clashes with stage 144"):
            add_stage(restored, "initial contact")

    def test_commands_work_on_a_copy(self) -> None:
        pipeline = default_pipeline("Sales", incoming=True)
        for copied in (copy.copy(pipeline), copy.deepcopy(pipeline)):
            assert copied == pipeline
            assert add_stage(copied, "Demo") == add_stage(pipeline, "Demo")
            assert delete_stage(copied, 144) == delete_stage(pipeline, 144)
