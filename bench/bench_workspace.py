"""Time lead moves and lookups in a workspace of 1,000,000 leads, and count its memory.

Run from the root of a clone, with pipekit and the benchmark extras installed
(``pip install -e ".[bench]"``)::

    python bench/bench_workspace.py [--sizes 10000,1000000] [--samples 51] [--calls 2000] [--check]

For each size, a fresh Python process builds a workspace through the public
constructor (``Workspace(pipelines=..., main_pipeline_id=1, leads=[Lead(...), ...])``,
the leads spread over the open stages of the default pipeline) and measures:

- ``apply(workspace, MoveLead(...), at=...)``, each call on the same workspace and
  on a different lead, moving it to another open stage;
- ``workspace.lead(id)``;
- beside them, in interleaved batches: the same update (one lead replaced by a
  moved copy, keyed by id) and the same lookup on pipekit's ``PersistentIndex``
  alone, on ``immutables.Map``, on ``pyrsistent``'s ``PMap``, and on a plain
  ``dict`` changed in place, as a mutable host would;
- the memory the workspace holds per lead, its Lead objects included: the growth
  of the process's resident set (RSS), and the live bytes ``tracemalloc`` counts.

The result is a measurement, not a gate: the exit code is 0 unless ``--check`` is
given, and then 1 if a goal of issue 3 is missed. See bench/README.md for how to
read the numbers.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
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
from typing import Final, Protocol, TypedDict

import attrs

from pipekit import Lead, LeadMoved, MoveLead, Pipeline, Workspace, apply, default_pipeline
from pipekit._containers import PersistentIndex

GOAL_SIZE: Final = 1_000_000
"""The workspace size issue 3 states its goals at."""
MOVE_GOAL_US: Final = 5.0
"""``apply(MoveLead)`` at most 5 µs median at 1,000,000 leads."""
RATIO_GOAL: Final = 1.5
"""``apply(MoveLead)`` at 1,000,000 leads at most 1.5 times its time at 10,000."""
LOOKUP_GOAL_US: Final = 0.5
"""``workspace.lead(id)`` at most 0.5 µs median."""
MEMORY_GOAL_BYTES: Final = 400
"""At most 400 bytes per lead at 1,000,000 leads, indexes included."""

SEED: Final = 20261127
"""Fixes which leads each batch moves, so runs are comparable."""
AT: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
"""The one ``created_at`` and ``stage_entered_at`` every lead shares."""
MOVED_AT: Final = AT + timedelta(days=1)
"""The ``at`` of every timed move."""


@dataclass(frozen=True)
class RowSpec:
    key: str
    label: str


UPDATES: Final = (
    RowSpec("apply", "apply(workspace, MoveLead)"),
    RowSpec("index_set", "PersistentIndex.with_value"),
    RowSpec("map_set", "immutables.Map.set"),
    RowSpec("pmap_set", "pyrsistent PMap.set"),
    RowSpec("dict_set", "dict[id] = lead, in place"),
)
LOOKUPS: Final = (
    RowSpec("lead", "workspace.lead(id)"),
    RowSpec("index_get", "PersistentIndex.get(id)"),
    RowSpec("map_get", "immutables.Map[id]"),
    RowSpec("pmap_get", "pyrsistent PMap[id]"),
    RowSpec("dict_get", "dict[id]"),
)
HARNESS: Final = "harness"


# -- the optional persistent maps ----------------------------------------------------


class PersistentMap(Protocol):
    """What the script uses of ``immutables.Map`` and ``pyrsistent.PMap``."""

    def set(self, key: int, value: Lead, /) -> PersistentMap: ...

    def __getitem__(self, key: int, /) -> Lead: ...


MapFactory = Callable[[dict[int, Lead]], PersistentMap]


@dataclass(frozen=True)
class Contender:
    """A benchmark-only package, loaded if installed, so the script runs without it."""

    package: str
    factory_name: str
    set_key: str
    get_key: str

    def load(self) -> MapFactory | None:
        try:
            module = importlib.import_module(self.package)
        except ImportError:
            return None
        factory: MapFactory = getattr(module, self.factory_name)
        return factory


CONTENDERS: Final = (
    Contender("immutables", "Map", "map_set", "map_get"),
    Contender("pyrsistent", "pmap", "pmap_set", "pmap_get"),
)


# -- building the workspace ----------------------------------------------------------


def build_leads(size: int, pipeline: Pipeline) -> list[Lead]:
    """Return *size* leads with ids 1..size, spread over the open stages in turn."""
    stages = [stage.id for stage in pipeline.open_stages]
    return [
        Lead(
            id=lead_id,
            name=f"Lead {lead_id}",
            pipeline_id=pipeline.id,
            stage_id=stages[lead_id % len(stages)],
            # Varied, like real prices: most are int objects of their own, not cached ones.
            price=(lead_id * 7919) % 1_000_000,
            created_at=AT,
            stage_entered_at=AT,
        )
        for lead_id in range(1, size + 1)
    ]


class Memory(TypedDict):
    leads: float
    """Bytes per lead once the Lead objects exist (the list holding them not counted)."""
    total: float
    """Bytes per lead once the workspace exists and the list is gone: all it holds."""


@dataclass(frozen=True)
class Built:
    workspace: Workspace
    leads_seconds: float
    workspace_seconds: float
    memory: Memory | None


def build(size: int, gauge: Callable[[], int | None]) -> Built:
    """Build a workspace of *size* leads, reading *gauge* (bytes in use) before and after."""
    pipeline = default_pipeline()
    gc.collect()
    before = gauge()
    start = perf_counter()
    leads = build_leads(size, pipeline)
    built_leads = perf_counter()
    with_leads = gauge()
    list_bytes = sys.getsizeof(leads)
    workspace = Workspace(pipelines=(pipeline,), main_pipeline_id=pipeline.id, leads=leads)
    built_workspace = perf_counter()
    del leads
    gc.collect()
    after = gauge()
    memory: Memory | None = None
    if before is not None and with_leads is not None and after is not None:
        memory = {
            "leads": (with_leads - list_bytes - before) / size,
            "total": (after - before) / size,
        }
    return Built(workspace, built_leads - start, built_workspace - built_leads, memory)


def resident_bytes() -> int | None:
    """Return the process's current resident set size, or None where /proc is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def traced_bytes() -> int:
    return tracemalloc.get_traced_memory()[0]


