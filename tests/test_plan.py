"""``plan``: the commands that turn one pipeline into another, checked by applying them.

Every plan here goes through :func:`pipekit.apply` on a workspace holding the current
pipeline, and every command of it must change something there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pipekit import (
    KOMMO_PALETTE,
    AddStage,
    Color,
    Command,
    CreateLead,
    DeleteStage,
    DisableIncoming,
    EnableIncoming,
    Event,
    IncomingNotEmpty,
    LeadsRelocated,
    MoveStage,
    Pipeline,
    RecolorStage,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RuleViolation,
    Stage,
    StageKind,
    StageLocked,
    Workspace,
    add_stage,
    apply,
    default_pipeline,
    delete_stage,
    move_stage,
    recolor_stage,
)
from pipekit.color import INCOMING_COLOR, LOST_COLOR, WON_COLOR
from pipekit.names import name_key
from pipekit.pipeline import rename_pipeline
from pipekit.planning import plan
from tests.apply_helpers import AT
from tests.profiles import COSTLY, EXPENSIVE
from tests.strategies import hand_built_pipelines, names, pipelines, steps

P = KOMMO_PALETTE
OPEN = StageKind.OPEN
WON = StageKind.WON
LOST = StageKind.LOST
TEMPORARY = "pipekit temporary name"

# The open stages of every default pipeline; 147 is the next id (or incoming leads).
INITIAL, OFFER, NEGOTIATION = 144, 145, 146
NEXT = 147

Looks = tuple[tuple[str, Color, StageKind], ...]


# -- helpers ----------------------------------------------------------------------


def looks(pipeline: Pipeline) -> Looks:
    """What a person sees of a pipeline's stages: names, colours and kinds, in order."""
    return tuple((stage.name, stage.color, stage.kind) for stage in pipeline.stages)


def looks_of(stage: Stage) -> tuple[str, Color]:
    return stage.name, stage.color


def workspace_of(pipeline: Pipeline) -> Workspace:
    return Workspace(pipelines=(pipeline,), main_pipeline_id=pipeline.id)


def run(workspace: Workspace, commands: Iterable[Command]) -> tuple[Workspace, list[Event]]:
    """Apply *commands* in order; each must change something."""
    events: list[Event] = []
    for command in commands:
        applied = apply(workspace, command, at=AT)
        assert applied.events, f"{command!r} changed nothing"
        events.extend(applied.events)
        workspace = applied.workspace
    return workspace, events


def result_of(current: Pipeline, desired: Pipeline) -> Pipeline:
    """Return the pipeline that applying ``plan(current, desired)`` makes of *current*."""
    workspace, _ = run(workspace_of(current), plan(current, desired))
    return workspace.pipeline(current.id)


def rebuilt(pipeline: Pipeline, stages: Iterable[Stage], name: str | None = None) -> Pipeline:
    """Return *pipeline* with other stages, through the public constructor."""
    stages = tuple(stages)
    return Pipeline(
        id=pipeline.id,
        name=pipeline.name if name is None else name,
        stages=stages,
        next_stage_id=max(pipeline.next_stage_id, *(stage.id + 1 for stage in stages)),
        archived=pipeline.archived,
    )


def renamed(pipeline: Pipeline, new_names: Mapping[int, str]) -> Pipeline:
    """Return *pipeline* with the stages named by id in *new_names* renamed at once."""
    return rebuilt(
        pipeline,
        (
            attrs.evolve(stage, name=new_names.get(stage.id, stage.name))
            for stage in pipeline.stages
        ),
    )


def with_open(pipeline: Pipeline, *stages: Stage) -> Pipeline:
    """Return *pipeline* with *stages* as its open stages."""
    incoming = () if pipeline.incoming is None else (pipeline.incoming,)
    return rebuilt(pipeline, (*incoming, *stages, pipeline.won, pipeline.lost))


def full(names_and_ids: Iterable[tuple[int, str]], incoming: bool = False) -> Pipeline:
    """Return a pipeline with the open stages given, won and lost (and incoming leads)."""
    system = (Stage(9_000, "Incoming leads", INCOMING_COLOR, StageKind.INCOMING),)
    return Pipeline(
        id=1,
        name="Sales",
        stages=(
            *(system if incoming else ()),
            *(Stage(i, name, P[i % len(P)], OPEN) for i, name in names_and_ids),
            Stage(142, "Closed - won", WON_COLOR, WON),
            Stage(143, "Closed - lost", LOST_COLOR, LOST),
        ),
    )


