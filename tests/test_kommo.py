"""Kommo API v4: import, export and the requests that carry commands (issue 5).

Read as the specification of :mod:`pipekit.kommo`: ``from_kommo`` reads Kommo's
pipelines payloads into a workspace, refusing with ``KommoFormatError`` (and its JSON
Pointer into the payload as given) anything that is not such a payload or breaks a
pipekit rule; ``to_kommo`` writes the same shape back with sorts numbered by a fixed
rule; the two round-trip; and ``kommo_requests`` turns stage commands into Kommo
requests that keep Kommo's write rules, which a fake Kommo replays into the workspace
the commands give.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeAlias

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    KOMMO_PALETTE,
    AddLossReason,
    AddStage,
    Color,
    CreateLead,
    CreatePipeline,
    DecodeError,
    DeleteStage,
    DisableIncoming,
    EnableIncoming,
    MovePipeline,
    MoveStage,
    PipekitError,
    Pipeline,
    RecolorStage,
    RenamePipeline,
    RenameStage,
    RenameTerminal,
    RuleViolation,
    SetMainPipeline,
    Stage,
    StageKind,
    UnknownStage,
    Workspace,
    apply,
    default_pipeline,
    new_workspace,
)
from pipekit.commands import Command
from pipekit.events import StageAdded
from pipekit.kommo import (
    KommoFormatError,
    KommoRequest,
    KommoWriteError,
    from_kommo,
    kommo_requests,
    to_kommo,
)
from pipekit.names import name_key
from tests.profiles import COSTLY, EXPENSIVE, MODERATE
from tests.strategies import hand_built_pipelines, names
from tests.workspace_strategies import COMMAND_STRATEGIES, idle_commands, workspaces

Payload: TypeAlias = dict[str, Any]

EXAMPLE: Final = Path(__file__).parent / "data" / "kommo-statuses-example.json"
AT: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def example() -> Payload:
    """The statuses of one English pipeline, as Kommo's API gives them (a fresh copy)."""
    payload: Payload = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return payload


def status(stage_id: int, name: str, sort: int, color: str = "#99ccff", kind: int = 0) -> Payload:
    return {"id": stage_id, "name": name, "sort": sort, "color": color, "type": kind}


def won(sort: int = 10_000) -> Payload:
    return status(142, "Closed - won", sort, "#CCFF66")


def lost(sort: int = 11_000) -> Payload:
    return status(143, "Closed - lost", sort, "#D5D8DB")


def incoming(stage_id: int = 300, sort: int = 10) -> Payload:
    return status(stage_id, "Incoming leads", sort, "#c1c1c1", kind=1)


def statuses(*, with_incoming: bool = False) -> list[Payload]:
    first = [incoming()] if with_incoming else []
    return [
        *first,
        status(301, "Initial contact", 20),
        status(302, "Discussions", 30, "#ffff99"),
        won(),
        lost(),
    ]


def kommo_pipeline(
    pipeline_id: int,
    name: str,
    stages: list[Payload] | None = None,
    *,
    sort: int = 1,
    is_main: bool = True,
    **extra: Any,
) -> Payload:
    return {
        "id": pipeline_id,
        "name": name,
        "sort": sort,
        "is_main": is_main,
        **extra,
        "_embedded": {"statuses": statuses() if stages is None else stages},
    }


def body(*pipelines: Payload) -> Payload:
    return {"_total_items": len(pipelines), "_embedded": {"pipelines": list(pipelines)}}


def two_pipelines() -> Payload:
    """A main pipeline with incoming leads on, and a second one with them off."""
    return body(
        kommo_pipeline(10, "Sales", statuses(with_incoming=True), is_unsorted_on=True),
        kommo_pipeline(20, "Partners", statuses(), sort=2, is_main=False, is_unsorted_on=False),
    )


def stage_rows(pipeline: Pipeline) -> list[tuple[int, str, str, StageKind]]:
    return [(stage.id, stage.name, stage.color.hex, stage.kind) for stage in pipeline.stages]


def pipeline_facts(workspace: Workspace) -> list[tuple[int, str, bool, tuple[Stage, ...]]]:
    """What ``from_kommo(to_kommo(ws))`` must give back: not leads, not counters."""
    return [(p.id, p.name, p.archived, p.stages) for p in workspace.pipelines]


def resolve(document: object, pointer: str) -> object:
    """Return the part of *document* that the JSON Pointer *pointer* names."""
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        else:
            assert isinstance(node, dict)
            node = node[token]
    return node


# -- reading ---------------------------------------------------------------------------


class TestFromKommoExample:
    def test_reads_the_example_pipeline(self) -> None:
        workspace = from_kommo(example())
        pipeline = workspace.main_pipeline
        assert (pipeline.id, pipeline.name, pipeline.archived) == (6950551, "Sales", False)
        assert stage_rows(pipeline) == [
            (58141803, "Incoming leads", "#c1c1c1", StageKind.INCOMING),
            (58141807, "Initial contact", "#99ccff", StageKind.OPEN),
            (58141811, "Discussions", "#ffff99", StageKind.OPEN),
            (58141815, "Decision making", "#ffcc66", StageKind.OPEN),
            (58141819, "Contract discussion", "#ffcccc", StageKind.OPEN),
            (142, "Closed - won", "#ccff66", StageKind.WON),
            (143, "Closed - lost", "#d5d8db", StageKind.LOST),
        ]

    def test_gives_a_workspace_of_that_pipeline_alone(self) -> None:
        workspace = from_kommo(example())
        assert [p.id for p in workspace.pipelines] == [6950551]
        assert workspace.main_pipeline_id == 6950551
        assert (len(workspace.leads), workspace.loss_reasons, workspace.revision) == (0, (), 0)
        assert workspace.next_pipeline_id == 6950552
        assert workspace.main_pipeline.next_stage_id == 58141820

    def test_reads_the_example_inside_a_list_body(self) -> None:
        single = from_kommo(example())
        listed = from_kommo(body(example()))
        assert listed == single

    def test_writes_the_example_back_with_its_sorts_and_lower_case_colours(self) -> None:
        written = to_kommo(from_kommo(example()))
        (pipeline,) = written["_embedded"]["pipelines"]
        keys = ("id", "name", "sort", "color", "type", "pipeline_id", "is_editable")
        expected = [
            {key: item[key] for key in keys} | {"color": item["color"].lower()}
            for item in example()["_embedded"]["statuses"]
        ]
        assert pipeline["_embedded"]["statuses"] == expected
        assert pipeline["is_unsorted_on"] is True


