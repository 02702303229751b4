"""The parser and the subcommands behind :func:`pipekit.cli.main`.

What the command line does, its exit codes and its files are described in
:mod:`pipekit.cli`, the package's front door; this module holds the argparse
parser, one function per subcommand, and the safe writing of a document.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any, NoReturn, TypeAlias

from pipekit.applying import apply
from pipekit.cli._board import describe_action, describe_automation, pipeline_title, render_board
from pipekit.cli._demo import demo
from pipekit.cli._desired import DesiredError, desired_pipeline
from pipekit.codec import SCHEMA, DecodeError, dump, load, load_command
from pipekit.errors import PipekitError, UnknownPipeline
from pipekit.events import Event
from pipekit.kommo import KommoFormatError, from_kommo
from pipekit.pipeline import Pipeline
from pipekit.planning import plan
from pipekit.workspace import Workspace, due, new_workspace

__all__ = ["main"]

_EXAMPLE_TIME = "2026-03-02T09:00:00+00:00"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default: ``sys.argv[1:]``); return the exit code."""
    parser, commands = _parser()
    try:
        arguments, extra = parser.parse_known_args(argv)
        if arguments.command is None and not extra:
            parser.print_help()
            return 2
        if extra:
            command = commands.get(arguments.command, parser)
            command.error(f"unrecognized arguments: {' '.join(extra)}")
    except _Stop as stop:
        return stop.status
    run: Callable[[argparse.Namespace], int] = arguments.run
    try:
        status = run(arguments)
        sys.stdout.flush()
    except _Failure as failure:
        print(f"pipekit: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pipekit: interrupted", file=sys.stderr)
        return 130
    except UnicodeEncodeError as error:
        # JSON lets a name hold a lone surrogate ("\ud800"), which R7 does not
        # refuse but UTF-8 cannot encode: say so in one line, not a traceback.
        print(
            f"pipekit: cannot write {error.object[error.start : error.end]!r}: text must be"
            " valid Unicode, without lone surrogates",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:
        # The reader left early (pipekit show FILE | head -3). Python would complain
        # again when it flushes stdout on the way out, so point stdout at nothing.
        nothing = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nothing, sys.stdout.fileno())
        os.close(nothing)
        return 1
    finally:
        if argv is not None:
            # In-process: the caller gets its Ctrl-C back. As the program (no argv),
            # Ctrl-C stays ignored until the process exits: one now, after a file
            # was written, would kill it with SIGINT (status 130 to a shell).
            _INTERRUPTS.release()
    return status


# -- the subcommands ---------------------------------------------------------------------


def _demo(arguments: argparse.Namespace) -> int:
    sys.stdout.write(demo(color=_color(arguments), width=_width()))
    return 0


def _init(arguments: argparse.Namespace) -> int:
    path: str = arguments.file
    _refuse_existing(path, force=arguments.force)
    _write_workspace(path, new_workspace(incoming=arguments.incoming))
    print(f"created {path}: a new workspace (see it with: pipekit show {path})")
    return 0


def _show(arguments: argparse.Namespace) -> int:
    path: str = arguments.file
    workspace = _read_workspace(path)
    pipeline = _pipeline(workspace, arguments.pipeline, path)
    board = render_board(
        workspace,
        pipeline.id,
        width=_width(),
        color=_color(arguments),
        leads=arguments.leads,
    )
    print(board)
    return 0


def _apply(arguments: argparse.Namespace) -> int:
    path: str = arguments.file
    workspace = _read_workspace(path)
    text = _read_commands(arguments.commands)
    at: datetime = arguments.at or datetime.now(UTC)
    workspace, events, applied = _applied(workspace, text, at)
    if arguments.dry_run:
        for event in events:
            print(_json_line(event))
    elif not events:
        print(f"applied {_count(applied, 'command')} to {path}: nothing changed")
    else:
        _write_workspace(path, workspace)
        print(
            f"applied {_count(applied, 'command')} to {path}: {_count(len(events), 'event')},"
            f" now at revision {workspace.revision}"
        )
    return 0


def _applied(workspace: Workspace, text: str, at: datetime) -> tuple[Workspace, list[Event], int]:
    """Return *workspace* after the commands of *text*, one a line; the events; how many."""
    events: list[Event] = []
    applied = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            data = _loads(line)
        except (ValueError, RecursionError) as error:
            raise _Failure(f"line {number}: invalid_json: {_json_reason(error)}") from None
        try:
            result = apply(workspace, load_command(data), at=at)
        except PipekitError as error:
            raise _Failure(f"line {number}: {error.code}: {error}") from None
        workspace = result.workspace
        events.extend(result.events)
        applied += 1
    return workspace, events, applied


