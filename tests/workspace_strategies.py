"""Shared Hypothesis strategies for workspaces and the commands applied to them.

Each ``*_commands(workspace)`` strategy draws one command of its class against the
workspace it is given: ids mostly name something that exists and sometimes
something that does not (or no longer does), names sometimes clash with or restate
existing ones, so accepted, refused and do-nothing commands all come up. Commands
are attrs classes whose ``repr`` is valid Python, and :class:`History` prints as the
commands and times that rebuild it, so a failing example prints a program.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, TypeAlias, TypeVar

from hypothesis import strategies as st

from pipekit import (
    AcceptLead,
    AddAutomation,
    AddLossReason,
    AddStage,
    Applied,
    CompleteAction,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DeleteLead,
    DeleteLossReason,
    DeletePipeline,
    DeleteStage,
    DisableAutomation,
    DisableIncoming,
    EnableAutomation,
    EnableIncoming,
    FailAction,
    HostAction,
    Lead,
    LoseLead,
    MoveLead,
    MovePipeline,
    MoveStage,
    MoveTo,
    Pipeline,
    RecolorStage,
    RemoveAutomation,
    RenameLossReason,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RunDue,
    SetMainPipeline,
    StageKind,
    Trigger,
    UpdateAutomation,
    WinLead,
    Workspace,
    apply,
    new_workspace,
)
from pipekit.commands import Command
from tests.strategies import color_texts, raw_names

__all__ = [
    "BOUNDS",
    "COMMAND_STRATEGIES",
    "DELAYS",
    "FAILURE_REASONS",
    "HOST_ACTIONS",
    "NAMES",
    "PRICES",
    "START",
    "TRIGGERS",
    "VALID_DELAYS",
    "ZONES",
    "History",
    "accept_lead_commands",
    "add_automation_commands",
    "add_loss_reason_commands",
    "add_stage_commands",
    "automation_ids",
    "commands",
    "complete_action_commands",
    "create_lead_commands",
    "create_pipeline_commands",
    "decline_lead_commands",
    "delete_lead_commands",
    "delete_loss_reason_commands",
    "delete_pipeline_commands",
    "delete_stage_commands",
    "disable_automation_commands",
    "disable_incoming_commands",
    "enable_automation_commands",
    "enable_incoming_commands",
    "fail_action_commands",
    "histories",
    "idle_commands",
    "lead_ids",
    "lose_lead_commands",
    "move_lead_commands",
    "move_pipeline_commands",
    "move_stage_commands",
    "new_automations",
    "new_leads",
    "pipeline_ids",
    "reason_ids",
    "recolor_stage_commands",
    "remove_automation_commands",
    "rename_loss_reason_commands",
    "rename_pipeline_commands",
    "rename_stage_commands",
    "rename_terminal_commands",
    "run_due_commands",
    "scheduled_ids",
    "set_main_pipeline_commands",
    "stage_ids",
    "update_automation_commands",
    "waiting_leads",
    "win_lead_commands",
    "workspaces",
]

_T = TypeVar("_T")

START: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
"""When the histories start; every later command happens at the same time or after."""

ZONES: Final = (
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
)
"""The time zones ``at`` is given in: pipekit compares instants, whatever the zone."""

# Built once: these strategies are drawn from at every step. Valid names are short
# here (the core's tests try the longest ones), so that long histories stay cheap.
NAMES: Final = (
    st.text(st.characters(exclude_categories=("Cc", "Zl", "Zp", "Cs")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
_RAW_NAMES: Final = raw_names()
_COLOR_TEXTS: Final = color_texts()
PRICES: Final = st.one_of(st.integers(0, 100), *[st.integers(0, 10**9)] * 4, st.integers(-3, -1))


# -- ids --------------------------------------------------------------------------


def _mostly(likely: Sequence[_T], rarely: Sequence[_T], odds: int = 3) -> st.SearchStrategy[_T]:
    """One of *likely* about *odds* times as often as one of *rarely*.

    The weights are repeats in one ``sampled_from`` list, not repeated branches of
    ``one_of``: Hypothesis prefers values it has not seen, so it draws a branch of few
    values (the known ids) far less often than its share of the branches.
    """
    if not likely or not rarely:
        return st.sampled_from([*likely, *rarely])
    likely_copies = max(1, math.ceil(odds * len(rarely) / len(likely)))
    rarely_copies = max(1, round(len(likely) * likely_copies / (odds * len(rarely))))
    return st.sampled_from([*likely] * likely_copies + [*rarely] * rarely_copies)


def _unknown(known: Sequence[int], counter: int, low: int = 1) -> list[int]:
    """Ids that name nothing: below 1, given once and gone since, or not given yet."""
    taken = set(known)
    gone = [item for item in range(low, counter) if item not in taken][:3]
    return [-1, 0, *gone, counter, counter + 1]


def _known_or_not(known: Sequence[int], counter: int) -> st.SearchStrategy[int]:
    """An id from *known* three times out of four, else one that names nothing."""
    return _mostly(known, _unknown(known, counter))


def _new_ids(known: Sequence[int], counter: int) -> st.SearchStrategy[int | None]:
    """The id a command passes for a new thing: mostly none, else free, clashing or invalid.

    A free id may lie below the counter (never given, or given and gone since): passing
    one is allowed, and the counter must then stay where it is.
    """
    clashing = sorted({*known[:1], *known[-1:]})
    # Past the next multiple of 32, with low bits 1: the persistent index keys ids by
    # their low bits first, so this id comes before smaller ones in its own order.
    far = (counter // 32 + 1) * 32 + 1
    free = [*_unknown(known, counter), counter + 7, far]
    return _mostly([None], [*free, *clashing], odds=2)


def pipeline_ids(workspace: Workspace) -> st.SearchStrategy[int]:
    """Pipeline ids: mostly of the workspace's pipelines, sometimes unknown or deleted."""
    known = [pipeline.id for pipeline in workspace.pipelines]
    return _known_or_not(known, workspace.next_pipeline_id)


