"""The pipeline a person wants, written by hand as a small TOML file.

``pipekit plan FILE DESIRED`` reads DESIRED with :func:`desired_pipeline`, which
builds the :class:`~pipekit.Pipeline` it describes from the pipeline FILE holds;
:func:`pipekit.plan` then gives the commands that turn one into the other. Every
key but the stages is optional::

    name = "Sales"            # the pipeline's name (default: unchanged)
    incoming = true           # incoming leads on or off (default: unchanged)
    won = "Paid"              # the won stage's name (default: unchanged)
    lost = "Lost"             # the lost stage's name (default: unchanged)

    [[stages]]                # the open stages, in order: at least one
    name = "Initial Contact"
    color = "#fffeb2"         # optional, "#rrggbb" or "#rgb"

    [[stages]]
    name = "Demo"

The stages are matched to the current pipeline's open stages by name, compared
as R7 compares names (ignoring case and Unicode compatibility forms):

- a listed name that matches an open stage keeps that stage and its id: it is
  renamed to the spelling listed (when only case or width differ), recoloured
  when a ``color`` is given that differs, and moved to its place;
- a listed name that matches none is a new stage, with an id the pipeline has
  never held. Without a ``color`` it takes the colour :func:`~pipekit.add_stage`
  gives a stage added where the plan adds it (R8): the palette colour the fewest
  stages use, first in palette order;
- an open stage that is not listed is deleted.

``incoming = true`` keeps the current incoming leads stage, or switches on
Kommo's default one (``Incoming leads``, ``#c1c1c1``). The won and lost stages
keep their ids and their colours, which no command changes.

Bad input raises :class:`DesiredError` with the line at fault: a TOML syntax
error (or arrays and tables nested too deeply to read), an unknown key, a value
of the wrong type, an invalid or clashing name, an invalid colour, no stages, or
more stages than a pipeline holds (R6). More stages than fit are refused before
any stage is read, so a long file costs no more than reading it.

>>> from pipekit import default_pipeline
>>> current = default_pipeline("Sales")
>>> text = '''
... won = "Paid"
...
... [[stages]]
... name = "Negotiation"
...
... [[stages]]
... name = "initial contact"
...
... [[stages]]
... name = "Demo"
... '''
>>> desired = desired_pipeline(current, text)
>>> [stage.name for stage in desired.stages]
['Negotiation', 'initial contact', 'Demo', 'Paid', 'Closed - lost']
>>> [stage.id for stage in desired.stages]
[146, 144, 147, 142, 143]
>>> desired_pipeline(current, text.replace("Demo", "Paid"))
Traceback (most recent call last):
    ...
pipekit.cli._desired.DesiredError: line 11: stage 3 'Paid' clashes with the won stage 'Paid' \
(names are compared ignoring case and Unicode compatibility forms)
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections.abc import Callable
from datetime import date, time
from itertools import count
from typing import ClassVar, Final, TypeAlias, TypeVar

import attrs

from pipekit._checks import require_type
from pipekit.codec import describe_json
from pipekit.color import Color
from pipekit.errors import InvalidColor, InvalidName, PipekitError
from pipekit.names import clean_name, name_key
from pipekit.pipeline import MAX_STAGES, Pipeline, add_stage, delete_stage, enable_incoming
from pipekit.stage import Stage, StageKind

__all__ = ["DesiredError", "desired_pipeline"]

_T = TypeVar("_T")

_KEYS: Final = ("name", "incoming", "won", "lost", "stages")
_STAGE_KEYS: Final = ("name", "color")
_INCOMING_NAME: Final = "Incoming leads"
_TEMPORARY: Final = "pipekit temporary stage"
_COMPARED: Final = "names are compared ignoring case and Unicode compatibility forms"


class DesiredError(PipekitError, ValueError):
    """A desired-pipeline TOML file is not valid; ``line`` says where, ``reason`` what.

    ``line`` counts from 1; it is ``None`` when no line is at fault (a file that
    lists no stages at all, or nests arrays or tables too deeply to say where).

    >>> error = DesiredError(7, "at least one stage must be listed")
    >>> error.code, error.line, str(error)
    ('invalid_desired', 7, 'line 7: at least one stage must be listed')
    """

    code: ClassVar[str] = "invalid_desired"

    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(reason if line is None else f"line {line}: {reason}")


def desired_pipeline(current: Pipeline, text: str) -> Pipeline:
    """Return the pipeline that the TOML *text* describes, starting from *current*.

    The format, and how stages are matched, are described in this module's
    docstring. Raises :class:`DesiredError` for any *text* that does not describe a
    valid pipeline; arguments of the wrong type raise :class:`TypeError`.
    """
    require_type(current, Pipeline, "current")
    require_type(text, str, "text")
    data = _parse(text)
    lines = _Lines(text)
    for key in data:
        if key not in _KEYS:
            expected = ", ".join(map(repr, _KEYS))
            raise DesiredError(lines.top(key), f"unknown key {key!r}: expected one of {expected}")
    name = _name(data, "name", lines.top, current.name)
    won = _name(data, "won", lines.top, current.won.name)
    lost = _name(data, "lost", lines.top, current.lost.name)
    switch = _typed(data, "incoming", bool, "a boolean", lines.top)
    incoming = current.incoming is not None if switch is None else switch
    stages = _stages(data, lines, MAX_STAGES - 2 - incoming)

    held = [_Named(stage.name, f"stage {at + 1}", stage.line) for at, stage in enumerate(stages)]
    if incoming and current.incoming is None:
        held.insert(0, _Named(_INCOMING_NAME, "the incoming leads stage", lines.top("incoming")))
    elif incoming and current.incoming is not None:
        held.insert(0, _Named(current.incoming.name, "the incoming leads stage", None))
    held.append(_Named(won, "the won stage", lines.top("won") if "won" in data else None))
    held.append(_Named(lost, "the lost stage", lines.top("lost") if "lost" in data else None))
    _check_unique(held)
    return _built(
        current,
        name,
        stages,
        won=attrs.evolve(current.won, name=won),
        lost=attrs.evolve(current.lost, name=lost),
        incoming=incoming,
        taken={name_key(named.name) for named in held},
    )


# -- reading the TOML ------------------------------------------------------------------


@attrs.frozen
class _StageSpec:
    """One ``[[stages]]`` table, checked: its name, its colour if given, its name's line."""

    name: str
    color: Color | None
    line: int | None


