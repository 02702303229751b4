"""What the per-command tests of ``apply`` share: fixed times, stage ids and checks."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final

from pipekit import Applied, Command, Workspace, apply

AT: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
LATER: Final = datetime(2026, 11, 27, 10, 15, tzinfo=UTC)
LATEST: Final = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

# The stage ids of every default pipeline, incoming leads switched on.
INCOMING: Final = 147
INITIAL: Final = 144
OFFER: Final = 145
NEGOTIATION: Final = 146
WON: Final = 142
LOST: Final = 143


@contextlib.contextmanager
def unchanged(workspace: Workspace) -> Iterator[None]:
    """Fail when the block changes *workspace*: ``apply`` never changes its input."""
    snapshot = copy.deepcopy(workspace)
    revision, leads = workspace.revision, dict(workspace.leads)
    pipelines, reasons = workspace.pipelines, workspace.loss_reasons
    main = workspace.main_pipeline_id
    automations = workspace.automations
    totals = [workspace.stage_totals(pipeline.id) for pipeline in pipelines]
    yield
    assert workspace == snapshot
    assert workspace.revision == revision
    assert dict(workspace.leads) == leads
    assert workspace.pipelines == pipelines
    assert workspace.loss_reasons == reasons
    assert workspace.main_pipeline_id == main
    assert workspace.automations == automations
    assert [workspace.stage_totals(pipeline.id) for pipeline in pipelines] == totals


def checked(workspace: Workspace) -> Workspace:
    """Return *workspace* after checking that the public constructor accepts it as it is."""
    rebuilt = Workspace(
        pipelines=workspace.pipelines,
        main_pipeline_id=workspace.main_pipeline_id,
        leads=dict(workspace.leads),
        loss_reasons=workspace.loss_reasons,
        revision=workspace.revision,
        next_pipeline_id=workspace.next_pipeline_id,
        next_lead_id=workspace.next_lead_id,
        next_loss_reason_id=workspace.next_loss_reason_id,
        automations=workspace.automations,
        next_automation_id=workspace.next_automation_id,
        scheduled=workspace.scheduled,
        next_scheduled_id=workspace.next_scheduled_id,
    )
    assert rebuilt == workspace
    for pipeline in workspace.pipelines:
        assert workspace.stage_totals(pipeline.id) == rebuilt.stage_totals(pipeline.id)
        assert workspace.automations_of(pipeline.id) == rebuilt.automations_of(pipeline.id)
    return workspace


def apply_checked(workspace: Workspace, command: Command, *, at: datetime = LATER) -> Applied:
    """Apply *command*, checking that the input stays as it was and the result is valid."""
    with unchanged(workspace):
        applied = apply(workspace, command, at=at)
    checked(applied.workspace)
    return applied


def run(workspace: Workspace, *commands: Command, at: datetime = AT) -> Workspace:
    """Return *workspace* after *commands*, each of which must change it."""
    for command in commands:
        applied = apply(workspace, command, at=at)
        assert applied.events, f"{command!r} changed nothing"
        workspace = applied.workspace
    return workspace


def assert_changes_nothing(workspace: Workspace, command: Command) -> None:
    """Check that *command* is accepted, yields no event and returns *workspace* itself."""
    applied = apply_checked(workspace, command, at=LATEST)
    assert applied.events == ()
    assert applied.workspace is workspace
    assert applied.workspace.revision == workspace.revision
