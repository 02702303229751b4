"""Reading and writing pipekit values as JSON, safely from untrusted sources.

:func:`dump` turns a value into plain JSON types (``json.dumps`` needs no hooks):
a dict with its keys in sorted order, or for a :class:`~pipekit.Color` its
``"#rrggbb"`` string. Times are ISO 8601 strings with their offset. Commands and
events carry a ``"type"`` tag; a workspace document carries ``"schema":
"pipekit/1"``. An automation's ``delay`` is written as whole microseconds, its
action as an object tagged ``"MoveTo"`` or ``"HostAction"``.

:func:`load` is strict and total: for any JSON value at all it returns a valid
value, with every rule re-checked by the constructors, or raises
:class:`DecodeError` whose ``path`` is a JSON Pointer to the offending place.

>>> from pipekit import MoveLead, default_pipeline
>>> dump(MoveLead(lead_id=7, stage_id=145))
{'expected_version': None, 'lead_id': 7, 'pipeline_id': None, 'stage_id': 145, 'type': 'MoveLead'}
>>> load_command({"type": "CreateLead", "name": "ACME"})
CreateLead(name='ACME', price=0, pipeline_id=None, stage_id=None, incoming=False, lead_id=None)
>>> load(Color, "#ABC")
Color('#aabbcc')
>>> load_command({"type": "MoveLead", "lead_id": 7.0, "stage_id": 145})
Traceback (most recent call last):
    ...
pipekit.codec.DecodeError: at /lead_id: expected an integer, got a float
"""

from __future__ import annotations

import enum
import math
import reprlib
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import (
    Annotated,
    Any,
    ClassVar,
    Final,
    TypeAlias,
    TypeVar,
    Union,
    cast,
    get_type_hints,
)
from unicodedata import category

import attrs

from pipekit import commands as _commands
from pipekit import events as _events
from pipekit._checks import int_text
from pipekit.automation import (
    MAX_AUTOMATIONS,
    MAX_PARAMS_DEPTH,
    Automation,
    FrozenMapping,
    HostAction,
    MoveTo,
    Trigger,
)
from pipekit.bounds import SAFE_RANGE, Range, microseconds
from pipekit.color import Color
from pipekit.commands import Command
from pipekit.errors import InvalidPipeline, InvalidWorkspace, PipekitError
from pipekit.events import Event
from pipekit.lead import Lead, LossReason
from pipekit.pipeline import MAX_STAGES, Pipeline
from pipekit.scheduling import Schedule, Scheduled
from pipekit.stage import Stage, StageKind
from pipekit.workspace import MAX_PIPELINES, Workspace

__all__ = [
    "JSON",
    "SCHEMA",
    "DecodeError",
    "dump",
    "load",
    "load_command",
    "load_event",
]

JSON: TypeAlias = dict[str, Any] | list[Any] | str | int | bool | None
"""A value made of plain JSON types."""

SCHEMA: Final = "pipekit/1"
"""The schema version this pipekit writes, and the newest it reads."""

# Each older schema version maps to a function that upgrades a workspace document
# by one version. A pipekit that writes "pipekit/2" adds "pipekit/1" here, so
# documents stored before keep loading.
UPGRADES: Final[dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]]] = {}

_MAX_TIME_LENGTH: Final = 64
MAX_STRING_LENGTH: Final = 1000
"""The longest string a document may hold: room for any valid name and its padding."""

_T = TypeVar("_T")


class _Repr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        return int_text(x)  # repr() refuses an int of over 4300 digits


_REPR: Final = _Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 2, 40, 40


class DecodeError(PipekitError, ValueError):
    """A document is not a valid pipekit value; ``path`` points at the offending place."""

    code: ClassVar[str] = "decode_error"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"at {one_line(path) or '/'}: {reason}")


def one_line(text: str) -> str:
    """Return *text* with each control character and line break written as its escape.

    A pointer holds the document's own keys, which may hold a line break: a message
    that shows one stays on one line.
    """
    return "".join(repr(c)[1:-1] if category(c) in _BREAKING else c for c in text)


