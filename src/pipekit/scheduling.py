"""Scheduled actions: what an automation called for, and the structure that keeps them.

A :class:`Scheduled` is one action an automation called for, due at a time for a
lead. A workspace may hold a million of them, so adding or removing one must not
copy them all, and finding what is due must not scan them all. :class:`Schedule`
keeps the items waiting to be carried out or handed over in a
:class:`~pipekit._containers.Tree` ordered by (due time, id), the items handed over
in another, the items of each lead in a :class:`~pipekit._containers.PersistentIndex`,
and every item by id in an :class:`~pipekit._containers.IdTrie`; in a tree and by id,
the next id costs one small copy. A tree groups its items by automation, and each of
its nodes names the automations of the items below it, so an automation's items are
found without a map of their own. Each change copies one path of each and shares
the rest, except that an item removed while waiting is only removed from its lead:
its tree entry and its place by id stay behind, reads skip them, and they go once
the entry reaches the tree's front. What a lead change schedules and cancels is
:mod:`pipekit.reactions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from heapq import merge
from operator import attrgetter
from typing import Any, Final, TypeAlias, final

import attrs

from pipekit._checks import require_type
from pipekit._containers import IdTrie, Key, PersistentIndex, Tree
from pipekit.automation import Action, MoveTo, check_action
from pipekit.bounds import Id
from pipekit.lead import check_aware, positive_id

__all__ = [
    "EMPTY_SCHEDULE",
    "MAX_REASON_LENGTH",
    "Schedule",
    "Scheduled",
    "check_failure_reason",
    "time_key",
    "trusted_scheduled",
]

MAX_REASON_LENGTH: Final = 1000
"""The longest reason a host may give for a failed action."""


def check_failure_reason(reason: str) -> str:
    """Return *reason* if it is a string of at most :data:`MAX_REASON_LENGTH` characters."""
    if len(require_type(reason, str, "a reason")) > MAX_REASON_LENGTH:
        raise ValueError(
            f"a reason holds at most {MAX_REASON_LENGTH} characters, got {len(reason)}"
        )
    return reason


# -- one scheduled action ---------------------------------------------------------------


def _scheduled_id(value: int) -> int:
    return positive_id(value, "scheduled action")


def _lead_id(value: int) -> int:
    return positive_id(value, "lead")


def _automation_id(value: int) -> int:
    return positive_id(value, "automation")


def _due_at(value: datetime) -> datetime:
    return check_aware(value, "due_at")


def _handed_over_at(value: datetime | None) -> datetime | None:
    return None if value is None else check_aware(value, "handed_over_at")


@final
@attrs.frozen
class Scheduled:
    """An action an automation called for: due at ``due_at`` for the lead ``lead_id``.

    ``action`` is the automation's action as it was when the item was scheduled.
    A :class:`~pipekit.HostAction` that :class:`~pipekit.RunDue` handed over to the
    host has ``handed_over_at`` set and waits for the host to report back; a
    :class:`~pipekit.MoveTo` is never handed over, pipekit carries it out. Times are
    timezone-aware.

    >>> from datetime import datetime, timezone
    >>> from pipekit import HostAction
    >>> at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    >>> item = Scheduled(1, 1, 7, at, HostAction("send_email"))
    >>> item.handed_over_at is None
    True
    """

    id: Id = attrs.field(converter=_scheduled_id)
    automation_id: Id = attrs.field(converter=_automation_id)
    lead_id: Id = attrs.field(converter=_lead_id)
    due_at: datetime = attrs.field(converter=_due_at)
    action: Action = attrs.field(converter=check_action)
    handed_over_at: datetime | None = attrs.field(default=None, converter=_handed_over_at)

    def __attrs_post_init__(self) -> None:
        if self.handed_over_at is not None and isinstance(self.action, MoveTo):
            raise ValueError("a MoveTo is carried out by pipekit, never handed over")


def _slot_setter(name: str) -> Any:
    # The slot's own setter writes past the frozen class's __setattr__, as
    # object.__setattr__ does, without looking the name up on every call.
    return Scheduled.__dict__[name].__set__


_SET_ID: Final = _slot_setter("id")
_SET_AUTOMATION_ID: Final = _slot_setter("automation_id")
_SET_LEAD_ID: Final = _slot_setter("lead_id")
_SET_DUE_AT: Final = _slot_setter("due_at")
_SET_ACTION: Final = _slot_setter("action")
_SET_HANDED_OVER_AT: Final = _slot_setter("handed_over_at")


def trusted_scheduled(
    scheduled_id: int,
    automation_id: int,
    lead_id: int,
    due_at: datetime,
    action: Action,
    handed_over_at: datetime | None,
) -> Scheduled:
    """Return a :class:`Scheduled` of values already checked, without checking them again.

    The path that scheduling and handing over take, for every item.
    """
    result = object.__new__(Scheduled)
    _SET_ID(result, scheduled_id)
    _SET_AUTOMATION_ID(result, automation_id)
    _SET_LEAD_ID(result, lead_id)
    _SET_DUE_AT(result, due_at)
    _SET_ACTION(result, action)
    _SET_HANDED_OVER_AT(result, handed_over_at)
    return result


# -- the schedule -----------------------------------------------------------------------


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def time_key(moment: datetime) -> int:
    """Return the aware *moment* in whole microseconds since the epoch, whatever its offset."""
    return (moment - _EPOCH) // _MICROSECOND


def _key(item: Scheduled) -> Key:
    return (time_key(item.due_at), item.id)


# -- groups -----------------------------------------------------------------------------


@final
class _LeadItems:
    """The items of a lead that has two or more, by id: a tuple, as a lead has few.

    A lead with one item holds that item itself in the map, with no group around
    it: most leads have one, and a group is one more read from memory. The items
    themselves, not their ids, so that a move reads its lead's items in one
    lookup; an item handed over replaces the waiting one here too.
    """

    __slots__ = ("items", "lead_id")

    def __init__(self, lead_id: int, items: tuple[Scheduled, ...]) -> None:
        self.lead_id = lead_id
        self.items = items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _LeadItems):
            return NotImplemented
        return self.lead_id == other.lead_id and self.items == other.items

    def __hash__(self) -> int:
        return hash(self.items)


Group: TypeAlias = Scheduled | _LeadItems
"""What the map by lead holds for a lead: its one item, or its items."""

_lead_key: Final = attrgetter("lead_id")
_item_key: Final = attrgetter("id")
_automation_key: Final = attrgetter("automation_id")


def _group(lead_id: int, items: tuple[Scheduled, ...]) -> Group:
    return items[0] if len(items) == 1 else _LeadItems(lead_id, items)


def _items_of(group: Group | None) -> tuple[Scheduled, ...]:
    if group is None:
        return ()
    return (group,) if group.__class__ is Scheduled else group.items  # type: ignore[union-attr]


def _holds(leads: PersistentIndex[Group], item: Scheduled) -> bool:
    """Return whether *item* is live: the map by lead holds that very object."""
    group = leads.get(item.lead_id)
    if group is item:
        return True
    if group is None or group.__class__ is Scheduled:
        return False
    return any(other is item for other in group.items)  # type: ignore[union-attr]


def _lead_joined(leads: PersistentIndex[Group], item: Scheduled) -> PersistentIndex[Group]:
    lead_id = item.lead_id
    items = _items_of(leads.get(lead_id))
    if not items:
        return leads.with_value(item)
    if items[-1].id < item.id:  # the usual case: a new item has the highest id
        items = (*items, item)
    else:
        items = tuple(sorted((*items, item), key=_item_key))
    return leads.with_value(_LeadItems(lead_id, items))


def _lead_replaced(leads: PersistentIndex[Group], item: Scheduled) -> PersistentIndex[Group]:
    lead_id = item.lead_id
    items = tuple(item if other.id == item.id else other for other in _items_of(leads[lead_id]))
    return leads.with_value(_group(lead_id, items))


def _lead_left(leads: PersistentIndex[Group], item: Scheduled) -> PersistentIndex[Group]:
    lead_id = item.lead_id
    items = tuple(other for other in _items_of(leads[lead_id]) if other.id != item.id)
    return leads.with_value(_group(lead_id, items)) if items else leads.without(lead_id)


def _by_lead(items: tuple[Scheduled, ...]) -> PersistentIndex[Group]:
    """Return the items of each lead, built at once."""
    members: dict[int, list[Scheduled]] = {}
    for item in sorted(items, key=_item_key):
        members.setdefault(item.lead_id, []).append(item)
    return PersistentIndex(
        _lead_key, (_group(lead_id, tuple(group)) for lead_id, group in members.items())
    )


# -- the schedule -----------------------------------------------------------------------


@final
class Schedule:
    """A workspace's scheduled actions: an immutable value, changed by copying one path.

    Iterating gives every item by (due time, id); :meth:`due` only the waiting
    ones up to a time. Two schedules are equal when they hold equal items.
    """

    __slots__ = ("_by_id", "_by_lead", "_handed", "_len", "_tuple", "_waiting")

    _by_lead: PersistentIndex[Group]
    """Every item, by lead: what is live. An item is in the schedule while this holds
    that very object; the other maps may still hold an item removed while waiting."""
    _waiting: Tree[Scheduled]
    """The items not handed over, by (due time, id), and left-overs: an item removed while
    waiting stays here until it reaches the front."""
    _handed: Tree[Scheduled]
    _by_id: IdTrie[Scheduled]
    """Every item by id, and the left-overs of the waiting tree while it holds them."""
    _len: int
    _tuple: tuple[Scheduled, ...] | None

    def __init__(self, items: Iterable[Scheduled] = ()) -> None:
        """Hold *items*, whose ids must be distinct (the workspace checks it first)."""
        items = tuple(items)
        waiting = sorted((_key(item), item) for item in items if item.handed_over_at is None)
        handed = sorted((_key(item), item) for item in items if item.handed_over_at is not None)
        self._waiting = Tree(_automation_key, waiting)
        self._handed = Tree(_automation_key, handed)
        self._by_id = IdTrie(items)
        self._by_lead = _by_lead(items)
        self._len = len(items)
        self._tuple = None

    def _evolve(
        self,
        waiting: Tree[Scheduled],
        handed: Tree[Scheduled],
        by_id: IdTrie[Scheduled],
        by_lead: PersistentIndex[Group],
        size: int,
    ) -> Schedule:
        result = object.__new__(Schedule)
        result._waiting = waiting
        result._handed = handed
        result._by_id = by_id
        result._by_lead = by_lead
        result._len = size
        result._tuple = None
        return result

    # -- reading --------------------------------------------------------------------

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Scheduled]:
        return iter(self.as_tuple())

    def as_tuple(self) -> tuple[Scheduled, ...]:
        """Return every item by (due time, id), built once per schedule."""
        if self._tuple is None:
            by_lead = self._by_lead
            waiting = (pair for pair in self._waiting.items() if _holds(by_lead, pair[1]))
            pairs = merge(waiting, self._handed.items(), key=_first)
            self._tuple = tuple(item for _, item in pairs)
        return self._tuple

    def by_id(self) -> Iterator[Scheduled]:
        """Yield every item, by id."""
        by_lead = self._by_lead
        return (item for item in self._by_id if _holds(by_lead, item))

    def get(self, item_id: int) -> Scheduled | None:
        """Return the item *item_id*, or ``None``."""
        item = self._by_id.get(item_id)
        return item if item is not None and _holds(self._by_lead, item) else None

    def of_lead(self, lead_id: int) -> tuple[Scheduled, ...]:
        """Return the items of the lead *lead_id*, by id."""
        return _items_of(self._by_lead.get(lead_id))

    def waiting_of(self, automation_id: int) -> tuple[Scheduled, ...]:
        """Return the items of *automation_id* not handed over, by id."""
        by_lead = self._by_lead
        near = self._waiting.near_group(automation_id)
        found = (item for item in near if item.automation_id == automation_id)
        return tuple(sorted((item for item in found if _holds(by_lead, item)), key=_item_key))

    def due(self, bound: int) -> Iterator[Scheduled]:
        """Yield the items not handed over due at most at *bound* (a :func:`time_key`), in order."""
        by_lead = self._by_lead
        return (item for item in self._waiting.until(bound) if _holds(by_lead, item))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self is other or (len(self) == len(other) and self._by_lead == other._by_lead)

    def __hash__(self) -> int:
        return hash(self._by_lead)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Schedule, (self.as_tuple(),))

    def __repr__(self) -> str:
        return f"Schedule({self.as_tuple()!r})"

    # -- changing -------------------------------------------------------------------

    def with_item(self, item: Scheduled) -> Schedule:
        """Return a schedule that also holds *item*, a new item (waiting or handed over)."""
        waiting, handed = self._waiting, self._handed
        if item.handed_over_at is None:
            waiting = waiting.with_item(_key(item), item)
        else:  # scheduled and handed over within one command
            handed = handed.with_item(_key(item), item)
        return self._evolve(
            waiting,
            handed,
            self._by_id.with_value(item),
            _lead_joined(self._by_lead, item),
            self._len + 1,
        )

    def handed_over(self, item: Scheduled, at: datetime) -> Schedule:
        """Return a schedule where the waiting *item* is handed over at *at*."""
        key = _key(item)
        handed = trusted_scheduled(
            item.id, item.automation_id, item.lead_id, item.due_at, item.action, at
        )
        by_lead = _lead_replaced(self._by_lead, handed)
        waiting, by_id = _pruned(self._waiting.without(key), self._by_id, by_lead)
        return self._evolve(
            waiting,
            self._handed.with_item(key, handed),
            by_id.with_value(handed),
            by_lead,
            self._len,
        )

    def without(self, item: Scheduled) -> Schedule:
        """Return a schedule without *item*, which it holds."""
        by_lead = _lead_left(self._by_lead, item)
        if item.handed_over_at is None:
            # Left in the tree and by id, where finding it would cost most: both go once
            # it reaches the tree's front.
            waiting, by_id = _pruned(self._waiting, self._by_id, by_lead)
            handed = self._handed
        else:
            waiting, handed = self._waiting, self._handed.without(_key(item))
            by_id = self._by_id.without(item.id)
        return self._evolve(waiting, handed, by_id, by_lead, self._len - 1)


def _pruned(
    waiting: Tree[Scheduled], by_id: IdTrie[Scheduled], by_lead: PersistentIndex[Group]
) -> tuple[Tree[Scheduled], IdTrie[Scheduled]]:
    """Return *waiting* without the left-overs at its front, and *by_id* without them too."""
    while (first := waiting.first()) is not None:
        key, left_over = first
        if _holds(by_lead, left_over):
            break
        waiting = waiting.without(key)
        if by_id.get(left_over.id) is left_over:
            by_id = by_id.without(left_over.id)
    return waiting, by_id


def _first(pair: tuple[Key, Scheduled]) -> Key:
    return pair[0]


EMPTY_SCHEDULE: Final = Schedule()
