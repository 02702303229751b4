"""The pipeline commands through ``apply``: events, resulting workspace, every violation (W3, W6).

Every call to ``apply`` runs inside ``with unchanged(workspace):``, which fails the test
when the call changed its input; every workspace ``apply`` returns goes through
``checked``, which rebuilds it with the public constructor.
"""

from __future__ import annotations

from typing import Final

import pytest

from pipekit import (
    MAX_PIPELINES,
    AddStage,
    CreateLead,
    CreatePipeline,
    DeleteLead,
    DeletePipeline,
    DuplicateName,
    DuplicatePipelineId,
    InvalidId,
    InvalidName,
    LastPipeline,
    MainPipelineLocked,
    MainPipelineSet,
    MoveLead,
    MovePipeline,
    PipelineCreated,
    PipelineDeleted,
    PipelineLimitReached,
    PipelineMoved,
    PipelineNotEmpty,
    PipelineRenamed,
    PositionOutOfRange,
    RenamePipeline,
    SetMainPipeline,
    StageTotal,
    UnknownPipeline,
    WinLead,
    Workspace,
    apply,
    default_pipeline,
    new_workspace,
)
from tests.apply_helpers import (
    AT,
    LATER,
    apply_checked,
    assert_changes_nothing,
    run,
    unchanged,
)

INITIAL_ID: Final = 144
ADDED_STAGE_ID: Final = 147  # the id the first stage added to a default pipeline gets


def ids(workspace: Workspace) -> list[int]:
    return [pipeline.id for pipeline in workspace.pipelines]


@pytest.fixture
def workspace() -> Workspace:
    return new_workspace()


@pytest.fixture
def three() -> Workspace:
    """Pipelines 1 (main), 2 "Partners" and 3 "Resellers", all empty; revision 2."""
    return run(new_workspace(), CreatePipeline("Partners"), CreatePipeline("Resellers"))


