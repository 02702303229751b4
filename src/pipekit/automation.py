"""Automations: the Digital Pipeline's per-stage rules for what to do with a lead, and when.

An :class:`Automation` watches some stages of one pipeline and, on a
:class:`Trigger`, calls for an action after a delay: a :class:`MoveTo` that
pipekit carries out itself, or a :class:`HostAction` that the host performs
(send an e-mail, call a webhook...). This module holds the values; the rules
that need the workspace (the stages exist, no move touches incoming leads) are
the workspace's, see :mod:`pipekit.workspace`.

>>> from datetime import timedelta
>>> from pipekit import Automation, HostAction, Trigger
>>> welcome = HostAction("send_email", {"template": "welcome", "cc": ["sales@example.com"]})
>>> welcome.params == {"template": "welcome", "cc": ["sales@example.com"]}
True
>>> automation = Automation(1, 1, (144,), Trigger.ENTERED, welcome, delay=timedelta(minutes=5))
>>> automation.stage_ids, automation.delay, automation.enabled
((144,), datetime.timedelta(seconds=300), True)
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final, TypeAlias, final, overload

import attrs

from pipekit._checks import int_text, require_type
from pipekit.bounds import DELAY_RANGE, SAFE_RANGE, Delay, Id, Price, microseconds
from pipekit.errors import InvalidDelay, InvalidPriceRange, InvalidTarget
from pipekit.lead import check_price, positive_id
from pipekit.names import clean_name
from pipekit.stage import check_id

__all__ = [
    "MAX_AUTOMATIONS",
    "MAX_PARAMS_DEPTH",
    "Action",
    "Automation",
    "FrozenList",
    "FrozenMapping",
    "HostAction",
    "MoveTo",
    "Trigger",
    "freeze_json",
]

MAX_AUTOMATIONS: Final = 100
"""The most automations one pipeline holds (D3)."""

MAX_PARAMS_DEPTH: Final = 32
"""How deep a host action's ``params`` may nest objects and arrays (the mapping itself is 1)."""


@final
class Trigger(enum.Enum):
    """When an automation fires for a lead, relative to the stages it watches.

    The watched stages form one region: a move between two of them is neither
    a move in nor a move out.
    """

    ENTERED = "entered"
    """Created in the watched stages or moved into them (Kommo's default)."""
    CREATED = "created"
    """Created in the watched stages."""
    MOVED_IN = "moved_in"
    """Moved into the watched stages from a stage outside them."""
    LEFT = "left"
    """Moved out of the watched stages to a stage outside them."""

    def __repr__(self) -> str:
        return f"Trigger.{self.name}"


# -- frozen JSON --------------------------------------------------------------------


@final
class FrozenList(Sequence[Any]):
    """A read-only, hashable JSON array: equal to the list it was made from.

    >>> FrozenList([1, "two"]) == [1, "two"], FrozenList([1]) == (1,)
    (True, False)
    """

    __slots__ = ("_items",)
    _items: tuple[Any, ...]

    def __init__(self, items: Sequence[Any] = ()) -> None:
        object.__setattr__(self, "_items", tuple(_frozen(item, 1) for item in items))

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> FrozenList: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return _trusted_list(self._items[index])
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenList):
            return self._items == other._items
        if isinstance(other, list):
            return len(self._items) == len(other) and all(
                mine == theirs for mine, theirs in zip(self._items, other, strict=True)
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((FrozenList, self._items))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a FrozenList cannot be changed (tried to set {name!r})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self._items),))

    def __repr__(self) -> str:
        return f"FrozenList({list(self._items)!r})"


@final
class FrozenMapping(Mapping[str, Any]):
    """A read-only, hashable JSON object: equal to the dict it was made from.

    Keys are strings; values are JSON values, nested objects and arrays frozen too.

    >>> params = FrozenMapping({"url": "https://example.com", "retries": [1, 5]})
    >>> params == {"url": "https://example.com", "retries": [1, 5]}, params["retries"][1]
    (True, 5)
    >>> hash(params) == hash(FrozenMapping(dict(params)))
    True
    """

    __slots__ = ("_items",)
    _items: dict[str, Any]

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_items", _frozen_items(items or {}, 1))

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMapping):
            return self._items == other._items
        if isinstance(other, dict):
            return self._items == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((FrozenMapping, frozenset(self._items.items())))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a FrozenMapping cannot be changed (tried to set {name!r})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMapping, (dict(self._items),))

    def __repr__(self) -> str:
        return f"FrozenMapping({self._items!r})"


