"""The lead half of an account: one lead with its scheduled actions, and how events change it.

A :class:`LeadRecord` is what a lead command reads and writes: the lead and the
actions scheduled for it. Wherever the leads are kept, deciding a command asks
them through a :class:`LeadTable`: a :class:`~pipekit.Workspace` is one, and a
CRM with its own table of leads writes one over it (see ``docs/lead-level.md``).
:class:`Fold` applies a command's events to an :class:`~pipekit.Account` and to
the records of the leads they touch, reading each record once; it is the one
place where a lead event changes a lead, whatever keeps the leads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from operator import attrgetter
from typing import Any, Final, NamedTuple, Protocol

import attrs

from pipekit import events
from pipekit._checks import require_type
from pipekit.account import (
    Account,
    Place,
    check_open_target,
    evolve_account,
    position,
    with_lead_change,
    with_revision,
)
from pipekit.automation import HostAction
from pipekit.bounds import MAX_REVISION
from pipekit.errors import DuplicateLeadId, InvalidEvent, InvalidVersion, UnknownLead
from pipekit.events import Event
from pipekit.kind import OUTCOMES
from pipekit.lead import Lead, trusted_lead
from pipekit.scheduling import Scheduled, check_failure_reason
from pipekit.stage import StageKind

__all__ = ["CheckedTable", "Fold", "LeadRecord", "LeadTable"]


class LeadRecord(NamedTuple):
    """A lead with the actions scheduled for it, by id: the unit a lead command changes.

    Built without checks, as the lead-level path builds one for every event; a
    record a host's table returns is checked as it enters (:func:`checked_record`).
    """

    lead: Lead
    scheduled: tuple[Scheduled, ...] = ()

    def item(self, scheduled_id: int) -> Scheduled | None:
        """Return the lead's scheduled action *scheduled_id*, or ``None``."""
        for item in self.scheduled:
            if item.id == scheduled_id:
                return item
        return None


def checked_record(record: object, lead_id: int) -> LeadRecord | None:
    """Return *record*, what a table gave for the lead *lead_id*, if it is a valid one.

    Raises :class:`TypeError` for anything but a :class:`LeadRecord` of a
    :class:`~pipekit.Lead` and a tuple of :class:`~pipekit.Scheduled`, and
    :class:`ValueError` for a record of another lead, or items that are another
    lead's or not in ascending order of id.
    """
    if record is None:
        return None
    record = require_type(record, LeadRecord, "a lead record")
    lead = require_type(record.lead, Lead, "a record's lead")
    if lead.id != lead_id:
        raise ValueError(f"the table gave lead {lead.id} for lead {lead_id}")
    previous = 0
    for item in require_type(record.scheduled, tuple, "a record's scheduled actions"):
        require_type(item, Scheduled, "each scheduled action of a record")
        if item.lead_id != lead_id or item.id <= previous:
            raise ValueError(
                f"lead {lead_id}'s scheduled actions must be its own, by ascending id:"
                f" got action {item.id} for lead {item.lead_id}"
            )
        previous = item.id
    return record


class LeadTable(Protocol):
    """What deciding a command asks of wherever the leads are kept.

    Each method answers from the state before the command; none changes anything.
    A table over a database answers each from an index: a lead command reads one
    record, and only a command that concerns many leads (deleting a stage that
    holds leads, removing an automation with actions waiting) reads more.
    """

    def record(self, lead_id: int) -> LeadRecord | None:
        """Return the lead *lead_id* with its scheduled actions, or ``None`` if there is none."""

    def lead_ids_in(self, pipeline_id: int, stage_id: int) -> Iterable[int]:
        """Return the ids of the leads in a stage, in ascending order."""

    def waiting_of(self, automation_id: int) -> Iterable[Scheduled]:
        """Return the scheduled actions of an automation not handed over, by id."""

    def find_scheduled(self, scheduled_id: int) -> Scheduled | None:
        """Return the scheduled action *scheduled_id*, or ``None`` if there is none."""

    def due(self, now: datetime) -> Iterable[Scheduled]:
        """Return the actions not handed over that are due at *now*, by (due time, id)."""