class TestFromKommo:
    def test_reads_two_pipelines_in_sort_order(self) -> None:
        payload = two_pipelines()
        payload["_embedded"]["pipelines"].reverse()
        workspace = from_kommo(payload)
        assert [p.name for p in workspace.pipelines] == ["Sales", "Partners"]
        assert workspace.main_pipeline_id == 10

    def test_reads_incoming_leads_on_in_one_pipeline_and_off_in_the_other(self) -> None:
        sales, partners = from_kommo(two_pipelines()).pipelines
        assert sales.incoming is not None
        assert sales.incoming.id == 300
        assert partners.incoming is None

    def test_orders_statuses_by_sort(self) -> None:
        stages = statuses(with_incoming=True)
        stages.reverse()
        pipeline = from_kommo(kommo_pipeline(1, "Sales", stages)).main_pipeline
        assert [stage.id for stage in pipeline.stages] == [300, 301, 302, 142, 143]

    def test_breaks_ties_of_sort_by_id(self) -> None:
        stages = [status(502, "B", 20), status(501, "A", 20), won(), lost()]
        payload = body(
            kommo_pipeline(9, "Nine", stages, sort=5),
            kommo_pipeline(8, "Eight", sort=5, is_main=False),
        )
        workspace = from_kommo(payload)
        assert [p.id for p in workspace.pipelines] == [8, 9]
        assert [stage.id for stage in workspace.pipeline(9).stages] == [501, 502, 142, 143]

    def test_keeps_ids_exactly_with_142_and_143_in_every_pipeline(self) -> None:
        workspace = from_kommo(two_pipelines())
        for pipeline in workspace.pipelines:
            assert (pipeline.won.id, pipeline.lost.id) == (142, 143)
            assert [stage.id for stage in pipeline.open_stages] == [301, 302]

    def test_reads_cyrillic_and_emoji_names(self) -> None:
        stages = [
            status(11, "Первичный контакт", 20),
            status(12, "Переговоры 🤝", 30),
            status(13, "🔥", 40),
            status(142, "Успешно реализовано", 10_000),
            status(143, "Закрыто и не реализовано", 11_000),
        ]
        pipeline = from_kommo(kommo_pipeline(3, "Продажи", stages)).main_pipeline
        assert pipeline.name == "Продажи"
        assert [stage.name for stage in pipeline.stages] == [
            "Первичный контакт",
            "Переговоры 🤝",
            "🔥",
            "Успешно реализовано",
            "Закрыто и не реализовано",
        ]

    def test_reads_an_archived_pipeline(self) -> None:
        payload = body(
            kommo_pipeline(1, "Sales", is_archive=False),
            kommo_pipeline(2, "Old", sort=2, is_main=False, is_archive=True),
        )
        assert [p.archived for p in from_kommo(payload).pipelines] == [False, True]

    def test_reads_a_pipeline_without_is_archive_as_not_archived(self) -> None:
        assert from_kommo(kommo_pipeline(1, "Sales")).main_pipeline.archived is False

    def test_strips_white_space_around_names(self) -> None:
        stages = [status(5, "  Demo\t", 20), won(), status(143, " Lost ", 11_000)]
        pipeline = from_kommo(kommo_pipeline(1, "\u00a0Sales  ", stages)).main_pipeline
        assert pipeline.name == "Sales"
        assert [stage.name for stage in pipeline.stages] == ["Demo", "Closed - won", "Lost"]

    def test_lower_cases_colours_and_accepts_colours_off_the_palette(self) -> None:
        stages = [status(5, "A", 20, "#ABCDEF"), status(6, "B", 30, "#FfCc66"), won(), lost()]
        pipeline = from_kommo(kommo_pipeline(1, "Sales", stages)).main_pipeline
        assert [stage.color for stage in pipeline.open_stages] == [
            Color("#abcdef"),
            Color("#ffcc66"),
        ]
        assert pipeline.open_stages[0].color not in KOMMO_PALETTE

    def test_knows_incoming_leads_by_type_not_by_is_unsorted_on(self) -> None:
        on_but_absent = kommo_pipeline(1, "A", statuses(), is_unsorted_on=True)
        off_but_present = kommo_pipeline(
            2, "B", statuses(with_incoming=True), sort=2, is_main=False, is_unsorted_on=False
        )
        first, second = from_kommo(body(on_but_absent, off_but_present)).pipelines
        assert first.incoming is None
        assert second.incoming is not None

    def test_ignores_the_fields_pipekit_does_not_use(self) -> None:
        plain = from_kommo(kommo_pipeline(1, "Sales"))
        noisy = kommo_pipeline(
            1, "Sales", account_id=5, _links={"self": {"href": "x"}}, is_editable="?", extra=[1]
        )
        for item in noisy["_embedded"]["statuses"]:
            item.update(
                pipeline_id=999,  # names another pipeline: ignored too
                is_editable=None,
                account_id="x",
                descriptions=[{"level": "primary", "description": "Call them"}],
                _links={},
            )
        noisy["_embedded"]["unknown"] = True
        assert from_kommo(body(noisy) | {"_links": {}, "_page": 1}) == plain

    def test_reads_one_main_pipeline_alone(self) -> None:
        workspace = from_kommo(kommo_pipeline(4, "Partners", is_main=True))
        assert workspace.main_pipeline_id == 4

    def test_refuses_one_pipeline_alone_that_is_not_the_main_one(self) -> None:
        with pytest.raises(
            KommoFormatError, match="exactly one pipeline must have is_main"
        ) as info:
            from_kommo(kommo_pipeline(4, "Partners", is_main=False))
        assert (info.value.path, info.value.rule) == ("/is_main", "W3")


_SHAPE_CASES: Final[list[tuple[str, Any, str, str]]] = [
    # (what, payload, path, match)
    ("a list root", [], "", "expected an object, got an array"),
    ("no _embedded", {"_total_items": 0}, "", "missing the field '_embedded'"),
    ("_embedded not an object", {"_embedded": []}, "/_embedded", "expected an object"),
    ("no pipelines", {"_embedded": {}}, "/_embedded", "missing the field 'pipelines'"),
    (
        "pipelines not an array",
        {"_embedded": {"pipelines": {}}},
        "/_embedded/pipelines",
        "expected an array, got an object",
    ),
    (
        "a pipeline not an object",
        {"_embedded": {"pipelines": [None]}},
        "/_embedded/pipelines/0",
        "expected an object, got null",
    ),
]


def _broken_pipeline(key: str, value: Any) -> Payload:
    pipeline = kommo_pipeline(1, "Sales", is_archive=False)
    if value is _MISSING:
        del pipeline[key]
    else:
        pipeline[key] = value
    return body(pipeline)


def _broken_status(key: str, value: Any) -> Payload:
    pipeline = kommo_pipeline(1, "Sales")
    item = pipeline["_embedded"]["statuses"][1]
    if value is _MISSING:
        del item[key]
    else:
        item[key] = value
    return body(pipeline)


_MISSING: Final = object()
_PIPELINE_FIELDS: Final[list[tuple[str, Any, str]]] = [
    ("id", _MISSING, "missing the field 'id'"),
    ("id", True, "expected an integer, got a boolean"),
    ("id", 1.0, "expected an integer, got a float"),
    ("id", "1", "expected an integer, got a string"),
    ("name", _MISSING, "missing the field 'name'"),
    ("name", 7, "expected a string, got an integer"),
    ("sort", math.nan, "expected an integer, got a float"),
    ("sort", None, "expected an integer, got null"),
    ("is_main", _MISSING, "missing the field 'is_main'"),
    ("is_main", 1, "expected a boolean, got an integer"),
    ("is_archive", "false", "expected a boolean, got a string"),
    ("_embedded", _MISSING, "missing the field '_embedded'"),
    ("_embedded", [], "expected an object, got an array"),
]
_STATUS_FIELDS: Final[list[tuple[str, Any, str]]] = [
    ("id", _MISSING, "missing the field 'id'"),
    ("id", False, "expected an integer, got a boolean"),
    ("id", math.inf, "expected an integer, got a float"),
    ("name", _MISSING, "missing the field 'name'"),
    ("name", ["Demo"], "expected a string, got an array"),
    ("sort", 20.5, "expected an integer, got a float"),
    ("sort", True, "expected an integer, got a boolean"),
    ("sort", _MISSING, "missing the field 'sort'"),
    ("color", _MISSING, "missing the field 'color'"),
    ("color", 0x99CCFF, "expected a string, got an integer"),
    ("type", _MISSING, "missing the field 'type'"),
    ("type", True, "expected an integer, got a boolean"),
    ("type", 2, "expected 0 or 1, got 2"),
]