class TestCreatePipeline:
    def test_appends_a_default_pipeline_last(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, CreatePipeline("Sales"), at=AT)
        sales = default_pipeline("Sales", pipeline_id=2)
        assert applied.events == (PipelineCreated(revision=1, at=AT, pipeline=sales),)
        result = applied.workspace
        assert result.pipelines == (default_pipeline(), sales)
        assert result.main_pipeline_id == 1
        assert result.next_pipeline_id == 3
        assert result.revision == 1
        assert result.stage_totals(2) == tuple(StageTotal(stage.id, 0, 0) for stage in sales.stages)

    def test_with_incoming_switches_the_incoming_stage_on(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, CreatePipeline("Sales", incoming=True))
        sales = default_pipeline("Sales", pipeline_id=2, incoming=True)
        assert applied.events == (PipelineCreated(revision=1, at=LATER, pipeline=sales),)
        assert applied.workspace.pipeline(2) == sales
        assert applied.workspace.pipeline(2).incoming is not None

    def test_strips_the_name(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, CreatePipeline("  Sales\t"))
        assert applied.workspace.pipeline(2).name == "Sales"

    def test_appends_after_a_reordering(self, three: Workspace) -> None:
        moved = run(three, MovePipeline(3, 0))
        applied = apply_checked(moved, CreatePipeline("Last"))
        assert ids(applied.workspace) == [3, 1, 2, 4]

    def test_takes_ids_from_the_counter(self, workspace: Workspace) -> None:
        result = run(workspace, CreatePipeline("A"), CreatePipeline("B"), CreatePipeline("C"))
        assert ids(result) == [1, 2, 3, 4]
        assert result.next_pipeline_id == 5

    def test_never_reuses_the_id_of_a_deleted_pipeline(self, three: Workspace) -> None:
        deleted = run(three, DeletePipeline(3))
        applied = apply_checked(deleted, CreatePipeline("Again"))
        assert applied.events == (
            PipelineCreated(
                revision=4, at=LATER, pipeline=default_pipeline("Again", pipeline_id=4)
            ),
        )

    def test_takes_a_given_id_and_moves_the_counter_above_it(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, CreatePipeline("Sales", pipeline_id=70))
        assert applied.events == (
            PipelineCreated(
                revision=1, at=LATER, pipeline=default_pipeline("Sales", pipeline_id=70)
            ),
        )
        assert applied.workspace.next_pipeline_id == 71
        after = apply_checked(applied.workspace, CreatePipeline("After"))
        assert ids(after.workspace) == [1, 70, 71]

    def test_keeps_the_counter_for_a_given_id_below_it(self, three: Workspace) -> None:
        big = run(three, CreatePipeline("Big", pipeline_id=40))
        applied = apply_checked(big, CreatePipeline("Small", pipeline_id=5))
        assert ids(applied.workspace) == [1, 2, 3, 40, 5]
        assert applied.workspace.next_pipeline_id == 41

    @pytest.mark.parametrize("pipeline_id", [1, 3])
    def test_rejects_an_id_in_use(self, three: Workspace, pipeline_id: int) -> None:
        match = f"the workspace already has a pipeline with id {pipeline_id}"
        with unchanged(three), pytest.raises(DuplicatePipelineId, match=match) as info:
            apply(three, CreatePipeline("Sales", pipeline_id=pipeline_id), at=LATER)
        assert info.value.value == pipeline_id

    @pytest.mark.parametrize("pipeline_id", [0, -2])
    def test_rejects_a_non_positive_id(self, workspace: Workspace, pipeline_id: int) -> None:
        match = f"pipeline ids are positive integers, got {pipeline_id}"
        with unchanged(workspace), pytest.raises(InvalidId, match=match):
            apply(workspace, CreatePipeline("Sales", pipeline_id=pipeline_id), at=LATER)

    @pytest.mark.parametrize(
        ("name", "existing_id", "existing_name"),
        [
            ("Pipeline", 1, "Pipeline"),
            ("PIPELINE", 1, "Pipeline"),
            (" partners ", 2, "Partners"),
            ("\uff32esellers", 3, "Resellers"),  # a full-width R: equal under NFKC
        ],
    )
    def test_rejects_a_name_that_clashes(
        self, three: Workspace, name: str, existing_id: int, existing_name: str
    ) -> None:
        match = f"clashes with pipeline {existing_id} named '{existing_name}'"
        with unchanged(three), pytest.raises(DuplicateName, match=match) as info:
            apply(three, CreatePipeline(name), at=LATER)
        assert (info.value.existing_id, info.value.what) == (existing_id, "pipeline")

    def test_allows_the_name_of_a_deleted_pipeline(self, three: Workspace) -> None:
        deleted = run(three, DeletePipeline(2))
        applied = apply_checked(deleted, CreatePipeline("partners"))
        assert applied.workspace.pipelines[-1].name == "partners"

    @pytest.mark.parametrize(
        ("name", "match"),
        [("", "cannot be empty"), ("a" * 256, "at most 255"), ("Sa\tles", "control")],
    )
    def test_rejects_an_invalid_name(self, workspace: Workspace, name: str, match: str) -> None:
        with unchanged(workspace), pytest.raises(InvalidName, match=match):
            apply(workspace, CreatePipeline(name), at=LATER)

    def test_allows_the_fiftieth_pipeline(self, workspace: Workspace) -> None:
        many = run(workspace, *(CreatePipeline(f"P{n}") for n in range(2, MAX_PIPELINES)))
        assert len(many.pipelines) == MAX_PIPELINES - 1
        applied = apply_checked(many, CreatePipeline("Fiftieth"))
        assert len(applied.workspace.pipelines) == MAX_PIPELINES == 50

    def test_rejects_a_51st_pipeline(self, workspace: Workspace) -> None:
        full = run(workspace, *(CreatePipeline(f"P{n}") for n in range(2, MAX_PIPELINES + 1)))
        assert len(full.pipelines) == 50
        with (
            unchanged(full),
            pytest.raises(PipelineLimitReached, match="at most 50 pipelines") as info,
        ):
            apply(full, CreatePipeline("One too many"), at=LATER)
        assert info.value.limit == 50

    @pytest.mark.parametrize(
        ("command", "match"),
        [
            (CreatePipeline(None), "name must be a str"),  # type: ignore[arg-type]
            (CreatePipeline("Sales", incoming=1), "incoming must be a bool"),  # type: ignore[arg-type]
            (CreatePipeline("Sales", pipeline_id="2"), "pipeline id must be an int"),  # type: ignore[arg-type]
        ],
    )
    def test_a_wrong_type_is_a_type_error(
        self, workspace: Workspace, command: CreatePipeline, match: str
    ) -> None:
        with unchanged(workspace), pytest.raises(TypeError, match=match):
            apply(workspace, command, at=LATER)


