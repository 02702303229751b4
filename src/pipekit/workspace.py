"""The workspace: an account and all its leads, as one value in memory.

A :class:`Workspace` is the :class:`~pipekit.Account` (pipelines, loss reasons,
automations, counters) together with every lead and every scheduled action,
kept in persistent structures so that a command on one lead costs O(log n). It
checks the rules that span the two: each lead sits in an existing stage of an
existing pipeline (W1), closed leads sit in won or lost (W5), lead ids are
unique (W6), scheduled actions belong to leads and automations that exist (D6);
the account checks the rest. Change it with :func:`pipekit.apply`; build one by
hand (or decode one) and the constructor checks everything, raising
:class:`~pipekit.InvalidWorkspace` naming the rule that broke.

>>> from pipekit import new_workspace
>>> workspace = new_workspace()
>>> workspace.main_pipeline.name, len(workspace.leads), workspace.revision
('Pipeline', 0, 0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from operator import attrgetter, itemgetter
from typing import ClassVar, Final, TypeAlias, cast, final

import attrs

from pipekit._checks import constructor_repr, require_int, require_type
from pipekit._containers import PersistentIndex
from pipekit.account import (
    MAX_PIPELINES,
    Account,
    StageTally,
    check_counter,
    position,
    to_automations,
    to_loss_reasons,
    to_pipelines,
    with_tally,
)
from pipekit.automation import Automation
from pipekit.bounds import Id, NextId, Revision
from pipekit.errors import (
    InvalidWorkspace,
    UnknownLead,
    UnknownPipeline,
    UnknownScheduledAction,
    UnknownStage,
)
from pipekit.events import Event
from pipekit.kind import OUTCOMES
from pipekit.lead import Lead, LossReason, check_aware
from pipekit.leads import Fold, LeadRecord
from pipekit.pipeline import Pipeline, default_pipeline
from pipekit.scheduling import EMPTY_SCHEDULE, Schedule, Scheduled, time_key
from pipekit.stage import StageKind

__all__ = ["MAX_PIPELINES", "StageTotal", "Workspace", "due", "new_workspace"]

LeadIds: TypeAlias = PersistentIndex[int]
Bucket: TypeAlias = tuple[LeadIds, int]
"""The ids of the leads in one stage, and the sum of their prices."""

_lead_key: Final = attrgetter("id")
NO_LEAD_IDS: Final[LeadIds] = PersistentIndex()
EMPTY_BUCKET: Final[Bucket] = (NO_LEAD_IDS, 0)
NO_LEADS: Final[PersistentIndex[Lead]] = PersistentIndex(_lead_key)


@final
class StageLeads(StageTally[Bucket]):
    """A workspace's tally: for each stage, the ids of the leads there and their summed price.

    The account's rules count the leads of a stage through it, and a board reads
    the ids and totals: one structure, changed once per lead change.
    """

    __slots__ = ()

    empty: ClassVar[Bucket] = EMPTY_BUCKET

    def count(self, index: int, stage_index: int) -> int:
        return len(self.rows[index][stage_index][0])

    def joined(self, cell: Bucket, lead: Lead) -> Bucket:
        ids, total = cell
        return ids.with_value(lead.id), total + lead.price

    def left(self, cell: Bucket, lead: Lead) -> Bucket:
        ids, total = cell
        return ids.without(lead.id), total - lead.price


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
@attrs.frozen(slots=False)
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
    the highest. :attr:`account` is the configuration half alone.
    """

    pipelines: tuple[Pipeline, ...] = attrs.field(converter=to_pipelines)
    main_pipeline_id: Id
    leads: Mapping[int, Lead] = attrs.field(default=NO_LEADS, converter=_to_leads)
    loss_reasons: tuple[LossReason, ...] = attrs.field(default=(), converter=to_loss_reasons)
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
    automations: tuple[Automation, ...] = attrs.field(default=(), converter=to_automations)
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
    # Derived: the account, which holds the configuration fields above again (the
    # same values), and whose tally is a StageLeads.
    _account: Account = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_workspace(self)

    __repr__ = constructor_repr

    # -- queries ------------------------------------------------------------------

    @property
    def account(self) -> Account:
        """The configuration half: pipelines, loss reasons, automations, counters, counts."""
        return self._account

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
        item = self.find_scheduled(require_int(scheduled_id, "a scheduled action id"))
        if item is None:
            raise UnknownScheduledAction(scheduled_id)
        return item

    @property
    def main_pipeline(self) -> Pipeline:
        """The main pipeline: where new leads go when no pipeline is named."""
        return self._account.main_pipeline

    def pipeline(self, pipeline_id: int) -> Pipeline:
        """Return the pipeline with id *pipeline_id*, or raise :class:`~pipekit.UnknownPipeline`."""
        return self._account.pipeline(pipeline_id)

    def pipeline_index(self, pipeline_id: int) -> int:
        """Return the display position of the pipeline *pipeline_id*."""
        return self._account.pipeline_index(pipeline_id)

    def lead(self, lead_id: int) -> Lead:
        """Return the lead with id *lead_id*, or raise :class:`~pipekit.UnknownLead`."""
        lead = self.leads.get(require_int(lead_id, "a lead id"))
        if lead is None:
            raise UnknownLead(lead_id)
        return lead

    def loss_reason(self, reason_id: int) -> LossReason:
        """Return the loss reason *reason_id*, or raise :class:`~pipekit.UnknownLossReason`."""
        return self._account.loss_reason(reason_id)

    def loss_reason_index(self, reason_id: int) -> int:
        """Return the position of the loss reason *reason_id* in :attr:`loss_reasons`."""
        return self._account.loss_reason_index(reason_id)

    def leads_in(self, pipeline_id: int, stage_id: int) -> tuple[Lead, ...]:
        """Return the leads in stage *stage_id* of pipeline *pipeline_id*, by id."""
        leads = self.leads
        return tuple(leads[lead_id] for lead_id in self.lead_ids_in(pipeline_id, stage_id))

    def stage_totals(self, pipeline_id: int) -> tuple[StageTotal, ...]:
        """Return, for each stage of a pipeline in order, its lead count and summed price."""
        index = self.pipeline_index(pipeline_id)
        return tuple(
            StageTotal(stage.id, len(ids), total)
            for stage, (ids, total) in zip(
                self.pipelines[index].stages, self._stage_leads().rows[index], strict=True
            )
        )

    def _stage_leads(self) -> StageLeads:
        tally = self._account.tally
        assert isinstance(tally, StageLeads)  # the constructor gives the account one
        return tally

    def automation(self, automation_id: int) -> Automation:
        """Return the automation *automation_id*, or raise :class:`~pipekit.UnknownAutomation`."""
        return self._account.automation(automation_id)

    def automation_index(self, automation_id: int) -> int:
        """Return the position of the automation *automation_id* in :attr:`automations`."""
        return self._account.automation_index(automation_id)

    def automations_of(self, pipeline_id: int) -> tuple[Automation, ...]:
        """Return the automations of the pipeline *pipeline_id*, in creation order."""
        return self._account.automations_of(pipeline_id)

    def lead_count(self, pipeline_id: int) -> int:
        """Return how many leads a pipeline holds."""
        return self._account.lead_count(pipeline_id)

    # -- the leads as a table (pipekit.leads.LeadTable) ----------------------------

    def record(self, lead_id: int) -> LeadRecord | None:
        """Return the lead *lead_id* with its scheduled actions, or ``None`` if there is none."""
        lead = self.leads.get(lead_id)
        if lead is None:
            return None
        schedule = self._schedule
        return LeadRecord(lead, schedule.of_lead(lead_id) if len(schedule) else ())

    def lead_ids_in(self, pipeline_id: int, stage_id: int) -> tuple[int, ...]:
        """Return the ids of the leads in a stage, in ascending order."""
        index = self.pipeline_index(pipeline_id)
        ids, _total = self._stage_leads().rows[index][self.pipelines[index].index_of(stage_id)]
        return tuple(sorted(ids))

    def waiting_of(self, automation_id: int) -> tuple[Scheduled, ...]:
        """Return the scheduled actions of an automation not handed over, by id."""
        return self._schedule.waiting_of(automation_id)

    def find_scheduled(self, scheduled_id: int) -> Scheduled | None:
        """Return the scheduled action *scheduled_id*, or ``None`` if there is none."""
        return self._schedule.get(scheduled_id)

    def due(self, now: datetime) -> Iterator[Scheduled]:
        """Yield the actions not handed over due at *now*, by (due time, id): see :func:`due`."""
        return self._schedule.due(time_key(now))

    # -- changes ------------------------------------------------------------------

    def evolved(self, events: Iterable[Event]) -> Workspace:
        """Return this workspace with *events* applied in turn, as facts.

        Each event is checked against the state it meets, by the checks that
        deciding its command made; one that does not fit raises a
        :class:`~pipekit.RuleViolation`, and nothing changes.
        """
        fold = self.fold()
        for event in events:
            fold.apply(event)
        return self.folded(fold)

    def fold(self) -> Fold:
        """Return a :class:`~pipekit.leads.Fold` over this workspace, to decide and apply in."""
        return Fold(self._account, self)

    def folded(self, fold: Fold) -> Workspace:
        """Return this workspace with the events *fold* applied: its account and its leads.

        *fold* must be one :meth:`fold` returned from this workspace (a
        :class:`ValueError` if not). The account has counted the leads' changes
        already, in its tally.
        """
        if fold.table is not self:
            raise ValueError("the fold was not begun on this workspace")
        account = fold.account
        if account is self._account:
            return self
        leads = cast(PersistentIndex[Lead], self.leads)  # the constructor made it one
        schedule = self._schedule
        for lead_id, (before, after) in fold.changes.items():
            if before is after:
                continue
            new = None if after is None else after.lead
            if before is None or new is not before.lead:
                leads = leads.without(lead_id) if new is None else leads.with_value(new)
            old_items = () if before is None else before.scheduled
            new_items = () if after is None else after.scheduled
            if new_items is not old_items:
                schedule = _rescheduled(schedule, old_items, new_items)
        fields = self.__dict__.copy()
        fields.update(zip(_FROM_ACCOUNT, _account_values(account.__dict__), strict=True))
        fields["leads"] = leads
        fields["_schedule"] = schedule
        fields["_account"] = account
        result = object.__new__(Workspace)
        object.__setattr__(result, "__dict__", fields)
        return result


