"""The stage commands through ``apply``: events, resulting workspace, every violation (W1, W2, W4).

Every call to ``apply`` runs inside ``with unchanged(workspace):``, which fails the test
when the call changed its input; every workspace ``apply`` returns goes through
``checked``, which rebuilds it with the public constructor (W1, W5, W6).
"""

from __future__ import annotations

import attrs
import pytest

from pipekit import (
    KOMMO_PALETTE,
    AcceptLead,
    AddStage,
    Color,
    Command,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DeleteLead,
    DeleteStage,
    DisableIncoming,
    DuplicateName,
    DuplicateStageId,
    EnableIncoming,
    IncomingNotEmpty,
    IncomingStageDisabled,
    IncomingStageEnabled,
    InvalidColor,
    InvalidName,
    InvalidOutcome,
    InvalidStageId,
    InvalidTarget,
    LastOpenStage,
    LeadsRelocated,
    MoveLead,
    MoveStage,
    Pipeline,
    PositionOutOfRange,
    RecolorStage,
    RenameStage,
    RenameTerminal,
    RuleViolation,
    Stage,
    StageAdded,
    StageDeleted,
    StageKind,
    StageLimitReached,
    StageLocked,
    StageMoved,
    StageRecolored,
    StageRenamed,
    StageTotal,
    UnknownPipeline,
    UnknownStage,
    WinLead,
    Workspace,
    apply,
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

P = KOMMO_PALETTE
OPEN = StageKind.OPEN

# The stages of the default pipeline, and the incoming stage switched on in it.
INITIAL = Stage(144, "Initial Contact", P[0], OPEN)
OFFER = Stage(145, "Offer Made", P[1], OPEN)
NEGOTIATION = Stage(146, "Negotiation", P[2], OPEN)
WON = Stage(142, "Closed - won", "#ccff66", StageKind.WON)
LOST = Stage(143, "Closed - lost", "#d5d8db", StageKind.LOST)
INCOMING = Stage(147, "Incoming leads", "#c1c1c1", StageKind.INCOMING)


def full_workspace(open_count: int, *, incoming: bool = False) -> Workspace:
    """A workspace whose only pipeline has *open_count* open stages (ids 1, 2...)."""
    first = (INCOMING,) if incoming else ()
    stages = (Stage(i, f"Stage {i}", P[i % len(P)], OPEN) for i in range(1, open_count + 1))
    pipeline = Pipeline(id=1, name="Full", stages=(*first, *stages, WON, LOST))
    return Workspace(pipelines=(pipeline,), main_pipeline_id=1)


@pytest.fixture
def workspace() -> Workspace:
    return new_workspace()


@pytest.fixture
def with_incoming() -> Workspace:
    return new_workspace(incoming=True)


@pytest.fixture
def with_leads() -> Workspace:
    """Leads 1 and 2 in Offer Made, 3 in Initial Contact, 4 in Negotiation, 5 won; revision 6."""
    return run(
        new_workspace(),
        CreateLead("ACME", price=150_000, stage_id=OFFER.id),
        CreateLead("Globex", price=990, stage_id=OFFER.id),
        CreateLead("Initech", price=5),
        CreateLead("Umbrella", price=70, stage_id=NEGOTIATION.id),
        CreateLead("Hooli", price=1),
        WinLead(5),
    )


class TestAddStage:
    def test_appends_a_stage_after_the_last_open_stage(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, AddStage(1, "Demo"), at=AT)
        demo = Stage(147, "Demo", P[3], OPEN)
        assert applied.events == (
            StageAdded(revision=1, at=AT, pipeline_id=1, stage=demo, position=3),
        )
        result = applied.workspace.pipeline(1)
        assert result.stages == (INITIAL, OFFER, NEGOTIATION, demo, WON, LOST)
        assert result.next_stage_id == 148
        assert applied.workspace.revision == 1

    def test_inserts_at_a_position_among_the_open_stages(self, with_incoming: Workspace) -> None:
        applied = apply_checked(with_incoming, AddStage(1, "Demo", position=0))
        demo = Stage(148, "Demo", P[3], OPEN)
        assert applied.events == (
            StageAdded(revision=1, at=LATER, pipeline_id=1, stage=demo, position=0),
        )
        stages = applied.workspace.pipeline(1).stages
        assert stages == (INCOMING, demo, INITIAL, OFFER, NEGOTIATION, WON, LOST)

    def test_takes_a_given_id_and_colour_and_strips_the_name(self, workspace: Workspace) -> None:
        command = AddStage(1, "  Demo\t", position=1, color="#ABC", stage_id=5000)
        applied = apply_checked(workspace, command)
        demo = Stage(5000, "Demo", Color("#aabbcc"), OPEN)
        assert applied.events == (
            StageAdded(revision=1, at=LATER, pipeline_id=1, stage=demo, position=1),
        )
        assert applied.workspace.pipeline(1).open_stages == (INITIAL, demo, OFFER, NEGOTIATION)
        assert applied.workspace.pipeline(1).next_stage_id == 5001

    def test_takes_ids_from_each_pipelines_own_counter(self, workspace: Workspace) -> None:
        two = run(workspace, CreatePipeline("Partners"), AddStage(2, "Demo"))
        assert two.pipeline(2).open_stages[-1].id == 147
        applied = apply_checked(two, AddStage(1, "Demo"))
        assert applied.events == (
            StageAdded(
                revision=3,
                at=LATER,
                pipeline_id=1,
                stage=Stage(147, "Demo", P[3], OPEN),
                position=3,
            ),
        )
        # The same stage id in two pipelines: a stage is keyed by pipeline and stage id (R9).
        assert applied.workspace.pipeline(1).stage(147).name == "Demo"
        assert applied.workspace.pipeline(2).next_stage_id == 148

    def test_never_reuses_the_id_of_a_deleted_stage(self, workspace: Workspace) -> None:
        deleted = run(workspace, AddStage(1, "Demo"), DeleteStage(1, 147))
        applied = apply_checked(deleted, AddStage(1, "Again"))
        (event,) = applied.events
        assert isinstance(event, StageAdded)
        assert event.stage.id == 148

    def test_gives_the_new_stage_an_empty_column(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, AddStage(1, "Demo", position=0))
        assert applied.workspace.stage_totals(1) == (
            StageTotal(147, 0, 0),
            StageTotal(INITIAL.id, 1, 5),
            StageTotal(OFFER.id, 2, 150_990),
            StageTotal(NEGOTIATION.id, 1, 70),
            StageTotal(WON.id, 1, 1),
            StageTotal(LOST.id, 0, 0),
        )
        assert dict(applied.workspace.leads) == dict(with_leads.leads)

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 9"):
            apply(workspace, AddStage(9, "Demo"), at=AT)

    @pytest.mark.parametrize(
        ("name", "match"),
        [("", "cannot be empty"), ("a" * 256, "at most 255 characters"), ("De\nmo", "control")],
    )
    def test_rejects_an_invalid_name(self, workspace: Workspace, name: str, match: str) -> None:
        with unchanged(workspace), pytest.raises(InvalidName, match=match):
            apply(workspace, AddStage(1, name), at=AT)

    @pytest.mark.parametrize(("name", "existing"), [("offer made", OFFER), (" CLOSED - WON ", WON)])
    def test_rejects_a_name_that_clashes(
        self, workspace: Workspace, name: str, existing: Stage
    ) -> None:
        match = f"clashes with stage {existing.id} named '{existing.name}'"
        with unchanged(workspace), pytest.raises(DuplicateName, match=match):
            apply(workspace, AddStage(1, name), at=AT)

    def test_allows_a_name_another_pipeline_uses(self, workspace: Workspace) -> None:
        two = run(workspace, CreatePipeline("Partners"), AddStage(2, "Demo"))
        applied = apply_checked(two, AddStage(1, "Demo"))
        assert applied.workspace.pipeline(1).open_stages[-1].name == "Demo"

    @pytest.mark.parametrize("position", [-1, 4])
    def test_rejects_a_position_out_of_range(self, workspace: Workspace, position: int) -> None:
        match = f"position {position} is out of range: .* goes from 0 to 3"
        with unchanged(workspace), pytest.raises(PositionOutOfRange, match=match):
            apply(workspace, AddStage(1, "Demo", position=position), at=AT)

    def test_rejects_an_invalid_colour(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(InvalidColor, match="invalid colour '#12'"):
            apply(workspace, AddStage(1, "Demo", color="#12"), at=AT)

    @pytest.mark.parametrize("stage_id", [0, -3])
    def test_rejects_a_non_positive_id(self, workspace: Workspace, stage_id: int) -> None:
        match = f"stage ids are positive integers, got {stage_id}"
        with unchanged(workspace), pytest.raises(InvalidStageId, match=match):
            apply(workspace, AddStage(1, "Demo", stage_id=stage_id), at=AT)

    @pytest.mark.parametrize("stage_id", [142, 143, 144])
    def test_rejects_an_id_the_pipeline_holds(self, workspace: Workspace, stage_id: int) -> None:
        match = f"already has a stage with id {stage_id}"
        with unchanged(workspace), pytest.raises(DuplicateStageId, match=match):
            apply(workspace, AddStage(1, "Demo", stage_id=stage_id), at=AT)

    def test_accepts_the_hundredth_stage(self) -> None:
        workspace = full_workspace(97)
        applied = apply_checked(workspace, AddStage(1, "Demo"))
        assert len(applied.workspace.pipeline(1).stages) == 100

    def test_rejects_a_101st_stage(self) -> None:
        workspace = full_workspace(97, incoming=True)
        match = "at most 100 stages, system stages included"
        with unchanged(workspace), pytest.raises(StageLimitReached, match=match):
            apply(workspace, AddStage(1, "Demo"), at=AT)

    @pytest.mark.parametrize(
        ("command", "match"),
        [
            (AddStage("1", "Demo"), "pipeline id must be an int"),  # type: ignore[arg-type]
            (AddStage(1, None), "name must be a str"),  # type: ignore[arg-type]
            (AddStage(1, "Demo", position="1"), "position must be an int"),  # type: ignore[arg-type]
            (AddStage(1, "Demo", color=1), "colour must be a Color or a str"),  # type: ignore[arg-type]
            (AddStage(1, "Demo", stage_id=1.0), "stage id must be an int"),  # type: ignore[arg-type]
        ],
    )
    def test_a_wrong_type_is_a_type_error(
        self, workspace: Workspace, command: AddStage, match: str
    ) -> None:
        with unchanged(workspace), pytest.raises(TypeError, match=match):
            apply(workspace, command, at=AT)


class TestRenameStage:
    def test_renames_an_open_stage(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, RenameStage(1, OFFER.id, " Proposal "))
        assert applied.events == (
            StageRenamed(revision=7, at=LATER, pipeline_id=1, stage_id=OFFER.id, name="Proposal"),
        )
        pipeline = applied.workspace.pipeline(1)
        assert pipeline.stages == (
            INITIAL,
            attrs.evolve(OFFER, name="Proposal"),
            NEGOTIATION,
            WON,
            LOST,
        )
        assert applied.workspace.revision == 7
        assert applied.workspace.leads_in(1, OFFER.id) == with_leads.leads_in(1, OFFER.id)

    @pytest.mark.parametrize("stage", [WON, LOST])
    def test_renames_a_terminal_stage(self, workspace: Workspace, stage: Stage) -> None:
        applied = apply_checked(workspace, RenameStage(1, stage.id, "Done"))
        assert applied.events == (
            StageRenamed(revision=1, at=LATER, pipeline_id=1, stage_id=stage.id, name="Done"),
        )
        assert applied.workspace.pipeline(1).stage(stage.id) == attrs.evolve(stage, name="Done")

    def test_changes_only_the_case_of_its_own_name(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, RenameStage(1, OFFER.id, "OFFER MADE"))
        assert applied.events == (
            StageRenamed(revision=1, at=LATER, pipeline_id=1, stage_id=OFFER.id, name="OFFER MADE"),
        )

    @pytest.mark.parametrize("name", ["Offer Made", "  Offer Made\t"])
    def test_to_the_same_name_changes_nothing(self, workspace: Workspace, name: str) -> None:
        assert_changes_nothing(workspace, RenameStage(1, OFFER.id, name))

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, RenameStage(2, OFFER.id, "Proposal"), at=AT)

    def test_rejects_an_unknown_stage(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownStage, match="no stage has id 999"):
            apply(workspace, RenameStage(1, 999, "Proposal"), at=AT)

    def test_rejects_the_incoming_stage(self, with_incoming: Workspace) -> None:
        match = r"the incoming leads stage \(id 147\) cannot be renamed"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match):
            apply(with_incoming, RenameStage(1, INCOMING.id, "Inbox"), at=AT)

    def test_rejects_a_name_that_clashes(self, workspace: Workspace) -> None:
        match = "clashes with stage 146 named 'Negotiation'"
        with unchanged(workspace), pytest.raises(DuplicateName, match=match):
            apply(workspace, RenameStage(1, OFFER.id, "NEGOTIATION"), at=AT)

    def test_rejects_an_invalid_name(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(InvalidName, match="cannot be empty"):
            apply(workspace, RenameStage(1, OFFER.id, " "), at=AT)

    def test_a_name_of_a_wrong_type_is_a_type_error(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(TypeError, match="name must be a str"):
            apply(workspace, RenameStage(1, OFFER.id, 7), at=AT)  # type: ignore[arg-type]


class TestRecolorStage:
    def test_recolours_an_open_stage(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, RecolorStage(1, OFFER.id, "#ABC"))
        assert applied.events == (
            StageRecolored(
                revision=7, at=LATER, pipeline_id=1, stage_id=OFFER.id, color=Color("#aabbcc")
            ),
        )
        assert applied.workspace.pipeline(1).stage(OFFER.id) == attrs.evolve(
            OFFER, color=Color("#aabbcc")
        )
        assert applied.workspace.revision == 7
        assert dict(applied.workspace.leads) == dict(with_leads.leads)

    def test_to_the_same_colour_changes_nothing(self, workspace: Workspace) -> None:
        assert_changes_nothing(workspace, RecolorStage(1, OFFER.id, "#FFFD7F"))

    @pytest.mark.parametrize("stage", [WON, LOST, INCOMING], ids=["won", "lost", "incoming"])
    def test_rejects_a_system_stage(self, with_incoming: Workspace, stage: Stage) -> None:
        match = rf"the {stage.kind.label} stage \(id {stage.id}\) cannot be recoloured"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match):
            apply(with_incoming, RecolorStage(1, stage.id, "#abcdef"), at=AT)

    def test_rejects_an_invalid_colour(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(InvalidColor, match="invalid colour 'red'"):
            apply(workspace, RecolorStage(1, OFFER.id, "red"), at=AT)

    def test_rejects_an_unknown_stage(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownStage, match="no stage has id 999"):
            apply(workspace, RecolorStage(1, 999, "#abcdef"), at=AT)

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, RecolorStage(2, OFFER.id, "#abcdef"), at=AT)

    def test_a_colour_of_a_wrong_type_is_a_type_error(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(TypeError, match="colour must be a Color"):
            apply(workspace, RecolorStage(1, OFFER.id, 0xABCDEF), at=AT)  # type: ignore[arg-type]


class TestMoveStage:
    def test_moves_an_open_stage_and_its_column(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, MoveStage(1, INITIAL.id, 2))
        assert applied.events == (
            StageMoved(revision=7, at=LATER, pipeline_id=1, stage_id=INITIAL.id, position=2),
        )
        result = applied.workspace
        assert result.pipeline(1).stages == (OFFER, NEGOTIATION, INITIAL, WON, LOST)
        assert result.stage_totals(1) == (
            StageTotal(OFFER.id, 2, 150_990),
            StageTotal(NEGOTIATION.id, 1, 70),
            StageTotal(INITIAL.id, 1, 5),
            StageTotal(WON.id, 1, 1),
            StageTotal(LOST.id, 0, 0),
        )
        assert dict(result.leads) == dict(with_leads.leads)

    def test_counts_positions_among_the_open_stages(self, with_incoming: Workspace) -> None:
        applied = apply_checked(with_incoming, MoveStage(1, NEGOTIATION.id, 0))
        assert applied.events == (
            StageMoved(revision=1, at=LATER, pipeline_id=1, stage_id=NEGOTIATION.id, position=0),
        )
        stages = applied.workspace.pipeline(1).stages
        assert stages == (INCOMING, NEGOTIATION, INITIAL, OFFER, WON, LOST)

    def test_to_its_own_position_changes_nothing(self, workspace: Workspace) -> None:
        assert_changes_nothing(workspace, MoveStage(1, OFFER.id, 1))

    @pytest.mark.parametrize("position", [-1, 3])
    def test_rejects_a_position_out_of_range(self, workspace: Workspace, position: int) -> None:
        match = f"position {position} is out of range: .* goes from 0 to 2"
        with unchanged(workspace), pytest.raises(PositionOutOfRange, match=match):
            apply(workspace, MoveStage(1, OFFER.id, position), at=AT)

    @pytest.mark.parametrize("stage", [WON, LOST, INCOMING], ids=["won", "lost", "incoming"])
    def test_rejects_a_system_stage(self, with_incoming: Workspace, stage: Stage) -> None:
        match = rf"the {stage.kind.label} stage \(id {stage.id}\) cannot be moved"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match):
            apply(with_incoming, MoveStage(1, stage.id, 0), at=AT)

    def test_rejects_an_unknown_stage(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownStage, match="no stage has id 999"):
            apply(workspace, MoveStage(1, 999, 0), at=AT)

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, MoveStage(2, OFFER.id, 0), at=AT)

    def test_a_position_of_a_wrong_type_is_a_type_error(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(TypeError, match="position must be an int"):
            apply(workspace, MoveStage(1, OFFER.id, "0"), at=AT)  # type: ignore[arg-type]


class TestDeleteStage:
    def test_deletes_an_empty_stage_without_relocating(self, with_leads: Workspace) -> None:
        emptied = run(with_leads, MoveLead(4, OFFER.id))
        applied = apply_checked(emptied, DeleteStage(1, NEGOTIATION.id))
        assert applied.events == (
            StageDeleted(revision=8, at=LATER, pipeline_id=1, stage_id=NEGOTIATION.id),
        )
        assert applied.workspace.pipeline(1).stages == (INITIAL, OFFER, WON, LOST)
        assert dict(applied.workspace.leads) == dict(emptied.leads)
        assert applied.workspace.revision == 8

    def test_moves_leads_to_the_first_open_stage_that_remains(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, DeleteStage(1, INITIAL.id))
        assert applied.events == (
            LeadsRelocated(
                revision=7,
                at=LATER,
                pipeline_id=1,
                from_stage_id=INITIAL.id,
                to_stage_id=OFFER.id,
                lead_ids=(3,),
            ),
            StageDeleted(revision=7, at=LATER, pipeline_id=1, stage_id=INITIAL.id),
        )
        result = applied.workspace
        assert result.pipeline(1).stages == (OFFER, NEGOTIATION, WON, LOST)
        moved = attrs.evolve(with_leads.lead(3), stage_id=OFFER.id, stage_entered_at=LATER)
        assert result.lead(3) == moved
        assert result.leads_in(1, OFFER.id) == (with_leads.lead(1), with_leads.lead(2), moved)
        assert result.stage_totals(1)[0] == StageTotal(OFFER.id, 3, 150_995)
        assert result.revision == 7

    def test_moves_leads_to_the_first_open_stage_by_default(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, DeleteStage(1, OFFER.id))
        assert applied.events == (
            LeadsRelocated(
                revision=7,
                at=LATER,
                pipeline_id=1,
                from_stage_id=OFFER.id,
                to_stage_id=INITIAL.id,
                lead_ids=(1, 2),
            ),
            StageDeleted(revision=7, at=LATER, pipeline_id=1, stage_id=OFFER.id),
        )
        result = applied.workspace
        assert result.leads_in(1, INITIAL.id) == (
            attrs.evolve(with_leads.lead(1), stage_id=INITIAL.id, stage_entered_at=LATER),
            attrs.evolve(with_leads.lead(2), stage_id=INITIAL.id, stage_entered_at=LATER),
            with_leads.lead(3),
        )

    def test_moves_leads_to_the_first_open_stage_after_a_reorder(
        self, with_leads: Workspace
    ) -> None:
        reordered = run(with_leads, MoveStage(1, NEGOTIATION.id, 0))
        applied = apply_checked(reordered, DeleteStage(1, OFFER.id))
        relocated = applied.events[0]
        assert isinstance(relocated, LeadsRelocated)
        assert relocated.to_stage_id == NEGOTIATION.id

    def test_never_sends_leads_to_the_incoming_stage(self, with_incoming: Workspace) -> None:
        workspace = run(with_incoming, CreateLead("ACME"), CreateLead("Waiting", incoming=True))
        applied = apply_checked(workspace, DeleteStage(1, INITIAL.id))
        assert applied.events == (
            LeadsRelocated(
                revision=3,
                at=LATER,
                pipeline_id=1,
                from_stage_id=INITIAL.id,
                to_stage_id=OFFER.id,
                lead_ids=(1,),
            ),
            StageDeleted(revision=3, at=LATER, pipeline_id=1, stage_id=INITIAL.id),
        )
        assert applied.workspace.lead(2) == workspace.lead(2)

    def test_moves_leads_to_the_stage_given(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, DeleteStage(1, OFFER.id, move_leads_to=NEGOTIATION.id))
        assert applied.events == (
            LeadsRelocated(
                revision=7,
                at=LATER,
                pipeline_id=1,
                from_stage_id=OFFER.id,
                to_stage_id=NEGOTIATION.id,
                lead_ids=(1, 2),
            ),
            StageDeleted(revision=7, at=LATER, pipeline_id=1, stage_id=OFFER.id),
        )
        result = applied.workspace
        assert result.leads_in(1, NEGOTIATION.id) == (
            attrs.evolve(with_leads.lead(1), stage_id=NEGOTIATION.id, stage_entered_at=LATER),
            attrs.evolve(with_leads.lead(2), stage_id=NEGOTIATION.id, stage_entered_at=LATER),
            with_leads.lead(4),
        )
        assert result.stage_totals(1) == (
            StageTotal(INITIAL.id, 1, 5),
            StageTotal(NEGOTIATION.id, 3, 151_060),
            StageTotal(WON.id, 1, 1),
            StageTotal(LOST.id, 0, 0),
        )

    def test_lists_exactly_the_leads_that_moved_by_id(self, workspace: Workspace) -> None:
        filled = run(
            workspace,
            CreateLead("Thirty", stage_id=OFFER.id, lead_id=30),
            CreateLead("Elsewhere", stage_id=NEGOTIATION.id, lead_id=20),
            CreateLead("Seven", stage_id=OFFER.id, lead_id=7),
            CreateLead("Twelve", stage_id=OFFER.id, lead_id=12),
            CreateLead("First", lead_id=1),
        )
        applied = apply_checked(filled, DeleteStage(1, OFFER.id))
        relocated = applied.events[0]
        assert isinstance(relocated, LeadsRelocated)
        assert relocated.lead_ids == (7, 12, 30)
        result = applied.workspace
        for lead_id in (1, 20):
            assert result.lead(lead_id) == filled.lead(lead_id)
        for lead_id in (7, 12, 30):
            assert result.lead(lead_id).stage_entered_at == LATER
        assert set(result.leads) == set(filled.leads)

    def test_in_another_pipeline_touches_only_its_leads(self, with_leads: Workspace) -> None:
        two = run(
            with_leads, CreatePipeline("Partners"), CreateLead("Other", pipeline_id=2, lead_id=50)
        )
        applied = apply_checked(two, DeleteStage(2, INITIAL.id))
        assert applied.events == (
            LeadsRelocated(
                revision=9,
                at=LATER,
                pipeline_id=2,
                from_stage_id=INITIAL.id,
                to_stage_id=OFFER.id,
                lead_ids=(50,),
            ),
            StageDeleted(revision=9, at=LATER, pipeline_id=2, stage_id=INITIAL.id),
        )
        assert applied.workspace.pipeline(1) == two.pipeline(1)
        assert applied.workspace.lead(3) == two.lead(3)
        assert applied.workspace.lead(50).pipeline_id == 2

    def test_with_a_target_but_no_leads_relocates_nothing(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, DeleteStage(1, OFFER.id, move_leads_to=INITIAL.id))
        assert applied.events == (
            StageDeleted(revision=1, at=LATER, pipeline_id=1, stage_id=OFFER.id),
        )

    def test_rejects_moving_the_leads_to_the_deleted_stage(self, with_leads: Workspace) -> None:
        match = "invalid target in pipeline 1: the leads cannot stay in the deleted stage"
        with unchanged(with_leads), pytest.raises(InvalidTarget, match=match) as info:
            apply(with_leads, DeleteStage(1, OFFER.id, move_leads_to=OFFER.id), at=LATER)
        assert (info.value.pipeline_id, info.value.stage_id) == (1, OFFER.id)

    @pytest.mark.parametrize("target", [WON, LOST, INCOMING], ids=["won", "lost", "incoming"])
    def test_rejects_moving_the_leads_to_a_system_stage(
        self, with_incoming: Workspace, target: Stage
    ) -> None:
        workspace = run(with_incoming, CreateLead("ACME", stage_id=OFFER.id))
        match = f"go to an open stage, not the {target.kind.label} stage"
        with unchanged(workspace), pytest.raises(InvalidTarget, match=match) as info:
            apply(workspace, DeleteStage(1, OFFER.id, move_leads_to=target.id), at=LATER)
        assert info.value.stage_id == target.id

    @pytest.mark.parametrize("target", [OFFER.id, WON.id, LOST.id])
    def test_rejects_a_bad_target_even_for_an_empty_stage(
        self, workspace: Workspace, target: int
    ) -> None:
        with unchanged(workspace), pytest.raises(InvalidTarget, match="invalid target"):
            apply(workspace, DeleteStage(1, OFFER.id, move_leads_to=target), at=LATER)

    def test_rejects_an_unknown_target(self, with_leads: Workspace) -> None:
        with unchanged(with_leads), pytest.raises(UnknownStage, match="no stage has id 999"):
            apply(with_leads, DeleteStage(1, OFFER.id, move_leads_to=999), at=LATER)

    def test_rejects_a_target_that_only_another_pipeline_has(self, with_leads: Workspace) -> None:
        two = run(with_leads, CreatePipeline("Partners"), AddStage(2, "Demo", stage_id=500))
        with unchanged(two), pytest.raises(UnknownStage, match="no stage has id 500"):
            apply(two, DeleteStage(1, OFFER.id, move_leads_to=500), at=LATER)

    def test_rejects_an_unknown_stage(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownStage, match="no stage has id 999"):
            apply(workspace, DeleteStage(1, 999), at=LATER)

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, DeleteStage(2, OFFER.id), at=LATER)

    @pytest.mark.parametrize("stage", [WON, LOST, INCOMING], ids=["won", "lost", "incoming"])
    def test_rejects_a_system_stage(self, with_incoming: Workspace, stage: Stage) -> None:
        match = rf"the {stage.kind.label} stage \(id {stage.id}\) cannot be deleted"
        with unchanged(with_incoming), pytest.raises(StageLocked, match=match):
            apply(with_incoming, DeleteStage(1, stage.id), at=LATER)

    def test_rejects_the_last_open_stage(self, with_leads: Workspace) -> None:
        lean = run(with_leads, DeleteStage(1, INITIAL.id), DeleteStage(1, OFFER.id))
        assert len(lean.leads_in(1, NEGOTIATION.id)) == 4
        with unchanged(lean), pytest.raises(LastOpenStage, match="last open stage"):
            apply(lean, DeleteStage(1, NEGOTIATION.id), at=LATER)

    @pytest.mark.parametrize("target", ["145", 145.0, True])
    def test_a_target_of_a_wrong_type_is_a_type_error(
        self, with_leads: Workspace, target: object
    ) -> None:
        command = DeleteStage(1, INITIAL.id, move_leads_to=target)  # type: ignore[arg-type]
        with unchanged(with_leads), pytest.raises(TypeError, match="must be an int"):
            apply(with_leads, command, at=LATER)