class TestFromKommoRefusesShapes:
    @pytest.mark.parametrize(
        ("payload", "path", "match"),
        [case[1:] for case in _SHAPE_CASES],
        ids=[case[0] for case in _SHAPE_CASES],
    )
    def test_refuses_a_body_of_another_shape(self, payload: Any, path: str, match: str) -> None:
        with pytest.raises(KommoFormatError, match=re.escape(match)) as caught:
            from_kommo(payload)
        assert (caught.value.path, caught.value.rule) == (path, "shape")

    @pytest.mark.parametrize("payload", [None, "x", 3, 2.5, True])
    def test_refuses_a_scalar(self, payload: Any) -> None:
        with pytest.raises(KommoFormatError, match="expected an object") as caught:
            from_kommo(payload)
        assert caught.value.path == ""

    @pytest.mark.parametrize(("key", "value", "match"), _PIPELINE_FIELDS)
    def test_refuses_a_pipeline_field(self, key: str, value: Any, match: str) -> None:
        with pytest.raises(KommoFormatError, match=re.escape(match)) as caught:
            from_kommo(_broken_pipeline(key, value))
        where = "/_embedded/pipelines/0"
        assert caught.value.path == (where if value is _MISSING else f"{where}/{key}")
        assert caught.value.rule == "shape"

    @pytest.mark.parametrize(("key", "value", "match"), _STATUS_FIELDS)
    def test_refuses_a_status_field(self, key: str, value: Any, match: str) -> None:
        with pytest.raises(KommoFormatError, match=re.escape(match)) as caught:
            from_kommo(_broken_status(key, value))
        where = "/_embedded/pipelines/0/_embedded/statuses/1"
        assert caught.value.path == (where if value is _MISSING else f"{where}/{key}")
        assert caught.value.rule == "shape"

    def test_refuses_statuses_that_are_not_an_array(self) -> None:
        payload = kommo_pipeline(1, "Sales")
        payload["_embedded"] = {"statuses": "none"}
        with pytest.raises(KommoFormatError, match="expected an array, got a string") as caught:
            from_kommo(payload)
        assert caught.value.path == "/_embedded/statuses"

    def test_refuses_a_status_that_is_not_an_object(self) -> None:
        stages: list[Any] = [won(), 142, lost()]
        payload = kommo_pipeline(1, "Sales", stages)
        with pytest.raises(KommoFormatError, match="expected an object, got an integer") as caught:
            from_kommo(payload)
        assert caught.value.path == "/_embedded/statuses/1"

    def test_refuses_a_single_pipeline_without_statuses_as_a_list_body(self) -> None:
        payload = kommo_pipeline(1, "Sales")
        payload["_embedded"] = {}
        with pytest.raises(KommoFormatError, match="missing the field 'pipelines'") as caught:
            from_kommo(payload)
        assert caught.value.path == "/_embedded"


def _with_statuses(*stages: Payload) -> Payload:
    return body(kommo_pipeline(1, "Sales", list(stages)))


_P0: Final = "/_embedded/pipelines/0"
_S: Final = f"{_P0}/_embedded/statuses"
_RULE_CASES: Final[list[tuple[str, Payload, str, str, str]]] = [
    # (what, payload, path, rule, match)
    (
        "no won stage",
        _with_statuses(status(5, "A", 20), status(6, "B", 30), lost()),
        _S,
        "R1",
        "the last two stages must be the won stage, then the lost stage",
    ),
    (
        "no lost stage",
        _with_statuses(status(5, "A", 20), won(), status(6, "B", 30)),
        _S,
        "R1",
        "the last two stages must be the won stage",
    ),
    (
        "won after lost by sort",
        _with_statuses(status(5, "A", 20), won(12_000), lost()),
        f"{_S}/1",
        "R1",
        "the last two stages must be the won stage",
    ),
    (
        "an open stage after won",
        _with_statuses(status(5, "A", 20), won(), status(6, "B", 10_500), lost()),
        f"{_S}/2",
        "R1",
        "the last two stages must be the won stage",
    ),
    (
        "an open stage after lost",
        _with_statuses(status(5, "A", 20), won(), lost(), status(6, "B", 12_000)),
        f"{_S}/3",
        "R1",
        "the last two stages must be the won stage",
    ),
    (
        "a second status 142, before the open stages",
        _with_statuses(won(15), status(5, "A", 20), won(), lost()),
        f"{_S}/0",
        "R1",
        "the won stage stands at open position 0",
    ),
    (
        "incoming leads not first by sort",
        _with_statuses(status(5, "A", 20), incoming(sort=30), won(), lost()),
        f"{_S}/1",
        "R1",
        "the incoming leads stage stands at open position 1",
    ),
    (
        "two incoming leads stages",
        _with_statuses(incoming(), incoming(301, 11), status(5, "A", 20), won(), lost()),
        f"{_S}/1",
        "R1",
        "the incoming leads stage stands at open position 0",
    ),
    (
        "no open stage",
        _with_statuses(incoming(), won(), lost()),
        _S,
        "R1",
        "a pipeline needs at least one open stage",
    ),
    (
        "no status at all",
        _with_statuses(),
        _S,
        "R1",
        "the last two stages must be the won stage",
    ),
    (
        "over 100 statuses",
        _with_statuses(*[status(1000 + n, f"S{n}", 20 + n) for n in range(99)], won(), lost()),
        _S,
        "R6",
        "101 stages, at most 100 are allowed",
    ),
    (
        "two statuses with one id",
        _with_statuses(status(5, "A", 20), status(5, "B", 30), won(), lost()),
        f"{_S}/1/id",
        "R9",
        "two stages have the id 5",
    ),
    (
        "a status id of 0",
        _with_statuses(status(0, "A", 20), won(), lost()),
        f"{_S}/0/id",
        "R9",
        "stage ids are positive integers, got 0",
    ),
    (
        "clashing status names, pointed at in the payload's order",
        _with_statuses(won(), status(6, "demo", 30), lost(), status(5, "Demo", 20)),
        f"{_S}/1/name",
        "R7",
        "stages 5 and 6 have clashing names 'demo'",
    ),
    (
        "an empty status name",
        _with_statuses(status(5, "  ", 20), won(), lost()),
        f"{_S}/0/name",
        "R7",
        "a name cannot be empty",
    ),
    (
        "a status name with a control character",
        _with_statuses(status(5, "a\nb", 20), won(), lost()),
        f"{_S}/0/name",
        "R7",
        "control or line-break characters",
    ),
    (
        "a status name over 255 characters",
        _with_statuses(status(5, "x" * 256, 20), won(), lost()),
        f"{_S}/0/name",
        "R7",
        "at most 255 characters",
    ),
    (
        "a colour that is none",
        _with_statuses(status(5, "A", 20, "blue"), won(), lost()),
        f"{_S}/0/color",
        "R8",
        "invalid colour 'blue'",
    ),
    (
        "an empty pipeline name",
        body(kommo_pipeline(1, "")),
        f"{_P0}/name",
        "R7",
        "the pipeline name is invalid",
    ),
    (
        "a pipeline id of 0",
        body(kommo_pipeline(0, "Sales")),
        f"{_P0}/id",
        "R9",
        "a pipeline id must be a positive integer, got 0",
    ),
    (
        "no main pipeline",
        body(kommo_pipeline(1, "A", is_main=False), kommo_pipeline(2, "B", is_main=False)),
        "/_embedded/pipelines",
        "W3",
        "exactly one pipeline must have is_main true, 0 have it",
    ),
    (
        "no pipeline at all",
        body(),
        "/_embedded/pipelines",
        "W3",
        "exactly one pipeline must have is_main true, 0 have it",
    ),
    (
        "two main pipelines, the second by sort pointed at",
        body(kommo_pipeline(1, "A", sort=2), kommo_pipeline(2, "B", sort=1)),
        f"{_P0}/is_main",
        "W3",
        "exactly one pipeline must have is_main true, 2 have it",
    ),
    (
        "two pipelines with one id",
        body(kommo_pipeline(1, "A", sort=2), kommo_pipeline(1, "B", is_main=False)),
        f"{_P0}/id",
        "W6",
        "two pipelines have the id 1",
    ),
    (
        "clashing pipeline names",
        body(kommo_pipeline(1, "SALES"), kommo_pipeline(2, "Sales ", sort=0, is_main=False)),
        f"{_P0}/name",
        "W3",
        "two pipelines have clashing names 'SALES'",
    ),
    (
        "over 50 pipelines",
        body(*[kommo_pipeline(n, f"P{n}", is_main=n == 1) for n in range(1, 52)]),
        "/_embedded/pipelines",
        "W3",
        "51 pipelines, at most 50 are allowed",
    ),
]


