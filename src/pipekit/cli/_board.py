"""Draw one pipeline of a workspace as a board of columns, for a terminal.

Each stage is a column, in display order: its name, its colour (the hex code; with
*color*, the code painted on the colour itself) and id, its lead count and the
summed price of its leads, and with *leads* each lead's name, price and id.
Prices are whole minor units with no currency known, so they are printed as whole
numbers with a comma between thousands (``150,000``), never divided by 100.

Columns are as wide as their longest line and are laid out left to right in bands
of as many as fit in *width*; a wide pipeline wraps onto several bands, so a name
that fits in *width* is never cut. Only a line longer than the whole width is cut,
with "…". Widths are counted in terminal cells: East Asian wide characters take two,
combining marks and format characters none. A *width* below :data:`MIN_WIDTH` is
taken as :data:`MIN_WIDTH`.

>>> from pipekit import new_workspace
>>> print(render_board(new_workspace(), 1, width=80, color=False))
Pipeline 1: Pipeline (main)
<BLANKLINE>
Initial Contact  Offer Made      Negotiation     Closed - won    Closed - lost
#fffeb2 id 144   #fffd7f id 145  #fff000 id 146  #ccff66 id 142  #d5d8db id 143
0 leads          0 leads         0 leads         0 leads         0 leads
0                0               0               0               0

The same module words automations and their actions for a terminal, so that the
command line and the demo describe them alike:

>>> from datetime import datetime, timedelta, timezone
>>> from pipekit import AddAutomation, HostAction, Trigger, apply
>>> at = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
>>> welcome = HostAction("send_email", {"template": "welcome"})
>>> add = AddAutomation(1, (144,), Trigger.ENTERED, welcome, delay=timedelta(hours=1))
>>> workspace = apply(new_workspace(), add, at=at).workspace
>>> describe_automation(workspace, workspace.automation(1))
'automation 1 (entered): send_email {"template": "welcome"}; after 1 hour'
"""

from __future__ import annotations

import json
import unicodedata
from datetime import timedelta
from typing import Final, TypeAlias

from pipekit.automation import Action, Automation, MoveTo
from pipekit.codec import dump
from pipekit.color import Color
from pipekit.errors import UnknownPipeline, UnknownStage
from pipekit.pipeline import Pipeline
from pipekit.stage import Stage
from pipekit.workspace import StageTotal, Workspace

__all__ = [
    "MIN_WIDTH",
    "describe_action",
    "describe_automation",
    "describe_delay",
    "pipeline_title",
    "render_board",
]

MIN_WIDTH: Final = 20
"""The narrowest board drawn; a smaller *width* is taken as this."""

_GAP: Final = "  "
_RESET: Final = "\x1b[0m"
_BOLD: Final = "\x1b[1m"
_ELLIPSIS: Final = "…"

_SUMMARY_LINES: Final = 4
"""A column's name, swatch, lead count and total, above its leads."""

# A column line: the swatch that starts it (if any) and the text after it; a column:
# its width in cells and its lines.
_Line: TypeAlias = tuple[Color | None, str]
_Column: TypeAlias = tuple[int, list[_Line]]


def render_board(
    workspace: Workspace, pipeline_id: int, *, width: int, color: bool, leads: bool = False
) -> str:
    """Return the pipeline *pipeline_id* of *workspace* drawn as a board.

    No line is wider than *width* cells (at least :data:`MIN_WIDTH`) and none ends
    in a space; the text does not end with a newline. With *color*, the swatches
    use 24-bit ANSI escapes and the header is bold; without, the text holds no
    escape at all, and is what the coloured board shows once its escapes are
    stripped. An unknown *pipeline_id* raises :class:`~pipekit.UnknownPipeline`.
    """
    width = max(width, MIN_WIDTH)
    pipeline = workspace.pipeline(pipeline_id)
    header = _cut(pipeline_title(workspace, pipeline), width)
    lines = [f"{_BOLD}{header}{_RESET}" if color else header]
    columns = [
        _column(workspace, pipeline_id, stage, total, width, leads=leads)
        for stage, total in zip(pipeline.stages, workspace.stage_totals(pipeline_id), strict=True)
    ]
    for band in _bands(columns, width):
        lines.append("")
        lines.extend(_draw(band, color))
    return "\n".join(lines)


def pipeline_title(workspace: Workspace, pipeline: Pipeline) -> str:
    """Return the heading of *pipeline*: its id and name, and whether it is main or archived."""
    marks = []
    if pipeline.id == workspace.main_pipeline_id:
        marks.append("main")
    if pipeline.archived:
        marks.append("archived")
    title = f"Pipeline {pipeline.id}: {pipeline.name}"
    return f"{title} ({', '.join(marks)})" if marks else title


def describe_automation(workspace: Workspace, automation: Automation) -> str:
    """Return *automation* in one line: its id and trigger, its action, delay and conditions.

    The parts after the action are separated by "; ": the delay, the price
    condition if any, and "disabled" for an automation switched off. The stages
    it watches are left for the caller to say.
    """
    parts = [
        f"automation {automation.id} ({automation.trigger.value}):"
        f" {describe_action(workspace, automation.pipeline_id, automation.action)}",
        describe_delay(automation.delay),
    ]
    low, high = automation.min_price, automation.max_price
    if low is not None and high is not None:
        parts.append(f"price {low:,} to {high:,}")
    elif low is not None:
        parts.append(f"price at least {low:,}")
    elif high is not None:
        parts.append(f"price at most {high:,}")
    if not automation.enabled:
        parts.append("disabled")
    return "; ".join(parts)


