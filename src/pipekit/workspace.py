"""The workspace: an account's pipelines, leads, loss reasons and automations, as one value.

A :class:`Workspace` keeps every rule that spans objects: each lead sits in an
existing stage of an existing pipeline (W1), closed leads sit in won or lost
(W5), names and ids are unique (W3, W6), automations watch and target stages
that exist (D1 to D4). Change it with :func:`pipekit.apply`;
build one by hand (or decode one) and the constructor checks everything, raising
:class:`~pipekit.InvalidWorkspace` naming the rule that broke.

>>> from pipekit import new_workspace
>>> workspace = new_workspace()
>>> workspace.main_pipeline.name, len(workspace.leads), workspace.revision
('Pipeline', 0, 0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Final, TypeAlias, final

import attrs

from pipekit._checks import int_text, require_int, require_type
from pipekit._containers import PersistentIndex
from pipekit._schedule import EMPTY_SCHEDULE, Schedule
from pipekit.automation import MAX_AUTOMATIONS, Automation, Scheduled
from pipekit.bounds import NEXT_ID_RANGE, REVISION_RANGE, Id, NextId, Revision
from pipekit.errors import (
    AutomationLimitReached,
    DuplicateAutomationId,
    DuplicateLeadId,
    DuplicateLossReasonId,
    DuplicateName,
    DuplicatePipelineId,
    IncomingNotEmpty,
    InvalidTarget,
    InvalidWorkspace,
    PipelineLimitReached,
    PositionOutOfRange,
    RuleViolation,
    UnknownAutomation,
    UnknownLead,
    UnknownLossReason,
    UnknownPipeline,
    UnknownScheduledAction,
    UnknownStage,
)
from pipekit.lead import Lead, LossReason, positive_id
from pipekit.names import clean_name, name_key
from pipekit.pipeline import Pipeline, default_pipeline
from pipekit.stage import Stage, StageKind

__all__ = ["MAX_PIPELINES", "StageTotal", "Workspace", "new_workspace"]

MAX_PIPELINES: Final = 50
"""The most pipelines a workspace holds (Kommo's limit, W3)."""

ByPipeline: TypeAlias = Mapping[int, tuple[Automation, ...]]
"""The automations of each pipeline that has any, by pipeline id, in creation order."""

Watchers: TypeAlias = Mapping[tuple[int, int], tuple[Automation, ...]]
"""The enabled automations watching each (pipeline id, stage id), in creation order."""

LeadIds: TypeAlias = PersistentIndex[int]
Bucket: TypeAlias = tuple[LeadIds, int]
"""The ids of the leads in one stage, and the sum of their prices."""

_lead_key: Final = attrgetter("id")
NO_LEAD_IDS: Final[LeadIds] = PersistentIndex()
EMPTY_BUCKET: Final[Bucket] = (NO_LEAD_IDS, 0)
NO_LEADS: Final[PersistentIndex[Lead]] = PersistentIndex(_lead_key)


def leads_index(leads: Iterable[Lead]) -> PersistentIndex[Lead]:
    """Return *leads* as an index keyed by lead id."""
    return PersistentIndex(_lead_key, iter(leads))


@final
@attrs.frozen
class StageTotal:
    """What a board shows over a stage's column: how many leads, and their summed price."""

    stage_id: int
    count: int
    total: int


def _to_pipelines(value: Iterable[Pipeline]) -> tuple[Pipeline, ...]:
    pipelines = tuple(value)
    for pipeline in pipelines:
        require_type(pipeline, Pipeline, "each pipeline of a workspace")
    return pipelines


def _to_leads(value: Mapping[int, Lead] | Iterable[Lead]) -> PersistentIndex[Lead]:
    if isinstance(value, PersistentIndex) and value.key is _lead_key:
        return value  # keyed by lead id; the constructor checks every value is a Lead
    if isinstance(value, Mapping):
        for key, lead in value.items():
            require_type(lead, Lead, "each lead of a workspace")
            if key != lead.id:
                raise InvalidWorkspace(
                    "W6", f"lead {lead.id} is filed under the key {key!r}", ("leads", key)
                )
        return leads_index(value.values())
    leads = tuple(value)
    for lead in leads:
        require_type(lead, Lead, "each lead of a workspace")
    index = leads_index(leads)
    if len(index) != len(leads):
        repeated = Counter(lead.id for lead in leads).most_common(1)[0][0]
        raise InvalidWorkspace(
            "W6", f"two leads have the same id {repeated}", ("leads", repeated, "id")
        )
    return index


def _to_reasons(value: Iterable[LossReason]) -> tuple[LossReason, ...]:
    reasons = tuple(value)
    for reason in reasons:
        require_type(reason, LossReason, "each loss reason of a workspace")
    return reasons


def _to_automations(value: Iterable[Automation]) -> tuple[Automation, ...]:
    automations = tuple(value)
    for automation in automations:
        require_type(automation, Automation, "each automation of a workspace")
    return automations


def automations_by_pipeline(automations: Iterable[Automation]) -> ByPipeline:
    """Return *automations* grouped by pipeline id, each group in the order given.

    A plain dict, private to the workspace and never changed once built (so that
    a workspace still pickles and copies).
    """
    groups: dict[int, list[Automation]] = {}
    for automation in automations:
        groups.setdefault(automation.pipeline_id, []).append(automation)
    return {key: tuple(group) for key, group in groups.items()}


def watchers_of(automations: Iterable[Automation]) -> Watchers:
    """Return the enabled *automations* by the (pipeline id, stage id) of each stage they watch."""
    groups: dict[tuple[int, int], list[Automation]] = {}
    for automation in automations:
        if automation.enabled:
            for stage_id in automation.stage_ids:
                groups.setdefault((automation.pipeline_id, stage_id), []).append(automation)
    return {key: tuple(group) for key, group in groups.items()}


def _to_schedule(value: Schedule | Iterable[Scheduled]) -> Schedule:
    if isinstance(value, Schedule):
        return value
    items = tuple(value)
    seen: set[int] = set()
    for item in items:
        require_type(item, Scheduled, "each scheduled action of a workspace")
        if item.id in seen:
            raise InvalidWorkspace(
                "D6", f"two scheduled actions have the id {item.id}", ("scheduled", item.id, "id")
            )
        seen.add(item.id)
    return Schedule(items) if items else EMPTY_SCHEDULE


def _above(ids: Iterable[int]) -> int:
    return max(ids, default=0) + 1


@final
@attrs.frozen
class Workspace:
    """An account's pipelines (in display order), leads, loss reasons and automations.

    ``leads`` is a read-only mapping from lead id to :class:`~pipekit.Lead` that
    shares its structure between revisions, so a command on one lead costs
    O(log n), never a copy of them all. ``revision`` counts the applied commands
    that changed something. ``automations`` are the Digital Pipeline's rules, in
    creation order; ``scheduled`` the actions they called for, by due time then id
    (see :attr:`scheduled`). The ``next_*_id`` counters give the ids of new leads,
    pipelines, loss reasons, automations and scheduled actions unless a command
    names one; they always stay above every id in use, and default to one above
    the highest.
    """

    pipelines: tuple[Pipeline, ...] = attrs.field(converter=_to_pipelines)
    main_pipeline_id: Id
    leads: Mapping[int, Lead] = attrs.field(default=NO_LEADS, converter=_to_leads)
    loss_reasons: tuple[LossReason, ...] = attrs.field(default=(), converter=_to_reasons)
    revision: Revision = 0
    next_pipeline_id: NextId = attrs.field(
        default=attrs.Factory(lambda self: _above(p.id for p in self.pipelines), takes_self=True)
    )
    next_lead_id: NextId = attrs.field(
        default=attrs.Factory(lambda self: _above(self.leads), takes_self=True)
    )
    next_loss_reason_id: NextId = attrs.field(
        default=attrs.Factory(lambda self: _above(r.id for r in self.loss_reasons), takes_self=True)
    )
    automations: tuple[Automation, ...] = attrs.field(default=(), converter=_to_automations)
    next_automation_id: NextId = attrs.field(
        default=attrs.Factory(lambda self: _above(a.id for a in self.automations), takes_self=True)
    )
    # Built with ``scheduled=`` and read as the tuple :attr:`scheduled`; kept as a
    # persistent structure, so that scheduling one more action copies one path.
    _schedule: Schedule = attrs.field(
        alias="scheduled",
        default=EMPTY_SCHEDULE,
        converter=_to_schedule,
    )
    next_scheduled_id: NextId = attrs.field(
        default=attrs.Factory(
            lambda self: _above(item.id for item in self._schedule.by_id()), takes_self=True
        )
    )
    # Derived, kept so that a lead command costs O(log n): the pipeline ids in
    # order; for each pipeline, for each of its stages, the ids of the leads there
    # and their summed price; and how many leads give each loss reason.
    _pipeline_ids: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    _buckets: tuple[tuple[Bucket, ...], ...] = attrs.field(init=False, eq=False, repr=False)
    _reason_uses: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    # The automations again: by pipeline, by id, and the enabled ones by the
    # stages they watch, which is what a lead change looks at.
    _by_pipeline: ByPipeline = attrs.field(init=False, eq=False, repr=False)
    _automation_ids: Mapping[int, Automation] = attrs.field(init=False, eq=False, repr=False)
    _watchers: Watchers = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_workspace(self)

    def __repr__(self) -> str:
        # Each field by the name the constructor takes, so the repr evaluates back.
        shown = (field.alias or field.name for field in attrs.fields(Workspace) if field.repr)
        return "Workspace(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in shown) + ")"

    # -- queries ------------------------------------------------------------------

    @property
    def scheduled(self) -> tuple[Scheduled, ...]:
        """The actions the automations called for, not yet done: by due time, then id.

        Built once per workspace on first read, in O(n); what is due is cheaper to
        ask :func:`~pipekit.due`, and one item :meth:`scheduled_action`.
        """
        return self._schedule.as_tuple()

    def scheduled_action(self, scheduled_id: int) -> Scheduled:
        """Return the scheduled action *scheduled_id*.

        Raises :class:`~pipekit.UnknownScheduledAction` when there is none.
        """
        item = self._schedule.get(require_int(scheduled_id, "a scheduled action id"))
        if item is None:
            raise UnknownScheduledAction(scheduled_id)
        return item

    @property
    def main_pipeline(self) -> Pipeline:
        """The main pipeline: where new leads go when no pipeline is named."""
        return self.pipelines[self._pipeline_ids.index(self.main_pipeline_id)]

    def pipeline(self, pipeline_id: int) -> Pipeline:
        """Return the pipeline with id *pipeline_id*, or raise :class:`~pipekit.UnknownPipeline`."""
        return self.pipelines[self.pipeline_index(pipeline_id)]

    def pipeline_index(self, pipeline_id: int) -> int:
        """Return the display position of the pipeline *pipeline_id*."""
        require_int(pipeline_id, "a pipeline id")
        try:
            return self._pipeline_ids.index(pipeline_id)
        except ValueError:
            raise UnknownPipeline(pipeline_id) from None

    def lead(self, lead_id: int) -> Lead:
        """Return the lead with id *lead_id*, or raise :class:`~pipekit.UnknownLead`."""
        lead = self.leads.get(require_int(lead_id, "a lead id"))
        if lead is None:
            raise UnknownLead(lead_id)
        return lead

    def loss_reason(self, reason_id: int) -> LossReason:
        """Return the loss reason *reason_id*, or raise :class:`~pipekit.UnknownLossReason`."""
        return self.loss_reasons[self.loss_reason_index(reason_id)]

    def loss_reason_index(self, reason_id: int) -> int:
        """Return the position of the loss reason *reason_id* in :attr:`loss_reasons`."""
        require_int(reason_id, "a loss reason id")
        for index, reason in enumerate(self.loss_reasons):
            if reason.id == reason_id:
                return index
        raise UnknownLossReason(reason_id)

    def leads_in(self, pipeline_id: int, stage_id: int) -> tuple[Lead, ...]:
        """Return the leads in stage *stage_id* of pipeline *pipeline_id*, by id."""
        ids, _total = self._bucket(pipeline_id, stage_id)
        leads = self.leads
        return tuple(leads[lead_id] for lead_id in sorted(ids))

    def stage_totals(self, pipeline_id: int) -> tuple[StageTotal, ...]:
        """Return, for each stage of a pipeline in order, its lead count and summed price."""
        index = self.pipeline_index(pipeline_id)
        return tuple(
            StageTotal(stage.id, len(ids), total)
            for stage, (ids, total) in zip(
                self.pipelines[index].stages, self._buckets[index], strict=True
            )
        )

    def _bucket(self, pipeline_id: int, stage_id: int) -> Bucket:
        """Return the ids of the leads in a stage and their summed price."""
        index = self.pipeline_index(pipeline_id)
        return self._buckets[index][self.pipelines[index].index_of(stage_id)]

    def automation(self, automation_id: int) -> Automation:
        """Return the automation *automation_id*, or raise :class:`~pipekit.UnknownAutomation`."""
        automation = self._automation_ids.get(require_int(automation_id, "an automation id"))
        if automation is None:
            raise UnknownAutomation(automation_id)
        return automation

    def automation_index(self, automation_id: int) -> int:
        """Return the position of the automation *automation_id* in :attr:`automations`."""
        require_int(automation_id, "an automation id")
        for index, automation in enumerate(self.automations):
            if automation.id == automation_id:
                return index
        raise UnknownAutomation(automation_id)

    def automations_of(self, pipeline_id: int) -> tuple[Automation, ...]:
        """Return the automations of the pipeline *pipeline_id*, in creation order."""
        self.pipeline_index(pipeline_id)
        return self._by_pipeline.get(pipeline_id, ())

    def lead_count(self, pipeline_id: int) -> int:
        """Return how many leads a pipeline holds."""
        return sum(len(ids) for ids, _total in self._buckets[self.pipeline_index(pipeline_id)])