# -- the rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One timed line: ``run(batch)`` makes ``calls`` calls, each on a different lead."""

    key: str
    run: Callable[[int], None]


Batches = list[list[int]]
"""Lead ids, one list of ``calls`` ids per batch."""


class Plan:
    """Which leads each row works on, and what it does to them, prepared before timing.

    Each row gets its own *lane* of leads, in a shuffled order: no two rows touch the
    same leads while both are timed (as far as the workspace's size allows), so no row
    finds in the CPU cache leads that another row has just read, as a host that moves
    one lead here and there would not.
    """

    def __init__(self, workspace: Workspace, batches: int, calls: int) -> None:
        self.workspace = workspace
        self.batches = batches
        self.calls = calls
        self._order = list(workspace.leads)
        random.Random(SEED).shuffle(self._order)
        self._lanes = 0
        self._stages = [stage.id for stage in workspace.main_pipeline.open_stages]

    def lane(self) -> Batches:
        """Return the ids of the next lane's leads, batch by batch."""
        order, calls = self._order, self.calls
        start = self._lanes * self.batches * calls
        self._lanes += 1
        return [
            [order[(start + batch * calls + call) % len(order)] for call in range(calls)]
            for batch in range(self.batches)
        ]

    def target(self, lead_id: int) -> int:
        """Return the open stage the lead is moved to: the next one after its own."""
        return self._stages[(lead_id + 1) % len(self._stages)]

    def commands(self, lane: Batches) -> list[list[MoveLead]]:
        return [[MoveLead(lead_id, self.target(lead_id)) for lead_id in batch] for batch in lane]

    def moved(self, lane: Batches) -> list[list[Lead]]:
        """Return the leads of *lane* as their moves leave them, built by attrs.evolve."""
        lead = self.workspace.lead
        return [
            [
                attrs.evolve(
                    lead(lead_id), stage_id=self.target(lead_id), stage_entered_at=MOVED_AT
                )
                for lead_id in batch
            ]
            for batch in lane
        ]

    def pairs(self, lane: Batches) -> list[list[tuple[int, Lead]]]:
        return [[(lead.id, lead) for lead in batch] for batch in self.moved(lane)]


