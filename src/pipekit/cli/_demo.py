"""The tour ``pipekit demo`` prints: the rules of a pipeline, shown one command at a time.

It runs on a fresh in-memory workspace, at fixed times five minutes apart (the
automation scene jumps ahead once, to when its move is due), so the text is the
same on every run and every machine; nothing is read or written. Each
step is a heading, then each command as the Python that builds it (``> ...``), the
names of the events it produced and what happened; boards come from
:func:`~pipekit.cli._board.render_board`.

>>> text = demo(color=False, width=100)
>>> print(text.splitlines()[0])
== 1. A new workspace holds one pipeline, the main one
>>> "refused: stage_locked - the won stage (id 142) cannot be deleted" in text
True
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from pipekit import commands
from pipekit.applying import Applied, apply
from pipekit.automation import HostAction, MoveTo, Trigger
from pipekit.cli._board import MIN_WIDTH, describe_action, describe_automation, render_board
from pipekit.errors import RuleViolation
from pipekit.events import (
    ActionCompleted,
    ActionHandedOver,
    ActionScheduled,
    AutomationAdded,
    LeadsRelocated,
)
from pipekit.pipeline import Pipeline
from pipekit.workspace import Workspace, due, new_workspace

__all__ = ["demo"]

_START: Final = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
_STEP: Final = timedelta(minutes=5)
_LATER: Final = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
"""When the host's scheduler runs what is due, in the automation scene."""
_PIPELINE: Final = 1
_BOLD: Final = "\x1b[1m"
_RESET: Final = "\x1b[0m"


def demo(*, color: bool, width: int) -> str:
    """Return the text of the tour, ending with a newline.

    Boards are drawn with *width* and *color*, and prose is wrapped to *width*
    (at least :data:`~pipekit.cli._board.MIN_WIDTH`); a command line is kept whole,
    wider or not, so that it can be copied. With *color*, the headings are bold
    too, and the coloured text with its escapes stripped is the plain text. Every
    call with the same arguments returns the same text.
    """
    tour = _Tour(color, max(width, MIN_WIDTH))
    _start(tour)
    qualified_id, booked_id = _shape_stages(tour)
    _create_leads(tour, qualified_id)
    _work_leads(tour, qualified_id, booked_id)
    _close_leads(tour)
    _delete_stage(tour, qualified_id, booked_id)
    _automate(tour)
    _refuse(tour)
    tour.heading("The final board: counts and totals per stage, and the leads in each")
    tour.board(leads=True)
    tour.say("")
    tour.say(
        f"Revision {tour.workspace.revision}: one for each command applied; the refused"
        " ones changed nothing."
    )
    return "\n".join(tour.lines) + "\n"


