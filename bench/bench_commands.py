"""Time pipekit's six stage commands on a full pipeline, beside a hand-written reference.

Run from the root of a clone, with pipekit installed (``pip install -e ".[dev]"``)::

    python bench/bench_commands.py [--batches 51] [--calls 2000] [--check]

Every command works on a 100-stage pipeline with incoming leads on (add_stage on a
99-stage one, because a 100-stage pipeline is full). Beside each command, in the
same run and with batches interleaved, the script times the same edit done by a
reference: a plain list of small dicts changed in place, with the rule checks a
careful app would write by hand. Before timing, it checks that both give the same
stages, so the two do the same work.

The result is a measurement, not a gate: the exit code is 0 unless ``--check`` is
given, and then 1 if any of the six commands' median exceeds the 10 µs goal.
See bench/README.md for how to read the numbers.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import statistics
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from itertools import repeat
from time import perf_counter_ns
from typing import Final, TypedDict

from pipekit import (
    KOMMO_PALETTE,
    MAX_NAME_LENGTH,
    MAX_STAGES,
    InvalidPipeline,
    Pipeline,
    Stage,
    StageKind,
    add_stage,
    default_pipeline,
    delete_stage,
    enable_incoming,
    move_stage,
    recolor_stage,
    rename_stage,
    rename_terminal,
)

GOAL_US: Final = 10.0
"""The issue's goal: every command at most 10 µs median on the project's 2-core machine."""

Row = tuple[int, str, str, str]
"""A stage as both sides can show it: id, name, colour hex, kind value."""


# -- the reference: what an app without pipekit would write ------------------


class RefStage(TypedDict):
    id: int
    name: str
    color: str
    kind: str


class Board:
    """A hand-written app's pipeline: a list of stage dicts and an id counter, changed in place."""

    __slots__ = ("next_id", "stages")

    def __init__(self, stages: list[RefStage], next_id: int) -> None:
        self.stages = stages
        self.next_id = next_id


_FORBIDDEN: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HEX: Final = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_PALETTE_HEX: Final = tuple(color.hex for color in KOMMO_PALETTE)