def _check(arguments: argparse.Namespace) -> int:
    path: str = arguments.file
    workspace = _read_workspace(path)
    stages = sum(len(pipeline.stages) for pipeline in workspace.pipelines)
    print(
        f"{path}: a valid {SCHEMA} workspace at revision {workspace.revision}:"
        f" {_count(len(workspace.pipelines), 'pipeline')}, {_count(stages, 'stage')},"
        f" {_count(len(workspace.leads), 'lead')},"
        f" {_count(len(workspace.loss_reasons), 'loss reason')}"
    )
    return 0


def _import_kommo(arguments: argparse.Namespace) -> int:
    source: str = arguments.kommo
    path: str = arguments.output
    _refuse_existing(path, force=arguments.force)
    data = _parse_json(_read_text(source), source)
    try:
        workspace = from_kommo(data)
    except KommoFormatError as error:
        raise _Failure(f"{source}: {error}") from None
    _write_workspace(path, workspace)
    stages = sum(len(pipeline.stages) for pipeline in workspace.pipelines)
    print(
        f"imported {_count(len(workspace.pipelines), 'pipeline')}"
        f" ({_count(stages, 'stage')}) from {source} into {path}"
    )
    return 0


def _plan(arguments: argparse.Namespace) -> int:
    path: str = arguments.file
    desired_path: str = arguments.desired
    workspace = _read_workspace(path)
    current = _pipeline(workspace, arguments.pipeline, path)
    try:
        desired = desired_pipeline(current, _read_text(desired_path))
    except DesiredError as error:
        where = f"{desired_path}:" if error.line is None else f"{desired_path}:line {error.line}:"
        raise _Failure(f"{where} {error.reason}") from None
    for command in plan(current, desired):
        print(_json_line(command))
    return 0


def _automations(arguments: argparse.Namespace) -> int:
    path: str = arguments.file
    workspace = _read_workspace(path)
    if not workspace.automations:
        print(f"{path}: no automations (add one with an AddAutomation command: pipekit apply)")
        return 0
    bold = _color(arguments)
    blocks = []
    for pipeline in workspace.pipelines:
        title = pipeline_title(workspace, pipeline)
        lines = [f"{_BOLD}{title}{_RESET}" if bold else title]
        lines.extend(_watched(workspace, pipeline) or ["  no automations"])
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    return 0


def _watched(workspace: Workspace, pipeline: Pipeline) -> list[str]:
    """Return the lines of *pipeline*'s stages and their automations; none if it has none."""
    automations = workspace.automations_of(pipeline.id)
    if not automations:
        return []
    lines = []
    for stage in pipeline.stages:
        watching = [a for a in automations if stage.id in a.stage_ids]
        heading = f"  {stage.name} (id {stage.id})"
        lines.append(heading if watching else f"{heading}: none")
        for automation in watching:
            line = f"    {describe_automation(workspace, automation)}"
            others = [pipeline.stage(i).name for i in automation.stage_ids if i != stage.id]
            if others:
                line += f"; also watches {', '.join(others)}"
            lines.append(line)
    return lines


def _due(arguments: argparse.Namespace) -> int:
    path: str = arguments.file
    workspace = _read_workspace(path)
    at: datetime = arguments.at or datetime.now(UTC)
    items = due(workspace, at)
    if not items:
        print(f"nothing due at {at.isoformat()}")
    else:
        print(f"{_count(len(items), 'action')} due at {at.isoformat()}:")
    for item in items:
        lead = workspace.lead(item.lead_id)
        pipeline_id = workspace.automation(item.automation_id).pipeline_id
        print(
            f"  item {item.id}, due {item.due_at.isoformat()}:"
            f" {describe_action(workspace, pipeline_id, item.action)}"
            f" for {lead.name} (lead {lead.id}), by automation {item.automation_id}"
        )
    handed_over = sum(1 for item in workspace.scheduled if item.handed_over_at is not None)
    if handed_over:
        print(
            f"{_count(handed_over, 'action')} handed over to the host, waiting for"
            " CompleteAction or FailAction"
        )
    return 0


# -- reading and writing -------------------------------------------------------------------


class _Failure(Exception):
    """What went wrong, in one line, for standard error; the exit code is 1."""