class CheckedTable:
    """A host's :class:`LeadTable`, with each record it gives checked as it enters.

    A record that is not a :class:`LeadRecord` of the lead asked for, with that
    lead's items in ascending order of id, raises (see :func:`checked_record`);
    the rest passes through.
    """

    __slots__ = ("table",)

    def __init__(self, table: LeadTable) -> None:
        self.table = table

    def record(self, lead_id: int) -> LeadRecord | None:
        """Return the table's record of the lead *lead_id*, once checked."""
        return checked_record(self.table.record(lead_id), lead_id)

    def lead_ids_in(self, pipeline_id: int, stage_id: int) -> Iterable[int]:
        """Return what the table gives."""
        return self.table.lead_ids_in(pipeline_id, stage_id)

    def waiting_of(self, automation_id: int) -> Iterable[Scheduled]:
        """Return what the table gives."""
        return self.table.waiting_of(automation_id)

    def find_scheduled(self, scheduled_id: int) -> Scheduled | None:
        """Return what the table gives."""
        return self.table.find_scheduled(scheduled_id)

    def due(self, now: datetime) -> Iterable[Scheduled]:
        """Return what the table gives."""
        return self.table.due(now)


Change = tuple[LeadRecord | None, LeadRecord | None]
"""A lead's record before a command and after it; ``None`` where the lead is not."""

_LEAD_EVENTS: Final = (
    events.LeadCreated,
    events.LeadMoved,
    events.LeadAccepted,
    events.LeadDeclined,
    events.LeadDeleted,
)


class Fold:
    """Events applied in turn to an account and to the records of the leads they touch.

    Each record is read from *table* once, the first time it is asked for;
    :attr:`changes` then holds each lead read as it was and as it is. An event
    that does not fit raises a :class:`~pipekit.RuleViolation`. A fold is a
    :class:`LeadTable` itself, answering as the events so far left the leads:
    deciding a command through the fold that then applies its events reads each
    record once.
    """

    __slots__ = ("account", "born", "changes", "table")

    def __init__(self, account: Account, table: LeadTable) -> None:
        self.account = account
        self.table = table
        self.changes: dict[int, Change] = {}
        self.born: dict[int, int] = {}
        """The lead of each action scheduled by the events so far, by the action's id."""

    def record(self, lead_id: int) -> LeadRecord | None:
        """Return the record of the lead *lead_id* as the events so far left it."""
        change = self.changes.get(lead_id)
        if change is not None:
            return change[1]
        record = self.table.record(lead_id)
        self.changes[lead_id] = (record, record)
        return record

    def find_scheduled(self, scheduled_id: int) -> Scheduled | None:
        """Return the scheduled action *scheduled_id* as the events so far left it.

        One lookup: an action scheduled here is found by its lead, one of the table's
        by the table, and then in its lead's record if the events touched that lead.
        """
        lead_id = self.born.get(scheduled_id)
        if lead_id is None:
            item = self.table.find_scheduled(scheduled_id)
            if item is None or item.lead_id not in self.changes:
                return item
            lead_id = item.lead_id
        after = self.changes[lead_id][1]
        return None if after is None else after.item(scheduled_id)

    def waiting_of(self, automation_id: int) -> tuple[Scheduled, ...]:
        """Return an automation's actions not handed over, as the events left them, by id."""
        changes = self.changes
        found = [
            item for item in self.table.waiting_of(automation_id) if item.lead_id not in changes
        ]
        for _before, after in self.changes.values():
            if after is not None:
                found.extend(
                    item
                    for item in after.scheduled
                    if item.automation_id == automation_id and item.handed_over_at is None
                )
        return tuple(sorted(found, key=_by_id))

    def lead_ids_in(self, pipeline_id: int, stage_id: int) -> Iterable[int]:
        """Return the ids of the leads in a stage before the events, in ascending order."""
        return self.table.lead_ids_in(pipeline_id, stage_id)

    def due(self, now: datetime) -> Iterable[Scheduled]:
        """Return the actions due at *now* before the events, by (due time, id)."""
        return self.table.due(now)

    def apply(self, event: Event) -> None:
        """Apply *event*, or raise why it does not fit and change nothing."""
        if isinstance(event, _LEAD_EVENTS):
            self._lead_event(event)
        elif isinstance(event, events.LeadsRelocated):
            self._relocated(event)
        elif isinstance(event, _ITEM_EVENTS):
            self._item_event(event)
        elif isinstance(event, events.AutomationLoopStopped):
            if self.record(event.lead_id) is None:
                raise UnknownLead(event.lead_id)
            self.account = with_revision(self.account, event.revision)
        else:
            if isinstance(event, events.AutomationDisabled | events.AutomationRemoved):
                self._check_no_waiting(type(event).__name__, event.automation_id)
            self.account = evolve_account(self.account, event)

    def _lead_event(
        self,
        event: events.LeadCreated
        | events.LeadMoved
        | events.LeadAccepted
        | events.LeadDeclined
        | events.LeadDeleted,
    ) -> None:
        lead_id = event.lead.id if isinstance(event, _WHOLE_LEAD) else event.lead_id
        before = self.record(lead_id)
        after = _LEAD_CHANGES[type(event)](self.account, before, event)
        self._changed(lead_id, before, after, event.revision)

    def _relocated(self, event: events.LeadsRelocated) -> None:
        origin = (event.pipeline_id, event.from_stage_id)
        target = (event.pipeline_id, event.to_stage_id)
        check_open_target(self.account, "LeadsRelocated", target)
        for lead_id in event.lead_ids:
            before = self.record(lead_id)
            after = _moved(
                self.account, "LeadsRelocated", before, lead_id, origin, target, event.at
            )
            self._changed(lead_id, before, after, event.revision)

    def _changed(
        self, lead_id: int, before: LeadRecord | None, after: LeadRecord | None, revision: int
    ) -> None:
        self.changes[lead_id] = (self.changes[lead_id][0], after)
        old = None if before is None else before.lead
        new = None if after is None else after.lead
        self.account = with_lead_change(self.account, old, new, revision)

    def _item_event(self, event: ItemEvent) -> None:
        if isinstance(event, events.ActionScheduled):
            item = event.scheduled
            # An id at or above the counter is free: only a lower one needs looking up.
            if item.id < self.account.next_scheduled_id and self.find_scheduled(item.id):
                raise InvalidEvent("ActionScheduled", f"scheduled action {item.id} exists already")
            lead_id = item.lead_id
            next_id = item.id + 1
        else:
            found = self.find_scheduled(event.scheduled_id)
            if found is None:
                name = type(event).__name__
                raise InvalidEvent(name, f"no scheduled action has id {event.scheduled_id}")
            lead_id = found.lead_id
            next_id = None
        before = self.record(lead_id)
        after = evolve_lead(self.account, before, event)
        self.changes[lead_id] = (self.changes[lead_id][0], after)
        if next_id is not None:
            self.born[next_id - 1] = lead_id
        self.account = with_revision(self.account, event.revision, next_id)

    def _check_no_waiting(self, event_name: str, automation_id: int) -> None:
        if self.waiting_of(automation_id):
            raise InvalidEvent(
                event_name,
                f"automation {automation_id} still has actions waiting: cancel them first",
            )


