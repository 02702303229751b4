"""Laws the workspace and ``apply`` obey, for any workspace and any command.

The laws that hold after every step (events exactly when something changed, stamped
with the new revision; a refused command changes nothing; ``leads_in`` and the stage
totals partition the leads; folding ``evolve`` over the events gives the workspace)
are checked after each command of every run of the state machine in
test_workspace_stateful.py, and not again here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    MAX_PIPELINES,
    MAX_STAGES,
    AcceptLead,
    CreateLead,
    CreatePipeline,
    DeleteLead,
    DeleteLossReason,
    DeletePipeline,
    DeleteStage,
    DisableIncoming,
    EnableIncoming,
    IncomingNotEmpty,
    IncomingStageEnabled,
    InvalidTarget,
    Lead,
    LeadCreated,
    LeadMoved,
    LeadsRelocated,
    LoseLead,
    LossReasonAdded,
    LossReasonInUse,
    MoveLead,
    MovePipeline,
    MoveStage,
    PipelineCreated,
    RecolorStage,
    RenameLossReason,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RuleViolation,
    SetMainPipeline,
    StageAdded,
    StageDeleted,
    StageKind,
    StageLocked,
    WinLead,
    Workspace,
    apply,
)
from pipekit.commands import AddLossReason, AddStage, Command
from tests.profiles import COSTLY, EXPENSIVE
from tests.workspace_strategies import (
    COMMAND_STRATEGIES,
    START,
    History,
    delete_stage_commands,
    histories,
    idle_commands,
    waiting_leads,
    workspaces,
)

AT = START.replace(year=2027)
"""A time after every history: the laws apply their own command then."""
LATER = AT.replace(year=2028)


def outcome(
    workspace: Workspace, command: Command, at: datetime = AT
) -> Workspace | type[Exception]:
    """What ``apply`` makes of *command*: the new workspace, or the class of the error it raised."""
    try:
        return apply(workspace, command, at=at).workspace
    except ValueError as error:  # a RuleViolation, or a terminal outcome that is not one
        return type(error)


class TestNoChange:
    @COSTLY
    @given(
        st.data(),
        workspaces(),
        st.sampled_from(
            [
                RenameStage,
                RecolorStage,
                MoveStage,
                RenameTerminal,
                EnableIncoming,
                RenamePipeline,
                MovePipeline,
                SetMainPipeline,
                MoveLead,
                WinLead,
                LoseLead,
                RenameLossReason,
            ]
        ),
    )
    def test_a_command_that_sets_a_value_changes_nothing_the_second_time(
        self, data: st.DataObject, workspace: Workspace, kind: type[Command]
    ) -> None:
        command = data.draw(COMMAND_STRATEGIES[kind](workspace), label="command")
        first = outcome(workspace, command)
        if not isinstance(first, Workspace):
            # Refused, and refused the same way again: nothing changed in between.
            assert outcome(workspace, command) is first
            return
        again = apply(first, command, at=AT)
        assert again.events == ()
        assert again.workspace is first


class TestIdleCommands:
    @COSTLY
    @given(st.data(), workspaces())
    def test_restating_what_is_emits_nothing_and_keeps_the_revision(
        self, data: st.DataObject, workspace: Workspace
    ) -> None:
        command = data.draw(idle_commands(workspace), label="command")
        applied = apply(workspace, command, at=AT)
        assert applied.events == ()
        assert applied.workspace is workspace


class TestLeadsInOrder:
    @EXPENSIVE
    @given(workspaces(), st.lists(st.integers(1, 5_000), unique=True, max_size=12))
    def test_leads_in_gives_the_leads_by_id_whatever_the_ids(
        self, workspace: Workspace, lead_ids: list[int]
    ) -> None:
        for lead_id in lead_ids:
            if lead_id not in workspace.leads:
                workspace = apply(workspace, CreateLead("Deal", lead_id=lead_id), at=AT).workspace
        for pipeline in workspace.pipelines:
            for stage in pipeline.stages:
                ids = [lead.id for lead in workspace.leads_in(pipeline.id, stage.id)]
                assert ids == sorted(ids)


class TestIdsFromCounters:
    @EXPENSIVE
    @given(histories(max_steps=30))
    def test_an_id_from_a_counter_was_never_held_before(self, history: History) -> None:
        # Every id ever held, deleted ones included; stage ids per pipeline.
        leads: set[int] = set()
        pipelines = {pipeline.id for pipeline in history.start.pipelines}
        reasons: set[int] = set()
        stages = {p.id: {s.id for s in p.stages} for p in history.start.pipelines}
        for command, _at, applied in history.applied:
            for event in applied.events:
                if isinstance(event, LeadCreated):
                    if isinstance(command, CreateLead) and command.lead_id is None:
                        assert event.lead.id > max(leads, default=0)
                    leads.add(event.lead.id)
                elif isinstance(event, PipelineCreated):
                    if isinstance(command, CreatePipeline) and command.pipeline_id is None:
                        assert event.pipeline.id > max(pipelines)
                    pipelines.add(event.pipeline.id)
                    # A pipeline created again under an old id is a new pipeline.
                    stages[event.pipeline.id] = {s.id for s in event.pipeline.stages}
                elif isinstance(event, LossReasonAdded):
                    if isinstance(command, AddLossReason) and command.reason_id is None:
                        assert event.reason.id > max(reasons, default=0)
                    reasons.add(event.reason.id)
                elif isinstance(event, StageAdded | IncomingStageEnabled):
                    held = stages[event.pipeline_id]
                    if not (isinstance(command, AddStage) and command.stage_id is not None):
                        assert event.stage.id > max(held)
                    held.add(event.stage.id)
            # The counters never go back, and stay above every id ever held.
            after = applied.workspace
            assert after.next_lead_id > max(leads, default=0)
            assert after.next_pipeline_id > max(pipelines)
            assert after.next_loss_reason_id > max(reasons, default=0)
            for pipeline in after.pipelines:
                assert pipeline.next_stage_id > max(stages[pipeline.id])

    @COSTLY
    @given(workspaces())
    def test_a_deleted_leads_id_is_not_given_to_the_next_lead(self, workspace: Workspace) -> None:
        created = apply(workspace, CreateLead("Gone soon"), at=AT).workspace
        (gone,) = set(created.leads) - set(workspace.leads)
        deleted = apply(created, DeleteLead(gone), at=AT).workspace
        after = apply(deleted, CreateLead("Next"), at=AT).workspace
        (new,) = set(after.leads) - set(deleted.leads)
        assert new != gone
        assert new > max(created.leads)

    @COSTLY
    @given(workspaces())
    def test_a_deleted_pipelines_id_is_not_given_to_the_next_pipeline(
        self, workspace: Workspace
    ) -> None:
        if len(workspace.pipelines) == MAX_PIPELINES:
            return  # no room for one more
        name = f"Pipeline {workspace.next_pipeline_id} of {len(workspace.pipelines)}"
        created = apply(workspace, CreatePipeline(name), at=AT).workspace
        gone = created.pipelines[-1].id
        deleted = apply(created, DeletePipeline(gone), at=AT).workspace
        after = apply(deleted, CreatePipeline(name), at=AT).workspace
        assert after.pipelines[-1].id != gone


def _deletions(workspace: Workspace) -> st.SearchStrategy[DeleteStage]:
    """``DeleteStage`` of an open stage, one holding leads when there is one."""
    candidates = [
        (pipeline, stage)
        for pipeline in workspace.pipelines
        if len(pipeline.open_stages) > 1
        for stage in pipeline.open_stages
    ]
    occupied = [pair for pair in candidates if workspace.leads_in(pair[0].id, pair[1].id)]
    pairs = occupied or candidates
    if not pairs:
        return st.builds(DeleteStage, st.just(workspace.main_pipeline_id), st.integers(-1, 200))
    return st.sampled_from(pairs).flatmap(
        lambda pair: st.builds(
            DeleteStage,
            st.just(pair[0].id),
            st.just(pair[1].id),
            st.one_of(
                st.none(),
                st.sampled_from([stage.id for stage in pair[0].open_stages]),
                st.sampled_from([stage.id for stage in pair[0].stages]),
            ),
        )
    )


class TestDeleteStage:
    @EXPENSIVE
    @given(st.data(), workspaces())
    def test_never_loses_a_lead(self, data: st.DataObject, workspace: Workspace) -> None:
        command = data.draw(
            _deletions(workspace) | delete_stage_commands(workspace), label="command"
        )
        # W2 allows deleting an open stage that is not the last, its leads going to
        # another open stage of the pipeline (the first that remains, by default).
        pipeline = next((p for p in workspace.pipelines if p.id == command.pipeline_id), None)
        opens = [] if pipeline is None else [stage.id for stage in pipeline.open_stages]
        allowed = command.stage_id in opens and len(opens) > 1
        if command.move_leads_to is not None:
            allowed &= command.move_leads_to in opens and command.move_leads_to != command.stage_id
        try:
            applied = apply(workspace, command, at=AT)
        except RuleViolation:
            assert not allowed
            return  # refused: the workspace is as it was (TestRefusals)
        assert allowed
        assert pipeline is not None
        after = applied.workspace
        assert len(after.leads) == len(workspace.leads)
        assert set(after.leads) == set(workspace.leads)
        moved = workspace.leads_in(command.pipeline_id, command.stage_id)
        if command.move_leads_to is None:
            target = next(s.id for s in pipeline.open_stages if s.id != command.stage_id)
        else:
            target = command.move_leads_to
        for lead in moved:
            assert after.lead(lead.id) == attrs.evolve(lead, stage_id=target, stage_entered_at=AT)
        for lead_id, lead in workspace.leads.items():
            if lead not in moved:
                assert after.lead(lead_id) == lead
        # W2: nothing silent, the event names exactly the leads that moved, and where.
        relocations = [event for event in applied.events if isinstance(event, LeadsRelocated)]
        if moved:
            (relocated,) = relocations
            assert sorted(relocated.lead_ids) == [lead.id for lead in moved]
            assert len(set(relocated.lead_ids)) == len(relocated.lead_ids)
            assert (relocated.from_stage_id, relocated.to_stage_id) == (command.stage_id, target)
        else:
            assert relocations == []
        assert isinstance(applied.events[-1], StageDeleted)


def some_of(items: list[int]) -> st.SearchStrategy[list[int]]:
    return st.lists(st.sampled_from(items), unique=True) if items else st.just([])


class TestLossReasons:
    @COSTLY
    @given(st.data(), workspaces())
    def test_a_reason_is_in_use_exactly_while_a_lead_gives_it(
        self, data: st.DataObject, workspace: Workspace
    ) -> None:
        # W5: lose some leads for a new reason, let some of them go in any way, then
        # deleting the reason is refused exactly when a lead still gives it.
        workspace = apply(workspace, AddLossReason("Reason of the law"), at=AT).workspace
        reason = workspace.loss_reasons[-1].id
        losing = data.draw(some_of(sorted(workspace.leads)), label="losing")
        for lead_id in losing:
            # Refused only for a lead waiting in incoming leads.
            lost = outcome(workspace, LoseLead(lead_id, reason))
            workspace = lost if isinstance(lost, Workspace) else workspace
        for lead_id in data.draw(some_of(losing), label="letting go"):
            pipeline = workspace.pipeline(workspace.lead(lead_id).pipeline_id)
            ways: list[Command] = [
                DeleteLead(lead_id),
                WinLead(lead_id),
                MoveLead(lead_id, pipeline.open_stages[0].id),
                LoseLead(lead_id),
            ]
            released = outcome(workspace, data.draw(st.sampled_from(ways), label="how"))
            workspace = released if isinstance(released, Workspace) else workspace
        giving = [lead for lead in workspace.leads.values() if lead.loss_reason_id == reason]
        if giving:
            message = f"loss reason {reason} is given for {len(giving)} lost lead"
            with pytest.raises(LossReasonInUse, match=message) as refusal:
                apply(workspace, DeleteLossReason(reason), at=AT)
            assert refusal.value.lead_count == len(giving)
        else:
            after = apply(workspace, DeleteLossReason(reason), at=AT).workspace
            assert reason not in [item.id for item in after.loss_reasons]


def new_lead(before: Workspace, after: Workspace) -> int:
    (lead_id,) = set(after.leads) - set(before.leads)
    return lead_id


def with_a_waiting_lead(data: st.DataObject, workspace: Workspace) -> tuple[Workspace, Lead]:
    """*workspace* with incoming leads on in some pipeline, and a new lead waiting there."""
    roomy = [p.id for p in workspace.pipelines if p.incoming or len(p.stages) < MAX_STAGES]
    pipeline_id = data.draw(st.sampled_from(roomy), label="pipeline_id")
    enable = EnableIncoming(pipeline_id, name="Incoming leads of the law")
    workspace = apply(workspace, enable, at=AT).workspace
    create = CreateLead("Waiting", pipeline_id=pipeline_id, incoming=True)
    before, workspace = workspace, apply(workspace, create, at=AT).workspace
    return workspace, workspace.lead(new_lead(before, workspace))


class TestWaitingLeads:
    @COSTLY
    @given(st.data(), workspaces())
    def test_a_waiting_lead_and_its_stage_are_locked(
        self, data: st.DataObject, workspace: Workspace
    ) -> None:
        # W4: the lock comes before the no-change rule and before the loss reason.
        workspace, lead = with_a_waiting_lead(data, workspace)
        reasons = [None, *(r.id for r in workspace.loss_reasons), workspace.next_loss_reason_id]
        stages = [s.id for s in workspace.pipeline(lead.pipeline_id).stages]
        locked: list[Command] = [
            WinLead(lead.id),
            *(LoseLead(lead.id, reason) for reason in reasons),
            *(MoveLead(lead.id, stage_id) for stage_id in stages),
        ]
        for command in locked:
            with pytest.raises(StageLocked, match="incoming leads stage"):
                apply(workspace, command, at=AT)
        # Nor can the stage it waits in be switched off.
        incoming = workspace.pipeline(lead.pipeline_id).incoming
        assert incoming is not None
        waiting = len(workspace.leads_in(lead.pipeline_id, incoming.id))
        with pytest.raises(IncomingNotEmpty, match=re.escape(f"{waiting} lead(s) wait")):
            apply(workspace, DisableIncoming(lead.pipeline_id), at=AT)

    @COSTLY
    @given(st.data(), workspaces())
    def test_a_waiting_lead_is_accepted_into_an_open_stage_only(
        self, data: st.DataObject, workspace: Workspace
    ) -> None:
        # W4: into the given open stage (the first by default), entering it now.
        workspace, lead = with_a_waiting_lead(data, workspace)
        pipeline = workspace.pipeline(lead.pipeline_id)
        for stage in [None, *pipeline.stages]:
            if stage is not None and stage.kind is not StageKind.OPEN:
                with pytest.raises(InvalidTarget, match="is not an open stage"):
                    apply(workspace, AcceptLead(lead.id, stage.id), at=LATER)
                continue
            stage_id = None if stage is None else stage.id
            accepted = apply(workspace, AcceptLead(lead.id, stage_id), at=LATER).workspace
            target = pipeline.open_stages[0] if stage is None else stage
            expected = attrs.evolve(lead, stage_id=target.id, stage_entered_at=LATER)
            assert accepted.lead(lead.id) == expected


class TestLoseLead:
    @COSTLY
    @given(st.data(), workspaces())
    def test_losing_a_lost_lead_again_changes_only_its_reason(
        self, data: st.DataObject, workspace: Workspace
    ) -> None:
        # W5: closed_at and stage_entered_at stay those of the first loss.
        workspace = apply(workspace, AddLossReason("First reason of the law"), at=AT).workspace
        workspace = apply(workspace, AddLossReason("Second reason of the law"), at=AT).workspace
        first, second = (reason.id for reason in workspace.loss_reasons[-2:])
        waiting = {lead.id for lead in waiting_leads(workspace)}
        # One lead at least that can be lost: a new one in the main pipeline.
        workspace = apply(workspace, CreateLead("Lost twice"), at=AT).workspace
        candidates = [lead_id for lead_id in sorted(workspace.leads) if lead_id not in waiting]
        lead_id = data.draw(st.sampled_from(candidates), label="lead_id")
        lost = apply(workspace, LoseLead(lead_id, first), at=AT).workspace
        again = apply(lost, LoseLead(lead_id, second), at=LATER)
        expected = attrs.evolve(lost.lead(lead_id), loss_reason_id=second)
        assert again.workspace.lead(lead_id) == expected
        (moved,) = again.events
        assert isinstance(moved, LeadMoved)
        lost_stage = workspace.pipeline(expected.pipeline_id).lost.id
        assert moved.from_stage_id == moved.to_stage_id == lost_stage
        assert moved.loss_reason_id == second


class TestCloseAndReopen:
    @COSTLY
    @given(st.data(), workspaces())
    def test_closed_at_and_the_reason_follow_the_stage(
        self, data: st.DataObject, workspace: Workspace
    ) -> None:
        # W5: entering won or lost closes a lead, entering an open stage reopens it; only
        # LoseLead gives a reason; every stage change sets stage_entered_at.
        workspace = apply(workspace, AddLossReason("Reason to close"), at=AT).workspace
        before, workspace = workspace, apply(workspace, CreateLead("Deal"), at=AT).workspace
        lead_id = new_lead(before, workspace)
        reasons = [None, *(reason.id for reason in workspace.loss_reasons)]
        targets = [
            (pipeline.id, stage.id)
            for pipeline in workspace.pipelines
            for stage in pipeline.stages
            if stage.kind is not StageKind.INCOMING
        ]
        ways: list[Command] = [
            WinLead(lead_id),
            *(LoseLead(lead_id, reason) for reason in reasons),
            *(MoveLead(lead_id, stage_id, pipeline_id) for pipeline_id, stage_id in targets),
        ]
        at = AT
        for command in data.draw(st.lists(st.sampled_from(ways), max_size=8), label="commands"):
            at += timedelta(hours=1)
            lead = workspace.lead(lead_id)
            workspace = apply(workspace, command, at=at).workspace
            after = workspace.lead(lead_id)
            kind = workspace.pipeline(after.pipeline_id).stage(after.stage_id).kind
            reason = command.loss_reason_id if isinstance(command, LoseLead) else None
            if (after.pipeline_id, after.stage_id) != (lead.pipeline_id, lead.stage_id):
                assert after.stage_entered_at == at
                assert after.closed_at == (at if kind in (StageKind.WON, StageKind.LOST) else None)
                assert after.loss_reason_id == reason
            else:
                assert after.stage_entered_at == lead.stage_entered_at
                assert after.closed_at == lead.closed_at
                # Only LoseLead changes anything in place: the reason, in lost.
                changed = isinstance(command, LoseLead)
                assert after.loss_reason_id == (reason if changed else lead.loss_reason_id)