def longest_increasing(values: list[int]) -> int:
    """The length of a longest strictly increasing subsequence, by the plain O(n²) table."""
    best = [1] * len(values)
    for j in range(len(values)):
        for i in range(j):
            if values[i] < values[j]:
                best[j] = max(best[j], best[i] + 1)
    return max(best, default=0)


SALES = default_pipeline("Sales")
SALES_IN = default_pipeline("Sales", incoming=True)


# -- unit tests ---------------------------------------------------------------------


class TestNothingToDo:
    def test_plans_nothing_for_an_identical_pipeline(self) -> None:
        assert plan(SALES, SALES) == ()
        assert plan(SALES_IN, SALES_IN) == ()

    def test_ignores_archived(self) -> None:
        assert plan(SALES, attrs.evolve(SALES, archived=True)) == ()

    def test_ignores_system_stage_ids_and_the_id_counter(self) -> None:
        incoming = SALES_IN.stages[0]
        desired = rebuilt(
            SALES_IN,
            (
                attrs.evolve(incoming, id=900),
                *SALES_IN.open_stages,
                attrs.evolve(SALES_IN.won, id=901),
                attrs.evolve(SALES_IN.lost, id=902),
            ),
        )
        assert plan(SALES_IN, desired) == ()


class TestPipelineName:
    def test_renames_the_pipeline_first(self) -> None:
        desired = delete_stage(rename_pipeline(SALES, "Deals"), OFFER)
        assert plan(SALES, desired) == (RenamePipeline(1, "Deals"), DeleteStage(1, OFFER))
        assert result_of(SALES, desired).name == "Deals"

    def test_renames_the_pipeline_to_another_case(self) -> None:
        desired = rename_pipeline(SALES, "SALES")
        assert plan(SALES, desired) == (RenamePipeline(1, "SALES"),)
        assert result_of(SALES, desired).name == "SALES"