@attrs.frozen
class _Named:
    """A name the desired pipeline holds: which stage holds it, and the line giving it."""

    name: str
    holder: str
    line: int | None


_LineOf: TypeAlias = Callable[[str], int | None]
"""Returns the line of a key, for an error message."""

_AT_LINE: Final = re.compile(r" \(at line (\d+), column (\d+)\)$")
_AT_END: Final = " (at end of document)"

_MAX_KEY_PARTS: Final = 16
"""The most parts a dotted key (``a.b.c = 1``) may have.

tomllib's time grows with the square of a dotted key's parts (one key of 64,000
parts, 128 KB, takes minutes), and this file needs no dotted key at all."""

_BARE: Final = r"[A-Za-z0-9_-]++"
_BASIC: Final = r'"(?:[^"\\\n]|\\.)*+"'
_LITERAL: Final = r"'[^'\n]*+'"
_PART: Final = rf"(?:{_BARE}|{_BASIC}|{_LITERAL})"
_LEXEME: Final = re.compile(
    # A dotted key of too many parts; else a string or a comment, skipped whole so
    # that the dots inside them are not taken for a key's.
    rf"(?<![A-Za-z0-9_-])(?P<key>{_PART}(?:[ \t]*+\.[ \t]*+{_PART}){{{_MAX_KEY_PARTS},}})"
    r'|"""(?:[^"\\]|\\[\s\S]|""?(?!"))*+"{3,5}'
    r"|'''(?:[^']|''?(?!'))*+'{3,5}"
    rf"|{_BASIC}|{_LITERAL}|#[^\n]*+"
)