def lead_ids(workspace: Workspace) -> st.SearchStrategy[int]:
    """Lead ids: mostly of the workspace's leads, sometimes unknown or deleted."""
    return _known_or_not(sorted(workspace.leads), workspace.next_lead_id)


def reason_ids(workspace: Workspace) -> st.SearchStrategy[int]:
    """Loss reason ids: mostly of the workspace's loss reasons, sometimes unknown."""
    known = [reason.id for reason in workspace.loss_reasons]
    return _known_or_not(known, workspace.next_loss_reason_id)


def stage_ids(workspace: Workspace, pipeline_id: int) -> st.SearchStrategy[int]:
    """Stage ids: mostly of the pipeline *pipeline_id*, sometimes of another, or unknown."""
    pipeline = _pipeline_or_none(workspace, pipeline_id)
    own = [] if pipeline is None else [stage.id for stage in pipeline.stages]
    elsewhere = sorted(
        {stage.id for other in workspace.pipelines for stage in other.stages} - set(own)
    )
    counter = max(other.next_stage_id for other in workspace.pipelines)
    return _mostly(own, [*elsewhere[:2], *_unknown(own, counter, low=142)])


def waiting_leads(workspace: Workspace) -> list[Lead]:
    """The leads waiting in an incoming leads stage, by pipeline then id."""
    return [
        lead
        for pipeline in workspace.pipelines
        if pipeline.incoming is not None
        for lead in workspace.leads_in(pipeline.id, pipeline.incoming.id)
    ]


def _pipeline_or_none(workspace: Workspace, pipeline_id: int | None) -> Pipeline | None:
    for pipeline in workspace.pipelines:
        if pipeline.id == pipeline_id:
            return pipeline
    return None


def _lead_or_none(workspace: Workspace, lead_id: int) -> Lead | None:
    return workspace.leads.get(lead_id)


# -- names and colours ----------------------------------------------------------------


def _names_near(existing: Sequence[str]) -> st.SearchStrategy[str]:
    """A name a user might type: new, invalid, or one of *existing* restated or re-cased."""
    if not existing:
        return _RAW_NAMES
    again = st.sampled_from(existing).flatmap(
        lambda name: st.sampled_from([name, name.upper(), name.lower(), f" {name} "])
    )
    return st.one_of(_RAW_NAMES, NAMES, again)


def _colors(pipeline: Pipeline | None) -> st.SearchStrategy[str]:
    """Colour strings: any spelling, an invalid one, or a colour the pipeline already uses."""
    if pipeline is None:
        return _COLOR_TEXTS
    used = st.sampled_from([stage.color.hex for stage in pipeline.stages])
    return st.one_of(_COLOR_TEXTS, used, st.just("#12"))


def _stage_names(workspace: Workspace, pipeline_id: int) -> list[str]:
    pipeline = _pipeline_or_none(workspace, pipeline_id)
    return [] if pipeline is None else [stage.name for stage in pipeline.stages]


def _open_count(workspace: Workspace, pipeline_id: int) -> int:
    pipeline = _pipeline_or_none(workspace, pipeline_id)
    return 3 if pipeline is None else len(pipeline.open_stages)


# -- stage commands -------------------------------------------------------------------


@st.composite
def add_stage_commands(draw: st.DrawFn, workspace: Workspace) -> AddStage:
    """``AddStage`` against *workspace*."""
    pipeline_id = draw(pipeline_ids(workspace))
    pipeline = _pipeline_or_none(workspace, pipeline_id)
    known = [] if pipeline is None else [stage.id for stage in pipeline.stages]
    counter = 150 if pipeline is None else pipeline.next_stage_id
    return AddStage(
        pipeline_id,
        draw(_names_near(_stage_names(workspace, pipeline_id))),
        position=draw(st.none() | st.integers(-1, _open_count(workspace, pipeline_id) + 1)),
        color=draw(st.none() | st.none() | _colors(pipeline)),
        stage_id=draw(_new_ids(known, counter)),
    )