class TestRenameTerminal:
    @pytest.mark.parametrize(("outcome", "stage"), [(StageKind.WON, WON), (StageKind.LOST, LOST)])
    def test_renames_the_won_or_lost_stage(
        self, workspace: Workspace, outcome: StageKind, stage: Stage
    ) -> None:
        applied = apply_checked(workspace, RenameTerminal(1, outcome, " Done "))
        assert applied.events == (
            StageRenamed(revision=1, at=LATER, pipeline_id=1, stage_id=stage.id, name="Done"),
        )
        assert applied.workspace.pipeline(1).stage(stage.id) == attrs.evolve(stage, name="Done")

    def test_renames_the_terminal_of_the_pipeline_named(self, workspace: Workspace) -> None:
        two = run(workspace, CreatePipeline("Partners"))
        applied = apply_checked(two, RenameTerminal(2, StageKind.WON, "Signed"))
        assert applied.events == (
            StageRenamed(revision=2, at=LATER, pipeline_id=2, stage_id=WON.id, name="Signed"),
        )
        assert applied.workspace.pipeline(1) == two.pipeline(1)

    def test_to_the_same_name_changes_nothing(self, workspace: Workspace) -> None:
        assert_changes_nothing(workspace, RenameTerminal(1, StageKind.LOST, "Closed - lost"))

    def test_rejects_a_name_that_clashes(self, workspace: Workspace) -> None:
        match = "clashes with stage 143 named 'Closed - lost'"
        with unchanged(workspace), pytest.raises(DuplicateName, match=match):
            apply(workspace, RenameTerminal(1, StageKind.WON, "closed - LOST"), at=LATER)

    def test_rejects_an_invalid_name(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(InvalidName, match="control"):
            apply(workspace, RenameTerminal(1, StageKind.WON, "W\x00n"), at=LATER)

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, RenameTerminal(2, StageKind.WON, "Signed"), at=LATER)

    @pytest.mark.parametrize("outcome", [StageKind.OPEN, StageKind.INCOMING])
    def test_another_outcome_cannot_be_built(self, outcome: StageKind) -> None:
        with pytest.raises(
            InvalidOutcome, match=r"^an outcome is StageKind\.WON or StageKind\.LOST"
        ) as info:
            RenameTerminal(1, outcome, "Done")
        assert info.value.outcome is outcome
        assert isinstance(info.value, RuleViolation)

    def test_an_outcome_of_a_wrong_type_is_a_type_error(self, workspace: Workspace) -> None:
        command = RenameTerminal(1, "won", "Done")  # type: ignore[arg-type]
        with unchanged(workspace), pytest.raises(TypeError, match="outcome must be a StageKind"):
            apply(workspace, command, at=LATER)