def _read_text(path: str) -> str:
    """Return the UTF-8 text of the file *path* (a byte order mark is dropped)."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            return file.read()
    except OSError as error:
        raise _Failure(f"{path}: cannot read: {_os_reason(error)}") from None
    except UnicodeDecodeError as error:
        raise _Failure(f"{path}: not UTF-8 text (byte {error.start})") from None


def _read_commands(path: str | None) -> str:
    """Return the text of the commands file *path*, or of standard input for ``None``/``-``."""
    if path is not None and path != "-":
        return _read_text(path)
    if sys.stdin.isatty():
        print(
            "pipekit: reading commands from standard input, one a line (end with Ctrl-D)",
            file=sys.stderr,
        )
    try:
        return sys.stdin.read()
    except UnicodeDecodeError as error:
        raise _Failure(f"standard input: not UTF-8 text (byte {error.start})") from None


def _parse_json(text: str, path: str) -> object:
    """Return the JSON value *text*, read from *path*."""
    try:
        return _loads(text)
    except _DuplicateKey as error:
        raise _Failure(f"{path}: {error}") from None
    except (ValueError, RecursionError) as error:
        raise _Failure(f"{path}: not JSON: {_json_reason(error, lines=True)}") from None


class _DuplicateKey(ValueError):
    """A JSON object names ``key`` twice: which value was meant is anyone's guess."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"the key {key!r} appears twice in one object")