class TestDeletes:
    def test_deletes_a_removed_stage(self) -> None:
        desired = delete_stage(SALES, OFFER)
        assert plan(SALES, desired) == (DeleteStage(1, OFFER),)
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_deletes_the_stages_ahead_of_the_first_kept_one_from_the_back(self) -> None:
        current = add_stage(SALES, "Demo")
        desired = delete_stage(delete_stage(delete_stage(current, INITIAL), OFFER), NEXT)
        assert plan(current, desired) == (
            DeleteStage(1, OFFER),
            DeleteStage(1, INITIAL),
            DeleteStage(1, NEXT),
        )
        assert looks(result_of(current, desired)) == looks(desired)

    def test_keeps_one_stage_until_the_first_desired_one_exists(self) -> None:
        desired = with_open(SALES, Stage(200, "A", P[5], OPEN), Stage(201, "B", P[6], OPEN))
        assert plan(SALES, desired) == (
            DeleteStage(1, NEGOTIATION),
            DeleteStage(1, OFFER),
            AddStage(1, "A", position=0, color=P[5]),
            DeleteStage(1, INITIAL),
            AddStage(1, "B", position=1, color=P[6]),
        )
        result = result_of(SALES, desired)
        assert looks(result) == looks(desired)
        assert [stage.id for stage in result.open_stages] == [NEXT, NEXT + 1]

    def test_adds_the_first_stage_under_a_temporary_name_while_its_name_is_taken(self) -> None:
        desired = with_open(SALES, Stage(200, "initial contact", P[5], OPEN))
        assert plan(SALES, desired) == (
            DeleteStage(1, NEGOTIATION),
            DeleteStage(1, OFFER),
            AddStage(1, f"{TEMPORARY} 1", position=0, color=P[5]),
            DeleteStage(1, INITIAL),
            RenameStage(1, NEXT, "initial contact"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_frees_a_name_the_incoming_stage_held_for_the_first_stage(self) -> None:
        desired = with_open(default_pipeline("Sales"), Stage(200, "Incoming leads", P[5], OPEN))
        commands = plan(SALES_IN, desired)
        assert commands == (
            DeleteStage(1, NEGOTIATION),
            DeleteStage(1, OFFER),
            AddStage(1, f"{TEMPORARY} 1", position=0, color=P[5]),
            DeleteStage(1, INITIAL),
            DisableIncoming(1),
            RenameStage(1, NEXT + 1, "Incoming leads"),
        )
        assert looks(result_of(SALES_IN, desired)) == looks(desired)


class TestIncoming:
    def test_switches_incoming_leads_on_last(self) -> None:
        desired = recolor_stage(SALES_IN, INITIAL, P[9])
        current = recolor_stage(SALES, INITIAL, P[9])
        assert plan(SALES, desired)[-1] == EnableIncoming(
            1, name="Incoming leads", color=INCOMING_COLOR
        )
        assert plan(current, desired) == (
            EnableIncoming(1, name="Incoming leads", color=INCOMING_COLOR),
        )
        assert looks(result_of(current, desired)) == looks(desired)

    def test_switches_incoming_leads_off(self) -> None:
        assert plan(SALES_IN, SALES) == (DisableIncoming(1),)
        assert looks(result_of(SALES_IN, SALES)) == looks(SALES)

    def test_renames_incoming_leads_by_switching_them_off_and_on(self) -> None:
        desired = renamed(SALES_IN, {NEXT: "Requests"})
        assert plan(SALES_IN, desired) == (
            DisableIncoming(1),
            EnableIncoming(1, name="Requests", color=INCOMING_COLOR),
        )
        result = result_of(SALES_IN, desired)
        assert looks(result) == looks(desired)
        assert result.incoming is not None
        assert result.incoming.id == SALES_IN.next_stage_id  # a new stage, with a new id

    def test_recolours_incoming_leads_by_switching_them_off_and_on(self) -> None:
        incoming = SALES_IN.stages[0]
        desired = rebuilt(SALES_IN, (attrs.evolve(incoming, color=P[0]), *SALES_IN.stages[1:]))
        assert plan(SALES_IN, desired) == (
            DisableIncoming(1),
            EnableIncoming(1, name="Incoming leads", color=P[0]),
        )
        assert looks(result_of(SALES_IN, desired)) == looks(desired)

    def test_gives_the_incoming_name_to_an_open_stage(self) -> None:
        desired = renamed(SALES, {INITIAL: "Incoming leads"})
        assert plan(SALES_IN, desired) == (
            DisableIncoming(1),
            RenameStage(1, INITIAL, "Incoming leads"),
        )
        assert looks(result_of(SALES_IN, desired)) == looks(desired)

    def test_takes_the_name_of_an_open_stage_for_incoming_leads(self) -> None:
        desired = renamed(SALES_IN, {NEXT: "Initial Contact", INITIAL: "First call"})
        assert plan(SALES_IN, desired) == (
            DisableIncoming(1),
            RenameStage(1, INITIAL, "First call"),
            EnableIncoming(1, name="Initial Contact", color=INCOMING_COLOR),
        )
        assert looks(result_of(SALES_IN, desired)) == looks(desired)

    def test_cannot_switch_off_incoming_leads_while_leads_wait_there(self) -> None:
        workspace, _ = run(workspace_of(SALES_IN), [CreateLead("ACME", incoming=True)])
        with pytest.raises(IncomingNotEmpty):
            run(workspace, plan(SALES_IN, SALES))


class TestRenames:
    def test_renames_a_stage(self) -> None:
        desired = renamed(SALES, {OFFER: "Proposal"})
        assert plan(SALES, desired) == (RenameStage(1, OFFER, "Proposal"),)

    def test_renames_in_an_order_where_each_name_is_free(self) -> None:
        desired = renamed(SALES, {INITIAL: "Offer Made", OFFER: "Negotiation", NEGOTIATION: "Won"})
        assert plan(SALES, desired) == (
            RenameStage(1, NEGOTIATION, "Won"),
            RenameStage(1, OFFER, "Negotiation"),
            RenameStage(1, INITIAL, "Offer Made"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_swaps_two_names_through_a_temporary_name(self) -> None:
        desired = renamed(SALES, {INITIAL: "Offer Made", OFFER: "Initial Contact"})
        assert plan(SALES, desired) == (
            RenameStage(1, INITIAL, f"{TEMPORARY} 1"),
            RenameStage(1, OFFER, "Initial Contact"),
            RenameStage(1, INITIAL, "Offer Made"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_turns_a_cycle_of_three_through_one_temporary_name(self) -> None:
        desired = renamed(
            SALES, {INITIAL: "Offer Made", OFFER: "Negotiation", NEGOTIATION: "Initial Contact"}
        )
        assert plan(SALES, desired) == (
            RenameStage(1, INITIAL, f"{TEMPORARY} 1"),
            RenameStage(1, NEGOTIATION, "Initial Contact"),
            RenameStage(1, OFFER, "Negotiation"),
            RenameStage(1, INITIAL, "Offer Made"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_breaks_each_of_two_cycles(self) -> None:
        current = add_stage(SALES, "Demo")
        desired = renamed(
            current,
            {
                INITIAL: "Offer Made",
                OFFER: "Initial Contact",
                NEGOTIATION: "Demo",
                NEXT: "Negotiation",
            },
        )
        assert plan(current, desired) == (
            RenameStage(1, INITIAL, f"{TEMPORARY} 1"),
            RenameStage(1, OFFER, "Initial Contact"),
            RenameStage(1, INITIAL, "Offer Made"),
            RenameStage(1, NEGOTIATION, f"{TEMPORARY} 2"),
            RenameStage(1, NEXT, "Negotiation"),
            RenameStage(1, NEGOTIATION, "Demo"),
        )
        assert looks(result_of(current, desired)) == looks(desired)

    def test_changes_only_the_case_of_a_name(self) -> None:
        desired = renamed(SALES, {INITIAL: "INITIAL CONTACT", 142: "closed - WON"})
        assert plan(SALES, desired) == (
            RenameStage(1, INITIAL, "INITIAL CONTACT"),
            RenameTerminal(1, WON, "closed - WON"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_swaps_two_names_that_also_change_case(self) -> None:
        desired = renamed(SALES, {INITIAL: "OFFER MADE", OFFER: "initial contact"})
        assert plan(SALES, desired) == (
            RenameStage(1, INITIAL, f"{TEMPORARY} 1"),
            RenameStage(1, OFFER, "initial contact"),
            RenameStage(1, INITIAL, "OFFER MADE"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_swaps_the_won_and_lost_names(self) -> None:
        desired = renamed(SALES, {142: "Closed - lost", 143: "Closed - won"})
        assert plan(SALES, desired) == (
            RenameTerminal(1, WON, f"{TEMPORARY} 1"),
            RenameTerminal(1, LOST, "Closed - won"),
            RenameTerminal(1, WON, "Closed - lost"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_swaps_an_open_name_with_the_won_name(self) -> None:
        desired = renamed(SALES, {NEGOTIATION: "Closed - won", 142: "Negotiation"})
        assert plan(SALES, desired) == (
            RenameStage(1, NEGOTIATION, f"{TEMPORARY} 1"),
            RenameTerminal(1, WON, "Negotiation"),
            RenameStage(1, NEGOTIATION, "Closed - won"),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_picks_a_temporary_name_that_clashes_with_no_name_of_either_pipeline(self) -> None:
        current = renamed(SALES, {NEGOTIATION: f"{TEMPORARY} 1"})
        desired = renamed(
            SALES,
            {
                INITIAL: "Offer Made",
                OFFER: "Initial Contact",
                NEGOTIATION: f"{TEMPORARY.upper()} 2",
            },
        )
        assert plan(current, desired) == (
            RenameStage(1, NEGOTIATION, f"{TEMPORARY.upper()} 2"),
            RenameStage(1, INITIAL, f"{TEMPORARY} 3"),
            RenameStage(1, OFFER, "Initial Contact"),
            RenameStage(1, INITIAL, "Offer Made"),
        )
        assert looks(result_of(current, desired)) == looks(desired)

    def test_takes_the_name_of_a_deleted_stage(self) -> None:
        desired = renamed(delete_stage(SALES, OFFER), {INITIAL: "Offer Made"})
        assert plan(SALES, desired) == (
            DeleteStage(1, OFFER),
            RenameStage(1, INITIAL, "Offer Made"),
        )


class TestRecolours:
    def test_recolours_a_kept_stage(self) -> None:
        desired = recolor_stage(SALES, OFFER, P[9])
        assert plan(SALES, desired) == (RecolorStage(1, OFFER, P[9]),)
        assert looks(result_of(SALES, desired)) == looks(desired)

    @pytest.mark.parametrize(("index", "label", "stage_id"), [(-2, "won", 142), (-1, "lost", 143)])
    def test_refuses_to_recolour_won_or_lost(self, index: int, label: str, stage_id: int) -> None:
        stages = list(SALES.stages)
        stages[index] = attrs.evolve(stages[index], color=P[0])
        with pytest.raises(
            StageLocked, match=rf"the {label} stage \(id {stage_id}\) cannot be rec"
        ):
            plan(SALES, rebuilt(SALES, stages))


class TestMoves:
    def test_moves_one_stage(self) -> None:
        desired = move_stage(SALES, NEGOTIATION, 0)
        assert plan(SALES, desired) == (MoveStage(1, NEGOTIATION, 0),)
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_moves_a_stage_after_the_one_before_it(self) -> None:
        desired = move_stage(SALES, INITIAL, 2)
        assert plan(SALES, desired) == (MoveStage(1, INITIAL, 2),)

    def test_reverses_four_stages_with_three_moves(self) -> None:
        current = add_stage(SALES, "Demo")
        desired = with_open(current, *reversed(current.open_stages))
        assert plan(current, desired) == (
            MoveStage(1, NEGOTIATION, 3),
            MoveStage(1, OFFER, 3),
            MoveStage(1, INITIAL, 3),
        )
        assert looks(result_of(current, desired)) == looks(desired)

    def test_moves_among_the_kept_stages_before_adding(self) -> None:
        desired = add_stage(move_stage(delete_stage(SALES, OFFER), NEGOTIATION, 0), "X", position=1)
        assert plan(SALES, desired) == (
            DeleteStage(1, OFFER),
            MoveStage(1, INITIAL, 1),
            AddStage(1, "X", position=1, color=desired.open_stages[1].color),
        )
        assert looks(result_of(SALES, desired)) == looks(desired)


class TestAdds:
    def test_adds_a_stage_at_its_place_with_its_colour(self) -> None:
        desired = add_stage(SALES, "Demo", position=1, color=P[7])
        assert plan(SALES, desired) == (AddStage(1, "Demo", position=1, color=P[7]),)
        assert looks(result_of(SALES, desired)) == looks(desired)

    def test_lets_the_pipeline_give_ids(self) -> None:
        # 142 is the won stage's id in current: an open stage of desired that has it is new.
        desired = with_open(
            rebuilt(SALES, (*SALES.stages[:-2], attrs.evolve(SALES.won, id=500), SALES.lost)),
            *SALES.open_stages,
            Stage(142, "Demo", P[7], OPEN),
        )
        assert plan(SALES, desired) == (AddStage(1, "Demo", position=3, color=P[7]),)
        assert result_of(SALES, desired).open_stages[-1].id == NEXT

    def test_does_everything_in_order(self) -> None:
        current = add_stage(SALES_IN, "Demo")  # id 148
        desired = renamed(
            move_stage(
                add_stage(
                    recolor_stage(
                        delete_stage(rename_pipeline(current, "Deals"), OFFER), 148, P[9]
                    ),
                    "New",
                    position=0,
                    color=P[4],
                ),
                NEGOTIATION,
                1,
            ),
            {NEXT: "Requests", INITIAL: "First call", 143: "Lost"},
        )
        assert plan(current, desired) == (
            RenamePipeline(1, "Deals"),
            DeleteStage(1, OFFER),
            DisableIncoming(1),
            RenameStage(1, INITIAL, "First call"),
            RenameTerminal(1, LOST, "Lost"),
            RecolorStage(1, 148, P[9]),
            MoveStage(1, INITIAL, 1),
            AddStage(1, "New", position=0, color=P[4]),
            EnableIncoming(1, name="Requests", color=INCOMING_COLOR),
        )
        assert looks(result_of(current, desired)) == looks(desired)


class TestStageLimit:
    @pytest.mark.parametrize("incoming", [False, True])
    def test_replaces_a_full_pipeline_sharing_nothing(self, incoming: bool) -> None:
        count = 98 - incoming
        current = full(((i, f"Old {i}") for i in range(1, count + 1)), incoming)
        desired = full(((1000 + i, f"New {i}") for i in range(count)), incoming)
        assert len(current.stages) == len(desired.stages) == 100
        assert looks(result_of(current, desired)) == looks(desired)

    @pytest.mark.parametrize("incoming", [False, True])
    def test_replaces_half_of_a_full_pipeline(self, incoming: bool) -> None:
        count = 98 - incoming
        current = full(((i, f"Stage {i}") for i in range(1, count + 1)), incoming)
        kept = [(i, f"Stage {i + 1}") for i in range(count // 2, 0, -1)]  # renamed in a chain
        desired = full([*kept, *((1000 + i, f"New {i}") for i in range(count - len(kept)))])
        assert len(current.stages) == 100
        assert looks(result_of(current, desired)) == looks(desired)

    def test_renames_a_full_pipeline_through_one_cycle(self) -> None:
        current = full((i, f"Stage {i}") for i in range(1, 99))
        desired = full((i, f"Stage {i % 98 + 1}") for i in range(1, 99))
        assert len(plan(current, desired)) == 99
        assert looks(result_of(current, desired)) == looks(desired)


class TestLeads:
    def leads_after(self, current: Pipeline, desired: Pipeline) -> dict[int, int]:
        """Put one lead in each open stage of *current*, apply the plan: where each is."""
        opens = [stage.id for stage in current.open_stages]
        workspace, _ = run(workspace_of(current), (CreateLead(f"{i}", stage_id=i) for i in opens))
        workspace, _ = run(workspace, plan(current, desired))
        return {int(lead.name): lead.stage_id for lead in workspace.leads.values()}

    def test_leads_of_a_deleted_stage_go_to_the_first_stage_left(self) -> None:
        desired = delete_stage(SALES, OFFER)
        assert self.leads_after(SALES, desired) == {
            INITIAL: INITIAL,
            OFFER: INITIAL,
            NEGOTIATION: NEGOTIATION,
        }

    def test_leads_go_to_the_first_kept_stage_in_current_order(self) -> None:
        # Kommo sends a deleted stage's leads to the first stage, whatever desired's order.
        desired = move_stage(delete_stage(SALES, INITIAL), NEGOTIATION, 0)
        assert self.leads_after(SALES, desired) == {
            INITIAL: OFFER,
            OFFER: OFFER,
            NEGOTIATION: NEGOTIATION,
        }

    def test_leads_go_to_the_first_desired_stage_when_nothing_is_kept(self) -> None:
        desired = with_open(SALES, Stage(200, "A", P[5], OPEN), Stage(201, "B", P[6], OPEN))
        assert self.leads_after(SALES, desired) == dict.fromkeys(
            (INITIAL, OFFER, NEGOTIATION), NEXT
        )


class TestArguments:
    def test_refuses_a_current_that_is_not_a_pipeline(self) -> None:
        with pytest.raises(TypeError, match="current must be a Pipeline, got str"):
            plan("Sales", SALES)  # type: ignore[arg-type]  # the wrong type is the point

    def test_refuses_a_desired_that_is_not_a_pipeline(self) -> None:
        with pytest.raises(TypeError, match="desired must be a Pipeline, got NoneType"):
            plan(SALES, None)  # type: ignore[arg-type]  # the wrong type is the point


# -- laws ---------------------------------------------------------------------------


@st.composite
def edited(draw: st.DrawFn, current: Pipeline) -> Pipeline:
    """A desired pipeline grown from *current*: commands, then names and order shuffled."""
    pipeline = current
    for step in draw(st.lists(steps(), max_size=12)):
        try:
            pipeline = step.apply(pipeline)
        except RuleViolation:  # the step did not fit this pipeline
            continue
    first = pipeline.first_open_index
    pipeline = rebuilt(
        pipeline,
        (
            *pipeline.stages[:first],
            *draw(st.permutations(pipeline.open_stages)),
            *pipeline.stages[-2:],
        ),
        name=draw(st.none() | names() | st.just(pipeline.name.swapcase()[:255].strip() or "x")),
    )
    stages = list(pipeline.stages)
    if draw(st.booleans()):  # names change hands, so renames go round in cycles
        movable = range(first, len(stages))
        shuffled = draw(st.permutations([stages[i].name for i in movable]))
        for i, name in zip(movable, shuffled, strict=True):
            stages[i] = attrs.evolve(stages[i], name=name)
    for i in draw(st.lists(st.sampled_from(range(first, len(stages))), max_size=3)):
        # Only the case changes, mostly; a name whose key changes may clash.
        stages[i] = attrs.evolve(stages[i], name=stages[i].name.swapcase()[:255].strip() or "x")
    try:
        return rebuilt(pipeline, stages)
    except RuleViolation:
        return pipeline


@st.composite
def independent(draw: st.DrawFn, current: Pipeline) -> Pipeline:
    """A desired pipeline built by hand, sharing some open stage ids with *current*."""
    other = draw(hand_built_pipelines())
    pool = list(draw(st.permutations([stage.id for stage in current.open_stages])))
    stages: list[Stage] = []
    for stage in other.stages:
        if stage.kind is OPEN and pool and draw(st.booleans()):
            stage = attrs.evolve(stage, id=pool.pop())
        stages.append(stage)
    seen = Counter(stage.id for stage in stages)
    stages = [
        attrs.evolve(stage, id=20_000 + i) if seen[stage.id] > 1 else stage
        for i, stage in enumerate(stages)
    ]
    # The won and lost stages cannot be recoloured: take current's colours.
    stages[-2] = attrs.evolve(stages[-2], color=current.won.color)
    stages[-1] = attrs.evolve(stages[-1], color=current.lost.color)
    return Pipeline(id=other.id, name=other.name, stages=stages)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Pipeline, Pipeline]:
    current = draw(pipelines())
    return current, draw(st.one_of(edited(current), independent(current)))


def name_cycles(names: Mapping[object, tuple[str, str]]) -> int:
    """How many cycles the renames from *names* (stage: current, desired) form.

    A stage whose wanted name another stage holds points at it; the stages are in a
    cycle when following the pointers from one of them leads back to it.
    """
    holders = {name_key(now): stage for stage, (now, _) in names.items()}
    points = {stage: holders.get(name_key(wanted)) for stage, (_, wanted) in names.items()}
    cycles: set[frozenset[object]] = set()
    for start in names:
        path = [start]
        while (stage := points[path[-1]]) is not None and stage not in path:
            path.append(stage)
        if stage == start and len(path) > 1:
            cycles.add(frozenset(path))
    return len(cycles)


def kept_ids(current: Pipeline, desired: Pipeline) -> list[int]:
    """The ids of the open stages both pipelines have, in desired's order."""
    have = {stage.id for stage in current.open_stages}
    return [stage.id for stage in desired.open_stages if stage.id in have]


class TestLaws:
    @EXPENSIVE
    @given(pairs())
    def test_turns_current_into_desired(self, pair: tuple[Pipeline, Pipeline]) -> None:
        current, desired = pair
        result = result_of(current, desired)
        assert looks(result) == looks(desired)
        assert result.name == desired.name
        # Kept stages keep their ids and stand where desired has them; added ones are new.
        kept = set(kept_ids(current, desired))
        for got, wanted in zip(result.open_stages, desired.open_stages, strict=True):
            if wanted.id in kept:
                assert got.id == wanted.id
            else:
                assert got.id >= current.next_stage_id
        assert plan(result, result) == ()

    @COSTLY
    @given(pipelines())
    def test_plans_nothing_from_a_pipeline_to_itself(self, pipeline: Pipeline) -> None:
        assert plan(pipeline, pipeline) == ()

    @EXPENSIVE
    @given(pairs())
    def test_moves_as_few_stages_as_can_be(self, pair: tuple[Pipeline, Pipeline]) -> None:
        current, desired = pair
        kept = kept_ids(current, desired)
        rank = {stage_id: place for place, stage_id in enumerate(kept)}
        in_current_order = [rank[s.id] for s in current.open_stages if s.id in rank]
        moves = [c for c in plan(current, desired) if isinstance(c, MoveStage)]
        assert len(moves) == len(kept) - longest_increasing(in_current_order)
        assert len({move.stage_id for move in moves}) == len(moves)

    @EXPENSIVE
    @given(pairs())
    def test_leaves_unchanged_stages_alone(self, pair: tuple[Pipeline, Pipeline]) -> None:
        current, desired = pair
        commands = plan(current, desired)
        before = {stage.id: stage for stage in current.open_stages}
        after = {stage.id: stage for stage in desired.open_stages}
        kept = before.keys() & after.keys()
        renamed_ids = {c.stage_id for c in commands if isinstance(c, RenameStage)}
        assert renamed_ids & before.keys() == {i for i in kept if before[i].name != after[i].name}
        recoloured = [c.stage_id for c in commands if isinstance(c, RecolorStage)]
        assert sorted(recoloured) == sorted(i for i in kept if before[i].color != after[i].color)
        deleted = [c.stage_id for c in commands if isinstance(c, DeleteStage)]
        assert sorted(deleted) == sorted(before.keys() - after.keys())
        assert {c.stage_id for c in commands if isinstance(c, MoveStage)} <= kept
        added = [c for c in commands if isinstance(c, AddStage)]
        assert len(added) == len(after.keys() - before.keys())
        outcomes = {c.outcome for c in commands if isinstance(c, RenameTerminal)}
        assert outcomes == {
            stage.kind
            for stage, wanted in ((current.won, desired.won), (current.lost, desired.lost))
            if stage.name != wanted.name
        }
        have, want = current.incoming, desired.incoming
        switches = [c for c in commands if isinstance(c, DisableIncoming | EnableIncoming)]
        if have is None or want is None:
            assert len(switches) == (0 if have is want else 1)
        else:
            assert len(switches) == (0 if looks_of(have) == looks_of(want) else 2)
        assert any(isinstance(c, RenamePipeline) for c in commands) is (
            current.name != desired.name
        )
        stage_commands = (
            AddStage | RenameStage | RecolorStage | MoveStage | DeleteStage | RenameTerminal
        )
        pipeline_commands = EnableIncoming | DisableIncoming | RenamePipeline
        for command in commands:
            assert isinstance(command, stage_commands | pipeline_commands)
            assert command.pipeline_id == current.id

    @EXPENSIVE
    @given(pairs())
    def test_renames_each_stage_once_and_each_cycle_once_more(
        self, pair: tuple[Pipeline, Pipeline]
    ) -> None:
        current, desired = pair
        kept = kept_ids(current, desired)
        assume(kept)  # else the first desired stage may come under a temporary name
        before = {stage.id: stage.name for stage in current.open_stages}
        names: dict[object, tuple[str, str]] = {
            stage.id: (before[stage.id], stage.name)
            for stage in desired.open_stages
            if stage.id in before
        }
        names[WON] = (current.won.name, desired.won.name)
        names[LOST] = (current.lost.name, desired.lost.name)
        changed = sum(now != wanted for now, wanted in names.values())
        commands = plan(current, desired)
        renames = [c for c in commands if isinstance(c, RenameStage | RenameTerminal)]
        assert len(renames) == changed + name_cycles(names)

    @EXPENSIVE
    @given(pairs())
    def test_keeps_every_lead(self, pair: tuple[Pipeline, Pipeline]) -> None:
        current, desired = pair
        opens = [stage.id for stage in current.open_stages]
        workspace, _ = run(workspace_of(current), (CreateLead("x", stage_id=i) for i in opens))
        workspace, events = run(workspace, plan(current, desired))
        relocations = Counter(
            lead_id
            for event in events
            if isinstance(event, LeadsRelocated)
            for lead_id in event.lead_ids
        )
        kept = set(kept_ids(current, desired))
        ahead = next((at for at, i in enumerate(opens) if i in kept), len(opens))
        # Where Kommo's delete sends them: the first kept stage in current's order, or
        # desired's first stage, added before the last one of current's is deleted.
        first = opens[ahead] if kept else workspace.pipeline(current.id).open_stages[0].id
        for at, stage_id in enumerate(opens):
            lead = workspace.lead(at + 1)
            if stage_id in kept:
                assert (lead.stage_id, relocations[lead.id]) == (stage_id, 0)
            elif 0 < at < ahead:  # by way of the first stage, deleted last of those ahead
                assert (lead.stage_id, relocations[lead.id]) == (first, 2)
            else:
                assert (lead.stage_id, relocations[lead.id]) == (first, 1)
