"""Time lead moves, due() and RunDue with 100 automations and 1,000,000 scheduled items.

Run from the root of a clone, with pipekit installed (``pip install -e ".[dev]"``)::

    python bench/bench_automations.py [--leads 1000000] [--scheduled 10000,100000,1000000]
                                      [--samples 61] [--calls 500] [--quick] [--chain]
                                      [--check]

A fresh Python process builds, through the public constructors, a main pipeline
of ten open stages, 1,000,000 leads spread over them, 100 automations in that
pipeline and 1,000,000 scheduled actions (one per lead, due at shuffled minutes
over two years, each of an automation that exists). It then measures, in
interleaved batches:

- ``apply(workspace, MoveLead(...), at=...)``: a move that one automation matches
  (it schedules one action), a move that none matches, and a move whose lead has a
  waiting action that the move cancels, beside the same move on the same leads
  with no automations and no scheduled actions (the reference);
- ``pipekit.due(workspace, now)`` for k = 1, 10, 100 and 1000 due actions among
  n = 10,000, 100,000 and 1,000,000 scheduled ones; once, a naive scan of
  ``workspace.scheduled`` for comparison;
- ``apply(workspace, RunDue(), at=...)`` handing k due host actions over;
- the memory each scheduled action holds (RSS growth and ``tracemalloc``).

The goals (issue 7, "Speed"): with 100 automations of which at most one matches
a move, 1M leads and 1M scheduled items, ``MoveLead`` stays within 2x its cost
without automations, and ``due(now)`` costs O(k log n) for k due items (no scan
of all items). The exit code is 0 unless ``--check`` is given, and then 1 if a
goal is missed. See bench/README.md for how to read the numbers.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from time import perf_counter, perf_counter_ns
from typing import Final, TypedDict

from pipekit import (
    ActionCancelled,
    ActionHandedOver,
    ActionScheduled,
    Automation,
    HostAction,
    Lead,
    LeadMoved,
    MoveLead,
    MoveTo,
    Pipeline,
    RunDue,
    Scheduled,
    Trigger,
    Workspace,
    add_stage,
    apply,
    default_pipeline,
    due,
)

GOAL_LEADS: Final = 1_000_000
"""The leads and scheduled items issue 7 states its goals at."""
MOVE_RATIO_GOAL: Final = 2.0
"""``MoveLead`` with the automations and items at most 2 times its cost without them."""
DUE_SIZE_GOAL: Final = 2.0
"""``due`` at the largest n at most 2 times its time at the smallest, for every k.

O(k log n) predicts ln(1,000,000) / ln(10,000) = 1.5 at most (the tree's height
grows from 3 to 4 levels); a scan of all items would make it 100.
"""
DUE_KS: Final = (1, 10, 100, 1000)
"""How many items are due in the ``due`` and ``RunDue`` rows."""

SEED: Final = 20261201
"""Fixes the leads' order, the due times and which leads each batch moves."""
AT: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
"""When every lead was created and entered its stage."""
BASE: Final = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
"""The due time of the first scheduled item: item offsets are whole minutes after it."""
MOVED_AT: Final = AT + timedelta(days=1)
"""The ``at`` of every timed move, before any item is due."""
OPEN_STAGES: Final = 10
"""The main pipeline's open stages: the default three and seven more."""
NO_PRICE: Final = 10_000_000
"""A ``min_price`` above every lead's price: those automations watch but never match."""

HARNESS: Final = "harness"


# -- the workspace ------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """The main pipeline, its 100 automations, and which stages the timed moves use.

    Leads move from ``match_from`` to ``match_to`` (one automation schedules an
    action), from ``none_from`` to ``none_to`` (automations watch both stages, none
    fires) and from ``cancel_from`` to ``cancel_to`` (their waiting item is
    cancelled, nothing fires). The other 90 automations watch the four quiet
    stages, which no timed move touches.
    """

    pipeline: Pipeline
    stages: tuple[int, ...]
    automations: tuple[Automation, ...]
    match_id: int
    """The one automation the matching move fires."""
    entered_id: int
    """The ENTERED automation of ``cancel_from``, whose items the cancelling move cancels."""
    left_ids: tuple[int, ...]
    """LEFT host-action automations of the quiet stages: the other leads' items are theirs."""

    @property
    def match_from(self) -> int:
        return self.stages[0]

    @property
    def match_to(self) -> int:
        return self.stages[1]

    @property
    def none_from(self) -> int:
        return self.stages[2]

    @property
    def none_to(self) -> int:
        return self.stages[3]

    @property
    def cancel_from(self) -> int:
        return self.stages[4]

    @property
    def cancel_to(self) -> int:
        return self.stages[5]

    def stage_of(self, lead_id: int) -> int:
        return self.stages[lead_id % len(self.stages)]


