"""Kommo (amoCRM) API v4: read its pipelines, write them back, and carry commands to it.

:func:`from_kommo` reads the body of ``GET /api/v4/leads/pipelines`` (or of one
pipeline) into a :class:`~pipekit.Workspace`, re-checking every pipekit rule with
the core constructors; :func:`to_kommo` writes a workspace in the same shape; and
:func:`kommo_requests` turns stage commands into the API calls that carry them
out. pipekit never talks to the network: the host sends the requests.

>>> from pipekit import RenameStage
>>> statuses = [
...     {"id": 58141807, "name": " Initial contact ", "sort": 20, "color": "#99CCFF", "type": 0},
...     {"id": 142, "name": "Closed - won", "sort": 10000, "color": "#CCFF66", "type": 0},
...     {"id": 143, "name": "Closed - lost", "sort": 11000, "color": "#D5D8DB", "type": 0},
... ]
>>> pipeline = {"id": 7, "name": "Sales", "sort": 1, "is_main": True,
...             "_embedded": {"statuses": statuses}}
>>> workspace = from_kommo(pipeline)
>>> workspace.main_pipeline.stages[0]
Stage(id=58141807, name='Initial contact', color=Color('#99ccff'), kind=StageKind.OPEN)
>>> to_kommo(workspace)["_embedded"]["pipelines"][0]["_embedded"]["statuses"][0]
{'id': 58141807, 'name': 'Initial contact', 'sort': 20, 'color': '#99ccff', 'type': 0, \
'pipeline_id': 7, 'is_editable': True}
>>> kommo_requests(workspace, [RenameStage(7, 58141807, "First call")])
(KommoRequest(method='PATCH', path='/api/v4/leads/pipelines/7/statuses/58141807', \
json={'name': 'First call'}),)
>>> from_kommo({"_embedded": {"statuses": statuses[:1]}})
Traceback (most recent call last):
    ...
pipekit.kommo.KommoFormatError: at /: missing the field 'id'
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Generic, Literal, TypeAlias, TypeVar, final

import attrs

from pipekit import commands as _commands
from pipekit import events as _events
from pipekit._checks import require_type
from pipekit.applying import apply
from pipekit.codec import JSON, DecodeError, describe_json
from pipekit.color import KOMMO_PALETTE, PALETTE_INDEX, Color
from pipekit.commands import Command
from pipekit.errors import InvalidPipeline, InvalidWorkspace, RuleViolation
from pipekit.events import Event
from pipekit.names import clean_name
from pipekit.pipeline import LOST_STAGE_ID, WON_STAGE_ID, Pipeline
from pipekit.stage import Stage, StageKind, check_id
from pipekit.workspace import Workspace

__all__ = [
    "KommoFormatError",
    "KommoRequest",
    "KommoWriteError",
    "Method",
    "from_kommo",
    "kommo_requests",
    "to_kommo",
]

_T = TypeVar("_T")
_U = TypeVar("_U")
_V = TypeVar("_V", Stage, Pipeline)

# Kommo's system sorts; open stages are numbered 20, 30, 40... between them.
_INCOMING_SORT: Final = 10
_WON_SORT: Final = 10_000
_LOST_SORT: Final = 11_000
_OPEN_SORT_START: Final = 20
_OPEN_SORT_STEP: Final = 10
_SYSTEM_SORTS: Final = {
    StageKind.INCOMING: _INCOMING_SORT,
    StageKind.WON: _WON_SORT,
    StageKind.LOST: _LOST_SORT,
}

_PIPELINES: Final = "/api/v4/leads/pipelines"
# apply needs a time; no event of a stage command outlives kommo_requests, so any will do.
_AT: Final = datetime(1970, 1, 1, tzinfo=UTC)


# -- errors -----------------------------------------------------------------------------


class KommoFormatError(DecodeError):
    """A payload is not what Kommo's API sends, or it breaks a pipekit rule.

    ``path`` is a JSON Pointer into the payload as given (indexes count in the
    payload's own lists, not in sorted order), ``reason`` says what is wrong, and
    ``rule`` names what broke: ``"shape"`` when the payload is not the expected shape
    at all (a missing field, a wrong type), else the pipekit rule the data breaks
    (``"R1"``, ``"R6"``, ``"R7"``, ``"R8"``, ``"R9"``, ``"W3"`` or ``"W6"``).

    >>> error = KommoFormatError("/_embedded/statuses/3/name", "a duplicate name", rule="R7")
    >>> error.code, error.rule, error.path
    ('kommo_format_error', 'R7', '/_embedded/statuses/3/name')
    """

    code: ClassVar[str] = "kommo_format_error"

    def __init__(self, path: str, reason: str, rule: str = "shape") -> None:
        self.rule = rule
        super().__init__(path, reason)

    @classmethod
    def _breaking(cls, path: str, rule: str, reason: str) -> KommoFormatError:
        """Return the error for data that breaks the pipekit rule *rule*."""
        return cls(path, f"{reason} ({rule})", rule)


@final
class KommoWriteError(RuleViolation):
    """A command pipekit accepts that Kommo's API cannot carry; ``reason`` says why.

    ``pipeline_id``, ``stage_id`` and ``stage_name`` name the pipeline and stage
    concerned (``None`` when the command names none). When the cause is a colour outside
    :data:`~pipekit.KOMMO_PALETTE`, ``color`` holds it and ``nearest`` the palette
    colour closest to it (by distance in RGB, the first in palette order on a tie);
    otherwise both are ``None``.
    """

    code: ClassVar[str] = "kommo_write_error"

    def __init__(
        self,
        reason: str,
        *,
        pipeline_id: int | None = None,
        stage_id: int | None = None,
        stage_name: str | None = None,
        color: Color | None = None,
        nearest: Color | None = None,
    ) -> None:
        self.reason = reason
        self.pipeline_id = pipeline_id
        self.stage_id = stage_id
        self.stage_name = stage_name
        self.color = color
        self.nearest = nearest
        where = "" if stage_id is None else f" stage {stage_id} of"
        if stage_name is not None:
            where = f" stage {stage_name!r} (id {stage_id}) of"
        where += "" if pipeline_id is None else f" pipeline {pipeline_id}"
        super().__init__(f"Kommo cannot write{where or ' this'}: {reason}")

    @classmethod
    def _off_palette(cls, pipeline_id: int, stage: Stage) -> KommoWriteError:
        nearest = _nearest(stage.color)
        return cls(
            f"the colour {stage.color} is not one of the {len(KOMMO_PALETTE)} colours Kommo"
            f" accepts; the nearest is {nearest}",
            pipeline_id=pipeline_id,
            stage_id=stage.id,
            stage_name=stage.name,
            color=stage.color,
            nearest=nearest,
        )

    @classmethod
    def _not_carried(cls, command: Command) -> KommoWriteError:
        return cls(
            f"{type(command).__name__} is not a stage command Kommo's pipelines API carries"
            " (kommo_requests translates stage commands and RenamePipeline)"
        )

    @classmethod
    def _leads_elsewhere(
        cls, pipeline_id: int, stage_id: int, target: int, first: int
    ) -> KommoWriteError:
        return cls(
            f"deleting a stage moves its leads to the pipeline's first stage ({first}),"
            f" so Kommo cannot move them to stage {target}",
            pipeline_id=pipeline_id,
            stage_id=stage_id,
        )


def _rgb(color: Color) -> tuple[int, int, int]:
    value = int(color.hex[1:], 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def _nearest(color: Color) -> Color:
    red, green, blue = _rgb(color)

    def distance(candidate: Color) -> int:
        r, g, b = _rgb(candidate)
        return (r - red) ** 2 + (g - green) ** 2 + (b - blue) ** 2

    return min(KOMMO_PALETTE, key=distance)  # min keeps the first of equals


# -- reading --------------------------------------------------------------------------


def _object(data: object, path: str) -> dict[str, object]:
    if not isinstance(data, dict):
        raise KommoFormatError(path, f"expected an object, got {describe_json(data)}")
    return data


def _field(data: dict[str, object], key: str, path: str) -> object:
    if key not in data:
        raise KommoFormatError(path, f"missing the field {key!r}")
    return data[key]


def _read(data: dict[str, object], key: str, path: str, kind: type[_T], what: str) -> _T:
    value = _field(data, key, path)
    # bool is an int in Python, never in JSON: an id or a sort of true is refused.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise KommoFormatError(f"{path}/{key}", f"expected {what}, got {describe_json(value)}")
    return value


def _checked(path: str, rule: str, check: Callable[[_T], _U], value: _T) -> _U:
    """Return ``check(value)``; turn the rule it finds broken into a KommoFormatError."""
    try:
        return check(value)
    except RuleViolation as error:
        raise KommoFormatError._breaking(path, rule, str(error)) from None


@attrs.frozen
class _Read(Generic[_V]):
    """A status or a pipeline read from the payload, with where it stands there."""

    path: str
    sort: int
    id: int
    value: _V
    is_main: bool = False


def _read_common(data: object, path: str) -> tuple[dict[str, object], int, str, int]:
    """Return the object *data* with the fields pipelines and statuses share: id, name, sort."""
    item = _object(data, path)
    return (
        item,
        _read(item, "id", path, int, "an integer"),
        _read(item, "name", path, str, "a string"),
        _read(item, "sort", path, int, "an integer"),
    )


def _read_status(data: object, path: str) -> _Read[Stage]:
    status, stage_id, name, sort = _read_common(data, path)
    color = _read(status, "color", path, str, "a string")
    kind_code = _read(status, "type", path, int, "an integer")
    if kind_code not in (0, 1):
        raise KommoFormatError(f"{path}/type", f"expected 0 or 1, got {kind_code}")
    if kind_code == 1:
        kind = StageKind.INCOMING
    else:
        kind = {WON_STAGE_ID: StageKind.WON, LOST_STAGE_ID: StageKind.LOST}.get(
            stage_id, StageKind.OPEN
        )
    stage = Stage(
        _checked(f"{path}/id", "R9", check_id, stage_id),
        _checked(f"{path}/name", "R7", clean_name, name),
        _checked(f"{path}/color", "R8", Color, color),
        kind,
    )
    return _Read(path, sort, stage_id, stage)


def _read_pipeline(data: object, path: str) -> _Read[Pipeline]:
    pipeline, pipeline_id, name, sort = _read_common(data, path)
    is_main = _read(pipeline, "is_main", path, bool, "a boolean")
    # Kommo always sends is_archive; a pipeline without it is read as not archived.
    archived = "is_archive" in pipeline and _read(pipeline, "is_archive", path, bool, "a boolean")
    embedded = _object(_field(pipeline, "_embedded", path), f"{path}/_embedded")
    where = f"{path}/_embedded/statuses"
    items = _read(embedded, "statuses", f"{path}/_embedded", list, "an array")
    statuses = sorted(
        (_read_status(item, f"{where}/{index}") for index, item in enumerate(items)),
        key=_order,
    )
    try:
        built = Pipeline(
            id=pipeline_id,
            name=name,
            stages=tuple(status.value for status in statuses),
            archived=archived,
        )
    except InvalidPipeline as error:
        blamed = _pointer(error.where, "stages", path, where, statuses)
        if error.where == ("stages",) and error.rule == "R1":
            blamed = _misplaced_terminal(statuses) or blamed
        raise KommoFormatError._breaking(blamed, error.rule, error.reason) from None
    return _Read(path, sort, pipeline_id, built, is_main)


def _misplaced_terminal(statuses: list[_Read[Stage]]) -> str | None:
    """Return the pointer of the status whose sort breaks the won-then-lost ending.

    With a won and a lost status both there, the one at fault is the won status
    when it sorts after the lost one, else the first other status that sorts after
    the won one. Without both, no single status is at fault.
    """
    kinds = [status.value.kind for status in statuses]
    if StageKind.WON not in kinds or StageKind.LOST not in kinds:
        return None
    won, lost = kinds.index(StageKind.WON), kinds.index(StageKind.LOST)
    if won > lost:
        return statuses[won].path
    after = [index for index in range(won + 1, len(statuses)) if index != lost]
    return statuses[after[0]].path if after else None


def _order(item: _Read[Any]) -> tuple[int, int]:
    return item.sort, item.id


def _pointer(
    where: tuple[str | int, ...], items: str, path: str, items_path: str, read: list[_Read[Any]]
) -> str:
    """Return the payload pointer of the part a core error blames.

    *where* is the error's path inside the pipekit value; a step into its list
    *items* (sorted) becomes the pointer of that item in the payload's own list.
    """
    if where[:1] != (items,):
        return path + "".join(f"/{step}" for step in where)
    if len(where) == 1:
        return items_path
    index = where[1]
    assert isinstance(index, int)  # the step after a list is an index
    return read[index].path + "".join(f"/{step}" for step in where[2:])


def from_kommo(payload: object) -> Workspace:
    """Return the workspace that a Kommo API v4 pipelines payload describes.

    *payload* is the decoded JSON body of ``GET /api/v4/leads/pipelines`` (an object
    with ``_embedded.pipelines``) or of ``GET /api/v4/leads/pipelines/{id}`` (one
    pipeline: an object with ``_embedded.statuses``). Pipelines and statuses are
    put in order of ``sort``, ties by id. A status of ``type`` 1 is the incoming
    leads stage, the ids 142 and 143 are the won and lost stages, and every other
    status is open. Ids are kept exactly; names are stripped of surrounding white
    space (R7); colours may be any ``#rrggbb`` (or ``#rgb``), in any case, and are
    kept in lower case. The result holds no leads and no loss reasons.

    What pipekit does not use is ignored: ``_links``, ``account_id``,
    ``_total_items``, ``descriptions``, ``is_editable``, a status's ``pipeline_id``
    (even when it names another pipeline), ``is_unsorted_on`` (incoming leads are on
    exactly when a ``type`` 1 status is there), and any other field. ``is_archive``
    gives :attr:`Pipeline.archived <pipekit.Pipeline.archived>`, false when absent.
    Exactly one pipeline must have ``is_main`` true, so a single pipeline read alone
    must be the main one.

    Raises :class:`KommoFormatError` for any payload that is not such a body, or
    whose data breaks a pipekit rule, with the pointer of the offending place; it
    raises nothing else, whatever *payload* is.
    """
    root = _object(payload, "")
    embedded = _object(_field(root, "_embedded", ""), "/_embedded")
    if "statuses" in embedded:
        where = ""
        pipelines = [_read_pipeline(root, "")]
    else:
        where = "/_embedded/pipelines"
        items = _read(embedded, "pipelines", "/_embedded", list, "an array")
        pipelines = sorted(
            (_read_pipeline(item, f"{where}/{index}") for index, item in enumerate(items)),
            key=_order,
        )
    mains = [pipeline for pipeline in pipelines if pipeline.is_main]
    if len(mains) != 1:
        blamed = mains[1] if mains else pipelines[0] if len(pipelines) == 1 else None
        raise KommoFormatError._breaking(
            where if blamed is None else f"{blamed.path}/is_main",
            "W3",
            f"exactly one pipeline must have is_main true, {len(mains)} have it",
        )
    return _workspace(pipelines, mains[0].id, where)


def _workspace(pipelines: list[_Read[Pipeline]], main_pipeline_id: int, where: str) -> Workspace:
    try:
        return Workspace(
            pipelines=tuple(pipeline.value for pipeline in pipelines),
            main_pipeline_id=main_pipeline_id,
        )
    except InvalidWorkspace as error:
        raise KommoFormatError._breaking(
            _pointer(error.where, "pipelines", "", where, pipelines), error.rule, error.reason
        ) from None


# -- writing --------------------------------------------------------------------------


def _open_sort(position: int) -> int:
    return _OPEN_SORT_START + _OPEN_SORT_STEP * position


def _sorts(pipeline: Pipeline) -> tuple[int, ...]:
    """Return the ``sort`` of each stage of *pipeline* by the export rule, in order."""
    first = pipeline.first_open_index
    return tuple(
        _SYSTEM_SORTS.get(stage.kind, _open_sort(index - first))
        for index, stage in enumerate(pipeline.stages)
    )


def to_kommo(workspace: Workspace) -> dict[str, Any]:
    """Return *workspace*'s pipelines as the body of ``GET /api/v4/leads/pipelines``.

    Each pipeline has ``id``, ``name``, ``sort``, ``is_main``, ``is_unsorted_on``
    (incoming leads on), ``is_archive`` and ``_embedded.statuses``; each status
    ``id``, ``name``, ``sort``, ``color`` (``#rrggbb``, lower case), ``type`` (1 for
    incoming leads, else 0), ``pipeline_id`` and ``is_editable`` (true for open
    stages only). ``sort`` follows a fixed rule: pipelines 1, 2, 3... in display
    order; statuses incoming 10, open stages 20, 30, 40..., won 10000, lost 11000,
    Kommo's own system values. Ids are pipekit's, so the won and lost stages are
    142 and 143 in pipelines that :func:`~pipekit.default_pipeline` or
    :func:`from_kommo` made. ``_total_items`` counts the pipelines. Leads, loss
    reasons and stage id counters are not written.

    ``from_kommo(to_kommo(workspace))`` gives back the same pipelines (ids, names,
    order, archived flags, every stage's id, name, colour and kind) and the same
    main pipeline, for every workspace whose won and lost stages are 142 and 143.
    """
    require_type(workspace, Workspace, "workspace")
    pipelines = [
        {
            "id": pipeline.id,
            "name": pipeline.name,
            "sort": sort,
            "is_main": pipeline.id == workspace.main_pipeline_id,
            "is_unsorted_on": pipeline.incoming is not None,
            "is_archive": pipeline.archived,
            "_embedded": {
                "statuses": [
                    {
                        "id": stage.id,
                        "name": stage.name,
                        "sort": stage_sort,
                        "color": stage.color.hex,
                        "type": 1 if stage.kind is StageKind.INCOMING else 0,
                        "pipeline_id": pipeline.id,
                        "is_editable": stage.kind is StageKind.OPEN,
                    }
                    for stage, stage_sort in zip(pipeline.stages, _sorts(pipeline), strict=True)
                ]
            },
        }
        for sort, pipeline in enumerate(workspace.pipelines, start=1)
    ]
    return {"_total_items": len(pipelines), "_embedded": {"pipelines": pipelines}}


# -- requests -------------------------------------------------------------------------

Method: TypeAlias = Literal["POST", "PATCH", "DELETE"]
"""The HTTP methods of the requests :func:`kommo_requests` returns."""


@final
@attrs.frozen
class KommoRequest:
    """One call to Kommo's API v4: ``method``, ``path`` and the JSON body ``json``.

    ``path`` starts at ``/api/v4`` and goes after the account's address
    (``https://{subdomain}.kommo.com``); ``json`` is the body to send as
    ``application/json``, ``None`` for a ``DELETE``. The body is plain JSON for an
    HTTP client to take as it is; treat it as read-only (it takes no part in the
    hash).
    """

    method: Method
    path: str
    json: JSON = attrs.field(default=None, hash=False)


_STAGE_COMMANDS: Final = (
    _commands.AddStage,
    _commands.RenameStage,
    _commands.RecolorStage,
    _commands.MoveStage,
    _commands.DeleteStage,
    _commands.RenameTerminal,
    _commands.EnableIncoming,
    _commands.DisableIncoming,
    _commands.RenamePipeline,
)
_COMMANDS: Final = typing.get_args(Command)

_SortTable: TypeAlias = dict[int, dict[int, int]]
"""For each pipeline id, the ``sort`` Kommo holds for each open stage id."""


def kommo_requests(workspace: Workspace, commands: Iterable[Command]) -> tuple[KommoRequest, ...]:
    """Return the Kommo API v4 requests that carry out *commands* on *workspace*'s account.

    The commands are applied in order with :func:`pipekit.apply` first, so pipekit's
    rules check them: a refused one raises its :class:`~pipekit.RuleViolation`
    unchanged. Each accepted command becomes its requests, and one that changes
    nothing becomes none:

    - ``AddStage``: ``POST /api/v4/leads/pipelines/{id}/statuses`` with
      ``[{"name", "sort", "color"}]``;
    - ``RenameStage``, ``RenameTerminal``, ``RecolorStage``, ``MoveStage``:
      ``PATCH .../statuses/{status_id}`` with ``{"name"}``, ``{"color"}`` or ``{"sort"}``;
    - ``DeleteStage``: ``DELETE .../statuses/{status_id}``;
    - ``EnableIncoming``, ``DisableIncoming``, ``RenamePipeline``:
      ``PATCH /api/v4/leads/pipelines/{id}`` with ``{"is_unsorted_on"}`` or ``{"name"}``.
      Kommo names and colours the incoming leads stage itself, so the name and colour
      of ``EnableIncoming`` are not sent.

    Kommo's write rules are kept. A colour written (by ``AddStage``, the default
    colour pipekit picks included, or ``RecolorStage``) must be in
    :data:`~pipekit.KOMMO_PALETTE`; and since Kommo's ``DELETE`` moves a stage's leads
    to the pipeline's first stage, a ``DeleteStage`` whose ``move_leads_to`` names
    another stage than the first open stage left cannot be carried. Either raises
    :class:`KommoWriteError`, as does any command that is not one of those above
    (a pipeline, lead or loss reason command); an object that is no command at all
    raises :class:`TypeError`.

    ``sort`` keeps the incoming leads stage (10) first and the won and lost stages
    (10000, 11000) last. The account's current sorts are assumed to be the ones
    :func:`to_kommo` writes (20, 30, 40... in display order): read the account with
    :func:`from_kommo` and write its sorts back first if it may hold others, and
    read it again after a batch, since Kommo may renumber added stages. An added
    or moved stage gets a sort between its new neighbours; when no integer fits,
    the open stages of that pipeline are renumbered 20, 30, 40..., by ``PATCH``
    requests for the stages whose sort changes, sent before the request for the
    stage itself.

    Kommo gives an added stage its own id, in the response to the ``POST``, which
    pipekit cannot know: a later request of the same batch that names such a stage
    uses the id pipekit gave it. Send the requests in order, and replace those ids
    with the ones Kommo returns.
    """
    require_type(workspace, Workspace, "workspace")
    table: _SortTable = {
        pipeline.id: {
            stage.id: sort
            for stage, sort in zip(pipeline.stages, _sorts(pipeline), strict=True)
            if stage.kind is StageKind.OPEN
        }
        for pipeline in workspace.pipelines
    }
    requests: list[KommoRequest] = []
    for command in commands:
        if not isinstance(command, _COMMANDS):
            raise TypeError(f"expected a pipekit command, got {type(command).__name__}")
        if not isinstance(command, _STAGE_COMMANDS):
            raise KommoWriteError._not_carried(command)
        applied = apply(workspace, command, at=_AT)
        workspace = applied.workspace
        if isinstance(command, _commands.DeleteStage) and command.move_leads_to is not None:
            first = workspace.pipeline(command.pipeline_id).open_stages[0].id
            if command.move_leads_to != first:
                raise KommoWriteError._leads_elsewhere(
                    command.pipeline_id, command.stage_id, command.move_leads_to, first
                )
        for event in applied.events:
            requests += _requests_for(event, workspace, table)
    return tuple(requests)


def _status_path(pipeline_id: int, stage_id: int) -> str:
    return f"{_PIPELINES}/{pipeline_id}/statuses/{stage_id}"


def _requests_for(event: Event, workspace: Workspace, table: _SortTable) -> list[KommoRequest]:
    """Return the requests that carry *event* out; *workspace* is the state after it."""
    match event:
        case _events.StageAdded(pipeline_id=pipeline_id, stage=stage):
            _check_palette(pipeline_id, stage)
            sort, renumbered = _place(workspace.pipeline(pipeline_id), stage.id, table)
            body: JSON = [{"name": stage.name, "sort": sort, "color": stage.color.hex}]
            return [*renumbered, KommoRequest("POST", f"{_PIPELINES}/{pipeline_id}/statuses", body)]
        case _events.StageMoved(pipeline_id=pipeline_id, stage_id=stage_id):
            sort, renumbered = _place(workspace.pipeline(pipeline_id), stage_id, table)
            return [
                *renumbered,
                KommoRequest("PATCH", _status_path(pipeline_id, stage_id), {"sort": sort}),
            ]
        case _events.StageRenamed(pipeline_id=pipeline_id, stage_id=stage_id, name=name):
            return [KommoRequest("PATCH", _status_path(pipeline_id, stage_id), {"name": name})]
        case _events.StageRecolored(pipeline_id=pipeline_id, stage_id=stage_id):
            recolored = workspace.pipeline(pipeline_id).stage(stage_id)
            _check_palette(pipeline_id, recolored)
            body = {"color": recolored.color.hex}
            return [KommoRequest("PATCH", _status_path(pipeline_id, stage_id), body)]
        case _events.StageDeleted(pipeline_id=pipeline_id, stage_id=stage_id):
            del table[pipeline_id][stage_id]
            return [KommoRequest("DELETE", _status_path(pipeline_id, stage_id))]
        case _events.IncomingStageEnabled(pipeline_id=pipeline_id):
            return [KommoRequest("PATCH", f"{_PIPELINES}/{pipeline_id}", {"is_unsorted_on": True})]
        case _events.IncomingStageDisabled(pipeline_id=pipeline_id):
            return [KommoRequest("PATCH", f"{_PIPELINES}/{pipeline_id}", {"is_unsorted_on": False})]
        case _events.PipelineRenamed(pipeline_id=pipeline_id, name=name):
            return [KommoRequest("PATCH", f"{_PIPELINES}/{pipeline_id}", {"name": name})]
        case _:
            # LeadsRelocated, before a StageDeleted: Kommo moves the leads itself.
            return []


def _check_palette(pipeline_id: int, stage: Stage) -> None:
    if stage.color not in PALETTE_INDEX:
        raise KommoWriteError._off_palette(pipeline_id, stage)


def _place(pipeline: Pipeline, stage_id: int, table: _SortTable) -> tuple[int, list[KommoRequest]]:
    """Give the open stage *stage_id* a sort between its neighbours in *pipeline*.

    Returns the sort, and the requests that renumber the other open stages when
    no integer fits between the neighbours.
    """
    sorts = table[pipeline.id]
    ids = [stage.id for stage in pipeline.open_stages]
    index = ids.index(stage_id)
    low = sorts[ids[index - 1]] if index > 0 else _INCOMING_SORT
    high = sorts[ids[index + 1]] if index + 1 < len(ids) else _WON_SORT
    if high - low > _OPEN_SORT_STEP:
        sorts[stage_id] = low + _OPEN_SORT_STEP
        return sorts[stage_id], []
    if high - low > 1:
        sorts[stage_id] = (low + high) // 2
        return sorts[stage_id], []
    renumbered = []
    for position, other in enumerate(ids):
        wanted = _open_sort(position)
        if other != stage_id and sorts[other] != wanted:
            renumbered.append(
                KommoRequest("PATCH", _status_path(pipeline.id, other), {"sort": wanted})
            )
        sorts[other] = wanted
    return sorts[stage_id], renumbered