def pipekit_rows(workspace: Workspace, index: PersistentIndex[Lead], plan: Plan) -> list[Row]:
    commands = plan.commands(plan.lane())
    moved = plan.moved(plan.lane())
    lead_ids = plan.lane()
    get_ids = plan.lane()

    def move(batch: int) -> None:
        for command in commands[batch]:
            apply(workspace, command, at=MOVED_AT)

    def with_value(batch: int) -> None:
        for lead in moved[batch]:
            index.with_value(lead)

    def lead(batch: int) -> None:
        for lead_id in lead_ids[batch]:
            workspace.lead(lead_id)

    def get(batch: int) -> None:
        for lead_id in get_ids[batch]:
            index.get(lead_id)

    return [
        Row("apply", move),
        Row("index_set", with_value),
        Row("lead", lead),
        Row("index_get", get),
    ]


def map_rows(leads: PersistentMap, set_key: str, get_key: str, plan: Plan) -> list[Row]:
    pairs = plan.pairs(plan.lane())
    get_ids = plan.lane()

    def set_lead(batch: int) -> None:
        for lead_id, lead in pairs[batch]:
            leads.set(lead_id, lead)

    def get_lead(batch: int) -> None:
        for lead_id in get_ids[batch]:
            leads[lead_id]

    return [Row(set_key, set_lead), Row(get_key, get_lead)]


def dict_rows(leads: dict[int, Lead], plan: Plan) -> list[Row]:
    pairs = plan.pairs(plan.lane())
    get_ids = plan.lane()

    # A mutable host changes its one dict in place. Replacing the value of a key that
    # is there costs the same whichever lead it held, so no undo is needed.
    def set_lead(batch: int) -> None:
        for lead_id, lead in pairs[batch]:
            leads[lead_id] = lead

    def get_lead(batch: int) -> None:
        for lead_id in get_ids[batch]:
            leads[lead_id]

    return [Row("dict_set", set_lead), Row("dict_get", get_lead)]


def harness_row(plan: Plan) -> Row:
    lead_ids = plan.lane()

    def loop(batch: int) -> None:
        for _lead_id in lead_ids[batch]:
            pass

    return Row(HARNESS, loop)


def check_agreement(
    plan: Plan,
    index: PersistentIndex[Lead],
    maps: Sequence[PersistentMap],
    plain: dict[int, Lead],
) -> None:
    """Check on one batch of leads that every row does the work it claims, before timing."""
    workspace = plan.workspace
    lane = plan.lane()[:1]
    for command, moved in zip(plan.commands(lane)[0], plan.moved(lane)[0], strict=True):
        original = workspace.lead(command.lead_id)
        applied = apply(workspace, command, at=MOVED_AT)
        expected = LeadMoved(
            workspace.revision + 1,
            MOVED_AT,
            original.id,
            original.pipeline_id,
            original.stage_id,
            original.pipeline_id,
            command.stage_id,
        )
        if applied.events != (expected,) or applied.workspace.lead(original.id) != moved:
            raise AssertionError(f"apply did not move lead {original.id} as planned")
        if workspace.lead(original.id) is not original:
            raise AssertionError("apply changed its input workspace")
        if moved.stage_id == original.stage_id:
            raise AssertionError(f"lead {original.id} is not moved to another stage")
        if index.with_value(moved)[original.id] is not moved:
            raise AssertionError("PersistentIndex.with_value did not replace the lead")
        for leads in maps:
            if (
                leads[original.id] is not original
                or leads.set(original.id, moved)[original.id] is not moved
            ):
                raise AssertionError(f"{type(leads).__name__} did not replace the lead")
        if plain[original.id] is not original or index.get(original.id) is not original:
            raise AssertionError("the lookups disagree")


