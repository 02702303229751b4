"""Count the machine instructions of the MoveLead rows of bench_automations.py, under callgrind.

Run from the root of a clone, with pipekit installed and valgrind on the PATH::

    python bench/count_moves.py [--leads 50000] [--calls 1000] [--chain]

Timings on a shared machine move by tens of percent from run to run; an
instruction count does not. This script builds the workspaces of
``bench_automations.py`` (the same layout, automations and one scheduled item
per lead, at a smaller size: valgrind runs Python about fifty times slower),
then counts, with ``valgrind --tool=callgrind``, the instructions that
``--calls`` moves of each row take: the reference (no automations, no items), the
move one automation matches, the move none matches, and the move that cancels
its lead's waiting item. The build runs with counting off.

Instructions are not time: a cold read from memory is one instruction and costs a
hundred, and a large workspace makes more reads cold. Read the counts to compare
two versions of pipekit, or the rows of one version, at one size; the goal of
issue 7 is judged in seconds by ``bench_automations.py --check``. The exit code is
0 whatever the counts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bench_automations import MOVED_AT, Lanes, build, move_rows

from pipekit import apply

ROWS: Final = ("reference", "match", "none", "cancel")
"""The rows of bench_automations.py counted here, in its names."""
LABELS: Final = {
    "reference": "no automations, no items",
    "match": "one matches: schedules 1",
    "none": "none matches",
    "cancel": "cancels its waiting item",
}
WARM_UP: Final = 50
"""Moves of each row made before counting, so that no row pays for first calls."""


def run_worker(leads: int, calls: int, chain: bool) -> None:
    """Build, then count each row between callgrind dumps named after it.

    With *chain*, each counted move works on the workspace the move before it made.
    """
    built = build(leads, [leads])
    _, commands = move_rows(built, Lanes(built, 2, calls))
    workspaces = {"reference": built.reference}
    workspaces.update(dict.fromkeys(("match", "none", "cancel"), built.full))
    pid = str(os.getpid())
    for row in ROWS:
        workspace = workspaces[row]
        warm, counted = commands[row]
        for command in warm[:WARM_UP]:
            apply(workspace, command, at=MOVED_AT)
        _control("--zero", pid)
        _control("--instr=on", pid)
        for command in counted:
            result = apply(workspace, command, at=MOVED_AT).workspace
            if chain:
                workspace = result
        _control("--instr=off", pid)
        _control(f"--dump={row}", pid)


def _control(option: str, pid: str) -> None:
    subprocess.run(["callgrind_control", option, pid], stdout=subprocess.DEVNULL, check=True)


def total(dump: Path) -> int:
    """Return the instructions a callgrind dump counted, as callgrind_annotate sums them."""
    report = subprocess.run(
        ["callgrind_annotate", str(dump)], stdout=subprocess.PIPE, text=True, check=True
    ).stdout
    line = next(line for line in report.splitlines() if "PROGRAM TOTALS" in line)
    return int(line.split()[0].replace(",", ""))


def trigger(dump: Path) -> str:
    """Return the name a dump was taken under (``--dump=NAME``)."""
    with dump.open() as lines:
        found = next(line for line in lines if line.startswith("desc: Trigger:"))
    return found.split()[-1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Count the instructions of bench_automations.py's MoveLead rows"
        " under callgrind."
    )
    parser.add_argument("--leads", type=int, default=50_000, help="leads and items (50000)")
    parser.add_argument("--calls", type=int, default=1000, help="moves counted per row (1000)")
    parser.add_argument(
        "--chain",
        action="store_true",
        help="make each counted move on the workspace the move before it made, as a host does",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.leads, args.calls, args.chain)
        return 0
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if shutil.which(tool) is None:
            print(f"count_moves.py needs {tool} on the PATH", file=sys.stderr)
            return 0
    print(f"building {args.leads:,} leads and items under valgrind, then counting", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        command += [f"--callgrind-out-file={out}", sys.executable, os.path.abspath(__file__)]
        command += ["--worker", "--leads", str(args.leads), "--calls", str(args.calls)]
        command += ["--chain"] if args.chain else []
        subprocess.run(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        counts = {trigger(dump): total(dump) for dump in Path(directory).glob("callgrind.out.*")}
    reference = counts["reference"] / args.calls
    print(f"\nMoveLead at {args.leads:,} leads and items: instructions per move,")
    chained = ", each on the workspace the move before made" if args.chain else ""
    print(f"{args.calls} moves a row{chained}; ratio = the row over the reference.\n")
    print(f"  {'row':<40}{'per move':>12}{'ratio':>8}")
    for row in ROWS:
        per_move = counts[row] / args.calls
        print(f"  {LABELS[row]:<40}{per_move:>12,.0f}{per_move / reference:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