class TestRenamePipeline:
    def test_renames_a_pipeline(self, three: Workspace) -> None:
        filled = run(three, CreateLead("ACME", pipeline_id=2))
        applied = apply_checked(filled, RenamePipeline(2, " Channel "))
        assert applied.events == (
            PipelineRenamed(revision=4, at=LATER, pipeline_id=2, name="Channel"),
        )
        result = applied.workspace
        assert result.pipeline(2).name == "Channel"
        assert result.pipeline(2).stages == filled.pipeline(2).stages
        assert ids(result) == [1, 2, 3]
        assert dict(result.leads) == dict(filled.leads)
        assert result.stage_totals(2) == filled.stage_totals(2)

    def test_changes_only_the_case_of_its_own_name(self, three: Workspace) -> None:
        applied = apply_checked(three, RenamePipeline(2, "PARTNERS"))
        assert applied.events == (
            PipelineRenamed(revision=3, at=LATER, pipeline_id=2, name="PARTNERS"),
        )

    @pytest.mark.parametrize("name", ["Partners", " Partners "])
    def test_to_the_same_name_changes_nothing(self, three: Workspace, name: str) -> None:
        assert_changes_nothing(three, RenamePipeline(2, name))

    def test_rejects_a_name_another_pipeline_has(self, three: Workspace) -> None:
        match = "clashes with pipeline 3 named 'Resellers'"
        with unchanged(three), pytest.raises(DuplicateName, match=match):
            apply(three, RenamePipeline(2, "resellers"), at=LATER)

    def test_rejects_an_invalid_name(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(InvalidName, match="cannot be empty"):
            apply(three, RenamePipeline(2, "\t"), at=LATER)

    def test_rejects_an_unknown_pipeline(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(UnknownPipeline, match="no pipeline has id 4"):
            apply(three, RenamePipeline(4, "Channel"), at=LATER)

    def test_a_name_of_a_wrong_type_is_a_type_error(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(TypeError, match="name must be a str"):
            apply(three, RenamePipeline(2, b"Channel"), at=LATER)  # type: ignore[arg-type]


class TestMovePipeline:
    @pytest.mark.parametrize(
        ("pipeline_id", "position", "order"),
        [(3, 0, [3, 1, 2]), (1, 2, [2, 3, 1]), (2, 0, [2, 1, 3]), (1, 1, [2, 1, 3])],
    )
    def test_moves_a_pipeline_in_display_order(
        self, three: Workspace, pipeline_id: int, position: int, order: list[int]
    ) -> None:
        applied = apply_checked(three, MovePipeline(pipeline_id, position))
        assert applied.events == (
            PipelineMoved(revision=3, at=LATER, pipeline_id=pipeline_id, position=position),
        )
        assert ids(applied.workspace) == order
        assert applied.workspace.main_pipeline_id == 1

    def test_keeps_each_pipelines_leads(self, three: Workspace) -> None:
        filled = run(
            three,
            CreateLead("One", price=10),
            CreateLead("Two", price=20, pipeline_id=2),
            CreateLead("Three", price=30, pipeline_id=3),
        )
        applied = apply_checked(filled, MovePipeline(3, 0))
        result = applied.workspace
        assert dict(result.leads) == dict(filled.leads)
        for pipeline_id in (1, 2, 3):
            assert result.stage_totals(pipeline_id) == filled.stage_totals(pipeline_id)
            assert result.leads_in(pipeline_id, INITIAL_ID) == filled.leads_in(
                pipeline_id, INITIAL_ID
            )

    def test_to_its_own_position_changes_nothing(self, three: Workspace) -> None:
        assert_changes_nothing(three, MovePipeline(2, 1))

    @pytest.mark.parametrize("position", [-1, 3, 50])
    def test_rejects_a_position_out_of_range(self, three: Workspace, position: int) -> None:
        match = f"position {position} is out of range: .* goes from 0 to 2"
        with unchanged(three), pytest.raises(PositionOutOfRange, match=match) as info:
            apply(three, MovePipeline(2, position), at=LATER)
        assert (info.value.low, info.value.high) == (0, 2)

    def test_the_only_pipeline_has_only_position_zero(self, workspace: Workspace) -> None:
        assert_changes_nothing(workspace, MovePipeline(1, 0))
        with unchanged(workspace), pytest.raises(PositionOutOfRange, match="from 0 to 0"):
            apply(workspace, MovePipeline(1, 1), at=LATER)

    def test_rejects_an_unknown_pipeline(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(UnknownPipeline, match="no pipeline has id 9"):
            apply(three, MovePipeline(9, 0), at=LATER)

    def test_a_position_of_a_wrong_type_is_a_type_error(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(TypeError, match="position must be an int"):
            apply(three, MovePipeline(2, "0"), at=LATER)  # type: ignore[arg-type]


class TestSetMainPipeline:
    def test_makes_another_pipeline_the_main_one(self, three: Workspace) -> None:
        applied = apply_checked(three, SetMainPipeline(3))
        assert applied.events == (MainPipelineSet(revision=3, at=LATER, pipeline_id=3),)
        result = applied.workspace
        assert result.main_pipeline_id == 3
        assert result.main_pipeline == three.pipeline(3)
        assert result.pipelines == three.pipelines

    def test_sends_new_leads_to_the_new_main_pipeline(self, three: Workspace) -> None:
        switched = run(three, SetMainPipeline(2))
        applied = apply_checked(switched, CreateLead("ACME"))
        assert applied.workspace.lead(1).pipeline_id == 2

    def test_of_the_main_pipeline_changes_nothing(self, three: Workspace) -> None:
        assert_changes_nothing(three, SetMainPipeline(1))

    def test_rejects_an_unknown_pipeline(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(UnknownPipeline, match="no pipeline has id 4"):
            apply(three, SetMainPipeline(4), at=LATER)

    def test_an_id_of_a_wrong_type_is_a_type_error(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(TypeError, match="pipeline id must be an int"):
            apply(three, SetMainPipeline("2"), at=LATER)  # type: ignore[arg-type]


class TestDeletePipeline:
    def test_deletes_an_empty_pipeline(self, three: Workspace) -> None:
        filled = run(three, CreateLead("ACME"))
        applied = apply_checked(filled, DeletePipeline(2))
        assert applied.events == (PipelineDeleted(revision=4, at=LATER, pipeline_id=2),)
        result = applied.workspace
        assert result.pipelines == (three.pipeline(1), three.pipeline(3))
        assert result.main_pipeline_id == 1
        assert dict(result.leads) == dict(filled.leads)
        assert result.next_pipeline_id == 4
        with pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            result.pipeline(2)

    def test_deletes_a_pipeline_once_its_leads_are_gone(self, three: Workspace) -> None:
        emptied = run(
            three,
            CreateLead("Moved away", pipeline_id=2),
            CreateLead("Deleted", pipeline_id=2),
            MoveLead(1, INITIAL_ID, pipeline_id=3),
            DeleteLead(2),
        )
        applied = apply_checked(emptied, DeletePipeline(2))
        assert applied.events == (PipelineDeleted(revision=7, at=LATER, pipeline_id=2),)
        assert ids(applied.workspace) == [1, 3]

    def test_deletes_the_old_main_pipeline_once_another_is_main(self, three: Workspace) -> None:
        switched = run(three, SetMainPipeline(2))
        applied = apply_checked(switched, DeletePipeline(1))
        assert ids(applied.workspace) == [2, 3]
        assert applied.workspace.main_pipeline_id == 2

    def test_rejects_the_last_pipeline(self, workspace: Workspace) -> None:
        # The last pipeline is also the main one: LastPipeline is checked first.
        match = "pipeline 1 is the workspace's last pipeline and cannot be deleted"
        with unchanged(workspace), pytest.raises(LastPipeline, match=match) as info:
            apply(workspace, DeletePipeline(1), at=LATER)
        assert info.value.pipeline_id == 1

    def test_rejects_the_last_pipeline_before_its_leads(self, workspace: Workspace) -> None:
        # Last, main and not empty all hold: LastPipeline comes first.
        filled = run(workspace, CreateLead("ACME"))
        with unchanged(filled), pytest.raises(LastPipeline, match="last pipeline"):
            apply(filled, DeletePipeline(1), at=LATER)

    def test_rejects_the_last_pipeline_left_after_deletions(self, three: Workspace) -> None:
        alone = run(three, SetMainPipeline(3), DeletePipeline(1), DeletePipeline(2))
        with unchanged(alone), pytest.raises(LastPipeline, match="pipeline 3 is the workspace"):
            apply(alone, DeletePipeline(3), at=LATER)

    def test_rejects_the_main_pipeline(self, three: Workspace) -> None:
        match = "pipeline 1 is the main pipeline and cannot be deleted: set another main"
        with unchanged(three), pytest.raises(MainPipelineLocked, match=match) as info:
            apply(three, DeletePipeline(1), at=LATER)
        assert info.value.pipeline_id == 1

    def test_rejects_the_main_pipeline_before_its_leads(self, three: Workspace) -> None:
        # Main and not empty both hold: MainPipelineLocked comes first.
        filled = run(three, CreateLead("ACME"))
        with unchanged(filled), pytest.raises(MainPipelineLocked, match="main pipeline"):
            apply(filled, DeletePipeline(1), at=LATER)

    def test_rejects_a_pipeline_that_holds_leads(self, three: Workspace) -> None:
        filled = run(
            three,
            CreatePipeline("Inbound", incoming=True),
            CreateLead("Open", pipeline_id=4),
            CreateLead("Won", pipeline_id=4),
            WinLead(2),
            CreateLead("Waiting", pipeline_id=4, incoming=True),
            CreateLead("Elsewhere", pipeline_id=2),
        )
        match = r"pipeline 4 still holds 3 lead\(s\): move or delete them"
        with unchanged(filled), pytest.raises(PipelineNotEmpty, match=match) as info:
            apply(filled, DeletePipeline(4), at=LATER)
        assert (info.value.pipeline_id, info.value.lead_count) == (4, 3)

    def test_rejects_a_pipeline_whose_only_lead_is_closed(self, three: Workspace) -> None:
        filled = run(three, CreateLead("Won", pipeline_id=3), WinLead(1))
        with unchanged(filled), pytest.raises(PipelineNotEmpty, match=r"holds 1 lead\(s\)"):
            apply(filled, DeletePipeline(3), at=LATER)

    def test_rejects_an_unknown_pipeline(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(UnknownPipeline, match="no pipeline has id 4"):
            apply(three, DeletePipeline(4), at=LATER)

    def test_rejects_an_unknown_pipeline_even_when_alone(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, DeletePipeline(2), at=LATER)

    def test_an_id_of_a_wrong_type_is_a_type_error(self, three: Workspace) -> None:
        with unchanged(three), pytest.raises(TypeError, match="pipeline id must be an int"):
            apply(three, DeletePipeline(2.0), at=LATER)  # type: ignore[arg-type]

    def test_keeps_stage_ids_per_pipeline(self, three: Workspace) -> None:
        # Stage ids are keyed by pipeline (R9): deleting pipeline 2 leaves pipeline 3's alone.
        extended = run(three, AddStage(3, "Demo"))
        applied = apply_checked(extended, DeletePipeline(2))
        assert applied.workspace.pipeline(3).stage(ADDED_STAGE_ID).name == "Demo"
