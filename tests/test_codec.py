"""The JSON codec: round trips, stable output, tags, schema versions, strictness and totality.

Read as the specification of :mod:`pipekit.codec` (issue 4, "Codec"): every value
survives ``load(dump(x))``; ``dump`` writes plain, sorted JSON; ``load`` is strict
and total, so for any JSON value at all it returns a valid value or raises
:class:`~pipekit.DecodeError` whose ``path`` is a JSON Pointer to the offending
place. The strategies here are also used by ``tests/test_schema.py``.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import operator
import pickle
import re
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Final, TypeAlias, get_type_hints

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipekit
import pipekit.codec
from pipekit import (
    AcceptLead,
    AddAutomation,
    AddLossReason,
    AddStage,
    Automation,
    Color,
    Command,
    CompleteAction,
    CreateLead,
    CreatePipeline,
    DeclineLead,
    DecodeError,
    DeleteLead,
    DeleteLossReason,
    DeletePipeline,
    DeleteStage,
    DisableAutomation,
    DisableIncoming,
    EnableAutomation,
    EnableIncoming,
    Event,
    FailAction,
    HostAction,
    InvalidPipeline,
    Lead,
    LeadCreated,
    LeadMoved,
    LoseLead,
    LossReason,
    MoveLead,
    MovePipeline,
    MoveStage,
    MoveTo,
    PipekitError,
    Pipeline,
    PipelineCreated,
    RecolorStage,
    RemoveAutomation,
    RenameLossReason,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RuleViolation,
    RunDue,
    Scheduled,
    SetMainPipeline,
    Stage,
    StageKind,
    Trigger,
    UpdateAutomation,
    WinLead,
    Workspace,
    apply,
    default_pipeline,
    new_workspace,
)
from pipekit.bounds import MAX_DELAY, MAX_ID, MAX_SAFE_INTEGER, SAFE_RANGE, Range
from pipekit.codec import dump, load, load_command, load_event, one_line
from tests.profiles import COSTLY, LIGHT, MODERATE
from tests.strategies import color_texts, colors, names, pipelines

# -- the kinds the codec knows -----------------------------------------------------------

COMMAND_CLASSES: Final[tuple[type[Any], ...]] = typing.get_args(Command)
EVENT_CLASSES: Final[tuple[type[Any], ...]] = typing.get_args(Event)
VALUE_CLASSES: Final[tuple[type[Any], ...]] = (Workspace, Pipeline, Stage, Color, Lead, LossReason)
AUTOMATION_CLASSES: Final[tuple[type[Any], ...]] = (Automation, MoveTo, HostAction, Scheduled)
ALL_KINDS: Final = (*VALUE_CLASSES, *AUTOMATION_CLASSES, *COMMAND_CLASSES, *EVENT_CLASSES)

START: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
ZONES: Final = (
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=5, minutes=45)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=-3, minutes=-30)),
)
"""The offsets times are given in: a dump keeps the offset, so each must round-trip."""

_PROFILE = settings()
FEWER: Final = settings(max_examples=max(10, _PROFILE.max_examples // 4))
"""For a test run once per class: each class needs fewer examples than a test of them all."""

Location: TypeAlias = tuple[str | int, ...]
"""Where a value sits in a document: the keys and indexes that lead to it."""


# -- strategies: single values -----------------------------------------------------------


def times() -> st.SearchStrategy[datetime]:
    """Timezone-aware times across the whole calendar, with microseconds, in several offsets."""
    return st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES),
    )


_IDS: Final = st.integers(1, MAX_ID)


def stages() -> st.SearchStrategy[Stage]:
    """Valid stages of every kind, their colour given as a Color or in any spelling."""
    return st.builds(
        Stage,
        id=_IDS,
        name=names(),
        color=colors() | color_texts(),
        kind=st.sampled_from(StageKind),
    )


def loss_reasons() -> st.SearchStrategy[LossReason]:
    """Valid loss reasons."""
    return st.builds(LossReason, id=_IDS, name=names())


def leads() -> st.SearchStrategy[Lead]:
    """Valid leads on their own (a lead alone does not know its stage's kind)."""
    return st.builds(
        Lead,
        id=_IDS,
        name=names(),
        pipeline_id=_IDS,
        stage_id=_IDS,
        price=st.integers(0, 10**15),
        created_at=times(),
        stage_entered_at=times(),
        closed_at=st.none() | times(),
        loss_reason_id=st.none() | _IDS,
    )


# A host action's params: any JSON object, finite floats included.
_PARAM_SCALARS: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
PARAMS: Final = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        _PARAM_SCALARS,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=6), children, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=4,
)


def actions() -> st.SearchStrategy[MoveTo | HostAction]:
    """Valid actions of both kinds."""
    return st.one_of(
        st.builds(MoveTo, stage_id=_IDS, pipeline_id=st.none() | _IDS),
        st.builds(HostAction, kind=names(max_size=20), params=PARAMS),
    )


def automations() -> st.SearchStrategy[Automation]:
    """Valid automations on their own (one alone does not know its workspace)."""
    return st.builds(
        Automation,
        id=_IDS,
        pipeline_id=_IDS,
        stage_ids=st.lists(_IDS, min_size=1, max_size=4, unique=True).map(tuple),
        trigger=st.sampled_from(Trigger),
        action=actions(),
        delay=st.timedeltas(min_value=timedelta(0), max_value=MAX_DELAY),
        min_price=st.none() | st.integers(0, 10**6),
        max_price=st.none() | st.integers(10**6, 10**15),
        enabled=st.booleans(),
    )


# Commands check nothing when built, so any value of the field's type is a command;
# a document holds numbers within their bounds (pipekit.bounds), so those are drawn.
# Colours are given as strings: a command keeps the colour as it was given.
_TEXTS: Final = st.text(max_size=40)
_COLOUR_STRINGS: Final = color_texts() | st.text(max_size=12)
_FIELD_VALUES: Final[dict[object, st.SearchStrategy[Any]]] = {
    int: st.integers(SAFE_RANGE.low, SAFE_RANGE.high),
    str: _TEXTS,
    bool: st.booleans(),
    StageKind: st.sampled_from(StageKind),
    Color | str: _COLOUR_STRINGS,
    Trigger: st.sampled_from(Trigger),
    MoveTo | HostAction: actions(),
}


def field_values(annotation: Any) -> st.SearchStrategy[Any]:
    """Any value of a command field's type *annotation* that a document can hold."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        base, extra = arguments
        if not isinstance(extra, Range):  # some members of an enum: an Outcome
            return st.sampled_from(extra)
        numbers = st.integers(extra.low, extra.high)
        return numbers.map(lambda us: timedelta(microseconds=us)) if base is timedelta else numbers
    if origin is tuple:
        return st.lists(field_values(arguments[0]), max_size=4).map(tuple)
    if origin in (typing.Union, types.UnionType) and type(None) in arguments:
        rest = [argument for argument in arguments if argument is not type(None)]
        return st.none() | field_values(functools.reduce(operator.or_, rest))
    return _FIELD_VALUES[annotation]


def commands_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Commands of the class *cls*, every field drawn from any value of its type."""
    hints = get_type_hints(cls, include_extras=True)
    return st.builds(
        cls, **{field.name: field_values(hints[field.name]) for field in attrs.fields(cls)}
    )


def commands() -> st.SearchStrategy[Command]:
    """Commands of every class."""
    return st.one_of([commands_of(cls) for cls in COMMAND_CLASSES])


# -- strategies: workspaces grown by commands ---------------------------------------------

# How often each command comes up while growing a workspace: leads most.
_GROWING: Final[tuple[type[Any], ...]] = (
    *(CreateLead,) * 8,
    *(WinLead, LoseLead, LoseLead) * 3,
    *(MoveLead, AcceptLead, DeclineLead, DeleteLead),
    *(AddLossReason,) * 3,
    *(RenameLossReason, DeleteLossReason),
    *(CreatePipeline,) * 3,
    *(RenamePipeline, MovePipeline, SetMainPipeline, DeletePipeline),
    *(AddStage, RenameStage, RecolorStage, MoveStage, DeleteStage, DeleteStage),
    *(RenameTerminal, EnableIncoming, EnableIncoming, DisableIncoming),
    *(AddAutomation,) * 4,
    *(UpdateAutomation, EnableAutomation, DisableAutomation, DisableAutomation, RemoveAutomation),
)


def _waiting(workspace: Workspace) -> list[int]:
    return [
        lead.id
        for pipeline in workspace.pipelines
        if pipeline.incoming is not None
        for lead in workspace.leads_in(pipeline.id, pipeline.incoming.id)
    ]


def _open_leads(workspace: Workspace) -> list[int]:
    return [
        lead.id
        for pipeline in workspace.pipelines
        for stage in pipeline.open_stages
        for lead in workspace.leads_in(pipeline.id, stage.id)
    ]


