"""The JSON Schema files: valid, self-contained, in step with the code, and true to the codec.

The package ships ``pipekit/schema/workspace.json``, ``command.json`` and
``event.json`` (draft 2020-12) so that services in other languages can validate
pipekit's documents. These tests hold the files to what the codec writes and reads.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any, Final, TypeAlias

import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev environment
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import _from_schema, from_schema

from pipekit import Workspace
from pipekit._schema import FILES, render, schemas, write
from pipekit.bounds import (
    DELAY_RANGE,
    ID_RANGE,
    NEXT_ID_RANGE,
    PRICE_RANGE,
    REVISION_RANGE,
    SAFE_RANGE,
    Range,
)
from pipekit.codec import DecodeError, dump, load, load_command, load_event
from tests.profiles import COSTLY, EXPENSIVE, MODERATE, scaled
from tests.strategies import pipelines
from tests.test_codec import (
    COMMAND_CLASSES,
    EVENT_CLASSES,
    History,
    commands,
    damaged,
    events,
    histories,
    leads,
    loss_reasons,
    stages,
)

NAMES: Final = ("workspace", "command", "event")
DRAFT_2020_12: Final = "https://json-schema.org/draft/2020-12/schema"
LOADERS: Final[dict[str, Callable[[Any], Any]]] = {
    "workspace": lambda data: load(Workspace, data),
    "command": load_command,
    "event": load_event,
}


def shipped_text(name: str) -> str:
    """The text of the schema file *name* as the installed package holds it."""
    return (files("pipekit") / "schema" / f"{name}.json").read_text(encoding="utf-8")


@functools.cache
def shipped(name: str) -> dict[str, Any]:
    """The schema file *name*, parsed (shared: do not change it)."""
    schema = json.loads(shipped_text(name))
    assert isinstance(schema, dict)
    return schema


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """A draft 2020-12 validator for the shipped schema *name*."""
    return jsonschema.Draft202012Validator(shipped(name))


@functools.cache
def validator_of(name: str, definition: str) -> jsonschema.Draft202012Validator:
    """A validator for one definition of the shipped schema *name*."""
    schema = shipped(name)
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    )


def refs(schema: Any) -> Iterator[str]:
    """Every ``$ref`` in *schema*, at any depth."""
    pending = [schema]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if "$ref" in value:
                yield value["$ref"]
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def objects_of(schema: Any) -> Iterator[dict[str, Any]]:
    """Every object of *schema*, at any depth."""
    pending = [schema]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            yield value
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def root_definitions(schema: dict[str, Any]) -> set[str]:
    """The names of the definitions a document may be: the ``$ref`` or ``oneOf`` at the top."""
    tops = schema.get("oneOf", [schema])
    return {top["$ref"].removeprefix("#/$defs/") for top in tops}


# -- the shipped files ---------------------------------------------------------------------


class TestShippedFiles:
    def test_are_the_three_files(self) -> None:
        assert set(FILES) == set(NAMES)
        assert set(schemas()) == set(NAMES)
        shipped_names = {
            entry.name for entry in (files("pipekit") / "schema").iterdir() if entry.is_file()
        }
        assert {f"{name}.json" for name in NAMES} <= shipped_names

    @pytest.mark.parametrize("name", NAMES)
    def test_is_a_valid_draft_2020_12_schema(self, name: str) -> None:
        schema = shipped(name)
        assert schema["$schema"] == DRAFT_2020_12
        jsonschema.Draft202012Validator.check_schema(schema)
        assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator

    @pytest.mark.parametrize("name", NAMES)
    def test_is_self_contained(self, name: str) -> None:
        schema = shipped(name)
        found = list(refs(schema))
        assert found
        for ref in found:
            assert ref.startswith("#/$defs/"), ref
            assert ref.removeprefix("#/$defs/") in schema["$defs"], ref
        assert "$id" not in json.dumps(schema)  # nothing resolved against a base URI

    @pytest.mark.parametrize("name", NAMES)
    def test_matches_what_the_code_makes(self, name: str) -> None:
        # The files are generated: a change to a class without regenerating fails here.
        assert shipped_text(name) == render(schemas()[name])

    def test_write_writes_the_same_files(self, tmp_path: Path) -> None:
        directory = tmp_path / "schema"
        write(directory)
        assert sorted(path.name for path in directory.iterdir()) == [
            "command.json",
            "event.json",
            "workspace.json",
        ]
        for name in NAMES:
            assert (directory / f"{name}.json").read_text(encoding="utf-8") == shipped_text(name)
        write(directory)  # again, over the files it wrote
        assert (directory / "event.json").read_text(encoding="utf-8") == shipped_text("event")

    def test_the_command_schema_is_one_of_every_command(self) -> None:
        schema = shipped("command")
        assert root_definitions(schema) == {cls.__name__ for cls in COMMAND_CLASSES}
        for cls in COMMAND_CLASSES:
            definition = schema["$defs"][cls.__name__]
            assert definition["properties"]["type"] == {"const": cls.__name__}
            assert "type" in definition["required"]
            assert definition["properties"]["schema"] == {"const": "pipekit/1"}
            assert "schema" not in definition["required"]
            assert definition["additionalProperties"] is False

    def test_the_event_schema_is_one_of_every_event(self) -> None:
        schema = shipped("event")
        assert root_definitions(schema) == {cls.__name__ for cls in EVENT_CLASSES}
        for cls in EVENT_CLASSES:
            definition = schema["$defs"][cls.__name__]
            assert definition["properties"]["type"] == {"const": cls.__name__}
            assert "type" in definition["required"]
        # A value inside an event is not a document: it names no schema.
        assert "schema" not in schema["$defs"]["Lead"]["properties"]

    def test_the_workspace_schema_requires_its_version(self) -> None:
        schema = shipped("workspace")
        assert root_definitions(schema) == {"Workspace"}
        workspace = schema["$defs"]["Workspace"]
        assert workspace["properties"]["schema"] == {"const": "pipekit/1"}
        assert "schema" in workspace["required"]

    @pytest.mark.parametrize("name", NAMES)
    def test_every_object_refuses_unknown_fields(self, name: str) -> None:
        for definition in shipped(name)["$defs"].values():
            assert definition["type"] == "object"
            assert definition["additionalProperties"] is False


# -- every dump validates ------------------------------------------------------------------


class TestDumpsValidate:
    # EXPENSIVE has no deadline: this test's time goes to jsonschema, which tries each event
    # against every event definition of the schema's oneOf (about 2 ms an event, up to some
    # forty events a history). Under Hypothesis' default 200 ms deadline a long history on a
    # busy machine failed about one run in ten with DeadlineExceeded, although 5,000
    # histories validate. The deadline measured the validator and the machine, not pipekit.
    @EXPENSIVE
    @given(histories())
    def test_a_workspace_and_the_events_that_made_it(self, history: History) -> None:
        validator("workspace").validate(dump(history.workspace))
        for event in history.events:
            validator("event").validate(dump(event))

    @MODERATE
    @given(commands())
    def test_a_command(self, command: Any) -> None:
        validator("command").validate(dump(command))

    @MODERATE
    @given(
        st.one_of(
            pipelines().map(lambda value: ("Pipeline", value)),
            stages().map(lambda value: ("Stage", value)),
            leads().map(lambda value: ("Lead", value)),
            loss_reasons().map(lambda value: ("LossReason", value)),
        )
    )
    def test_a_value_against_its_definition(self, named: tuple[str, Any]) -> None:
        definition, value = named
        for name in NAMES:
            if definition in shipped(name)["$defs"]:
                validator_of(name, definition).validate(dump(value))

    def test_the_schema_refuses_documents_of_the_wrong_shape(self) -> None:
        # A few documents the schema alone can tell are wrong.
        check = validator("command")
        assert check.is_valid({"type": "CreateLead", "name": "ACME"})
        assert not check.is_valid({"type": "CreateLead"})
        assert not check.is_valid({"type": "CreateLead", "name": "ACME", "colour": 1})
        assert not check.is_valid({"type": "CreateLead", "name": "ACME", "schema": "pipekit/2"})
        assert not check.is_valid({"type": "WinLead", "lead_id": True})
        assert not check.is_valid({"type": "Teleport"})
        assert not validator("workspace").is_valid({"pipelines": [], "main_pipeline_id": 1})


class TestSchemaAdmitsWhatTheCodecLoads:
    """A service that validates with the schema never refuses a document pipekit reads."""

    @COSTLY
    @given(damaged(histories(max_steps=8).map(lambda history: dump(history.workspace))))
    def test_workspace(self, data: Any) -> None:
        self._check("workspace", data)

    @MODERATE
    @given(damaged(commands().map(dump)))
    def test_command(self, data: Any) -> None:
        self._check("command", data)

    @COSTLY
    @given(damaged(events(max_steps=8).map(dump)))
    def test_event(self, data: Any) -> None:
        self._check("event", data)

    def _check(self, name: str, data: Any) -> None:
        try:
            LOADERS[name](data)
        except DecodeError:
            return
        validator(name).validate(data)


# -- documents generated from the schema ---------------------------------------------------


class _Many:
    """hypothesis-jsonschema 0.23's view of ``hypothesis...utils.many``, over the newer one.

    Hypothesis 6.15x replaced ``many.more()`` by iteration inside a ``with`` block;
    hypothesis-jsonschema 0.23.1 (the latest) still calls ``more()`` for every
    object schema and fails with ``AttributeError``. This adapter drives the new
    object the way the old loop did. It is used only when ``more`` is missing.
    """

    def __init__(self, data: Any, **sizes: Any) -> None:
        self._many = conjecture_utils.many(data, **sizes)
        self._many.__enter__()
        self._elements = iter(self._many)

    def more(self) -> bool:
        for _ in self._elements:
            return True
        self._many.__exit__(None, None, None)
        return False

    def reject(self) -> None:
        self._many.reject()


class _ConjectureUtils:
    many = _Many

    def __getattr__(self, name: str) -> Any:
        return getattr(conjecture_utils, name)


@pytest.fixture(scope="module")
def schema_strategies() -> Iterator[None]:
    """Let ``from_schema`` build objects with the installed Hypothesis."""
    if hasattr(conjecture_utils.many, "more"):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_from_schema, "cu", _ConjectureUtils())
        yield


_GENERATED: Final = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@pytest.mark.deep(reason="building a strategy from a schema takes 5 to 10 s")
@pytest.mark.usefixtures("schema_strategies")
class TestDocumentsFromTheSchema:
    """What hypothesis-jsonschema makes from each schema loads, or is refused: nothing else."""

    @_GENERATED
    @given(st.deferred(lambda: from_schema(shipped("workspace"))))
    def test_workspace(self, data: Any) -> None:
        self._check("workspace", data)

    @_GENERATED
    @given(st.deferred(lambda: from_schema(shipped("command"))))
    def test_command(self, data: Any) -> None:
        self._check("command", data)

    @_GENERATED
    @given(st.deferred(lambda: from_schema(shipped("event"))))
    def test_event(self, data: Any) -> None:
        self._check("event", data)

    def _check(self, name: str, data: Any) -> None:
        validator(name).validate(data)  # the generator keeps to the schema
        try:
            value = LOADERS[name](data)
        except DecodeError:
            return
        # What loads is a value like any other: its dump validates and reads back the same.
        validator(name).validate(dump(value))
        assert load(type(value), dump(value)) == value


class TestRenameTerminalOutcome:
    def test_the_command_schema_allows_won_and_lost_only(self) -> None:
        check = validator("command")
        for outcome, valid in [("won", True), ("lost", True), ("open", False), ("incoming", False)]:
            document = {"type": "RenameTerminal", "pipeline_id": 1, "outcome": outcome, "name": "x"}
            assert check.is_valid(document) is valid


# -- the bounds of numbers: the schemas and the codec agree ------------------------------------

Place: TypeAlias = tuple[str | int, ...]
BOUND_RANGES: Final = {
    SAFE_RANGE,
    ID_RANGE,
    NEXT_ID_RANGE,
    PRICE_RANGE,
    REVISION_RANGE,
    DELAY_RANGE,
}


def resolved(root: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """*schema*, or the definition its ``$ref`` names."""
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].removeprefix("#/$defs/")]
    return schema


def bounded_places(
    root: dict[str, Any], schema: dict[str, Any], document: Any, place: Place = ()
) -> Iterator[tuple[Place, Range]]:
    """Every integer of *document* the schema bounds, with its place and its range."""
    schema = resolved(root, schema)
    if "anyOf" in schema:  # an optional value: the branch that is not null
        if document is None:
            return
        (schema,) = [branch for branch in schema["anyOf"] if branch != {"type": "null"}]
        schema = resolved(root, schema)
    if "oneOf" in schema:  # a tagged union: the branch of the document's tag
        (schema,) = [
            resolved(root, branch)
            for branch in schema["oneOf"]
            if resolved(root, branch)["properties"]["type"]["const"] == document["type"]
        ]
    if "minimum" in schema:
        yield place, Range(schema["minimum"], schema["maximum"])
    elif isinstance(document, dict) and "properties" in schema:
        for key, value in document.items():
            if key in schema["properties"]:
                yield from bounded_places(root, schema["properties"][key], value, (*place, key))
    elif isinstance(document, list) and "items" in schema:
        for index, item in enumerate(document):
            yield from bounded_places(root, schema["items"], item, (*place, index))


def with_value(document: Any, place: Place, value: int) -> Any:
    changed = copy.deepcopy(document)
    parent = changed
    for step in place[:-1]:
        parent = parent[step]
    parent[place[-1]] = value
    return changed


def pointer(place: Place) -> str:
    return "".join(f"/{step}" for step in place)


@functools.cache
def pristine(name: str) -> dict[str, Any]:
    """The schema file *name*, parsed for the walk alone: ``from_schema`` rewrites what it reads."""
    schema = json.loads(shipped_text(name))
    assert isinstance(schema, dict)
    return schema


@st.composite
def bounded_documents(draw: st.DrawFn) -> tuple[str, Any, Place, Range]:
    """A valid document of any kind, and one of its integers that a schema bounds."""
    name, document = draw(
        st.one_of(
            histories(max_steps=8).map(lambda history: ("workspace", dump(history.workspace))),
            commands().map(lambda command: ("command", dump(command))),
            events(max_steps=8).map(lambda event: ("event", dump(event))),
        )
    )
    schema = pristine(name)
    places = list(bounded_places(schema, schema, document))
    assume(places)
    place, bounds = draw(st.sampled_from(places))
    return name, document, place, bounds


# Each example grows a history of up to eight commands: few in the default run, as many
# as the profile's usual count in ci and stress.
_AT_BOUNDS: Final = scaled(
    20, 400, 5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class TestBoundsAgree:
    """A number at its bound passes the schema and the codec; one past it, neither."""

    def test_the_schemas_state_every_bound_of_pipekit_bounds(self) -> None:
        stated = set()
        for name in NAMES:
            for schema in objects_of(pristine(name)):
                if "minimum" in schema:
                    stated.add(Range(schema["minimum"], schema["maximum"]))
        assert stated == BOUND_RANGES

    @_AT_BOUNDS
    @given(bounded_documents(), st.sampled_from(["low", "high"]))
    def test_a_number_at_its_bound_is_refused_by_neither(
        self, drawn: tuple[str, Any, Place, Range], end: str
    ) -> None:
        name, document, place, bounds = drawn
        changed = with_value(document, place, getattr(bounds, end))
        validator(name).validate(changed)
        try:
            LOADERS[name](changed)
        except DecodeError as error:
            reason = error.reason
        else:
            reason = ""
        # Another rule may refuse it (a stage id above next_stage_id): never the bound.
        assert "expected an integer from" not in reason

    @_AT_BOUNDS
    @given(bounded_documents(), st.sampled_from(["below", "above"]))
    def test_a_number_past_its_bound_is_refused_by_both(
        self, drawn: tuple[str, Any, Place, Range], end: str
    ) -> None:
        name, document, place, bounds = drawn
        value = bounds.low - 1 if end == "below" else bounds.high + 1
        changed = with_value(document, place, value)
        assert not validator(name).is_valid(changed)
        with pytest.raises(DecodeError, match=f"from {bounds.low} to {bounds.high}") as caught:
            LOADERS[name](changed)
        assert caught.value.path == pointer(place)
