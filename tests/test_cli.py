"""The ``pipekit`` command line: in-process tests of ``main``, then the real console script."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import runpy
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, NamedTuple

import attrs
import pytest

from pipekit import (
    AddAutomation,
    Automation,
    CreateLead,
    CreatePipeline,
    DeleteStage,
    DisableAutomation,
    Event,
    HostAction,
    MoveLead,
    MoveTo,
    RunDue,
    Trigger,
    Workspace,
    apply,
    cli,
    new_workspace,
    plan,
)
from pipekit.cli import _main, main
from pipekit.cli._board import describe_action, describe_automation, describe_delay, render_board
from pipekit.cli._demo import demo
from pipekit.cli._desired import desired_pipeline
from pipekit.codec import dump, load
from pipekit.kommo import from_kommo

WIDTH = 100
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AT_TEXT = "2026-03-02T09:00:00+00:00"
ESCAPE = "\x1b"
KOMMO = Path(__file__).parent / "data" / "kommo-statuses-example.json"
SUBCOMMANDS = (
    "demo",
    "init",
    "show",
    "apply",
    "check",
    "import-kommo",
    "plan",
    "automations",
    "due",
)
DESIRED = """\
name = "Sales"
won = "Paid"

[[stages]]
name = "negotiation"
color = "#98cbff"

[[stages]]
name = "Demo"
"""


def document(workspace: Workspace) -> str:
    """Return the text pipekit writes for *workspace*."""
    return json.dumps(dump(workspace), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def json_lines(*values: object) -> str:
    return "".join(
        f"{json.dumps(dump(value), sort_keys=True, ensure_ascii=False)}\n" for value in values
    )


def with_leads() -> Workspace:
    workspace = new_workspace(incoming=True)
    for command in (CreateLead("ACME", price=150_000), CreateLead("Globex", price=48_000)):
        workspace = apply(workspace, command, at=AT).workspace
    return workspace


def automated() -> Workspace:
    """Three pipelines: five automations in the first two (one disabled), none in the third."""
    welcome = HostAction("send_email", {"template": "welcome"})
    workspace = with_leads()
    for command in (
        CreatePipeline("Hiring"),
        CreatePipeline("Partners"),
        AddAutomation(1, (147,), Trigger.ENTERED, welcome),
        AddAutomation(
            1,
            (144, 145),
            Trigger.MOVED_IN,
            MoveTo(146),
            delay=timedelta(days=2),
            min_price=10_000,
        ),
        AddAutomation(
            1,
            (146,),
            Trigger.LEFT,
            MoveTo(144, pipeline_id=2),
            delay=timedelta(minutes=90),
            min_price=100,
            max_price=2_000_000,
        ),
        AddAutomation(1, (144,), Trigger.CREATED, HostAction("webhook"), max_price=5_000),
        DisableAutomation(4),
        AddAutomation(2, (145,), Trigger.ENTERED, HostAction("notify", {"to": ["hr", "boss"]})),
    ):
        workspace = apply(workspace, command, at=AT).workspace
    return workspace


AUTOMATIONS = """\
Pipeline 1: Pipeline (main)
  Incoming leads (id 147)
    automation 1 (entered): send_email {"template": "welcome"}; no delay
  Initial Contact (id 144)
    automation 2 (moved_in): move to Negotiation; after 2 days; price at least 10,000; \
also watches Offer Made
    automation 4 (created): webhook; no delay; price at most 5,000; disabled
  Offer Made (id 145)
    automation 2 (moved_in): move to Negotiation; after 2 days; price at least 10,000; \
also watches Initial Contact
  Negotiation (id 146)
    automation 3 (left): move to Initial Contact in Hiring; after 1 hour 30 minutes; \
price 100 to 2,000,000
  Closed - won (id 142): none
  Closed - lost (id 143): none

Pipeline 2: Hiring
  Initial Contact (id 144): none
  Offer Made (id 145)
    automation 5 (entered): notify {"to": ["hr", "boss"]}; no delay
  Negotiation (id 146): none
  Closed - won (id 142): none
  Closed - lost (id 143): none

Pipeline 3: Partners
  no automations
"""


def scheduled() -> Workspace:
    """The automated workspace with items: one handed over, one e-mail and two moves waiting."""
    workspace = automated()
    for command, at in (
        (CreateLead("Hooli", price=1_000, incoming=True), AT),  # item 1, welcome
        (RunDue(), AT),  # item 1 handed over
        (CreateLead("Initech", price=320_000, incoming=True), AT + timedelta(minutes=30)),
        (MoveLead(2, 146), AT + timedelta(hours=1)),
        (MoveLead(2, 145), AT + timedelta(hours=1)),  # items 3 (left 146) and 4 (moved in 145)
    ):
        workspace = apply(workspace, command, at=at).workspace
    return workspace


HANDED_OVER = "1 action handed over to the host, waiting for CompleteAction or FailAction\n"
DUE_ITEMS = (
    '  item 2, due 2026-03-02T09:30:00+00:00: send_email {"template": "welcome"} for Initech'
    " (lead 4), by automation 1\n",
    "  item 3, due 2026-03-02T11:30:00+00:00: move to Initial Contact in Hiring for Globex"
    " (lead 2), by automation 3\n",
    "  item 4, due 2026-03-04T10:00:00+00:00: move to Negotiation for Globex (lead 2),"
    " by automation 2\n",
)


class Run(NamedTuple):
    """What one run printed, and its exit code."""

    status: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Run:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def one_line(text: str) -> str:
    """Return the one line *text* holds, failing if it holds more or none."""
    assert text.endswith("\n")
    assert text.count("\n") == 1, text
    return text[:-1]


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.fixture(autouse=True)
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal of known width, and no NO_COLOR from the environment the tests run in."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    """A workspace document with incoming leads on and two leads; its mtime in the past."""
    path = tmp_path / "sales.json"
    path.write_text(document(with_leads()), encoding="utf-8")
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return path


def pretend_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make standard output, as captured now, claim to be a terminal."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


class Stdin(io.StringIO):
    """Standard input holding *text*, a terminal or not."""

    def __init__(self, text: str = "", *, tty: bool = False) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class FailingStdin(Stdin):
    """Standard input whose read raises *error*."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def read(self, size: int | None = -1) -> str:
        raise self.error


# -- in-process: the parser ------------------------------------------------------------------


