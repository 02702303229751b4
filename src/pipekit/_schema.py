"""JSON Schema (draft 2020-12) for pipekit's documents, made from the same types the codec reads.

The package ships the result as ``pipekit/schema/workspace.json``, ``command.json``
and ``event.json`` so that services in other languages can validate documents too;
a test checks the shipped files match what this module makes. To write them again
after a change: ``python -m pipekit._schema``.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Union, get_type_hints

import attrs

from pipekit import commands as _commands
from pipekit import events as _events
from pipekit.automation import FrozenMapping, HostAction, MoveTo, Trigger
from pipekit.bounds import SAFE_RANGE, Range
from pipekit.codec import ADDED_LATER, MAX_ITEMS, MAX_STRING_LENGTH, SCHEMA
from pipekit.color import Color
from pipekit.scheduling import Schedule, Scheduled
from pipekit.stage import StageKind
from pipekit.workspace import Workspace

__all__ = ["FILES", "render", "schemas", "write"]

FILES: Final = ("workspace", "command", "event")
_DIRECTORY: Final = Path(__file__).parent / "schema"
_DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"


def _bounded(bounds: Range) -> dict[str, Any]:
    """Return the schema of an integer in *bounds*: the codec's own check, as a schema says it."""
    return {"type": "integer", "minimum": bounds.low, "maximum": bounds.high}


_SCALARS: Final[dict[Any, dict[str, Any]]] = {
    int: _bounded(SAFE_RANGE),
    bool: {"type": "boolean"},
    str: {"type": "string", "maxLength": MAX_STRING_LENGTH},
    datetime: {"type": "string", "format": "date-time", "maxLength": 64},
    Color: {"type": "string", "pattern": "^#([0-9a-fA-F]{3}){1,2}$"},
    StageKind: {"enum": [kind.value for kind in StageKind]},
    Trigger: {"enum": [trigger.value for trigger in Trigger]},
    # A duration, in whole microseconds.
    timedelta: _bounded(SAFE_RANGE),
    # A host action's params: any JSON object (pipekit reads it up to 32 levels deep).
    FrozenMapping: {"type": "object"},
}
# Records written with a "type" tag inside other documents, not documents themselves.
_TAGGED_PARTS: Final[dict[type, str]] = {MoveTo: "MoveTo", HostAction: "HostAction"}


def _tagged() -> dict[type, str]:
    names = [name for name in _commands.__all__ if name != "Command"]
    tags = {getattr(_commands, name): name for name in names}
    tags.update({getattr(_events, name): name for name in _events.__all__ if name != "Event"})
    return tags


class _Builder:
    def __init__(self, *, lenient: bool) -> None:
        self.defs: dict[str, Any] = {}
        self.tags = _tagged()
        # As the codec reads them: a command document may leave out what has a default;
        # a workspace or event document only the fields added later (codec.ADDED_LATER).
        self.lenient = lenient

    def of(self, annotation: Any) -> dict[str, Any]:
        if annotation in _SCALARS:
            return dict(_SCALARS[annotation])
        origin = typing.get_origin(annotation)
        arguments = typing.get_args(annotation)
        if origin is Annotated:  # a number with its bounds (Id, Price, Delay...), or an Outcome
            extra = arguments[1]
            if isinstance(extra, Range):
                return _bounded(extra)
            return {"enum": [member.value for member in extra]}  # some members of an enum
        if origin in (Union, types.UnionType):
            rest = [argument for argument in arguments if argument is not type(None)]
            if set(rest) == {Color, str}:
                inner = self.of(str)
            elif len(rest) > 1:
                inner = {"oneOf": [self.of(argument) for argument in rest]}
            else:
                inner = self.of(rest[0])
            if type(None) in arguments:
                return {"anyOf": [inner, {"type": "null"}]}
            return inner
        if origin is tuple:
            array: dict[str, Any] = {"type": "array", "items": self.of(arguments[0])}
            if arguments[0] in MAX_ITEMS:
                array["maxItems"] = MAX_ITEMS[arguments[0]]
            return array
        if origin is Mapping:
            return {"type": "array", "items": self.of(arguments[1])}
        if annotation is Schedule:
            return {"type": "array", "items": self.record(Scheduled)}
        return self.record(annotation)

    def record(self, cls: type) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.defs:
            self.defs[name] = {}  # a placeholder while its fields are described
            hints = get_type_hints(cls, include_extras=True)
            properties: dict[str, Any] = {}
            required: list[str] = []
            added_later = ADDED_LATER.get(cls, frozenset())
            for field in attrs.fields(cls):
                if not field.init:
                    continue
                properties[field.alias] = self.of(hints[field.name])
                optional = self.lenient or field.alias in added_later
                if field.default is attrs.NOTHING or not optional:
                    required.append(field.alias)
            if cls in self.tags:
                properties["type"] = {"const": self.tags[cls]}
                required.insert(0, "type")
                # A command or event document may name its schema.
                properties["schema"] = {"const": SCHEMA}
            if cls in _TAGGED_PARTS:
                properties["type"] = {"const": _TAGGED_PARTS[cls]}
                required.insert(0, "type")
            if cls is Workspace:
                properties["schema"] = {"const": SCHEMA}
                required.insert(0, "schema")
            self.defs[name] = {
                "type": "object",
                "properties": dict(sorted(properties.items())),
                "required": required,
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{name}"}


def schemas() -> dict[str, dict[str, Any]]:
    """Return the three schemas, by file name (without ``.json``)."""
    made: dict[str, dict[str, Any]] = {}
    tagged = list(_tagged())
    workspace: list[type] = [Workspace]
    for file, title, roots in (
        ("workspace", "A pipekit workspace document", workspace),
        ("command", "A pipekit command", [c for c in tagged if c.__module__ == _commands.__name__]),
        ("event", "A pipekit event", [e for e in tagged if e.__module__ == _events.__name__]),
    ):
        builder = _Builder(lenient=file == "command")
        refs = [builder.record(root) for root in roots]
        top: dict[str, Any] = {"$schema": _DRAFT, "title": title}
        top.update(refs[0] if len(refs) == 1 else {"oneOf": refs})
        top["$defs"] = dict(sorted(builder.defs.items()))
        made[file] = top
    return made


def render(schema: dict[str, Any]) -> str:
    """Return *schema* as the text of its file."""
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def write(directory: Path = _DIRECTORY) -> None:
    """Write the three schema files into *directory*."""
    directory.mkdir(exist_ok=True)
    for file, schema in schemas().items():
        (directory / f"{file}.json").write_text(render(schema), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool, checked by the tests
    write()