_BREAKING: Final = frozenset({"Cc", "Zl", "Zp"})


# -- the shape of each type ---------------------------------------------------------

Encoder: TypeAlias = Callable[[Any], Any]
Decoder: TypeAlias = Callable[[Any, str], Any]


def _shown(data: object) -> str:
    """Return a short repr of untrusted *data*, however deep or long it is."""
    return _REPR.repr(data)


# What JSON calls each type ``json.loads`` makes, bool before int (a bool is an int).
_TYPE_NAMES: Final = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def describe_json(data: object) -> str:
    """Return what JSON calls the type of *data*, for a message: ``"an integer"``."""
    if data is None:
        return "null"
    names = (name for kind, name in _TYPE_NAMES if isinstance(data, kind))
    return next(names, f"a {type(data).__name__} (not JSON)")


def _decode_int(data: Any, path: str) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise DecodeError(path, f"expected an integer, got {describe_json(data)}")
    return data


def _bounded_int(bounds: Range) -> Decoder:
    """Return the decoder of an integer that must lie in *bounds* (see :mod:`pipekit.bounds`)."""

    def decode(data: Any, path: str) -> int:
        value = _decode_int(data, path)
        if value not in bounds:
            raise DecodeError(
                path,
                f"expected an integer from {bounds.low} to {bounds.high}, got {int_text(value)}",
            )
        return value

    return decode


_decode_safe_int: Final = _bounded_int(SAFE_RANGE)
"""Any integer of a document that no narrower bound holds: a position, a number in params."""


def _decode_str(data: Any, path: str) -> str:
    if not isinstance(data, str):
        raise DecodeError(path, f"expected a string, got {describe_json(data)}")
    if len(data) > MAX_STRING_LENGTH:
        raise DecodeError(path, f"expected at most {MAX_STRING_LENGTH} characters, got {len(data)}")
    return data


def _decode_bool(data: Any, path: str) -> bool:
    if not isinstance(data, bool):
        raise DecodeError(path, f"expected a boolean, got {describe_json(data)}")
    return data