_FROM_ACCOUNT: Final = tuple(
    field.name
    for field in attrs.fields(Workspace)
    if field.init and field.name in attrs.fields_dict(Account)
)
"""The fields a workspace holds again from its account: one copy-with-changes sets them all."""
_account_values: Final = itemgetter(*_FROM_ACCOUNT)


def _rescheduled(
    schedule: Schedule, before: tuple[Scheduled, ...], after: tuple[Scheduled, ...]
) -> Schedule:
    """Return *schedule* with a lead's items changed from *before* to *after*."""
    gone = {item.id: item for item in before}
    for item in after:
        earlier = gone.pop(item.id, None)
        if earlier is None:
            schedule = schedule.with_item(item)
        elif earlier is not item and item.handed_over_at is not None:
            schedule = schedule.handed_over(earlier, item.handed_over_at)
    for item in gone.values():
        held = schedule.get(item.id)
        assert held is not None  # the lead's items were read from this schedule
        schedule = schedule.without(held)
    return schedule


def due(workspace: Workspace, now: datetime, *, limit: int | None = None) -> tuple[Scheduled, ...]:
    """Return the actions due at *now* and not handed over, by (due time, id).

    *now* must be timezone-aware (a naive one raises :class:`ValueError`). The cost
    is O(k log n) for k items due among n, with no scan of the rest; *limit*
    returns at most that many, for a host that works in batches.
    """
    require_type(workspace, Workspace, "workspace")
    check_aware(now, "now")
    items = workspace.due(now)
    if limit is not None:
        if require_int(limit, "limit") < 0:
            raise ValueError(f"limit is at least 0, got {limit!r}")
        return tuple(islice(items, limit))
    return tuple(items)