@st.composite
def rename_stage_commands(draw: st.DrawFn, workspace: Workspace) -> RenameStage:
    """``RenameStage`` against *workspace*."""
    pipeline_id = draw(pipeline_ids(workspace))
    stage_id = draw(stage_ids(workspace, pipeline_id))
    return RenameStage(
        pipeline_id, stage_id, draw(_names_near(_stage_names(workspace, pipeline_id)))
    )


@st.composite
def recolor_stage_commands(draw: st.DrawFn, workspace: Workspace) -> RecolorStage:
    """``RecolorStage`` against *workspace*."""
    pipeline_id = draw(pipeline_ids(workspace))
    stage_id = draw(stage_ids(workspace, pipeline_id))
    return RecolorStage(
        pipeline_id, stage_id, draw(_colors(_pipeline_or_none(workspace, pipeline_id)))
    )


@st.composite
def move_stage_commands(draw: st.DrawFn, workspace: Workspace) -> MoveStage:
    """``MoveStage`` against *workspace*."""
    pipeline_id = draw(pipeline_ids(workspace))
    stage_id = draw(stage_ids(workspace, pipeline_id))
    position = draw(st.integers(-1, _open_count(workspace, pipeline_id)))
    return MoveStage(pipeline_id, stage_id, position)


@st.composite
def delete_stage_commands(draw: st.DrawFn, workspace: Workspace) -> DeleteStage:
    """``DeleteStage`` against *workspace*, now and then naming where the leads go."""
    pipeline_id = draw(pipeline_ids(workspace))
    stage_id = draw(stage_ids(workspace, pipeline_id))
    target = draw(st.none() | st.none() | stage_ids(workspace, pipeline_id))
    return DeleteStage(pipeline_id, stage_id, move_leads_to=target)


@st.composite
def rename_terminal_commands(draw: st.DrawFn, workspace: Workspace) -> RenameTerminal:
    """``RenameTerminal`` against *workspace* (another outcome cannot be built)."""
    pipeline_id = draw(pipeline_ids(workspace))
    outcome = draw(st.sampled_from([StageKind.WON, StageKind.LOST]))
    name = draw(_names_near(_stage_names(workspace, pipeline_id)))
    return RenameTerminal(pipeline_id, outcome, name)


@st.composite
def enable_incoming_commands(draw: st.DrawFn, workspace: Workspace) -> EnableIncoming:
    """``EnableIncoming`` against *workspace*."""
    pipeline_id = draw(pipeline_ids(workspace))
    name = draw(st.just("Incoming leads") | _names_near(_stage_names(workspace, pipeline_id)))
    color = draw(st.none() | st.none() | _COLOR_TEXTS | st.just("grey"))
    return EnableIncoming(pipeline_id, name=name, color=color)


def disable_incoming_commands(workspace: Workspace) -> st.SearchStrategy[DisableIncoming]:
    """``DisableIncoming`` against *workspace*."""
    return st.builds(DisableIncoming, pipeline_ids(workspace))


# -- pipeline commands ----------------------------------------------------------------


def _pipeline_names(workspace: Workspace) -> list[str]:
    return [pipeline.name for pipeline in workspace.pipelines]


@st.composite
def create_pipeline_commands(draw: st.DrawFn, workspace: Workspace) -> CreatePipeline:
    """``CreatePipeline`` against *workspace*."""
    known = [pipeline.id for pipeline in workspace.pipelines]
    return CreatePipeline(
        draw(_names_near(_pipeline_names(workspace))),
        incoming=draw(st.booleans()),
        pipeline_id=draw(_new_ids(known, workspace.next_pipeline_id)),
    )


@st.composite
def rename_pipeline_commands(draw: st.DrawFn, workspace: Workspace) -> RenamePipeline:
    """``RenamePipeline`` against *workspace*."""
    pipeline_id = draw(pipeline_ids(workspace))
    return RenamePipeline(pipeline_id, draw(_names_near(_pipeline_names(workspace))))


@st.composite
def move_pipeline_commands(draw: st.DrawFn, workspace: Workspace) -> MovePipeline:
    """``MovePipeline`` against *workspace*."""
    pipeline_id = draw(pipeline_ids(workspace))
    return MovePipeline(pipeline_id, draw(st.integers(-1, len(workspace.pipelines))))


def set_main_pipeline_commands(workspace: Workspace) -> st.SearchStrategy[SetMainPipeline]:
    """``SetMainPipeline`` against *workspace*."""
    return st.builds(SetMainPipeline, pipeline_ids(workspace))