def _grow_command(draw: st.DrawFn, workspace: Workspace) -> Command:
    """Draw one command aimed at what *workspace* holds (it may still be refused)."""
    if _open_leads(workspace) and draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from([WinLead, LoseLead, LoseLead, MoveLead]))
    elif _waiting(workspace) and draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from([AcceptLead, DeclineLead]))
    else:
        kind = draw(st.sampled_from(_GROWING))
    pipeline = draw(st.sampled_from(workspace.pipelines))
    pid = pipeline.id
    open_ids = [stage.id for stage in pipeline.open_stages]

    def lead_id(among: list[int]) -> int:
        return draw(st.sampled_from(among or [workspace.next_lead_id]))

    def reason_id() -> int:
        known = [reason.id for reason in workspace.loss_reasons]
        return draw(st.sampled_from(known or [workspace.next_loss_reason_id]))

    def name() -> str:
        return draw(names(max_size=12))

    if kind is CreateLead:
        incoming = pipeline.incoming is not None and draw(st.booleans())
        return CreateLead(
            name(),
            price=draw(st.integers(0, 10**9)),
            pipeline_id=draw(st.just(pid) | st.none())
            if pid == workspace.main_pipeline_id
            else pid,
            stage_id=None if incoming else draw(st.none() | st.sampled_from(open_ids)),
            incoming=incoming,
        )
    if kind is AcceptLead:
        waiting = workspace.leads.get(lead_id(_waiting(workspace)))
        target = workspace.pipeline(waiting.pipeline_id) if waiting is not None else pipeline
        stage_ids = [stage.id for stage in target.open_stages]
        return AcceptLead(
            waiting.id if waiting else 1, draw(st.none() | st.sampled_from(stage_ids))
        )
    if kind is DeclineLead:
        return DeclineLead(lead_id(_waiting(workspace)))
    if kind is MoveLead:
        stage_id = draw(st.sampled_from([stage.id for stage in pipeline.stages]))
        return MoveLead(lead_id(sorted(workspace.leads)), stage_id, pipeline_id=pid)
    if kind is LoseLead:
        reason = reason_id() if draw(st.integers(0, 3)) else None
        return LoseLead(lead_id(_open_leads(workspace)), loss_reason_id=reason)
    if kind is WinLead:
        return WinLead(lead_id(_open_leads(workspace)))
    if kind is DeleteLead:
        return DeleteLead(lead_id(sorted(workspace.leads)))
    if kind is AddLossReason:
        return AddLossReason(name())
    if kind is RenameLossReason:
        return RenameLossReason(reason_id(), name())
    if kind is DeleteLossReason:
        return DeleteLossReason(reason_id())
    if kind is CreatePipeline:
        return CreatePipeline(name(), incoming=draw(st.booleans()))
    if kind is RenamePipeline:
        return RenamePipeline(pid, name())
    if kind is MovePipeline:
        return MovePipeline(pid, draw(st.integers(0, len(workspace.pipelines) - 1)))
    if kind in (SetMainPipeline, DeletePipeline, DisableIncoming):
        return typing.cast(Command, kind(pid))
    if kind is AddStage:
        position = draw(st.none() | st.integers(0, len(open_ids)))
        return AddStage(pid, name(), position=position, color=draw(st.none() | color_texts()))
    if kind is RenameStage:
        return RenameStage(pid, draw(st.sampled_from([s.id for s in pipeline.stages])), name())
    if kind is RecolorStage:
        return RecolorStage(pid, draw(st.sampled_from(open_ids)), draw(color_texts()))
    if kind is MoveStage:
        stage_id = draw(st.sampled_from(open_ids))
        return MoveStage(pid, stage_id, draw(st.integers(0, len(open_ids) - 1)))
    if kind is DeleteStage:
        stage_id = draw(st.sampled_from(open_ids))
        return DeleteStage(pid, stage_id, move_leads_to=draw(st.none() | st.sampled_from(open_ids)))
    if kind is RenameTerminal:
        return RenameTerminal(pid, draw(st.sampled_from([StageKind.WON, StageKind.LOST])), name())
    if kind in (AddAutomation, UpdateAutomation):
        watched = tuple(draw(st.lists(st.sampled_from(open_ids), min_size=1, unique=True)))
        action = draw(actions().filter(lambda action: isinstance(action, HostAction)))
        if draw(st.booleans()):
            action = MoveTo(draw(st.sampled_from([s.id for s in pipeline.stages])))
        settings = (
            draw(st.sampled_from(Trigger)),
            action,
            draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90))),
            draw(st.none() | st.integers(0, 1000)),
            draw(st.none() | st.integers(1000, 10**9)),
        )
        if kind is AddAutomation:
            return AddAutomation(pid, watched, *settings)
        known = [automation.id for automation in workspace.automations_of(pid)]
        automation_id = draw(st.sampled_from(known or [workspace.next_automation_id]))
        return UpdateAutomation(automation_id, watched, *settings)
    if kind in (EnableAutomation, DisableAutomation, RemoveAutomation):
        known = [automation.id for automation in workspace.automations]
        return typing.cast(
            Command, kind(draw(st.sampled_from(known or [workspace.next_automation_id])))
        )
    assert kind is EnableIncoming
    default = "Incoming leads"
    return EnableIncoming(
        pid, draw(st.just(default) | st.builds(name)), draw(st.none() | color_texts())
    )


@dataclass(frozen=True)
class History:
    """A workspace grown from ``new_workspace()`` and the events that applying commands emitted."""

    incoming: bool
    steps: tuple[tuple[Command, datetime], ...]
    workspace: Workspace
    events: tuple[Event, ...]

    def __repr__(self) -> str:
        # A failing example prints the accepted commands, which rebuild the workspace.
        lines = [f"new_workspace(incoming={self.incoming})"]
        lines += [f"  apply(..., {command!r}, at={at!r})" for command, at in self.steps]
        return "\n".join(lines)


@st.composite
def histories(draw: st.DrawFn, min_steps: int = 0, max_steps: int = 20) -> History:
    """Workspaces grown by random commands: leads won, lost with reasons, waiting, several
    pipelines, stages added and deleted under leads; refused commands are skipped."""
    incoming = draw(st.booleans())
    workspace = new_workspace(incoming=incoming)
    moment = START
    steps: list[tuple[Command, datetime]] = []
    events: list[Event] = []
    # Most histories first add a pipeline or a loss reason, so that later commands
    # have more to act on: leads in several pipelines, lost with a reason.
    setup = draw(st.lists(st.sampled_from([CreatePipeline, AddLossReason]), max_size=3))
    for _ in range(draw(st.integers(min_steps, max_steps))):
        command = setup.pop()(draw(names(max_size=12))) if setup else _grow_command(draw, workspace)
        moment += timedelta(
            seconds=draw(st.integers(0, 10**6)), microseconds=draw(st.integers(0, 999_999))
        )
        at = moment.astimezone(draw(st.sampled_from(ZONES)))
        try:
            applied = apply(workspace, command, at=at)
        except RuleViolation:
            continue
        workspace = applied.workspace
        steps.append((command, at))
        events.extend(applied.events)
    return History(incoming, tuple(steps), workspace, tuple(events))


def workspaces() -> st.SearchStrategy[Workspace]:
    """Workspaces grown by random commands."""
    return histories().map(lambda history: history.workspace)


def events(max_steps: int = 20) -> st.SearchStrategy[Event]:
    """Events that applying random commands emitted."""
    found = (
        histories(min_steps=3, max_steps=max_steps).map(lambda history: history.events).filter(bool)
    )
    return found.flatmap(st.sampled_from)


def values() -> st.SearchStrategy[Any]:
    """Any value the codec writes, of every kind."""
    return st.one_of(
        workspaces(),
        pipelines(),
        stages(),
        colors(),
        leads(),
        loss_reasons(),
        automations(),
        actions(),
        commands(),
        events(),
    )


# -- strategies: any JSON, and damaged documents -----------------------------------------