def ref_clean(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or _FORBIDDEN.search(name):
        raise ValueError(f"invalid name {name!r}")
    return name


def ref_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def ref_check_unique(stages: list[RefStage], name: str, skip: RefStage | None = None) -> None:
    # No cache of keys: a plain app recomputes them from the names it holds.
    key = ref_key(name)
    for stage in stages:
        if stage is not skip and ref_key(stage["name"]) == key:
            raise ValueError(f"{name!r} clashes with stage {stage['id']}")


def ref_color(value: str) -> str:
    if _HEX.fullmatch(value) is None:
        raise ValueError(f"invalid colour {value!r}")
    if len(value) == 4:
        value = "#" + "".join(digit * 2 for digit in value[1:])
    return value.lower()


def ref_default_color(stages: list[RefStage]) -> str:
    uses = dict.fromkeys(_PALETTE_HEX, 0)
    for stage in stages:
        if stage["color"] in uses:
            uses[stage["color"]] += 1
    # min() keeps the first of equals: the least used colour, first in palette order.
    return min(_PALETTE_HEX, key=uses.__getitem__)


def ref_index(stages: list[RefStage], stage_id: int) -> int:
    for index, stage in enumerate(stages):
        if stage["id"] == stage_id:
            return index
    raise LookupError(f"no stage has id {stage_id}")


def ref_first_open(stages: list[RefStage]) -> int:
    return 1 if stages[0]["kind"] == "incoming" else 0


def ref_open_stage(stages: list[RefStage], stage_id: int, action: str) -> int:
    index = ref_index(stages, stage_id)
    if stages[index]["kind"] != "open":
        raise ValueError(f"stage {stage_id} cannot be {action}")
    return index


def ref_check_position(position: int, high: int) -> None:
    if not 0 <= position <= high:
        raise ValueError(f"position {position} is outside 0..{high}")


def ref_add_stage(
    board: Board, name: str, *, position: int | None = None, color: str | None = None
) -> None:
    stages = board.stages
    if len(stages) >= MAX_STAGES:
        raise ValueError(f"a pipeline holds at most {MAX_STAGES} stages")
    name = ref_clean(name)
    ref_check_unique(stages, name)
    first_open = ref_first_open(stages)
    open_count = len(stages) - first_open - 2
    if position is None:
        position = open_count
    ref_check_position(position, open_count)
    chosen = ref_default_color(stages) if color is None else ref_color(color)
    stage_id = board.next_id
    board.next_id += 1
    stages.insert(
        first_open + position, {"id": stage_id, "name": name, "color": chosen, "kind": "open"}
    )


def ref_rename_stage(board: Board, stage_id: int, name: str) -> None:
    stage = board.stages[ref_index(board.stages, stage_id)]
    if stage["kind"] == "incoming":
        raise ValueError(f"stage {stage_id} cannot be renamed")
    _ref_rename(board.stages, stage, name)


def ref_rename_terminal(board: Board, outcome: str, name: str) -> None:
    # Won and lost are always the last two stages: no search needed.
    if outcome == "won":
        stage = board.stages[-2]
    elif outcome == "lost":
        stage = board.stages[-1]
    else:
        raise ValueError(f"outcome is 'won' or 'lost', got {outcome!r}")
    _ref_rename(board.stages, stage, name)


def _ref_rename(stages: list[RefStage], stage: RefStage, name: str) -> None:
    name = ref_clean(name)
    if name == stage["name"]:
        return
    ref_check_unique(stages, name, skip=stage)
    stage["name"] = name


def ref_recolor_stage(board: Board, stage_id: int, color: str) -> None:
    index = ref_open_stage(board.stages, stage_id, "recoloured")
    board.stages[index]["color"] = ref_color(color)


def ref_move_stage(board: Board, stage_id: int, position: int) -> None:
    stages = board.stages
    index = ref_open_stage(stages, stage_id, "moved")
    first_open = ref_first_open(stages)
    ref_check_position(position, len(stages) - first_open - 3)
    stages.insert(first_open + position, stages.pop(index))


def ref_delete_stage(board: Board, stage_id: int) -> None:
    stages = board.stages
    index = ref_open_stage(stages, stage_id, "deleted")
    if len(stages) - ref_first_open(stages) - 2 == 1:
        raise ValueError("the last open stage cannot be deleted")
    del stages[index]


def ref_enable_incoming(
    board: Board, *, name: str = "Incoming leads", color: str | None = None
) -> None:
    stages = board.stages
    if stages[0]["kind"] == "incoming":
        return
    if len(stages) >= MAX_STAGES:
        raise ValueError(f"a pipeline holds at most {MAX_STAGES} stages")
    name = ref_clean(name)
    ref_check_unique(stages, name)
    chosen = "#c1c1c1" if color is None else ref_color(color)
    stage_id = board.next_id
    board.next_id += 1
    stages.insert(0, {"id": stage_id, "name": name, "color": chosen, "kind": "incoming"})


def ref_validate(name: str, stages: list[RefStage], next_id: int) -> None:
    # What Pipeline(...) checks about its stages (R1, R6, R7 uniqueness, R9). The
    # stages' own names and colours are not re-checked: pipekit's Stage did that
    # before the constructor saw them.
    ref_clean(name)
    if len(stages) > MAX_STAGES:
        raise ValueError(f"{len(stages)} stages, at most {MAX_STAGES}")
    kinds = [stage["kind"] for stage in stages]
    if kinds[-2:] != ["won", "lost"]:
        raise ValueError("the last two stages must be won, then lost")
    body = kinds[1:-2] if kinds[0] == "incoming" else kinds[:-2]
    if not body or any(kind != "open" for kind in body):
        raise ValueError("open stages only between incoming leads and won")
    ids: set[int] = set()
    keys: set[str] = set()
    for stage in stages:
        if stage["id"] < 1 or stage["id"] in ids:
            raise ValueError(f"bad or repeated stage id {stage['id']}")
        ids.add(stage["id"])
        key = ref_key(stage["name"])
        if key in keys:
            raise ValueError(f"repeated name {stage['name']!r}")
        keys.add(key)
    if next_id <= max(ids):
        raise ValueError("the id counter must be above every stage id")


# -- the pipelines both sides start from --------------------------------------


def grown(pipeline: Pipeline, size: int) -> Pipeline:
    """Add open stages with default colours until *pipeline* has *size* stages."""
    while len(pipeline.stages) < size:
        pipeline = add_stage(pipeline, f"Stage {len(pipeline.stages):03d}")
    return pipeline


def to_board(pipeline: Pipeline) -> Board:
    stages: list[RefStage] = [
        {"id": stage.id, "name": stage.name, "color": stage.color.hex, "kind": stage.kind.value}
        for stage in pipeline.stages
    ]
    return Board(stages, pipeline.next_stage_id)


def pipeline_rows(pipeline: Pipeline) -> list[Row]:
    return [(s.id, s.name, s.color.hex, s.kind.value) for s in pipeline.stages]


def board_rows(board: Board) -> list[Row]:
    return [(s["id"], s["name"], s["color"], s["kind"]) for s in board.stages]


# -- the cases ----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row of the table: the same edit done by pipekit and by the reference.

    The reference changes its board in place, so every timed call is followed by
    ``reference_undo``: one plain list or dict operation, without checks, that puts
    the board back so the next call does the same work. pipekit needs no undo: its
    input never changes.
    """

    name: str
    pipekit: Callable[[], Pipeline]
    reference: Callable[[], None]
    reference_undo: Callable[[], None]
    board: Board
    gated: bool = True
    changes: bool = True


def build_cases() -> list[Case]:
    full = grown(default_pipeline(incoming=True), MAX_STAGES)
    almost_full = grown(default_pipeline(incoming=True), MAX_STAGES - 1)
    no_incoming = grown(default_pipeline(), MAX_STAGES - 1)
    # rename, recolor, move and delete act on a stage in the middle of the open ones.
    target = full.open_stages[len(full.open_stages) // 2]
    cases = [
        add_case(almost_full),
        rename_case(full, target),
        recolor_case(full, target),
        move_case(full, target),
        delete_case(full, target),
        rename_terminal_case(full),
        enable_incoming_case(no_incoming),
        constructor_case(full),
    ]
    for case in cases:
        check_agreement(case)
    check_both_reject_a_clash(full)
    return cases


# Each case gets its own function, so that its lambdas close over its own board.


def add_case(pipeline: Pipeline) -> Case:
    board = to_board(pipeline)
    position = len(pipeline.open_stages) // 2
    index = pipeline.first_open_index + position
    counter = board.next_id

    def undo() -> None:
        del board.stages[index]
        board.next_id = counter

    return Case(
        "add_stage *",
        lambda: add_stage(pipeline, "New stage", position=position),
        lambda: ref_add_stage(board, "New stage", position=position),
        undo,
        board,
    )


def rename_case(pipeline: Pipeline, target: Stage) -> Case:
    board = to_board(pipeline)
    stage = board.stages[pipeline.index_of(target.id)]

    def undo() -> None:
        stage["name"] = target.name

    return Case(
        "rename_stage",
        lambda: rename_stage(pipeline, target.id, "Renamed stage"),
        lambda: ref_rename_stage(board, target.id, "Renamed stage"),
        undo,
        board,
    )


def recolor_case(pipeline: Pipeline, target: Stage) -> Case:
    board = to_board(pipeline)
    stage = board.stages[pipeline.index_of(target.id)]
    # Given as a UI would send it, so both sides parse and normalise a string.
    color = next(c for c in KOMMO_PALETTE if c != target.color).hex.upper()

    def undo() -> None:
        stage["color"] = target.color.hex

    return Case(
        "recolor_stage",
        lambda: recolor_stage(pipeline, target.id, color),
        lambda: ref_recolor_stage(board, target.id, color),
        undo,
        board,
    )


def move_case(pipeline: Pipeline, target: Stage) -> Case:
    board = to_board(pipeline)
    source = pipeline.index_of(target.id)
    destination = pipeline.first_open_index + 1

    def undo() -> None:
        board.stages.insert(source, board.stages.pop(destination))

    return Case(
        "move_stage",
        lambda: move_stage(pipeline, target.id, 1),
        lambda: ref_move_stage(board, target.id, 1),
        undo,
        board,
    )


def delete_case(pipeline: Pipeline, target: Stage) -> Case:
    board = to_board(pipeline)
    index = pipeline.index_of(target.id)
    stage = board.stages[index]
    return Case(
        "delete_stage",
        lambda: delete_stage(pipeline, target.id),
        lambda: ref_delete_stage(board, target.id),
        lambda: board.stages.insert(index, stage),
        board,
    )


def rename_terminal_case(pipeline: Pipeline) -> Case:
    board = to_board(pipeline)
    stage = board.stages[-2]

    def undo() -> None:
        stage["name"] = pipeline.won.name

    return Case(
        "rename_terminal",
        lambda: rename_terminal(pipeline, StageKind.WON, "Closed - paid"),
        lambda: ref_rename_terminal(board, "won", "Closed - paid"),
        undo,
        board,
    )


def enable_incoming_case(pipeline: Pipeline) -> Case:
    board = to_board(pipeline)
    counter = board.next_id

    def undo() -> None:
        del board.stages[0]
        board.next_id = counter

    return Case(
        "enable_incoming +",
        lambda: enable_incoming(pipeline),
        lambda: ref_enable_incoming(board),
        undo,
        board,
        gated=False,
    )


def constructor_case(pipeline: Pipeline) -> Case:
    board = to_board(pipeline)
    return Case(
        "Pipeline(...) +",
        lambda: Pipeline(
            id=pipeline.id,
            name=pipeline.name,
            stages=pipeline.stages,
            next_stage_id=pipeline.next_stage_id,
        ),
        lambda: ref_validate(pipeline.name, board.stages, board.next_id),
        _noop,
        board,
        gated=False,
        changes=False,
    )


def _noop() -> None:
    return None


def check_agreement(case: Case) -> None:
    """Check that pipekit and the reference give the same stages, and that the undo undoes."""
    before = board_rows(case.board)
    result = pipeline_rows(case.pipekit())
    case.reference()
    after = board_rows(case.board)
    if after != result:
        raise AssertionError(f"{case.name}: pipekit and the reference disagree")
    if (after != before) != case.changes:
        raise AssertionError(f"{case.name}: expected the stages to change: {case.changes}")
    case.reference_undo()
    if board_rows(case.board) != before:
        raise AssertionError(f"{case.name}: the reference's undo does not restore the board")


def check_both_reject_a_clash(pipeline: Pipeline) -> None:
    """Check that both full validations see a name clash, so neither skips the name check."""
    first, second = pipeline.open_stages[:2]
    clashing = Stage(second.id, first.name.upper(), second.color, second.kind)
    stages = tuple(clashing if s.id == second.id else s for s in pipeline.stages)
    try:
        Pipeline(id=pipeline.id, name=pipeline.name, stages=stages)
    except InvalidPipeline:
        pass
    else:
        raise AssertionError("Pipeline(...) accepted two clashing names")
    board = to_board(pipeline)
    board.stages[pipeline.index_of(second.id)]["name"] = first.name.upper()
    try:
        ref_validate(pipeline.name, board.stages, board.next_id)
    except ValueError:
        pass
    else:
        raise AssertionError("ref_validate accepted two clashing names")


# -- timing -------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Per-call times in µs, one per batch."""

    samples: Sequence[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def iqr(self) -> float:
        quartiles = statistics.quantiles(self.samples, n=4)
        return quartiles[2] - quartiles[0]


def paired(call: Callable[[], object], undo: Callable[[], object]) -> Callable[[], None]:
    # Both sides go through this same wrapper, so the harness costs them the same;
    # only the body of the undo differs (nothing, for pipekit).
    def timed() -> None:
        call()
        undo()

    return timed


def batch_us(timed: Callable[[], None], calls: int) -> float:
    start = perf_counter_ns()
    for _ in repeat(None, calls):
        timed()
    return (perf_counter_ns() - start) / calls / 1000


def measure(
    first: Callable[[], None], second: Callable[[], None], batches: int, calls: int
) -> tuple[Timing, Timing]:
    """Time two callables in interleaved batches, so both see the same machine noise."""
    # As timeit does: no garbage collection inside a timed batch, one before it.
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        batch_us(first, max(1, calls // 10))  # warm-up
        batch_us(second, max(1, calls // 10))
        a: list[float] = []
        b: list[float] = []
        for index in range(batches):
            # Alternate which goes first, so neither always runs on a just-warmed cache.
            if index % 2 == 0:
                a.append(batch_us(first, calls))
                b.append(batch_us(second, calls))
            else:
                b.append(batch_us(second, calls))
                a.append(batch_us(first, calls))
    finally:
        if was_enabled:
            gc.enable()
    return Timing(a), Timing(b)


# -- output -------------------------------------------------------------------


def machine_line() -> str:
    try:
        version = metadata.version("pipekit")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return (
        f"pipekit {version}, {platform.python_implementation()} {platform.python_version()}"
        f" on {platform.platform()} ({platform.machine()}, {os.cpu_count()} CPUs)"
    )


def print_table(rows: list[tuple[Case, Timing, Timing]], batches: int, calls: int) -> None:
    print(
        f"Time per call in µs: the median of {batches} batches of {calls} calls each, with the"
        "\nfastest batch (min) and the interquartile range (IQR) of the batches."
    )
    print()
    print(f"{'':18} {'pipekit':^23}   {'reference':^23}   {'ratio':>6}  goal")
    print(
        f"{'command':18} {'median':>7} {'min':>7} {'IQR':>7}   {'median':>7} {'min':>7}"
        f" {'IQR':>7}   {'pk/ref':>6}  <= {GOAL_US:g} µs"
    )
    print("-" * 95)
    for case, ours, theirs in rows:
        verdict = "ok" if ours.median <= GOAL_US else "over"
        if not case.gated:
            verdict = f"({verdict})"
        print(
            f"{case.name:18} {ours.median:7.2f} {ours.low:7.2f} {ours.iqr:7.2f}"
            f"   {theirs.median:7.2f} {theirs.low:7.2f} {theirs.iqr:7.2f}"
            f"   {ours.median / theirs.median:6.2f}  {verdict}"
        )
    print("-" * 95)
    print(
        "Every command works on a 100-stage pipeline with incoming leads on, on a middle open"
        " stage\n(move_stage: to open position 1; rename_terminal: the won stage)."
    )
    print("*  add_stage runs on a 99-stage pipeline: a 100-stage one is full (R6).")
    print(
        "+  extra rows, not part of --check: enable_incoming on the same pipeline with incoming"
        " leads\n   off at 99 stages; Pipeline(...) is the public constructor's full validation"
        " of 100 stages."
    )
    print(
        "The reference is a list of dicts changed in place by hand-written checks; after each"
        " call\nit is put back by one plain list or dict operation, timed with it."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time pipekit's stage commands on a 100-stage pipeline, beside a"
        " mutable-list reference."
    )
    parser.add_argument(
        "--batches", type=_at_least(3), default=51, help="timed batches per command (default 51)"
    )
    parser.add_argument(
        "--calls", type=_at_least(1), default=2000, help="calls per batch (default 2000)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 if any of the six commands' median is over {GOAL_US:g} µs",
    )
    args = parser.parse_args(argv)
    batches: int = args.batches
    calls: int = args.calls

    cases = build_cases()
    harness, _ = measure(paired(_noop, _noop), paired(_noop, _noop), batches, calls)
    rows = [
        (
            case,
            *measure(
                paired(case.pipekit, _noop),
                paired(case.reference, case.reference_undo),
                batches,
                calls,
            ),
        )
        for case in cases
    ]
    print_table(rows, batches, calls)
    print(
        f"The harness itself costs {harness.median:.2f} µs a call, on both sides, included above."
    )
    print(machine_line())

    over = [case.name for case, ours, _ in rows if case.gated and ours.median > GOAL_US]
    if args.check:
        if over:
            print(f"check failed: over {GOAL_US:g} µs: {', '.join(over)}")
            return 1
        print(f"check passed: all six commands at or under {GOAL_US:g} µs")
    return 0


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


if __name__ == "__main__":
    sys.exit(main())
