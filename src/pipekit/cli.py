"""The ``pipekit`` command line.

For now it has one job: show the pipeline a new account starts with.

>>> main([])  # doctest: +ELLIPSIS
Pipeline 1: Pipeline
  position  id   kind      colour   name
  1         144  open      #fffeb2  Initial Contact
...
0
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pipekit.editing import default_pipeline
from pipekit.pipeline import Pipeline

__all__ = ["main", "render"]


def render(pipeline: Pipeline) -> str:
    """Return *pipeline* as a table a person can read, one stage a line.

    >>> print(render(default_pipeline("Sales", incoming=True)))
    Pipeline 1: Sales
      position  id   kind      colour   name
      -         147  incoming  #c1c1c1  Incoming leads
      1         144  open      #fffeb2  Initial Contact
      2         145  open      #fffd7f  Offer Made
      3         146  open      #fff000  Negotiation
      -         142  won       #ccff66  Closed - won
      -         143  lost      #d5d8db  Closed - lost
    """
    first_open = pipeline.first_open_index
    open_count = len(pipeline.open_stages)
    rows = [("position", "id", "kind", "colour", "name")]
    for index, stage in enumerate(pipeline.stages):
        position = index - first_open
        shown = str(position + 1) if 0 <= position < open_count else "-"
        rows.append((shown, str(stage.id), stage.kind.value, stage.color.hex, stage.name))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [f"Pipeline {pipeline.id}: {pipeline.name}"]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  " + "  ".join([*cells, row[4]]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default: ``sys.argv[1:]``); return the exit code."""
    parser = argparse.ArgumentParser(
        prog="pipekit", description="Show the pipeline a new account starts with."
    )
    parser.add_argument(
        "--incoming", action="store_true", help="switch the incoming leads stage on"
    )
    arguments = parser.parse_args(argv)
    print(render(default_pipeline(incoming=arguments.incoming)))
    return 0
