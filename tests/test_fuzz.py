"""Hostile documents: every reader of untrusted JSON returns a valid value or a ``PipekitError``.

A busy workspace, the event log that built it, its commands and a Kommo document are dumped
once. Each example changes one place of one of them — deletes it, puts a hostile value there,
or nudges the value it holds — or splices the event log, and hands the result to a reader:
``load``, ``load_command`` (then ``apply``), ``load_event``, ``replay``, ``from_kommo`` and the
command line. A reader may refuse with a ``PipekitError``; whatever it accepts must be a value
that is dumped, written as JSON text and read back unchanged. Nothing else may escape.

The ``ci`` profile runs each target at least 2,000 times; ``stress`` 20,000 times.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeAlias

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from pipekit import (
    AddAutomation,
    AddLossReason,
    AddStage,
    CreateLead,
    CreatePipeline,
    DeleteStage,
    EnableIncoming,
    Event,
    HostAction,
    LoseLead,
    MoveLead,
    MoveTo,
    PipekitError,
    RenameTerminal,
    RunDue,
    StageKind,
    Trigger,
    WinLead,
    Workspace,
    apply,
    new_workspace,
    replay,
)
from pipekit.cli import main
from pipekit.codec import dump, load, load_command, load_event
from pipekit.commands import Command
from pipekit.kommo import from_kommo
from tests.profiles import scaled

JSON: TypeAlias = Any
Path_: TypeAlias = tuple[str | int, ...]

AT: Final = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KOMMO: Final = Path(__file__).parent / "data" / "kommo-statuses-example.json"

fuzzing: Final = scaled(
    30,
    2_000,
    20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the documents ---------------------------------------------------------------------------


SPARE: Final = 149


def _busy() -> tuple[Workspace, tuple[Command, ...], tuple[Event, ...]]:
    """Return a workspace that uses every kind of record, its commands and its events."""
    commands: list[Command] = [
        EnableIncoming(pipeline_id=1),
        AddStage(pipeline_id=1, name="Demo", position=1, color="#98cbff"),
        CreatePipeline(name="Partners", incoming=True),
        AddStage(pipeline_id=1, name="Spare", position=2),
        AddLossReason(name="Too expensive"),
        AddLossReason(name="Went quiet"),
        RenameTerminal(pipeline_id=1, outcome=StageKind.WON, name="Paid"),
        AddAutomation(
            pipeline_id=1,
            stage_ids=(145,),
            trigger=Trigger.ENTERED,
            action=HostAction(kind="email", params={"template": "welcome", "cc": [1, 2]}),
            delay=timedelta(hours=1),
            min_price=100,
        ),
        AddAutomation(
            pipeline_id=1,
            stage_ids=(146,),
            trigger=Trigger.CREATED,
            action=MoveTo(stage_id=148),
            delay=timedelta(days=2),
        ),
        CreateLead(name="ACME", price=150_000),
        CreateLead(name="Globex", price=20_000, stage_id=145),
        CreateLead(name="Initech", price=0, incoming=True),
        CreateLead(name="Umbrella", price=99, pipeline_id=2),
        CreateLead(name="Hooli", price=7_000, stage_id=146),
        CreateLead(name="Wayne", price=1, stage_id=SPARE),
        MoveLead(lead_id=1, stage_id=145),
        WinLead(lead_id=2),
        LoseLead(lead_id=5, loss_reason_id=2),
        DeleteStage(pipeline_id=1, stage_id=SPARE),
        RunDue(),
    ]
    workspace = new_workspace()
    events: list[Event] = []
    for number, command in enumerate(commands):
        applied = apply(workspace, command, at=AT + timedelta(hours=number))
        workspace = applied.workspace
        events.extend(applied.events)
    return workspace, tuple(commands), tuple(events)


BUSY, COMMANDS, EVENTS = _busy()
WORKSPACE_DOCUMENT: Final[JSON] = dump(BUSY)
COMMAND_DOCUMENTS: Final[tuple[JSON, ...]] = tuple(dump(command) for command in COMMANDS)
EVENT_DOCUMENTS: Final[tuple[JSON, ...]] = tuple(dump(event) for event in EVENTS)
KOMMO_DOCUMENT: Final[JSON] = json.loads(KOMMO.read_text(encoding="utf-8"))


def test_the_documents_are_busy() -> None:
    # The fuzzing is only as good as what it starts from: every kind of record is there.
    assert {"leads", "loss_reasons", "automations", "scheduled", "pipelines"} <= {
        key for key, value in WORKSPACE_DOCUMENT.items() if value
    }
    kinds = {lead["stage_id"] for lead in WORKSPACE_DOCUMENT["leads"]}
    assert {142, 143} <= kinds
    assert any(lead["loss_reason_id"] is not None for lead in WORKSPACE_DOCUMENT["leads"])
    assert len({type(event) for event in EVENTS}) >= 10


# -- changing one place ----------------------------------------------------------------------


def _paths(document: JSON, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _paths(value, (*prefix, index))


def _nested(depth: int) -> JSON:
    value: JSON = 1
    for _ in range(depth):
        value = [value]
    return value


_TIMES: Final = (
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+00:00",
    "2026-03-02T09:00:00",
    "2026-02-30T09:00:00+00:00",
    "2026-03-02T09:00:00+00:00",
)

_SPECIAL: Final[tuple[JSON, ...]] = (
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**53 - 1,
    2**53,
    2**63,
    2**64,
    1 + 2**4400,
    10**4300 - 1,
    -(2**63) - 1,
    0.0,
    1.5,
    -0.0,
    1e308,
    math.inf,
    math.nan,
    "",
    " ",
    "\ud800",
    "\u200b",
    "x" * 10_000,
    "#ABCDEF",
    "open",
    "incoming",
    "won",
    "lost",
    "pipekit/1",
    "pipekit/2",
    300_000_000_000_000_000,
    86_400_000_000,
    *_TIMES,
    [],
    {},
    [None],
    {"type": "MoveTo", "stage_id": 142},
    {"": None},
)

_JSON_VALUES: Final = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)

hostile_values: Final = st.one_of(
    st.sampled_from(_SPECIAL),
    _JSON_VALUES,
    st.integers(min_value=1, max_value=20_000).map(_nested),
)


def _get(document: JSON, path: Path_) -> JSON:
    for step in path:
        document = document[step]
    return document


def _nudged(value: JSON, draw: st.DrawFn) -> JSON:
    """Return a value near *value*: off by one, another case, one item more or less."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return draw(st.sampled_from([value - 1, value + 1, -value, value * 2**32, value + 2**53]))
    if isinstance(value, float):
        return draw(st.sampled_from([int(value), -value, value * 1e300]))
    if isinstance(value, str):
        return draw(
            st.sampled_from(
                [value.upper(), value + " ", value[:-1], value * 300, value + "\x00", value[::-1]]
            )
        )
    if isinstance(value, list):
        if not value:
            return [None]
        index = draw(st.integers(0, len(value) - 1))
        return draw(
            st.sampled_from(
                [
                    [*value, value[index]],
                    value[::-1],
                    value[:index] + value[index + 1 :],
                    value * 101,
                ]
            )
        )
    if isinstance(value, dict):
        if not value:
            return {"x": 1}
        key = draw(st.sampled_from(sorted(value)))
        return draw(
            st.sampled_from(
                [{**value, "unknown": value[key]}, {**value, key.upper(): value[key]}, {key: 1}]
            )
        )
    return None


