"""The ``console`` blocks of the docs and README run, and print what the page shows.

A fenced block whose info string is ``console`` is a terminal session: each line that
starts with ``$ `` is a command, and the lines after it, up to the next command or
the end of the block, are what it prints (standard output and standard error, as a
terminal shows them). Every block of a page runs in order in one fresh directory,
which starts with a copy of ``docs/examples/``, so a page can ``init`` a file and
``show`` it later. Blocks of other kinds (``sh`` for install steps) are not run.

A block in a page whose first line is ``# docs/examples/NAME`` shows that example
file, and must show it exactly.

To write the real output into the pages after a change to the command line, run
``PIPEKIT_UPDATE_DOCS=1 python -m pytest tests/test_docs_console.py --no-cov``, then read
the diff.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<info>[\w-]*)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S
)
UPDATE = os.environ.get("PIPEKIT_UPDATE_DOCS") == "1"


@dataclass
class Step:
    command: str
    expected: str
    start: int  # where the expected output starts in the page's text
    end: int


def console_steps(text: str) -> list[Step]:
    steps: list[Step] = []
    for block in FENCE.finditer(text):
        if block.group("info") != "console":
            continue
        indent = len(block.group("indent"))
        position = block.start("body")
        current: Step | None = None
        for line in block.group("body").splitlines(keepends=True):
            position += len(line)
            if line[indent:].startswith("$ "):
                current = Step(line[indent + 2 :].rstrip("\n"), "", position, position)
                steps.append(current)
            elif current is not None:
                current.expected += line[indent:]
                current.end = position
    return steps


def run(command: str, directory: Path) -> str:
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(directory),
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
    }
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=directory,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    return result.stdout


PAGES_WITH_SESSIONS = [page for page in PAGES if console_steps(page.read_text("utf-8"))]


@pytest.mark.parametrize("page", PAGES_WITH_SESSIONS, ids=lambda page: page.name)
def test_every_session_prints_what_the_page_shows(page: Path, tmp_path: Path) -> None:
    if EXAMPLES.is_dir():
        shutil.copytree(EXAMPLES, tmp_path, dirs_exist_ok=True)
    text = page.read_text("utf-8")
    steps = console_steps(text)
    outputs = [run(step.command, tmp_path) for step in steps]
    if UPDATE:
        for step, output in sorted(zip(steps, outputs, strict=True), key=lambda p: -p[0].start):
            indent = re.match(r" *", text[text.rfind("\n", 0, step.start - 1) + 1 :])
            pad = indent.group(0) if indent else ""
            shown = "".join(pad + line for line in output.splitlines(keepends=True))
            text = text[: step.start] + shown + text[step.end :]
        page.write_text(text, "utf-8")
        return
    for step, output in zip(steps, outputs, strict=True):
        assert output == step.expected, f"$ {step.command}"


def test_the_docs_hold_terminal_sessions() -> None:
    assert PAGES_WITH_SESSIONS, "no page has a console block: the test above checks nothing"


def test_the_examples_directory_is_shown_as_it_is() -> None:
    shown = 0
    for page in PAGES:
        for block in FENCE.finditer(page.read_text("utf-8")):
            first, _, rest = block.group("body").partition("\n")
            match = re.fullmatch(r"\s*# docs/examples/(?P<name>[\w.-]+)", first)
            if match is None:
                continue
            shown += 1
            indent = len(block.group("indent"))
            body = "".join(line[indent:] for line in rest.splitlines(keepends=True))
            assert body == (EXAMPLES / match.group("name")).read_text("utf-8"), page.name
    assert shown == 0 or EXAMPLES.is_dir()


def test_console_steps_read_commands_and_their_output() -> None:
    text = "Intro\n\n```console\n$ echo one\none\n$ true\n$ printf 'a\\nb\\n'\na\nb\n```\n"
    steps = console_steps(text)
    assert [(step.command, step.expected) for step in steps] == [
        ("echo one", "one\n"),
        ("true", ""),
        ("printf 'a\\nb\\n'", "a\nb\n"),
    ]
    assert [text[step.start : step.end] for step in steps] == ["one\n", "", "a\nb\n"]


def test_a_session_that_prints_something_else_fails(tmp_path: Path) -> None:
    (step,) = console_steps("```console\n$ echo two\none\n```\n")
    assert run(step.command, tmp_path) != step.expected