def new_workspace(*, incoming: bool = False) -> Workspace:
    """Return a workspace with one default pipeline (main, id 1), no leads, revision 0.

    >>> new_workspace(incoming=True).main_pipeline.incoming.name
    'Incoming leads'
    """
    return Workspace(pipelines=(default_pipeline(incoming=incoming),), main_pipeline_id=1)


# -- the checks the constructor makes ---------------------------------------------------


def _check_workspace(workspace: Workspace) -> None:
    config = {
        name: getattr(workspace, name)
        for name in attrs.fields_dict(Account)
        if not name.startswith("_") and name != "next_lead_id"
    }
    account = Account(**config)
    leads = workspace.leads
    check_counter(workspace.next_lead_id, leads, "lead", "next_lead_id", "W6")
    pipelines = account.pipelines
    members: list[list[list[int]]] = [[[] for _ in pipeline.stages] for pipeline in pipelines]
    totals = [[0] * len(pipeline.stages) for pipeline in pipelines]
    counts: dict[tuple[int, int], int] = {}
    uses: dict[int, int] = {}
    # Each lead finds its reason in one lookup: a scan per lead cost O(leads x reasons).
    reason_ids = frozenset(reason.id for reason in account.loss_reasons)
    for lead in leads.values():
        require_type(lead, Lead, "each lead of a workspace")
        pipeline_index, stage_index = _check_lead(account, reason_ids, lead)
        members[pipeline_index][stage_index].append(lead.id)
        totals[pipeline_index][stage_index] += lead.price
        place = (lead.pipeline_id, lead.stage_id)
        counts[place] = counts.get(place, 0) + 1
        if lead.loss_reason_id is not None:
            uses[lead.loss_reason_id] = uses.get(lead.loss_reason_id, 0) + 1
    tally = StageLeads(
        tuple(
            tuple(
                (PersistentIndex(values=iter(ids)), total) if ids else EMPTY_BUCKET
                for ids, total in zip(row_ids, row_totals, strict=True)
            )
            for row_ids, row_totals in zip(members, totals, strict=True)
        )
    )
    account = Account(
        **config, next_lead_id=workspace.next_lead_id, lead_counts=counts, reason_counts=uses
    )
    object.__setattr__(workspace, "_account", with_tally(account, tally))
    _check_scheduled(workspace, account)