def new_workspace(*, incoming: bool = False) -> Workspace:
    """Return a workspace with one default pipeline (main, id 1), no leads, revision 0.

    >>> new_workspace(incoming=True).main_pipeline.incoming.name
    'Incoming leads'
    """
    return Workspace(pipelines=(default_pipeline(incoming=incoming),), main_pipeline_id=1)


# -- the checks the constructor makes ---------------------------------------------------


def _check_workspace(workspace: Workspace) -> None:
    pipelines = workspace.pipelines
    if not pipelines:
        raise InvalidWorkspace("W3", "a workspace has at least one pipeline", ("pipelines",))
    if len(pipelines) > MAX_PIPELINES:
        raise InvalidWorkspace(
            "W3", f"{len(pipelines)} pipelines, at most {MAX_PIPELINES} are allowed", ("pipelines",)
        )
    pipeline_ids = tuple(pipeline.id for pipeline in pipelines)
    _check_unique_ids(pipeline_ids, "pipeline", "pipelines")
    _check_unique_names([pipeline.name for pipeline in pipelines], "pipeline", "pipelines")
    require_int(workspace.main_pipeline_id, "main_pipeline_id")
    if workspace.main_pipeline_id not in pipeline_ids:
        raise InvalidWorkspace(
            "W3",
            f"the main pipeline {workspace.main_pipeline_id} is not in the workspace",
            ("main_pipeline_id",),
        )
    reasons = workspace.loss_reasons
    reason_ids = [reason.id for reason in reasons]
    # Each lead finds its reason by id in one lookup: a scan per lead cost O(leads x reasons).
    reason_index = {reason_id: index for index, reason_id in enumerate(reason_ids)}
    _check_unique_ids(reason_ids, "loss reason", "loss_reasons")
    _check_unique_names([reason.name for reason in reasons], "loss reason", "loss_reasons")
    revision = require_int(workspace.revision, "revision")
    if revision < 0:
        raise InvalidWorkspace("W6", f"the revision is at least 0, got {revision}", ("revision",))
    if revision not in REVISION_RANGE:
        raise InvalidWorkspace(
            "W6",
            f"the revision is at most {REVISION_RANGE.high}, got {int_text(revision)}",
            ("revision",),
        )
    leads = workspace.leads
    for counter, in_use, what, field in (
        (workspace.next_pipeline_id, pipeline_ids, "pipeline", "next_pipeline_id"),
        (workspace.next_lead_id, leads, "lead", "next_lead_id"),
        (workspace.next_loss_reason_id, reason_ids, "loss reason", "next_loss_reason_id"),
    ):
        _check_counter(counter, in_use, what, field, "W6")
    members: list[list[list[int]]] = [[[] for _ in pipeline.stages] for pipeline in pipelines]
    totals = [[0] * len(pipeline.stages) for pipeline in pipelines]
    reason_uses = [0] * len(reasons)
    for lead in workspace.leads.values():
        require_type(lead, Lead, "each lead of a workspace")
        pipeline_index, stage_index = _check_lead(workspace, pipeline_ids, reason_index, lead)
        members[pipeline_index][stage_index].append(lead.id)
        totals[pipeline_index][stage_index] += lead.price
        if lead.loss_reason_id is not None:
            reason_uses[reason_index[lead.loss_reason_id]] += 1
    buckets = tuple(
        tuple(
            (PersistentIndex(values=iter(ids)), total) if ids else EMPTY_BUCKET
            for ids, total in zip(row_ids, row_totals, strict=True)
        )
        for row_ids, row_totals in zip(members, totals, strict=True)
    )
    object.__setattr__(workspace, "_pipeline_ids", pipeline_ids)
    object.__setattr__(workspace, "_buckets", buckets)
    object.__setattr__(workspace, "_reason_uses", tuple(reason_uses))
    _check_automations(workspace)