def delete_pipeline_commands(workspace: Workspace) -> st.SearchStrategy[DeletePipeline]:
    """``DeletePipeline`` against *workspace*."""
    return st.builds(DeletePipeline, pipeline_ids(workspace))


# -- lead commands --------------------------------------------------------------------


@st.composite
def create_lead_commands(draw: st.DrawFn, workspace: Workspace) -> CreateLead:
    """``CreateLead`` against *workspace*: default, named or incoming stage, any price."""
    incoming = draw(st.booleans())
    with_incoming = [p.id for p in workspace.pipelines if p.incoming is not None]
    some_pipeline = pipeline_ids(workspace)
    if incoming and with_incoming:
        some_pipeline |= st.sampled_from(with_incoming)
    pipeline_id = draw(st.none() | some_pipeline)
    target = workspace.main_pipeline_id if pipeline_id is None else pipeline_id
    stage_id = draw(st.one_of(st.none(), st.none(), stage_ids(workspace, target)))
    return CreateLead(
        draw(st.one_of(NAMES, _RAW_NAMES)),
        price=draw(PRICES),
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        incoming=incoming,
        lead_id=draw(_new_ids(sorted(workspace.leads), workspace.next_lead_id)),
    )


@st.composite
def new_leads(draw: st.DrawFn, workspace: Workspace) -> CreateLead:
    """``CreateLead`` that *workspace* accepts: a valid name and price, an open or incoming stage.

    Only the lead counter's ids are used, so that several can be drawn for one workspace.
    """
    pipeline = draw(st.sampled_from(workspace.pipelines))
    stages = [*pipeline.open_stages, *([] if pipeline.incoming is None else [pipeline.incoming])]
    stage = draw(st.sampled_from(stages))
    incoming = stage.kind is StageKind.INCOMING
    return CreateLead(
        draw(NAMES),
        price=draw(st.integers(0, 10**9)),
        pipeline_id=pipeline.id,
        stage_id=None if incoming else stage.id,
        incoming=incoming,
    )


@st.composite
def move_lead_commands(draw: st.DrawFn, workspace: Workspace) -> MoveLead:
    """``MoveLead`` against *workspace*: within the lead's pipeline, or to another."""
    lead_id = draw(lead_ids(workspace))
    pipeline_id = draw(st.none() | st.none() | pipeline_ids(workspace))
    lead = _lead_or_none(workspace, lead_id)
    if pipeline_id is not None:
        target = pipeline_id
    elif lead is not None:
        target = lead.pipeline_id
    else:
        target = workspace.main_pipeline_id
    return MoveLead(lead_id, draw(stage_ids(workspace, target)), pipeline_id=pipeline_id)


def win_lead_commands(workspace: Workspace) -> st.SearchStrategy[WinLead]:
    """``WinLead`` against *workspace*."""
    return st.builds(WinLead, lead_ids(workspace))


@st.composite
def lose_lead_commands(draw: st.DrawFn, workspace: Workspace) -> LoseLead:
    """``LoseLead`` against *workspace*, sometimes restating the reason a lost lead has."""
    # Leads already lost come up more often (losing one again only changes the reason),
    # and so do leads waiting in incoming leads (which cannot be lost).
    lost = [
        lead.id
        for lead in workspace.leads.values()
        if lead.stage_id == workspace.pipeline(lead.pipeline_id).lost.id
    ]
    waiting = [lead.id for lead in waiting_leads(workspace)]
    known_leads = sorted(workspace.leads)
    likely = [*lost, *waiting, *known_leads]
    lead_id = draw(_mostly(likely, _unknown(known_leads, workspace.next_lead_id)))
    lead = _lead_or_none(workspace, lead_id)
    known = [reason.id for reason in workspace.loss_reasons]
    same = None if lead is None else lead.loss_reason_id
    reasons = _mostly([None, same, *known], _unknown(known, workspace.next_loss_reason_id))
    return LoseLead(lead_id, loss_reason_id=draw(reasons))


def _incoming_lead_ids(workspace: Workspace) -> st.SearchStrategy[int]:
    waiting = [lead.id for lead in waiting_leads(workspace)]
    if not waiting:
        return lead_ids(workspace)
    others = [lead_id for lead_id in workspace.leads if lead_id not in waiting]
    return _mostly(waiting, [*others[:3], *_unknown(list(workspace.leads), workspace.next_lead_id)])


@st.composite
def accept_lead_commands(draw: st.DrawFn, workspace: Workspace) -> AcceptLead:
    """``AcceptLead`` against *workspace*, mostly of a lead that waits in incoming leads."""
    lead_id = draw(_incoming_lead_ids(workspace))
    lead = _lead_or_none(workspace, lead_id)
    pipeline_id = workspace.main_pipeline_id if lead is None else lead.pipeline_id
    return AcceptLead(lead_id, stage_id=draw(st.none() | stage_ids(workspace, pipeline_id)))