def _changed(document: JSON, path: Path_, change: Callable[[JSON, JSON], JSON]) -> JSON:
    """Return *document* with the containers on *path* copied and its last step changed.

    *change* takes the parent and the key and returns the new parent; nothing off the path is
    copied (a hostile value may be nested too deep for ``copy.deepcopy``) or changed.
    """
    if len(path) == 1:
        return change(document, path[0])
    step = path[0]
    inner = _changed(document[step], path[1:], change)
    if isinstance(step, str):
        return {**document, step: inner}
    return [*document[:step], inner, *document[step + 1 :]]


@st.composite
def mutations(draw: st.DrawFn, original: JSON) -> JSON:
    """Return the JSON *original* with one place deleted, replaced or nudged."""
    path = draw(st.sampled_from(list(_paths(original))))
    how = draw(st.sampled_from(["delete", "replace", "nudge"]))
    if how == "replace":
        value = draw(hostile_values)
    elif how == "nudge":
        value = _nudged(_get(original, path), draw)
    if not path:
        return original if how == "delete" else value

    def change(parent: JSON, key: JSON) -> JSON:
        if isinstance(parent, dict):
            rest = {name: item for name, item in parent.items() if name != key}
            return rest if how == "delete" else {**rest, key: value}
        if how == "delete":
            return [*parent[:key], *parent[key + 1 :]]
        return [*parent[:key], value, *parent[key + 1 :]]

    return _changed(original, path, change)


@st.composite
def spliced_logs(draw: st.DrawFn) -> list[JSON]:
    """Return the event log with events dropped, repeated, swapped or changed."""
    log = list(EVENT_DOCUMENTS)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(log) - 1))
        j = draw(st.integers(0, len(log) - 1))
        how = draw(st.sampled_from(["drop", "repeat", "swap", "move", "mutate"]))
        if how == "drop" and len(log) > 1:
            del log[i]
        elif how == "repeat":
            log.insert(j, log[i])
        elif how == "swap":
            log[i], log[j] = log[j], log[i]
        elif how == "move":
            log.insert(j, log.pop(i))
        else:
            log[i] = draw(mutations(draw(st.sampled_from(EVENT_DOCUMENTS))))
    return log


# -- what an accepted value must be ----------------------------------------------------------