def _check_automations(workspace: Workspace) -> None:
    """Check the Digital Pipeline rules D1 to D4 (after the rest: they need the pipelines)."""
    automations = workspace.automations
    seen: set[int] = set()
    for index, automation in enumerate(automations):
        where = ("automations", index)
        if automation.id in seen:
            raise InvalidWorkspace(
                "D4", f"two automations have the id {automation.id}", (*where, "id")
            )
        seen.add(automation.id)
        for rule, check in (("D1", check_references), ("D2", check_incoming_rule)):
            try:
                check(workspace, automation)
            except RuleViolation as error:
                raise InvalidWorkspace(
                    rule, f"automation {automation.id}: {error}", where
                ) from None
    _check_counter(workspace.next_automation_id, seen, "automation", "next_automation_id", "D4")
    by_pipeline = automations_by_pipeline(automations)
    for pipeline_id, group in by_pipeline.items():
        if len(group) > MAX_AUTOMATIONS:
            raise InvalidWorkspace(
                "D3",
                f"pipeline {pipeline_id} has {len(group)} automations,"
                f" at most {MAX_AUTOMATIONS} are allowed",
                ("automations",),
            )
    object.__setattr__(workspace, "_by_pipeline", by_pipeline)
    object.__setattr__(workspace, "_automation_ids", {a.id: a for a in automations})
    object.__setattr__(workspace, "_watchers", watchers_of(automations))
    _check_scheduled(workspace)