def _decode_time(data: Any, path: str) -> datetime:
    text = _decode_str(data, path)
    if len(text) > _MAX_TIME_LENGTH:
        raise DecodeError(path, "expected an ISO 8601 time, got a longer string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DecodeError(path, f"expected an ISO 8601 time, got {_shown(text)}") from None
    if moment.utcoffset() is None:
        raise DecodeError(path, f"expected a time with its UTC offset, got {_shown(text)}")
    return moment


def _decode_color(data: Any, path: str) -> Color:
    return _built(path, Color, _decode_str(data, path))


_E = TypeVar("_E", bound=enum.Enum)


def _enum(cls: type[_E]) -> tuple[Encoder, Decoder]:
    """Return the shape of an enum written as its value: ``StageKind``, ``Trigger``."""

    def decode(data: Any, path: str) -> _E:
        text = _decode_str(data, path)
        try:
            return cls(text)
        except ValueError:
            members = ", ".join(repr(member.value) for member in cls)
            raise DecodeError(path, f"expected one of {members}, got {_shown(text)}") from None

    return (lambda member: member.value), decode


def _bounded_duration(bounds: Range) -> Decoder:
    """Return the decoder of a duration in whole microseconds, which must lie in *bounds*."""
    decode_microseconds = _bounded_int(bounds)

    def decode(data: Any, path: str) -> timedelta:
        return timedelta(microseconds=decode_microseconds(data, path))

    return decode


def _encode_json(value: Any) -> Any:
    # A FrozenMapping nests at most MAX_PARAMS_DEPTH levels: the recursion is bounded.
    if isinstance(value, Mapping):  # sorted, as every object pipekit writes
        return {key: _encode_json(value[key]) for key in sorted(value)}
    if isinstance(value, str) or not isinstance(value, typing.Sequence):
        return value
    return [_encode_json(item) for item in value]


def _decode_json(data: Any, path: str, depth: int) -> Any:
    """Return *data*, any JSON value at most *depth* levels below the limit, checked."""
    if data is None or isinstance(data, bool | str):
        return data
    if isinstance(data, int):
        return _decode_safe_int(data, path)
    if isinstance(data, float):
        if not math.isfinite(data):
            raise DecodeError(path, f"expected a finite number, got {data!r}")
        return data
    if not isinstance(data, dict | list):
        raise DecodeError(path, f"expected a JSON value, got {describe_json(data)}")
    if depth > MAX_PARAMS_DEPTH:
        raise DecodeError(path, f"expected at most {MAX_PARAMS_DEPTH} levels of nesting")
    if isinstance(data, list):
        return [_decode_json(item, f"{path}/{index}", depth + 1) for index, item in enumerate(data)]
    return {
        key: _decode_json(item, f"{path}/{_escape(str(key))}", depth + 1)
        for key, item in data.items()
    }


def _decode_params(data: Any, path: str) -> FrozenMapping:
    if not isinstance(data, dict):
        raise DecodeError(path, f"expected an object, got {describe_json(data)}")
    return _built(path, FrozenMapping, _decode_json(data, path, 1))


def _tagged_union(classes: tuple[type, ...], lenient: bool) -> tuple[Encoder, Decoder]:
    """Return the shape of a union of records, each written with its ``"type"`` tag."""
    by_tag = {_TAGS[cls]: cls for cls in classes}

    def encode(value: Any) -> Any:
        return _encode_record(type(value), value)

    def decode(data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            raise DecodeError(path, f"expected an object, got {describe_json(data)}")
        tags = ", ".join(repr(name) for name in by_tag)
        if "type" not in data:
            raise DecodeError(path, f"missing the field 'type' (one of {tags})")
        tag = data["type"]
        if not isinstance(tag, str) or tag not in by_tag:
            raise DecodeError(f"{path}/type", f"expected one of {tags}, got {_shown(tag)}")
        return _decode_record(by_tag[tag], data, path, lenient=lenient)

    return encode, decode


def _built(path: str, build: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Call a constructor; turn the rule it finds broken into a DecodeError at *path*."""
    try:
        return build(*args, **kwargs)
    except (PipekitError, ValueError, TypeError) as error:
        raise DecodeError(path, str(error)) from None


def _optional(inner: tuple[Encoder, Decoder]) -> tuple[Encoder, Decoder]:
    encode, decode = inner

    def encode_optional(value: Any) -> Any:
        return None if value is None else encode(value)

    def decode_optional(data: Any, path: str) -> Any:
        return None if data is None else decode(data, path)

    return encode_optional, decode_optional


def _array(inner: tuple[Encoder, Decoder], limit: int | None = None) -> tuple[Encoder, Decoder]:
    encode, decode = inner

    def encode_array(values: Any) -> Any:
        return [encode(value) for value in values]

    def decode_array(data: Any, path: str) -> Any:
        if not isinstance(data, list):
            raise DecodeError(path, f"expected an array, got {describe_json(data)}")
        if limit is not None and len(data) > limit:
            raise DecodeError(path, f"expected at most {limit} items, got {len(data)}")
        return tuple(decode(item, f"{path}/{index}") for index, item in enumerate(data))

    return encode_array, decode_array


def _color_or_text(data: Any, path: str) -> str:
    # A command keeps the colour as it was given: apply checks it. Read it as text.
    return _decode_str(data, path)


def _same(value: Any) -> Any:
    return value


_SCALARS: Final[dict[Any, tuple[Encoder, Decoder]]] = {
    int: (_same, _decode_safe_int),
    str: (_same, _decode_str),
    bool: (_same, _decode_bool),
    datetime: (datetime.isoformat, _decode_time),
    Color: (lambda color: color.hex, _decode_color),
    StageKind: _enum(StageKind),
    Trigger: _enum(Trigger),
    timedelta: (microseconds, _bounded_duration(SAFE_RANGE)),
    FrozenMapping: (_encode_json, _decode_params),
}

MAX_ITEMS: Final[Mapping[type, int]] = {
    Stage: MAX_STAGES,
    Pipeline: MAX_PIPELINES,
    Automation: MAX_AUTOMATIONS * MAX_PIPELINES,
}
"""The most items an array of a document may hold, by the type of its items (R6, W3, D3)."""


def _shape_of(annotation: Any, lenient: bool) -> tuple[Encoder, Decoder]:
    """Return how to write and read a value of *annotation* (*lenient*: in a command)."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is Annotated:  # a number with its bounds (Id, Price, Delay...), or an Outcome
        base, extra = arguments
        if not isinstance(extra, Range):  # some members of an enum: the constructor checks
            return _shape_of(base, lenient)
        if base is timedelta:
            return microseconds, _bounded_duration(extra)
        return _same, _bounded_int(extra)
    if origin in (Union, types.UnionType):
        rest = [argument for argument in arguments if argument is not type(None)]
        if set(rest) == {Color, str}:
            inner: tuple[Encoder, Decoder] = (str, _color_or_text)
        elif len(rest) > 1:
            inner = _tagged_union(tuple(rest), lenient)
        else:
            (single,) = rest
            inner = _shape_of(single, lenient)
        return _optional(inner) if type(None) in arguments else inner
    if origin is tuple:
        return _array(_shape_of(arguments[0], lenient), MAX_ITEMS.get(arguments[0]))
    if origin is Mapping:  # Workspace.leads: written as an array of leads, by id
        encode, decode = _array(_shape_of(arguments[1], lenient))
        return (lambda leads: encode(sorted(leads.values(), key=lambda lead: lead.id)), decode)
    if annotation is Schedule:  # Workspace.scheduled: an array, by due time then id
        return _array(_record(Scheduled, lenient))
    return _record(annotation, lenient)


@attrs.frozen
class _Field:
    name: str
    encode: Encoder
    decode: Decoder
    required: bool
    has_default: bool


_FIELDS: Final[dict[tuple[type, bool], tuple[_Field, ...]]] = {}
_TAGS: Final[dict[type, str]] = {}

ADDED_LATER: Final[Mapping[type, frozenset[str]]] = {
    Pipeline: frozenset({"archived"}),
    Lead: frozenset({"version"}),
    Workspace: frozenset({"automations", "next_automation_id", "scheduled", "next_scheduled_id"}),
}
"""The fields added after the ``pipekit/1`` format was first written, by the class holding them.

pipekit writes every field, so a document it wrote holds them all, and reading is
strict: a workspace, event or value document that lacks a field is refused at
the object that lacks it, except for these fields, which documents written
before them lack; those read their defaults. A command document, written by
people, may leave out every field that has a default.
"""


def _fields(cls: type, lenient: bool = False) -> tuple[_Field, ...]:
    """Return the fields of *cls*'s documents, by name (*lenient*: as a command writes them)."""
    cached = _FIELDS.get((cls, lenient))
    if cached is not None:
        return cached
    hints = get_type_hints(cls, include_extras=True)
    added_later = ADDED_LATER.get(cls, frozenset())
    # A document names a field as its constructor does: Workspace's ``scheduled``
    # is kept in the private ``_schedule`` and read back through a property.
    fields = tuple(
        _Field(
            field.alias,
            *_shape_of(hints[field.name], lenient),
            required=field.default is attrs.NOTHING or not (lenient or field.alias in added_later),
            has_default=field.default is not attrs.NOTHING,
        )
        for field in sorted(attrs.fields(cls), key=lambda field: field.alias)
        if field.init
    )
    _FIELDS[cls, lenient] = fields
    return fields


def _record(cls: type, lenient: bool) -> tuple[Encoder, Decoder]:
    def encode(value: Any) -> Any:
        return _encode_record(cls, value)

    def decode(data: Any, path: str) -> Any:
        return _decode_record(cls, data, path, lenient=lenient)

    return encode, decode


def _encode_record(cls: type, value: Any) -> dict[str, Any]:
    return {key: encode(value) for key, encode in _layout(cls)}


_LAYOUTS: Final[dict[type, tuple[tuple[str, Encoder], ...]]] = {}


def _layout(cls: type) -> tuple[tuple[str, Encoder], ...]:
    """Return, in key order, each key of *cls*'s documents and how to write it."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        entries: list[tuple[str, Encoder]] = [
            (field.name, _getter(field.name, field.encode)) for field in _fields(cls)
        ]
        tag = _TAGS.get(cls)
        if tag is not None:
            entries.append(("type", _constant(tag)))
        if cls is Workspace:
            entries.append(("schema", _constant(SCHEMA)))
        layout = _LAYOUTS[cls] = tuple(sorted(entries, key=lambda entry: entry[0]))
    return layout


def _constant(text: str) -> Encoder:
    return lambda _value: text


def _getter(name: str, encode: Encoder) -> Encoder:
    return lambda value: encode(getattr(value, name))


def _decode_record(cls: type, data: Any, path: str, *, lenient: bool, top: bool = False) -> Any:
    if not isinstance(data, dict):
        raise DecodeError(path, f"expected an object, got {describe_json(data)}")
    fields = _fields(cls, lenient)
    known = {field.name for field in fields}
    tag = _TAGS.get(cls)
    for key in data:
        if key in known or (key == "type" and tag is not None):
            continue
        if key == "schema" and (top or cls is Workspace):
            continue
        raise DecodeError(f"{path}/{_escape(str(key))}", f"unknown field {_shown(key)}")
    values: dict[str, Any] = {}
    left_out: str | None = None
    for field in fields:
        if field.name in data:
            values[field.name] = field.decode(data[field.name], f"{path}/{field.name}")
        elif field.required and not field.has_default:
            raise DecodeError(path, f"missing the field {field.name!r}")
        elif field.required and left_out is None:
            left_out = field.name
    if left_out is not None:  # a field with a default, which this kind of document holds
        raise DecodeError(path, f"missing the field {left_out!r}")
    try:
        return cls(**values)
    except (PipekitError, ValueError, TypeError) as error:
        raise DecodeError(path + _pointer(error, values, data), str(error)) from None


# Errors that one field explains: the path points at that field.
_FIELD_OF_ERROR: Final = {
    "InvalidName": "name",
    "InvalidColor": "color",
    "InvalidPrice": "price",
    "InvalidDelay": "delay",
    "InvalidOutcome": "outcome",
}


def _pointer(error: Exception, values: dict[str, Any], data: dict[str, Any]) -> str:
    """Return the JSON Pointer, relative to a record, of the part *error* blames."""
    if isinstance(error, InvalidPipeline | InvalidWorkspace):
        steps = list(error.where)
        if len(steps) > 1 and steps[0] == "leads":  # leads are named by id: find its index
            indexes = [
                i for i, lead in enumerate(data.get("leads", ())) if _id_of(lead) == steps[1]
            ]
            steps[1] = indexes[-1] if indexes else steps[1]
        elif len(steps) > 1 and steps[0] == "scheduled":  # and so are scheduled actions
            indexes = [
                i for i, item in enumerate(data.get("scheduled", ())) if _id_of(item) == steps[1]
            ]
            steps[1] = indexes[-1] if indexes else steps[1]
        return "".join(f"/{_escape(str(step))}" for step in _present_steps(data, steps))
    # An id out of range never gets here: the codec reads every id within its bounds.
    culprit = _FIELD_OF_ERROR.get(type(error).__name__)
    return f"/{culprit}" if culprit in values else ""


def _present_steps(data: Any, steps: list[str | int]) -> list[str | int]:
    """Return the longest start of *steps* that leads to a place *data* holds.

    A rule may blame a field the document left out (a default broke it): the
    pointer then names the object that lacks it, never a place that is not there.
    """
    present: list[str | int] = []
    for step in steps:
        in_object = isinstance(data, dict) and step in data
        in_array = isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data)
        if not (in_object or in_array):
            break
        data = data[step]
        present.append(step)
    return present


def _id_of(lead: Any) -> Any:
    return lead.get("id") if isinstance(lead, dict) else None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


# -- the types the codec knows -------------------------------------------------------

_COMMANDS: Final[dict[str, type]] = {
    name: getattr(_commands, name) for name in _commands.__all__ if name != "Command"
}
_EVENTS: Final[dict[str, type]] = {
    name: getattr(_events, name) for name in _events.__all__ if name != "Event"
}
_COMMAND_CLASSES: Final = frozenset(_COMMANDS.values())
_TAGS.update({cls: name for name, cls in {**_COMMANDS, **_EVENTS}.items()})
_TAGS.update({MoveTo: "MoveTo", HostAction: "HostAction"})

_VALUES: Final[frozenset[type]] = frozenset(
    {
        Workspace,
        Pipeline,
        Stage,
        Lead,
        LossReason,
        Automation,
        MoveTo,
        HostAction,
        Scheduled,
        *_COMMANDS.values(),
        *_EVENTS.values(),
    }
)


def dump(value: Any) -> JSON:
    """Return *value* as plain JSON types: a dict with sorted keys, or a colour's string.

    Works for :class:`~pipekit.Workspace`, :class:`~pipekit.Pipeline`,
    :class:`~pipekit.Stage`, :class:`~pipekit.Color`, :class:`~pipekit.Lead`,
    :class:`~pipekit.LossReason`, :class:`~pipekit.Automation` and its actions,
    :class:`~pipekit.Scheduled`, every command and every event. Anything else
    raises :class:`TypeError`.
    """
    if isinstance(value, Color):
        return value.hex
    cls = type(value)
    if cls not in _VALUES:
        raise TypeError(f"pipekit cannot dump a {cls.__name__}")
    return _encode_record(cls, value)


def load(kind: type[_T], data: Any) -> _T:
    """Return the *kind* value that *data* describes, or raise :class:`DecodeError`.

    *kind* is a class: ``load(Workspace, data)``. A workspace document must carry
    ``"schema": "pipekit/1"`` (or an older version this pipekit can upgrade);
    other documents may, and it is checked when present.
    """
    if kind is Color:
        return cast(_T, _decode_color(data, ""))
    if kind not in _VALUES:
        raise TypeError(f"pipekit cannot load a {getattr(kind, '__name__', kind)!r}")
    if isinstance(data, dict):
        data = _upgraded(data, required=kind is Workspace)
    if kind in _TAGS and isinstance(data, dict) and data.get("type", _TAGS[kind]) != _TAGS[kind]:
        raise DecodeError("/type", f"expected {_TAGS[kind]!r}, got {_shown(data['type'])}")
    lenient = kind in _COMMAND_CLASSES  # people write commands by hand: defaults may be left out
    return cast(_T, _decode_record(kind, data, "", lenient=lenient, top=True))


def load_command(data: Any) -> Command:
    """Return the command *data* describes, chosen by its ``"type"`` tag."""
    return cast(Command, _load_tagged(data, _COMMANDS, "command"))


def load_event(data: Any) -> Event:
    """Return the event *data* describes, chosen by its ``"type"`` tag."""
    return cast(Event, _load_tagged(data, _EVENTS, "event"))


def _load_tagged(data: Any, classes: Mapping[str, type], what: str) -> Any:
    if not isinstance(data, dict):
        raise DecodeError("", f"expected an object, got {describe_json(data)}")
    if "type" not in data:
        raise DecodeError("", f"missing the field 'type' that names the {what}")
    tag = data["type"]
    if not isinstance(tag, str) or tag not in classes:
        raise DecodeError("/type", f"unknown {what} type {_shown(tag)}")
    return load(classes[tag], data)


def _upgraded(data: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """Return *data* upgraded to the current schema version, checking the version it names."""
    if "schema" not in data:
        if required:
            raise DecodeError("", f"missing the field 'schema' (expected {SCHEMA!r})")
        return data
    version = data["schema"]
    seen: set[object] = set()
    while version != SCHEMA:
        if not isinstance(version, str) or version not in UPGRADES or version in seen:
            raise DecodeError(
                "/schema",
                f"unknown schema version {_shown(version)}: this pipekit reads {SCHEMA!r}",
            )
        seen.add(version)
        version, upgrade = UPGRADES[version]
        data = {**upgrade(data), "schema": version}
    return data