def describe_action(workspace: Workspace, pipeline_id: int, action: Action) -> str:
    """Return what *action*, of an automation of the pipeline *pipeline_id*, does.

    A :class:`~pipekit.MoveTo` reads "move to <stage name>", with "in <pipeline
    name>" when it leaves *pipeline_id*; a target no longer in *workspace* (a
    scheduled item keeps the action as it was) is named by its ids. A
    :class:`~pipekit.HostAction` reads as its kind and its params as JSON, which
    are left out when empty.
    """
    if isinstance(action, MoveTo):
        target_pipeline = pipeline_id if action.pipeline_id is None else action.pipeline_id
        try:
            pipeline = workspace.pipeline(target_pipeline)
            stage = pipeline.stage(action.stage_id)
        except (UnknownPipeline, UnknownStage):
            elsewhere = "" if target_pipeline == pipeline_id else f" in pipeline {target_pipeline}"
            return f"move to stage {action.stage_id}{elsewhere} (gone)"
        elsewhere = "" if target_pipeline == pipeline_id else f" in {pipeline.name}"
        return f"move to {stage.name}{elsewhere}"
    if not action.params:
        return action.kind
    document = dump(action)
    assert isinstance(document, dict)  # an action is a JSON object, its params in it
    params = json.dumps(document["params"], sort_keys=True, ensure_ascii=False)
    return f"{action.kind} {params}"


def describe_delay(delay: timedelta) -> str:
    """Return *delay* as a person says it: "no delay", "after 2 days 3 hours", "after 1.5 seconds".

    Days, hours, minutes and seconds that are zero are left out; microseconds
    are a decimal fraction of the seconds.
    """
    if not delay:
        return "no delay"
    hours, rest = divmod(delay.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{number:,} {unit}{'' if number == 1 else 's'}"
        for number, unit in ((delay.days, "day"), (hours, "hour"), (minutes, "minute"))
        if number
    ]
    if delay.microseconds:
        parts.append(f"{seconds}.{delay.microseconds:06d}".rstrip("0") + " seconds")
    elif seconds:
        parts.append(f"{seconds} second{'' if seconds == 1 else 's'}")
    return "after " + " ".join(parts)


def _column(
    workspace: Workspace,
    pipeline_id: int,
    stage: Stage,
    total: StageTotal,
    width: int,
    *,
    leads: bool,
) -> _Column:
    """Return the column of *stage*: how wide it is, and its lines cut to *width* cells."""
    lines: list[_Line] = [
        (None, stage.name),
        (stage.color, f" id {stage.id}"),
        (None, f"{total.count} lead" if total.count == 1 else f"{total.count} leads"),
        (None, f"{total.total:,}"),
    ]
    if leads:
        for lead in workspace.leads_in(pipeline_id, stage.id):
            lines += [(None, lead.name), (None, f"  {lead.price:,} (id {lead.id})")]
    fitted = [
        (swatch, _cut(text, width - (0 if swatch is None else len(swatch.hex))))
        for swatch, text in lines
    ]
    column_width = max(_line_cells(line) for line in fitted)
    if leads:
        # A rule between the stage's summary and its leads, as wide as the column.
        fitted.insert(_SUMMARY_LINES, (None, "-" * column_width))
    return column_width, fitted


def _bands(columns: list[_Column], width: int) -> list[list[_Column]]:
    """Split *columns* into runs that fit side by side in *width* cells, in order."""
    bands: list[list[_Column]] = []
    used = 0  # cells taken in the last band, counting a gap after each column
    for column in columns:
        needed = column[0] + len(_GAP)
        if not bands or used + needed > width + len(_GAP):
            bands.append([])
            used = 0
        bands[-1].append(column)
        used += needed
    return bands


def _draw(band: list[_Column], color: bool) -> list[str]:
    """Return the text lines of one band of columns, side by side."""
    height = max(len(lines) for _width, lines in band)
    rows = []
    for row in range(height):
        pieces = []
        for column_width, lines in band:
            line = lines[row] if row < len(lines) else (None, "")
            padding = " " * (column_width - _line_cells(line))
            pieces.append(_paint(line, color) + padding)
        rows.append(_GAP.join(pieces).rstrip(" "))
    return rows


def _paint(line: _Line, color: bool) -> str:
    """Return *line* as text, its swatch painted when *color* is set."""
    swatch, text = line
    if swatch is None:
        return text
    if not color:
        return swatch.hex + text
    red, green, blue = (int(swatch.hex[index : index + 2], 16) for index in (1, 3, 5))
    # Black or white text on the swatch, whichever reads better (Rec. 601 luma).
    ink = "0;0;0" if 299 * red + 587 * green + 114 * blue >= 128_000 else "255;255;255"
    return f"\x1b[48;2;{red};{green};{blue}m\x1b[38;2;{ink}m{swatch.hex}{_RESET}{text}"


def _line_cells(line: _Line) -> int:
    """Return how many terminal cells *line* takes, its swatch included."""
    swatch, text = line
    return (0 if swatch is None else len(swatch.hex)) + _cells(text)


def _char_cells(char: str) -> int:
    """Return how many terminal cells *char* takes."""
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _cells(text: str) -> int:
    """Return how many terminal cells *text* takes."""
    return sum(_char_cells(char) for char in text)


def _cut(text: str, width: int) -> str:
    """Return *text* if it fits in *width* cells, else its start and "…" in *width* cells."""
    if _cells(text) <= width:
        return text
    # Keep characters while they and the "…" fit; *text* is wider, so this stops inside it.
    kept = used = 0
    while used + _char_cells(text[kept]) <= width - 1:
        used += _char_cells(text[kept])
        kept += 1
    return text[:kept] + _ELLIPSIS