def _check_scheduled(workspace: Workspace, account: Account) -> None:
    """Check rule D6: scheduled actions belong to leads and automations that exist."""
    leads = workspace.leads
    automation_ids = {automation.id for automation in account.automations}
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
        if item.handed_over_at is None and item.automation_id not in automation_ids:
            raise InvalidWorkspace(
                "D6",
                f"scheduled action {item.id} waits on automation {item.automation_id}, unknown",
                (*where, "automation_id"),
            )
    check_counter(
        workspace.next_scheduled_id, (highest,), "scheduled action", "next_scheduled_id", "D6"
    )


def _check_lead(account: Account, reason_ids: frozenset[int], lead: Lead) -> tuple[int, int]:
    try:
        pipeline_index, stage_index = position(account, (lead.pipeline_id, lead.stage_id))
    except (UnknownPipeline, UnknownStage) as error:
        if isinstance(error, UnknownPipeline):
            where, field = f"pipeline {lead.pipeline_id}, unknown", "pipeline_id"
        else:
            where = f"stage {lead.stage_id}, unknown in pipeline {lead.pipeline_id}"
            field = "stage_id"
        where_field = ("leads", lead.id, field)
        raise InvalidWorkspace("W1", f"lead {lead.id} is in {where}", where_field) from None
    pipeline = account.pipelines[pipeline_index]
    kind = pipeline.stages[stage_index].kind
    closed = kind in OUTCOMES
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