_SCALARS: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-3, 200),
    st.floats(),  # NaN and the infinities included
    st.sampled_from([1.0, 0.5, -0.0, math.nan, math.inf]),
    st.text(max_size=12),
    st.sampled_from(["#abc", "#aabbcc", "open", "won", "pipekit/1", "2026-11-27T09:30:00+00:00"]),
)


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, as ``json.loads`` returns it (NaN and the infinities included)."""
    return st.recursive(
        _SCALARS,
        lambda children: (
            st.lists(children, max_size=5)
            | st.dictionaries(st.text(max_size=8), children, max_size=5)
        ),
        max_leaves=20,
    )


def _field_names() -> list[str]:
    found: set[str] = {"type", "schema"}
    for cls in ALL_KINDS:
        found.update(field.name for field in attrs.fields(cls) if field.init)
    return sorted(found)


_TAGS: Final = [cls.__name__ for cls in (*COMMAND_CLASSES, *EVENT_CLASSES)]


def lookalikes() -> st.SearchStrategy[Any]:
    """Objects with the keys and tags of pipekit documents and any values under them."""
    keys = st.sampled_from(_field_names()) | st.text(max_size=6)
    fields = st.dictionaries(keys, json_values(), max_size=10)
    tags = st.fixed_dictionaries({"type": st.sampled_from(_TAGS)})
    return st.builds(lambda tag, rest: {**rest, **tag}, st.just({}) | tags, fields)


def locations(document: Any) -> list[Location]:
    """Every place in *document*, the root first."""
    found: list[Location] = []
    pending: list[tuple[Location, Any]] = [((), document)]
    while pending:
        where, value = pending.pop()
        found.append(where)
        if isinstance(value, dict):
            pending.extend(((*where, key), item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend(((*where, index), item) for index, item in enumerate(value))
    return found


def _retyped(value: Any) -> list[Any]:
    """Values of other JSON types that a careless writer might put in place of *value*."""
    if isinstance(value, bool):
        return [int(value), str(value).lower(), None]
    if isinstance(value, int):
        return [float(value), str(value), value != 0, None, [value], math.nan]
    if isinstance(value, str):
        return [len(value), [value], {"value": value}, None, value * 2]
    if isinstance(value, list):
        return [{str(index): item for index, item in enumerate(value)}, value[:1], "[]", None]
    if isinstance(value, dict):
        return [list(value.values()), list(value), None, "{}"]
    return [0, "", False, [], {}]


def _revalued(value: Any) -> st.SearchStrategy[Any]:
    """Other values of the same JSON type as *value*: right type, likely wrong value."""
    if isinstance(value, bool):
        return st.just(not value)
    if isinstance(value, int):
        return st.sampled_from([0, -value, value + 1]) | st.integers()
    if isinstance(value, str):
        return st.sampled_from(["", value.upper(), value + "!", value[::-1]]) | st.text(max_size=8)
    return json_values()


@st.composite
def damaged(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> Any:
    """A valid document with one thing broken: a key dropped, a value replaced by another
    of its type, of another type or by any JSON, junk inserted, or an array item dropped."""
    document = copy.deepcopy(draw(documents))
    where = draw(st.sampled_from(locations(document)))
    if not where:
        return draw(st.sampled_from(_retyped(document)) | json_values())
    parent = document
    for step in where[:-1]:
        parent = parent[step]
    key = where[-1]
    how = draw(st.sampled_from(["drop", "revalue", "revalue", "retype", "replace", "insert"]))
    if how == "drop":
        del parent[key]
    elif how == "revalue":
        parent[key] = draw(_revalued(parent[key]))
    elif how == "retype":
        parent[key] = draw(st.sampled_from(_retyped(parent[key])))
    elif how == "replace":
        parent[key] = draw(json_values())
    elif isinstance(parent[key], dict):
        parent[key][draw(st.text(max_size=6))] = draw(json_values())
    elif isinstance(parent[key], list):
        parent[key].insert(draw(st.integers(0, len(parent[key]))), draw(json_values()))
    else:
        parent[key] = [parent[key], draw(json_values())]
    return document


# -- helpers -----------------------------------------------------------------------------


def text_of(document: Any) -> str:
    """The document as ``json.dumps`` writes it, with no hooks and no NaN allowed."""
    return json.dumps(document, allow_nan=False)


def assert_plain_json(document: Any) -> None:
    """Assert *document* holds only dict (str keys, sorted), list, str, int, bool and None.

    A host action's ``params`` may also hold finite floats: they are the host's JSON.
    """
    pending: list[tuple[Any, bool]] = [(document, False)]
    while pending:
        value, in_params = pending.pop()
        if isinstance(value, dict):
            assert all(type(key) is str for key in value), value
            assert list(value) == sorted(value), f"keys out of order: {list(value)}"
            pending.extend((item, in_params or key == "params") for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((item, in_params) for item in value)
        elif in_params and type(value) is float:
            assert math.isfinite(value), repr(value)
        else:
            assert value is None or type(value) in (str, int, bool), repr(value)


def resolve(document: Any, pointer: str) -> Any:
    """Return what the JSON Pointer *pointer* (RFC 6901) names in *document*."""
    if pointer == "":
        return document
    assert pointer.startswith("/"), pointer
    value = document
    for token in pointer[1:].split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list):
            assert key.isdigit(), pointer
            assert key == "0" or not key.startswith("0"), pointer
            value = value[int(key)]
        else:
            assert isinstance(value, dict), f"{pointer} goes through a {type(value).__name__}"
            value = value[key]
    return value


def load_any(kind: Any, data: Any) -> Any:
    """``load``, or ``load_command``/``load_event`` when *kind* is ``Command``/``Event``."""
    if kind is Command:
        return load_command(data)
    if kind is Event:
        return load_event(data)
    return load(kind, data)


def assert_total(kind: Any, data: Any) -> None:
    """Assert that loading *data* returns a valid *kind* or raises a DecodeError that
    points into *data*, and that it leaves *data* as it was."""
    before = json.dumps(data)
    error: DecodeError | None = None
    try:
        value = load_any(kind, data)
    except DecodeError as caught:
        error = caught
    assert json.dumps(data) == before
    if error is not None:
        resolve(data, error.path)  # the path names a place that exists in the document
        assert str(error).startswith(f"at {one_line(error.path) or '/'}: ")
        return
    if kind is Command:
        assert isinstance(value, COMMAND_CLASSES)
        assert type(value).__name__ == data["type"]
    elif kind is Event:
        assert isinstance(value, EVENT_CLASSES)
        assert type(value).__name__ == data["type"]
    else:
        assert isinstance(value, kind)
    # What loads is a value like any other: it writes and reads back the same.
    assert load(type(value), dump(value)) == value


def set_at(document: Any, where: Location, value: Any) -> Any:
    """Return a copy of *document* with *value* put at *where*."""
    result = copy.deepcopy(document)
    parent = result
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value
    return result


def drop_at(document: Any, where: Location) -> Any:
    """Return a copy of *document* without what is at *where*."""
    result = copy.deepcopy(document)
    parent = result
    for step in where[:-1]:
        parent = parent[step]
    del parent[where[-1]]
    return result


def nested_lists(depth: int) -> Any:
    """A list nested *depth* deep, built without recursion."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def nested_objects(depth: int) -> Any:
    """An object nested *depth* deep, built without recursion."""
    value: Any = {}
    for _ in range(depth):
        value = {"lead_id": value}
    return value


@functools.cache
def rich_workspace() -> Workspace:
    """A workspace with two pipelines, an incoming stage, and leads open, waiting, won and lost.

    Its dump: pipeline 0 has stages [incoming 147, 144, 145, 146, won 142, lost 143];
    pipeline 1 (id 2) has the open stage 150, "Demo", that pipeline 0 lacks;
    leads by id: 0 ACME (pipeline 1, stage 146), 1 Globex (pipeline 2), 2 Initech
    (waiting in 147), 3 Umbrella (won), 4 Hooli (lost, reason 1).
    """
    workspace = new_workspace(incoming=True)
    for command in (
        CreatePipeline("Partners"),
        AddLossReason("Too expensive"),
        AddLossReason("No budget"),
        CreateLead("ACME", price=150_000),
        CreateLead("Globex", price=990, pipeline_id=2),
        CreateLead("Initech", incoming=True),
        CreateLead("Umbrella"),
        WinLead(4),
        CreateLead("Hooli"),
        LoseLead(5, loss_reason_id=1),
        MoveLead(1, stage_id=146),
        AddStage(pipeline_id=2, name="Demo", color="#9cf", stage_id=150),
    ):
        workspace = apply(workspace, command, at=START).workspace
    return workspace


def rich_document() -> Any:
    """A fresh dump of :func:`rich_workspace`, for a test to damage."""
    document = dump(rich_workspace())
    assert isinstance(document, dict)
    return document


def stage_documents(count: int) -> list[Any]:
    """Documents of a valid row of *count* stages: *count* - 2 open, then won and lost."""
    kinds = ["open"] * (count - 2) + ["won", "lost"]
    return [
        {"color": "#aabbcc", "id": index + 1, "kind": kind, "name": f"Stage {index + 1}"}
        for index, kind in enumerate(kinds)
    ]


def pipeline_documents(count: int) -> list[Any]:
    """Documents of *count* valid pipelines with ids 1 to *count*."""
    return [
        dump(default_pipeline(f"Pipeline {number}", pipeline_id=number))
        for number in range(1, count + 1)
    ]


# -- round trips ----------------------------------------------------------------------------


class TestRoundTrip:
    @COSTLY
    @given(histories())
    def test_workspace_grown_by_commands(self, history: History) -> None:
        workspace = history.workspace
        assert load(Workspace, dump(workspace)) == workspace

    def test_rich_workspace(self) -> None:
        workspace = rich_workspace()
        loaded = load(Workspace, dump(workspace))
        assert loaded == workspace
        assert loaded.lead(5).loss_reason_id == 1
        assert loaded.lead(3).stage_id == loaded.main_pipeline.stages[0].id
        assert loaded.stage_totals(1) == workspace.stage_totals(1)

    @COSTLY
    @given(pipelines())
    def test_pipeline(self, pipeline: Pipeline) -> None:
        assert load(Pipeline, dump(pipeline)) == pipeline

    @MODERATE
    @given(stages())
    def test_stage(self, stage: Stage) -> None:
        assert load(Stage, dump(stage)) == stage

    @given(colors() | color_texts().map(Color))
    def test_color(self, color: Color) -> None:
        assert dump(color) == color.hex
        assert load(Color, dump(color)) == color

    @MODERATE
    @given(leads())
    def test_lead(self, lead: Lead) -> None:
        loaded = load(Lead, dump(lead))
        assert loaded == lead
        # Equal times are equal instants; the offset must come back too.
        assert loaded.created_at.utcoffset() == lead.created_at.utcoffset()

    @LIGHT
    @given(loss_reasons())
    def test_loss_reason(self, reason: LossReason) -> None:
        assert load(LossReason, dump(reason)) == reason

    @pytest.mark.parametrize("cls", COMMAND_CLASSES, ids=lambda cls: cls.__name__)
    @FEWER
    @given(data=st.data())
    def test_every_command_class(self, cls: type[Any], data: st.DataObject) -> None:
        command = data.draw(commands_of(cls))
        assert load(cls, dump(command)) == command
        assert load_command(dump(command)) == command

    @COSTLY
    @given(histories())
    def test_every_event_applying_emits(self, history: History) -> None:
        for event in history.events:
            assert load(type(event), dump(event)) == event
            assert load_event(dump(event)) == event

    def test_every_event_class_comes_up(self) -> None:
        # A scripted history that emits each kind of event at least once.
        workspace = rich_workspace()
        emitted: list[Event] = []
        for command in (
            AddStage(1, "Demo", position=1, color="#ABC"),
            RenameStage(1, 148, "Live demo"),
            RecolorStage(1, 148, "#123456"),
            MoveStage(1, 148, 2),
            DeleteStage(1, 146, move_leads_to=148),
            RenameTerminal(1, StageKind.WON, "Signed"),
            AcceptLead(3),
            DisableIncoming(1),
            EnableIncoming(1, "Inbox", color="#eee"),
            CreateLead("Waiting", incoming=True),
            DeclineLead(6),
            CreatePipeline("Third", incoming=True),
            RenamePipeline(3, "Renamed"),
            MovePipeline(3, 0),
            SetMainPipeline(2),
            SetMainPipeline(1),
            DeletePipeline(3),
            MoveLead(1, stage_id=144, pipeline_id=2),
            DeleteLead(2),
            RenameLossReason(2, "Budget cut"),
            DeleteLossReason(2),
            AddLossReason("Bad timing"),
            AddAutomation(1, (144,), Trigger.ENTERED, HostAction("send_email", {"to": ["a"]})),
            UpdateAutomation(1, (144, 145), Trigger.LEFT, MoveTo(142), delay=timedelta(hours=1)),
            DisableAutomation(1),
            EnableAutomation(1),
            RemoveAutomation(1),
            AddAutomation(1, (144,), Trigger.ENTERED, HostAction("send_email")),
            AddAutomation(1, (144,), Trigger.ENTERED, MoveTo(145)),
            AddAutomation(1, (145,), Trigger.ENTERED, MoveTo(144)),
            CreateLead("Hooli"),  # automation 2 e-mails (item 1), 3 moves (item 2)
            RunDue(),  # hands 1 over; the moves loop back to 144, where the loop stops
            CompleteAction(1),
            CreateLead("Umbrella"),  # items 6 and 7
            RunDue(),
            FailAction(6, "the mail server said no"),
        ):
            applied = apply(workspace, command, at=START)
            workspace = applied.workspace
            emitted.extend(applied.events)
        assert {type(event) for event in emitted} == set(EVENT_CLASSES)
        for event in emitted:
            assert load_event(dump(event)) == event
            assert load_event(json.loads(text_of(dump(event)))) == event

    @MODERATE
    @given(values())
    def test_through_json_text_with_no_hooks(self, value: Any) -> None:
        text = text_of(dump(value))
        assert load(type(value), json.loads(text)) == value