class TestFromKommoRefusesRuleBreakages:
    @pytest.mark.parametrize(
        ("payload", "path", "rule", "match"),
        [case[1:] for case in _RULE_CASES],
        ids=[case[0] for case in _RULE_CASES],
    )
    def test_points_at_the_offending_part_and_names_the_rule(
        self, payload: Payload, path: str, rule: str, match: str
    ) -> None:
        with pytest.raises(KommoFormatError, match=re.escape(match)) as caught:
            from_kommo(payload)
        assert (caught.value.path, caught.value.rule) == (path, rule)
        assert str(caught.value).endswith(f"({rule})")
        resolve(payload, caught.value.path)

    def test_points_into_a_single_pipeline_from_its_root(self) -> None:
        payload = kommo_pipeline(
            1, "Sales", [status(5, "A", 20), lost(), status(6, "a", 30), won()]
        )
        with pytest.raises(KommoFormatError, match="clashing names") as caught:
            from_kommo(payload)
        assert (caught.value.path, caught.value.rule) == ("/_embedded/statuses/2/name", "R7")

    def test_refuses_what_to_kommo_writes_for_won_and_lost_stages_of_other_ids(self) -> None:
        pipeline = Pipeline(
            1,
            "Hand-made",
            (
                Stage(5, "Open", "#99ccff", StageKind.OPEN),
                Stage(6, "Won", "#ccff66", StageKind.WON),
                Stage(7, "Lost", "#d5d8db", StageKind.LOST),
            ),
        )
        written = to_kommo(Workspace((pipeline,), main_pipeline_id=1))
        statuses_written = written["_embedded"]["pipelines"][0]["_embedded"]["statuses"]
        assert [item["id"] for item in statuses_written] == [5, 6, 7]
        with pytest.raises(KommoFormatError, match="the last two stages must be") as caught:
            from_kommo(written)
        assert caught.value.rule == "R1"


class TestKommoFormatError:
    def test_is_a_decode_error_with_its_own_code(self) -> None:
        error = KommoFormatError("/_embedded", "missing", rule="shape")
        assert isinstance(error, DecodeError)
        assert isinstance(error, ValueError)
        assert (error.code, DecodeError.code) == ("kommo_format_error", "decode_error")
        assert str(error) == "at /_embedded: missing"

    def test_says_shape_unless_told_a_rule(self) -> None:
        assert KommoFormatError("", "x").rule == "shape"

    def test_pickles_with_its_facts(self) -> None:
        error = KommoFormatError("/a/0/name", "a clash (R7)", rule="R7")
        copied = pickle.loads(pickle.dumps(error))
        assert type(copied) is KommoFormatError
        assert (copied.path, copied.reason, copied.rule, str(copied)) == (
            "/a/0/name",
            "a clash (R7)",
            "R7",
            str(error),
        )

    def test_is_not_frozen(self) -> None:
        error = KommoFormatError("", "x")
        error.rule = "R1"
        assert error.rule == "R1"


# -- writing ---------------------------------------------------------------------------


class TestToKommo:
    def test_writes_the_documented_shape(self) -> None:
        workspace = new_workspace(incoming=True)
        assert to_kommo(workspace) == {
            "_total_items": 1,
            "_embedded": {
                "pipelines": [
                    {
                        "id": 1,
                        "name": "Pipeline",
                        "sort": 1,
                        "is_main": True,
                        "is_unsorted_on": True,
                        "is_archive": False,
                        "_embedded": {
                            "statuses": [
                                {
                                    "id": 147,
                                    "name": "Incoming leads",
                                    "sort": 10,
                                    "color": "#c1c1c1",
                                    "type": 1,
                                    "pipeline_id": 1,
                                    "is_editable": False,
                                },
                                *[
                                    {
                                        "id": stage_id,
                                        "name": name,
                                        "sort": sort,
                                        "color": color,
                                        "type": 0,
                                        "pipeline_id": 1,
                                        "is_editable": True,
                                    }
                                    for stage_id, name, sort, color in [
                                        (144, "Initial Contact", 20, "#fffeb2"),
                                        (145, "Offer Made", 30, "#fffd7f"),
                                        (146, "Negotiation", 40, "#fff000"),
                                    ]
                                ],
                                {
                                    "id": 142,
                                    "name": "Closed - won",
                                    "sort": 10_000,
                                    "color": "#ccff66",
                                    "type": 0,
                                    "pipeline_id": 1,
                                    "is_editable": False,
                                },
                                {
                                    "id": 143,
                                    "name": "Closed - lost",
                                    "sort": 11_000,
                                    "color": "#d5d8db",
                                    "type": 0,
                                    "pipeline_id": 1,
                                    "is_editable": False,
                                },
                            ]
                        },
                    }
                ]
            },
        }

    def test_numbers_pipelines_in_display_order_and_marks_the_main_one(self) -> None:
        workspace = from_kommo(two_pipelines())
        workspace = apply(workspace, MovePipeline(20, 0), at=AT).workspace
        written = to_kommo(workspace)["_embedded"]["pipelines"]
        assert [(p["id"], p["sort"], p["is_main"]) for p in written] == [
            (20, 1, False),
            (10, 2, True),
        ]
        assert [p["is_unsorted_on"] for p in written] == [False, True]

    def test_numbers_open_stages_from_20_by_10_without_incoming_leads(self) -> None:
        workspace = new_workspace()
        (pipeline,) = to_kommo(workspace)["_embedded"]["pipelines"]
        sorts = [item["sort"] for item in pipeline["_embedded"]["statuses"]]
        assert sorts == [20, 30, 40, 10_000, 11_000]

    def test_writes_an_archived_pipeline(self) -> None:
        archived = attrs.evolve(default_pipeline(), archived=True)
        (pipeline,) = to_kommo(Workspace((archived,), 1))["_embedded"]["pipelines"]
        assert pipeline["is_archive"] is True

    def test_writes_json_that_json_dumps_takes(self) -> None:
        written = to_kommo(from_kommo(two_pipelines()))
        assert json.loads(json.dumps(written)) == written

    def test_refuses_what_is_not_a_workspace(self) -> None:
        with pytest.raises(TypeError, match="workspace must be a Workspace, got dict"):
            to_kommo(two_pipelines())  # type: ignore[arg-type]  # on purpose


# -- round trips -----------------------------------------------------------------------


def _kommo_shaped(pipeline: Pipeline) -> Pipeline:
    """*pipeline* with its won and lost stages as 142 and 143, as in every Kommo pipeline."""
    stages = [
        attrs.evolve(stage, id=20_000 + index) if stage.id in (142, 143) else stage
        for index, stage in enumerate(pipeline.stages[:-2])
    ]
    return Pipeline(
        pipeline.id,
        pipeline.name,
        (*stages, attrs.evolve(pipeline.won, id=142), attrs.evolve(pipeline.lost, id=143)),
        archived=pipeline.archived,
    )