class TestParser:
    def test_no_subcommand_prints_the_help_and_exits_with_2(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        result = run(capsys)
        assert result.status == 2
        assert result.out.startswith("usage: pipekit [-h] COMMAND ...\n")
        assert all(name in result.out for name in SUBCOMMANDS)
        assert result.err == ""

    def test_reads_sys_argv_when_given_no_arguments(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sys, "argv", ["pipekit", "demo", "--no-color"])
        assert main() == 0
        assert capsys.readouterr().out == demo(color=False, width=WIDTH)

    @pytest.mark.parametrize("command", ["", *SUBCOMMANDS])
    def test_help_shows_an_example_and_exits_with_0(
        self, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        result = run(capsys, *filter(None, [command]), "--help")
        assert result.status == 0
        assert f"usage: pipekit {command}".replace("  ", " ") in result.out
        assert "example" in result.out
        assert f"\n  pipekit {command}" in result.out
        assert result.err == ""

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["show"], "pipekit show: error: the following arguments are required: FILE"),
            (["show", "a.json", "--bogus"], "pipekit show: error: unrecognized arguments: --bogus"),
            (["show", "a.json", "--pipeline", "x"], "pipekit show: error: argument --pipeline:"),
            (["bogus"], "pipekit: error: argument COMMAND: invalid choice: 'bogus'"),
            (["--bogus"], "pipekit: error: unrecognized arguments: --bogus"),
            (["import-kommo", "k.json"], "pipekit import-kommo: error: the following arguments"),
            (
                ["apply", "a.json", "--at", "soon"],
                "pipekit apply: error: argument --at: expected an ISO 8601 time such as"
                f" {AT_TEXT}, got 'soon'",
            ),
            (
                ["apply", "a.json", "--at", "2026-03-02T09:00"],
                "pipekit apply: error: argument --at: expected a time with its UTC offset",
            ),
            (["automations"], "pipekit automations: error: the following arguments are required"),
            (["due", "a.json", "--pipeline", "1"], "pipekit due: error: unrecognized arguments"),
            (
                ["due", "a.json", "--at", "tomorrow"],
                "pipekit due: error: argument --at: expected an ISO 8601 time such as"
                f" {AT_TEXT}, got 'tomorrow'",
            ),
            (
                ["due", "a.json", "--at", "2026-03-02T09:00:00"],
                "pipekit due: error: argument --at: expected a time with its UTC offset, such as"
                f" {AT_TEXT}, got '2026-03-02T09:00:00'",
            ),
            (["due", "a.json", "--at"], "pipekit due: error: argument --at: expected one argument"),
        ],
    )
    def test_a_usage_error_is_one_line_and_exits_with_2(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
    ) -> None:
        result = run(capsys, *argv)
        assert result.status == 2
        assert result.out == ""
        line = one_line(result.err)
        assert line.startswith(message)
        command = (
            "pipekit" if argv[0].startswith("-") or argv[0] == "bogus" else f"pipekit {argv[0]}"
        )
        assert line.endswith(f" (see {command} --help)")


# -- in-process: each subcommand -------------------------------------------------------------


