"""``apply``: the one entry point that changes a workspace.

>>> from datetime import datetime, timezone
>>> from pipekit import CreateLead, MoveLead, WinLead, apply, new_workspace
>>> at = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
>>> workspace = new_workspace()
>>> workspace = apply(workspace, CreateLead("ACME", price=150_000), at=at).workspace
>>> applied = apply(workspace, WinLead(lead_id=1), at=at)
>>> applied.workspace.lead(1).stage_id, applied.workspace.lead(1).closed_at == at
(142, True)
>>> applied.workspace.revision, [type(event).__name__ for event in applied.events]
(2, ['LeadMoved'])
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import final

import attrs

from pipekit._checks import require_int, require_type
from pipekit.account import Account
from pipekit.commands import Command
from pipekit.decide import decide
from pipekit.errors import RevisionConflict
from pipekit.events import Event
from pipekit.lead import check_aware
from pipekit.leads import CheckedTable, Fold, LeadRecord, LeadTable
from pipekit.workspace import Workspace

__all__ = ["Applied", "LeadsApplied", "apply", "apply_to_leads"]


@final
@attrs.frozen
class Applied:
    """What :func:`apply` returns: the new workspace and the events that led to it."""

    workspace: Workspace
    events: tuple[Event, ...]


def apply(
    workspace: Workspace,
    command: Command,
    *,
    at: datetime,
    expected_revision: int | None = None,
) -> Applied:
    """Apply *command* to *workspace* at the time *at*; return the result and its events.

    *at* must be timezone-aware (a naive one raises :class:`ValueError`): pipekit
    never reads the clock. With *expected_revision*, a workspace at any other
    revision raises :class:`~pipekit.RevisionConflict`. A refused command raises a
    :class:`~pipekit.RuleViolation` and changes nothing; a command that changes
    nothing returns *workspace* itself, no events, and the same revision.
    """
    require_type(workspace, Workspace, "workspace")
    _check_call(workspace.revision, at, expected_revision)
    fold = workspace.fold()
    events = decide(workspace.account, fold, command, at=at)
    for event in events:
        fold.apply(event)
    return Applied(workspace.folded(fold), events)


@final
@attrs.frozen
class LeadsApplied:
    """What :func:`apply_to_leads` returns: the new account, the events, the leads they changed.

    ``records`` holds the record of each lead the command changed as it is now,
    by lead id, and ``None`` for a lead that is gone: what the host writes back.
    """

    account: Account
    events: tuple[Event, ...]
    records: Mapping[int, LeadRecord | None]


def apply_to_leads(
    account: Account,
    leads: LeadTable,
    command: Command,
    *,
    at: datetime,
    expected_revision: int | None = None,
) -> LeadsApplied:
    """Apply *command* to an account whose leads the host keeps, reading them from *leads*.

    The lead-level path: the same decision and the same events as :func:`apply`,
    for a CRM that keeps its leads in its own table and the :class:`~pipekit.Account`
    beside them. *leads* answers what the command asks (see
    :class:`~pipekit.leads.LeadTable`); nothing is written to it. The host then
    stores the new account and each record in ``records``, in one transaction.
    """
    require_type(account, Account, "account")
    _check_call(account.revision, at, expected_revision)
    fold = Fold(account, CheckedTable(leads))
    events = decide(account, fold, command, at=at)
    for event in events:
        fold.apply(event)
    changed = {
        lead_id: after for lead_id, (before, after) in fold.changes.items() if after is not before
    }
    return LeadsApplied(fold.account, events, changed)


def _check_call(revision: int, at: datetime, expected_revision: int | None) -> None:
    check_aware(at, "at")
    if expected_revision is not None:
        require_int(expected_revision, "expected_revision")
        if expected_revision != revision:
            raise RevisionConflict(expected_revision, revision)