@attrs.define
class _Tour:
    """The workspace as the tour goes, the time of the last command, and the text so far."""

    color: bool
    width: int
    workspace: Workspace = attrs.field(factory=new_workspace)
    at: datetime = _START
    lines: list[str] = attrs.field(factory=list)
    steps: int = 0

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline the tour shapes, as it is now."""
        return self.workspace.pipeline(_PIPELINE)

    def heading(self, title: str) -> None:
        """Start the next numbered step, after a blank line."""
        self.steps += 1
        if self.lines:
            self.lines.append("")
        number = f"== {self.steps}. "
        for line in self._wrap(number + title, first=0, indent=len(number)):
            self.lines.append(f"{_BOLD}{line}{_RESET}" if self.color else line)

    def say(self, text: str, *, indent: int = 0) -> None:
        """Print a sentence, wrapped to the width; an indented one hangs by two more spaces."""
        hanging = indent + 2 if indent else 0
        self.lines.extend(self._wrap(text, first=indent, indent=hanging) or [""])

    def run(
        self,
        command: commands.Command,
        explain: str | Callable[[Applied], str],
        *,
        at: datetime | None = None,
    ) -> Applied:
        """Apply *command* at *at*, or five minutes after the last one; print it and its events.

        Then print *explain*: a sentence, or one made from what :func:`~pipekit.apply`
        returned.
        """
        self.at = self.at + _STEP if at is None else at
        applied = apply(self.workspace, command, at=self.at)
        self.workspace = applied.workspace
        names = ", ".join(type(event).__name__ for event in applied.events)
        sentence = explain if isinstance(explain, str) else explain(applied)
        self.lines.append(f"> {_call(command)}")
        self.say(f"{names}: {sentence}", indent=2)
        return applied

    def refuse(self, command: commands.Command) -> None:
        """Apply *command*, which the rules refuse; print the error's code and message.

        A command the rules accept raises :class:`AssertionError`: the tour would
        then tell a story the rules no longer do.
        """
        self.at += _STEP
        self.lines.append(f"> {_call(command)}")
        try:
            apply(self.workspace, command, at=self.at)
        except RuleViolation as error:
            self.say(f"refused: {error.code} - {error}", indent=2)
            return
        raise AssertionError(f"the rules accepted {command!r}")

    def board(self, *, leads: bool = False) -> None:
        """Print the pipeline as a board, after a blank line."""
        self.lines.append("")
        board = render_board(
            self.workspace, _PIPELINE, width=self.width, color=self.color, leads=leads
        )
        self.lines.append(board)

    def _wrap(self, text: str, *, first: int, indent: int) -> list[str]:
        """Return *text* wrapped to the width, indented *first*, then *indent* after line one."""
        # Not at hyphens: a time reads 2026-11-27T10:35:00+00:00 and should stay whole.
        return textwrap.wrap(
            text,
            self.width,
            initial_indent=" " * first,
            subsequent_indent=" " * indent,
            break_on_hyphens=False,
        )


def _call(value: object) -> str:
    """Return *value*, a command or a part of one, as the Python that builds it.

    Fields at their default are left out (not those whose default is a factory);
    an action's frozen params read as the dict they came from, a delay as
    ``timedelta(...)``.
    """
    cls = type(value)
    if attrs.has(cls):
        shown = [
            f"{field.name}={_call(getattr(value, field.name))}"
            for field in attrs.fields(cls)
            if field.default is attrs.NOTHING or getattr(value, field.name) != field.default
        ]
        return f"{cls.__name__}({', '.join(shown)})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {_call(item)}" for key, item in value.items()) + "}"
    if isinstance(value, timedelta):
        return repr(value).removeprefix("datetime.")
    return repr(value)


def _lead(workspace: Workspace, lead_id: int) -> str:
    """Return a lead as a person reads it: its name, id and price."""
    lead = workspace.lead(lead_id)
    return f"{lead.name} (lead {lead.id}, price {lead.price:,})"


def _whereabouts(workspace: Workspace, lead_id: int) -> str:
    """Return a lead and the stage it is in."""
    lead = workspace.lead(lead_id)
    stage = workspace.pipeline(lead.pipeline_id).stage(lead.stage_id)
    return f"{_lead(workspace, lead_id)} is in {stage.name}"


def _where(lead_id: int, then: str = "") -> Callable[[Applied], str]:
    """Return what says where the lead *lead_id* is after a command, followed by *then*."""
    return lambda applied: _whereabouts(applied.workspace, lead_id) + then


# -- the steps ----------------------------------------------------------------------------


def _start(tour: _Tour) -> None:
    """Show the default pipeline, then switch incoming leads on (steps 1 and 2)."""
    tour.heading("A new workspace holds one pipeline, the main one")
    tour.say(
        "new_workspace() starts with three open stages, then won and lost, which end every"
        " pipeline. Each command below is applied with apply(workspace, command, at=...), at"
        " fixed times five minutes apart from 2026-11-27 09:00 UTC: pipekit never reads the"
        " clock."
    )
    tour.board()
    tour.heading("Switch incoming leads on")
    incoming_id = tour.pipeline.next_stage_id
    tour.run(
        commands.EnableIncoming(_PIPELINE),
        f"Incoming leads (id {incoming_id}) comes first now; requests wait there to be"
        " accepted or declined",
    )


def _shape_stages(tour: _Tour) -> tuple[int, int]:
    """Add, rename, recolour and move open stages (step 3); return the two new stage ids."""
    tour.heading("Add, rename, recolour and move stages")
    qualified_id = tour.pipeline.next_stage_id
    tour.run(
        commands.AddStage(_PIPELINE, "Qualified", position=1),
        f"Qualified (id {qualified_id}) is the second open stage; positions count from 0",
    )
    booked_id = tour.pipeline.next_stage_id
    tour.run(
        commands.AddStage(_PIPELINE, "Demo booked"),
        f"Demo booked (id {booked_id}) is the last open stage, before won and lost; it gets"
        " the first colour of Kommo's palette not in use yet",
    )
    tour.run(
        commands.RenameStage(_PIPELINE, 145, "Proposal sent"), "Offer Made is now Proposal sent"
    )
    tour.run(commands.RecolorStage(_PIPELINE, 145, "#98cbff"), "Proposal sent is light blue now")
    tour.run(commands.MoveStage(_PIPELINE, booked_id, 2), "Demo booked is the third open stage now")
    tour.board()
    return qualified_id, booked_id


def _create_leads(tour: _Tour, qualified_id: int) -> None:
    """Create leads in open stages and in incoming leads (step 4)."""
    tour.heading("Create leads: in open stages, and in incoming leads to wait there")
    for name, price, stage_id, incoming in (
        ("ACME Corp website", 150_000, None, False),
        ("Globex renewal", 48_000, qualified_id, False),
        ("Initech migration", 320_000, 146, False),
        ("Umbrella Health pilot", 75_000, 145, False),
        ("Stark Industries inquiry", 90_000, None, True),
        ("Wayne Enterprises RFP", 500_000, None, True),
        ("Hooli newsletter signup", 0, None, True),
    ):
        lead_id = tour.workspace.next_lead_id
        command = commands.CreateLead(name, price=price, stage_id=stage_id, incoming=incoming)
        tour.run(command, _where(lead_id))
    tour.say(
        "Prices are whole minor units, such as cents: 150,000 is 1,500.00 in a currency with"
        " cents. Without a stage, a lead goes to the first open stage."
    )
    tour.board(leads=True)


def _work_leads(tour: _Tour, qualified_id: int, booked_id: int) -> None:
    """Move leads, accept two from incoming leads and decline one (step 5)."""
    tour.heading("Move leads; accept and decline the ones waiting in incoming leads")
    tour.run(commands.MoveLead(1, qualified_id), _where(1))
    tour.run(commands.MoveLead(2, booked_id), _where(2))
    tour.run(commands.AcceptLead(5, stage_id=qualified_id), _where(5))
    tour.run(commands.AcceptLead(6), _where(6, ", the first open stage"))
    declined = _lead(tour.workspace, 7)
    tour.run(commands.DeclineLead(7), f"{declined} has left the workspace")


def _close_leads(tour: _Tour) -> None:
    """Add a loss reason, win a lead, lose one with that reason (step 6)."""
    tour.heading("Win a lead, and lose one with a reason")
    reason_id = tour.workspace.next_loss_reason_id
    tour.run(
        commands.AddLossReason("Chose a competitor"), f"loss reason {reason_id}, Chose a competitor"
    )
    tour.run(
        commands.WinLead(3),
        lambda applied: f"{_whereabouts(applied.workspace, 3)}, closed at {_closed(applied, 3)}",
    )
    tour.run(
        commands.LoseLead(4, loss_reason_id=reason_id),
        lambda applied: (
            f"{_whereabouts(applied.workspace, 4)}, lost with reason {reason_id}"
            f" ({applied.workspace.loss_reason(reason_id).name})"
        ),
    )


def _delete_stage(tour: _Tour, qualified_id: int, booked_id: int) -> None:
    """Delete a stage holding leads, and show where they went (step 7)."""
    tour.heading("Delete a stage that holds leads: they move to another open stage first")
    before = tour.workspace
    applied = tour.run(
        commands.DeleteStage(_PIPELINE, qualified_id),
        f"Qualified held {len(before.leads_in(_PIPELINE, qualified_id))} leads; they were"
        " relocated, then the stage was deleted",
    )
    for event in applied.events:
        if isinstance(event, LeadsRelocated):
            tour.say(
                f"LeadsRelocated(from_stage_id={event.from_stage_id},"
                f" to_stage_id={event.to_stage_id}, lead_ids={event.lead_ids!r}):",
                indent=2,
            )
            for lead_id in event.lead_ids:
                to_stage = tour.pipeline.stage(event.to_stage_id).name
                tour.say(f"{_lead(before, lead_id)} moved to {to_stage}", indent=4)
    tour.say(
        "Without move_leads_to they go to the first open stage left;"
        f" DeleteStage(..., move_leads_to={booked_id}) would have sent them to Demo booked."
    )


def _automate(tour: _Tour) -> None:
    """Add two automations, let a new lead set them off, and run what is due (step 8)."""
    first = tour.pipeline.open_stages[0]
    second = tour.pipeline.open_stages[1]
    tour.heading(
        f"Automate a stage: a welcome e-mail for every lead entering {first.name}, and a move"
        f" on to {second.name} two days later"
    )
    tour.run(
        commands.AddAutomation(
            _PIPELINE,
            (first.id,),
            Trigger.ENTERED,
            HostAction("send_email", {"template": "welcome"}),
        ),
        _added,
    )
    tour.run(
        commands.AddAutomation(
            _PIPELINE, (first.id,), Trigger.ENTERED, MoveTo(second.id), delay=timedelta(days=2)
        ),
        _added,
    )
    tour.say(
        f"Adding them scheduled nothing for the {len(tour.workspace.leads_in(_PIPELINE, first.id))}"
        f" leads already in {first.name}: automations act on what happens from now on."
    )
    lead_id = tour.workspace.next_lead_id
    applied = tour.run(commands.CreateLead("Pied Piper trial", price=60_000), _where(lead_id))
    for event in applied.events:
        if isinstance(event, ActionScheduled):
            item = event.scheduled
            tour.say(
                f"item {item.id}: {describe_action(tour.workspace, _PIPELINE, item.action)},"
                f" due {item.due_at.isoformat()}",
                indent=4,
            )
    waiting = ", ".join(str(item.id) for item in due(tour.workspace, tour.at))
    tour.say(
        "Nothing runs inside the command, even with no delay. due(workspace, now) lists what is"
        f" due (now: item {waiting}); the host's scheduler applies RunDue() when it chooses, to"
        f" carry it out. At {_LATER:%Y-%m-%d %H:%M} UTC, after the two days:"
    )
    applied = tour.run(commands.RunDue(), lambda applied: _ran(applied, lead_id), at=_LATER)
    (handed,) = (e.scheduled_id for e in applied.events if isinstance(e, ActionHandedOver))
    tour.run(
        commands.CompleteAction(handed),
        lambda applied: (
            "the host reports the e-mail sent; workspace.scheduled is now"
            f" {applied.workspace.scheduled!r}"
        ),
    )


def _ran(applied: Applied, lead_id: int) -> str:
    """Say what a RunDue did: the items handed over to the host, and those pipekit carried out."""
    handed = [e.scheduled_id for e in applied.events if isinstance(e, ActionHandedOver)]
    done = [e.scheduled_id for e in applied.events if isinstance(e, ActionCompleted)]
    return (
        f"item {', '.join(map(str, handed))} went to the host to send the e-mail (it stays in"
        " workspace.scheduled until the host reports back); pipekit carried out item"
        f" {', '.join(map(str, done))} itself: {_whereabouts(applied.workspace, lead_id)}"
    )


def _added(applied: Applied) -> str:
    """Say what the automation an AddAutomation added does, and where."""
    (event,) = applied.events
    assert isinstance(event, AutomationAdded)
    automation = event.automation
    pipeline = applied.workspace.pipeline(automation.pipeline_id)
    watched = ", ".join(pipeline.stage(stage_id).name for stage_id in automation.stage_ids)
    return f"{describe_automation(applied.workspace, automation)}; watches {watched}"


def _refuse(tour: _Tour) -> None:
    """Show commands the rules refuse, each with its error code and message (step 9)."""
    tour.heading("Commands the rules refuse, each with an error code and a message")
    revision = tour.workspace.revision
    incoming_id = tour.pipeline.stages[0].id
    first_id = tour.pipeline.open_stages[0].id
    tour.refuse(commands.DeleteStage(_PIPELINE, 142))
    tour.refuse(commands.MoveLead(6, incoming_id))
    tour.refuse(
        commands.AddAutomation(_PIPELINE, (incoming_id,), Trigger.ENTERED, MoveTo(first_id))
    )
    tour.say(f"A refused command changes nothing: the workspace is still at revision {revision}.")


def _closed(applied: Applied, lead_id: int) -> str:
    """Return when a closed lead closed, as ISO 8601."""
    closed_at = applied.workspace.lead(lead_id).closed_at
    assert closed_at is not None  # a lead in won or lost has closed_at (W5)
    return closed_at.isoformat()