# -- timing --------------------------------------------------------------------------


def measure(rows: Sequence[Row], samples: int, calls: int) -> dict[str, list[float]]:
    """Time every row in interleaved batches, so all see the same machine noise.

    Batch ``samples`` (one past the timed ones) is the warm-up.
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
                times[row.key].append((perf_counter_ns() - start) / calls / 1000)
    finally:
        if was_enabled:
            gc.enable()
    return times


# -- one size, in its own process ----------------------------------------------------


class Result(TypedDict):
    size: int
    leads_seconds: float
    workspace_seconds: float
    rss: Memory | None
    traced: Memory | None
    traced_peak: float
    skipped: list[str]
    times: dict[str, list[float]]
    load: list[float] | None
    """The 1-minute load average before and after timing: how busy the machine was."""


def run_size(size: int, samples: int, calls: int) -> Result:
    """Build, time and count one size. Meant for a fresh process: see ``main``."""
    say(f"{size:,} leads: building the workspace")
    built = build(size, resident_bytes)
    say(f"{size:,} leads: built in {built.leads_seconds + built.workspace_seconds:.1f} s; timing")
    load_before = load_average()
    times, skipped = time_rows(built.workspace, samples, calls)
    load_after = load_average()
    result: Result = {
        "size": size,
        "leads_seconds": built.leads_seconds,
        "workspace_seconds": built.workspace_seconds,
        "rss": built.memory,
        "traced": None,
        "traced_peak": 0.0,
        "skipped": skipped,
        "times": times,
        "load": None if load_before is None or load_after is None else [load_before, load_after],
    }
    del built
    # tracemalloc counts only what is allocated while it runs, so this second build
    # is counted alone, whatever the first left in the heap.
    say(f"{size:,} leads: building again under tracemalloc, to count live bytes")
    tracemalloc.start()
    try:
        traced = build(size, traced_bytes)
        result["traced"] = traced.memory
        result["traced_peak"] = tracemalloc.get_traced_memory()[1] / size
    finally:
        tracemalloc.stop()
    return result


def time_rows(
    workspace: Workspace, samples: int, calls: int
) -> tuple[dict[str, list[float]], list[str]]:
    """Return each row's per-call times, and the optional packages that are not installed."""
    index = workspace.leads
    if not isinstance(index, PersistentIndex):
        raise AssertionError("Workspace.leads is expected to be a PersistentIndex")
    plan = Plan(workspace, samples + 1, calls)
    plain = dict(index.items())
    rows = [harness_row(plan), *pipekit_rows(workspace, index, plan)]
    maps: list[PersistentMap] = []
    skipped: list[str] = []
    for contender in CONTENDERS:
        factory = contender.load()
        if factory is None:
            skipped.append(contender.package)
            continue
        leads = factory(plain)
        maps.append(leads)
        rows += map_rows(leads, contender.set_key, contender.get_key, plan)
    check_agreement(plan, index, maps, plain)
    rows += dict_rows(plain, plan)
    return measure(rows, samples, calls), skipped


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the report ----------------------------------------------------------------------


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
    ok: bool | None
    """None when the run could not measure it (one size only, or no RSS on this system)."""


