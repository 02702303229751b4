"""The commands that make and edit one pipeline: happy paths, every violation, and purity (R11).

Every test that calls a command on a pipeline does it inside ``with unchanged(pipeline):``,
which fails the test when the command changed its input. Every pipeline a command returns
goes through ``checked``, which rebuilds it with the public constructor (R10).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import pytest

from pipekit import (
    KOMMO_PALETTE,
    Color,
    DuplicateName,
    DuplicateStageId,
    InvalidColor,
    InvalidName,
    InvalidOutcome,
    InvalidPipeline,
    InvalidStageId,
    LastOpenStage,
    Pipeline,
    PositionOutOfRange,
    RuleViolation,
    Stage,
    StageKind,
    StageLimitReached,
    StageLocked,
    UnknownStage,
    add_stage,
    default_pipeline,
    delete_stage,
    disable_incoming,
    enable_incoming,
    move_stage,
    recolor_stage,
    rename_stage,
    rename_terminal,
)

P = KOMMO_PALETTE
OPEN = StageKind.OPEN

# The stages of default_pipeline(), and the incoming stage enable_incoming adds to it.
INITIAL = Stage(144, "Initial Contact", "#fffeb2", OPEN)
OFFER = Stage(145, "Offer Made", "#fffd7f", OPEN)
NEGOTIATION = Stage(146, "Negotiation", "#fff000", OPEN)
WON = Stage(142, "Closed - won", "#ccff66", StageKind.WON)
LOST = Stage(143, "Closed - lost", "#d5d8db", StageKind.LOST)
INCOMING = Stage(147, "Incoming leads", "#c1c1c1", StageKind.INCOMING)

COLOUR_TYPE_ERROR = "colour must be a (Color or a )?str"
NOT_PIPELINES = [None, "Pipeline", (INITIAL, WON, LOST)]


@contextlib.contextmanager
def unchanged(pipeline: Pipeline) -> Iterator[None]:
    """Fail when the block changes *pipeline* (R11: commands never change their input)."""
    snapshot = copy.deepcopy(pipeline)
    yield
    assert pipeline == snapshot


def checked(result: Pipeline) -> Pipeline:
    """Return *result* after checking that the public constructor accepts it as it is (R10)."""
    rebuilt = Pipeline(
        id=result.id, name=result.name, stages=result.stages, next_stage_id=result.next_stage_id
    )
    assert rebuilt == result
    return result


def open_names(pipeline: Pipeline) -> list[str]:
    return [stage.name for stage in pipeline.open_stages]


def coloured(*colors: Color | str) -> Pipeline:
    """A pipeline whose open stages have *colors*, in order, and ids 1, 2..."""
    stages = (Stage(i, f"Stage {i}", color, OPEN) for i, color in enumerate(colors, start=1))
    return Pipeline(id=1, name="Colours", stages=(*stages, WON, LOST))


def full(open_count: int, *, incoming: bool = False) -> Pipeline:
    """A pipeline with *open_count* open stages (ids 1, 2...) and the system stages."""
    first = (Stage(1000, "Incoming leads", "#c1c1c1", StageKind.INCOMING),) if incoming else ()
    stages = (Stage(i, f"Stage {i}", P[i % len(P)], OPEN) for i in range(1, open_count + 1))
    return Pipeline(id=1, name="Full", stages=(*first, *stages, WON, LOST))


def one_open(*, incoming: bool = False) -> Pipeline:
    first = (INCOMING,) if incoming else ()
    return Pipeline(id=1, name="Lean", stages=(*first, INITIAL, WON, LOST))


@pytest.fixture
def pipeline() -> Pipeline:
    return default_pipeline()


@pytest.fixture
def with_incoming() -> Pipeline:
    return default_pipeline(incoming=True)


class TestDefaultPipeline:
    def test_has_kommos_default_stages(self) -> None:
        pipeline = checked(default_pipeline())
        assert pipeline.stages == (INITIAL, OFFER, NEGOTIATION, WON, LOST)
        assert pipeline.incoming is None

    def test_open_stages_take_the_first_three_palette_colours(self) -> None:
        assert [stage.color for stage in default_pipeline().open_stages] == list(P[:3])

    def test_won_and_lost_have_kommos_ids_and_system_colours(self) -> None:
        pipeline = default_pipeline("Other", pipeline_id=9)
        assert pipeline.won == WON
        assert pipeline.lost == LOST

    def test_is_named_pipeline_with_id_1_by_default(self) -> None:
        pipeline = default_pipeline()
        assert (pipeline.id, pipeline.name) == (1, "Pipeline")

    def test_takes_a_name_and_an_id(self) -> None:
        pipeline = checked(default_pipeline(" Sales ", pipeline_id=7))
        assert (pipeline.id, pipeline.name) == (7, "Sales")

    def test_counter_starts_above_the_default_ids(self) -> None:
        assert default_pipeline().next_stage_id == 147

    def test_switches_incoming_leads_on_when_asked(self) -> None:
        pipeline = checked(default_pipeline(incoming=True))
        assert pipeline.stages == (INCOMING, INITIAL, OFFER, NEGOTIATION, WON, LOST)
        assert pipeline.next_stage_id == 148

    @pytest.mark.parametrize(("name", "pipeline_id"), [("Pipeline", 1), ("Sales", 4)])
    def test_incoming_equals_enabling_incoming_leads_afterwards(
        self, name: str, pipeline_id: int
    ) -> None:
        plain = default_pipeline(name, pipeline_id=pipeline_id)
        with unchanged(plain):
            switched_on = checked(enable_incoming(plain))
        assert default_pipeline(name, pipeline_id=pipeline_id, incoming=True) == switched_on

    def test_gives_equal_pipelines_for_equal_arguments(self) -> None:
        assert default_pipeline("Sales", pipeline_id=2) == default_pipeline("Sales", pipeline_id=2)

    @pytest.mark.parametrize(
        ("name", "match"),
        [
            ("", "cannot be empty"),
            (" \t", "cannot be empty"),
            ("a" * 256, "at most 255 characters"),
            ("Sa\nles", "control or line-break"),
        ],
    )
    def test_rejects_an_invalid_name(self, name: str, match: str) -> None:
        with pytest.raises(InvalidName, match=match):
            default_pipeline(name)

    @pytest.mark.parametrize("pipeline_id", [0, -1])
    def test_rejects_a_non_positive_pipeline_id(self, pipeline_id: int) -> None:
        with pytest.raises(InvalidPipeline, match="pipeline id must be a positive integer"):
            default_pipeline(pipeline_id=pipeline_id)

    @pytest.mark.parametrize("name", [None, 1])
    def test_name_of_a_wrong_type_is_a_type_error(self, name: object) -> None:
        with pytest.raises(TypeError, match="name must be a str"):
            default_pipeline(name)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("pipeline_id", [True, "1", 1.0])
    def test_pipeline_id_of_a_wrong_type_is_a_type_error(self, pipeline_id: object) -> None:
        with pytest.raises(TypeError, match="pipeline id must be an int"):
            default_pipeline(pipeline_id=pipeline_id)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("incoming", [1, None, "yes"])
    def test_incoming_of_a_wrong_type_is_a_type_error(self, incoming: object) -> None:
        with pytest.raises(TypeError, match="incoming must be a bool"):
            default_pipeline(incoming=incoming)  # type: ignore[arg-type]  # on purpose


class TestAddStage:
    def test_appends_after_the_last_open_stage_by_default(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo"))
        demo = Stage(147, "Demo", P[3], OPEN)
        assert result.stages == (INITIAL, OFFER, NEGOTIATION, demo, WON, LOST)
        assert result.next_stage_id == 148

    @pytest.mark.parametrize(
        ("position", "names"),
        [
            (0, ["Demo", "Initial Contact", "Offer Made", "Negotiation"]),
            (1, ["Initial Contact", "Demo", "Offer Made", "Negotiation"]),
            (2, ["Initial Contact", "Offer Made", "Demo", "Negotiation"]),
            (3, ["Initial Contact", "Offer Made", "Negotiation", "Demo"]),
        ],
    )
    def test_inserts_at_the_position_among_open_stages(
        self, with_incoming: Pipeline, position: int, names: list[str]
    ) -> None:
        with unchanged(with_incoming):
            result = checked(add_stage(with_incoming, "Demo", position=position))
        assert open_names(result) == names
        assert result.stages[0] == INCOMING
        assert (result.won, result.lost) == (WON, LOST)

    def test_strips_the_name(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "  Demo\t"))
        assert result.open_stages[-1].name == "Demo"

    @pytest.mark.parametrize(
        ("color", "expected"),
        [
            ("#ABC", Color("#aabbcc")),
            (Color("#98cbff"), Color("#98cbff")),
            ("#123456", Color("#123456")),  # outside the palette
            ("#FFFEB2", P[0]),  # a colour another stage has already
        ],
    )
    def test_takes_the_colour_given(
        self, pipeline: Pipeline, color: Color | str, expected: Color
    ) -> None:
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo", color=color))
        assert result.open_stages[-1].color == expected

    def test_takes_the_first_unused_palette_colour(self) -> None:
        pipeline = coloured(P[0], P[2], P[3])
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo"))
        assert result.open_stages[-1].color == P[1]

    def test_ignores_colours_outside_the_palette_when_choosing(self) -> None:
        pipeline = coloured("#123456", "#c1c1c1", "#ccff66")
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo"))
        assert result.open_stages[-1].color == P[0]

    def test_takes_the_least_used_colour_when_all_are_in_use(self) -> None:
        # Every colour twice, except P[9] and P[5] once: P[5] is first among the least used.
        pipeline = coloured(*P, *(color for color in P if color not in (P[5], P[9])))
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo"))
        assert result.open_stages[-1].color == P[5]

    def test_least_used_colour_may_be_the_last_of_the_palette(self) -> None:
        pipeline = coloured(*P, *P[:-1], P[0])
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo"))
        assert result.open_stages[-1].color == P[20]

    def test_cycles_through_the_palette_in_order(self, pipeline: Pipeline) -> None:
        result = pipeline
        for number in range(25):
            with unchanged(result):
                result = checked(add_stage(result, f"Added {number}"))
        added = result.open_stages[3:]
        assert [stage.color for stage in added] == [P[i % 21] for i in range(3, 28)]

    def test_reuses_a_colour_freed_by_recolouring(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            recoloured = checked(recolor_stage(pipeline, INITIAL.id, "#123456"))
        with unchanged(recoloured):
            result = checked(add_stage(recoloured, "Demo"))
        assert result.open_stages[-1].color == P[0]

    def test_reuses_a_colour_freed_by_deleting(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            deleted = checked(delete_stage(pipeline, OFFER.id))
        with unchanged(deleted):
            result = checked(add_stage(deleted, "Demo"))
        assert result.open_stages[-1].color == P[1]

    def test_counts_colours_after_renames_and_moves(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            renamed = checked(rename_stage(pipeline, OFFER.id, "Offer"))
        with unchanged(renamed):
            edited = checked(move_stage(renamed, OFFER.id, 0))
        with unchanged(edited):
            result = checked(add_stage(edited, "Demo"))
        assert result.open_stages[-1].color == P[3]

    def test_counts_the_colour_of_the_incoming_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            switched_on = checked(enable_incoming(pipeline, color=P[3]))
        with unchanged(switched_on):
            assert checked(add_stage(switched_on, "Demo")).open_stages[-1].color == P[4]
            switched_off = checked(disable_incoming(switched_on))
        with unchanged(switched_off):
            result = checked(add_stage(switched_off, "Demo"))
        assert result.open_stages[-1].color == P[3]

    def test_takes_ids_from_the_counter(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            first = checked(add_stage(pipeline, "First"))
        with unchanged(first):
            second = checked(add_stage(first, "Second", position=0))
        assert [stage.id for stage in second.open_stages] == [148, 144, 145, 146, 147]
        assert second.next_stage_id == 149

    def test_takes_a_caller_given_id(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo", stage_id=58141803))
        assert result.open_stages[-1].id == 58141803

    def test_counter_moves_above_a_big_given_id(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            big = checked(add_stage(pipeline, "Big", stage_id=5000))
        assert big.next_stage_id == 5001
        with unchanged(big):
            after = checked(add_stage(big, "After"))
        assert after.open_stages[-1].id == 5001
        assert after.next_stage_id == 5002

    def test_counter_stays_when_the_given_id_is_below_it(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Small", stage_id=10))
        assert result.open_stages[-1].id == 10
        assert result.next_stage_id == 147

    def test_never_reuses_the_id_of_a_deleted_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            added = checked(add_stage(pipeline, "Demo"))
        with unchanged(added):
            deleted = checked(delete_stage(added, 147))
        with unchanged(deleted):
            result = checked(add_stage(deleted, "Again"))
        assert result.open_stages[-1].id == 148

    @pytest.mark.parametrize("stage_id", [142, 143, 144, 146])
    def test_rejects_an_id_the_pipeline_holds(self, pipeline: Pipeline, stage_id: int) -> None:
        match = f"already has a stage with id {stage_id}"
        with unchanged(pipeline), pytest.raises(DuplicateStageId, match=match) as info:
            add_stage(pipeline, "Demo", stage_id=stage_id)
        assert info.value.stage_id == stage_id

    def test_rejects_the_id_of_the_incoming_stage(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming), pytest.raises(DuplicateStageId, match="id 147"):
            add_stage(with_incoming, "Demo", stage_id=147)

    @pytest.mark.parametrize("stage_id", [0, -1])
    def test_rejects_a_non_positive_id(self, pipeline: Pipeline, stage_id: int) -> None:
        match = f"stage ids are positive integers, got {stage_id}"
        with unchanged(pipeline), pytest.raises(InvalidStageId, match=match) as info:
            add_stage(pipeline, "Demo", stage_id=stage_id)
        assert info.value.stage_id == stage_id

    @pytest.mark.parametrize("stage_id", [True, "147", 147.0])
    def test_id_of_a_wrong_type_is_a_type_error(self, pipeline: Pipeline, stage_id: object) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="stage id must be an int"):
            add_stage(pipeline, "Demo", stage_id=stage_id)  # type: ignore[arg-type]  # on purpose

    def test_accepts_the_hundredth_stage(self) -> None:
        pipeline = full(97)
        with unchanged(pipeline):
            result = checked(add_stage(pipeline, "Demo"))
        assert len(result.stages) == 100

    @pytest.mark.parametrize(
        "pipeline", [full(98), full(97, incoming=True)], ids=["without", "with incoming"]
    )
    def test_rejects_a_101st_stage(self, pipeline: Pipeline) -> None:
        match = "at most 100 stages, system stages included"
        with unchanged(pipeline), pytest.raises(StageLimitReached, match=match) as info:
            add_stage(pipeline, "Demo")
        assert info.value.limit == 100

    @pytest.mark.parametrize(
        ("name", "match"),
        [
            ("", "cannot be empty"),
            ("   ", "cannot be empty"),
            ("a" * 256, "at most 255 characters"),
            ("De\nmo", "control or line-break"),
            ("De\u2028mo", "control or line-break"),
        ],
    )
    def test_rejects_an_invalid_name(self, pipeline: Pipeline, name: str, match: str) -> None:
        with unchanged(pipeline), pytest.raises(InvalidName, match=match):
            add_stage(pipeline, name)

    @pytest.mark.parametrize(
        ("name", "existing"),
        [
            ("initial contact", INITIAL),
            (" OFFER MADE ", OFFER),
            ("\uff2e\uff45\uff47\uff4f\uff54\uff49\uff41\uff54\uff49\uff4f\uff4e", NEGOTIATION),
            ("closed - WON", WON),
            ("Closed - Lost", LOST),
        ],
    )
    def test_rejects_a_name_that_clashes(
        self, pipeline: Pipeline, name: str, existing: Stage
    ) -> None:
        match = f"clashes with stage {existing.id} named '{existing.name}'"
        with unchanged(pipeline), pytest.raises(DuplicateName, match=match) as info:
            add_stage(pipeline, name)
        assert info.value.name == name.strip()
        assert (info.value.existing_id, info.value.existing_name) == (existing.id, existing.name)

    def test_rejects_the_name_of_the_incoming_stage(self, with_incoming: Pipeline) -> None:
        with (
            unchanged(with_incoming),
            pytest.raises(DuplicateName, match="clashes with stage 147 named 'Incoming leads'"),
        ):
            add_stage(with_incoming, "INCOMING LEADS")

    @pytest.mark.parametrize("position", [-1, 4, 100])
    def test_rejects_a_position_outside_zero_to_open_count(
        self, with_incoming: Pipeline, position: int
    ) -> None:
        match = f"position {position} is out of range: .* goes from 0 to 3"
        with unchanged(with_incoming), pytest.raises(PositionOutOfRange, match=match) as info:
            add_stage(with_incoming, "Demo", position=position)
        assert (info.value.position, info.value.low, info.value.high) == (position, 0, 3)

    @pytest.mark.parametrize("position", [True, "1", 1.0])
    def test_position_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, position: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="position must be an int"):
            add_stage(pipeline, "Demo", position=position)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("color", ["red", "#ffff", "fffeb2"])
    def test_rejects_an_invalid_colour(self, pipeline: Pipeline, color: str) -> None:
        with unchanged(pipeline), pytest.raises(InvalidColor, match=f"invalid colour '{color}'"):
            add_stage(pipeline, "Demo", color=color)

    def test_colour_of_a_wrong_type_is_a_type_error(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match=COLOUR_TYPE_ERROR):
            add_stage(pipeline, "Demo", color=0xFFFEB2)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("name", [None, 5])
    def test_name_of_a_wrong_type_is_a_type_error(self, pipeline: Pipeline, name: object) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="name must be a str"):
            add_stage(pipeline, name)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            add_stage(value, "Demo")  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize(
        ("pipeline", "name", "options", "error"),
        [
            pytest.param(
                full(98),
                "",
                {"position": 99, "color": "red", "stage_id": 0},
                StageLimitReached,
                id="limit before name",
            ),
            pytest.param(
                default_pipeline(),
                "",
                {"position": 99, "color": "red", "stage_id": 0},
                InvalidName,
                id="name before position",
            ),
            pytest.param(
                default_pipeline(),
                "negotiation",
                {"position": 99, "color": "red", "stage_id": 0},
                DuplicateName,
                id="duplicate name before position",
            ),
            pytest.param(
                default_pipeline(),
                "Demo",
                {"position": 99, "color": "red", "stage_id": 0},
                PositionOutOfRange,
                id="position before colour",
            ),
            pytest.param(
                default_pipeline(),
                "Demo",
                {"color": "red", "stage_id": 0},
                InvalidColor,
                id="colour before id",
            ),
            pytest.param(
                default_pipeline(),
                "Demo",
                {"color": "red", "stage_id": 142},
                InvalidColor,
                id="colour before duplicate id",
            ),
        ],
    )
    def test_checks_in_the_documented_order(
        self,
        pipeline: Pipeline,
        name: str,
        options: dict[str, object],
        error: type[RuleViolation],
    ) -> None:
        with unchanged(pipeline), pytest.raises(error):
            add_stage(pipeline, name, **options)  # type: ignore[arg-type]  # a mixed bag


class TestRenameStage:
    def test_renames_an_open_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(rename_stage(pipeline, OFFER.id, "Proposal"))
        proposal = Stage(145, "Proposal", OFFER.color, OPEN)
        assert result.stages == (INITIAL, proposal, NEGOTIATION, WON, LOST)
        assert result.next_stage_id == pipeline.next_stage_id

    def test_strips_the_name(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(rename_stage(pipeline, OFFER.id, " Proposal\n"))
        assert result.stage(OFFER.id).name == "Proposal"

    @pytest.mark.parametrize("terminal", [WON, LOST], ids=["won", "lost"])
    def test_renames_won_and_lost(self, pipeline: Pipeline, terminal: Stage) -> None:
        with unchanged(pipeline):
            result = checked(rename_stage(pipeline, terminal.id, "Done"))
        done = Stage(terminal.id, "Done", terminal.color, terminal.kind)
        expected = (done, LOST) if terminal is WON else (WON, done)
        assert result.stages == (INITIAL, OFFER, NEGOTIATION, *expected)

    @pytest.mark.parametrize("name", ["Offer Made", "  Offer Made "])
    def test_rename_to_the_same_name_returns_an_equal_pipeline(
        self, pipeline: Pipeline, name: str
    ) -> None:
        with unchanged(pipeline):
            result = checked(rename_stage(pipeline, OFFER.id, name))
        assert result == pipeline

    @pytest.mark.parametrize("name", ["OFFER MADE", "offer made", "\uff2fffer Made"])
    def test_may_change_only_the_case_or_form_of_its_own_name(
        self, pipeline: Pipeline, name: str
    ) -> None:
        with unchanged(pipeline):
            result = checked(rename_stage(pipeline, OFFER.id, name))
        assert result.stage(OFFER.id).name == name

    def test_may_take_a_name_another_stage_has_given_up(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            renamed = checked(rename_stage(pipeline, OFFER.id, "Proposal"))
        with unchanged(renamed):
            result = checked(rename_stage(renamed, INITIAL.id, "offer made"))
        assert open_names(result) == ["offer made", "Proposal", "Negotiation"]

    @pytest.mark.parametrize(
        ("stage_id", "name", "existing"),
        [
            (OFFER.id, "initial contact", INITIAL),
            (OFFER.id, "Closed - WON", WON),
            (WON.id, "closed - lost", LOST),
            (LOST.id, "NEGOTIATION", NEGOTIATION),
        ],
    )
    def test_rejects_a_name_that_clashes_with_another_stage(
        self, pipeline: Pipeline, stage_id: int, name: str, existing: Stage
    ) -> None:
        match = f"the name '{name}' clashes with stage {existing.id} named '{existing.name}'"
        with unchanged(pipeline), pytest.raises(DuplicateName, match=match) as info:
            rename_stage(pipeline, stage_id, name)
        assert info.value.existing_id == existing.id

    def test_rejects_the_name_of_the_incoming_stage(self, with_incoming: Pipeline) -> None:
        with (
            unchanged(with_incoming),
            pytest.raises(DuplicateName, match="clashes with stage 147 named 'Incoming leads'"),
        ):
            rename_stage(with_incoming, OFFER.id, "incoming leads")

    def test_refuses_to_rename_the_incoming_stage(self, with_incoming: Pipeline) -> None:
        match = r"the incoming leads stage \(id 147\) cannot be renamed"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match) as info:
            rename_stage(with_incoming, INCOMING.id, "Inbox")
        error = info.value
        assert (error.stage_id, error.kind, error.action) == (147, StageKind.INCOMING, "renamed")

    @pytest.mark.parametrize("name", ["", "a" * 256, "Pro\tposal"])
    def test_rejects_an_invalid_name(self, pipeline: Pipeline, name: str) -> None:
        with unchanged(pipeline), pytest.raises(InvalidName, match="invalid name"):
            rename_stage(pipeline, OFFER.id, name)

    def test_rejects_an_unknown_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(UnknownStage, match="no stage has id 999"):
            rename_stage(pipeline, 999, "Proposal")

    def test_checks_the_stage_before_the_name(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming), pytest.raises(UnknownStage):
            rename_stage(with_incoming, 999, "")
        with unchanged(with_incoming), pytest.raises(StageLocked):
            rename_stage(with_incoming, INCOMING.id, "")

    @pytest.mark.parametrize("stage_id", ["145", True, 145.0])
    def test_stage_id_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, stage_id: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="stage id must be an int"):
            rename_stage(pipeline, stage_id, "Proposal")  # type: ignore[arg-type]  # on purpose

    def test_name_of_a_wrong_type_is_a_type_error(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="name must be a str"):
            rename_stage(pipeline, OFFER.id, None)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            rename_stage(value, 145, "Proposal")  # type: ignore[arg-type]  # on purpose


class TestRecolorStage:
    def test_recolours_an_open_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(recolor_stage(pipeline, OFFER.id, P[11]))
        recoloured = Stage(145, "Offer Made", P[11], OPEN)
        assert result.stages == (INITIAL, recoloured, NEGOTIATION, WON, LOST)
        assert result.next_stage_id == pipeline.next_stage_id

    @pytest.mark.parametrize(
        ("color", "expected"),
        [
            ("#9CF", Color("#99ccff")),
            ("#123456", Color("#123456")),
            (Color("#fffeb2"), P[0]),  # the colour of another stage
        ],
    )
    def test_takes_any_colour(
        self, pipeline: Pipeline, color: Color | str, expected: Color
    ) -> None:
        with unchanged(pipeline):
            result = checked(recolor_stage(pipeline, OFFER.id, color))
        assert result.stage(OFFER.id).color == expected

    @pytest.mark.parametrize("color", ["#fffd7f", "#FFFD7F", P[1]])
    def test_same_colour_returns_an_equal_pipeline(
        self, pipeline: Pipeline, color: Color | str
    ) -> None:
        with unchanged(pipeline):
            result = checked(recolor_stage(pipeline, OFFER.id, color))
        assert result == pipeline

    @pytest.mark.parametrize("locked", [INCOMING, WON, LOST], ids=["incoming", "won", "lost"])
    def test_refuses_to_recolour_a_system_stage(
        self, with_incoming: Pipeline, locked: Stage
    ) -> None:
        match = rf"the {locked.kind.label} stage \(id {locked.id}\) cannot be recoloured"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match) as info:
            recolor_stage(with_incoming, locked.id, P[5])
        assert (info.value.stage_id, info.value.kind) == (locked.id, locked.kind)

    @pytest.mark.parametrize("color", ["blue", "#ffff", ""])
    def test_rejects_an_invalid_colour(self, pipeline: Pipeline, color: str) -> None:
        with unchanged(pipeline), pytest.raises(InvalidColor, match="expected '#rrggbb'"):
            recolor_stage(pipeline, OFFER.id, color)

    def test_rejects_an_unknown_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(UnknownStage, match="no stage has id 999"):
            recolor_stage(pipeline, 999, P[5])

    def test_checks_the_stage_before_the_colour(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(UnknownStage):
            recolor_stage(pipeline, 999, "blue")
        with unchanged(pipeline), pytest.raises(StageLocked):
            recolor_stage(pipeline, WON.id, "blue")

    @pytest.mark.parametrize("color", [None, 0x98CBFF])
    def test_colour_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, color: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match=COLOUR_TYPE_ERROR):
            recolor_stage(pipeline, OFFER.id, color)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("stage_id", ["145", False])
    def test_stage_id_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, stage_id: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="stage id must be an int"):
            recolor_stage(pipeline, stage_id, P[5])  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            recolor_stage(value, 145, P[5])  # type: ignore[arg-type]  # on purpose


class TestMoveStage:
    def test_moves_stage_to_last_position(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(move_stage(pipeline, INITIAL.id, 2))
        assert result.stages == (OFFER, NEGOTIATION, INITIAL, WON, LOST)
        assert result.next_stage_id == pipeline.next_stage_id

    def test_moves_stage_to_first_position(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming):
            result = checked(move_stage(with_incoming, NEGOTIATION.id, 0))
        assert result.stages == (INCOMING, NEGOTIATION, INITIAL, OFFER, WON, LOST)

    @pytest.mark.parametrize("position", range(3))
    @pytest.mark.parametrize("moved", [INITIAL, OFFER, NEGOTIATION], ids=lambda s: s.name)
    def test_moves_any_open_stage_to_any_position(
        self, with_incoming: Pipeline, moved: Stage, position: int
    ) -> None:
        expected = [stage for stage in (INITIAL, OFFER, NEGOTIATION) if stage != moved]
        expected.insert(position, moved)
        with unchanged(with_incoming):
            result = checked(move_stage(with_incoming, moved.id, position))
        assert result.stages == (INCOMING, *expected, WON, LOST)

    def test_move_to_its_own_position_returns_an_equal_pipeline(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(move_stage(pipeline, OFFER.id, 1))
        assert result == pipeline

    def test_moves_the_only_open_stage_to_position_zero(self) -> None:
        pipeline = one_open(incoming=True)
        with unchanged(pipeline):
            result = checked(move_stage(pipeline, INITIAL.id, 0))
        assert result == pipeline

    @pytest.mark.parametrize("position", [-1, 3, 50])
    def test_rejects_a_position_outside_zero_to_open_count_minus_one(
        self, with_incoming: Pipeline, position: int
    ) -> None:
        match = f"position {position} is out of range: .* goes from 0 to 2"
        with unchanged(with_incoming), pytest.raises(PositionOutOfRange, match=match) as info:
            move_stage(with_incoming, OFFER.id, position)
        assert (info.value.position, info.value.low, info.value.high) == (position, 0, 2)

    def test_rejects_position_one_with_a_single_open_stage(self) -> None:
        pipeline = one_open()
        with unchanged(pipeline), pytest.raises(PositionOutOfRange, match="from 0 to 0"):
            move_stage(pipeline, INITIAL.id, 1)

    @pytest.mark.parametrize("locked", [INCOMING, WON, LOST], ids=["incoming", "won", "lost"])
    def test_refuses_to_move_a_system_stage(self, with_incoming: Pipeline, locked: Stage) -> None:
        match = rf"the {locked.kind.label} stage \(id {locked.id}\) cannot be moved"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match) as info:
            move_stage(with_incoming, locked.id, 1)
        assert info.value.action == "moved"

    def test_checks_the_stage_before_the_position(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(UnknownStage):
            move_stage(pipeline, 999, 99)
        with unchanged(pipeline), pytest.raises(StageLocked):
            move_stage(pipeline, LOST.id, 99)

    def test_rejects_an_unknown_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(UnknownStage, match="no stage has id 999"):
            move_stage(pipeline, 999, 0)

    @pytest.mark.parametrize("position", [True, "0", 0.0, None])
    def test_position_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, position: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="position must be an int"):
            move_stage(pipeline, OFFER.id, position)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("stage_id", ["145", True])
    def test_stage_id_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, stage_id: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="stage id must be an int"):
            move_stage(pipeline, stage_id, 0)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            move_stage(value, 145, 0)  # type: ignore[arg-type]  # on purpose


class TestDeleteStage:
    def test_deletes_an_open_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(delete_stage(pipeline, OFFER.id))
        assert result.stages == (INITIAL, NEGOTIATION, WON, LOST)

    def test_deletes_with_incoming_leads_on(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming):
            result = checked(delete_stage(with_incoming, INITIAL.id))
        assert result.stages == (INCOMING, OFFER, NEGOTIATION, WON, LOST)

    def test_keeps_the_counter(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            added = checked(add_stage(pipeline, "Demo"))
        with unchanged(added):
            result = checked(delete_stage(added, 147))
        assert result.next_stage_id == 148
        with unchanged(result):
            assert checked(add_stage(result, "Again")).open_stages[-1].id == 148

    def test_deletes_down_to_one_open_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            two_left = checked(delete_stage(pipeline, OFFER.id))
        with unchanged(two_left):
            result = checked(delete_stage(two_left, INITIAL.id))
        assert result.stages == (NEGOTIATION, WON, LOST)

    @pytest.mark.parametrize("incoming", [False, True], ids=["without", "with incoming"])
    def test_refuses_to_delete_the_last_open_stage(self, incoming: bool) -> None:
        pipeline = one_open(incoming=incoming)
        match = "stage 144 is the pipeline's last open stage and cannot be deleted"
        with unchanged(pipeline), pytest.raises(LastOpenStage, match=match) as info:
            delete_stage(pipeline, INITIAL.id)
        assert info.value.stage_id == 144

    @pytest.mark.parametrize("locked", [INCOMING, WON, LOST], ids=["incoming", "won", "lost"])
    def test_refuses_to_delete_a_system_stage(self, with_incoming: Pipeline, locked: Stage) -> None:
        match = rf"the {locked.kind.label} stage \(id {locked.id}\) cannot be deleted"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match) as info:
            delete_stage(with_incoming, locked.id)
        assert info.value.action == "deleted"

    def test_checks_the_kind_before_the_last_open_stage(self) -> None:
        pipeline = one_open()
        with unchanged(pipeline), pytest.raises(StageLocked):
            delete_stage(pipeline, WON.id)

    def test_rejects_an_unknown_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(UnknownStage, match="no stage has id 999"):
            delete_stage(pipeline, 999)

    def test_rejects_a_stage_already_deleted(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            deleted = checked(delete_stage(pipeline, OFFER.id))
        with unchanged(deleted), pytest.raises(UnknownStage, match="no stage has id 145"):
            delete_stage(deleted, OFFER.id)

    @pytest.mark.parametrize("stage_id", ["145", True, None])
    def test_stage_id_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, stage_id: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="stage id must be an int"):
            delete_stage(pipeline, stage_id)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            delete_stage(value, 145)  # type: ignore[arg-type]  # on purpose


class TestRenameTerminal:
    def test_renames_the_won_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(rename_terminal(pipeline, StageKind.WON, "Paid"))
        paid = Stage(142, "Paid", WON.color, StageKind.WON)
        assert result.stages == (INITIAL, OFFER, NEGOTIATION, paid, LOST)

    def test_renames_the_lost_stage(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(rename_terminal(pipeline, StageKind.LOST, " Gone "))
        gone = Stage(143, "Gone", LOST.color, StageKind.LOST)
        assert result.stages == (INITIAL, OFFER, NEGOTIATION, WON, gone)

    def test_finds_terminal_stages_whatever_their_ids(self) -> None:
        won = Stage(9, "Won", "#ccff66", StageKind.WON)
        lost = Stage(8, "Lost", "#d5d8db", StageKind.LOST)
        pipeline = Pipeline(id=1, name="Imported", stages=(INITIAL, won, lost))
        with unchanged(pipeline):
            result = checked(rename_terminal(pipeline, StageKind.LOST, "Dropped"))
            assert result == rename_stage(pipeline, 8, "Dropped")
        assert result.lost.name == "Dropped"

    @pytest.mark.parametrize(
        ("outcome", "name"), [(StageKind.WON, " Closed - won"), (StageKind.LOST, "Closed - lost")]
    )
    def test_rename_to_the_same_name_returns_an_equal_pipeline(
        self, pipeline: Pipeline, outcome: StageKind, name: str
    ) -> None:
        with unchanged(pipeline):
            result = checked(rename_terminal(pipeline, outcome, name))
        assert result == pipeline

    def test_may_change_only_the_case_of_its_own_name(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(rename_terminal(pipeline, StageKind.WON, "CLOSED - WON"))
        assert result.won.name == "CLOSED - WON"

    @pytest.mark.parametrize(
        ("outcome", "name", "existing"),
        [
            (StageKind.WON, "closed - lost", LOST),
            (StageKind.LOST, "Closed - Won", WON),
            (StageKind.WON, "initial contact", INITIAL),
        ],
    )
    def test_rejects_a_name_that_clashes(
        self, pipeline: Pipeline, outcome: StageKind, name: str, existing: Stage
    ) -> None:
        match = f"clashes with stage {existing.id} named '{existing.name}'"
        with unchanged(pipeline), pytest.raises(DuplicateName, match=match):
            rename_terminal(pipeline, outcome, name)

    @pytest.mark.parametrize("name", ["", "Pa\nid"])
    def test_rejects_an_invalid_name(self, pipeline: Pipeline, name: str) -> None:
        with unchanged(pipeline), pytest.raises(InvalidName, match="invalid name"):
            rename_terminal(pipeline, StageKind.WON, name)

    @pytest.mark.parametrize("outcome", [StageKind.OPEN, StageKind.INCOMING])
    def test_other_kinds_are_an_invalid_outcome(
        self, with_incoming: Pipeline, outcome: StageKind
    ) -> None:
        match = f"outcome is StageKind.WON or StageKind.LOST, got StageKind.{outcome.name}"
        with unchanged(with_incoming), pytest.raises(InvalidOutcome, match=match) as info:
            rename_terminal(with_incoming, outcome, "Paid")
        assert info.value.outcome is outcome

    @pytest.mark.parametrize("outcome", ["won", None, 142, True])
    def test_outcome_of_a_wrong_type_is_a_type_error(
        self, pipeline: Pipeline, outcome: object
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="outcome must be a StageKind"):
            rename_terminal(pipeline, outcome, "Paid")  # type: ignore[arg-type]  # on purpose

    def test_name_of_a_wrong_type_is_a_type_error(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match="name must be a str"):
            rename_terminal(pipeline, StageKind.LOST, 5)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            rename_terminal(value, StageKind.WON, "Paid")  # type: ignore[arg-type]  # on purpose


class TestEnableIncoming:
    def test_switches_incoming_leads_on_first(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(enable_incoming(pipeline))
        assert result.stages == (INCOMING, INITIAL, OFFER, NEGOTIATION, WON, LOST)
        assert result.next_stage_id == 148

    def test_takes_a_name_a_colour_and_an_id(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(enable_incoming(pipeline, name=" Inbox ", color="#ABC", stage_id=9000))
        assert result.incoming == Stage(9000, "Inbox", "#aabbcc", StageKind.INCOMING)
        assert result.next_stage_id == 9001

    def test_takes_a_colour_given_as_a_color(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(enable_incoming(pipeline, color=P[4]))
        assert result.incoming is not None
        assert result.incoming.color == P[4]

    def test_counter_stays_when_the_given_id_is_below_it(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(enable_incoming(pipeline, stage_id=5))
        assert result.stages[0].id == 5
        assert result.next_stage_id == 147

    def test_default_pipeline_with_incoming_is_equal(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(enable_incoming(pipeline))
        assert result == default_pipeline(incoming=True)

    def test_is_idempotent(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming):
            result = checked(enable_incoming(with_incoming))
        assert result == with_incoming

    def test_already_on_ignores_the_other_arguments(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming):
            result = checked(enable_incoming(with_incoming, name="", color="bad", stage_id=-1))
        assert result == with_incoming

    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"name": None}, "name must be a str"),
            ({"color": 5}, COLOUR_TYPE_ERROR),
            ({"stage_id": "147"}, "stage id must be an int"),
        ],
    )
    def test_already_on_still_rejects_arguments_of_a_wrong_type(
        self, with_incoming: Pipeline, options: dict[str, object], match: str
    ) -> None:
        with unchanged(with_incoming), pytest.raises(TypeError, match=match):
            enable_incoming(with_incoming, **options)  # type: ignore[arg-type]  # on purpose

    def test_accepts_the_hundredth_stage(self) -> None:
        pipeline = full(97)
        with unchanged(pipeline):
            result = checked(enable_incoming(pipeline))
        assert len(result.stages) == 100

    def test_rejects_a_101st_stage(self) -> None:
        pipeline = full(98)
        with (
            unchanged(pipeline),
            pytest.raises(StageLimitReached, match="at most 100 stages") as info,
        ):
            enable_incoming(pipeline)
        assert info.value.limit == 100

    def test_never_reuses_the_id_of_a_switched_off_stage(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming):
            switched_off = checked(disable_incoming(with_incoming))
        with unchanged(switched_off):
            result = checked(enable_incoming(switched_off))
        assert result.stages[0].id == 148
        assert result.next_stage_id == 149

    def test_rejects_a_name_that_clashes_with_an_open_stage(self) -> None:
        pipeline = Pipeline(
            id=1, name="x", stages=(Stage(1, "Incoming Leads", P[0], OPEN), WON, LOST)
        )
        with (
            unchanged(pipeline),
            pytest.raises(DuplicateName, match="clashes with stage 1 named 'Incoming Leads'"),
        ):
            enable_incoming(pipeline)

    def test_rejects_a_given_name_that_clashes(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(DuplicateName, match="stage 142"):
            enable_incoming(pipeline, name="CLOSED - WON")

    def test_rejects_an_invalid_name(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(InvalidName, match="cannot be empty"):
            enable_incoming(pipeline, name=" ")

    def test_rejects_an_invalid_colour(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(InvalidColor, match="invalid colour 'grey'"):
            enable_incoming(pipeline, color="grey")

    def test_rejects_a_non_positive_id(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline), pytest.raises(InvalidStageId, match="got 0"):
            enable_incoming(pipeline, stage_id=0)

    @pytest.mark.parametrize("stage_id", [142, 144])
    def test_rejects_an_id_the_pipeline_holds(self, pipeline: Pipeline, stage_id: int) -> None:
        match = f"already has a stage with id {stage_id}"
        with unchanged(pipeline), pytest.raises(DuplicateStageId, match=match):
            enable_incoming(pipeline, stage_id=stage_id)

    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"name": None}, "name must be a str"),
            ({"color": 5}, COLOUR_TYPE_ERROR),
            ({"stage_id": True}, "stage id must be an int"),
        ],
    )
    def test_arguments_of_a_wrong_type_are_a_type_error(
        self, pipeline: Pipeline, options: dict[str, object], match: str
    ) -> None:
        with unchanged(pipeline), pytest.raises(TypeError, match=match):
            enable_incoming(pipeline, **options)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            enable_incoming(value)  # type: ignore[arg-type]  # on purpose


class TestDisableIncoming:
    def test_switches_incoming_leads_off(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming):
            result = checked(disable_incoming(with_incoming))
        assert result.stages == (INITIAL, OFFER, NEGOTIATION, WON, LOST)
        assert result.incoming is None

    def test_keeps_the_counter(self, with_incoming: Pipeline) -> None:
        with unchanged(with_incoming):
            result = checked(disable_incoming(with_incoming))
        assert result.next_stage_id == 148
        assert result != default_pipeline()

    def test_is_idempotent(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            result = checked(disable_incoming(pipeline))
        assert result == pipeline

    def test_undoes_enable_incoming_but_for_the_counter(self, pipeline: Pipeline) -> None:
        with unchanged(pipeline):
            switched_on = checked(enable_incoming(pipeline))
        with unchanged(switched_on):
            result = checked(disable_incoming(switched_on))
        assert result.stages == pipeline.stages

    @pytest.mark.parametrize("value", NOT_PIPELINES)
    def test_non_pipeline_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="pipeline must be a Pipeline"):
            disable_incoming(value)  # type: ignore[arg-type]  # on purpose