class TestEnableIncoming:
    def test_switches_the_incoming_stage_on_first(self, with_leads: Workspace) -> None:
        applied = apply_checked(with_leads, EnableIncoming(1))
        assert applied.events == (
            IncomingStageEnabled(revision=7, at=LATER, pipeline_id=1, stage=INCOMING),
        )
        result = applied.workspace
        assert result.pipeline(1).stages == (INCOMING, INITIAL, OFFER, NEGOTIATION, WON, LOST)
        assert result.pipeline(1).next_stage_id == 148
        assert result.stage_totals(1)[0] == StageTotal(INCOMING.id, 0, 0)
        assert dict(result.leads) == dict(with_leads.leads)

    def test_takes_a_name_and_a_colour(self, workspace: Workspace) -> None:
        applied = apply_checked(workspace, EnableIncoming(1, name=" Inbox ", color="#ABC"))
        inbox = Stage(147, "Inbox", "#aabbcc", StageKind.INCOMING)
        assert applied.events == (
            IncomingStageEnabled(revision=1, at=LATER, pipeline_id=1, stage=inbox),
        )
        assert applied.workspace.pipeline(1).incoming == inbox

    def test_lets_leads_be_created_there(self, workspace: Workspace) -> None:
        enabled = run(workspace, EnableIncoming(1))
        applied = apply_checked(enabled, CreateLead("Waiting", incoming=True))
        assert applied.workspace.lead(1).stage_id == INCOMING.id

    def test_when_on_already_changes_nothing(self, with_incoming: Workspace) -> None:
        assert_changes_nothing(with_incoming, EnableIncoming(1, name="Other", color="#123456"))

    def test_never_reuses_the_id_of_a_disabled_incoming_stage(
        self, with_incoming: Workspace
    ) -> None:
        disabled = run(with_incoming, DisableIncoming(1))
        applied = apply_checked(disabled, EnableIncoming(1))
        assert applied.events == (
            IncomingStageEnabled(
                revision=2, at=LATER, pipeline_id=1, stage=attrs.evolve(INCOMING, id=148)
            ),
        )

    def test_rejects_a_name_that_clashes(self, workspace: Workspace) -> None:
        match = "clashes with stage 145 named 'Offer Made'"
        with unchanged(workspace), pytest.raises(DuplicateName, match=match):
            apply(workspace, EnableIncoming(1, name="offer made"), at=LATER)

    def test_rejects_an_invalid_name(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(InvalidName, match="cannot be empty"):
            apply(workspace, EnableIncoming(1, name=""), at=LATER)

    def test_rejects_an_invalid_colour(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(InvalidColor, match="invalid colour '#1234'"):
            apply(workspace, EnableIncoming(1, color="#1234"), at=LATER)

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, EnableIncoming(2), at=LATER)

    def test_rejects_a_101st_stage(self) -> None:
        workspace = full_workspace(98)
        with unchanged(workspace), pytest.raises(StageLimitReached, match="at most 100 stages"):
            apply(workspace, EnableIncoming(1), at=LATER)

    def test_a_name_of_a_wrong_type_is_a_type_error(self, with_incoming: Workspace) -> None:
        command = EnableIncoming(1, name=None)  # type: ignore[arg-type]
        with unchanged(with_incoming), pytest.raises(TypeError, match="name must be a str"):
            apply(with_incoming, command, at=LATER)


class TestDisableIncoming:
    def test_switches_the_incoming_stage_off(self, with_incoming: Workspace) -> None:
        workspace = run(with_incoming, CreateLead("ACME"), WinLead(1))
        applied = apply_checked(workspace, DisableIncoming(1))
        assert applied.events == (
            IncomingStageDisabled(revision=3, at=LATER, pipeline_id=1, stage_id=INCOMING.id),
        )
        result = applied.workspace
        assert result.pipeline(1).stages == (INITIAL, OFFER, NEGOTIATION, WON, LOST)
        assert result.pipeline(1).incoming is None
        assert dict(result.leads) == dict(workspace.leads)
        assert result.revision == 3

    def test_when_off_already_changes_nothing(self, workspace: Workspace) -> None:
        assert_changes_nothing(workspace, DisableIncoming(1))

    @pytest.mark.parametrize("waiting", [1, 2])
    def test_is_refused_while_leads_wait_there(
        self, with_incoming: Workspace, waiting: int
    ) -> None:
        commands = [CreateLead(f"Waiting {n}", incoming=True) for n in range(waiting)]
        workspace = run(with_incoming, CreateLead("ACME"), *commands)
        match = rf"{waiting} lead\(s\) wait in the incoming leads stage of pipeline 1"
        with unchanged(workspace), pytest.raises(IncomingNotEmpty, match=match) as info:
            apply(workspace, DisableIncoming(1), at=LATER)
        assert (info.value.pipeline_id, info.value.lead_count) == (1, waiting)

    @pytest.mark.parametrize(
        "command",
        [AcceptLead(1), DeclineLead(1), DeleteLead(1)],
        ids=["accept", "decline", "delete"],
    )
    def test_is_allowed_once_no_lead_waits(
        self, with_incoming: Workspace, command: Command
    ) -> None:
        emptied = run(with_incoming, CreateLead("Waiting", incoming=True), command)
        applied = apply_checked(emptied, DisableIncoming(1))
        assert applied.events == (
            IncomingStageDisabled(revision=3, at=LATER, pipeline_id=1, stage_id=INCOMING.id),
        )

    def test_looks_only_at_the_pipeline_named(self, with_incoming: Workspace) -> None:
        two = run(
            with_incoming,
            CreatePipeline("Partners", incoming=True),
            CreateLead("Waiting", pipeline_id=2, incoming=True),
        )
        applied = apply_checked(two, DisableIncoming(1))
        assert applied.workspace.pipeline(1).incoming is None
        with unchanged(two), pytest.raises(IncomingNotEmpty, match="of pipeline 2"):
            apply(two, DisableIncoming(2), at=LATER)

    def test_rejects_an_unknown_pipeline(self, workspace: Workspace) -> None:
        with unchanged(workspace), pytest.raises(UnknownPipeline, match="no pipeline has id 2"):
            apply(workspace, DisableIncoming(2), at=LATER)