def decline_lead_commands(workspace: Workspace) -> st.SearchStrategy[DeclineLead]:
    """``DeclineLead`` against *workspace*, mostly of a lead that waits in incoming leads."""
    return st.builds(DeclineLead, _incoming_lead_ids(workspace))


def delete_lead_commands(workspace: Workspace) -> st.SearchStrategy[DeleteLead]:
    """``DeleteLead`` against *workspace*, more often of a lead that gives a loss reason."""
    known = sorted(workspace.leads)
    giving = [lead_id for lead_id in known if workspace.leads[lead_id].loss_reason_id]
    return st.builds(
        DeleteLead, _mostly([*giving, *known], _unknown(known, workspace.next_lead_id))
    )


# -- loss reason commands -------------------------------------------------------------


def _reason_names(workspace: Workspace) -> list[str]:
    return [reason.name for reason in workspace.loss_reasons]


@st.composite
def add_loss_reason_commands(draw: st.DrawFn, workspace: Workspace) -> AddLossReason:
    """``AddLossReason`` against *workspace*."""
    known = [reason.id for reason in workspace.loss_reasons]
    return AddLossReason(
        draw(_names_near(_reason_names(workspace))),
        reason_id=draw(_new_ids(known, workspace.next_loss_reason_id)),
    )


@st.composite
def rename_loss_reason_commands(draw: st.DrawFn, workspace: Workspace) -> RenameLossReason:
    """``RenameLossReason`` against *workspace*."""
    reason_id = draw(reason_ids(workspace))
    return RenameLossReason(reason_id, draw(_names_near(_reason_names(workspace))))


def delete_loss_reason_commands(workspace: Workspace) -> st.SearchStrategy[DeleteLossReason]:
    """``DeleteLossReason`` against *workspace*, as often of a reason in use as of any other."""
    known = [reason.id for reason in workspace.loss_reasons]
    in_use = sorted(
        {
            lead.loss_reason_id
            for lead in workspace.leads.values()
            if lead.loss_reason_id is not None
        }
    )
    reasons = _mostly([*in_use, *known], _unknown(known, workspace.next_loss_reason_id))
    return st.builds(DeleteLossReason, reasons)


# -- automation commands (the Digital Pipeline) -----------------------------------------


def automation_ids(workspace: Workspace) -> st.SearchStrategy[int]:
    """Automation ids: mostly of the workspace's automations, sometimes unknown or removed."""
    known = [automation.id for automation in workspace.automations]
    return _known_or_not(known, workspace.next_automation_id)


def _positive(value: int) -> bool:
    return value > 0


HOST_ACTIONS: Final = st.sampled_from(
    [
        HostAction("send_email", {"template": "welcome", "cc": ["sales@example.com"]}),
        HostAction("webhook", {"url": "https://example.com/hook", "retries": 3}),
        HostAction("create_task", {}),
    ]
)
# No delay most often: only an item due at once can come due again within the RunDue
# that scheduled it, which is how loops happen.
DELAYS: Final = st.sampled_from(
    [
        *[timedelta(0)] * 3,
        timedelta(minutes=5),
        timedelta(hours=3),
        timedelta(days=1),
        timedelta(seconds=-1),
    ]
)
# Kommo's default first: it fires on creation and on moves in alike.
TRIGGERS: Final = st.sampled_from([Trigger.ENTERED, *Trigger])
VALID_DELAYS: Final = DELAYS.filter(lambda delay: delay >= timedelta(0))
BOUNDS: Final = st.sampled_from([None, None, None, 0, 500, 10**6])


Settings: TypeAlias = tuple[
    tuple[int, ...], Trigger, MoveTo | HostAction, timedelta, int | None, int | None
]


@st.composite
def _automation_settings(draw: st.DrawFn, workspace: Workspace, pipeline_id: int) -> Settings:
    """What Add and Update share: stages (now and then none), trigger, action, delay, prices."""
    watched = tuple(draw(st.lists(stage_ids(workspace, pipeline_id), max_size=3, unique=True)))
    trigger = draw(st.sampled_from(Trigger))
    if draw(st.booleans()):
        action: MoveTo | HostAction = draw(HOST_ACTIONS)
    else:
        # A MoveTo is a value, valid from birth: its ids are positive, if unknown.
        target = draw(st.none() | st.none() | st.none() | pipeline_ids(workspace).filter(_positive))
        within = pipeline_id if target is None else target
        action = MoveTo(draw(stage_ids(workspace, within).filter(_positive)), pipeline_id=target)
    return watched, trigger, action, draw(DELAYS), draw(BOUNDS), draw(BOUNDS)