@st.composite
def hand_built_workspaces(draw: st.DrawFn) -> Workspace:
    """Workspaces of hand-built pipelines (arbitrary ids) whose won and lost are 142, 143."""
    pipelines = draw(
        st.lists(
            hand_built_pipelines(max_open=5).map(_kommo_shaped),
            min_size=1,
            max_size=4,
            unique_by=(lambda p: p.id, lambda p: name_key(p.name)),
        )
    )
    main = draw(st.sampled_from(pipelines)).id
    return Workspace(tuple(pipelines), main_pipeline_id=main)


_HEX_DIGITS: Final = "0123456789abcdefABCDEF"


@dataclass(frozen=True)
class KommoCase:
    """A payload as Kommo might send it, and what ``to_kommo(from_kommo(payload))`` gives."""

    payload: Payload
    expected: Payload


@st.composite
def kommo_statuses(draw: st.DrawFn, pipeline_id: int) -> tuple[list[Payload], list[Payload]]:
    """The statuses of one pipeline, shuffled, and the same as ``to_kommo`` writes them."""
    has_incoming = draw(st.booleans())
    kinds = ["incoming"] * has_incoming + ["open"] * draw(st.integers(1, 6)) + ["won", "lost"]
    count = len(kinds)
    free_ids = st.integers(1, 2**40).filter(lambda value: value not in (142, 143))
    ids = [*draw(st.lists(free_ids, min_size=count - 2, max_size=count - 2, unique=True))]
    ids += [142, 143]
    stage_names = draw(st.lists(names(20), min_size=count, max_size=count, unique_by=name_key))
    sorts = sorted(
        draw(st.lists(st.integers(-(10**9), 10**9), min_size=count, max_size=count, unique=True))
    )
    given_statuses: list[Payload] = []
    expected: list[Payload] = []
    for index, (kind, stage_id, name, sort) in enumerate(
        zip(kinds, ids, stage_names, sorts, strict=True)
    ):
        color = "#" + draw(st.text(_HEX_DIGITS, min_size=6, max_size=6))
        padded = draw(st.sampled_from([name, f" {name}", f"{name}\t "]))
        kind_code = 1 if kind == "incoming" else 0
        item: Payload = {
            "id": stage_id,
            "name": padded,
            "sort": sort,
            "is_editable": kind == "open",
            "pipeline_id": pipeline_id,
            "color": color,
            "type": kind_code,
        }
        if draw(st.booleans()):
            item |= {"account_id": 31361463, "_links": {"self": {"href": "https://x"}}}
        given_statuses.append(item)
        open_position = index - has_incoming
        written_sort = {"incoming": 10, "won": 10_000, "lost": 11_000}.get(
            kind, 20 + 10 * open_position
        )
        expected.append(
            {
                "id": stage_id,
                "name": name,
                "sort": written_sort,
                "color": color.lower(),
                "type": kind_code,
                "pipeline_id": pipeline_id,
                "is_editable": kind == "open",
            }
        )
    return draw(st.permutations(given_statuses)), expected


@st.composite
def kommo_cases(draw: st.DrawFn) -> KommoCase:
    """A list body of one to four pipelines in a shuffled order, with unused fields."""
    count = draw(st.integers(1, 4))
    ids = draw(st.lists(st.integers(1, 2**40), min_size=count, max_size=count, unique=True))
    pipeline_names = draw(st.lists(names(20), min_size=count, max_size=count, unique_by=name_key))
    sorts = sorted(
        draw(st.lists(st.integers(0, 10**6), min_size=count, max_size=count, unique=True))
    )
    main = draw(st.integers(0, count - 1))
    given_pipelines: list[Payload] = []
    expected: list[Payload] = []
    for index, (pipeline_id, name, sort) in enumerate(zip(ids, pipeline_names, sorts, strict=True)):
        given_statuses, expected_statuses = draw(kommo_statuses(pipeline_id))
        archived = draw(st.booleans())
        has_incoming = any(item["type"] == 1 for item in given_statuses)
        item: Payload = {
            "id": pipeline_id,
            "name": name,
            "sort": sort,
            "is_main": index == main,
            "is_unsorted_on": has_incoming,
            "account_id": 31361463,
            "_links": {"self": {"href": "https://x"}},
            "_embedded": {"statuses": given_statuses},
        }
        if archived or draw(st.booleans()):
            item["is_archive"] = archived
        given_pipelines.append(item)
        expected.append(
            {
                "id": pipeline_id,
                "name": name,
                "sort": index + 1,
                "is_main": index == main,
                "is_unsorted_on": has_incoming,
                "is_archive": archived,
                "_embedded": {"statuses": expected_statuses},
            }
        )
    payload = {
        "_total_items": count,
        "_links": {"self": {"href": "https://example.kommo.com/api/v4/leads/pipelines"}},
        "_embedded": {"pipelines": draw(st.permutations(given_pipelines))},
    }
    return KommoCase(payload, {"_total_items": count, "_embedded": {"pipelines": expected}})


class TestRoundTrips:
    @COSTLY
    @given(workspaces(max_steps=10))
    def test_from_kommo_of_to_kommo_gives_back_every_workspace(self, workspace: Workspace) -> None:
        again = from_kommo(to_kommo(workspace))
        assert pipeline_facts(again) == pipeline_facts(workspace)
        assert again.main_pipeline_id == workspace.main_pipeline_id

    @EXPENSIVE
    @given(hand_built_workspaces())
    def test_from_kommo_of_to_kommo_gives_back_hand_built_workspaces(
        self, workspace: Workspace
    ) -> None:
        again = from_kommo(to_kommo(workspace))
        assert pipeline_facts(again) == pipeline_facts(workspace)
        assert again.main_pipeline_id == workspace.main_pipeline_id

    @EXPENSIVE
    @given(kommo_cases())
    def test_to_kommo_of_from_kommo_keeps_every_field_but_sort_and_colour_case(
        self, case: KommoCase
    ) -> None:
        before = copy.deepcopy(case.payload)
        assert to_kommo(from_kommo(case.payload)) == case.expected
        assert case.payload == before

    @EXPENSIVE
    @given(kommo_cases())
    def test_a_single_pipeline_reads_as_its_list_body(self, case: KommoCase) -> None:
        expected = case.expected["_embedded"]["pipelines"]
        for pipeline in case.payload["_embedded"]["pipelines"]:
            if not pipeline["is_main"]:
                with pytest.raises(KommoFormatError, match="exactly one pipeline"):
                    from_kommo(pipeline)
                continue
            (written,) = to_kommo(from_kommo(pipeline))["_embedded"]["pipelines"]
            listed = next(item for item in expected if item["id"] == pipeline["id"])
            assert written == listed | {"sort": 1}


# -- fuzzing ---------------------------------------------------------------------------

_JSON_SCALARS: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from([142, 143, 1, 0, 10_000, "#99CCFF", "_embedded", "statuses"]),
)
_KEYS: Final = st.sampled_from(
    ["_embedded", "pipelines", "statuses", "id", "name", "sort", "is_main", "color", "type"]
) | st.text(max_size=5)
_ANY_JSON: Final = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=30,
)


