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

from datetime import datetime
from typing import final

import attrs

from pipekit._checks import require_int, require_type
from pipekit.commands import Command
from pipekit.decide import decide
from pipekit.errors import RevisionConflict
from pipekit.events import Event
from pipekit.evolve import evolve_all
from pipekit.lead import check_aware
from pipekit.workspace import Workspace

__all__ = ["Applied", "apply"]


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
    check_aware(at, "at")
    if expected_revision is not None:
        require_int(expected_revision, "expected_revision")
        if expected_revision != workspace.revision:
            raise RevisionConflict(expected_revision, workspace.revision)
    events = decide(workspace, command, at=at)
    return Applied(evolve_all(workspace, events), events)