def _parse(text: str) -> dict[str, object]:
    """Return the TOML *text* parsed, or raise :class:`DesiredError` with tomllib's line."""
    for lexeme in _LEXEME.finditer(text):
        if lexeme["key"] is not None:
            raise DesiredError(
                text.count("\n", 0, lexeme.start()) + 1,
                f"a dotted key of more than {_MAX_KEY_PARTS} parts: this file needs no dotted keys",
            )
    try:
        return tomllib.loads(text)
    except RecursionError:
        # tomllib reads nested arrays and inline tables by recursion.
        raise DesiredError(None, "invalid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = _AT_LINE.search(message)
        line: int | None
        if found is not None:
            line, reason = int(found[1]), f"{message[: found.start()]} (column {found[2]})"
        else:  # tomllib ends every other message with where the document ended
            line = len(text.rstrip().split("\n"))
            reason = f"{message.removesuffix(_AT_END)} (at the end of the file)"
        raise DesiredError(line, f"invalid TOML: {reason}") from None


def _describe(value: object) -> str:
    """Return what TOML calls the type of *value*: JSON's name, but for tables and times."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, date | time):  # a datetime is a date
        return "a date or time"
    return describe_json(value)


def _typed(
    table: dict[str, object], key: str, kind: type[_T], what: str, line_of: _LineOf
) -> _T | None:
    """Return ``table[key]`` when it is a *kind*, ``None`` when it is absent, else raise."""
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, kind):
        raise DesiredError(line_of(key), f"{key!r} must be {what}, got {_describe(value)}")
    return value


def _name(table: dict[str, object], key: str, line_of: _LineOf, default: str) -> str:
    """Return the valid name ``table[key]``, stripped, or *default* when it is absent."""
    value = _typed(table, key, str, "a string", line_of)
    if value is None:
        return default
    try:
        return clean_name(value)
    except InvalidName as error:
        raise DesiredError(line_of(key), str(error)) from None


def _stages(data: dict[str, object], lines: _Lines, limit: int) -> list[_StageSpec]:
    """Return the ``[[stages]]`` tables of *data*, at most *limit*, each checked."""
    if "stages" not in data:
        raise DesiredError(None, "no stages are listed: add a [[stages]] table for each open stage")
    tables = _typed(data, "stages", list, "an array of tables ([[stages]])", lines.top)
    if not tables:
        raise DesiredError(lines.top("stages"), "at least one stage must be listed")
    if len(tables) > limit:
        # Before any stage is checked: the count alone is the answer.
        raise DesiredError(
            lines.stage(limit),
            f"too many stages: {len(tables)} are listed, but at most {limit} open stages fit"
            f" (a pipeline holds at most {MAX_STAGES} stages, system stages included)",
        )
    return [_stage(table, at, lines) for at, table in enumerate(tables)]


def _stage(table: object, at: int, lines: _Lines) -> _StageSpec:
    """Return the stage *table*, the one at index *at* of the file, checked."""
    if not isinstance(table, dict):
        raise DesiredError(
            lines.stage(at), f"stage {at + 1} must be a table with a name, got {_describe(table)}"
        )

    def line_of(key: str) -> int | None:
        return lines.stage_key(at, key)

    for key in table:
        if key not in _STAGE_KEYS:
            raise DesiredError(
                line_of(key), f"unknown key {key!r} in a stage: expected 'name' or 'color'"
            )
    if "name" not in table:
        raise DesiredError(lines.stage(at), f"stage {at + 1} has no name")
    name = _name(table, "name", line_of, "")
    text = _typed(table, "color", str, 'a string such as "#fffeb2"', line_of)
    try:
        color = None if text is None else Color(text)
    except InvalidColor as error:
        raise DesiredError(line_of("color"), str(error)) from None
    return _StageSpec(name, color, line_of("name"))


def _check_unique(held: list[_Named]) -> None:
    """Raise :class:`DesiredError` if two names in *held* clash (R7)."""
    seen: dict[str, _Named] = {}
    for named in held:
        first = seen.setdefault(name_key(named.name), named)
        if first is not named:
            # Blame the name given last in the file: the other may not be in it at all.
            blamed, other = (
                (first, named) if (first.line or 0) > (named.line or 0) else (named, first)
            )
            raise DesiredError(
                blamed.line,
                f"{blamed.holder} {blamed.name!r} clashes with {other.holder} {other.name!r}"
                f" ({_COMPARED})",
            )


class _Lines:
    """Finds the line of a key in the TOML text, by a scan good for hand-written files.

    tomllib gives values but no lines; an error message needs the line to fix.
    """

    def __init__(self, text: str) -> None:
        self._lines = text.split("\n")
        self._headers = [at for at, line in enumerate(self._lines) if _HEADER.match(line)]
        self._stages = [at for at in self._headers if _STAGES_HEADER.match(self._lines[at])]

    def top(self, key: str) -> int | None:
        """Return the line that sets the top-level *key*: ``key = ...`` or a ``[key]`` table."""
        end = self._headers[0] if self._headers else len(self._lines)
        found = self._find(_assigns(key), 0, end)
        return self._find(_opens(key), 0, len(self._lines)) if found is None else found

    def stage(self, at: int) -> int | None:
        """Return the line of the stage at index *at*: its ``[[stages]]`` header."""
        if at < len(self._stages):
            return self._stages[at] + 1
        return self.top("stages")  # stages = [{...}, ...], in one array

    def stage_key(self, at: int, key: str) -> int | None:
        """Return the line that sets *key* in the stage at index *at*, else the stage's."""
        if at >= len(self._stages):
            return self.stage(at)
        start = self._stages[at]
        after = bisect_right(self._headers, start)
        end = self._headers[after] if after < len(self._headers) else len(self._lines)
        found = self._find(_assigns(key), start + 1, end)
        return start + 1 if found is None else found

    def _find(self, pattern: re.Pattern[str], start: int, end: int) -> int | None:
        return next((at + 1 for at in range(start, end) if pattern.match(self._lines[at])), None)


_HEADER: Final = re.compile(r"\s*\[\[?[^\[\]]+\]\]?\s*(?:#.*)?$")
_STAGES_HEADER: Final = re.compile(r"""\s*\[\[\s*(?:stages|"stages"|'stages')\s*\]\]""")


def _spelled(key: str) -> str:
    """Return a pattern for *key* as TOML spells it: bare, or in either kind of quotes."""
    escaped = re.escape(key)
    return f"""(?:{escaped}|"{escaped}"|'{escaped}')"""


def _assigns(key: str) -> re.Pattern[str]:
    """Return a pattern for a line that sets *key*: ``key = ...`` or ``key.sub = ...``."""
    return re.compile(rf"\s*{_spelled(key)}\s*[=.]")


def _opens(key: str) -> re.Pattern[str]:
    """Return a pattern for a header that opens the table *key*: ``[key]``, ``[[key]]``."""
    return re.compile(rf"\s*\[\[?\s*{_spelled(key)}\s*[\].]")


# -- building the pipeline ---------------------------------------------------------------


def _built(
    current: Pipeline,
    name: str,
    stages: list[_StageSpec],
    *,
    won: Stage,
    lost: Stage,
    incoming: bool,
    taken: set[str],
) -> Pipeline:
    """Return the pipeline with *stages* open, matched to *current*'s by name.

    The names are known to be valid and unique, and the stages to fit. The kept
    stages come first, then the new ones are added in order with
    :func:`~pipekit.add_stage`, as the plan adds them, so that a stage without a
    colour gets the one ``add_stage`` would give it there.
    """
    opens = {name_key(stage.name): stage for stage in current.open_stages}
    kept = [
        Stage(
            stage.id,
            spec.name,
            stage.color if spec.color is None else spec.color,
            StageKind.OPEN,
        )
        for spec in stages
        if (stage := opens.get(name_key(spec.name))) is not None
    ]
    # With no stage kept, the plan keeps current's first open stage until the first
    # new one is added (R3); it stands in here too, under a name no stage wants.
    first = current.open_stages[0]
    stand_in = None if kept else Stage(first.id, _free_name(taken), first.color, StageKind.OPEN)
    pipeline = Pipeline(
        id=current.id,
        name=name,
        stages=(
            *(() if current.incoming is None or not incoming else (current.incoming,)),
            *kept,
            *(() if stand_in is None else (stand_in,)),
            won,
            lost,
        ),
        next_stage_id=current.next_stage_id,
        archived=current.archived,
    )
    for position, spec in enumerate(stages):
        if name_key(spec.name) in opens:
            continue
        pipeline = add_stage(pipeline, spec.name, position=position, color=spec.color)
        if stand_in is not None:
            pipeline = delete_stage(pipeline, stand_in.id)
            stand_in = None
    return enable_incoming(pipeline) if incoming else pipeline


def _free_name(taken: set[str]) -> str:
    """Return a name whose key is not in *taken*."""
    return next(
        name
        for name in (f"{_TEMPORARY} {number}" for number in count(1))
        if name_key(name) not in taken
    )