def _places(node: object, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every place in a JSON document, as the keys and indexes that lead to it."""
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _places(value, (*at, index))


def _twists(value: object) -> st.SearchStrategy[object]:
    """Values near *value* that a careless writer of Kommo's JSON might put instead."""
    if isinstance(value, bool):
        return st.sampled_from([not value, int(value), None])
    if isinstance(value, int):
        return st.sampled_from([True, False, float(value), 0, -value, value + 1, 1, 142, 143])
    if isinstance(value, str):
        return st.sampled_from(["", " ", value.upper(), value * 2, "#FFF", "a\nb", None])
    return _ANY_JSON


@st.composite
def mutated_payloads(draw: st.DrawFn) -> object:
    """A valid payload with one to three places twisted, replaced, removed or repeated."""
    payload: object = copy.deepcopy(draw(kommo_cases()).payload)
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(payload))
        # Half the time a pipeline's own field, so that a few fields are not lost among many.
        shallow = [place for place in places if len(place) <= 4]
        place = draw(st.sampled_from(shallow) | st.sampled_from(places))
        if not place:
            payload = draw(_ANY_JSON)
            continue
        parent: Any = payload  # a list or an object: the place leads through it
        for step in place[:-1]:
            parent = parent[step]
        last = place[-1]
        action = draw(st.sampled_from(["twist", "twist", "twist", "replace", "remove", "repeat"]))
        if action == "twist":
            parent[last] = draw(_twists(parent[last]))
        elif action == "replace":
            parent[last] = draw(_ANY_JSON)
        elif action == "remove":
            del parent[last]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[int(last)]))
        else:
            parent["copy"] = copy.deepcopy(parent[last])
    return payload


class TestFuzz:
    @MODERATE
    @given(_ANY_JSON)
    def test_any_json_gives_a_workspace_or_a_format_error_that_points_into_it(
        self, payload: object
    ) -> None:
        try:
            workspace = from_kommo(payload)
        except KommoFormatError as error:
            resolve(payload, error.path)
        else:
            assert isinstance(workspace, Workspace)

    @EXPENSIVE
    @given(mutated_payloads())
    def test_mutated_payloads_give_a_workspace_or_a_format_error_that_points_into_them(
        self, payload: object
    ) -> None:
        try:
            workspace = from_kommo(payload)
        except KommoFormatError as error:
            refused = error
        else:
            assert from_kommo(to_kommo(workspace)) == workspace
            return
        assert refused.rule in {"shape", "R1", "R6", "R7", "R8", "R9", "W3", "W6"}
        resolve(payload, refused.path)


_STAGE_COMMAND_KINDS: Final = [
    AddStage,
    RenameStage,
    RecolorStage,
    MoveStage,
    DeleteStage,
    RenameTerminal,
    EnableIncoming,
    DisableIncoming,
    RenamePipeline,
]


# -- requests --------------------------------------------------------------------------


def idle_stage_commands(workspace: Workspace) -> st.SearchStrategy[tuple[Workspace, Command]]:
    """A stage command that changes nothing in *workspace*, with the workspace."""
    stage_kinds = tuple(_STAGE_COMMAND_KINDS)
    idle = idle_commands(workspace).filter(lambda command: isinstance(command, stage_kinds))
    return st.tuples(st.just(workspace), idle)


def _requests(workspace: Workspace, *commands: Command) -> list[KommoRequest]:
    return list(kommo_requests(workspace, commands))


def _patch(path: str, body: Any) -> KommoRequest:
    return KommoRequest("PATCH", f"/api/v4/leads/pipelines/{path}", body)


class TestKommoRequest:
    def test_is_a_frozen_value(self) -> None:
        request = KommoRequest("PATCH", "/api/v4/leads/pipelines/1", {"name": "A"})
        assert request == KommoRequest("PATCH", "/api/v4/leads/pipelines/1", {"name": "A"})
        assert hash(request) == hash(KommoRequest("PATCH", "/api/v4/leads/pipelines/1", {}))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            request.path = "/"  # type: ignore[misc]  # on purpose

    def test_has_no_body_unless_given_one(self) -> None:
        assert KommoRequest("DELETE", "/api/v4/leads/pipelines/1/statuses/5").json is None

    def test_repr_is_python(self) -> None:
        request = KommoRequest("POST", "/p", [{"name": "A", "sort": 20, "color": "#fffeb2"}])
        assert eval(repr(request), {"KommoRequest": KommoRequest}) == request


class TestKommoRequestsPerCommand:
    def test_adds_a_stage_after_the_last_open_one(self) -> None:
        workspace = new_workspace()
        assert _requests(workspace, AddStage(1, "Demo", color="#98CBFF")) == [
            KommoRequest(
                "POST",
                "/api/v4/leads/pipelines/1/statuses",
                [{"name": "Demo", "sort": 50, "color": "#98cbff"}],
            )
        ]

    def test_adds_a_stage_with_the_default_colour_pipekit_picks(self) -> None:
        (request,) = _requests(new_workspace(), AddStage(1, "Demo", position=1))
        assert request.json == [{"name": "Demo", "sort": 25, "color": "#ffeab2"}]

    def test_adds_a_stage_first_between_incoming_leads_and_the_first_open_one(self) -> None:
        (request,) = _requests(new_workspace(incoming=True), AddStage(1, "Demo", position=0))
        assert request.json == [{"name": "Demo", "sort": 15, "color": "#ffeab2"}]

    def test_renames_a_stage(self) -> None:
        assert _requests(new_workspace(), RenameStage(1, 145, " Proposal ")) == [
            _patch("1/statuses/145", {"name": "Proposal"})
        ]

    def test_renames_the_won_and_lost_stages_by_their_ids(self) -> None:
        workspace = new_workspace()
        assert _requests(
            workspace,
            RenameTerminal(1, StageKind.WON, "Успешно"),
            RenameTerminal(1, StageKind.LOST, "Провал"),
        ) == [
            _patch("1/statuses/142", {"name": "Успешно"}),
            _patch("1/statuses/143", {"name": "Провал"}),
        ]

    def test_recolours_a_stage_in_lower_case(self) -> None:
        assert _requests(new_workspace(), RecolorStage(1, 144, "#EB93FF")) == [
            _patch("1/statuses/144", {"color": "#eb93ff"})
        ]

    def test_moves_a_stage_between_its_new_neighbours(self) -> None:
        workspace = new_workspace()
        assert _requests(workspace, MoveStage(1, 146, 0)) == [
            _patch("1/statuses/146", {"sort": 15})
        ]
        assert _requests(workspace, MoveStage(1, 144, 2)) == [
            _patch("1/statuses/144", {"sort": 50})
        ]

    def test_deletes_a_stage(self) -> None:
        assert _requests(new_workspace(), DeleteStage(1, 145)) == [
            KommoRequest("DELETE", "/api/v4/leads/pipelines/1/statuses/145", None)
        ]

    def test_deletes_a_stage_whose_leads_go_to_the_first_open_stage_left(self) -> None:
        workspace = new_workspace()
        workspace = apply(workspace, CreateLead("ACME", stage_id=144), at=AT).workspace
        assert _requests(workspace, DeleteStage(1, 144, move_leads_to=145)) == [
            KommoRequest("DELETE", "/api/v4/leads/pipelines/1/statuses/144", None)
        ]

    def test_switches_incoming_leads_on_and_off(self) -> None:
        workspace = new_workspace()
        assert _requests(
            workspace, EnableIncoming(1, name="Входящие", color="#123456"), DisableIncoming(1)
        ) == [
            _patch("1", {"is_unsorted_on": True}),
            _patch("1", {"is_unsorted_on": False}),
        ]

    def test_renames_a_pipeline(self) -> None:
        assert _requests(new_workspace(), RenamePipeline(1, "Продажи")) == [
            _patch("1", {"name": "Продажи"})
        ]

    @COSTLY
    @given(workspaces(max_steps=5).flatmap(idle_stage_commands))
    def test_a_command_that_changes_nothing_gives_no_request(
        self, case: tuple[Workspace, Command]
    ) -> None:
        workspace, command = case
        assert kommo_requests(workspace, [command]) == ()

    def test_gives_nothing_for_no_commands(self) -> None:
        assert kommo_requests(new_workspace(), iter(())) == ()

    def test_names_a_stage_added_in_the_same_batch_by_pipekit_s_id(self) -> None:
        workspace = new_workspace()
        requests = _requests(
            workspace,
            AddStage(1, "Demo", stage_id=900),
            RenameStage(1, 900, "Demo call"),
            DeleteStage(1, 900),
        )
        assert [(r.method, r.path) for r in requests] == [
            ("POST", "/api/v4/leads/pipelines/1/statuses"),
            ("PATCH", "/api/v4/leads/pipelines/1/statuses/900"),
            ("DELETE", "/api/v4/leads/pipelines/1/statuses/900"),
        ]

    def test_changes_nothing_in_the_workspace_given(self) -> None:
        workspace = from_kommo(two_pipelines())
        before = to_kommo(workspace)
        kommo_requests(workspace, [AddStage(10, "Demo"), DeleteStage(20, 301)])
        assert to_kommo(workspace) == before