class TestDemo:
    def test_prints_the_tour_in_plain_text_when_piped(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        result = run(capsys, "demo")
        assert result == Run(0, demo(color=False, width=WIDTH), "")
        assert list(tmp_path.iterdir()) == []

    def test_paints_on_a_terminal(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pretend_terminal(monkeypatch)
        assert run(capsys, "demo") == Run(0, demo(color=True, width=WIDTH), "")

    def test_no_color_flag_or_variable_keeps_it_plain(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pretend_terminal(monkeypatch)
        plain = demo(color=False, width=WIDTH)
        assert run(capsys, "demo", "--no-color").out == plain
        monkeypatch.setenv("NO_COLOR", "1")
        assert run(capsys, "demo").out == plain
        monkeypatch.setenv("NO_COLOR", "")  # empty means unset (no-color.org)
        assert run(capsys, "demo").out == demo(color=True, width=WIDTH)

    def test_takes_the_width_from_columns(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("COLUMNS", "60")
        assert run(capsys, "demo").out == demo(color=False, width=60)


class TestInit:
    def test_writes_a_new_workspace_document(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "new.json"
        result = run(capsys, "init", path)
        assert result.status == 0
        assert (
            one_line(result.out)
            == f"created {path}: a new workspace (see it with: pipekit show {path})"
        )
        assert path.read_bytes() == document(new_workspace()).encode("utf-8")
        assert [entry.name for entry in tmp_path.iterdir()] == ["new.json"]

    def test_incoming_switches_incoming_leads_on(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "new.json"
        assert run(capsys, "init", path, "--incoming").status == 0
        assert path.read_text(encoding="utf-8") == document(new_workspace(incoming=True))

    def test_refuses_a_file_that_exists(
        self, capsys: pytest.CaptureFixture[str], sales: Path
    ) -> None:
        before = snapshot(sales)
        result = run(capsys, "init", sales)
        assert result.status == 1
        assert one_line(result.err) == (
            f"pipekit: {sales}: the file exists already (pass --force to replace it)"
        )
        assert snapshot(sales) == before

    def test_force_replaces_it(self, capsys: pytest.CaptureFixture[str], sales: Path) -> None:
        assert run(capsys, "init", sales, "--force").status == 0
        assert sales.read_text(encoding="utf-8") == document(new_workspace())

    def test_a_directory_that_does_not_exist_is_one_line(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "nowhere" / "new.json"
        result = run(capsys, "init", path)
        assert result.status == 1
        assert one_line(result.err) == f"pipekit: {path}: cannot write: No such file or directory"


class TestShow:
    def test_prints_the_main_pipeline_as_a_board(
        self, capsys: pytest.CaptureFixture[str], sales: Path
    ) -> None:
        expected = render_board(with_leads(), 1, width=WIDTH, color=False)
        assert run(capsys, "show", sales) == Run(0, expected + "\n", "")

    def test_leads_and_colour_on_a_terminal(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        pretend_terminal(monkeypatch)
        expected = render_board(with_leads(), 1, width=WIDTH, color=True, leads=True)
        assert run(capsys, "show", sales, "--leads") == Run(0, expected + "\n", "")
        plain = render_board(with_leads(), 1, width=WIDTH, color=False, leads=True)
        assert run(capsys, "show", sales, "--leads", "--no-color").out == plain + "\n"

    def test_pipeline_picks_one(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        workspace = apply(new_workspace(), CreatePipeline("Hiring"), at=AT).workspace
        path = tmp_path / "two.json"
        path.write_text(document(workspace), encoding="utf-8")
        expected = render_board(workspace, 2, width=WIDTH, color=False)
        assert run(capsys, "show", path, "--pipeline", "2").out == expected + "\n"

    def test_an_unknown_pipeline_is_one_line(
        self, capsys: pytest.CaptureFixture[str], sales: Path
    ) -> None:
        result = run(capsys, "show", sales, "--pipeline", "9")
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err) == f"pipekit: {sales}: unknown_pipeline: no pipeline has id 9"

    def test_a_missing_file_is_one_line(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "missing.json"
        result = run(capsys, "show", path)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err) == f"pipekit: {path}: cannot read: No such file or directory"


class TestApply:
    COMMANDS = (
        '{"type": "CreateLead", "name": "Initech", "price": 320000}\n'
        "\n"
        '{"type": "MoveLead", "lead_id": 3, "stage_id": 145}\n'
    )

    def expected(self) -> tuple[Workspace, list[Event]]:
        workspace, events = with_leads(), list[Event]()
        for command in (CreateLead("Initech", price=320_000), MoveLead(lead_id=3, stage_id=145)):
            result = apply(workspace, command, at=AT)
            workspace = result.workspace
            events.extend(result.events)
        return workspace, events

    def test_applies_the_commands_of_a_file_and_saves(
        self, capsys: pytest.CaptureFixture[str], sales: Path, tmp_path: Path
    ) -> None:
        commands = tmp_path / "commands.jsonl"
        commands.write_text(self.COMMANDS, encoding="utf-8")
        result = run(capsys, "apply", sales, commands, "--at", AT_TEXT)
        workspace, _ = self.expected()
        assert result == Run(0, f"applied 2 commands to {sales}: 2 events, now at revision 4\n", "")
        assert sales.read_text(encoding="utf-8") == document(workspace)
        assert sorted(entry.name for entry in tmp_path.iterdir()) == [
            "commands.jsonl",
            "sales.json",
        ]

    @pytest.mark.parametrize("dash", [[], ["-"]])
    def test_reads_standard_input_without_commands_or_with_a_dash(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        dash: list[str],
    ) -> None:
        monkeypatch.setattr(sys, "stdin", Stdin(self.COMMANDS))
        assert run(capsys, "apply", sales, *dash, "--at", AT_TEXT).status == 0
        assert sales.read_text(encoding="utf-8") == document(self.expected()[0])

    def test_says_when_it_reads_commands_from_a_terminal(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        monkeypatch.setattr(sys, "stdin", Stdin("", tty=True))
        result = run(capsys, "apply", sales)
        assert one_line(result.err) == (
            "pipekit: reading commands from standard input, one a line (end with Ctrl-D)"
        )

    def test_the_time_is_now_by_default(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        monkeypatch.setattr(sys, "stdin", Stdin('{"type": "CreateLead", "name": "Hooli"}\n'))
        before = datetime.now(UTC)
        result = run(capsys, "apply", sales, "--dry-run")
        after = datetime.now(UTC)
        assert before <= datetime.fromisoformat(json.loads(result.out)["at"]) <= after

    def test_dry_run_prints_the_events_and_writes_nothing(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        before = snapshot(sales)
        monkeypatch.setattr(sys, "stdin", Stdin(self.COMMANDS))
        result = run(capsys, "apply", sales, "--dry-run", "--at", AT_TEXT)
        assert result == Run(0, json_lines(*self.expected()[1]), "")
        assert snapshot(sales) == before

    def test_nothing_to_change_leaves_the_file_as_it_was(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        before = snapshot(sales)
        monkeypatch.setattr(
            sys, "stdin", Stdin('\n{"type": "MoveLead", "lead_id": 1, "stage_id": 144}\n\n')
        )
        result = run(capsys, "apply", sales)
        assert result == Run(0, f"applied 1 command to {sales}: nothing changed\n", "")
        assert snapshot(sales) == before

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            (
                '{"type": "DeleteStage", "pipeline_id": 1, "stage_id": 142}',
                "stage_locked: the won stage (id 142) cannot be deleted",
            ),
            (
                '{"type": "MoveLead", "lead_id": 1.0, "stage_id": 145}',
                "decode_error: at /lead_id: expected an integer, got a float",
            ),
            ('{"type": "MoveLead",', "invalid_json: Expecting property name enclosed in double"),
            ("[" * 100_000, "invalid_json: arrays or objects nested too deeply"),
            ("1" * 5000, "invalid_json: Exceeds the limit (4300 digits)"),
        ],
    )
    def test_a_refused_command_stops_the_run_and_leaves_the_file(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        line: str,
        message: str,
    ) -> None:
        before = snapshot(sales)
        monkeypatch.setattr(sys, "stdin", Stdin(self.COMMANDS + "\n" + line + "\n"))
        for extra in ([], ["--dry-run"]):
            result = run(capsys, "apply", sales, *extra)
            assert (result.status, result.out) == (1, "")
            assert one_line(result.err).startswith(f"pipekit: line 5: {message}")
            sys.stdin.seek(0)
        assert snapshot(sales) == before

    def test_a_name_that_utf8_cannot_write_is_one_line_and_leaves_the_file(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        tmp_path: Path,
    ) -> None:
        before = snapshot(sales)
        monkeypatch.setattr(sys, "stdin", Stdin('{"type": "CreateLead", "name": "\\ud800"}\n'))
        result = run(capsys, "apply", sales, "--at", AT_TEXT)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err) == (
            "pipekit: cannot write '\\ud800': text must be valid Unicode, without lone surrogates"
        )
        assert snapshot(sales) == before
        assert [entry.name for entry in tmp_path.iterdir()] == [sales.name]

    def test_a_missing_commands_file_is_one_line(
        self, capsys: pytest.CaptureFixture[str], sales: Path, tmp_path: Path
    ) -> None:
        result = run(capsys, "apply", sales, tmp_path / "none.jsonl")
        assert result.status == 1
        assert one_line(result.err) == (
            f"pipekit: {tmp_path / 'none.jsonl'}: cannot read: No such file or directory"
        )

    def test_standard_input_that_is_not_utf8_is_one_line(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        error = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        monkeypatch.setattr(sys, "stdin", FailingStdin(error))
        result = run(capsys, "apply", sales)
        assert result.status == 1
        assert one_line(result.err) == "pipekit: standard input: not UTF-8 text (byte 0)"

    def test_an_interrupt_is_one_line_and_exits_with_130(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        monkeypatch.setattr(sys, "stdin", FailingStdin(KeyboardInterrupt()))
        result = run(capsys, "apply", sales)
        assert result.status == 130
        assert one_line(result.err) == "pipekit: interrupted"


class TestWriting:
    """Every document is written to a temporary file, then renamed over FILE."""

    def test_a_failed_rename_leaves_the_file_and_no_temporary_file(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        tmp_path: Path,
    ) -> None:
        before = snapshot(sales)

        def crash(source: str, target: str) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", crash)
        monkeypatch.setattr(sys, "stdin", Stdin('{"type": "CreateLead", "name": "Hooli"}\n'))
        result = run(capsys, "apply", sales)
        assert result.status == 1
        assert one_line(result.err) == f"pipekit: {sales}: cannot write: No space left on device"
        assert snapshot(sales) == before
        assert [entry.name for entry in tmp_path.iterdir()] == ["sales.json"]

    def test_an_interrupted_write_leaves_no_temporary_file(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        tmp_path: Path,
    ) -> None:
        before = snapshot(sales)

        def interrupt(handle: int) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "fsync", interrupt)
        monkeypatch.setattr(sys, "stdin", Stdin('{"type": "CreateLead", "name": "Hooli"}\n'))
        assert run(capsys, "apply", sales).status == 130
        assert snapshot(sales) == before
        assert [entry.name for entry in tmp_path.iterdir()] == ["sales.json"]

    def test_a_file_keeps_its_permissions(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        sales.chmod(0o600)
        monkeypatch.setattr(sys, "stdin", Stdin('{"type": "CreateLead", "name": "Hooli"}\n'))
        assert run(capsys, "apply", sales).status == 0
        assert stat.S_IMODE(sales.stat().st_mode) == 0o600

    def test_a_new_file_gets_the_usual_permissions(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        old = os.umask(0o027)
        try:
            assert run(capsys, "init", tmp_path / "new.json").status == 0
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640

    def test_a_symbolic_link_stays_and_its_target_is_replaced(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        link = sales.with_name("link.json")
        link.symlink_to(sales.name)
        monkeypatch.setattr(sys, "stdin", Stdin('{"type": "CreateLead", "name": "Hooli"}\n'))
        assert run(capsys, "apply", link).status == 0
        assert link.is_symlink()
        assert len(load(Workspace, json.loads(sales.read_text(encoding="utf-8"))).leads) == 3


class TestInterruptedWrites:
    """Exit 130 says FILE was left as it was: once the rename is done, the run finishes."""

    HOOLI = '{"type": "CreateLead", "name": "Hooli"}\n'

    @pytest.fixture(autouse=True)
    def handler_unchanged(self) -> Iterator[None]:
        """Each run gives SIGINT back the handler it had.

        Python's own handler is set first: a test run started in the background by a
        shell inherits SIGINT ignored, and Ctrl-C would then stop nothing to test.
        """
        inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        finally:
            signal.signal(signal.SIGINT, inherited)

    @staticmethod
    def ctrl_c() -> None:
        """Press Ctrl-C: SIGINT, handled now, as when it comes from the terminal."""
        signal.raise_signal(signal.SIGINT)

    def interrupt_at(self, monkeypatch: pytest.MonkeyPatch, name: str, *, after: bool) -> None:
        """Make ``os.<name>`` press Ctrl-C just before or just *after* it does its work."""
        real = getattr(os, name)

        def pressed(*arguments: Any) -> Any:
            if not after:
                self.ctrl_c()
            result = real(*arguments)
            if after:
                self.ctrl_c()
            return result

        monkeypatch.setattr(os, name, pressed)

    @pytest.mark.parametrize(("name", "after"), [("fsync", False), ("chmod", True)])
    def test_before_the_rename_leaves_the_file_and_exits_130(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        tmp_path: Path,
        name: str,
        after: bool,
    ) -> None:
        before = snapshot(sales)
        self.interrupt_at(monkeypatch, name, after=after)
        monkeypatch.setattr(sys, "stdin", Stdin(self.HOOLI))

        assert run(capsys, "apply", sales) == Run(130, "", "pipekit: interrupted\n")
        assert snapshot(sales) == before
        assert [entry.name for entry in tmp_path.iterdir()] == [sales.name]

    @pytest.mark.parametrize("after", [False, True], ids=["during", "after"])
    def test_at_or_after_the_rename_finishes_and_reports_success(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        tmp_path: Path,
        after: bool,
    ) -> None:
        self.interrupt_at(monkeypatch, "replace", after=after)
        monkeypatch.setattr(sys, "stdin", Stdin(self.HOOLI))

        result = run(capsys, "apply", sales, "--at", AT_TEXT)
        assert result == Run(0, f"applied 1 command to {sales}: 1 event, now at revision 3\n", "")
        assert load(Workspace, json.loads(sales.read_text(encoding="utf-8"))).revision == 3
        assert [entry.name for entry in tmp_path.iterdir()] == [sales.name]

    def test_while_reporting_success_is_ignored(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
    ) -> None:
        real = sys.stdout.write

        def write(text: str) -> int:
            self.ctrl_c()
            return real(text)

        monkeypatch.setattr(sys.stdout, "write", write)
        monkeypatch.setattr(sys, "stdin", Stdin(self.HOOLI))
        assert run(capsys, "apply", sales).status == 0

    @pytest.mark.parametrize(
        "argv",
        [["init", "{file}", "--force"], ["import-kommo", str(KOMMO), "-o", "{file}", "--force"]],
        ids=["init", "import-kommo"],
    )
    def test_after_the_rename_of_any_document_is_success(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        argv: list[str],
    ) -> None:
        self.interrupt_at(monkeypatch, "replace", after=True)
        result = run(capsys, *(arg.format(file=sales) for arg in argv))
        assert (result.status, result.err) == (0, "")
        assert load(Workspace, json.loads(sales.read_text(encoding="utf-8"))).leads == {}

    def test_ctrl_c_stops_a_later_run_again(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        monkeypatch.setattr(sys, "stdin", Stdin(self.HOOLI))
        assert run(capsys, "apply", sales).status == 0
        with pytest.raises(KeyboardInterrupt):
            self.ctrl_c()

    def test_a_failed_rename_is_still_one_line(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        def crash(source: str, target: str) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", crash)
        monkeypatch.setattr(sys, "stdin", Stdin(self.HOOLI))
        result = run(capsys, "apply", sales)
        assert result.status == 1
        assert one_line(result.err) == f"pipekit: {sales}: cannot write: No space left on device"

    def test_a_run_outside_the_main_thread_writes_as_usual(self, sales: Path) -> None:
        # Only the main thread receives signals, and only it may set their handlers.
        statuses: list[int] = []
        worker = threading.Thread(
            target=lambda: statuses.append(main(["init", str(sales), "--force"]))
        )
        worker.start()
        worker.join()
        assert statuses == [0]
        assert load(Workspace, json.loads(sales.read_text(encoding="utf-8"))).revision == 0

    def test_as_the_program_ctrl_c_stays_ignored_until_the_process_exits(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        # Called without argv, main is the program: a Ctrl-C between its return and
        # the process's exit would kill it with SIGINT, 130 to a shell.
        monkeypatch.setattr(sys, "argv", ["pipekit", "apply", str(sales)])
        monkeypatch.setattr(sys, "stdin", Stdin(self.HOOLI))
        try:
            assert main() == 0
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            self.ctrl_c()
        finally:
            _main._INTERRUPTS.release()
        assert capsys.readouterr().out.startswith(f"applied 1 command to {sales}")

    def test_as_the_program_a_run_that_writes_nothing_keeps_ctrl_c(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        monkeypatch.setattr(sys, "argv", ["pipekit", "check", str(sales)])
        assert main() == 0
        with pytest.raises(KeyboardInterrupt):
            self.ctrl_c()


class TestDuplicateKeys:
    """A key given twice in one JSON object is refused, not settled by keeping the last."""

    def test_in_a_workspace_document(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        text = document(new_workspace()).replace('"revision": 0', '"revision": 0, "revision": 5')
        assert text.count('"revision"') == 2
        path = tmp_path / "twice.json"
        path.write_text(text, encoding="utf-8")
        for command in ("check", "show", "automations", "due"):
            result = run(capsys, command, path)
            assert (result.status, result.out) == (1, "")
            assert one_line(result.err) == (
                f"pipekit: {path}: the key 'revision' appears twice in one object"
            )

    def test_in_a_nested_object(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        data = dump(new_workspace())
        assert isinstance(data, dict)
        text = json.dumps(data).replace('"name": "Incoming', '"name": "x", "name": "Incoming', 1)
        text = text.replace('"color": ', '"color": "#fff", "color": ', 1)
        path = tmp_path / "twice.json"
        path.write_text(text, encoding="utf-8")
        assert one_line(run(capsys, "check", path).err) == (
            f"pipekit: {path}: the key 'color' appears twice in one object"
        )

    def test_in_a_command_line(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        before = snapshot(sales)
        line = '{"type": "CreateLead", "name": "A", "price": 1, "name": "B"}'
        monkeypatch.setattr(sys, "stdin", Stdin('{"type": "RunDue"}\n' + line + "\n"))
        result = run(capsys, "apply", sales)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err) == (
            "pipekit: line 2: invalid_json: the key 'name' appears twice in one object"
        )
        assert snapshot(sales) == before

    def test_in_a_kommo_body(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        source = tmp_path / "kommo.json"
        text = KOMMO.read_text(encoding="utf-8")
        source.write_text(text.replace('"id":', '"id": 1, "id":', 1), encoding="utf-8")
        result = run(capsys, "import-kommo", source, "-o", tmp_path / "out.json")
        assert (
            one_line(result.err) == f"pipekit: {source}: the key 'id' appears twice in one object"
        )
        assert not (tmp_path / "out.json").exists()

    def test_the_same_key_in_two_objects_is_fine(
        self, capsys: pytest.CaptureFixture[str], sales: Path
    ) -> None:
        assert run(capsys, "check", sales).status == 0


class TestDeepNesting:
    """Input nested too deeply for Python to read is one line, never a RecursionError."""

    DEEP_JSON: Final = "[" * 5_000 + "]" * 5_000

    def test_a_workspace_document(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        path = tmp_path / "deep.json"
        path.write_text('{"schema": "pipekit/1", "pipelines": ' + self.DEEP_JSON + "}")
        for command in ("check", "show", "apply", "automations", "due"):
            result = run(capsys, command, path)
            assert (result.status, result.out) == (1, "")
            assert one_line(result.err) == (
                f"pipekit: {path}: not JSON: arrays or objects nested too deeply"
            )

    def test_a_command_line(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sales: Path
    ) -> None:
        before = snapshot(sales)
        line = '{"type": "CreateLead", "name": ' + self.DEEP_JSON + "}"
        monkeypatch.setattr(sys, "stdin", Stdin(line + "\n"))
        result = run(capsys, "apply", sales)
        assert one_line(result.err) == (
            "pipekit: line 1: invalid_json: arrays or objects nested too deeply"
        )
        assert snapshot(sales) == before

    def test_a_kommo_body(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        source = tmp_path / "kommo.json"
        source.write_text('{"_embedded": {"pipelines": ' + self.DEEP_JSON + "}}")
        result = run(capsys, "import-kommo", source, "-o", tmp_path / "out.json")
        assert one_line(result.err) == (
            f"pipekit: {source}: not JSON: arrays or objects nested too deeply"
        )
        assert not (tmp_path / "out.json").exists()

    @pytest.mark.parametrize(
        "value",
        ["[" * 5_000 + "]" * 5_000, "{a = " * 5_000 + "1" + "}" * 5_000],
        ids=["arrays", "inline-tables"],
    )
    def test_a_desired_toml_file(
        self, capsys: pytest.CaptureFixture[str], sales: Path, tmp_path: Path, value: str
    ) -> None:
        desired_file = tmp_path / "desired.toml"
        desired_file.write_text(f"stages = {value}\n", encoding="utf-8")
        result = run(capsys, "plan", sales, desired_file)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err) == (
            f"pipekit: {desired_file}: invalid TOML: arrays or tables nested too deeply"
        )


class TestCheck:
    def test_a_valid_document(self, capsys: pytest.CaptureFixture[str], sales: Path) -> None:
        assert run(capsys, "check", sales) == Run(
            0,
            f"{sales}: a valid pipekit/1 workspace at revision 2: 1 pipeline, 6 stages,"
            " 2 leads, 0 loss reasons\n",
            "",
        )

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('{"schema": "pipekit/1"}', "at /: missing the field 'main_pipeline_id'"),
            ("{\n  ,", "not JSON: Expecting property name enclosed in double quotes at line 2,"),
            ("", "not JSON: Expecting value at line 1, column 1"),
        ],
    )
    def test_a_bad_document_is_one_line_with_its_place(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
    ) -> None:
        path = tmp_path / "bad.json"
        path.write_text(text, encoding="utf-8")
        result = run(capsys, "check", path)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err).startswith(f"pipekit: {path}: {message}")

    def test_points_into_the_document(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        data = dump(new_workspace())
        assert isinstance(data, dict)
        data["pipelines"][0]["stages"][1]["name"] = ""
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        result = run(capsys, "check", path)
        assert one_line(result.err).startswith(f"pipekit: {path}: at /pipelines/0/stages/1/name:")

    def test_a_file_that_is_not_utf8_or_not_a_file(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "latin1.json"
        path.write_bytes(b'{"name": "caf\xe9"}')
        result = run(capsys, "check", path)
        assert one_line(result.err) == f"pipekit: {path}: not UTF-8 text (byte 13)"
        result = run(capsys, "check", tmp_path)
        assert one_line(result.err) == f"pipekit: {tmp_path}: cannot read: Is a directory"

    def test_a_byte_order_mark_is_fine(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "bom.json"
        path.write_bytes(b"\xef\xbb\xbf" + document(new_workspace()).encode("utf-8"))
        assert run(capsys, "check", path).status == 0


class TestImportKommo:
    def test_writes_the_workspace_kommo_describes(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "kommo.json"
        result = run(capsys, "import-kommo", KOMMO, "-o", path)
        workspace = from_kommo(json.loads(KOMMO.read_text(encoding="utf-8")))
        assert result == Run(0, f"imported 1 pipeline (7 stages) from {KOMMO} into {path}\n", "")
        assert path.read_text(encoding="utf-8") == document(workspace)

    def test_a_payload_kommo_would_not_send_is_one_line(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        source = tmp_path / "payload.json"
        source.write_text('{"_embedded": {"statuses": []}}', encoding="utf-8")
        result = run(capsys, "import-kommo", source, "--output", tmp_path / "out.json")
        assert result.status == 1
        assert one_line(result.err) == f"pipekit: {source}: at /: missing the field 'id'"
        assert not (tmp_path / "out.json").exists()

    def test_refuses_to_replace_a_file_without_force(
        self, capsys: pytest.CaptureFixture[str], sales: Path
    ) -> None:
        before = snapshot(sales)
        assert run(capsys, "import-kommo", KOMMO, "-o", sales).status == 1
        assert snapshot(sales) == before
        assert run(capsys, "import-kommo", KOMMO, "-o", sales, "--force").status == 0
        assert load(Workspace, json.loads(sales.read_text(encoding="utf-8"))).leads == {}


class TestPlan:
    def test_prints_the_commands_as_json_lines(
        self, capsys: pytest.CaptureFixture[str], sales: Path, tmp_path: Path
    ) -> None:
        desired_file = tmp_path / "desired.toml"
        desired_file.write_text(DESIRED, encoding="utf-8")
        current = with_leads().main_pipeline
        commands = plan(current, desired_pipeline(current, DESIRED))
        assert commands  # the test would prove little otherwise
        assert run(capsys, "plan", sales, desired_file) == Run(0, json_lines(*commands), "")

    def test_its_output_is_ready_for_apply(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        sales: Path,
        tmp_path: Path,
    ) -> None:
        desired_file = tmp_path / "desired.toml"
        desired_file.write_text(DESIRED, encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", Stdin(run(capsys, "plan", sales, desired_file).out))
        assert run(capsys, "apply", sales).status == 0
        pipeline = load(Workspace, json.loads(sales.read_text(encoding="utf-8"))).main_pipeline
        assert [stage.name for stage in pipeline.stages] == [
            "Incoming leads",
            "negotiation",
            "Demo",
            "Paid",
            "Closed - lost",
        ]
        assert run(capsys, "plan", sales, desired_file) == Run(0, "", "")

    def test_pipeline_picks_one(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        workspace = apply(new_workspace(), CreatePipeline("Hiring"), at=AT).workspace
        path = tmp_path / "two.json"
        path.write_text(document(workspace), encoding="utf-8")
        desired_file = tmp_path / "desired.toml"
        desired_file.write_text('[[stages]]\nname = "Offer Made"\n', encoding="utf-8")
        assert run(capsys, "plan", path, desired_file, "--pipeline", "2").out == json_lines(
            DeleteStage(2, 144), DeleteStage(2, 146)
        )
        result = run(capsys, "plan", path, desired_file, "--pipeline", "3")
        assert one_line(result.err) == f"pipekit: {path}: unknown_pipeline: no pipeline has id 3"

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                'name = "Sales"\n[[stages]]\nnmae = "Demo"\n',
                "line 3: unknown key 'nmae' in a stage",
            ),
            ('name = "Sales"\n', " no stages are listed"),
        ],
    )
    def test_a_bad_desired_file_is_one_line_with_its_line(
        self,
        capsys: pytest.CaptureFixture[str],
        sales: Path,
        tmp_path: Path,
        text: str,
        message: str,
    ) -> None:
        desired_file = tmp_path / "desired.toml"
        desired_file.write_text(text, encoding="utf-8")
        result = run(capsys, "plan", sales, desired_file)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err).startswith(f"pipekit: {desired_file}:{message}")

    def test_a_missing_desired_file_is_one_line(
        self, capsys: pytest.CaptureFixture[str], sales: Path, tmp_path: Path
    ) -> None:
        result = run(capsys, "plan", sales, tmp_path / "desired.toml")
        assert result.status == 1
        assert one_line(result.err).endswith("desired.toml: cannot read: No such file or directory")


class TestAutomations:
    def test_lists_each_pipeline_and_stage_with_the_automations_watching_it(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "automated.json"
        path.write_text(document(automated()), encoding="utf-8")
        before = snapshot(path)
        assert run(capsys, "automations", path) == Run(0, AUTOMATIONS, "")
        assert snapshot(path) == before

    def test_no_automations_is_one_clear_line(
        self, capsys: pytest.CaptureFixture[str], sales: Path
    ) -> None:
        result = run(capsys, "automations", sales)
        assert result == Run(
            0,
            f"{sales}: no automations (add one with an AddAutomation command: pipekit apply)\n",
            "",
        )

    def test_bold_pipeline_headings_on_a_terminal_only(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "automated.json"
        path.write_text(document(automated()), encoding="utf-8")
        pretend_terminal(monkeypatch)
        painted = run(capsys, "automations", path).out
        assert painted.startswith("\x1b[1mPipeline 1: Pipeline (main)\x1b[0m\n")
        assert "\n\x1b[1mPipeline 3: Partners\x1b[0m\n  no automations\n" in painted
        assert painted.replace("\x1b[1m", "").replace("\x1b[0m", "") == AUTOMATIONS
        assert run(capsys, "automations", path, "--no-color").out == AUTOMATIONS
        monkeypatch.setenv("NO_COLOR", "1")
        assert run(capsys, "automations", path).out == AUTOMATIONS

    def test_a_bad_document_is_one_line(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        path = tmp_path / "bad.json"
        path.write_text('{"schema": "pipekit/1"}', encoding="utf-8")
        result = run(capsys, "automations", path)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err).startswith(f"pipekit: {path}: at /: missing the field")


class TestDue:
    @pytest.fixture
    def path(self, tmp_path: Path) -> Path:
        path = tmp_path / "scheduled.json"
        path.write_text(document(scheduled()), encoding="utf-8")
        return path

    def test_lists_the_items_due_by_due_time_and_counts_those_handed_over(
        self, capsys: pytest.CaptureFixture[str], path: Path
    ) -> None:
        before = snapshot(path)
        result = run(capsys, "due", path, "--at", "2026-03-02T12:00:00+00:00")
        assert result == Run(
            0,
            "2 actions due at 2026-03-02T12:00:00+00:00:\n" + "".join(DUE_ITEMS[:2]) + HANDED_OVER,
            "",
        )
        assert snapshot(path) == before

    def test_a_due_time_equal_to_at_is_due_and_any_offset_will_do(
        self, capsys: pytest.CaptureFixture[str], path: Path
    ) -> None:
        result = run(capsys, "due", path, "--at", "2026-03-02T10:30:00+01:00")
        assert result.out == (
            "1 action due at 2026-03-02T10:30:00+01:00:\n" + DUE_ITEMS[0] + HANDED_OVER
        )
        result = run(capsys, "due", path, "--at", "2026-03-05T00:00:00+00:00")
        assert result.out.splitlines(keepends=True)[1:4] == list(DUE_ITEMS)

    def test_nothing_due_is_one_line_and_the_handed_over_count(
        self, capsys: pytest.CaptureFixture[str], path: Path
    ) -> None:
        result = run(capsys, "due", path, "--at", AT_TEXT.replace("09:00", "08:59"))
        assert result == Run(0, "nothing due at 2026-03-02T08:59:00+00:00\n" + HANDED_OVER, "")

    def test_nothing_scheduled_at_all_is_one_line(
        self, capsys: pytest.CaptureFixture[str], sales: Path
    ) -> None:
        result = run(capsys, "due", sales, "--at", AT_TEXT)
        assert result == Run(0, f"nothing due at {AT_TEXT}\n", "")

    def test_the_time_is_now_by_default(
        self, capsys: pytest.CaptureFixture[str], path: Path
    ) -> None:
        result = run(capsys, "due", path)
        assert result.status == 0
        heading, *items, handed_over = result.out.splitlines(keepends=True)
        at = datetime.fromisoformat(heading.removeprefix("3 actions due at ").removesuffix(":\n"))
        assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)
        assert (items, handed_over) == (list(DUE_ITEMS), HANDED_OVER)

    def test_a_move_whose_target_is_gone_says_so(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        # Only a document can hold one: the rules cancel an item whose target goes. RunDue
        # would fail it (ActionFailed, "unknown_stage").
        workspace = scheduled()
        item = workspace.scheduled_action(4)
        kept = [other for other in workspace.scheduled if other.id != item.id]
        stale = [
            attrs.evolve(item, action=MoveTo(999)),
            attrs.evolve(item, id=5, action=MoveTo(1, pipeline_id=9)),
        ]
        workspace = attrs.evolve(workspace, scheduled=[*kept, *stale], next_scheduled_id=6)
        path = tmp_path / "stale.json"
        path.write_text(document(workspace), encoding="utf-8")
        lines = run(capsys, "due", path, "--at", "2026-03-05T00:00:00+00:00").out.splitlines()
        assert lines[3:5] == [
            "  item 4, due 2026-03-04T10:00:00+00:00: move to stage 999 (gone) for Globex"
            " (lead 2), by automation 2",
            "  item 5, due 2026-03-04T10:00:00+00:00: move to stage 1 in pipeline 9 (gone)"
            " for Globex (lead 2), by automation 2",
        ]

    def test_a_missing_file_is_one_line(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        result = run(capsys, "due", tmp_path / "missing.json", "--at", AT_TEXT)
        assert (result.status, result.out) == (1, "")
        assert one_line(result.err).endswith("missing.json: cannot read: No such file or directory")


class TestDescriptions:
    """How the command line and the demo word automations, actions and delays."""

    @pytest.mark.parametrize(
        ("delay", "text"),
        [
            (timedelta(0), "no delay"),
            (timedelta(days=1), "after 1 day"),
            (
                timedelta(days=1_000, hours=1, minutes=1, seconds=1),
                "after 1,000 days 1 hour 1 minute 1 second",
            ),
            (timedelta(hours=2, minutes=30), "after 2 hours 30 minutes"),
            (timedelta(seconds=45), "after 45 seconds"),
            (timedelta(seconds=1, milliseconds=500), "after 1.5 seconds"),
            (timedelta(microseconds=1), "after 0.000001 seconds"),
            (timedelta(minutes=1, microseconds=250_000), "after 1 minute 0.25 seconds"),
        ],
    )
    def test_a_delay(self, delay: timedelta, text: str) -> None:
        assert describe_delay(delay) == text

    @pytest.mark.parametrize(
        ("action", "text"),
        [
            (MoveTo(146), "move to Negotiation"),
            (MoveTo(146, pipeline_id=1), "move to Negotiation"),
            (MoveTo(145, pipeline_id=2), "move to Offer Made in Hiring"),
            (MoveTo(999), "move to stage 999 (gone)"),
            (MoveTo(999, pipeline_id=2), "move to stage 999 in pipeline 2 (gone)"),
            (MoveTo(144, pipeline_id=9), "move to stage 144 in pipeline 9 (gone)"),
            (HostAction("webhook"), "webhook"),
            (
                HostAction("webhook", {"url": "https://example.com/ü", "retries": [1, 5]}),
                'webhook {"retries": [1, 5], "url": "https://example.com/ü"}',
            ),
        ],
    )
    def test_an_action_of_an_automation_of_pipeline_1(
        self, action: MoveTo | HostAction, text: str
    ) -> None:
        assert describe_action(automated(), 1, action) == text

    def test_an_automation_leaves_the_stages_it_watches_to_the_caller(self) -> None:
        automation = Automation(9, 1, (144, 145), Trigger.LEFT, HostAction("webhook"), min_price=0)
        assert describe_automation(automated(), automation) == (
            "automation 9 (left): webhook; no delay; price at least 0"
        )


class TestBrokenPipe:
    def test_a_reader_that_leaves_early_gets_no_traceback(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        handle = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)

        class Closed(io.StringIO):
            def write(self, text: str) -> int:
                raise BrokenPipeError(32, "Broken pipe")

            def fileno(self) -> int:
                return handle

        monkeypatch.setattr(sys, "stdout", Closed())
        try:
            assert main(["demo"]) == 1
        finally:
            os.close(handle)
        assert capsys.readouterr().err == ""


class TestPythonDashM:
    def test_runs_main_and_exits_with_its_code(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sys, "argv", ["pipekit", "demo"])
        monkeypatch.delitem(sys.modules, "pipekit.__main__", raising=False)
        with pytest.raises(SystemExit) as info:
            runpy.run_module("pipekit", run_name="__main__")
        assert info.value.code == 0
        assert capsys.readouterr().out == demo(color=False, width=WIDTH)


class TestTopLayer:
    """The command line is pipekit's top layer: it uses the library, never the other way."""

    SOURCE: Final = Path(__file__).parent.parent / "src" / "pipekit"
    PRIVATE: Final = re.compile(r"\bpipekit(\.\w+)*\._")

    @staticmethod
    def imported(path: Path) -> set[str]:
        """Return every module *path* imports, under ``TYPE_CHECKING`` too, absolute."""
        package = ".".join(("pipekit", *path.relative_to(TestTopLayer.SOURCE).parent.parts))
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                module = ".".join(part for part in (base, node.module) if part)
                names.add(module)
                names.update(f"{module}.{alias.name}" for alias in node.names)
        return names

    def test_nothing_else_in_pipekit_imports_it(self) -> None:
        upward = {
            str(path.relative_to(self.SOURCE)): sorted(
                name
                for name in self.imported(path)
                if name == "pipekit.cli" or name.startswith("pipekit.cli.")
            )
            for path in self.SOURCE.rglob("*.py")
            if "cli" not in path.relative_to(self.SOURCE).parts
        }
        assert {path: names for path, names in upward.items() if names} == {
            "__main__.py": ["pipekit.cli", "pipekit.cli.main"]
        }

    def test_offers_main_alone(self) -> None:
        assert cli.__all__ == ["main"]
        assert cli.main is main

    @pytest.mark.parametrize("words", [(), *((command,) for command in SUBCOMMANDS)])
    def test_no_help_points_at_a_private_module(
        self, capsys: pytest.CaptureFixture[str], words: tuple[str, ...]
    ) -> None:
        assert main([*words, "--help"]) == 0
        assert not self.PRIVATE.search(capsys.readouterr().out)

    def test_neither_does_the_docstring(self) -> None:
        assert cli.__doc__ is not None
        assert "docs/toml-plan.md" in cli.__doc__
        assert not self.PRIVATE.search(cli.__doc__)


# -- the real console script, in a subprocess ---------------------------------------------------

SCRIPT = str(Path(sys.executable).with_name("pipekit"))


def script(
    cwd: Path, *argv: str, stdin: str | None = None, module: bool = False, **env: str
) -> Run:
    """Run ``pipekit`` (or ``python -m pipekit``) in *cwd*; return its exit code and output."""
    command = [sys.executable, "-m", "pipekit"] if module else [SCRIPT]
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    completed = subprocess.run(
        [*command, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env={**environment, "COLUMNS": str(WIDTH), **env},
        timeout=60,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def on_terminal(cwd: Path, *argv: str, **env: str) -> str:
    """Run ``pipekit`` with its standard output on a pseudo-terminal; return what it printed."""
    import pty  # POSIX only

    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [SCRIPT, *argv],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env={**environment, "COLUMNS": str(WIDTH), **env},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory holding sales.json (two leads), desired.toml, a Kommo payload, and two
    documents with automations: automated.json, and scheduled.json with items due."""
    (tmp_path / "sales.json").write_text(document(with_leads()), encoding="utf-8")
    (tmp_path / "desired.toml").write_text(DESIRED, encoding="utf-8")
    (tmp_path / "bad.toml").write_text(
        '[[stages]]\nname = "Demo"\nname = "Again"\n', encoding="utf-8"
    )
    (tmp_path / "kommo.json").write_text(KOMMO.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bad-kommo.json").write_text('{"_embedded": {"statuses": []}}', encoding="utf-8")
    (tmp_path / "automated.json").write_text(document(automated()), encoding="utf-8")
    (tmp_path / "scheduled.json").write_text(document(scheduled()), encoding="utf-8")
    return tmp_path


class TestConsoleScript:
    @pytest.mark.parametrize(
        ("success", "failure", "status", "error"),
        [
            (["demo"], ["demo", "--colour"], 2, "pipekit demo: error: unrecognized arguments"),
            (
                ["init", "new.json"],
                ["init", "sales.json"],
                1,
                "pipekit: sales.json: the file exists",
            ),
            (
                ["show", "sales.json", "--leads"],
                ["show", "missing.json"],
                1,
                "pipekit: missing.json: cannot read",
            ),
            (
                ["check", "sales.json"],
                ["check", "desired.toml"],
                1,
                "pipekit: desired.toml: not JSON",
            ),
            (
                ["import-kommo", "kommo.json", "-o", "new.json"],
                ["import-kommo", "bad-kommo.json", "-o", "other.json"],
                1,
                "pipekit: bad-kommo.json: at /: missing the field 'id'",
            ),
            (
                ["plan", "sales.json", "desired.toml"],
                ["plan", "sales.json", "bad.toml"],
                1,
                "pipekit: bad.toml:line 3: invalid TOML: Cannot overwrite a value",
            ),
            (
                ["automations", "automated.json"],
                ["automations", "kommo.json"],
                1,
                "pipekit: kommo.json: at /: missing the field",
            ),
            (
                ["due", "scheduled.json", "--at", AT_TEXT],
                ["due", "scheduled.json", "--at", "2026-03-02"],
                2,
                "pipekit due: error: argument --at: expected a time with its UTC offset",
            ),
        ],
    )
    def test_each_subcommand_succeeds_and_fails_with_one_line(
        self, project: Path, success: list[str], failure: list[str], status: int, error: str
    ) -> None:
        result = script(project, *success)
        assert (result.status, result.err) == (0, "")
        assert result.out.endswith("\n")
        assert ESCAPE not in result.out  # piped: plain text
        result = script(project, *failure)
        assert (result.status, result.out) == (status, "")
        assert one_line(result.err).startswith(error)

    def test_apply_saves_or_leaves_the_file_byte_for_byte(self, project: Path) -> None:
        path = project / "sales.json"
        os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
        before = snapshot(path)
        refused = (
            '{"type": "CreateLead", "name": "Hooli"}\n'
            '{"type": "DeleteStage", "pipeline_id": 1, "stage_id": 142}\n'
        )
        result = script(project, "apply", "sales.json", stdin=refused)
        assert (result.status, result.out) == (1, "")
        assert (
            one_line(result.err)
            == "pipekit: line 2: stage_locked: the won stage (id 142) cannot be deleted"
        )
        assert snapshot(path) == before

        result = script(
            project, "apply", "sales.json", "-", "--at", AT_TEXT, stdin=refused.split("\n")[0]
        )
        assert result == Run(0, "applied 1 command to sales.json: 1 event, now at revision 3\n", "")
        expected = apply(with_leads(), CreateLead("Hooli"), at=AT).workspace
        assert path.read_bytes() == document(expected).encode("utf-8")
        assert sorted(entry.name for entry in project.iterdir() if entry.name.startswith(".")) == []

    def test_colour_only_on_a_terminal_without_no_color(self, project: Path) -> None:
        if sys.platform == "win32":  # pragma: no cover
            pytest.skip("pseudo-terminals are POSIX")
        assert ESCAPE in on_terminal(project, "show", "sales.json")
        assert ESCAPE not in on_terminal(project, "show", "sales.json", NO_COLOR="1")
        assert ESCAPE not in on_terminal(project, "show", "sales.json", "--no-color")

    @pytest.mark.parametrize("command", ["", *SUBCOMMANDS])
    def test_help_exits_with_0_and_shows_an_example(self, project: Path, command: str) -> None:
        result = script(project, *filter(None, [command]), "--help")
        assert (result.status, result.err) == (0, "")
        assert "example" in result.out
        assert f"\n  pipekit {command}" in result.out

    def test_usage_errors_exit_with_2_and_one_line(self, project: Path) -> None:
        result = script(project, "show")
        assert (result.status, result.out) == (2, "")
        assert one_line(result.err) == (
            "pipekit show: error: the following arguments are required: FILE"
            " (see pipekit show --help)"
        )

    def test_python_dash_m_pipekit_alone_prints_the_help_and_exits_with_2(
        self, project: Path
    ) -> None:
        result = script(project, module=True)
        assert (result.status, result.err) == (2, "")
        assert result.out.startswith("usage: pipekit [-h] COMMAND ...")

    def test_ctrl_c_as_the_program_exits_is_no_interruption(self, tmp_path: Path) -> None:
        # What the console script does, with a Ctrl-C landing between main's return
        # and the exit: the file is written, so the status stays 0.
        path = tmp_path / "sales.json"
        path.write_text(document(with_leads()), encoding="utf-8")
        # The handler Python sets when started from a terminal, whatever this run inherited.
        program = (
            "import os, signal, sys\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from pipekit.cli import main\n"
            "status = main()\n"
            "os.kill(os.getpid(), signal.SIGINT)\n"
            "sys.exit(status)\n"
        )
        completed = subprocess.run(
            [sys.executable, "-c", program, "apply", "sales.json", "--at", AT_TEXT],
            input='{"type": "CreateLead", "name": "Hooli"}\n',
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        assert (completed.returncode, completed.stderr) == (0, "")
        assert completed.stdout == "applied 1 command to sales.json: 1 event, now at revision 3\n"
        assert load(Workspace, json.loads(path.read_text(encoding="utf-8"))).revision == 3
