"""What a lead change schedules and cancels: the Digital Pipeline at work.

Every lead change that :func:`pipekit.apply` makes is matched against the enabled
automations watching the stage the lead leaves and the stage it enters; each
match whose price conditions hold schedules the automation's action, due its
delay after the change (:class:`~pipekit.ActionScheduled`). Nothing runs inside
the command that caused it: a host asks :func:`~pipekit.due` what is due, and applies
:class:`~pipekit.RunDue` to carry it out.

>>> from datetime import datetime, timedelta, timezone
>>> from pipekit import AddAutomation, CreateLead, HostAction, Trigger, apply, due, new_workspace
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

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from pipekit.account import Account, Place
from pipekit.automation import Automation, Trigger
from pipekit.bounds import MAX_ID
from pipekit.errors import InvalidId, ScheduleOutOfRange
from pipekit.events import ActionCancelled, ActionScheduled, Event
from pipekit.lead import Lead
from pipekit.scheduling import Scheduled, trusted_scheduled

__all__ = ["Reactions"]

# Tuples, not sets: membership compares by identity first, where a set would call
# Enum.__hash__, a Python function, for every automation a lead change looks at.
_ON_CREATE: Final = (Trigger.CREATED, Trigger.ENTERED)
_ON_MOVE_IN: Final = (Trigger.MOVED_IN, Trigger.ENTERED)
_NOTHING: Final[frozenset[int]] = frozenset()


def _matches(automation: Automation, lead: Lead) -> bool:
    low, high = automation.min_price, automation.max_price
    price = lead.price
    return (low is None or price >= low) and (high is None or price <= high)


class Reactions:
    """The scheduling events that lead changes cause within one decision.

    Ids of new items count up from *next_id*, by default the account's
    ``next_scheduled_id``; automations in *silenced* (about to be removed) fire nothing.
    """

    __slots__ = ("account", "at", "cancelled", "events", "next_id", "revision", "silenced")

    def __init__(
        self,
        account: Account,
        revision: int,
        at: datetime,
        *,
        silenced: frozenset[int] = _NOTHING,
        next_id: int | None = None,
    ) -> None:
        self.account = account
        self.revision = revision
        self.at = at
        self.next_id = account.next_scheduled_id if next_id is None else next_id
        self.events: list[Event] = []
        self.cancelled: set[int] = set()
        self.silenced = silenced

    def created(self, lead: Lead) -> None:
        """Fire CREATED and ENTERED for a lead just created where it is."""
        for automation in self.account.watchers((lead.pipeline_id, lead.stage_id)):
            if automation.trigger in _ON_CREATE:
                self._schedule(automation, lead)

    def moved(
        self, lead: Lead, scheduled: Iterable[Scheduled], origin: Place, target: Place
    ) -> None:
        """Cancel what a move from *origin* to *target* ends, then fire LEFT, MOVED_IN, ENTERED.

        *scheduled* are the lead's items before the move.
        """
        account = self.account
        for item in scheduled:
            if item.handed_over_at is not None:
                continue
            automation = account.automation(item.automation_id)
            if automation.trigger is not Trigger.LEFT and not automation.watches(target):
                self.cancel(item.id)
        for automation in account.watchers(origin):
            if automation.trigger is Trigger.LEFT and not automation.watches(target):
                self._schedule(automation, lead)
        for automation in account.watchers(target):
            if automation.trigger in _ON_MOVE_IN and not automation.watches(origin):
                self._schedule(automation, lead)

    def cancel_all(self, items: Iterable[Scheduled]) -> None:
        """Cancel *items*: those of a lead about to go, or of an automation about to change."""
        for item in items:
            self.cancel(item.id)

    def cancel(self, scheduled_id: int) -> None:
        """Cancel the item *scheduled_id*, once."""
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