def _loads(text: str) -> object:
    """Return the JSON value *text*; a key given twice in one object raises :class:`_DuplicateKey`.

    Python's ``json`` keeps the last of two values silently: a hand-edited
    ``"revision": 0, ..., "revision": 5`` would be read as revision 5 without a word.
    """
    return json.loads(text, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    data = dict(pairs)
    if len(data) < len(pairs):
        counts = Counter(key for key, _value in pairs)
        raise _DuplicateKey(next(key for key, count in counts.items() if count > 1))
    return data


def _json_reason(error: ValueError | RecursionError, *, lines: bool = False) -> str:
    """Return why a text is not JSON pipekit can read, with its place when known."""
    if isinstance(error, json.JSONDecodeError):
        place = f"line {error.lineno}, column {error.colno}" if lines else f"column {error.colno}"
        return f"{error.msg} at {place}"
    if isinstance(error, RecursionError):
        return "arrays or objects nested too deeply"
    return str(error)


def _read_workspace(path: str) -> Workspace:
    """Return the workspace in the document *path*, checked by the codec."""
    data = _parse_json(_read_text(path), path)
    try:
        return load(Workspace, data)
    except DecodeError as error:
        raise _Failure(f"{path}: {error}") from None


def _refuse_existing(path: str, *, force: bool) -> None:
    if os.path.lexists(path) and not force:
        raise _Failure(f"{path}: the file exists already (pass --force to replace it)")


def _write_workspace(path: str, workspace: Workspace) -> None:
    """Replace the file *path* with the document of *workspace*, in one step.

    The text goes to a temporary file in the same directory, which is flushed to
    disk and then renamed over *path* (``os.replace`` is atomic), so *path* holds
    either the old document or the new one, never a part. A file that exists keeps
    its permissions; a new one gets the usual ones (0666 less the umask). *path*
    may be a symbolic link: the file it points to is replaced.
    """
    text = json.dumps(dump(workspace), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    target = os.path.realpath(path)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:  # a new file (or one that mkstemp, next, will say why it cannot write)
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        handle, temporary = tempfile.mkstemp(
            dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
    except OSError as error:
        raise _Failure(f"{path}: cannot write: {_os_reason(error)}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        # From here on Ctrl-C cannot stop the run: were it to come just after the
        # rename, the file would be changed although the run said it was not.
        _INTERRUPTS.hold()
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _Failure(f"{path}: cannot write: {_os_reason(error)}") from None
        raise


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error)


_Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class _HeldInterrupts:
    """Ctrl-C ignored from the moment a file is renamed into place to the end of the run.

    Before that moment an interrupt stops the run, and FILE is as it was: exit
    130. After it FILE is changed, so the run finishes and reports success, which
    an interrupt must not turn into a false "left as it was". Only the main
    thread receives signals: elsewhere there is nothing to hold back.
    """

    def __init__(self) -> None:
        self._held = False
        self._previous: _Handler = None

    def hold(self) -> None:
        """Ignore SIGINT until :meth:`release`."""
        if not self._held and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            self._held = True

    def release(self) -> None:
        """Give SIGINT back the handler it had before :meth:`hold`."""
        if self._held:
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGINT, previous)
            self._held = False


_INTERRUPTS = _HeldInterrupts()


# -- small helpers --------------------------------------------------------------------------


def _pipeline(workspace: Workspace, pipeline_id: int | None, path: str) -> Pipeline:
    """Return the pipeline *pipeline_id* of *workspace*, the main one for ``None``."""
    if pipeline_id is None:
        return workspace.main_pipeline
    try:
        return workspace.pipeline(pipeline_id)
    except UnknownPipeline as error:
        raise _Failure(f"{path}: {error.code}: {error}") from None


def _color(arguments: argparse.Namespace) -> bool:
    """Whether to paint the output: a terminal, no ``NO_COLOR`` (no-color.org), no flag."""
    return not arguments.no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _width() -> int:
    return shutil.get_terminal_size().columns


def _json_line(value: object) -> str:
    return json.dumps(dump(value), sort_keys=True, ensure_ascii=False)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _time(text: str) -> datetime:
    """Return the time *text*, ISO 8601 with its UTC offset (an ``--at`` value)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as {_EXAMPLE_TIME}, got {text!r}"
        ) from None
    if moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"expected a time with its UTC offset, such as {_EXAMPLE_TIME}, got {text!r}"
        )
    return moment


# -- the parser -------------------------------------------------------------------------------


class _Stop(Exception):
    """The parser is done: it printed the help, or a usage error; ``status`` is the exit code."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(status)


class _Parser(argparse.ArgumentParser):
    """A parser that returns to :func:`main` instead of exiting, with one-line errors."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _Stop(status)

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {one_line} (see {self.prog} --help)\n")


_DESCRIPTION = """\
pipekit holds the rules of a Kommo-style sales pipeline. These commands show
them at work and keep a workspace (pipelines, leads, loss reasons, automations)
in a JSON document.
"""

_EPILOG = """\
examples:
  pipekit demo
  pipekit init sales.json --incoming
  echo '{"type": "CreateLead", "name": "ACME", "price": 150000}' | pipekit apply sales.json
  pipekit show sales.json --leads
  pipekit due sales.json --at 2026-03-02T09:00:00+00:00

exit codes: 0 success, 1 a refused command or a bad or unreadable file,
2 a usage error. Run "pipekit COMMAND --help" for a command's options.
"""

_NO_COLOR_HELP = "plain text; also when NO_COLOR is set or the output is not a terminal"


def _parser() -> tuple[_Parser, dict[str, _Parser]]:
    """Return the parser and, by name, the parsers of its subcommands."""
    parser = _Parser(
        prog="pipekit",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    commands: dict[str, _Parser] = {}

    def command(
        name: str, run: Callable[[argparse.Namespace], int], summary: str, epilog: str
    ) -> _Parser:
        sub: _Parser = subparsers.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run)
        commands[name] = sub
        return sub

    demo_parser = command(
        "demo",
        _demo,
        "take a tour of the rules on a fresh workspace (writes no file)",
        "example:\n  pipekit demo --no-color | less\n",
    )
    demo_parser.add_argument("--no-color", action="store_true", help=_NO_COLOR_HELP)

    init = command(
        "init",
        _init,
        "write a new workspace document",
        "The workspace has one pipeline with Kommo's default stages, no leads,\n"
        "and revision 0.\n\n"
        "example:\n  pipekit init sales.json --incoming\n",
    )
    init.add_argument("file", metavar="FILE", help="the document to write")
    init.add_argument("--incoming", action="store_true", help="switch the incoming leads stage on")
    init.add_argument("--force", action="store_true", help="replace FILE if it exists")

    show = command(
        "show",
        _show,
        "draw a pipeline of a workspace document as a board",
        "One column per stage: its name, colour and id, its lead count and the\n"
        "total price of its leads. The width is the terminal's (COLUMNS overrides).\n\n"
        "example:\n  pipekit show sales.json --leads\n",
    )
    show.add_argument("file", metavar="FILE", help="a workspace document")
    show.add_argument(
        "--pipeline", type=int, metavar="ID", help="the pipeline to draw (default: the main one)"
    )
    show.add_argument("--leads", action="store_true", help="list the leads under each stage")
    show.add_argument("--no-color", action="store_true", help=_NO_COLOR_HELP)

    apply_parser = command(
        "apply",
        _apply,
        "apply JSON commands, one a line, to a workspace document",
        "Each line of COMMANDS is one command in pipekit's JSON format (blank lines\n"
        "are skipped), such as:\n\n"
        '  {"type": "CreateLead", "name": "ACME", "price": 150000}\n'
        '  {"type": "MoveLead", "lead_id": 1, "stage_id": 145}\n\n'
        "The commands are applied in order, all at the time --at. The first one\n"
        "refused stops the run: its line number, error code and message go to\n"
        "standard error, the exit code is 1, and FILE is left as it was. Otherwise\n"
        "FILE is replaced in one step (a temporary file, then a rename).\n\n"
        "examples:\n"
        "  pipekit apply sales.json commands.jsonl --dry-run\n"
        f"  pipekit plan sales.json desired.toml | pipekit apply sales.json --at {_EXAMPLE_TIME}\n",
    )
    apply_parser.add_argument("file", metavar="FILE", help="the workspace document to change")
    apply_parser.add_argument(
        "commands",
        metavar="COMMANDS",
        nargs="?",
        help="a file of JSON commands, one a line (left out, or -: standard input)",
    )
    apply_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the events, one JSON document a line, and write nothing",
    )
    apply_parser.add_argument(
        "--at",
        type=_time,
        metavar="TIME",
        help="when the commands happen, ISO 8601 with its UTC offset (default: now)",
    )

    check = command(
        "check",
        _check,
        "check that a file is a valid workspace document",
        "A bad document is reported with the JSON Pointer of the place at fault.\n\n"
        "example:\n  pipekit check sales.json\n",
    )
    check.add_argument("file", metavar="FILE", help="the document to check")

    kommo = command(
        "import-kommo",
        _import_kommo,
        "write a workspace document from a Kommo API v4 pipelines body",
        "KOMMO.json is the body of GET /api/v4/leads/pipelines, or of one pipeline.\n\n"
        "example:\n  pipekit import-kommo pipelines.json -o sales.json\n",
    )
    kommo.add_argument("kommo", metavar="KOMMO.json", help="the JSON body Kommo sent")
    kommo.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the document to write"
    )
    kommo.add_argument("--force", action="store_true", help="replace FILE if it exists")

    plan_parser = command(
        "plan",
        _plan,
        "print the commands that turn a pipeline into the one a TOML file describes",
        "DESIRED lists the open stages in order; stages are matched to the\n"
        "pipeline's by name (ignoring case), others are added or deleted:\n\n"
        '  name = "Sales"     # optional, as are incoming = true|false,\n'
        '  won = "Paid"       # and lost = "..."\n\n'
        "  [[stages]]\n"
        '  name = "Initial Contact"\n'
        '  color = "#fffeb2"  # optional\n\n'
        "  [[stages]]\n"
        '  name = "Demo"\n\n'
        "The commands are printed as JSON lines, ready for pipekit apply.\n\n"
        "example:\n  pipekit plan sales.json desired.toml | pipekit apply sales.json\n",
    )
    plan_parser.add_argument("file", metavar="FILE", help="a workspace document")
    plan_parser.add_argument("desired", metavar="DESIRED", help="a TOML file: the pipeline wanted")
    plan_parser.add_argument(
        "--pipeline",
        type=int,
        metavar="ID",
        help="the pipeline to plan for (default: the main one)",
    )

    automations = command(
        "automations",
        _automations,
        "list the automations of a workspace document under each stage they watch",
        "Each pipeline in order, each stage in order, and under a stage the\n"
        "automations watching it, in creation order: the id, the trigger, the\n"
        "action, the delay, the price condition, and whether it is disabled.\n"
        "An automation watching several stages is listed under each, naming the\n"
        "others: together they are one region, and a move between them fires nothing.\n\n"
        "example:\n  pipekit automations sales.json\n",
    )
    automations.add_argument("file", metavar="FILE", help="a workspace document")
    automations.add_argument("--no-color", action="store_true", help=_NO_COLOR_HELP)

    due_parser = command(
        "due",
        _due,
        "list the scheduled actions of a workspace document due at a time",
        "The actions not yet handed over whose due time is at or before --at, by\n"
        "due time, then id; then how many host actions wait for the host to report\n"
        "back. It writes nothing: to carry out what is due, apply RunDue:\n\n"
        '  echo \'{"type": "RunDue"}\' | pipekit apply sales.json\n\n'
        f"example:\n  pipekit due sales.json --at {_EXAMPLE_TIME}\n",
    )
    due_parser.add_argument("file", metavar="FILE", help="a workspace document")
    due_parser.add_argument(
        "--at",
        type=_time,
        metavar="TIME",
        help="the time to look at, ISO 8601 with its UTC offset (default: now)",
    )
    return parser, commands