def _round_trips(value: Any) -> None:
    """Check that *value* is written as JSON text and read back as the same value."""
    document = dump(value)
    text = json.dumps(document, allow_nan=False)
    again = load(type(value), json.loads(text))
    assert again == value
    assert dump(again) == document


def _refused_or_valid(read: Callable[[], Any]) -> Any:
    """Return what *read* returns, or ``None`` where it refused with a ``PipekitError``."""
    try:
        return read()
    except PipekitError:
        return None


# -- the targets -----------------------------------------------------------------------------


class TestLoad:
    @fuzzing
    @given(document=mutations(WORKSPACE_DOCUMENT))
    def test_a_workspace_document(self, document: JSON) -> None:
        workspace = _refused_or_valid(lambda: load(Workspace, document))
        if workspace is not None:
            _round_trips(workspace)

    @fuzzing
    @given(document=st.sampled_from(COMMAND_DOCUMENTS).flatmap(mutations))
    def test_a_command_document_then_its_apply(self, document: JSON) -> None:
        command = _refused_or_valid(lambda: load_command(document))
        if command is None:
            return
        _round_trips(command)
        applied = _refused_or_valid(lambda: apply(BUSY, command, at=AT + timedelta(days=1)))
        if applied is not None:
            _round_trips(applied.workspace)
            for event in applied.events:
                _round_trips(event)

    @fuzzing
    @given(document=st.sampled_from(EVENT_DOCUMENTS).flatmap(mutations))
    def test_an_event_document(self, document: JSON) -> None:
        event = _refused_or_valid(lambda: load_event(document))
        if event is not None:
            _round_trips(event)


class TestReplay:
    @fuzzing
    @given(log=spliced_logs())
    def test_a_spliced_event_log(self, log: list[JSON]) -> None:
        def replayed() -> Workspace:
            return replay([load_event(event) for event in log])

        workspace = _refused_or_valid(replayed)
        if workspace is not None:
            _round_trips(workspace)


class TestFromKommo:
    @fuzzing
    @given(document=mutations(KOMMO_DOCUMENT))
    def test_a_kommo_document(self, document: JSON) -> None:
        workspace = _refused_or_valid(lambda: from_kommo(document))
        if workspace is not None:
            _round_trips(workspace)


def _run(*argv: str) -> tuple[int, str]:
    """Run the command line in this process; return its exit code and standard error."""
    errors = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
        status = main(argv)
    return status, errors.getvalue()


def _text(document: JSON) -> str:
    # A document too deep or too large for json.dumps is written by hand, as a reader may get it.
    try:
        return json.dumps(document)
    except (ValueError, RecursionError):
        return "[" * 100_000 + "]" * 100_000


class TestCommandLine:
    @fuzzing
    @given(document=mutations(WORKSPACE_DOCUMENT), commands=st.sampled_from(COMMAND_DOCUMENTS))
    def test_check_show_and_apply(self, document: JSON, commands: JSON) -> None:
        with tempfile.TemporaryDirectory() as folder:
            self.check_show_and_apply(Path(folder), document, commands)

    def check_show_and_apply(self, tmp_path: Path, document: JSON, commands: JSON) -> None:
        path = tmp_path / "workspace.json"
        text = _text(document)
        path.write_text(text, encoding="utf-8")
        (tmp_path / "commands.jsonl").write_text(json.dumps(commands), encoding="utf-8")
        for argv in (
            ("check", str(path)),
            ("show", str(path), "--leads", "--no-color"),
            ("apply", str(path), str(tmp_path / "commands.jsonl"), "--at", AT.isoformat()),
        ):
            status, errors = _run(*argv)
            assert status in (0, 1), (argv, errors)
            if status == 1:
                assert errors.startswith("pipekit: "), errors
                assert errors.count("\n") == 1, errors
                assert path.read_text(encoding="utf-8") == text

    @fuzzing
    @given(commands=st.sampled_from(COMMAND_DOCUMENTS).flatmap(mutations))
    def test_apply_of_a_hostile_command(self, commands: JSON) -> None:
        with tempfile.TemporaryDirectory() as folder:
            self.apply_hostile(Path(folder), commands)

    def apply_hostile(self, tmp_path: Path, commands: JSON) -> None:
        path = tmp_path / "workspace.json"
        text = json.dumps(WORKSPACE_DOCUMENT)
        path.write_text(text, encoding="utf-8")
        (tmp_path / "commands.jsonl").write_text(_text(commands), encoding="utf-8")
        argv = ("apply", str(path), str(tmp_path / "commands.jsonl"), "--at", AT.isoformat())
        status, errors = _run(*argv)
        assert status in (0, 1), errors
        if status == 1:
            assert errors.count("\n") == 1, errors
            assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("document", [WORKSPACE_DOCUMENT, KOMMO_DOCUMENT])
def test_every_place_of_a_document_is_reachable(document: JSON) -> None:
    # The mutations draw a place among all of them: the root, every key and every item.
    paths = list(_paths(document))
    assert () in paths
    assert len(paths) == len(set(paths)) > 50