def _check_scheduled(workspace: Workspace) -> None:
    """Check rule D6: scheduled actions belong to leads and automations that exist."""
    leads = workspace.leads
    automations = workspace._automation_ids
    highest = 0
    for item in workspace._schedule.by_id():
        highest = item.id
        where = ("scheduled", item.id)
        if item.lead_id not in leads:
            raise InvalidWorkspace(
                "D6",
                f"scheduled action {item.id} is for lead {item.lead_id}, unknown",
                (*where, "lead_id"),
            )
        if item.handed_over_at is None and item.automation_id not in automations:
            raise InvalidWorkspace(
                "D6",
                f"scheduled action {item.id} waits on automation {item.automation_id}, unknown",
                (*where, "automation_id"),
            )
    _check_counter(
        workspace.next_scheduled_id, (highest,), "scheduled action", "next_scheduled_id", "D6"
    )


def _check_counter(counter: int, in_use: Iterable[int], what: str, field: str, rule: str) -> None:
    """Check an id counter: above every id in use, and at most one above the highest id."""
    if require_int(counter, f"the next {what} id") <= max(in_use, default=0):
        raise InvalidWorkspace(
            rule,
            f"the next {what} id {int_text(counter)} must be above every {what} id in use",
            (field,),
        )
    if counter not in NEXT_ID_RANGE:
        raise InvalidWorkspace(
            rule,
            f"the next {what} id is at most {NEXT_ID_RANGE.high}, one above the highest id,"
            f" got {int_text(counter)}",
            (field,),
        )