ItemEvent = (
    events.ActionScheduled
    | events.ActionHandedOver
    | events.ActionCompleted
    | events.ActionFailed
    | events.ActionCancelled
)
_ITEM_EVENTS: Final = (
    events.ActionScheduled,
    events.ActionHandedOver,
    events.ActionCompleted,
    events.ActionFailed,
    events.ActionCancelled,
)
_WHOLE_LEAD: Final = (events.LeadCreated, events.LeadDeclined, events.LeadDeleted)


_by_id: Final = attrgetter("id")


# -- one lead ------------------------------------------------------------------------


def evolve_lead(account: Account, record: LeadRecord | None, event: Event) -> LeadRecord | None:
    """Return the record of a lead after *event*, which concerns it; ``None`` once it is gone.

    *account* is the account as the event found it. Raises a
    :class:`~pipekit.RuleViolation` when the event does not fit the lead.
    """
    change = _LEAD_CHANGES.get(type(event))
    if change is None:
        raise TypeError(f"not a lead event: {type(event).__name__}")
    return change(account, record, event)


def _lead_moved(account: Account, record: LeadRecord | None, event: events.LeadMoved) -> LeadRecord:
    origin = (event.from_pipeline_id, event.from_stage_id)
    target = (event.to_pipeline_id, event.to_stage_id)
    lead_id, at, reason_id = event.lead_id, event.at, event.loss_reason_id
    return _moved(account, "LeadMoved", record, lead_id, origin, target, at, reason_id)


def _lead_accepted(
    account: Account, record: LeadRecord | None, event: events.LeadAccepted
) -> LeadRecord:
    pipeline = account.pipeline(event.pipeline_id)
    incoming = pipeline.incoming
    if incoming is None or incoming.id != event.from_stage_id:
        raise InvalidEvent("LeadAccepted", "the lead was not in the incoming leads stage")
    target = (event.pipeline_id, event.to_stage_id)
    check_open_target(account, "LeadAccepted", target)
    origin = (event.pipeline_id, event.from_stage_id)
    return _moved(account, "LeadAccepted", record, event.lead_id, origin, target, event.at)