class TestOutput:
    @MODERATE
    @given(values())
    def test_is_plain_json_with_sorted_keys(self, value: Any) -> None:
        document = dump(value)
        assert_plain_json(document)
        assert json.loads(text_of(document)) == document  # no tuples, no floats, no NaN

    @MODERATE
    @given(values())
    def test_is_stable(self, value: Any) -> None:
        text = text_of(dump(value))
        assert text_of(dump(value)) == text
        assert text_of(dump(load(type(value), json.loads(text)))) == text
        assert json.dumps(dump(value), sort_keys=True, allow_nan=False) == text

    @COSTLY
    @given(histories(max_steps=12))
    def test_a_workspace_built_by_hand_writes_the_same_bytes(self, history: History) -> None:
        workspace = history.workspace
        by_hand = Workspace(
            pipelines=list(workspace.pipelines),
            main_pipeline_id=workspace.main_pipeline_id,
            leads=list(workspace.leads.values())[::-1],
            loss_reasons=workspace.loss_reasons,
            revision=workspace.revision,
            next_pipeline_id=workspace.next_pipeline_id,
            next_lead_id=workspace.next_lead_id,
            next_loss_reason_id=workspace.next_loss_reason_id,
            automations=list(workspace.automations),
            next_automation_id=workspace.next_automation_id,
            scheduled=list(workspace.scheduled)[::-1],
            next_scheduled_id=workspace.next_scheduled_id,
        )
        assert by_hand == workspace
        assert text_of(dump(by_hand)) == text_of(dump(workspace))

    def test_equal_values_spelled_differently_write_the_same_bytes(self) -> None:
        assert dump(Color("#ABC")) == dump(Color("#aabbcc")) == "#aabbcc"
        padded = Stage(7, " Demo ", "#9CF", StageKind.OPEN)
        plain = Stage(7, "Demo", Color("#99ccff"), StageKind.OPEN)
        assert text_of(dump(padded)) == text_of(dump(plain))

    def test_documents_carry_their_tag_and_the_workspace_its_schema(self) -> None:
        document = rich_document()
        assert document["schema"] == "pipekit/1"
        assert dump(WinLead(3)) == {"expected_version": None, "lead_id": 3, "type": "WinLead"}
        event = apply(new_workspace(), CreateLead("ACME"), at=START).events[0]
        event_document = dump(event)
        assert isinstance(event_document, dict)
        assert event_document["type"] == "LeadCreated"

    def test_times_are_iso_8601_with_their_offset(self) -> None:
        at = datetime(
            2026, 11, 27, 9, 30, 15, 250_000, tzinfo=timezone(timedelta(hours=5, minutes=30))
        )
        event = apply(new_workspace(), CreateLead("ACME"), at=at).events[0]
        document = dump(event)
        assert isinstance(document, dict)
        assert document["at"] == "2026-11-27T09:30:15.250000+05:30"
        assert document["lead"]["created_at"] == "2026-11-27T09:30:15.250000+05:30"

    def test_a_workspace_lists_its_leads_by_id(self) -> None:
        document = rich_document()
        assert [lead["id"] for lead in document["leads"]] == [1, 2, 3, 4, 5]

    def test_dump_refuses_what_it_does_not_know(self) -> None:
        with pytest.raises(TypeError, match="cannot dump a dict"):
            dump({"lead_id": 1})
        with pytest.raises(TypeError, match="cannot load a 'dict'"):
            load(dict, {})


# -- tags and defaults ----------------------------------------------------------------------


class TestTaggedDocuments:
    @pytest.mark.parametrize("cls", COMMAND_CLASSES, ids=lambda cls: cls.__name__)
    @FEWER
    @given(data=st.data())
    def test_a_command_document_needs_only_its_type_and_required_fields(
        self, cls: type[Any], data: st.DataObject
    ) -> None:
        command = data.draw(commands_of(cls))
        required = {
            field.name: getattr(command, field.name)
            for field in attrs.fields(cls)
            if field.default is attrs.NOTHING
        }
        document = dump(cls(**required))
        assert isinstance(document, dict)
        minimal = {key: document[key] for key in ("type", *required)}
        assert load_command(minimal) == cls(**required)

    def test_create_lead_by_hand(self) -> None:
        assert load_command({"type": "CreateLead", "name": "ACME"}) == CreateLead("ACME")
        assert load_command({"type": "CreateLead", "name": "ACME"}) == CreateLead(
            name="ACME", price=0, pipeline_id=None, stage_id=None, incoming=False, lead_id=None
        )

    def test_load_command_dispatches_on_the_type(self) -> None:
        assert load_command({"type": "MoveLead", "lead_id": 7, "stage_id": 145}) == MoveLead(7, 145)
        assert load_command({"type": "WinLead", "lead_id": 7}) == WinLead(7)
        assert load_command({"lead_id": 7, "type": "DeleteLead"}) == DeleteLead(7)

    def test_load_event_dispatches_on_the_type(self) -> None:
        event = apply(new_workspace(), CreateLead("ACME"), at=START).events[0]
        assert isinstance(load_event(dump(event)), LeadCreated)
        created = apply(new_workspace(), CreatePipeline("Second"), at=START).events[0]
        assert isinstance(load_event(dump(created)), PipelineCreated)

    @pytest.mark.parametrize(
        ("document", "path", "match"),
        [
            ({"name": "ACME"}, "", "missing the field 'type'"),
            ({"type": "Teleport", "lead_id": 1}, "/type", "unknown command type 'Teleport'"),
            ({"type": "LeadCreated", "lead": {}}, "/type", "unknown command type 'LeadCreated'"),
            ({"type": "Command"}, "/type", "unknown command type 'Command'"),
            ({"type": 7, "lead_id": 1}, "/type", "unknown command type 7"),
            ({"type": None}, "/type", "unknown command type None"),
            ({"type": "CreateLead"}, "", "missing the field 'name'"),
            ({"type": "WinLead", "lead_id": 1, "stage_id": 2}, "/stage_id", "unknown field"),
            (
                {"type": "CreateLead", "name": "ACME", "price": "10"},
                "/price",
                "expected an integer",
            ),
            ({"type": "MoveLead", "lead_id": 7.0, "stage_id": 1}, "/lead_id", "got a float"),
            ({"type": "WinLead", "lead_id": True}, "/lead_id", "got a boolean"),
            (
                {"type": "RenameTerminal", "pipeline_id": 1, "outcome": "closed", "name": "x"},
                "/outcome",
                "expected one of 'incoming', 'open', 'won', 'lost'",
            ),
            (
                {"type": "RecolorStage", "pipeline_id": 1, "stage_id": 2, "color": 0xAABBCC},
                "/color",
                "expected a string",
            ),
            ("WinLead", "", "expected an object, got a string"),
            ([{"type": "WinLead", "lead_id": 1}], "", "expected an object, got an array"),
        ],
    )
    def test_load_command_refuses(self, document: Any, path: str, match: str) -> None:
        with pytest.raises(DecodeError, match=match) as caught:
            load_command(document)
        assert caught.value.path == path

    @pytest.mark.parametrize(
        ("document", "path", "match"),
        [
            ({"revision": 1}, "", "missing the field 'type'"),
            ({"type": "CreateLead", "name": "ACME"}, "/type", "unknown event type 'CreateLead'"),
            ({"type": "Event"}, "/type", "unknown event type 'Event'"),
            (
                {"type": "_Event", "revision": 1, "at": "2026-11-27T09:30:00+00:00"},
                "/type",
                "unknown event type",
            ),
            (
                {"type": "PipelineDeleted", "revision": 1, "pipeline_id": 1},
                "",
                "missing the field 'at'",
            ),
            (
                {
                    "type": "PipelineDeleted",
                    "revision": 1,
                    "pipeline_id": 1,
                    "at": "2026-11-27T09:30:00",
                },
                "/at",
                "expected a time with its UTC offset",
            ),
        ],
    )
    def test_load_event_refuses(self, document: Any, path: str, match: str) -> None:
        with pytest.raises(DecodeError, match=match) as caught:
            load_event(document)
        assert caught.value.path == path

    def test_load_of_one_class_refuses_another_tag(self) -> None:
        with pytest.raises(DecodeError, match="expected 'MoveLead', got 'WinLead'") as caught:
            load(MoveLead, {"type": "WinLead", "lead_id": 1})
        assert caught.value.path == "/type"

    def test_a_command_keeps_its_colour_as_given(self) -> None:
        # apply checks a command's colour; the codec reads it as text and keeps it.
        command = load_command(
            {"type": "RecolorStage", "pipeline_id": 1, "stage_id": 2, "color": "#ABC"}
        )
        assert command == RecolorStage(1, 2, "#ABC")


# -- schema versions ----------------------------------------------------------------------