def _check_lead(
    workspace: Workspace,
    pipeline_ids: tuple[int, ...],
    reason_ids: Mapping[int, int],
    lead: Lead,
) -> tuple[int, int]:
    if lead.pipeline_id not in pipeline_ids:
        raise InvalidWorkspace(
            "W1",
            f"lead {lead.id} is in pipeline {lead.pipeline_id}, unknown",
            ("leads", lead.id, "pipeline_id"),
        )
    pipeline_index = pipeline_ids.index(lead.pipeline_id)
    pipeline = workspace.pipelines[pipeline_index]
    try:
        stage_index = pipeline.index_of(lead.stage_id)
    except RuleViolation:
        raise InvalidWorkspace(
            "W1",
            f"lead {lead.id} is in stage {lead.stage_id}, unknown in pipeline {pipeline.id}",
            ("leads", lead.id, "stage_id"),
        ) from None
    kind = pipeline.stages[stage_index].kind
    closed = kind in (StageKind.WON, StageKind.LOST)
    if closed != (lead.closed_at is not None):
        raise InvalidWorkspace(
            "W5",
            f"lead {lead.id} must have closed_at set exactly while it is in won or lost,"
            f" and it is in the {kind.label} stage",
            ("leads", lead.id, "closed_at"),
        )
    if lead.loss_reason_id is not None:
        if kind is not StageKind.LOST:
            raise InvalidWorkspace(
                "W5",
                f"lead {lead.id} has a loss reason but is not in the lost stage",
                ("leads", lead.id, "loss_reason_id"),
            )
        if lead.loss_reason_id not in reason_ids:
            raise InvalidWorkspace(
                "W5",
                f"lead {lead.id} gives the unknown loss reason {lead.loss_reason_id}",
                ("leads", lead.id, "loss_reason_id"),
            )
    return pipeline_index, stage_index