def build_layout() -> Layout:
    pipeline = default_pipeline()
    for number in range(OPEN_STAGES - len(pipeline.open_stages)):
        pipeline = add_stage(pipeline, f"Stage {number + 4}")
    stages = tuple(stage.id for stage in pipeline.open_stages)
    o0, o1, o2, o3, o4, o5, *quiet = stages
    day = timedelta(days=1)
    email = HostAction("send_email", {"template": "welcome", "from": "sales@example.com"})
    reminder = HostAction("send_email", {"template": "reminder"})
    task = HostAction("create_task", {"text": "Call back", "due_in_hours": 24})
    hook = HostAction("webhook", {"url": "https://example.com/hook", "retries": 3})
    # (stage_ids, trigger, action, delay, min_price): the stages the timed moves touch
    # carry automations that look at each move and fire nothing (wrong trigger, a
    # move inside their region, a price out of range), except the one match.
    specs: list[tuple[tuple[int, ...], Trigger, HostAction | MoveTo, timedelta, int | None]] = [
        ((o1,), Trigger.ENTERED, email, day, None),  # the match: o0 -> o1
        ((o0,), Trigger.ENTERED, task, day, None),  # leaving o0: ENTERED does not fire
        ((o1,), Trigger.LEFT, hook, day, None),  # entering o1: LEFT does not fire
        ((o1,), Trigger.MOVED_IN, task, day, NO_PRICE),  # price out of range
        ((o2,), Trigger.ENTERED, task, day, None),
        ((o3,), Trigger.LEFT, hook, day, None),
        ((o2, o3), Trigger.MOVED_IN, email, day, None),  # o2 -> o3 stays in the region
        ((o3,), Trigger.ENTERED, email, day, NO_PRICE),
        ((o4,), Trigger.ENTERED, reminder, 30 * day, None),  # its items are cancelled
        ((o4, o5), Trigger.LEFT, hook, day, None),  # o4 -> o5 stays in the region
    ]
    triggers = (Trigger.LEFT, Trigger.ENTERED, Trigger.MOVED_IN, Trigger.CREATED)
    actions = (email, task, hook, reminder)
    while len(specs) < 100:
        number = len(specs)
        stage = quiet[number % len(quiet)]
        trigger = triggers[(number // len(quiet)) % len(triggers)]
        action: HostAction | MoveTo = actions[number % len(actions)]
        if trigger is not Trigger.LEFT and number % 3 == 0:
            action = MoveTo(quiet[(number + 1) % len(quiet)])
        specs.append(((stage,), trigger, action, timedelta(hours=number), None))
    automations = tuple(
        Automation(
            id=number,
            pipeline_id=pipeline.id,
            stage_ids=stage_ids,
            trigger=trigger,
            action=action,
            delay=delay,
            min_price=min_price,
        )
        for number, (stage_ids, trigger, action, delay, min_price) in enumerate(specs, start=1)
    )
    left_ids = tuple(
        automation.id
        for automation in automations[10:]
        if automation.trigger is Trigger.LEFT and isinstance(automation.action, HostAction)
    )
    return Layout(pipeline, stages, automations, 1, 9, left_ids)


def build_leads(count: int, layout: Layout) -> list[Lead]:
    return [
        Lead(
            id=lead_id,
            name=f"Lead {lead_id}",
            pipeline_id=layout.pipeline.id,
            stage_id=layout.stage_of(lead_id),
            price=(lead_id * 7919) % 1_000_000,
            created_at=AT,
            stage_entered_at=AT,
        )
        for lead_id in range(1, count + 1)
    ]


def build_items(count: int, leads: int, layout: Layout) -> list[Scheduled]:
    """Return *count* waiting items, due at minutes 0..count-1 after BASE, shuffled.

    Item j belongs to the j-th lead of a shuffled order (one item per lead when
    *count* equals *leads*). A lead in ``cancel_from`` gets an item of that stage's
    ENTERED automation, which a move out cancels; any other lead an item of a LEFT
    automation of a quiet stage, which no move cancels.
    """
    rng = random.Random(SEED)
    lead_order = list(range(1, leads + 1))
    rng.shuffle(lead_order)
    offsets = list(range(count))
    rng.shuffle(offsets)
    by_id = {automation.id: automation for automation in layout.automations}
    entered = by_id[layout.entered_id]
    left = [by_id[automation_id] for automation_id in layout.left_ids]
    items = []
    for index in range(count):
        lead_id = lead_order[index % leads]
        if layout.stage_of(lead_id) == layout.cancel_from:
            automation = entered
        else:
            automation = left[index % len(left)]
        items.append(
            Scheduled(
                id=index + 1,
                automation_id=automation.id,
                lead_id=lead_id,
                due_at=BASE + timedelta(minutes=offsets[index]),
                action=automation.action,
            )
        )
    return items


def due_time(k: int) -> datetime:
    """Return the ``now`` at which exactly *k* items are due (offsets 0..k-1)."""
    return BASE + timedelta(minutes=k - 1)


class Memory(TypedDict):
    items: float
    """Bytes per scheduled item once the Scheduled objects exist (their list not counted)."""
    total: float
    """Bytes per item once the workspace holds them and the list is gone."""


@dataclass
class Built:
    layout: Layout
    reference: Workspace
    """The leads alone: no automations, nothing scheduled."""
    automated: Workspace
    """The leads and the 100 automations, nothing scheduled."""
    full: Workspace
    """The leads, the automations and every scheduled item."""
    by_size: dict[int, Workspace]
    """The leads, the automations and n scheduled items, by n (the largest is ``full``)."""
    seconds: dict[str, float]
    rss: Memory | None


def build(leads: int, sizes: Sequence[int]) -> Built:
    layout = build_layout()
    pipeline = layout.pipeline
    seconds: dict[str, float] = {}
    start = perf_counter()
    lead_list = build_leads(leads, layout)
    seconds["leads"] = perf_counter() - start
    start = perf_counter()
    reference = Workspace(pipelines=(pipeline,), main_pipeline_id=pipeline.id, leads=lead_list)
    seconds["reference"] = perf_counter() - start
    del lead_list
    index = reference.leads
    start = perf_counter()
    automated = Workspace(
        pipelines=(pipeline,),
        main_pipeline_id=pipeline.id,
        leads=index,
        automations=layout.automations,
    )
    seconds["automated"] = perf_counter() - start

    largest = sizes[-1]
    gc.collect()
    before = resident_bytes()
    start = perf_counter()
    items = build_items(largest, leads, layout)
    seconds["items"] = perf_counter() - start
    with_items = resident_bytes()
    list_bytes = sys.getsizeof(items)
    start = perf_counter()
    full = Workspace(
        pipelines=(pipeline,),
        main_pipeline_id=pipeline.id,
        leads=index,
        automations=layout.automations,
        scheduled=items,
    )
    seconds["full"] = perf_counter() - start
    del items
    gc.collect()
    after = resident_bytes()
    rss: Memory | None = None
    if before is not None and with_items is not None and after is not None:
        rss = {
            "items": (with_items - list_bytes - before) / largest,
            "total": (after - before) / largest,
        }

    by_size = {largest: full}
    for size in sizes[:-1]:
        start = perf_counter()
        by_size[size] = Workspace(
            pipelines=(pipeline,),
            main_pipeline_id=pipeline.id,
            leads=index,
            automations=layout.automations,
            scheduled=build_items(size, leads, layout),
        )
        seconds[f"due_{size}"] = perf_counter() - start
    return Built(layout, reference, automated, full, by_size, seconds, rss)


def traced_memory(built: Built) -> tuple[Memory, float]:
    """Build the largest schedule again under tracemalloc; return bytes per item and the peak.

    tracemalloc counts only what is allocated while it runs, so the leads the new
    workspace shares, and everything built before, are not counted.
    """
    layout, index = built.layout, built.reference.leads
    count = len(built.full._schedule)
    gc.collect()
    tracemalloc.start()
    try:
        items = build_items(count, len(index), layout)
        with_items = tracemalloc.get_traced_memory()[0] - sys.getsizeof(items)
        workspace = Workspace(
            pipelines=(layout.pipeline,),
            main_pipeline_id=layout.pipeline.id,
            leads=index,
            automations=layout.automations,
            scheduled=items,
        )
        del items
        gc.collect()
        total, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del workspace
    return {"items": with_items / count, "total": total / count}, peak / count


def resident_bytes() -> int | None:
    """Return the process's current resident set size, or None where /proc is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


# -- the rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One timed line: ``run(batch)`` makes ``calls`` calls."""

    key: str
    run: Callable[[int], None]
    calls: int


MOVES: Final = (
    ("reference", "no automations, no items"),
    ("automated", "automations, no items: one matches"),
    ("match", "one matches: schedules 1"),
    ("none", "none matches"),
    ("cancel", "cancels its waiting item"),
)
"""The MoveLead rows: key and label. ``reference`` is the ratios' denominator."""
GATED_MOVES: Final = ("match", "none", "cancel")


class Lanes:
    """Which leads each move row moves, batch by batch, prepared before timing.

    Each row takes its own lane of leads from the shuffled leads of the stage it
    moves from, so no row finds leads in the CPU cache that another row has just
    read; a lane wraps around when the stage holds too few leads.
    """

    def __init__(self, built: Built, batches: int, calls: int) -> None:
        self.batches = batches
        self.calls = calls
        rng = random.Random(SEED)
        self._pools: dict[int, list[int]] = {}
        self._used: dict[int, int] = {}
        for lead_id in built.reference.leads:
            self._pools.setdefault(built.layout.stage_of(lead_id), []).append(lead_id)
        for pool in self._pools.values():
            rng.shuffle(pool)

    def lane(self, stage_id: int) -> list[list[int]]:
        pool = self._pools[stage_id]
        start = self._used.get(stage_id, 0)
        self._used[stage_id] = start + self.batches * self.calls
        calls = self.calls
        return [
            [pool[(start + batch * calls + call) % len(pool)] for call in range(calls)]
            for batch in range(self.batches)
        ]


def move_rows(
    built: Built, lanes: Lanes, chain: bool = False
) -> tuple[list[Row], dict[str, list[list[MoveLead]]]]:
    layout = built.layout
    plans = {
        "reference": (built.reference, layout.match_from, layout.match_to),
        "automated": (built.automated, layout.match_from, layout.match_to),
        "match": (built.full, layout.match_from, layout.match_to),
        "none": (built.full, layout.none_from, layout.none_to),
        "cancel": (built.full, layout.cancel_from, layout.cancel_to),
    }
    rows = []
    commands: dict[str, list[list[MoveLead]]] = {}
    for key, (workspace, origin, target) in plans.items():
        batches = [[MoveLead(lead_id, target) for lead_id in batch] for batch in lanes.lane(origin)]
        commands[key] = batches
        mover = _chained_mover if chain else _mover
        rows.append(Row(key, mover(workspace, batches), lanes.calls))
    return rows, commands


def _mover(workspace: Workspace, batches: list[list[MoveLead]]) -> Callable[[int], None]:
    def move(batch: int) -> None:
        for command in batches[batch]:
            apply(workspace, command, at=MOVED_AT)

    return move


def _chained_mover(workspace: Workspace, batches: list[list[MoveLead]]) -> Callable[[int], None]:
    """Each batch from the base workspace, each move on the workspace the one before made.

    A host applies commands this way. New items then pile up in the due-time tree's
    buffer, and every 32nd one pays for the full buffer going into the tree, where with
    every call on the base workspace each finds the buffer empty.
    """

    def move(batch: int) -> None:
        current = workspace
        for command in batches[batch]:
            current = apply(current, command, at=MOVED_AT).workspace

    return move


def harness_row(calls: int) -> Row:
    batch_ids = list(range(calls))

    def loop(batch: int) -> None:
        for _lead_id in batch_ids:
            pass

    return Row(HARNESS, loop, calls)


def due_rows(built: Built, calls: int) -> list[Row]:
    rows = []
    for size, workspace in built.by_size.items():
        for k in DUE_KS:
            if k <= size:
                rows.append(_due_row(f"due_{size}_{k}", workspace, k, max(3, calls // k)))
    return rows


def _due_row(key: str, workspace: Workspace, k: int, calls: int) -> Row:
    now = due_time(k)

    def run(batch: int) -> None:
        for _ in range(calls):
            due(workspace, now)

    return Row(key, run, calls)


def run_due_rows(built: Built, calls: int) -> list[Row]:
    size = len(built.full._schedule)
    return [
        _run_due_row(f"run_due_{k}", built.full, k, max(1, calls // (20 * k)))
        for k in DUE_KS
        if k <= size
    ]


def _run_due_row(key: str, workspace: Workspace, k: int, calls: int) -> Row:
    command, at = RunDue(), due_time(k)

    def run(batch: int) -> None:
        for _ in range(calls):
            apply(workspace, command, at=at)

    return Row(key, run, calls)


def check_moves(built: Built, commands: dict[str, list[list[MoveLead]]]) -> None:
    """Check on one batch per row that each move does what its row claims, before timing."""
    layout = built.layout
    workspaces = {
        "reference": built.reference,
        "automated": built.automated,
        "match": built.full,
        "none": built.full,
        "cancel": built.full,
    }
    for key, workspace in workspaces.items():
        for command in commands[key][0]:
            lead = workspace.lead(command.lead_id)
            events = apply(workspace, command, at=MOVED_AT).events
            moved = LeadMoved(
                workspace.revision + 1,
                MOVED_AT,
                lead.id,
                lead.pipeline_id,
                lead.stage_id,
                lead.pipeline_id,
                command.stage_id,
            )
            if not events or events[0] != moved:
                raise AssertionError(f"{key}: lead {lead.id} is not moved as planned")
            rest = events[1:]
            if key in ("match", "automated"):
                ok = (
                    len(rest) == 1
                    and isinstance(rest[0], ActionScheduled)
                    and rest[0].scheduled.automation_id == layout.match_id
                )
            elif key == "cancel":
                waiting = {item.id for item in workspace._schedule.of_lead(lead.id)}
                ok = (
                    bool(waiting)
                    and all(isinstance(event, ActionCancelled) for event in rest)
                    and {event.scheduled_id for event in rest if isinstance(event, ActionCancelled)}
                    == waiting
                )
            else:
                ok = not rest
            if not ok:
                raise AssertionError(f"{key}: lead {lead.id}'s move gave {rest!r}")
            if workspace.lead(lead.id) is not lead:
                raise AssertionError("apply changed its input workspace")


def check_due(built: Built) -> None:
    """Check that each due row's ``now`` finds exactly k items, in order, before timing."""
    for workspace in built.by_size.values():
        for k in DUE_KS:
            if k > len(workspace._schedule):
                continue
            found = due(workspace, due_time(k))
            keys = [(item.due_at, item.id) for item in found]
            if len(found) != k or keys != sorted(keys) or found[-1].due_at != due_time(k):
                raise AssertionError(f"due() at k={k} found {len(found)} items")
    for k in DUE_KS:
        if k > len(built.full._schedule):
            continue
        events = apply(built.full, RunDue(), at=due_time(k)).events
        if len(events) != k or not all(isinstance(event, ActionHandedOver) for event in events):
            raise AssertionError(f"RunDue at k={k} did not hand {k} host actions over")


def measure(rows: Sequence[Row], samples: int) -> dict[str, list[float]]:
    """Time every row in interleaved batches, so all see the same machine noise.

    Returns each batch's mean time per call in µs. Batch ``samples`` (one past the
    timed ones) is the warm-up.
    """
    times: dict[str, list[float]] = {row.key: [] for row in rows}
    # As timeit does: no garbage collection inside a timed batch, one before them.
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for row in rows:
            row.run(samples)
        for batch in range(samples):
            # Rotate the order, so no row always runs first or on a just-warmed cache.
            shift = batch % len(rows)
            for row in (*rows[shift:], *rows[:shift]):
                start = perf_counter_ns()
                row.run(batch)
                times[row.key].append((perf_counter_ns() - start) / row.calls / 1000)
    finally:
        if was_enabled:
            gc.enable()
    return times


def naive_scan(workspace: Workspace, runs: int) -> tuple[float, float]:
    """Return the first read of ``workspace.scheduled`` and a median full scan, in ms.

    The scan is what a host without ``due`` writes: every item looked at, for one due.
    """
    start = perf_counter_ns()
    everything = workspace.scheduled
    first_read = (perf_counter_ns() - start) / 1e6
    now = due_time(1)
    scans = []
    for _ in range(runs):
        start = perf_counter_ns()
        found = [item for item in everything if item.handed_over_at is None and item.due_at <= now]
        scans.append((perf_counter_ns() - start) / 1e6)
        if len(found) != 1:
            raise AssertionError("the naive scan does not find the one due item")
    return first_read, statistics.median(scans)


# -- the worker ---------------------------------------------------------------------


class Result(TypedDict):
    leads: int
    sizes: list[int]
    automations: int
    seconds: dict[str, float]
    rss: Memory | None
    traced: Memory
    traced_peak: float
    times: dict[str, list[float]]
    calls: dict[str, int]
    first_read_ms: float
    scan_ms: float
    tuple_untouched: bool
    """Whether due() and RunDue left the workspace's tuple of all items unbuilt."""
    load: list[float] | None
    chained: bool
    """Whether each move ran on the workspace the move before it made (``--chain``)."""


def run_worker(
    leads: int, sizes: Sequence[int], samples: int, calls: int, chain: bool = False
) -> Result:
    say(f"building {leads:,} leads, 100 automations, {sizes[-1]:,} scheduled items")
    built = build(leads, sizes)
    say(f"built in {sum(built.seconds.values()):.1f} s; checking, then timing")
    lanes = Lanes(built, samples + 1, calls)
    moves, commands = move_rows(built, lanes, chain)
    check_moves(built, commands)
    check_due(built)
    load_before = load_average()
    rows = [harness_row(calls), *moves]
    times = measure(rows, samples)
    say("moves timed; timing due() and RunDue")
    schedule_rows = [*due_rows(built, 2 * calls), *run_due_rows(built, 2 * calls)]
    times |= measure(schedule_rows, samples)
    load_after = load_average()
    calls_of = {row.key: row.calls for row in (*rows, *schedule_rows)}
    untouched = all(workspace._schedule._tuple is None for workspace in built.by_size.values())
    say("timing a naive scan of workspace.scheduled")
    first_read, scan = naive_scan(built.full, 5)
    del moves, commands, rows, schedule_rows, lanes
    say("building the schedule again under tracemalloc, to count live bytes")
    traced, peak = traced_memory(built)
    return {
        "leads": leads,
        "sizes": list(sizes),
        "automations": len(built.layout.automations),
        "seconds": built.seconds,
        "rss": built.rss,
        "traced": traced,
        "traced_peak": peak,
        "times": times,
        "calls": calls_of,
        "first_read_ms": first_read,
        "scan_ms": scan,
        "tuple_untouched": untouched,
        "load": None if load_before is None or load_after is None else [load_before, load_after],
        "chained": chain,
    }


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the report ---------------------------------------------------------------------


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def iqr(samples: Sequence[float]) -> float:
    quartiles = statistics.quantiles(samples, n=4)
    return quartiles[2] - quartiles[0]


@dataclass(frozen=True)
class Verdict:
    goal: str
    measured: str
    limit: str
    ok: bool


def verdicts(result: Result) -> list[Verdict]:
    times = result["times"]
    reference = median(times["reference"])
    found = []
    for key, label in MOVES:
        if key in GATED_MOVES:
            ratio = median(times[key]) / reference
            found.append(
                Verdict(
                    f"MoveLead, {label}, / reference",
                    f"{ratio:.2f}",
                    f"<= {MOVE_RATIO_GOAL:g}",
                    ratio <= MOVE_RATIO_GOAL,
                )
            )
    sizes = result["sizes"]
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        ratios = [
            median(times[f"due_{large}_{k}"]) / median(times[f"due_{small}_{k}"])
            for k in DUE_KS
            if k <= small
        ]
        worst = max(ratios)
        found.append(
            Verdict(
                f"due(), n={large:,} / n={small:,}, worst k",
                f"{worst:.2f}",
                f"<= {DUE_SIZE_GOAL:g}",
                worst <= DUE_SIZE_GOAL,
            )
        )
    large = sizes[-1]
    k = max(k for k in DUE_KS if k <= large)
    per_item = median(times[f"due_{large}_{k}"]) / k
    single = median(times[f"due_{large}_1"])
    found.append(
        Verdict(
            f"due() per item at k={k} <= due() at k=1 (n={large:,})",
            f"{per_item:.2f} µs",
            f"<= {single:.2f} µs",
            per_item <= single,
        )
    )
    found.append(
        Verdict(
            "due() builds no tuple of all items",
            "none built" if result["tuple_untouched"] else "built",
            "none built",
            result["tuple_untouched"],
        )
    )
    return found


def print_report(result: Result, samples: int) -> list[Verdict]:
    leads, sizes = result["leads"], result["sizes"]
    seconds = result["seconds"]
    print(
        f"pipekit automations benchmark: {leads:,} leads over {OPEN_STAGES} open stages,"
        f" {result['automations']} automations\nin the main pipeline, {sizes[-1]:,} scheduled"
        f" items; {samples} timed batches per row, interleaved; one fresh process."
    )
    print()
    print("Built through the public constructors:")
    print(
        f"  {leads:,} Lead objects in {seconds['leads']:.2f} s;"
        f" Workspace(leads=...) in {seconds['reference']:.2f} s"
    )
    print(
        f"  {sizes[-1]:,} Scheduled objects in {seconds['items']:.2f} s; Workspace(leads=<the same"
        f" index>, automations=..., scheduled=...)\n  in {seconds['full']:.2f} s"
        f" ({seconds['full'] / sizes[-1] * 1e6:.1f} µs per item, the leads' checks included);"
        f" with automations only in {seconds['automated']:.2f} s"
    )
    for size in sizes[:-1]:
        print(f"  the n={size:,} workspace (items and Workspace) in {seconds[f'due_{size}']:.2f} s")
    print()
    print_moves(result)
    print()
    print_due(result)
    print()
    print_run_due(result)
    print()
    print_memory(result)
    print()
    found = verdicts(result)
    at_goal = leads == GOAL_LEADS and sizes[-1] == GOAL_LEADS
    note = "" if at_goal else f" (stated at {GOAL_LEADS:,} leads and items; this run is smaller)"
    print(f"Goals of issue 7{note}:")
    print()
    print(f"{'goal':52} {'measured':>12}  {'goal':>11}  verdict")
    print("-" * 88)
    for verdict in found:
        word = "ok" if verdict.ok else "missed"
        print(f"{verdict.goal:52} {verdict.measured:>12}  {verdict.limit:>11}  {word}")
    print("-" * 88)
    print(machine_line())
    return found


def print_moves(result: Result) -> None:
    times = result["times"]
    reference = median(times["reference"])
    print(
        f"apply(workspace, MoveLead(...), at=...): µs per call, {result['calls']['reference']:,}"
        " calls a batch, each on\nanother lead; median, fastest batch (min), interquartile range;"
        " ratio = median / reference."
    )
    if result["chained"]:
        print("Each move ran on the workspace the move before it made (--chain).")
    print()
    print(f"{'':44} {'median':>7} {'min':>7} {'IQR':>7} {'ratio':>7}")
    rule = "-" * 76
    print(rule)
    for key, label in MOVES:
        samples = times[key]
        line = f"  {label:42} {median(samples):7.2f} {min(samples):7.2f} {iqr(samples):7.2f}"
        print(f"{line} {median(samples) / reference:7.2f}")
    print(rule)
    print(
        f"The loop around each call costs {median(times[HARNESS]):.3f} µs, in every row."
        f" Scheduled items: {result['sizes'][-1]:,}\nin the last three rows; 'automations, no"
        " items' is the matching move on a workspace\nwith the automations and nothing scheduled."
    )
    if result["load"] is not None:
        low, high = result["load"]
        print(
            f"1-minute load average while timing: {low:.2f} to {high:.2f} (this script alone"
            " makes about 1)."
        )


def print_due(result: Result) -> None:
    times, sizes = result["times"], result["sizes"]
    print(
        "due(workspace, now), k items due among n: median µs per call, and per item (/ k);"
        f"\nratio = the median at n={sizes[-1]:,} over n={sizes[0]:,}."
    )
    print()
    header = f"{'k':>6}"
    for size in sizes:
        title = f"n={size:,}"
        header += f" {title:>19}"
    print(f"{header} {'ratio':>7}")
    rule = "-" * len(f"{header} {'ratio':>7}")
    print(rule)
    for k in DUE_KS:
        line = f"{k:>6}"
        for size in sizes:
            if k <= size:
                value = median(times[f"due_{size}_{k}"])
                line += f" {value:9.2f} ({value / k:6.3f})"
            else:
                line += f" {'-':>19}"
        if k <= sizes[0] and len(sizes) > 1:
            ratio = median(times[f"due_{sizes[-1]}_{k}"]) / median(times[f"due_{sizes[0]}_{k}"])
            line += f" {ratio:7.2f}"
        print(line)
    print(rule)
    one = median(times[f"due_{sizes[-1]}_1"]) / 1000
    print(
        f"A naive scan, [i for i in workspace.scheduled if i.handed_over_at is None and"
        f"\ni.due_at <= now], over n={sizes[-1]:,} for k=1: {result['scan_ms']:.1f} ms (median"
        f" of 5), {result['scan_ms'] / one:,.0f} times due();\nthe first read of"
        f" workspace.scheduled, which builds the tuple it scans, another"
        f" {result['first_read_ms']:.1f} ms.\ndue() and RunDue left that tuple unbuilt in every"
        f" workspace: {'yes' if result['tuple_untouched'] else 'NO'}."
    )
    print(
        f"ln(n) grows {math.log(sizes[-1]) / math.log(sizes[0]):.2f} times from"
        f" n={sizes[0]:,} to n={sizes[-1]:,}; n itself {sizes[-1] / sizes[0]:,.0f} times."
        if len(sizes) > 1
        else "One n only: no ratio."
    )


def print_run_due(result: Result) -> None:
    times, size = result["times"], result["sizes"][-1]
    print(
        f"apply(workspace, RunDue(), at=...) handing k due host actions over, n={size:,}:"
        "\nmedian ms per call and µs per item."
    )
    print()
    print(f"{'k':>6} {'calls':>6} {'median ms':>10} {'min ms':>8} {'µs/item':>8}")
    rule = "-" * 42
    print(rule)
    for k in DUE_KS:
        key = f"run_due_{k}"
        if key in times:
            samples = times[key]
            line = f"{k:>6} {result['calls'][key]:>6} {median(samples) / 1000:10.3f}"
            print(f"{line} {min(samples) / 1000:8.3f} {median(samples) / k:8.2f}")
    print(rule)


def print_memory(result: Result) -> None:
    size = result["sizes"][-1]
    print(
        f"Memory per scheduled item, at n={size:,}: 'items' once the Scheduled objects exist"
        "\n(their due_at datetimes included; actions are the automations' own, shared),"
        "\n'schedule' what Workspace(scheduled=...) adds (the trees and indexes), 'total' once"
        "\nthe workspace holds them and the list is gone. For information; no goal."
    )
    print()
    print(f"{'':14} {'items':>7} {'schedule':>9} {'total':>7} {'peak':>7}")
    for name, memory, peak in (
        ("RSS growth", result["rss"], None),
        ("tracemalloc", result["traced"], result["traced_peak"]),
    ):
        if memory is None:
            print(f"{name:14} {'n/a':>7}")
            continue
        items, total = memory["items"], memory["total"]
        shown = "" if peak is None else f" {peak:7.0f}"
        print(f"{name:14} {items:7.0f} {total - items:9.0f} {total:7.0f}{shown}")


def machine_line() -> str:
    try:
        version = metadata.version("pipekit")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return (
        f"pipekit {version}; {platform.python_implementation()} {platform.python_version()}"
        f" on {platform.platform()} ({platform.machine()}, {os.cpu_count()} CPUs)"
    )


# -- the command line ---------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time MoveLead with 100 automations and 1,000,000 scheduled items beside"
        " MoveLead without them, due() at several sizes, RunDue, and memory per item."
    )
    parser.add_argument(
        "--leads", type=_at_least(100), default=GOAL_LEADS, help="leads (default 1000000)"
    )
    parser.add_argument(
        "--scheduled",
        type=_sizes,
        default=(10_000, 100_000, GOAL_LEADS),
        help="scheduled items, comma-separated; the largest is the moves' workspace"
        " (default 10000,100000,1000000)",
    )
    parser.add_argument(
        "--samples", type=_at_least(3), default=61, help="timed batches per row (default 61)"
    )
    parser.add_argument(
        "--calls", type=_at_least(1), default=500, help="moves per batch (default 500)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="20,000 leads, 1000,20000 items, 7 batches of 100: a few seconds",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a goal of issue 7 is missed"
    )
    parser.add_argument(
        "--chain",
        action="store_true",
        help="apply each batch's moves one after another, as a host does, not each to the"
        " same base workspace",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    leads: int = args.leads
    sizes: tuple[int, ...] = args.scheduled
    samples: int = args.samples
    calls: int = args.calls
    if args.quick:
        leads, sizes, samples, calls = 20_000, (1_000, 20_000), 7, 100
    if sizes[0] < 1:
        parser.error("--scheduled sizes must be at least 1")
    if args.worker:
        json.dump(run_worker(leads, sizes, samples, calls, args.chain), sys.stdout)
        return 0

    # A fresh process: nothing the parent allocated changes the memory figures.
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--leads", str(leads)]
    command += ["--scheduled", ",".join(map(str, sizes))]
    command += ["--samples", str(samples), "--calls", str(calls)]
    command += ["--chain"] if args.chain else []
    finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    result: Result = json.loads(finished.stdout)
    found = print_report(result, samples)
    if args.check:
        missed = [verdict.goal for verdict in found if not verdict.ok]
        if missed:
            print(f"check failed: {'; '.join(missed)}")
            return 1
        print("check passed: every goal measured is met")
    return 0


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _sizes(text: str) -> tuple[int, ...]:
    parse = _at_least(1)
    return tuple(sorted({parse(part) for part in text.split(",")}))


if __name__ == "__main__":
    sys.exit(main())