class TestKommoRequestsSorts:
    def test_renumbers_the_open_stages_when_no_sort_fits_before_an_added_one(self) -> None:
        workspace = new_workspace()
        commands = [AddStage(1, f"S{n}", position=0, color="#fffeb2") for n in range(3)]
        assert [r.json for r in _requests(workspace, *commands)] == [
            [{"name": "S0", "sort": 15, "color": "#fffeb2"}],
            [{"name": "S1", "sort": 12, "color": "#fffeb2"}],
            [{"name": "S2", "sort": 11, "color": "#fffeb2"}],
        ]
        requests = _requests(workspace, *commands, AddStage(1, "S3", position=0, color="#fffeb2"))
        # 147 S0 (15), 148 S1 (12), 149 S2 (11), then 144, 145, 146 (20, 30, 40).
        assert requests[3:] == [
            _patch("1/statuses/149", {"sort": 30}),
            _patch("1/statuses/148", {"sort": 40}),
            _patch("1/statuses/147", {"sort": 50}),
            _patch("1/statuses/144", {"sort": 60}),
            _patch("1/statuses/145", {"sort": 70}),
            _patch("1/statuses/146", {"sort": 80}),
            KommoRequest(
                "POST",
                "/api/v4/leads/pipelines/1/statuses",
                [{"name": "S3", "sort": 20, "color": "#fffeb2"}],
            ),
        ]

    def test_renumbers_only_the_stages_whose_sort_changes_before_a_moved_one(self) -> None:
        workspace = new_workspace()
        commands = [AddStage(1, name, position=1) for name in ("A", "B", "C0")]
        # Then 144 (20), C0 149 (21), B 148 (22), A 147 (25), 145 (30), 146 (40).
        requests = _requests(workspace, *commands, MoveStage(1, 146, 1))
        assert [r.json for r in requests[:3]] == [
            [{"name": "A", "sort": 25, "color": "#ffeab2"}],
            [{"name": "B", "sort": 22, "color": "#ffdc7f"}],
            [{"name": "C0", "sort": 21, "color": "#ffce5a"}],
        ]
        # 146 goes between 144 (20) and C0 (21): renumbered 144, 146, C0, B, A, 145.
        assert requests[3:] == [
            _patch("1/statuses/149", {"sort": 40}),
            _patch("1/statuses/148", {"sort": 50}),
            _patch("1/statuses/147", {"sort": 60}),
            _patch("1/statuses/145", {"sort": 70}),
            _patch("1/statuses/146", {"sort": 30}),
        ]

    def test_forgets_the_sort_of_a_deleted_stage(self) -> None:
        workspace = new_workspace()
        requests = _requests(workspace, DeleteStage(1, 145), AddStage(1, "Demo", position=1))
        assert requests[1].json == [{"name": "Demo", "sort": 30, "color": "#fffd7f"}]


class TestKommoRequestsRefuse:
    def test_a_colour_off_the_palette_naming_the_stage_and_the_nearest_colour(self) -> None:
        with pytest.raises(KommoWriteError, match="the nearest is #98cbff") as caught:
            kommo_requests(new_workspace(), [RecolorStage(1, 145, "#99CCFF")])
        error = caught.value
        assert (error.pipeline_id, error.stage_id) == (1, 145)
        assert (error.color, error.nearest) == (Color("#99ccff"), Color("#98cbff"))
        assert error.stage_name == "Offer Made"
        assert str(error) == (
            "Kommo cannot write stage 'Offer Made' (id 145) of pipeline 1: the colour #99ccff"
            " is not one of the 21 colours Kommo accepts; the nearest is #98cbff"
        )

    def test_an_added_stage_off_the_palette_by_the_id_pipekit_gives_it(self) -> None:
        with pytest.raises(KommoWriteError, match=r"stage 'Demo' \(id 147\)") as caught:
            kommo_requests(new_workspace(), [AddStage(1, "Demo", color="#000")])
        error = caught.value
        assert (error.stage_id, error.stage_name, error.nearest) == (147, "Demo", Color("#ff8f92"))

    def test_picks_the_first_palette_colour_of_two_as_near(self) -> None:
        # #fff4b2 lies halfway between #fffeb2 (first in the palette) and #ffeab2 (fourth).
        with pytest.raises(KommoWriteError, match="nearest is #fffeb2") as caught:
            kommo_requests(new_workspace(), [RecolorStage(1, 144, "#fff4b2")])
        assert caught.value.nearest == KOMMO_PALETTE[0]

    def test_a_delete_whose_leads_go_elsewhere_than_the_first_open_stage(self) -> None:
        with pytest.raises(KommoWriteError, match=r"first stage \(144\)") as caught:
            kommo_requests(new_workspace(), [DeleteStage(1, 145, move_leads_to=146)])
        error = caught.value
        assert (error.pipeline_id, error.stage_id, error.color, error.nearest) == (
            1,
            145,
            None,
            None,
        )
        assert error.stage_name is None

    @pytest.mark.parametrize(
        "command",
        [
            CreatePipeline("Second"),
            MovePipeline(1, 0),
            SetMainPipeline(1),
            CreateLead("ACME"),
            AddLossReason("Too dear"),
        ],
    )
    def test_a_command_that_is_not_a_stage_command(self, command: Command) -> None:
        name = type(command).__name__
        with pytest.raises(KommoWriteError, match=f"^Kommo cannot write this: {name} is not a"):
            kommo_requests(new_workspace(), [command])

    def test_something_that_is_not_a_command(self) -> None:
        with pytest.raises(TypeError, match="expected a pipekit command, got str"):
            kommo_requests(new_workspace(), ["AddStage"])  # type: ignore[list-item]  # on purpose

    def test_what_is_not_a_workspace(self) -> None:
        with pytest.raises(TypeError, match="workspace must be a Workspace"):
            kommo_requests(None, [])  # type: ignore[arg-type]  # on purpose

    def test_lets_pipekit_s_rules_refuse_first(self) -> None:
        with pytest.raises(UnknownStage, match="no stage has id 999 in pipeline 1"):
            kommo_requests(new_workspace(), [DeleteStage(1, 999, move_leads_to=146)])

    def test_refuses_the_whole_batch_when_one_command_is_refused(self) -> None:
        with pytest.raises(KommoWriteError):
            kommo_requests(new_workspace(), [RenameStage(1, 144, "A"), CreatePipeline("B")])


class TestKommoWriteError:
    def test_is_a_rule_violation_with_its_own_code(self) -> None:
        error = KommoWriteError("why", pipeline_id=1)
        assert isinstance(error, RuleViolation)
        assert isinstance(error, PipekitError)
        assert error.code == "kommo_write_error"
        assert str(error) == "Kommo cannot write pipeline 1: why"

    def test_pickles_with_its_facts(self) -> None:
        with pytest.raises(KommoWriteError) as caught:
            kommo_requests(new_workspace(), [RecolorStage(1, 145, "#99ccff")])
        copied = pickle.loads(pickle.dumps(caught.value))
        assert type(copied) is KommoWriteError
        facts = ("reason", "pipeline_id", "stage_id", "stage_name", "color", "nearest")
        assert [getattr(copied, f) for f in facts] == [getattr(caught.value, f) for f in facts]
        assert str(copied) == str(caught.value)

    def test_is_not_frozen(self) -> None:
        error = KommoWriteError("why")
        error.stage_id = 5
        assert error.stage_id == 5