def _check_unique_ids(ids: Iterable[int], what: str, field: str) -> None:
    seen: set[int] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            raise InvalidWorkspace("W6", f"two {what}s have the id {item_id}", (field, index, "id"))
        seen.add(item_id)


def _check_unique_names(names: Iterable[str], what: str, field: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        key = name_key(name)
        if key in seen:
            raise InvalidWorkspace(
                "W3", f"two {what}s have clashing names {name!r}", (field, index, "name")
            )
        seen.add(key)


# -- rules that both deciding and evolving check -----------------------------------------
# A command is refused by the same function that refuses a forged event, so each
# rule is written once.


def check_room(workspace: Workspace) -> None:
    """Raise :class:`~pipekit.PipelineLimitReached` if *workspace* holds the most pipelines."""
    if len(workspace.pipelines) >= MAX_PIPELINES:
        raise PipelineLimitReached(MAX_PIPELINES)


def check_pipeline_name(workspace: Workspace, name: str, pipeline_id: int | None = None) -> str:
    """Return *name* stripped if no other pipeline of *workspace* has it (R7, W3)."""
    name = clean_name(name)
    key = name_key(name)
    for pipeline in workspace.pipelines:
        if pipeline.id != pipeline_id and name_key(pipeline.name) == key:
            raise DuplicateName(name, pipeline.name, pipeline.id, what="pipeline")
    return name


def check_reason_name(workspace: Workspace, name: str, reason_id: int | None = None) -> str:
    """Return *name* stripped if no other loss reason of *workspace* has it (R7, W3)."""
    name = clean_name(name)
    key = name_key(name)
    for reason in workspace.loss_reasons:
        if reason.id != reason_id and name_key(reason.name) == key:
            raise DuplicateName(name, reason.name, reason.id, what="loss reason")
    return name


def check_new_pipeline_id(workspace: Workspace, pipeline_id: int) -> int:
    """Return *pipeline_id* if it is a valid id no pipeline of *workspace* has (W6)."""
    if positive_id(pipeline_id, "pipeline") in workspace._pipeline_ids:
        raise DuplicatePipelineId(pipeline_id)
    return pipeline_id


def check_new_lead_id(workspace: Workspace, lead_id: int) -> int:
    """Return *lead_id* if it is a valid id no lead of *workspace* has (W6)."""
    if positive_id(lead_id, "lead") in workspace.leads:
        raise DuplicateLeadId(lead_id)
    return lead_id


def check_new_reason_id(workspace: Workspace, reason_id: int) -> int:
    """Return *reason_id* if it is a valid id no loss reason of *workspace* has (W6)."""
    positive_id(reason_id, "loss reason")
    if any(reason.id == reason_id for reason in workspace.loss_reasons):
        raise DuplicateLossReasonId(reason_id)
    return reason_id


def check_incoming_empty(workspace: Workspace, pipeline_id: int, incoming_id: int) -> None:
    """Raise :class:`~pipekit.IncomingNotEmpty` if leads wait in the stage *incoming_id*."""
    waiting = len(workspace._bucket(pipeline_id, incoming_id)[0])
    if waiting:
        raise IncomingNotEmpty(pipeline_id, waiting)


def check_automation_room(workspace: Workspace, pipeline_id: int) -> None:
    """Raise :class:`~pipekit.AutomationLimitReached` if the pipeline holds the most (D3)."""
    if len(workspace._by_pipeline.get(pipeline_id, ())) >= MAX_AUTOMATIONS:
        raise AutomationLimitReached(pipeline_id, MAX_AUTOMATIONS)


def check_new_automation_id(workspace: Workspace, automation_id: int) -> int:
    """Return *automation_id* if it is a valid id no automation of *workspace* has (D4)."""
    positive_id(automation_id, "automation")
    if any(automation.id == automation_id for automation in workspace.automations):
        raise DuplicateAutomationId(automation_id)
    return automation_id


def check_automation(workspace: Workspace, automation: Automation) -> None:
    """Raise why *automation* cannot be in *workspace*: D1 first, then D2."""
    check_references(workspace, automation)
    check_incoming_rule(workspace, automation)


def check_references(workspace: Workspace, automation: Automation) -> None:
    """Raise unless the pipeline, the watched stages and a move's target all exist (D1).

    A watched stage must be one of the automation's pipeline: one of another
    pipeline raises :class:`~pipekit.InvalidTarget`, one of none
    :class:`~pipekit.UnknownStage`.
    """
    pipeline = workspace.pipeline(automation.pipeline_id)
    for stage_id in automation.stage_ids:
        if stage_id in pipeline.stage_ids:
            continue
        if any(stage_id in other.stage_ids for other in workspace.pipelines):
            raise InvalidTarget(
                pipeline.id,
                stage_id,
                f"stage {stage_id} is not a stage of pipeline {pipeline.id}: an automation"
                " watches stages of its own pipeline",
            )
        raise UnknownStage(stage_id, pipeline.id)
    target = automation.target
    if target is not None:
        _target_stage(workspace, target)


def _target_stage(workspace: Workspace, target: tuple[int, int]) -> Stage:
    pipeline = workspace.pipeline(target[0])
    if target[1] not in pipeline.stage_ids:
        raise UnknownStage(target[1], pipeline.id)
    return pipeline.stage(target[1])


def check_incoming_rule(workspace: Workspace, automation: Automation) -> None:
    """Raise :class:`~pipekit.InvalidTarget` if a move watches or targets incoming leads (D2)."""
    target = automation.target
    if target is None:
        return
    pipeline = workspace.pipeline(automation.pipeline_id)
    incoming = pipeline.incoming
    if incoming is not None and incoming.id in automation.stage_ids:
        raise InvalidTarget(
            pipeline.id,
            incoming.id,
            "an automation that moves leads cannot watch the incoming leads stage",
        )
    if _target_stage(workspace, target).kind is StageKind.INCOMING:
        raise InvalidTarget(
            target[0],
            target[1],
            "an automation cannot move leads into the incoming leads stage",
        )


def check_pipeline_position(workspace: Workspace, position: int) -> int:
    """Return *position* if it is a display position of *workspace*'s pipelines."""
    high = len(workspace.pipelines) - 1
    if not 0 <= require_int(position, "a position") <= high:
        raise PositionOutOfRange(position, 0, high, what="a pipeline")
    return position


def trusted_workspace(
    workspace: Workspace,
    *,
    pipelines: tuple[Pipeline, ...] | None = None,
    main_pipeline_id: int | None = None,
    leads: PersistentIndex[Lead] | None = None,
    loss_reasons: tuple[LossReason, ...] | None = None,
    revision: int | None = None,
    next_pipeline_id: int | None = None,
    next_lead_id: int | None = None,
    next_loss_reason_id: int | None = None,
    pipeline_ids: tuple[int, ...] | None = None,
    buckets: tuple[tuple[Bucket, ...], ...] | None = None,
    reason_uses: tuple[int, ...] | None = None,
    automations: tuple[Automation, ...] | None = None,
    next_automation_id: int | None = None,
    schedule: Schedule | None = None,
    next_scheduled_id: int | None = None,
) -> Workspace:
    """Return a copy of *workspace* with the given parts replaced, checking nothing.

    Only :mod:`pipekit.evolve` calls this, with parts it has kept consistent.
    """
    w = workspace
    result = object.__new__(Workspace)
    set_field = object.__setattr__
    set_field(result, "pipelines", w.pipelines if pipelines is None else pipelines)
    set_field(
        result,
        "main_pipeline_id",
        w.main_pipeline_id if main_pipeline_id is None else main_pipeline_id,
    )
    set_field(result, "leads", w.leads if leads is None else leads)
    set_field(result, "loss_reasons", w.loss_reasons if loss_reasons is None else loss_reasons)
    set_field(result, "revision", w.revision if revision is None else revision)
    set_field(
        result,
        "next_pipeline_id",
        w.next_pipeline_id if next_pipeline_id is None else next_pipeline_id,
    )
    set_field(result, "next_lead_id", w.next_lead_id if next_lead_id is None else next_lead_id)
    set_field(
        result,
        "next_loss_reason_id",
        w.next_loss_reason_id if next_loss_reason_id is None else next_loss_reason_id,
    )
    set_field(result, "_pipeline_ids", w._pipeline_ids if pipeline_ids is None else pipeline_ids)
    set_field(result, "_buckets", w._buckets if buckets is None else buckets)
    set_field(result, "_reason_uses", w._reason_uses if reason_uses is None else reason_uses)
    if automations is None:
        set_field(result, "automations", w.automations)
        set_field(result, "_by_pipeline", w._by_pipeline)
        set_field(result, "_automation_ids", w._automation_ids)
        set_field(result, "_watchers", w._watchers)
    else:
        set_field(result, "automations", automations)
        set_field(result, "_by_pipeline", automations_by_pipeline(automations))
        set_field(result, "_automation_ids", {a.id: a for a in automations})
        set_field(result, "_watchers", watchers_of(automations))
    set_field(
        result,
        "next_automation_id",
        w.next_automation_id if next_automation_id is None else next_automation_id,
    )
    set_field(result, "_schedule", w._schedule if schedule is None else schedule)
    set_field(
        result,
        "next_scheduled_id",
        w.next_scheduled_id if next_scheduled_id is None else next_scheduled_id,
    )
    return result


def with_leads(
    workspace: Workspace,
    leads: PersistentIndex[Lead],
    buckets: tuple[tuple[Bucket, ...], ...],
    reason_uses: tuple[int, ...],
    revision: int,
) -> Workspace:
    """Return a copy of *workspace* with changed leads, checking nothing.

    The path a lead command takes, kept apart from :func:`trusted_workspace`
    because it runs for every lead change and every keyword costs.
    """
    result = object.__new__(Workspace)
    set_field = object.__setattr__
    set_field(result, "pipelines", workspace.pipelines)
    set_field(result, "main_pipeline_id", workspace.main_pipeline_id)
    set_field(result, "leads", leads)
    set_field(result, "loss_reasons", workspace.loss_reasons)
    set_field(result, "revision", revision)
    set_field(result, "next_pipeline_id", workspace.next_pipeline_id)
    set_field(result, "next_lead_id", workspace.next_lead_id)
    set_field(result, "next_loss_reason_id", workspace.next_loss_reason_id)
    set_field(result, "_pipeline_ids", workspace._pipeline_ids)
    set_field(result, "_buckets", buckets)
    set_field(result, "_reason_uses", reason_uses)
    set_field(result, "automations", workspace.automations)
    set_field(result, "next_automation_id", workspace.next_automation_id)
    set_field(result, "_by_pipeline", workspace._by_pipeline)
    set_field(result, "_automation_ids", workspace._automation_ids)
    set_field(result, "_watchers", workspace._watchers)
    set_field(result, "_schedule", workspace._schedule)
    set_field(result, "next_scheduled_id", workspace.next_scheduled_id)
    return result


def with_schedule(
    workspace: Workspace, schedule: Schedule, next_scheduled_id: int, revision: int
) -> Workspace:
    """Return a copy of *workspace* with changed scheduled actions, checking nothing.

    Like :func:`with_leads`, the path every scheduling event takes.
    """
    result = object.__new__(Workspace)
    set_field = object.__setattr__
    set_field(result, "pipelines", workspace.pipelines)
    set_field(result, "main_pipeline_id", workspace.main_pipeline_id)
    set_field(result, "leads", workspace.leads)
    set_field(result, "loss_reasons", workspace.loss_reasons)
    set_field(result, "revision", revision)
    set_field(result, "next_pipeline_id", workspace.next_pipeline_id)
    set_field(result, "next_lead_id", workspace.next_lead_id)
    set_field(result, "next_loss_reason_id", workspace.next_loss_reason_id)
    set_field(result, "_pipeline_ids", workspace._pipeline_ids)
    set_field(result, "_buckets", workspace._buckets)
    set_field(result, "_reason_uses", workspace._reason_uses)
    set_field(result, "automations", workspace.automations)
    set_field(result, "next_automation_id", workspace.next_automation_id)
    set_field(result, "_by_pipeline", workspace._by_pipeline)
    set_field(result, "_automation_ids", workspace._automation_ids)
    set_field(result, "_watchers", workspace._watchers)
    set_field(result, "_schedule", schedule)
    set_field(result, "next_scheduled_id", next_scheduled_id)
    return result


def set_schedule(
    workspace: Workspace, schedule: Schedule, next_scheduled_id: int, revision: int
) -> None:
    """Set the scheduled actions of *workspace*, which its maker still holds alone.

    Only :mod:`pipekit.evolve` calls this, on a workspace it built for the event
    before and has handed to no one: a change in place there is a cheaper copy.
    """
    set_field = object.__setattr__
    set_field(workspace, "_schedule", schedule)
    set_field(workspace, "next_scheduled_id", next_scheduled_id)
    set_field(workspace, "revision", revision)