def verdicts(results: Sequence[Result]) -> list[Verdict]:
    smallest, largest = results[0], results[-1]
    at = f"at {largest['size']:,}"
    move = median(largest["times"]["apply"])
    found = [
        Verdict(
            f"apply(MoveLead) median {at}",
            f"{move:.2f} µs",
            f"<= {MOVE_GOAL_US:g} µs",
            move <= MOVE_GOAL_US,
        )
    ]
    ratio_goal = f"<= {RATIO_GOAL:g}"
    if len(results) > 1:
        ratio = move / median(smallest["times"]["apply"])
        name = f"apply(MoveLead) {largest['size']:,} / {smallest['size']:,}"
        found.append(Verdict(name, f"{ratio:.2f}", ratio_goal, ratio <= RATIO_GOAL))
    else:
        found.append(Verdict("apply(MoveLead) time ratio", "one size run", ratio_goal, None))
    lookup = median(largest["times"]["lead"])
    found.append(
        Verdict(
            f"workspace.lead(id) median {at}",
            f"{lookup:.2f} µs",
            f"<= {LOOKUP_GOAL_US:g} µs",
            lookup <= LOOKUP_GOAL_US,
        )
    )
    for how, memory in (("RSS growth", largest["rss"]), ("tracemalloc", largest["traced"])):
        name = f"memory per lead {at}, {how}"
        limit = f"<= {MEMORY_GOAL_BYTES} B"
        if memory is None:
            found.append(Verdict(name, "not available", limit, None))
        else:
            total = memory["total"]
            found.append(Verdict(name, f"{total:.0f} B", limit, total <= MEMORY_GOAL_BYTES))
    return found


def print_report(results: Sequence[Result], samples: int, calls: int) -> list[Verdict]:
    sizes = [result["size"] for result in results]
    print(
        f"pipekit workspace benchmark: {samples} batches of {calls:,} calls per row; every call"
        " in a batch\non a different lead, all on the same base workspace. Each size ran in a"
        " fresh process."
    )
    print()
    print("Built through Workspace(pipelines=..., main_pipeline_id=1, leads=[Lead(...), ...]):")
    for result in results:
        print(
            f"  {result['size']:>11,} leads: the Lead objects in {result['leads_seconds']:.2f} s,"
            f" Workspace(...) in {result['workspace_seconds']:.2f} s"
        )
    print()
    print_times(results)
    print()
    print_memory(results)
    print()
    found = verdicts(results)
    note = "" if sizes[-1] == GOAL_SIZE else f" (they are stated at {GOAL_SIZE:,} leads)"
    print(f"Goals of issue 3, judged at the largest size run{note}:")
    print()
    print(f"{'goal':44} {'measured':>14}  {'goal':>10}  verdict")
    print("-" * 80)
    for verdict in found:
        word = "-" if verdict.ok is None else "ok" if verdict.ok else "over"
        print(f"{verdict.goal:44} {verdict.measured:>14}  {verdict.limit:>10}  {word}")
    print("-" * 80)
    print(machine_line())
    return found


def print_times(results: Sequence[Result]) -> None:
    first, last = results[0], results[-1]
    ratio = len(results) > 1
    print(
        "Time per call in µs: the median of the batches, the fastest batch (min) and the"
        "\ninterquartile range (IQR) of the batches."
    )
    if ratio:
        print(f"ratio: the median at {last['size']:,} leads over the median at {first['size']:,}.")
    print()
    header = f"{'':30}"
    columns = f"{'':30}"
    for result in results:
        title = f"{result['size']:,} leads"
        header += f" {title:^23}"
        columns += f" {'median':>7} {'min':>7} {'IQR':>7}"
    if ratio:
        header += f" {'':>7}"
        columns += f" {'ratio':>7}"
    print(header)
    print(columns)
    rule = "-" * len(columns)
    for title, specs in (
        ("update: one lead replaced by a moved copy, keyed by id", UPDATES),
        ("lookup: one lead by id", LOOKUPS),
    ):
        print(rule)
        print(title)
        for spec in specs:
            if spec.key not in last["times"]:
                continue
            line = f"  {spec.label:28}"
            for result in results:
                samples = result["times"][spec.key]
                line += f" {median(samples):7.2f} {min(samples):7.2f} {iqr(samples):7.2f}"
            if ratio:
                line += (
                    f" {median(last['times'][spec.key]) / median(first['times'][spec.key]):7.2f}"
                )
            print(line)
    print(rule)
    loads = [
        f"{result['size']:,}: {result['load'][0]:.2f} to {result['load'][1]:.2f}"
        for result in results
        if result["load"] is not None
    ]
    if loads:
        print(
            f"1-minute load average while timing: {'; '.join(loads)}."
            "\nThis script alone makes about 1; more means other work shared the CPUs."
        )
    for package in last["skipped"]:
        print(f'{package} is not installed (pip install -e ".[bench]"): its rows are skipped.')
    harness = ", ".join(f"{median(result['times'][HARNESS]):.3f}" for result in results)
    print(
        f"The loop around each call costs {harness} µs a call (by size), included in every row."
        "\nPersistentIndex is pipekit's own index, the one inside the workspace; apply also checks"
        "\nthe rules, updates the per-stage indexes and makes the LeadMoved event."
    )


