"""The command line: ``pipekit`` and ``python -m pipekit`` show the default pipeline."""

from __future__ import annotations

import runpy
import sys

import pytest

from pipekit import Pipeline, Stage, StageKind, add_stage, default_pipeline
from pipekit.cli import main, render

DEFAULT_TABLE = """\
Pipeline 1: Pipeline
  position  id   kind  colour   name
  1         144  open  #fffeb2  Initial Contact
  2         145  open  #fffd7f  Offer Made
  3         146  open  #fff000  Negotiation
  -         142  won   #ccff66  Closed - won
  -         143  lost  #d5d8db  Closed - lost
"""

INCOMING_TABLE = """\
Pipeline 1: Pipeline
  position  id   kind      colour   name
  -         147  incoming  #c1c1c1  Incoming leads
  1         144  open      #fffeb2  Initial Contact
  2         145  open      #fffd7f  Offer Made
  3         146  open      #fff000  Negotiation
  -         142  won       #ccff66  Closed - won
  -         143  lost      #d5d8db  Closed - lost
"""


class TestMain:
    def test_prints_the_default_pipeline(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main([]) == 0
        captured = capsys.readouterr()
        assert captured.out == DEFAULT_TABLE
        assert captured.err == ""

    def test_incoming_switches_incoming_leads_on(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--incoming"]) == 0
        assert capsys.readouterr().out == INCOMING_TABLE

    def test_reads_sys_argv_when_given_no_arguments(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sys, "argv", ["pipekit", "--incoming"])
        assert main() == 0
        assert capsys.readouterr().out == INCOMING_TABLE

    def test_rejects_an_unknown_option(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as info:
            main(["--bogus"])
        assert info.value.code == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "unrecognized arguments: --bogus" in captured.err


class TestRender:
    def test_renders_the_default_pipeline(self) -> None:
        assert render(default_pipeline()) + "\n" == DEFAULT_TABLE

    def test_numbers_open_stages_from_one_and_widens_columns(self) -> None:
        pipeline = add_stage(
            default_pipeline("Sales", pipeline_id=12, incoming=True),
            "Demo",
            position=0,
            color="#123456",
            stage_id=58141803,
        )
        assert render(pipeline) == (
            "Pipeline 12: Sales\n"
            "  position  id        kind      colour   name\n"
            "  -         147       incoming  #c1c1c1  Incoming leads\n"
            "  1         58141803  open      #123456  Demo\n"
            "  2         144       open      #fffeb2  Initial Contact\n"
            "  3         145       open      #fffd7f  Offer Made\n"
            "  4         146       open      #fff000  Negotiation\n"
            "  -         142       won       #ccff66  Closed - won\n"
            "  -         143       lost      #d5d8db  Closed - lost"
        )

    def test_renders_a_pipeline_with_one_open_stage(self) -> None:
        pipeline = Pipeline(
            id=3,
            name="Lean",
            stages=(
                Stage(1, "Only", "#abc", StageKind.OPEN),
                Stage(2, "Yes", "#ccff66", StageKind.WON),
                Stage(3, "No", "#d5d8db", StageKind.LOST),
            ),
        )
        assert render(pipeline) == (
            "Pipeline 3: Lean\n"
            "  position  id  kind  colour   name\n"
            "  1         1   open  #aabbcc  Only\n"
            "  -         2   won   #ccff66  Yes\n"
            "  -         3   lost  #d5d8db  No"
        )


class TestPythonDashM:
    def test_runs_main_and_exits_with_zero(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sys, "argv", ["pipekit"])
        monkeypatch.delitem(sys.modules, "pipekit.__main__", raising=False)
        with pytest.raises(SystemExit) as info:
            runpy.run_module("pipekit", run_name="__main__")
        assert info.value.code == 0
        assert capsys.readouterr().out == DEFAULT_TABLE