class TestSchemaVersion:
    def test_a_workspace_document_must_name_its_schema(self) -> None:
        document = rich_document()
        del document["schema"]
        with pytest.raises(DecodeError, match="missing the field 'schema'") as caught:
            load(Workspace, document)
        assert caught.value.path == ""

    @pytest.mark.parametrize(
        "version", ["pipekit/2", "pipekit/0", "Pipekit/1", "", None, 1, ["pipekit/1"]]
    )
    def test_an_unknown_version_is_refused_with_a_clear_message(self, version: Any) -> None:
        document = {**rich_document(), "schema": version}
        with pytest.raises(
            DecodeError, match=f"unknown schema version {re.escape(repr(version))}.*'pipekit/1'"
        ) as caught:
            load(Workspace, document)
        assert caught.value.path == "/schema"

    def test_the_version_is_checked_before_the_fields(self) -> None:
        # A document from a newer pipekit may hold fields this one does not know:
        # the reader is told the version, not about a field.
        document = {**rich_document(), "schema": "pipekit/2", "tags": ["vip"]}
        with pytest.raises(DecodeError, match="unknown schema version 'pipekit/2'") as caught:
            load(Workspace, document)
        assert caught.value.path == "/schema"

    @pytest.mark.parametrize(
        "document",
        [
            {"type": "WinLead", "lead_id": 1},
            {"type": "CreateLead", "name": "ACME", "price": 10},
        ],
    )
    def test_a_command_document_may_name_its_schema(self, document: dict[str, Any]) -> None:
        assert load_command({**document, "schema": "pipekit/1"}) == load_command(document)
        with pytest.raises(DecodeError, match="unknown schema version 'pipekit/7'") as caught:
            load_command({**document, "schema": "pipekit/7"})
        assert caught.value.path == "/schema"
        with pytest.raises(DecodeError, match="unknown schema version None"):
            load_command({**document, "schema": None})

    def test_an_event_document_may_name_its_schema(self) -> None:
        event = apply(new_workspace(), CreateLead("ACME"), at=START).events[0]
        document = dump(event)
        assert isinstance(document, dict)
        assert load_event({**document, "schema": "pipekit/1"}) == event
        with pytest.raises(DecodeError, match="unknown schema version 'pipekit/0'") as caught:
            load_event({**document, "schema": "pipekit/0"})
        assert caught.value.path == "/schema"

    def test_only_the_document_names_its_schema(self) -> None:
        document = rich_document()
        document["pipelines"][0]["schema"] = "pipekit/1"
        with pytest.raises(DecodeError, match="unknown field 'schema'") as caught:
            load(Workspace, document)
        assert caught.value.path == "/pipelines/0/schema"

    def test_a_later_pipekit_reads_pipekit_1_through_the_upgrade_seam(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        workspace = rich_workspace()
        # Pretend pipekit/1 documents called the leads "deals", and pipekit/2 renamed them.
        old = rich_document()
        old["deals"] = old.pop("leads")
        seen: list[dict[str, Any]] = []

        def upgrade(document: dict[str, Any]) -> dict[str, Any]:
            seen.append(document)
            upgraded = {key: value for key, value in document.items() if key != "deals"}
            return {**upgraded, "leads": document["deals"]}

        monkeypatch.setattr(pipekit.codec, "SCHEMA", "pipekit/2")
        with pytest.raises(DecodeError, match=r"unknown schema version 'pipekit/1'.*'pipekit/2'"):
            load(Workspace, old)  # no upgrade known: refused

        monkeypatch.setattr(pipekit.codec, "UPGRADES", {"pipekit/1": ("pipekit/2", upgrade)})
        before = json.dumps(old)
        assert load(Workspace, old) == workspace
        assert [document["schema"] for document in seen] == ["pipekit/1"]
        assert json.dumps(old) == before  # the stored document is not changed
        current = {**dump(workspace), "schema": "pipekit/2"}  # type: ignore[dict-item]
        assert load(Workspace, current) == workspace
        with pytest.raises(DecodeError, match="unknown schema version 'pipekit/3'"):
            load(Workspace, {**current, "schema": "pipekit/3"})
        assert load_command({"type": "WinLead", "lead_id": 1, "schema": "pipekit/2"}) == WinLead(1)

    def test_upgrades_chain_and_cannot_loop(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def same(document: dict[str, Any]) -> dict[str, Any]:
            return document

        monkeypatch.setattr(pipekit.codec, "SCHEMA", "pipekit/3")
        monkeypatch.setattr(
            pipekit.codec,
            "UPGRADES",
            {"pipekit/1": ("pipekit/2", same), "pipekit/2": ("pipekit/3", same)},
        )
        assert load(Workspace, rich_document()) == rich_workspace()
        monkeypatch.setattr(
            pipekit.codec,
            "UPGRADES",
            {"pipekit/1": ("pipekit/2", same), "pipekit/2": ("pipekit/1", same)},
        )
        with pytest.raises(DecodeError, match="unknown schema version"):
            load(Workspace, rich_document())


# -- strictness: each fault, at its exact place ---------------------------------------------

_LONG: Final = "x" * 1001
_TOO_LONG_NAME: Final = "x" * 256

# (where to put it, what to put, the expected path, what the message says)
_FAULTS: Final[list[tuple[Location, Any, str, str]]] = [
    # unknown fields
    (("colour",), "#fff", "/colour", "unknown field 'colour'"),
    (
        ("pipelines", 1, "stages", 0, "shade"),
        "#fff",
        "/pipelines/1/stages/0/shade",
        "unknown field",
    ),
    (("leads", 2, "tags"), [], "/leads/2/tags", "unknown field 'tags'"),
    (("loss_reasons", 0, "a/b~c"), 1, "/loss_reasons/0/a~1b~0c", "unknown field 'a/b~c'"),
    (("type",), "Workspace", "/type", "unknown field 'type'"),
    # wrong types
    (("pipelines",), {}, "/pipelines", "expected an array, got an object"),
    (("leads",), None, "/leads", "expected an array, got null"),
    (("loss_reasons", 0), "Too expensive", "/loss_reasons/0", "expected an object, got a string"),
    (("leads", 0, "price"), "10", "/leads/0/price", "expected an integer, got a string"),
    (("pipelines", 0, "stages", 1, "name"), 5, "/pipelines/0/stages/1/name", "expected a string"),
    (("leads", 3, "closed_at"), 0, "/leads/3/closed_at", "expected a string, got an integer"),
    (("leads", 4, "loss_reason_id"), "1", "/leads/4/loss_reason_id", "expected an integer"),
    (
        ("pipelines", 0, "stages", 1, "kind"),
        "closed",
        "/pipelines/0/stages/1/kind",
        "expected one of",
    ),
    (
        ("pipelines", 0, "stages", 1, "kind"),
        None,
        "/pipelines/0/stages/1/kind",
        "expected a string",
    ),
    # booleans where ints are expected
    (("revision",), True, "/revision", "expected an integer, got a boolean"),
    (("main_pipeline_id",), True, "/main_pipeline_id", "expected an integer, got a boolean"),
    (("leads", 0, "price"), False, "/leads/0/price", "expected an integer, got a boolean"),
    (("pipelines", 0, "stages", 0, "id"), True, "/pipelines/0/stages/0/id", "got a boolean"),
    # NaN, the infinities and floats for ids
    (("leads", 0, "id"), json.loads("NaN"), "/leads/0/id", "expected an integer, got a float"),
    (("pipelines", 1, "id"), 2.0, "/pipelines/1/id", "expected an integer, got a float"),
    (("next_lead_id",), math.inf, "/next_lead_id", "expected an integer, got a float"),
    (("main_pipeline_id",), 1.0, "/main_pipeline_id", "expected an integer, got a float"),
    (("leads", 4, "loss_reason_id"), 1.0, "/leads/4/loss_reason_id", "got a float"),
    (("pipelines", 0, "stages", 3, "id"), math.nan, "/pipelines/0/stages/3/id", "got a float"),
    (("leads", 0, "price"), math.nan, "/leads/0/price", "expected an integer, got a float"),
    (("leads", 0, "name"), -math.inf, "/leads/0/name", "expected a string, got a float"),
    # over-long strings
    (("leads", 0, "name"), _LONG, "/leads/0/name", "at most 1000 characters, got 1001"),
    (("pipelines", 1, "name"), _LONG, "/pipelines/1/name", "at most 1000 characters"),
    (
        ("pipelines", 0, "stages", 3, "color"),
        "#" + "a" * 1000,
        "/pipelines/0/stages/3/color",
        "at most",
    ),
    (("leads", 0, "created_at"), "2026" + " " * 997, "/leads/0/created_at", "at most"),
    (
        ("leads", 0, "created_at"),
        "2026-11-27T09:30:00" + "0" * 60,
        "/leads/0/created_at",
        "ISO 8601",
    ),
    # names over the name limit, shorter than the string limit
    (("leads", 0, "name"), _TOO_LONG_NAME, "/leads/0/name", "at most 255 characters"),
    (("pipelines", 0, "stages", 1, "name"), _TOO_LONG_NAME, "/pipelines/0/stages/1/name", "255"),
    (("loss_reasons", 1, "name"), _TOO_LONG_NAME, "/loss_reasons/1/name", "at most 255 characters"),
    (("pipelines", 1, "name"), _TOO_LONG_NAME, "/pipelines/1/name", "at most 255 characters"),
    # times
    (("leads", 0, "created_at"), "2026-11-27T09:30:00", "/leads/0/created_at", "UTC offset"),
    (("leads", 3, "closed_at"), "2026-11-27 09:30", "/leads/3/closed_at", "UTC offset"),
    (("leads", 0, "stage_entered_at"), "yesterday", "/leads/0/stage_entered_at", "ISO 8601"),
    # colours
    (
        ("pipelines", 0, "stages", 3, "color"),
        "red",
        "/pipelines/0/stages/3/color",
        "invalid colour",
    ),
    (
        ("pipelines", 0, "stages", 3, "color"),
        "#12",
        "/pipelines/0/stages/3/color",
        "invalid colour",
    ),
    (("pipelines", 0, "stages", 3, "color"), "#aabbcc\n", "/pipelines/0/stages/3/color", "colour"),
    (("pipelines", 0, "stages", 3, "color"), 0xAABBCC, "/pipelines/0/stages/3/color", "a string"),
    (("pipelines", 0, "stages", 3, "color"), None, "/pipelines/0/stages/3/color", "a string"),
    # other values a field cannot hold
    (("leads", 0, "price"), -1, "/leads/0/price", "from 0 to 9007199254740991, got -1"),
    (("leads", 0, "name"), "  ", "/leads/0/name", "empty"),
    (("pipelines", 0, "stages", 1, "name"), "a\nb", "/pipelines/0/stages/1/name", "control"),
    (("leads", 0, "id"), 0, "/leads/0/id", "from 1 to 9007199254740991, got 0"),
    (("pipelines", 0, "stages", 1, "id"), -1, "/pipelines/0/stages/1/id", "from 1 to"),
    (("pipelines", 1, "id"), 0, "/pipelines/1/id", "from 1 to"),
    (("loss_reasons", 0, "id"), 0, "/loss_reasons/0/id", "from 1 to"),
    # numbers past their bounds (pipekit.bounds)
    (("leads", 0, "id"), 2**53, "/leads/0/id", "from 1 to 9007199254740991, got 9007199254740992"),
    (("leads", 1, "price"), 10**4299, "/leads/1/price", "got an integer of 14281 bits"),
    (("next_lead_id",), 2**53 + 1, "/next_lead_id", "from 1 to 9007199254740992"),
    (("revision",), 2**53, "/revision", "from 0 to 9007199254740991"),
    (("pipelines", 0, "stages", 1, "id"), 2**5010, "/pipelines/0/stages/1/id", "bits"),
    (("pipelines", 0, "next_stage_id"), 2**53 + 1, "/pipelines/0/next_stage_id", "from 1 to"),
    (("pipelines", 1, "name"), "", "/pipelines/1/name", "empty"),
]


class TestStrictness:
    def test_the_rich_document_loads(self) -> None:
        # Every fault below is the only thing wrong with its document.
        assert load(Workspace, rich_document()) == rich_workspace()

    @pytest.mark.parametrize(
        ("where", "value", "path", "match"),
        _FAULTS,
        ids=[f"{p}={v!r:.12}" for _, v, p, _m in _FAULTS],
    )
    def test_a_fault_is_refused_at_its_place(
        self, where: Location, value: Any, path: str, match: str
    ) -> None:
        document = set_at(rich_document(), where, value)
        with pytest.raises(DecodeError, match=match) as caught:
            load(Workspace, document)
        assert caught.value.path == path

    @pytest.mark.parametrize(
        ("where", "path"),
        [
            (("main_pipeline_id",), ""),
            (("pipelines",), ""),
            (("leads", 0, "name"), "/leads/0"),
            (("leads", 3, "created_at"), "/leads/3"),
            (("pipelines", 0, "stages"), "/pipelines/0"),
            (("pipelines", 0, "stages", 2, "kind"), "/pipelines/0/stages/2"),
            (("loss_reasons", 1, "id"), "/loss_reasons/1"),
        ],
    )
    def test_a_missing_field_is_refused_at_its_object(self, where: Location, path: str) -> None:
        with pytest.raises(DecodeError, match=f"missing the field '{where[-1]}'") as caught:
            load(Workspace, drop_at(rich_document(), where))
        assert caught.value.path == path

    @pytest.mark.parametrize(
        "field",
        [
            "revision",
            "leads",
            "loss_reasons",
            "next_pipeline_id",
            "next_lead_id",
            "next_loss_reason_id",
        ],
    )
    def test_a_field_with_a_default_is_still_required(self, field: str) -> None:
        # Issue 18, item 4: a document without revision read as revision 0 (defeating
        # optimistic concurrency), one without leads as no leads.
        document = rich_document()
        del document[field]
        with pytest.raises(DecodeError, match=f"^at /: missing the field '{field}'$") as caught:
            load(Workspace, document)
        assert caught.value.path == ""

    @pytest.mark.parametrize(
        ("where", "path"),
        [
            (("leads", 3, "closed_at"), "/leads/3"),
            (("leads", 4, "loss_reason_id"), "/leads/4"),
            (("pipelines", 1, "next_stage_id"), "/pipelines/1"),
        ],
    )
    def test_a_field_of_a_part_with_a_default_is_still_required(
        self, where: Location, path: str
    ) -> None:
        # The path names the object that lacks the field, never the absent field itself.
        with pytest.raises(DecodeError, match=f"missing the field '{where[-1]}'") as caught:
            load(Workspace, drop_at(rich_document(), where))
        assert caught.value.path == path

    def test_the_fields_added_later_may_be_left_out(self) -> None:
        document = rich_document()
        for field in sorted(pipekit.codec.ADDED_LATER[Workspace]):
            del document[field]
        assert load(Workspace, document) == rich_workspace()

    @pytest.mark.parametrize(
        ("steps", "present"),
        [
            (["leads", 0, "closed_at"], ["leads", 0]),
            (["leads", 9, "id"], ["leads"]),
            (["next_stage_id"], []),
            (["leads", 0, "id", "deeper"], ["leads", 0, "id"]),
        ],
    )
    def test_a_pointer_names_only_places_the_document_holds(
        self, steps: list[str | int], present: list[str | int]
    ) -> None:
        # A rule broken by a default blames a field the document left out (a field added
        # later, say): the pointer then stops at the object that lacks it.
        document = {"leads": [{"id": 1}]}
        assert pipekit.codec._present_steps(document, steps) == present

    def test_a_lone_value_is_as_strict_as_a_workspace_part(self) -> None:
        lead = rich_document()["leads"][0]
        del lead["loss_reason_id"]
        with pytest.raises(DecodeError, match="missing the field 'loss_reason_id'") as caught:
            load(Lead, lead)
        assert caught.value.path == ""

    def test_a_command_may_leave_out_every_field_with_a_default(self) -> None:
        document = {"type": "AddAutomation", "pipeline_id": 1, "stage_ids": [144]}
        document |= {"trigger": "entered", "action": {"type": "HostAction", "kind": "x"}}
        assert load_command(document) == AddAutomation(1, (144,), Trigger.ENTERED, HostAction("x"))

    def test_an_event_is_strict(self) -> None:
        event = dump(LeadMoved(1, START, 1, 1, 144, 1, 145))
        assert isinstance(event, dict)
        del event["loss_reason_id"]
        with pytest.raises(DecodeError, match="missing the field 'loss_reason_id'"):
            load_event(event)

    def test_a_pipeline_written_before_archived_existed_loads_as_not_archived(self) -> None:
        document = rich_document()
        for pipeline in document["pipelines"]:
            assert pipeline.pop("archived") is False
        assert document["schema"] == "pipekit/1"
        assert load(Workspace, document) == rich_workspace()

    def test_the_archived_flag_is_always_written_and_read_back(self) -> None:
        pipeline = attrs.evolve(default_pipeline("Old"), archived=True)
        for value, archived in [(default_pipeline("New"), False), (pipeline, True)]:
            document = dump(value)
            assert isinstance(document, dict)
            assert document["archived"] is archived
        assert load(Pipeline, dump(pipeline)) == pipeline

    def test_a_pipeline_of_100_stages_loads_and_101_is_refused(self) -> None:
        document = rich_document()
        document["pipelines"][1]["stages"] = stage_documents(100)
        document["pipelines"][1]["next_stage_id"] = 200
        document["leads"] = [lead for lead in document["leads"] if lead["pipeline_id"] == 1]
        assert len(load(Workspace, document).pipelines[1].stages) == 100
        document["pipelines"][1]["stages"] = stage_documents(101)
        with pytest.raises(DecodeError, match="at most 100 items, got 101") as caught:
            load(Workspace, document)
        assert caught.value.path == "/pipelines/1/stages"
        with pytest.raises(DecodeError, match="at most 100") as caught:
            load(Pipeline, {"id": 1, "name": "Big", "stages": stage_documents(101)})
        assert caught.value.path == "/stages"

    def test_a_workspace_of_50_pipelines_loads_and_51_is_refused(self) -> None:
        document = dump(new_workspace())
        assert isinstance(document, dict)
        document["pipelines"] = pipeline_documents(50)
        document["next_pipeline_id"] = 51
        assert len(load(Workspace, document).pipelines) == 50
        document["pipelines"] = pipeline_documents(51)
        with pytest.raises(DecodeError, match="at most 50 items, got 51") as caught:
            load(Workspace, document)
        assert caught.value.path == "/pipelines"

    def test_a_string_of_1000_characters_loads_and_1001_is_refused(self) -> None:
        # Commands check nothing when built: only the codec's limit applies to their text.
        assert load_command({"type": "CreateLead", "name": "x" * 1000}) == CreateLead("x" * 1000)
        with pytest.raises(DecodeError, match="at most 1000 characters, got 1001") as caught:
            load_command({"type": "CreateLead", "name": "x" * 1001})
        assert caught.value.path == "/name"

    def test_a_huge_array_is_refused_without_reading_it(self) -> None:
        document = {"schema": "pipekit/1", "main_pipeline_id": 1, "pipelines": [None] * 10**6}
        with pytest.raises(DecodeError, match="at most 50 items") as caught:
            load(Workspace, document)
        assert caught.value.path == "/pipelines"

    def test_loading_never_changes_the_document(self) -> None:
        document = set_at(rich_document(), ("leads", 0, "id"), 0)
        before = json.dumps(document)
        with pytest.raises(DecodeError):
            load(Workspace, document)
        assert json.dumps(document) == before


# -- the rules of the core and the workspace, re-checked ---------------------------------------


def pointer(where: Location) -> str:
    """The JSON Pointer of a location (no key here needs escaping)."""
    return "".join(f"/{step}" for step in where)


def places(where: Location) -> tuple[str, ...]:
    """Where an error about the value at *where* may point: at it, or at the object that
    holds it when the rule spans that object's fields; never the whole document."""
    return (pointer(where), pointer(where[:-1])) if len(where) > 1 else (pointer(where),)


# A rule of the workspace broken in one place: (where, what to put there, the message).
_BROKEN_RULES: Final[list[tuple[Location, Any, str]]] = [
    (("leads", 0, "stage_id"), 9999, "stage 9999"),
    (("leads", 0, "stage_id"), 150, "stage 150"),  # 150 is a stage of the other pipeline
    (("leads", 0, "pipeline_id"), 99, "pipeline 99"),
    (("leads", 3, "closed_at"), None, "closed_at"),  # won, but not closed
    (("leads", 0, "closed_at"), "2026-11-27T09:30:00+00:00", "closed_at"),  # open, but closed
    (("leads", 0, "loss_reason_id"), 1, "loss reason"),  # open, with a loss reason
    (("leads", 4, "loss_reason_id"), 99, "loss reason 99"),
    (("main_pipeline_id",), 99, "main pipeline 99"),
    (("revision",), -1, "revision"),
    (("next_lead_id",), 5, "next lead id"),
    (("next_pipeline_id",), 1, "next pipeline id"),
    (("next_loss_reason_id",), 2, "next loss reason id"),
    (("pipelines", 1, "next_stage_id"), 3, "R9"),
]

# A value copied from an item to a later one of the same array: (from, to).
_DUPLICATES: Final[list[tuple[Location, Location]]] = [
    (("leads", 0, "id"), ("leads", 1, "id")),
    (("pipelines", 0, "id"), ("pipelines", 1, "id")),
    (("loss_reasons", 0, "id"), ("loss_reasons", 1, "id")),
    (("pipelines", 0, "stages", 1, "id"), ("pipelines", 0, "stages", 2, "id")),
    (("pipelines", 0, "name"), ("pipelines", 1, "name")),
    (("loss_reasons", 0, "name"), ("loss_reasons", 1, "name")),
    (("pipelines", 0, "stages", 1, "name"), ("pipelines", 0, "stages", 2, "name")),
]


def _won_before_an_open_stage(document: Any) -> Any:
    stages = document["pipelines"][0]["stages"]
    stages[3], stages[4] = stages[4], stages[3]  # Negotiation <-> won
    return document


class TestRulesAreRechecked:
    def test_won_before_an_open_stage_is_refused_like_a_hand_built_pipeline(self) -> None:
        pipeline = rich_workspace().pipelines[0]
        stages = list(pipeline.stages)
        stages[3], stages[4] = stages[4], stages[3]
        with pytest.raises(InvalidPipeline) as hand_built:
            Pipeline(pipeline.id, pipeline.name, stages, pipeline.next_stage_id)
        document = _won_before_an_open_stage(rich_document())
        with pytest.raises(DecodeError) as decoded:
            load(Workspace, document)
        assert str(hand_built.value) in str(decoded.value)
        assert decoded.value.path in ("/pipelines/0", "/pipelines/0/stages")
        with pytest.raises(DecodeError) as alone:
            load(Pipeline, document["pipelines"][0])
        assert str(hand_built.value) in str(alone.value)
        assert alone.value.path in ("", "/stages")

    def test_a_pipeline_in_an_event_is_rechecked_too(self) -> None:
        event = apply(new_workspace(), CreatePipeline("Second"), at=START).events[0]
        document = dump(event)
        assert isinstance(document, dict)
        stages = document["pipeline"]["stages"]
        stages[2], stages[3] = stages[3], stages[2]
        with pytest.raises(DecodeError, match=r"invalid pipeline \(R1\)") as caught:
            load_event(document)
        assert caught.value.path in ("/pipeline", "/pipeline/stages")

    @pytest.mark.parametrize(
        ("where", "value", "match"), _BROKEN_RULES, ids=[pointer(w) for w, _v, _m in _BROKEN_RULES]
    )
    def test_a_broken_workspace_rule_is_refused_at_its_place(
        self, where: Location, value: Any, match: str
    ) -> None:
        with pytest.raises(DecodeError, match=match) as caught:
            load(Workspace, set_at(rich_document(), where, value))
        assert caught.value.path in places(where)

    @pytest.mark.parametrize(
        ("copy_from", "copy_to"), _DUPLICATES, ids=[pointer(to) for _from, to in _DUPLICATES]
    )
    def test_a_duplicate_is_refused_at_the_item_that_repeats(
        self, copy_from: Location, copy_to: Location
    ) -> None:
        document = rich_document()
        repeated = resolve(document, pointer(copy_from))
        with pytest.raises(DecodeError, match=r"same id|the id|clash|two") as caught:
            load(Workspace, set_at(document, copy_to, repeated))
        assert caught.value.path in places(copy_to)


# -- totality: any JSON at all ------------------------------------------------------------------


class TestTotality:
    @MODERATE
    @given(st.sampled_from((*ALL_KINDS, Command, Event)), json_values())
    def test_any_json_loads_or_is_refused(self, kind: Any, data: Any) -> None:
        assert_total(kind, data)

    @COSTLY
    @given(st.sampled_from((*ALL_KINDS, Command, Event)), lookalikes())
    def test_any_lookalike_document_loads_or_is_refused(self, kind: Any, data: Any) -> None:
        assert_total(kind, data)

    @COSTLY
    @given(damaged(histories(max_steps=12).map(lambda history: dump(history.workspace))))
    def test_a_damaged_workspace_document_loads_or_is_refused(self, data: Any) -> None:
        assert_total(Workspace, data)

    @MODERATE
    @given(damaged(commands().map(dump)))
    def test_a_damaged_command_document_loads_or_is_refused(self, data: Any) -> None:
        assert_total(Command, data)

    @COSTLY
    @given(damaged(events(max_steps=10).map(dump)))
    def test_a_damaged_event_document_loads_or_is_refused(self, data: Any) -> None:
        assert_total(Event, data)

    @MODERATE
    @given(damaged(st.one_of(pipelines(), stages(), leads(), loss_reasons()).map(dump)))
    def test_a_damaged_value_document_loads_or_is_refused(self, data: Any) -> None:
        for kind in (Pipeline, Stage, Lead, LossReason):
            assert_total(kind, data)

    @pytest.mark.parametrize(
        "kind",
        [Workspace, Pipeline, Color, MoveLead, Command, Event],
        ids=["Workspace", "Pipeline", "Color", "MoveLead", "load_command", "load_event"],
    )
    @pytest.mark.parametrize(
        "place",
        ["document", "type", "schema", "lead_id", "nested object", "pipelines"],
    )
    def test_10000_deep_nesting_is_refused(self, kind: Any, place: str) -> None:
        deep = nested_lists(10_000)
        if place == "document":
            data: Any = deep
        elif place == "nested object":
            data = {"type": "WinLead", "lead_id": nested_objects(10_000)}
        elif place == "pipelines":
            data = {"schema": "pipekit/1", "main_pipeline_id": 1, "pipelines": [deep]}
        else:
            data = {"type": "MoveLead", "lead_id": 1, "stage_id": 2, place: deep}
        with pytest.raises(DecodeError):
            load_any(kind, data)


# -- the error ----------------------------------------------------------------------------------


class TestDecodeError:
    def test_is_a_pipekit_error_and_a_value_error(self) -> None:
        assert issubclass(DecodeError, PipekitError)
        assert issubclass(DecodeError, ValueError)
        assert DecodeError.code == "decode_error"

    def test_is_importable_from_pipekit(self) -> None:
        assert pipekit.DecodeError is pipekit.codec.DecodeError
        assert "DecodeError" in pipekit.__all__
        assert "replay" in pipekit.__all__
        for name in ("dump", "load", "load_command", "load_event", "DecodeError"):
            assert name in pipekit.codec.__all__

    def _caught(self) -> DecodeError:
        document = set_at(rich_document(), ("pipelines", 0, "stages", 3, "color"), "red")
        with pytest.raises(DecodeError) as caught:
            load(Workspace, document)
        return caught.value

    def test_carries_the_path_and_says_what_was_expected(self) -> None:
        error = self._caught()
        assert error.path == "/pipelines/0/stages/3/color"
        assert error.code == "decode_error"
        assert str(error).startswith("at /pipelines/0/stages/3/color: ")
        assert "'red'" in str(error)
        assert "#rrggbb" in str(error)

    def test_writes_a_key_that_would_break_its_line_as_an_escape(self) -> None:
        document = rich_document()
        document["loss_reasons"][0]["\n\x1b"] = 1
        with pytest.raises(DecodeError) as caught:
            load(Workspace, document)
        error = caught.value
        assert error.path == "/loss_reasons/0/\n\x1b"
        assert str(error).startswith("at /loss_reasons/0/\\n\\x1b: unknown field")
        assert "\n" not in str(error)

    def test_pickles_with_its_facts(self) -> None:
        error = self._caught()
        restored = pickle.loads(pickle.dumps(error))
        assert type(restored) is DecodeError
        assert restored.path == error.path
        assert restored.reason == error.reason
        assert str(restored) == str(error)
        assert restored.code == "decode_error"
        copied = copy.copy(error)
        assert (copied.path, str(copied)) == (error.path, str(error))

    def test_is_not_frozen(self) -> None:
        error = self._caught()
        error.path = "/elsewhere"  # frameworks write to exceptions
        assert error.path == "/elsewhere"

    def test_the_root_is_written_as_a_slash_in_the_message(self) -> None:
        with pytest.raises(DecodeError, match=r"^at /: expected an object, got null$") as caught:
            load(Workspace, None)
        assert caught.value.path == ""


def test_the_kinds_cover_every_command_and_event() -> None:
    assert {cls.__name__ for cls in COMMAND_CLASSES} == set(pipekit.commands.__all__) - {"Command"}
    assert {cls.__name__ for cls in EVENT_CLASSES} == set(pipekit.events.__all__) - {"Event"}
    assert len(set(ALL_KINDS)) == 6 + 4 + 31 + 32


class TestBooleans:
    @pytest.mark.parametrize("value", ["yes", 1, 0, None])
    def test_a_boolean_field_takes_only_a_boolean(self, value: object) -> None:
        with pytest.raises(pipekit.DecodeError, match="expected a boolean") as info:
            load_command({"type": "CreateLead", "name": "ACME", "incoming": value})
        assert info.value.path == "/incoming"


class TestAutomations:
    """Automations in documents: delays in microseconds, tagged actions, frozen params."""

    def wired(self) -> Workspace:
        workspace = rich_workspace()
        for command in (
            AddAutomation(1, (144,), Trigger.ENTERED, HostAction("send_email", {"to": ["a"]})),
            AddAutomation(
                1, (145,), Trigger.LEFT, MoveTo(144, 2), delay=timedelta(days=1, microseconds=5)
            ),
        ):
            workspace = apply(workspace, command, at=START).workspace
        return workspace

    def test_a_document_stored_before_automations_existed_loads_with_none(self) -> None:
        document = rich_document()
        del document["automations"], document["next_automation_id"]
        loaded = load(Workspace, document)
        assert loaded.automations == ()
        assert loaded.next_automation_id == 1
        assert loaded == rich_workspace()

    def test_automations_are_always_written_and_read_back(self) -> None:
        document = rich_document()
        assert (document["automations"], document["next_automation_id"]) == ([], 1)
        wired = self.wired()
        assert load(Workspace, dump(wired)) == wired

    def test_delay_is_whole_microseconds_and_actions_are_tagged(self) -> None:
        document = dump(self.wired())
        assert isinstance(document, dict)
        first, second = document["automations"]
        assert second["delay"] == 86_400_000_005
        assert second["trigger"] == "left"
        assert second["action"] == {"pipeline_id": 2, "stage_id": 144, "type": "MoveTo"}
        assert first["action"] == {
            "kind": "send_email",
            "params": {"to": ["a"]},
            "type": "HostAction",
        }

    def test_params_keys_are_written_sorted(self) -> None:
        assert dump(HostAction("x", {"b": 1, "a": {"d": 2, "c": 3}})) == {
            "kind": "x",
            "params": {"a": {"c": 3, "d": 2}, "b": 1},
            "type": "HostAction",
        }

    @pytest.mark.parametrize(
        ("action", "path", "match"),
        [
            (
                {"stage_id": 144},
                "/action",
                "missing the field 'type' .one of 'MoveTo', 'HostAction'.",
            ),
            ({"type": "Teleport"}, "/action/type", "got 'Teleport'"),
            ([1], "/action", "expected an object, got an array"),
            ({"type": "HostAction", "kind": "x", "params": []}, "/action/params", "an object"),
            (
                {"type": "HostAction", "kind": "x", "params": {"n": math.nan}},
                "/action/params/n",
                "a finite number",
            ),
            (
                {"type": "HostAction", "kind": "x", "params": {"n": {1, 2}}},
                "/action/params/n",
                r"a set \(not JSON\)",
            ),
            (
                {"type": "HostAction", "kind": "x", "params": {1: "a"}},
                "/action/params",
                "keys must be strings",
            ),
            (
                {"type": "HostAction", "kind": "x", "params": {"n": [0, 10**4300 - 1]}},
                "/action/params/n/1",
                "expected an integer from -9007199254740991 to 9007199254740991, got an integer",
            ),
            ({"type": "MoveTo", "stage_id": 144, "kind": "x"}, "/action/kind", "unknown field"),
        ],
    )
    def test_a_bad_action_is_refused_at_its_place(self, action: Any, path: str, match: str) -> None:
        document = {
            "type": "AddAutomation",
            "pipeline_id": 1,
            "stage_ids": [144],
            "trigger": "entered",
            "action": action,
        }
        with pytest.raises(DecodeError, match=match) as caught:
            load_command(document)
        assert caught.value.path == path

    def test_params_nested_too_deep_are_refused_without_recursing(self) -> None:
        action = {"type": "HostAction", "kind": "x", "params": nested_objects(10_000)}
        with pytest.raises(DecodeError, match="at most 32 levels"):
            load(HostAction, action)
        fits = {"type": "HostAction", "kind": "x", "params": nested_objects(31)}
        assert load(HostAction, fits) == HostAction("x", nested_objects(31))

    @pytest.mark.parametrize("delay", [10**30, -(10**30), True, 1.5, 300000000000000000, -1])
    def test_a_delay_that_is_no_duration_is_refused(self, delay: Any) -> None:
        document = {
            "type": "AddAutomation",
            "pipeline_id": 1,
            "stage_ids": [144],
            "trigger": "entered",
            "action": {"type": "MoveTo", "stage_id": 145},
            "delay": delay,
        }
        with pytest.raises(DecodeError) as caught:
            load_command(document)
        assert caught.value.path == "/delay"

    def test_a_broken_automation_rule_is_refused_at_its_place(self) -> None:
        document = dump(self.wired())
        assert isinstance(document, dict)
        document["automations"][1]["delay"] = -1
        with pytest.raises(DecodeError, match="from 0 to 315619200000000, got -1") as caught:
            load(Workspace, document)
        assert caught.value.path == "/automations/1/delay"
        document = dump(self.wired())
        assert isinstance(document, dict)
        document["automations"][0]["stage_ids"] = [999]
        with pytest.raises(DecodeError, match=r"\(D1\)") as caught:
            load(Workspace, document)
        assert caught.value.path == "/automations/0"


class TestScheduled:
    """Scheduled actions in documents: always written, by due time then id, checked on load."""

    def scheduled(self) -> Workspace:
        """Two leads with a waiting move each, and a handed-over e-mail for the first."""
        workspace = rich_workspace()
        later = START + timedelta(hours=2)
        for command, at in (
            (AddAutomation(1, (144,), Trigger.ENTERED, HostAction("send_email")), START),
            (
                AddAutomation(1, (144,), Trigger.ENTERED, MoveTo(145), delay=timedelta(days=1)),
                START,
            ),
            (CreateLead("Wayne", stage_id=144), START),
            (CreateLead("Stark", stage_id=144), later.astimezone(ZONES[3])),
            (RunDue(), later),
        ):
            workspace = apply(workspace, command, at=at).workspace
        return workspace

    def test_a_document_stored_before_scheduling_existed_loads_with_none(self) -> None:
        document = rich_document()
        del document["scheduled"], document["next_scheduled_id"]
        loaded = load(Workspace, document)
        assert loaded.scheduled == ()
        assert loaded.next_scheduled_id == 1
        assert loaded == rich_workspace()

    def test_scheduled_items_are_always_written_and_read_back(self) -> None:
        assert (rich_document()["scheduled"], rich_document()["next_scheduled_id"]) == ([], 1)
        workspace = self.scheduled()
        document = dump(workspace)
        assert isinstance(document, dict)
        assert [item["id"] for item in document["scheduled"]] == [1, 3, 2, 4]
        assert document["next_scheduled_id"] == 5
        assert load(Workspace, document) == workspace
        assert load(Workspace, json.loads(text_of(document))).scheduled == workspace.scheduled

    def test_an_item_is_written_with_its_tagged_action_and_times(self) -> None:
        handed = self.scheduled().scheduled_action(1)
        assert dump(handed) == {
            "action": {"kind": "send_email", "params": {}, "type": "HostAction"},
            "automation_id": 1,
            "due_at": START.isoformat(),
            "handed_over_at": (START + timedelta(hours=2)).isoformat(),
            "id": 1,
            "lead_id": handed.lead_id,
        }
        assert load(Scheduled, dump(handed)) == handed

    def test_items_given_in_any_order_load_to_the_same_workspace(self) -> None:
        workspace = self.scheduled()
        document = dump(workspace)
        assert isinstance(document, dict)
        document["scheduled"].reverse()
        assert load(Workspace, document) == workspace

    def test_an_item_of_an_unknown_lead_is_refused_at_its_place(self) -> None:
        document = dump(self.scheduled())
        assert isinstance(document, dict)
        document["scheduled"][2]["lead_id"] = 99
        with pytest.raises(pipekit.DecodeError, match=r"D6.*lead 99, unknown") as info:
            load(Workspace, document)
        assert info.value.path == "/scheduled/2/lead_id"

    def test_two_items_with_one_id_are_refused(self) -> None:
        document = dump(self.scheduled())
        assert isinstance(document, dict)
        document["scheduled"][3]["id"] = document["scheduled"][0]["id"]
        with pytest.raises(
            pipekit.DecodeError, match="two scheduled actions have the id 1"
        ) as info:
            load(Workspace, document)
        assert info.value.path == "/scheduled/3/id"

    @pytest.mark.parametrize(
        ("change", "path", "match"),
        [
            ({"due_at": "2026-12-01T09:00:00"}, "/due_at", "expected a time with its UTC offset"),
            ({"id": 0}, "/id", "from 1 to 9007199254740991, got 0"),
            ({"id": 2**5010}, "/id", "got an integer of 5011 bits"),
            ({"handed_over_at": "2026-12-01T09:00:00+00:00"}, "", "never handed over"),
            ({"action": {"stage_id": 144}}, "/action", "missing the field 'type'"),
        ],
    )
    def test_a_damaged_item_is_refused_at_its_place(
        self, change: dict[str, Any], path: str, match: str
    ) -> None:
        document = dump(Scheduled(1, 1, 1, START, MoveTo(145)))
        assert isinstance(document, dict)
        with pytest.raises(pipekit.DecodeError, match=match) as info:
            load(Scheduled, {**document, **change})
        assert info.value.path == path


class TestRenameTerminalOutcome:
    """Issue 18, item 3: an outcome of "open" or "incoming" loaded, then broke in apply."""

    @pytest.mark.parametrize("outcome", ["open", "incoming"])
    def test_another_outcome_is_a_decode_error_at_its_pointer(self, outcome: str) -> None:
        document = {"type": "RenameTerminal", "pipeline_id": 1, "outcome": outcome, "name": "x"}
        with pytest.raises(DecodeError, match=r"StageKind\.WON or StageKind\.LOST") as caught:
            load_command(document)
        assert caught.value.path == "/outcome"

    @pytest.mark.parametrize("outcome", ["won", "lost"])
    def test_won_and_lost_load(self, outcome: str) -> None:
        document = {"type": "RenameTerminal", "pipeline_id": 1, "outcome": outcome, "name": "x"}
        assert load_command(document) == RenameTerminal(1, StageKind(outcome), "x")