@st.composite
def add_automation_commands(draw: st.DrawFn, workspace: Workspace) -> AddAutomation:
    """``AddAutomation`` against *workspace*: valid, or refused for any of its rules."""
    pipeline_id = draw(pipeline_ids(workspace))
    settings = draw(_automation_settings(workspace, pipeline_id))
    known = [automation.id for automation in workspace.automations]
    return AddAutomation(
        pipeline_id, *settings, automation_id=draw(_new_ids(known, workspace.next_automation_id))
    )


@st.composite
def update_automation_commands(draw: st.DrawFn, workspace: Workspace) -> UpdateAutomation:
    """``UpdateAutomation`` against *workspace*, now and then restating what it is."""
    automation_id = draw(automation_ids(workspace))
    automation = next((a for a in workspace.automations if a.id == automation_id), None)
    if automation is not None and draw(st.integers(0, 3)) == 0:
        return UpdateAutomation(
            automation.id,
            automation.stage_ids,
            automation.trigger,
            automation.action,
            automation.delay,
            automation.min_price,
            automation.max_price,
        )
    pipeline_id = workspace.main_pipeline_id if automation is None else automation.pipeline_id
    return UpdateAutomation(automation_id, *draw(_automation_settings(workspace, pipeline_id)))


@st.composite
def new_automations(draw: st.DrawFn, workspace: Workspace) -> AddAutomation:
    """``AddAutomation`` that *workspace* accepts, unless its pipeline holds 100 already.

    It watches one to three stages of its pipeline (incoming leads only for a host
    action) and a move targets a stage that is not incoming leads, mostly in its
    own pipeline; no delay more often than not. Now and then it closes a loop: it
    moves leads back from where an existing move sends them, with no delay, so that
    ``RunDue`` meets loops.
    """
    moves = [a for a in workspace.automations if a.target is not None and a.enabled]
    if moves and draw(st.integers(0, 3)) == 0:
        move = draw(st.sampled_from(moves))
        assert move.target is not None
        back = MoveTo(move.stage_ids[0], pipeline_id=move.pipeline_id)
        trigger = draw(st.sampled_from([Trigger.ENTERED, Trigger.MOVED_IN]))
        return AddAutomation(move.target[0], (move.target[1],), trigger, back)
    pipeline = draw(st.sampled_from(workspace.pipelines))
    if draw(st.booleans()):
        action: MoveTo | HostAction = draw(HOST_ACTIONS)
        watchable = list(pipeline.stages)
    else:
        elsewhere = draw(st.sampled_from([None, None, None, *workspace.pipelines]))
        there = pipeline if elsewhere is None else elsewhere
        targets = [stage for stage in there.stages if stage.kind is not StageKind.INCOMING]
        target = draw(st.sampled_from(targets))
        action = MoveTo(target.id, pipeline_id=None if elsewhere is None else elsewhere.id)
        watchable = [stage for stage in pipeline.stages if stage.kind is not StageKind.INCOMING]
    watched = draw(st.lists(st.sampled_from(watchable), min_size=1, max_size=3, unique=True))
    # No bound, or bounds in order (an unset one sorts as 0).
    low, high = sorted([draw(BOUNDS), draw(BOUNDS)], key=lambda bound: bound or 0)
    return AddAutomation(
        pipeline.id,
        tuple(stage.id for stage in watched),
        draw(TRIGGERS),
        action,
        delay=draw(VALID_DELAYS),
        min_price=low,
        max_price=high,
    )


def enable_automation_commands(workspace: Workspace) -> st.SearchStrategy[EnableAutomation]:
    """``EnableAutomation`` against *workspace*."""
    return st.builds(EnableAutomation, automation_ids(workspace))


def disable_automation_commands(workspace: Workspace) -> st.SearchStrategy[DisableAutomation]:
    """``DisableAutomation`` against *workspace*."""
    return st.builds(DisableAutomation, automation_ids(workspace))


def remove_automation_commands(workspace: Workspace) -> st.SearchStrategy[RemoveAutomation]:
    """``RemoveAutomation`` against *workspace*."""
    return st.builds(RemoveAutomation, automation_ids(workspace))


# -- scheduled action commands (the Digital Pipeline) ------------------------------------


def scheduled_ids(workspace: Workspace) -> st.SearchStrategy[int]:
    """Scheduled action ids: mostly of items handed over, else waiting, gone or never given.

    Only a handed-over item can be reported on, so the others are the wrong ids a
    host might send: one still waiting, one completed, failed or cancelled since.
    """
    handed = sorted(item.id for item in workspace.scheduled if item.handed_over_at is not None)
    waiting = {
        type(item.action): item.id for item in workspace.scheduled if item.handed_over_at is None
    }
    known = sorted(item.id for item in workspace.scheduled)
    # A host action not handed over yet, and a move, which never is.
    wrong = [*sorted(waiting.values()), *_unknown(known, workspace.next_scheduled_id)]
    return _mostly(handed, wrong)