def freeze_json(value: Mapping[str, Any]) -> FrozenMapping:
    """Return *value*, a JSON object, deep-frozen; anything that is not JSON raises TypeError.

    JSON here means: ``None``, ``bool``, ``int`` within
    :data:`~pipekit.bounds.SAFE_RANGE` (a larger one raises ``ValueError``), finite
    ``float``, ``str``; lists and tuples of JSON values; mappings with ``str`` keys and
    JSON values; at most :data:`MAX_PARAMS_DEPTH` levels deep. NaN and the infinities are not JSON
    (RFC 8259) and are refused, as are sets, bytes, datetimes and other keys.
    """
    if isinstance(value, FrozenMapping):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"params must be a mapping, got {type(value).__name__}")
    return FrozenMapping(value)


def _frozen(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if value not in SAFE_RANGE:
            raise ValueError(
                f"params hold the integer {int_text(value)}, outside what JSON readers hold"
                f" exactly ({SAFE_RANGE.low} to {SAFE_RANGE.high})"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"params hold {value!r}, which JSON cannot write")
        return value
    if isinstance(value, FrozenMapping | FrozenList):
        # Frozen already, so JSON; but it may nest too deep below this level.
        _check_depth(value, depth + 1)
        return value
    if depth >= MAX_PARAMS_DEPTH:
        raise TypeError(f"params nest deeper than {MAX_PARAMS_DEPTH} levels")
    if isinstance(value, Mapping):
        return _trusted_mapping(_frozen_items(value, depth + 1))
    if isinstance(value, list | tuple):
        return _trusted_list(tuple(_frozen(item, depth + 1) for item in value))
    raise TypeError(f"params hold a {type(value).__name__}, which is not a JSON value")


def _frozen_items(items: Mapping[str, Any], depth: int) -> dict[str, Any]:
    if not isinstance(items, Mapping):
        raise TypeError(f"params must be a mapping, got {type(items).__name__}")
    frozen: dict[str, Any] = {}
    for key, item in items.items():
        if not isinstance(key, str):
            raise TypeError(f"params keys must be strings, got {type(key).__name__}")
        frozen[key] = _frozen(item, depth)
    return frozen


def _check_depth(value: FrozenMapping | FrozenList, depth: int) -> None:
    if depth > MAX_PARAMS_DEPTH:
        raise TypeError(f"params nest deeper than {MAX_PARAMS_DEPTH} levels")
    children = value._items.values() if isinstance(value, FrozenMapping) else value._items
    for child in children:
        if isinstance(child, FrozenMapping | FrozenList):
            _check_depth(child, depth + 1)


def _trusted_mapping(items: dict[str, Any]) -> FrozenMapping:
    mapping = object.__new__(FrozenMapping)
    object.__setattr__(mapping, "_items", items)
    return mapping


def _trusted_list(items: tuple[Any, ...]) -> FrozenList:
    frozen = object.__new__(FrozenList)
    object.__setattr__(frozen, "_items", items)
    return frozen


# -- actions ------------------------------------------------------------------------


def _optional_pipeline_id(value: int | None) -> int | None:
    return None if value is None else positive_id(value, "pipeline")


@final
@attrs.frozen
class MoveTo:
    """Move the lead to the stage *stage_id*: an action pipekit carries out itself.

    ``pipeline_id=None`` means the automation's own pipeline.
    """

    stage_id: Id = attrs.field(converter=check_id)
    pipeline_id: Id | None = attrs.field(default=None, converter=_optional_pipeline_id)


@final
@attrs.frozen
class HostAction:
    """An action the host performs: pipekit only says when it is due.

    ``kind`` is the host's own word for it (``"send_email"``, ``"webhook"``),
    stripped and checked like a name (:class:`~pipekit.InvalidName`); ``params``
    is any JSON object, deep-frozen (see :func:`freeze_json`).
    """

    kind: str = attrs.field(converter=clean_name)
    params: FrozenMapping = attrs.field(factory=FrozenMapping, converter=freeze_json)


Action: TypeAlias = MoveTo | HostAction
"""What an automation does: move the lead, or hand an action over to the host."""


# -- automations --------------------------------------------------------------------


def _stage_ids(value: Sequence[int]) -> tuple[int, ...]:
    if not isinstance(value, tuple | list):
        raise TypeError(f"stage_ids must be a tuple of stage ids, got {type(value).__name__}")
    return tuple(check_id(stage_id) for stage_id in value)


def _check_trigger(value: Trigger) -> Trigger:
    return require_type(value, Trigger, "a trigger")


def check_action(value: Action) -> Action:
    """Return *value* if it is an :data:`Action`: a :class:`MoveTo` or a :class:`HostAction`."""
    if not isinstance(value, MoveTo | HostAction):
        raise TypeError(f"an action must be a MoveTo or a HostAction, got {type(value).__name__}")
    return value


def _check_delay(value: timedelta) -> timedelta:
    if microseconds(require_type(value, timedelta, "a delay")) not in DELAY_RANGE:
        raise InvalidDelay(value)
    return value


def _optional_price(value: int | None) -> int | None:
    return None if value is None else check_price(value)


def _automation_id(value: int) -> int:
    return positive_id(value, "automation")


def _pipeline_id(value: int) -> int:
    return positive_id(value, "pipeline")


@final
@attrs.frozen
class Automation:
    """One rule of the Digital Pipeline: on *trigger* in the stages *stage_ids*, do *action*.

    ``stage_ids`` are stages of the pipeline ``pipeline_id`` (at least one, each
    once, in the order given); together they form one region. The action is due
    ``delay`` after the trigger (at least zero), and only for leads whose price
    lies within ``min_price`` and ``max_price`` (both inclusive, ``None`` for no
    bound). A disabled automation keeps its settings and fires for nothing.
    """

    id: Id = attrs.field(converter=_automation_id)
    pipeline_id: Id = attrs.field(converter=_pipeline_id)
    stage_ids: tuple[Id, ...] = attrs.field(converter=_stage_ids)
    trigger: Trigger = attrs.field(converter=_check_trigger)
    action: Action = attrs.field(converter=check_action)
    delay: Delay = attrs.field(default=timedelta(0), converter=_check_delay)
    min_price: Price | None = attrs.field(default=None, converter=_optional_price)
    max_price: Price | None = attrs.field(default=None, converter=_optional_price)
    enabled: bool = attrs.field(default=True)

    def __attrs_post_init__(self) -> None:
        require_type(self.enabled, bool, "enabled")
        if not self.stage_ids:
            raise InvalidTarget(self.pipeline_id, None, "an automation watches at least one stage")
        if len(set(self.stage_ids)) != len(self.stage_ids):
            repeated = next(s for s in self.stage_ids if self.stage_ids.count(s) > 1)
            raise InvalidTarget(
                self.pipeline_id, repeated, f"an automation watches stage {repeated} only once"
            )
        low, high = self.min_price, self.max_price
        if low is not None and high is not None and low > high:
            raise InvalidPriceRange(low, high)

    def watches(self, place: tuple[int, int]) -> bool:
        """Return whether it watches the stage at *place*, a (pipeline id, stage id) pair."""
        return place[0] == self.pipeline_id and place[1] in self.stage_ids

    @property
    def target(self) -> tuple[int, int] | None:
        """Where a :class:`MoveTo` sends the lead, as (pipeline id, stage id); else ``None``."""
        action = self.action
        if not isinstance(action, MoveTo):
            return None
        pipeline_id = self.pipeline_id if action.pipeline_id is None else action.pipeline_id
        return pipeline_id, action.stage_id


# -- scheduled actions --------------------------------------------------------------
