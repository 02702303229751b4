"""Applying events: one, or a stored log of them.

:func:`evolve` applies one event to a workspace, and :func:`replay` folds a log
of them; both go through :meth:`Workspace.evolved <pipekit.Workspace.evolved>`,
which is what :func:`pipekit.apply` does with the events of a command. An event
is a fact, so applying it checks only that the fact fits the state it meets,
with the checks deciding its command made: a lead must be where the event says
it was, a pipeline being deleted must be empty. A fact that does not fit raises
a :class:`~pipekit.RuleViolation` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, get_args

from pipekit._checks import require_type
from pipekit.errors import RevisionConflict, RuleViolation
from pipekit.events import ActionCompleted, Event, LeadMoved
from pipekit.workspace import Workspace, new_workspace

__all__ = ["evolve", "replay"]

_EVENT_TYPES: Final = get_args(Event)


def evolve(workspace: Workspace, event: Event) -> Workspace:
    """Return *workspace* with *event* applied, at the event's revision.

    Raises a :class:`~pipekit.RuleViolation` when the event does not fit.
    """
    return workspace.evolved((event,))


def replay(events: Iterable[Event], *, initial: Workspace | None = None) -> Workspace:
    """Return the workspace that folding *events* over *initial* gives.

    *initial* defaults to :func:`~pipekit.new_workspace`. The events of one command
    share a revision and are taken as a group; a group whose revision is not the
    state's revision + 1 (a gap, a repeat, a log out of order) raises
    :class:`~pipekit.RevisionConflict`. Replaying everything :func:`~pipekit.apply`
    emitted from a workspace gives a workspace equal to the one it returned.
    """
    state = new_workspace() if initial is None else require_type(initial, Workspace, "initial")
    group: list[Event] = []
    for event in events:
        revision = event.revision if isinstance(event, _EVENT_TYPES) else None
        if revision is None:
            raise TypeError(f"not a pipekit event: {type(event).__name__}")
        if not group or revision != group[0].revision or _repeats(group, event):
            if revision != state.revision + 1:
                raise _jump(state.revision + 1, revision)
            group = []
        group.append(event)
        try:
            state = state.evolved((event,))
        except RuleViolation:
            if event in group[:-1]:  # a move RunDue made twice, or its group repeated
                raise _jump(state.revision + 1, revision) from None
            raise
    return state


def _jump(expected: int, actual: int) -> RevisionConflict:
    return RevisionConflict(
        expected,
        actual,
        f"the log jumps: the next events should have revision {expected}, not {actual}",
    )


def _repeats(group: list[Event], event: Event) -> bool:
    """Return whether *event* starts its group over: the group repeated in the log.

    One command never emits the same event twice, with one exception: a
    ``RunDue`` may move a lead the same way twice, and each move it carries out
    is followed by the ``ActionCompleted`` of a different scheduled action. Such
    a move is taken as part of the group; if it does not fit the state, the
    group was repeated after all (see :func:`replay`).
    """
    for index, earlier in enumerate(group):
        if earlier == event:
            carried = index + 1 < len(group) and isinstance(group[index + 1], ActionCompleted)
            if not (isinstance(event, LeadMoved) and carried):
                return True
    return False
