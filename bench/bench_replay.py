"""Time replaying a long event log, and decoding it from JSON first.

Run from the root of a clone, with pipekit installed (``pip install -e ".[dev]"``)::

    python bench/bench_replay.py [--events 1000000] [--runs 3] [--check]

The script builds a log by applying commands to a new workspace: CreateLead for
one event in five, then MoveLead, WinLead and LoseLead among the leads made so far
(every command is one event). It then times ``replay(events)`` over the whole log
(median of ``--runs`` runs) and checks that the result equals the workspace the
commands produced. Beside it, in the same run, it times a plain loop that only
touches each event (the floor any replay pays) and ``load_event`` over the log's
JSON documents (what a host reading a stored log adds).

The goal (issue 4): replaying 1,000,000 events in at most 8 s on this 2-core
machine. The exit code is 0 unless ``--check`` is given, and then 1 if the median
replay time is over the goal.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from time import perf_counter
from typing import Final

from pipekit import (
    AddLossReason,
    CreateLead,
    Event,
    LoseLead,
    MoveLead,
    WinLead,
    Workspace,
    apply,
    new_workspace,
    replay,
)
from pipekit.codec import dump, load_event

GOAL_SECONDS_PER_MILLION: Final = 8.0
START: Final = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
OPEN_STAGES: Final = (144, 145, 146)


def build_log(count: int) -> tuple[list[Event], Workspace]:
    """Apply *count* commands to a new workspace; return their events and the result."""
    workspace = apply(new_workspace(), AddLossReason("Too expensive"), at=START).workspace
    events: list[Event] = []
    leads = 0
    for step in range(count - 1):
        at = START + timedelta(seconds=step)
        command: CreateLead | MoveLead | WinLead | LoseLead
        if leads == 0 or step % 5 == 0:
            command = CreateLead(f"Lead {leads + 1}", price=step % 1000)
            leads += 1
        else:
            lead_id = (step * 7919) % leads + 1
            kind = step % 7
            if kind == 0:
                command = WinLead(lead_id)
            elif kind == 1:
                command = LoseLead(lead_id, 1)
            else:
                stage = OPEN_STAGES[step % 3]
                if workspace.lead(lead_id).stage_id == stage:
                    stage = OPEN_STAGES[(step + 1) % 3]
                command = MoveLead(lead_id, stage)
        applied = apply(workspace, command, at=at)
        workspace = applied.workspace
        events.extend(applied.events)
    return events, workspace


def seconds(action: Callable[[], object], runs: int) -> list[float]:
    """Return the wall time of each of *runs* calls of *action*, with the collector paused."""
    times = []
    for _ in range(runs):
        gc.collect()
        gc.disable()
        started = perf_counter()
        action()
        times.append(perf_counter() - started)
        gc.enable()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="length of the log")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measurement")
    parser.add_argument("--check", action="store_true", help="exit 1 when over the goal")
    arguments = parser.parse_args(argv)

    started = perf_counter()
    events, expected = build_log(arguments.events)
    initial = apply(new_workspace(), AddLossReason("Too expensive"), at=START).workspace
    print(f"built a log of {len(events):,} events in {perf_counter() - started:.1f} s")
    result = replay(events, initial=initial)
    if result != expected:
        print("replay did not give the workspace the commands produced", file=sys.stderr)
        return 2
    documents = [dump(event) for event in events]

    def touch() -> None:
        for event in events:
            _ = event.revision

    rows = [
        ("replay(events)", seconds(lambda: replay(events, initial=initial), arguments.runs)),
        ("loop touching each event", seconds(touch, arguments.runs)),
        ("load_event over the JSON", seconds(lambda: list(map(load_event, documents)), 1)),
    ]
    goal = GOAL_SECONDS_PER_MILLION * len(events) / 1_000_000
    print(f"{'what':<28}{'median s':>10}{'min s':>9}   µs/event")
    for label, times in rows:
        median = statistics.median(times)
        per_event = median / len(events) * 1e6
        print(f"{label:<28}{median:>10.2f}{min(times):>9.2f}   {per_event:8.2f}")
    replayed = statistics.median(rows[0][1])
    verdict = "ok" if replayed <= goal else "over"
    print(f"goal: replay {len(events):,} events in at most {goal:.1f} s -> {verdict}")
    print(f"CPython {platform.python_version()} on {platform.platform()}")
    return 1 if arguments.check and replayed > goal else 0


if __name__ == "__main__":
    sys.exit(main())