def print_memory(results: Sequence[Result]) -> None:
    print(
        "Memory per lead in bytes, the Lead objects themselves (their names, prices and ids)"
        "\nincluded: 'leads' once the Lead objects exist (the list holding them not counted),"
        "\n'index' what Workspace(...) adds (the id index and the per-stage indexes), 'total'"
        "\nonce the workspace holds them and the list is gone; 'peak' the most tracemalloc saw"
        "\nduring the build. RSS is the growth of the process's resident set; tracemalloc counts"
        "\nthe bytes of live Python objects, in a second build of the same workspace."
    )
    print()
    print(f"{'':13} {'RSS growth':^23}   {'tracemalloc, live bytes':^31}")
    print(
        f"{'leads':>13} {'leads':>7} {'index':>7} {'total':>7}"
        f"   {'leads':>7} {'index':>7} {'total':>7} {'peak':>7}"
    )
    rule = "-" * 72
    print(rule)
    for result in results:
        line = f"{result['size']:>13,}"
        for memory in (result["rss"], result["traced"]):
            if memory is None:
                line += f" {'n/a':>7} {'n/a':>7} {'n/a':>7}"
            else:
                leads, total = memory["leads"], memory["total"]
                line += f" {leads:7.0f} {total - leads:7.0f} {total:7.0f}"
            line += "  "
        print(f"{line.rstrip()} {result['traced_peak']:7.0f}")
    print(rule)


def machine_line() -> str:
    versions = []
    for package in ("pipekit", "immutables", "pyrsistent"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return (
        f"{', '.join(versions)}; {platform.python_implementation()} {platform.python_version()}"
        f" on {platform.platform()} ({platform.machine()}, {os.cpu_count()} CPUs)"
    )


# -- the command line ----------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time MoveLead and lead lookups in workspaces of 10,000 and 1,000,000 leads,"
        " beside a mutable dict and two persistent maps, and count memory per lead."
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=(10_000, GOAL_SIZE),
        help="workspace sizes in leads, comma-separated (default 10000,1000000)",
    )
    parser.add_argument(
        "--samples", type=_at_least(3), default=51, help="timed batches per row (default 51)"
    )
    parser.add_argument(
        "--calls", type=_at_least(1), default=2000, help="calls per batch (default 2000)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a goal of issue 3 is missed"
    )
    parser.add_argument("--worker", type=_at_least(1), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    samples: int = args.samples
    calls: int = args.calls
    if args.worker is not None:
        json.dump(run_size(args.worker, samples, calls), sys.stdout)
        return 0

    # One fresh process per size: neither size's heap changes the other's memory
    # figures or its timings.
    results: list[Result] = []
    for size in args.sizes:
        command = [sys.executable, os.path.abspath(__file__), "--worker", str(size)]
        command += ["--samples", str(samples), "--calls", str(calls)]
        finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        results.append(json.loads(finished.stdout))
    found = print_report(results, samples, calls)

    if args.check:
        missed = [verdict.goal for verdict in found if verdict.ok is False]
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