# -- requests: laws --------------------------------------------------------------------

_PATH: Final = re.compile(r"/api/v4/leads/pipelines/(\d+)(?:/statuses(?:/(\d+))?)?")


@dataclass(frozen=True)
class Batch:
    """A workspace and stage commands that pipekit accepts on it, one after the other."""

    start: Workspace
    commands: tuple[Command, ...]

    def applied(self) -> tuple[Workspace, list[int]]:
        """The workspace the commands give, and the ids of the stages they add, in order."""
        workspace, added = self.start, []
        for command in self.commands:
            result = apply(workspace, command, at=AT)
            workspace = result.workspace
            added += [e.stage.id for e in result.events if isinstance(e, StageAdded)]
        return workspace, added


@st.composite
def batches(draw: st.DrawFn, *, kommo_friendly: bool) -> Batch:
    """Accepted stage commands; *kommo_friendly* ones use palette colours and default deletes."""
    start = draw(workspaces(max_steps=3))
    workspace, accepted = start, []
    for _ in range(draw(st.integers(0, 25))):
        command = draw(COMMAND_STRATEGIES[draw(st.sampled_from(_STAGE_COMMAND_KINDS))](workspace))
        to_palette = kommo_friendly or draw(st.booleans())
        if isinstance(command, AddStage | RecolorStage) and command.color and to_palette:
            command = attrs.evolve(command, color=draw(st.sampled_from(KOMMO_PALETTE)))
        if isinstance(command, DeleteStage) and kommo_friendly:
            command = attrs.evolve(command, move_leads_to=None)
        try:
            workspace = apply(workspace, command, at=AT).workspace
        except ValueError:  # refused by pipekit's rules
            continue
        accepted.append(command)
    return Batch(start, tuple(accepted))


@st.composite
def crowded_batches(draw: st.DrawFn) -> Batch:
    """Many stages added and moved in one pipeline, often at one place, so sorts run out."""
    start = new_workspace(incoming=draw(st.booleans()))
    workspace, accepted = start, []
    spot = draw(st.integers(0, 3))
    for number in range(draw(st.integers(0, 40))):
        count = len(workspace.main_pipeline.open_stages)
        position = draw(st.sampled_from([min(spot, count), count]) | st.integers(0, count))
        command: Command
        if draw(st.integers(0, 3)):
            command = AddStage(1, f"Stage {number}", position=position)
        else:
            stage = draw(st.sampled_from(workspace.main_pipeline.open_stages))
            command = MoveStage(1, stage.id, min(position, count - 1))
        workspace = apply(workspace, command, at=AT).workspace
        accepted.append(command)
    return Batch(start, tuple(accepted))


@dataclass
class FakeKommo:
    """Kommo's pipelines as the requests leave them, the host mapping new ids as told."""

    pipelines: dict[int, Payload]
    new_ids: Iterator[int]

    @classmethod
    def holding(cls, workspace: Workspace, new_ids: list[int]) -> FakeKommo:
        pipelines = {
            p["id"]: {
                "name": p["name"],
                "statuses": {item["id"]: item for item in p["_embedded"]["statuses"]},
            }
            for p in to_kommo(workspace)["_embedded"]["pipelines"]
        }
        return cls(pipelines, iter(new_ids))

    def send(self, request: KommoRequest) -> None:
        match = _PATH.fullmatch(request.path)
        assert match is not None, request
        pipeline = self.pipelines[int(match[1])]
        held = pipeline["statuses"]
        if request.method == "POST":
            assert match[2] is None
            assert request.path.endswith("/statuses")
            assert isinstance(request.json, list)
            (item,) = request.json
            assert set(item) == {"name", "sort", "color"}
            held[next(self.new_ids)] = dict(item, type=0)
        elif request.method == "DELETE":
            assert match[2] is not None
            assert request.json is None
            del held[int(match[2])]
        elif match[2] is not None:
            assert request.method == "PATCH"
            assert isinstance(request.json, dict)
            (key,) = request.json
            assert key in {"name", "color", "sort"}
            held[int(match[2])] |= request.json
        else:
            assert request.method == "PATCH"
            assert "/statuses" not in request.path
            assert isinstance(request.json, dict)
            (key,) = request.json
            if key == "name":
                pipeline["name"] = request.json["name"]
            elif request.json["is_unsorted_on"]:
                held["incoming"] = {"name": "Incoming leads", "sort": 10, "type": 1}
            else:
                (incoming_key,) = [k for k, item in held.items() if item["type"] == 1]
                del held[incoming_key]


def assert_well_formed(requests: tuple[KommoRequest, ...]) -> None:
    """Check methods, paths and bodies, and that every colour written is in the palette."""
    for request in requests:
        assert request.method in {"POST", "PATCH", "DELETE"}
        assert _PATH.fullmatch(request.path), request
        assert json.loads(json.dumps(request.json)) == request.json
        bodies = request.json if isinstance(request.json, list) else [request.json]
        for item in bodies:
            if isinstance(item, dict) and "color" in item:
                assert Color(item["color"]) in KOMMO_PALETTE


class TestKommoRequestsLaws:
    @EXPENSIVE
    @given(batches(kommo_friendly=False))
    def test_requests_are_well_formed_and_write_only_palette_colours(self, batch: Batch) -> None:
        try:
            requests = kommo_requests(batch.start, batch.commands)
        except KommoWriteError as error:
            refused = error
        else:
            assert_well_formed(requests)
            return
        assert refused.color is None or refused.color not in KOMMO_PALETTE
        assert refused.nearest is None or refused.nearest in KOMMO_PALETTE
        assert (refused.color is None) == (refused.nearest is None)

    @EXPENSIVE
    @given(batches(kommo_friendly=True))
    def test_kommo_holds_what_pipekit_does_after_the_requests(self, batch: Batch) -> None:
        self.check_kommo_holds_what_pipekit_does(batch)

    @COSTLY
    @given(crowded_batches())
    def test_kommo_holds_the_order_pipekit_does_when_sorts_run_out(self, batch: Batch) -> None:
        self.check_kommo_holds_what_pipekit_does(batch)

    @staticmethod
    def check_kommo_holds_what_pipekit_does(batch: Batch) -> None:
        requests = kommo_requests(batch.start, batch.commands)
        assert_well_formed(requests)
        final, added = batch.applied()
        kommo = FakeKommo.holding(batch.start, added)
        for request in requests:
            kommo.send(request)
        for pipeline in final.pipelines:
            held = kommo.pipelines[pipeline.id]
            assert held["name"] == pipeline.name
            items = sorted(held["statuses"].items(), key=lambda entry: entry[1]["sort"])
            open_items = [(k, v) for k, v in items if v["type"] == 0 and k not in (142, 143)]
            assert [(k, v["name"], v["color"]) for k, v in open_items] == [
                (stage.id, stage.name, stage.color.hex) for stage in pipeline.open_stages
            ]
            sorts = [v["sort"] for _, v in open_items]
            assert all(10 < low < high < 10_000 for low, high in itertools.pairwise(sorts))
            assert all(10 < sort < 10_000 for sort in sorts)
            assert [v["type"] for _, v in items[:1]] == [0 if pipeline.incoming is None else 1]
            assert [v["name"] for k, v in items[-2:]] == [pipeline.won.name, pipeline.lost.name]
