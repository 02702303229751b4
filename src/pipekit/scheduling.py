"""What the Digital Pipeline schedules, cancels and finds due.

Every lead change that :func:`pipekit.apply` makes is matched against the enabled
automations watching the stage the lead leaves and the stage it enters; each
match whose price conditions hold schedules the automation's action, due its
delay after the change (:class:`~pipekit.ActionScheduled`). Nothing runs inside
the command that caused it: a host asks :func:`due` what is due, and applies
:class:`~pipekit.RunDue` to carry it out.

>>> from datetime import datetime, timedelta, timezone
>>> from pipekit import AddAutomation, CreateLead, HostAction, Trigger, apply, new_workspace
>>> at = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
>>> welcome = HostAction("send_email", {"template": "welcome"})
>>> workspace = new_workspace()
>>> add = AddAutomation(1, (144,), Trigger.ENTERED, welcome, delay=timedelta(minutes=5))
>>> workspace = apply(workspace, add, at=at).workspace
>>> applied = apply(workspace, CreateLead("ACME"), at=at)
>>> [type(event).__name__ for event in applied.events]
['LeadCreated', 'ActionScheduled']
>>> due(applied.workspace, at), len(due(applied.workspace, at + timedelta(minutes=5)))
((), 1)
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Final

from pipekit._checks import require_int, require_type
from pipekit._schedule import time_key
from pipekit.automation import Automation, Scheduled, Trigger, trusted_scheduled
from pipekit.bounds import MAX_ID
from pipekit.errors import InvalidId, ScheduleOutOfRange
from pipekit.events import ActionCancelled, ActionScheduled, Event
from pipekit.lead import Lead, check_aware
from pipekit.workspace import Workspace

__all__ = ["MAX_REASON_LENGTH", "due"]

MAX_REASON_LENGTH: Final = 1000
"""The longest reason a host may give for a failed action."""

Place = tuple[int, int]
"""Where a lead is: (pipeline id, stage id)."""

# Tuples, not sets: membership compares by identity first, where a set would call
# Enum.__hash__, a Python function, for every automation a lead change looks at.
_ON_CREATE: Final = (Trigger.CREATED, Trigger.ENTERED)
_ON_MOVE_IN: Final = (Trigger.MOVED_IN, Trigger.ENTERED)
_NOTHING: Final[frozenset[int]] = frozenset()


def due(workspace: Workspace, now: datetime, *, limit: int | None = None) -> tuple[Scheduled, ...]:
    """Return the actions due at *now* and not handed over, by (due time, id).

    *now* must be timezone-aware (a naive one raises :class:`ValueError`). The cost
    is O(k log n) for k items due among n, with no scan of the rest; *limit*
    returns at most that many, for a host that works in batches.
    """
    require_type(workspace, Workspace, "workspace")
    check_aware(now, "now")
    items = workspace._schedule.due(time_key(now))
    if limit is not None:
        if require_int(limit, "limit") < 0:
            raise ValueError(f"limit is at least 0, got {limit!r}")
        return tuple(islice(items, limit))
    return tuple(items)


def check_failure_reason(reason: str) -> str:
    """Return *reason* if it is a string of at most :data:`MAX_REASON_LENGTH` characters."""
    if len(require_type(reason, str, "a reason")) > MAX_REASON_LENGTH:
        raise ValueError(
            f"a reason holds at most {MAX_REASON_LENGTH} characters, got {len(reason)}"
        )
    return reason


# -- matching lead changes against automations (used by deciding) ---------------------


def watches(automation: Automation, place: Place) -> bool:
    """Return whether *place* is one of the stages *automation* watches."""
    return place[0] == automation.pipeline_id and place[1] in automation.stage_ids


def _matches(automation: Automation, lead: Lead) -> bool:
    low, high = automation.min_price, automation.max_price
    price = lead.price
    return (low is None or price >= low) and (high is None or price <= high)


class Reactions:
    """The scheduling events that lead changes cause within one decision.

    Ids of new items count up from the workspace's ``next_scheduled_id``;
    automations in *silenced* (about to be removed) fire nothing.
    """

    __slots__ = ("at", "cancelled", "events", "next_id", "revision", "silenced", "workspace")

    def __init__(
        self,
        workspace: Workspace,
        revision: int,
        at: datetime,
        *,
        silenced: frozenset[int] = _NOTHING,
    ) -> None:
        self.workspace = workspace
        self.revision = revision
        self.at = at
        self.next_id = workspace.next_scheduled_id
        self.events: list[Event] = []
        self.cancelled: set[int] = set()
        self.silenced = silenced

    def created(self, lead: Lead) -> None:
        """Fire CREATED and ENTERED for a lead just created where it is."""
        for automation in self.workspace._watchers.get((lead.pipeline_id, lead.stage_id), ()):
            if automation.trigger in _ON_CREATE:
                self._schedule(automation, lead)

    def moved(self, lead: Lead, origin: Place, target: Place) -> None:
        """Cancel what a move from *origin* to *target* ends, then fire LEFT, MOVED_IN, ENTERED."""
        workspace = self.workspace
        if len(workspace._schedule):
            for item in workspace._schedule.of_lead(lead.id):
                if item.handed_over_at is not None:
                    continue
                automation = workspace._automation_ids.get(item.automation_id)
                if automation is None or automation.trigger is Trigger.LEFT:
                    continue
                if not watches(automation, target):
                    self.cancel(item.id)
        watchers = workspace._watchers
        if not watchers:
            return
        # watches() written out: this runs for every move.
        for automation in watchers.get(origin, ()):
            if automation.trigger is Trigger.LEFT and not (
                target[0] == automation.pipeline_id and target[1] in automation.stage_ids
            ):
                self._schedule(automation, lead)
        for automation in watchers.get(target, ()):
            if automation.trigger in _ON_MOVE_IN and not (
                origin[0] == automation.pipeline_id and origin[1] in automation.stage_ids
            ):
                self._schedule(automation, lead)

    def removed(self, lead_id: int) -> None:
        """Cancel every item of a lead about to be deleted or declined."""
        for item in self.workspace._schedule.of_lead(lead_id):
            self.cancel(item.id)

    def let_go(self, automation_id: int) -> None:
        """Cancel the items not handed over of an automation about to change or go."""
        for item in self.workspace._schedule.waiting_of(automation_id):
            self.cancel(item.id)

    def cancel(self, scheduled_id: int) -> None:
        if scheduled_id not in self.cancelled:
            self.cancelled.add(scheduled_id)
            self.events.append(ActionCancelled(self.revision, self.at, scheduled_id))

    def _schedule(self, automation: Automation, lead: Lead) -> None:
        if automation.id in self.silenced or not _matches(automation, lead):
            return
        if self.next_id > MAX_ID:
            raise InvalidId(self.next_id, "scheduled action")
        try:
            due_at = self.at + automation.delay
        except OverflowError:
            raise ScheduleOutOfRange(automation.id, lead.id, self.at, automation.delay) from None
        item = trusted_scheduled(
            self.next_id, automation.id, lead.id, due_at, automation.action, None
        )
        self.next_id += 1
        self.events.append(ActionScheduled(self.revision, self.at, item))