def _lead_removed(
    account: Account, record: LeadRecord | None, event: events.LeadDeclined | events.LeadDeleted
) -> None:
    name = type(event).__name__
    if record is None:
        raise UnknownLead(event.lead.id)
    if record.lead != event.lead:
        raise InvalidEvent(name, f"lead {event.lead.id} is not as the event records it")
    if record.scheduled:
        raise InvalidEvent(
            name, f"lead {event.lead.id} still has scheduled actions: cancel them first"
        )


def _created(account: Account, record: LeadRecord | None, event: events.LeadCreated) -> LeadRecord:
    lead = event.lead
    if record is not None:
        raise DuplicateLeadId(lead.id)
    kind = account.stage((lead.pipeline_id, lead.stage_id)).kind
    if lead.closed_at is not None or lead.loss_reason_id is not None or kind in OUTCOMES:
        raise InvalidEvent("LeadCreated", "a lead is created open, in an open or incoming stage")
    return LeadRecord(lead)


def _moved(
    account: Account,
    event_name: str,
    record: LeadRecord | None,
    lead_id: int,
    origin: Place,
    target: Place,
    at: datetime,
    loss_reason_id: int | None = None,
) -> LeadRecord:
    """Return the record with its lead moved from *origin* to *target* at *at*."""
    if record is None:
        raise UnknownLead(lead_id)
    lead = record.lead
    if (lead.pipeline_id, lead.stage_id) != origin:
        raise InvalidEvent(
            event_name, f"lead {lead_id} is in stage {lead.stage_id}, not in stage {origin[1]}"
        )
    if lead.version == MAX_REVISION:
        raise InvalidVersion(lead.version + 1)
    index, stage_index = position(account, target)
    kind = account.pipelines[index].stages[stage_index].kind
    if loss_reason_id is not None:
        if kind is not StageKind.LOST:
            raise InvalidEvent(event_name, "only a lead in the lost stage has a loss reason")
        account.loss_reason_index(loss_reason_id)
    if kind not in OUTCOMES:
        closed_at = None
    elif origin == target:
        closed_at = lead.closed_at
    else:
        closed_at = at
    moved = trusted_lead(
        lead,
        pipeline_id=target[0],
        stage_id=target[1],
        stage_entered_at=lead.stage_entered_at if origin == target else at,
        closed_at=closed_at,
        loss_reason_id=loss_reason_id,
    )
    return LeadRecord(moved, record.scheduled)


def _item_changed(account: Account, record: LeadRecord | None, event: ItemEvent) -> LeadRecord:
    name = type(event).__name__
    if isinstance(event, events.ActionScheduled):
        item = event.scheduled
        if record is None:
            raise UnknownLead(item.lead_id)
        if item.handed_over_at is not None:
            raise InvalidEvent(name, "an action is scheduled before it is handed over")
        account.automation(item.automation_id)
        items = record.scheduled
        if items and items[-1].id > item.id:  # a forged id below the lead's others
            return LeadRecord(record.lead, tuple(sorted((*items, item), key=_by_id)))
        return LeadRecord(record.lead, (*items, item))
    assert record is not None  # the fold found the item among this lead's
    found = record.item(event.scheduled_id)
    assert found is not None
    item = found
    rest = tuple(other for other in record.scheduled if other.id != item.id)
    if isinstance(event, events.ActionHandedOver):
        if item.handed_over_at is not None or not isinstance(item.action, HostAction):
            raise InvalidEvent(name, f"scheduled action {item.id} is not a host action waiting")
        handed = attrs.evolve(item, handed_over_at=event.at)
        items = tuple(handed if other is item else other for other in record.scheduled)
        return LeadRecord(record.lead, items)
    if isinstance(event, events.ActionFailed):
        check_failure_reason(event.reason)
    done = isinstance(event, events.ActionCompleted | events.ActionFailed)
    if done and item.handed_over_at is None and isinstance(item.action, HostAction):
        raise InvalidEvent(name, f"host action {item.id} was never handed over")
    return LeadRecord(record.lead, rest)


_LEAD_CHANGES: Final[
    dict[type[Any], Callable[[Account, LeadRecord | None, Any], LeadRecord | None]]
] = {
    events.LeadCreated: _created,
    events.LeadMoved: _lead_moved,
    events.LeadAccepted: _lead_accepted,
    events.LeadDeclined: _lead_removed,
    events.LeadDeleted: _lead_removed,
    events.ActionScheduled: _item_changed,
    events.ActionHandedOver: _item_changed,
    events.ActionCompleted: _item_changed,
    events.ActionFailed: _item_changed,
    events.ActionCancelled: _item_changed,
}
"""The events that change one lead's record, each with how."""