def run_due_commands(workspace: Workspace) -> st.SearchStrategy[RunDue]:
    """``RunDue``: what it finds due depends on the time it is applied at."""
    return st.just(RunDue())


def complete_action_commands(workspace: Workspace) -> st.SearchStrategy[CompleteAction]:
    """``CompleteAction`` against *workspace*, mostly of an item handed over."""
    return st.builds(CompleteAction, scheduled_ids(workspace))


# The longest reason allowed, and one past it.
FAILURE_REASONS: Final = st.one_of(
    st.sampled_from(["the mail server said no", "", "x" * 1000, "x" * 1001]), NAMES
)


@st.composite
def fail_action_commands(draw: st.DrawFn, workspace: Workspace) -> FailAction:
    """``FailAction`` against *workspace*, mostly of an item handed over, any reason."""
    return FailAction(draw(scheduled_ids(workspace)), draw(FAILURE_REASONS))


# -- commands that change nothing -----------------------------------------------------


@st.composite
def idle_commands(draw: st.DrawFn, workspace: Workspace) -> Command:
    """Commands that, by the rules, change nothing in *workspace*: they restate what is.

    Moving a lead to the stage it is in, winning a won lead, losing a lost lead for the
    reason it has, enabling an enabled automation or disabling a disabled one, updating
    one to its own settings, renaming to the same name (or the same name padded), recolouring to
    the same colour spelled otherwise, moving a stage or pipeline to where it is,
    switching incoming leads on when on (whatever the name and colour) or off when off.
    """
    pipeline = draw(st.sampled_from(workspace.pipelines))
    position = draw(st.integers(0, len(pipeline.open_stages) - 1))
    stage = pipeline.open_stages[position]
    idle: list[Command] = [
        SetMainPipeline(workspace.main_pipeline_id),
        MovePipeline(pipeline.id, workspace.pipelines.index(pipeline)),
        RenamePipeline(pipeline.id, f" {pipeline.name} "),
        RenameStage(pipeline.id, stage.id, stage.name),
        RecolorStage(pipeline.id, stage.id, stage.color.hex.upper()),
        MoveStage(pipeline.id, stage.id, position),
        RenameTerminal(pipeline.id, StageKind.WON, pipeline.won.name),
        RenameTerminal(pipeline.id, StageKind.LOST, f"{pipeline.lost.name}  "),
        EnableIncoming(pipeline.id, name="", color="not a colour")
        if pipeline.incoming is not None
        else DisableIncoming(pipeline.id),
    ]
    if workspace.loss_reasons:
        reason = draw(st.sampled_from(workspace.loss_reasons))
        idle.append(RenameLossReason(reason.id, reason.name))
    if workspace.automations:
        automation = draw(st.sampled_from(workspace.automations))
        idle.append(
            EnableAutomation(automation.id)
            if automation.enabled
            else DisableAutomation(automation.id)
        )
        idle.append(
            UpdateAutomation(
                automation.id,
                list(automation.stage_ids),  # type: ignore[arg-type]  # a list is taken too
                automation.trigger,
                automation.action,
                automation.delay,
                automation.min_price,
                automation.max_price,
            )
        )
    if workspace.leads:
        lead = draw(st.sampled_from(sorted(workspace.leads.values(), key=lambda lead: lead.id)))
        kind = workspace.pipeline(lead.pipeline_id).stage(lead.stage_id).kind
        if kind is not StageKind.INCOMING:
            idle.append(MoveLead(lead.id, lead.stage_id))
            idle.append(MoveLead(lead.id, lead.stage_id, pipeline_id=lead.pipeline_id))
        if kind is StageKind.WON:
            idle.append(WinLead(lead.id))
        if kind is StageKind.LOST:
            idle.append(LoseLead(lead.id, lead.loss_reason_id))
    return draw(st.sampled_from(idle))


# -- all of them ----------------------------------------------------------------------

COMMAND_STRATEGIES: Final[
    dict[type[Command], Callable[[Workspace], st.SearchStrategy[Command]]]
] = {
    AddStage: add_stage_commands,
    RenameStage: rename_stage_commands,
    RecolorStage: recolor_stage_commands,
    MoveStage: move_stage_commands,
    DeleteStage: delete_stage_commands,
    RenameTerminal: rename_terminal_commands,
    EnableIncoming: enable_incoming_commands,
    DisableIncoming: disable_incoming_commands,
    CreatePipeline: create_pipeline_commands,
    RenamePipeline: rename_pipeline_commands,
    MovePipeline: move_pipeline_commands,
    SetMainPipeline: set_main_pipeline_commands,
    DeletePipeline: delete_pipeline_commands,
    CreateLead: create_lead_commands,
    MoveLead: move_lead_commands,
    WinLead: win_lead_commands,
    LoseLead: lose_lead_commands,
    AcceptLead: accept_lead_commands,
    DeclineLead: decline_lead_commands,
    DeleteLead: delete_lead_commands,
    AddLossReason: add_loss_reason_commands,
    RenameLossReason: rename_loss_reason_commands,
    DeleteLossReason: delete_loss_reason_commands,
    AddAutomation: add_automation_commands,
    UpdateAutomation: update_automation_commands,
    EnableAutomation: enable_automation_commands,
    DisableAutomation: disable_automation_commands,
    RemoveAutomation: remove_automation_commands,
    RunDue: run_due_commands,
    CompleteAction: complete_action_commands,
    FailAction: fail_action_commands,
}
"""For every command class, the strategy drawing one of it against a workspace."""


# Which command to draw first, then the command against the workspace: building one
# strategy a step, not 23, keeps long histories cheap to generate.
_KINDS: Final = st.sampled_from(list(COMMAND_STRATEGIES))
# Leads, loss reasons and pipelines come up more often while growing a workspace, so
# that it holds enough of them for the commands on them to matter.
_GROWING_KINDS: Final = st.sampled_from(
    [
        *COMMAND_STRATEGIES,
        *[CreateLead] * 4,
        AddLossReason,
        AddAutomation,
        AddAutomation,
        # More often, so that items get handed over and reported on.
        *[RunDue] * 2,
        CompleteAction,
        FailAction,
    ]
)


@st.composite
def commands(draw: st.DrawFn, workspace: Workspace) -> Command:
    """Any command, valid or not, against *workspace*: every class equally often."""
    return draw(COMMAND_STRATEGIES[draw(_KINDS)](workspace))


@st.composite
def _growing_commands(draw: st.DrawFn, workspace: Workspace) -> Command:
    return draw(COMMAND_STRATEGIES[draw(_GROWING_KINDS)](workspace))


# -- histories ------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """A workspace grown from ``new_workspace(incoming=incoming)`` by commands at given times.

    ``steps`` holds every command tried and when, refused ones included; the
    ``repr`` is just those, so a failing example prints what rebuilds it. ``results``
    holds, per step, what :func:`pipekit.apply` returned, or ``None`` when it refused.
    """

    incoming: bool
    steps: tuple[tuple[Command, datetime], ...]
    start: Workspace = field(repr=False, compare=False)
    results: tuple[Applied | None, ...] = field(repr=False, compare=False)

    @property
    def final(self) -> Workspace:
        """The workspace after the last step."""
        for result in reversed(self.results):
            if result is not None:
                return result.workspace
        return self.start

    @property
    def applied(self) -> list[tuple[Command, datetime, Applied]]:
        """The steps that were accepted, with their time and what ``apply`` returned."""
        return [
            (command, at, result)
            for (command, at), result in zip(self.steps, self.results, strict=True)
            if result is not None
        ]


@st.composite
def histories(draw: st.DrawFn, max_steps: int = 15, incoming: bool | None = None) -> History:
    """Histories of one workspace from ``new_workspace()``, times moving forward.

    A few pipelines, loss reasons, automations and leads come first, made by valid
    commands, so that most histories have something for every command to act on; then up to
    *max_steps* commands of any kind, valid or not. The first pipeline has incoming leads
    when *incoming* is true, none when it is false, and either when it is ``None``.
    """
    if incoming is None:
        incoming = draw(st.booleans())
    start = new_workspace(incoming=incoming)
    zone = draw(st.sampled_from(ZONES))
    workspace, now = start, START
    steps: list[tuple[Command, datetime]] = []
    results: list[Applied | None] = []

    def run(command: Command) -> None:
        nonlocal workspace, now
        now += timedelta(seconds=draw(st.integers(0, 86_400)))
        at = now.astimezone(zone)
        steps.append((command, at))
        try:
            result = apply(workspace, command, at=at)
        except ValueError:  # refused (a RuleViolation), or a terminal outcome that is not one
            results.append(None)
        else:
            workspace = result.workspace
            results.append(result)

    for number, with_incoming in enumerate(draw(st.lists(st.booleans(), max_size=3)), start=2):
        run(CreatePipeline(f"Pipeline {number}", incoming=with_incoming))
    for number in range(1, draw(st.integers(0, 3)) + 1):
        run(AddLossReason(f"Reason {number}"))
    for _ in range(draw(st.integers(0, 4))):
        run(draw(new_automations(workspace)))
    for _ in range(draw(st.integers(0, 12))):
        run(draw(new_leads(workspace)))
    for _ in range(draw(st.integers(0, max_steps))):
        run(draw(_growing_commands(workspace)))
    return History(incoming, tuple(steps), start, tuple(results))


def workspaces(max_steps: int = 15) -> st.SearchStrategy[Workspace]:
    """Workspaces grown from ``new_workspace()`` by random commands, refused ones skipped."""
    return histories(max_steps).map(lambda history: history.final)
