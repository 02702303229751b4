"""The account: its pipelines, loss reasons and automations, and how many leads each stage holds.

An :class:`Account` is the configuration half of a workspace, the part every
command reads: small, and changed rarely. It holds no lead, only the number of
leads in each stage and giving each loss reason, which is what the rules about
a whole stage or reason need (a pipeline with leads cannot go, a loss reason a
lead gives cannot be deleted). A CRM that keeps its leads in its own table keeps
one account beside them; :class:`~pipekit.Workspace` holds one with every lead.

Each rule that spans the configuration is a named check in this module, used by
the constructor, by deciding a command and by applying an event, so that a
command and a forged event are refused by the same function.

>>> from pipekit import new_workspace
>>> account = new_workspace().account
>>> account.main_pipeline.name, account.lead_count(1), account.revision
('Pipeline', 0, 0)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final, Generic, Self, TypeAlias, TypeVar, final, get_args

import attrs

from pipekit import events
from pipekit._checks import constructor_repr, int_text, require_int, require_type
from pipekit.automation import MAX_AUTOMATIONS, Automation
from pipekit.bounds import NEXT_ID_RANGE, REVISION_RANGE, Id, NextId, Revision
from pipekit.errors import (
    AutomationLimitReached,
    DuplicateAutomationId,
    DuplicateLossReasonId,
    DuplicateName,
    DuplicatePipelineId,
    IncomingNotEmpty,
    InvalidEvent,
    InvalidTarget,
    InvalidWorkspace,
    LastPipeline,
    LossReasonInUse,
    MainPipelineLocked,
    PipelineLimitReached,
    PipelineNotEmpty,
    PositionOutOfRange,
    RuleViolation,
    UnknownAutomation,
    UnknownLossReason,
    UnknownPipeline,
    UnknownStage,
)
from pipekit.events import Event
from pipekit.lead import Lead, LossReason, positive_id
from pipekit.names import clean_name, name_key
from pipekit.pipeline import (
    Pipeline,
    add_stage,
    delete_stage,
    disable_incoming,
    enable_incoming,
    move_stage,
    recolor_stage,
    rename_pipeline,
    rename_stage,
)
from pipekit.stage import Stage, StageKind

__all__ = ["MAX_PIPELINES", "Account", "Place"]

MAX_PIPELINES: Final = 50
"""The most pipelines an account holds (Kommo's limit, W3)."""

Place: TypeAlias = tuple[int, int]
"""Where a lead is: (pipeline id, stage id)."""

_T = TypeVar("_T")
_Cell = TypeVar("_Cell")


class StageTally(ABC, Generic[_Cell]):
    """The leads in each stage, one row per pipeline, each row parallel to the pipeline's stages.

    An account's tally holds a count per stage (:class:`LeadCounts`).
    :class:`~pipekit.Workspace` keeps its own kind, whose cell also holds the ids
    of the leads there and their summed price; the account's rules read only
    :meth:`count`, so both kinds serve. Two tallies are equal when they count the
    same, whatever their kind.
    """

    __slots__ = ("rows",)

    empty: ClassVar[Any]
    """The cell of a stage that holds no lead."""

    def __init__(self, rows: tuple[tuple[_Cell, ...], ...]) -> None:
        self.rows = rows

    @abstractmethod
    def count(self, index: int, stage_index: int) -> int:
        """Return how many leads the stage at (*index*, *stage_index*) holds."""

    @abstractmethod
    def joined(self, cell: _Cell, lead: Lead) -> _Cell:
        """Return *cell* with *lead* in it."""

    @abstractmethod
    def left(self, cell: _Cell, lead: Lead) -> _Cell:
        """Return *cell* without *lead*."""

    def counts(self) -> tuple[tuple[int, ...], ...]:
        """Return how many leads each stage holds, row by row."""
        return tuple(
            tuple(self.count(index, stage_index) for stage_index in range(len(row)))
            for index, row in enumerate(self.rows)
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StageTally):
            return NotImplemented
        return self.counts() == other.counts()

    def __hash__(self) -> int:
        return hash(self.counts())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.counts()!r})"

    def _with_rows(self, rows: tuple[tuple[_Cell, ...], ...]) -> Self:
        result = object.__new__(type(self))
        result.rows = rows
        return result

    def with_change(self, account: Account, before: Lead | None, after: Lead | None) -> Self:
        """Return the tally with a lead's change from *before* to *after* counted.

        ``None`` before is a lead created, ``None`` after a lead gone; *account*
        places them, and holds their stages.
        """
        rows = list(self.rows)
        if before is not None:
            index, at = position(account, (before.pipeline_id, before.stage_id))
            row = list(rows[index])
            row[at] = self.left(row[at], before)
            rows[index] = tuple(row)
        if after is not None:
            index, at = position(account, (after.pipeline_id, after.stage_id))
            row = list(rows[index])
            row[at] = self.joined(row[at], after)
            rows[index] = tuple(row)
        return self._with_rows(tuple(rows))

    def realigned(self, old: tuple[Pipeline, ...], new: tuple[Pipeline, ...]) -> Self:
        """Return the tally of *old*'s stages made parallel to *new*'s: each cell kept by id.

        A new pipeline or stage starts empty; a row whose pipeline kept its very
        stages is shared, not copied.
        """
        by_id = {pipeline.id: (pipeline, row) for pipeline, row in zip(old, self.rows, strict=True)}
        rows: list[tuple[_Cell, ...]] = []
        for pipeline in new:
            before, row = by_id.get(pipeline.id, (None, ()))
            if before is None:
                rows.append((self.empty,) * len(pipeline.stages))
            elif before.stages is pipeline.stages:
                rows.append(row)
            else:
                kept = dict(zip(before.stage_ids, row, strict=True))
                rows.append(
                    tuple(kept.get(stage_id, self.empty) for stage_id in pipeline.stage_ids)
                )
        return self._with_rows(tuple(rows))


def to_pipelines(value: Iterable[Pipeline]) -> tuple[Pipeline, ...]:
    """Return *value* as a tuple, if each of its items is a :class:`~pipekit.Pipeline`."""
    pipelines = tuple(value)
    for pipeline in pipelines:
        require_type(pipeline, Pipeline, "each pipeline of a workspace")
    return pipelines


def to_loss_reasons(value: Iterable[LossReason]) -> tuple[LossReason, ...]:
    """Return *value* as a tuple, if each of its items is a :class:`~pipekit.LossReason`."""
    reasons = tuple(value)
    for reason in reasons:
        require_type(reason, LossReason, "each loss reason of a workspace")
    return reasons


def to_automations(value: Iterable[Automation]) -> tuple[Automation, ...]:
    """Return *value* as a tuple, if each of its items is an :class:`~pipekit.Automation`."""
    automations = tuple(value)
    for automation in automations:
        require_type(automation, Automation, "each automation of a workspace")
    return automations


def _above(ids: Iterable[int]) -> int:
    return max(ids, default=0) + 1


def _held_until_aligned(value: Mapping[Any, int]) -> Any:
    """Keep a mapping of counts as given: the constructor then aligns it with what it counts."""
    return value


@final
class LeadCounts(StageTally[int]):
    """The number of leads in each stage: the tally an account keeps on its own."""

    __slots__ = ()

    empty: ClassVar[int] = 0

    def count(self, index: int, stage_index: int) -> int:
        return self.rows[index][stage_index]

    def joined(self, cell: int, lead: Lead) -> int:
        return cell + 1

    def left(self, cell: int, lead: Lead) -> int:
        return cell - 1


@final
class Layout:
    """Where each pipeline and stage is: the pipelines' ids in order, and each stage's place.

    Built once each time the pipelines change, never changed after: a lead change
    finds its stage's row and column in one lookup.
    """

    __slots__ = ("pipeline_ids", "places")

    def __init__(self, pipelines: tuple[Pipeline, ...]) -> None:
        self.pipeline_ids = tuple(pipeline.id for pipeline in pipelines)
        self.places: Mapping[Place, tuple[int, int]] = {
            (pipeline.id, stage_id): (index, stage_index)
            for index, pipeline in enumerate(pipelines)
            for stage_index, stage_id in enumerate(pipeline.stage_ids)
        }


@final
class AutomationIndex:
    """The automations again, as a lead change looks them up: by id, by pipeline, by watched stage.

    Built once each time the automations change, never changed after.
    """

    __slots__ = ("by_id", "by_pipeline", "watchers")

    def __init__(self, automations: tuple[Automation, ...]) -> None:
        self.by_id: Mapping[int, Automation] = {a.id: a for a in automations}
        by_pipeline: dict[int, list[Automation]] = {}
        watchers: dict[Place, list[Automation]] = {}
        for automation in automations:
            by_pipeline.setdefault(automation.pipeline_id, []).append(automation)
            if automation.enabled:
                for stage_id in automation.stage_ids:
                    watchers.setdefault((automation.pipeline_id, stage_id), []).append(automation)
        self.by_pipeline: Mapping[int, tuple[Automation, ...]] = {
            key: tuple(group) for key, group in by_pipeline.items()
        }
        self.watchers: Mapping[Place, tuple[Automation, ...]] = {
            key: tuple(group) for key, group in watchers.items()
        }


@final
@attrs.frozen(slots=False)
class Account:
    """An account's pipelines (in display order), loss reasons and automations, and its counters.

    ``lead_counts`` gives the number of leads in each stage that holds any, by
    (pipeline id, stage id); ``reason_counts`` the number of leads giving each
    loss reason that any gives. ``revision`` counts the applied commands that
    changed something. The ``next_*_id`` counters give the ids of new pipelines,
    leads, loss reasons, automations and scheduled actions unless a command names
    one; they stay above every id in use (the account checks those it holds; the
    leads and scheduled actions are checked where they are kept).
    """

    pipelines: tuple[Pipeline, ...] = attrs.field(converter=to_pipelines)
    main_pipeline_id: Id
    loss_reasons: tuple[LossReason, ...] = attrs.field(default=(), converter=to_loss_reasons)
    automations: tuple[Automation, ...] = attrs.field(default=(), converter=to_automations)
    revision: Revision = 0
    next_pipeline_id: NextId = attrs.field(
        default=attrs.Factory(lambda self: _above(p.id for p in self.pipelines), takes_self=True)
    )
    next_lead_id: NextId = 1
    next_loss_reason_id: NextId = attrs.field(
        default=attrs.Factory(lambda self: _above(r.id for r in self.loss_reasons), takes_self=True)
    )
    next_automation_id: NextId = attrs.field(
        default=attrs.Factory(lambda self: _above(a.id for a in self.automations), takes_self=True)
    )
    next_scheduled_id: NextId = 1
    # Given as mappings and kept parallel to the pipelines' stages and to the loss
    # reasons, so that a lead change replaces two numbers: read back as mappings.
    _counts: StageTally[Any] = attrs.field(
        alias="lead_counts", factory=dict, converter=_held_until_aligned, repr=False
    )
    _reason_uses: tuple[int, ...] = attrs.field(
        alias="reason_counts", factory=dict, converter=_held_until_aligned, repr=False
    )
    _layout: Layout = attrs.field(init=False, eq=False, repr=False)
    _automation_index: AutomationIndex = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_account(self)

    __repr__ = constructor_repr

    # -- queries ------------------------------------------------------------------

    @property
    def main_pipeline(self) -> Pipeline:
        """The main pipeline: where new leads go when no pipeline is named."""
        return self.pipelines[self._layout.pipeline_ids.index(self.main_pipeline_id)]

    def pipeline(self, pipeline_id: int) -> Pipeline:
        """Return the pipeline with id *pipeline_id*, or raise :class:`~pipekit.UnknownPipeline`."""
        return self.pipelines[self.pipeline_index(pipeline_id)]

    def pipeline_index(self, pipeline_id: int) -> int:
        """Return the display position of the pipeline *pipeline_id*."""
        require_int(pipeline_id, "a pipeline id")
        try:
            return self._layout.pipeline_ids.index(pipeline_id)
        except ValueError:
            raise UnknownPipeline(pipeline_id) from None

    def stage(self, place: Place) -> Stage:
        """Return the stage at *place*, a (pipeline id, stage id) pair."""
        return self.pipeline(place[0]).stage(place[1])

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

    def automation(self, automation_id: int) -> Automation:
        """Return the automation *automation_id*, or raise :class:`~pipekit.UnknownAutomation`."""
        require_int(automation_id, "an automation id")
        automation = self._automation_index.by_id.get(automation_id)
        if automation is None:
            raise UnknownAutomation(automation_id)
        return automation

    def automation_index(self, automation_id: int) -> int:
        """Return the position of the automation *automation_id* in :attr:`automations`."""
        return self.automations.index(self.automation(automation_id))

    def automations_of(self, pipeline_id: int) -> tuple[Automation, ...]:
        """Return the automations of the pipeline *pipeline_id*, in creation order."""
        self.pipeline_index(pipeline_id)
        return self._automation_index.by_pipeline.get(pipeline_id, ())

    def watchers(self, place: Place) -> tuple[Automation, ...]:
        """Return the enabled automations watching the stage at *place*, in creation order."""
        return self._automation_index.watchers.get(place, ())

    @property
    def watching(self) -> bool:
        """Whether any enabled automation watches a stage: if not, a lead change fires nothing."""
        return bool(self._automation_index.watchers)

    def lead_count(self, pipeline_id: int, stage_id: int | None = None) -> int:
        """Return how many leads a pipeline holds, or one of its stages."""
        index = self.pipeline_index(pipeline_id)
        counts = self._counts
        if stage_id is None:
            return sum(counts.count(index, at) for at in range(len(self.pipelines[index].stages)))
        return counts.count(index, self.pipelines[index].index_of(stage_id))

    def reason_count(self, reason_id: int) -> int:
        """Return how many leads give the loss reason *reason_id*."""
        return self._reason_uses[self.loss_reason_index(reason_id)]

    @property
    def tally(self) -> StageTally[Any]:
        """The leads in each stage, row by row: see :class:`StageTally`."""
        return self._counts

    @property
    def lead_counts(self) -> Mapping[Place, int]:
        """The number of leads in each stage that holds any, by (pipeline id, stage id)."""
        return {
            (pipeline.id, stage_id): count
            for pipeline, row in zip(self.pipelines, self._counts.counts(), strict=True)
            for stage_id, count in zip(pipeline.stage_ids, row, strict=True)
            if count
        }

    @property
    def reason_counts(self) -> Mapping[int, int]:
        """The number of leads giving each loss reason that any gives, by loss reason id."""
        return {
            reason.id: uses
            for reason, uses in zip(self.loss_reasons, self._reason_uses, strict=True)
            if uses
        }

    # -- changes (checked by the caller: see pipekit.evolve) --------------------------

    def _replace(self, **changes: Any) -> Account:
        """Return a copy with *changes*, checking nothing; new automations are indexed.

        An account keeps its fields in a ``__dict__``, not in slots, so that this
        copy is one C-level update: a lead command makes one per event.
        """
        if "automations" in changes:
            changes["_automation_index"] = AutomationIndex(changes["automations"])
        if "pipelines" in changes:
            changes["_layout"] = Layout(changes["pipelines"])
        fields = self.__dict__.copy()
        fields.update(changes)
        result = object.__new__(Account)
        object.__setattr__(result, "__dict__", fields)
        return result


# -- the checks the constructor makes ---------------------------------------------------


def _check_account(account: Account) -> None:
    pipelines = account.pipelines
    if not pipelines:
        raise InvalidWorkspace("W3", "a workspace has at least one pipeline", ("pipelines",))
    if len(pipelines) > MAX_PIPELINES:
        raise InvalidWorkspace(
            "W3", f"{len(pipelines)} pipelines, at most {MAX_PIPELINES} are allowed", ("pipelines",)
        )
    pipeline_ids = tuple(pipeline.id for pipeline in pipelines)
    _check_unique_ids(pipeline_ids, "pipeline", "pipelines")
    _check_unique_names([pipeline.name for pipeline in pipelines], "pipeline", "pipelines")
    require_int(account.main_pipeline_id, "main_pipeline_id")
    if account.main_pipeline_id not in pipeline_ids:
        raise InvalidWorkspace(
            "W3",
            f"the main pipeline {account.main_pipeline_id} is not in the workspace",
            ("main_pipeline_id",),
        )
    reason_ids = [reason.id for reason in account.loss_reasons]
    _check_unique_ids(reason_ids, "loss reason", "loss_reasons")
    _check_unique_names([r.name for r in account.loss_reasons], "loss reason", "loss_reasons")
    revision = require_int(account.revision, "revision")
    if revision < 0:
        raise InvalidWorkspace("W6", f"the revision is at least 0, got {revision}", ("revision",))
    if revision not in REVISION_RANGE:
        raise InvalidWorkspace(
            "W6",
            f"the revision is at most {REVISION_RANGE.high}, got {int_text(revision)}",
            ("revision",),
        )
    for counter, in_use, what, field in (
        (account.next_pipeline_id, pipeline_ids, "pipeline", "next_pipeline_id"),
        (account.next_lead_id, (), "lead", "next_lead_id"),
        (account.next_loss_reason_id, reason_ids, "loss reason", "next_loss_reason_id"),
    ):
        check_counter(counter, in_use, what, field, "W6")
    object.__setattr__(account, "_layout", Layout(account.pipelines))
    object.__setattr__(account, "_counts", _stage_counts(account, account._counts))
    object.__setattr__(account, "_reason_uses", _reason_uses(account, account._reason_uses))
    _check_automations(account)
    check_counter(account.next_scheduled_id, (), "scheduled action", "next_scheduled_id", "D6")


def _counts_given(value: object, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a mapping, got {type(value).__name__}")
    return value


def _stage_counts(account: Account, given: object) -> LeadCounts:
    counts = [[0] * len(pipeline.stages) for pipeline in account.pipelines]
    for place, count in _counts_given(given, "lead_counts").items():
        if not (isinstance(place, tuple) and len(place) == 2):
            raise TypeError(
                f"each key of lead_counts must be a (pipeline id, stage id) pair, got {place!r}"
            )
        try:
            index = account.pipeline_index(place[0])
            stage_index = account.pipelines[index].index_of(place[1])
        except RuleViolation as error:
            raise InvalidWorkspace("W1", f"lead_counts names {error}", ("lead_counts",)) from None
        counts[index][stage_index] = _count(count, "lead_counts")
    return LeadCounts(tuple(tuple(row) for row in counts))


def _reason_uses(account: Account, given: object) -> tuple[int, ...]:
    uses = [0] * len(account.loss_reasons)
    # One lookup per reason given: a scan per reason cost O(reasons x reasons).
    index_of = {reason.id: index for index, reason in enumerate(account.loss_reasons)}
    for reason_id, count in _counts_given(given, "reason_counts").items():
        index = index_of.get(require_int(reason_id, "a loss reason id"))
        if index is None:
            raise InvalidWorkspace(
                "W5",
                f"reason_counts names the unknown loss reason {reason_id!r}",
                ("reason_counts",),
            )
        uses[index] = _count(count, "reason_counts")
    return tuple(uses)


def _count(value: object, field: str) -> int:
    count = require_int(value, f"each count of {field}")
    if count < 0:
        raise InvalidWorkspace("W6", f"a count is at least 0, got {count}", (field,))
    return count


def _check_automations(account: Account) -> None:
    """Check the Digital Pipeline rules D1 to D4 (after the rest: they need the pipelines)."""
    automations = account.automations
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
                check(account, automation)
            except RuleViolation as error:
                raise InvalidWorkspace(
                    rule, f"automation {automation.id}: {error}", where
                ) from None
    check_counter(account.next_automation_id, seen, "automation", "next_automation_id", "D4")
    found = AutomationIndex(automations)
    for pipeline_id, group in found.by_pipeline.items():
        if len(group) > MAX_AUTOMATIONS:
            raise InvalidWorkspace(
                "D3",
                f"pipeline {pipeline_id} has {len(group)} automations,"
                f" at most {MAX_AUTOMATIONS} are allowed",
                ("automations",),
            )
    object.__setattr__(account, "_automation_index", found)


def check_counter(counter: int, in_use: Iterable[int], what: str, field: str, rule: str) -> None:
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


# -- the rules: each checked by deciding a command and by applying its event -------------


def check_room(account: Account) -> None:
    """Raise :class:`~pipekit.PipelineLimitReached` if *account* holds the most pipelines."""
    if len(account.pipelines) >= MAX_PIPELINES:
        raise PipelineLimitReached(MAX_PIPELINES)


def check_pipeline_name(account: Account, name: str, pipeline_id: int | None = None) -> str:
    """Return *name* stripped if no other pipeline of *account* has it (R7, W3)."""
    return _unique_name(name, account.pipelines, pipeline_id, "pipeline")


def check_reason_name(account: Account, name: str, reason_id: int | None = None) -> str:
    """Return *name* stripped if no other loss reason of *account* has it (R7, W3)."""
    return _unique_name(name, account.loss_reasons, reason_id, "loss reason")


def _unique_name(
    name: str, named: Iterable[Pipeline | LossReason], own_id: int | None, what: str
) -> str:
    name = clean_name(name)
    key = name_key(name)
    for other in named:
        if other.id != own_id and name_key(other.name) == key:
            raise DuplicateName(name, other.name, other.id, what=what)
    return name


def check_new_pipeline_id(account: Account, pipeline_id: int) -> int:
    """Return *pipeline_id* if it is a valid id no pipeline of *account* has (W6)."""
    if positive_id(pipeline_id, "pipeline") in account._layout.pipeline_ids:
        raise DuplicatePipelineId(pipeline_id)
    return pipeline_id


def check_new_reason_id(account: Account, reason_id: int) -> int:
    """Return *reason_id* if it is a valid id no loss reason of *account* has (W6)."""
    positive_id(reason_id, "loss reason")
    if any(reason.id == reason_id for reason in account.loss_reasons):
        raise DuplicateLossReasonId(reason_id)
    return reason_id


def check_incoming_empty(account: Account, pipeline_id: int, incoming_id: int) -> None:
    """Raise :class:`~pipekit.IncomingNotEmpty` if leads wait in the stage *incoming_id*."""
    waiting = account.lead_count(pipeline_id, incoming_id)
    if waiting:
        raise IncomingNotEmpty(pipeline_id, waiting)


def check_pipeline_deletable(account: Account, pipeline_id: int) -> None:
    """Raise why the pipeline *pipeline_id* cannot go: the last, the main, or holding leads."""
    account.pipeline_index(pipeline_id)
    if len(account.pipelines) == 1:
        raise LastPipeline(pipeline_id)
    if pipeline_id == account.main_pipeline_id:
        raise MainPipelineLocked(pipeline_id)
    count = account.lead_count(pipeline_id)
    if count:
        raise PipelineNotEmpty(pipeline_id, count)


def check_reason_unused(account: Account, reason_id: int) -> None:
    """Raise :class:`~pipekit.LossReasonInUse` if a lead gives the loss reason (W5)."""
    uses = account.reason_count(reason_id)
    if uses:
        raise LossReasonInUse(reason_id, uses)


def check_automation_room(account: Account, pipeline_id: int) -> None:
    """Raise :class:`~pipekit.AutomationLimitReached` if the pipeline holds the most (D3)."""
    if len(account.automations_of(pipeline_id)) >= MAX_AUTOMATIONS:
        raise AutomationLimitReached(pipeline_id, MAX_AUTOMATIONS)


def check_new_automation_id(account: Account, automation_id: int) -> int:
    """Return *automation_id* if it is a valid id no automation of *account* has (D4)."""
    positive_id(automation_id, "automation")
    if any(automation.id == automation_id for automation in account.automations):
        raise DuplicateAutomationId(automation_id)
    return automation_id


def check_automation(account: Account, automation: Automation) -> None:
    """Raise why *automation* cannot be in *account*: D1 first, then D2."""
    check_references(account, automation)
    check_incoming_rule(account, automation)


def check_references(account: Account, automation: Automation) -> None:
    """Raise unless the pipeline, the watched stages and a move's target all exist (D1).

    A watched stage must be one of the automation's pipeline: one of another
    pipeline raises :class:`~pipekit.InvalidTarget`, one of none
    :class:`~pipekit.UnknownStage`.
    """
    pipeline = account.pipeline(automation.pipeline_id)
    for stage_id in automation.stage_ids:
        if stage_id in pipeline.stage_ids:
            continue
        if any(stage_id in other.stage_ids for other in account.pipelines):
            raise InvalidTarget(
                pipeline.id,
                stage_id,
                f"stage {stage_id} is not a stage of pipeline {pipeline.id}: an automation"
                " watches stages of its own pipeline",
            )
        raise UnknownStage(stage_id, pipeline.id)
    target = automation.target
    if target is not None:
        account.stage(target)


def check_incoming_rule(account: Account, automation: Automation) -> None:
    """Raise :class:`~pipekit.InvalidTarget` if a move watches or targets incoming leads (D2)."""
    target = automation.target
    if target is None:
        return
    pipeline = account.pipeline(automation.pipeline_id)
    incoming = pipeline.incoming
    if incoming is not None and incoming.id in automation.stage_ids:
        raise InvalidTarget(
            pipeline.id,
            incoming.id,
            "an automation that moves leads cannot watch the incoming leads stage",
        )
    if account.stage(target).kind is StageKind.INCOMING:
        raise InvalidTarget(
            target[0],
            target[1],
            "an automation cannot move leads into the incoming leads stage",
        )


def check_pipeline_position(account: Account, position: int) -> int:
    """Return *position* if it is a display position of *account*'s pipelines."""
    high = len(account.pipelines) - 1
    if not 0 <= require_int(position, "a position") <= high:
        raise PositionOutOfRange(position, 0, high, what="a pipeline")
    return position


def refers_to_stage(automation: Automation, place: Place) -> bool:
    """Return whether *automation* watches or targets the stage at *place* (D1)."""
    return automation.watches(place) or automation.target == place


def refers_to_pipeline(automation: Automation, pipeline_id: int) -> bool:
    """Return whether *automation* belongs to the pipeline *pipeline_id* or moves leads into it."""
    target = automation.target
    return automation.pipeline_id == pipeline_id or (
        target is not None and target[0] == pipeline_id
    )


def check_let_go(account: Account, event_name: str, place: Place) -> None:
    """Raise :class:`~pipekit.InvalidEvent` if an automation still refers to a stage going."""
    for automation in account.automations:
        if refers_to_stage(automation, place):
            raise InvalidEvent(
                event_name, f"automation {automation.id} still refers to stage {place[1]}"
            )


def check_pipeline_let_go(account: Account, pipeline_id: int) -> None:
    """Raise :class:`~pipekit.InvalidEvent` if an automation still refers to a pipeline going."""
    for automation in account.automations:
        if refers_to_pipeline(automation, pipeline_id):
            raise InvalidEvent(
                "PipelineDeleted",
                f"automation {automation.id} still refers to pipeline {pipeline_id}",
            )


# -- how a change of pipelines carries what is kept parallel to them ----------------------


def replaced(items: tuple[_T, ...], index: int, item: _T) -> tuple[_T, ...]:
    """Return *items* with the one at *index* replaced by *item*."""
    return (*items[:index], item, *items[index + 1 :])


def position(account: Account, place: Place) -> tuple[int, int]:
    """Return the index of the pipeline at *place* and of its stage, for ids already checked.

    Raises :class:`~pipekit.UnknownPipeline` or :class:`~pipekit.UnknownStage`
    when there is none; unlike the queries, it does not check the ids' type.
    """
    try:
        return account._layout.places[place]
    except KeyError:
        raise UnknownStage(place[1], account.pipeline(place[0]).id) from None


def with_tally(account: Account, tally: StageTally[Any]) -> Account:
    """Return *account* counting its stages' leads with *tally*, which counts them the same.

    How a :class:`~pipekit.Workspace` gives its account a tally that also knows
    which leads each stage holds. Raises :class:`ValueError` if *tally* counts
    otherwise.
    """
    if tally != account.tally:
        raise ValueError("the tally does not count the account's leads")
    return account._replace(_counts=tally)


# -- applying the configuration's events ------------------------------------------------
# An event is a fact: applying one checks only that it fits the account, with the
# same checks that deciding its command made, and raises a RuleViolation if not.


def evolve_account(account: Account, event: Event) -> Account:
    """Return *account* with the configuration event *event* applied, at its revision.

    A lead event changes the account through :func:`with_lead_change`, and a
    scheduled-action event through :func:`with_revision`: this function refuses
    them with :class:`TypeError`, as it does anything that is not an event.
    """
    handler = _HANDLERS.get(type(event))
    if handler is None:
        what = "configuration" if isinstance(event, _EVENTS) else "pipekit"
        raise TypeError(f"not a {what} event: {type(event).__name__}")
    return handler(account, event)


def with_revision(account: Account, revision: int, next_scheduled_id: int | None = None) -> Account:
    """Return *account* at *revision*, with its scheduled-action counter moved up if given."""
    if next_scheduled_id is None or next_scheduled_id <= account.next_scheduled_id:
        return account._replace(revision=revision)
    return account._replace(revision=revision, next_scheduled_id=next_scheduled_id)


def with_lead_change(
    account: Account, before: Lead | None, after: Lead | None, revision: int
) -> Account:
    """Return *account* counting a lead's change from *before* to *after*, at *revision*.

    ``None`` before is a lead created, ``None`` after a lead gone. The leads have
    been checked against the account where they are kept.
    """
    uses = account._reason_uses
    next_lead_id = account.next_lead_id
    if before is not None and before.loss_reason_id is not None:
        uses = _used(uses, account, before.loss_reason_id, -1)
    if after is not None:
        if after.loss_reason_id is not None:
            uses = _used(uses, account, after.loss_reason_id, 1)
        if after.id >= next_lead_id:
            next_lead_id = after.id + 1
    return account._replace(
        _counts=account._counts.with_change(account, before, after),
        _reason_uses=uses,
        next_lead_id=next_lead_id,
        revision=revision,
    )


def _used(uses: tuple[int, ...], account: Account, reason_id: int, change: int) -> tuple[int, ...]:
    index = account.loss_reason_index(reason_id)
    return replaced(uses, index, uses[index] + change)


# -- stages -------------------------------------------------------------------------


def _with_pipeline(account: Account, index: int, pipeline: Pipeline, revision: int) -> Account:
    """Return *account* with the pipeline at *index* replaced; its counts follow its stages."""
    pipelines = replaced(account.pipelines, index, pipeline)
    counts = account._counts.realigned(account.pipelines, pipelines)
    return account._replace(pipelines=pipelines, _counts=counts, revision=revision)


def _stage_added(account: Account, event: events.StageAdded) -> Account:
    index = account.pipeline_index(event.pipeline_id)
    stage = event.stage
    if stage.kind is not StageKind.OPEN:
        raise InvalidEvent("StageAdded", f"the added stage {stage.id} is not an open stage")
    pipeline = add_stage(
        account.pipelines[index],
        stage.name,
        position=event.position,
        color=stage.color,
        stage_id=stage.id,
    )
    return _with_pipeline(account, index, pipeline, event.revision)


def _stage_edited(
    account: Account, event: events.StageRenamed | events.StageRecolored | events.StageMoved
) -> Account:
    index = account.pipeline_index(event.pipeline_id)
    pipeline = account.pipelines[index]
    if isinstance(event, events.StageRenamed):
        edited = rename_stage(pipeline, event.stage_id, event.name)
    elif isinstance(event, events.StageRecolored):
        edited = recolor_stage(pipeline, event.stage_id, event.color)
    else:
        edited = move_stage(pipeline, event.stage_id, event.position)
    return _with_pipeline(account, index, edited, event.revision)


def _stage_deleted(account: Account, event: events.StageDeleted) -> Account:
    index = account.pipeline_index(event.pipeline_id)
    count = account.lead_count(event.pipeline_id, event.stage_id)
    if count:
        raise InvalidEvent(
            "StageDeleted", f"stage {event.stage_id} still holds {count} lead(s): relocate them"
        )
    check_let_go(account, "StageDeleted", (event.pipeline_id, event.stage_id))
    pipeline = delete_stage(account.pipelines[index], event.stage_id)
    return _with_pipeline(account, index, pipeline, event.revision)


def check_open_target(account: Account, event_name: str, place: Place) -> None:
    """Raise :class:`~pipekit.InvalidEvent` unless the stage at *place* is an open stage."""
    if account.stage(place).kind is not StageKind.OPEN:
        raise InvalidEvent(event_name, f"stage {place[1]} is not an open stage")


def _incoming_enabled(account: Account, event: events.IncomingStageEnabled) -> Account:
    index = account.pipeline_index(event.pipeline_id)
    pipeline = account.pipelines[index]
    stage = event.stage
    if pipeline.incoming is not None or stage.kind is not StageKind.INCOMING:
        raise InvalidEvent(
            "IncomingStageEnabled", f"pipeline {pipeline.id} cannot take this incoming stage"
        )
    enabled = enable_incoming(pipeline, name=stage.name, color=stage.color, stage_id=stage.id)
    return _with_pipeline(account, index, enabled, event.revision)


def _incoming_disabled(account: Account, event: events.IncomingStageDisabled) -> Account:
    index = account.pipeline_index(event.pipeline_id)
    pipeline = account.pipelines[index]
    incoming = pipeline.incoming
    if incoming is None or incoming.id != event.stage_id:
        raise InvalidEvent(
            "IncomingStageDisabled",
            f"stage {event.stage_id} is not the incoming leads stage of pipeline {pipeline.id}",
        )
    check_incoming_empty(account, pipeline.id, incoming.id)
    check_let_go(account, "IncomingStageDisabled", (pipeline.id, incoming.id))
    return _with_pipeline(account, index, disable_incoming(pipeline), event.revision)


# -- pipelines ----------------------------------------------------------------------


def _pipeline_created(account: Account, event: events.PipelineCreated) -> Account:
    pipeline = event.pipeline
    check_room(account)
    check_new_pipeline_id(account, pipeline.id)
    check_pipeline_name(account, pipeline.name)
    return account._replace(
        pipelines=(*account.pipelines, pipeline),
        _counts=account._counts.realigned(account.pipelines, (*account.pipelines, pipeline)),
        next_pipeline_id=max(account.next_pipeline_id, pipeline.id + 1),
        revision=event.revision,
    )


def _pipeline_renamed(account: Account, event: events.PipelineRenamed) -> Account:
    index = account.pipeline_index(event.pipeline_id)
    name = check_pipeline_name(account, event.name, event.pipeline_id)
    pipeline = rename_pipeline(account.pipelines[index], name)
    return _with_pipeline(account, index, pipeline, event.revision)


def _pipeline_moved(account: Account, event: events.PipelineMoved) -> Account:
    index = account.pipeline_index(event.pipeline_id)
    position = check_pipeline_position(account, event.position)
    pipelines = moved(account.pipelines, index, position)
    return account._replace(
        pipelines=pipelines,
        _counts=account._counts.realigned(account.pipelines, pipelines),
        revision=event.revision,
    )


def _main_pipeline_set(account: Account, event: events.MainPipelineSet) -> Account:
    account.pipeline_index(event.pipeline_id)
    return account._replace(main_pipeline_id=event.pipeline_id, revision=event.revision)


def _pipeline_deleted(account: Account, event: events.PipelineDeleted) -> Account:
    check_pipeline_deletable(account, event.pipeline_id)
    check_pipeline_let_go(account, event.pipeline_id)
    index = account.pipeline_index(event.pipeline_id)
    return account._replace(
        pipelines=removed(account.pipelines, index),
        _counts=account._counts.realigned(account.pipelines, removed(account.pipelines, index)),
        revision=event.revision,
    )


# -- loss reasons -------------------------------------------------------------------


def _reason_added(account: Account, event: events.LossReasonAdded) -> Account:
    reason = event.reason
    check_new_reason_id(account, reason.id)
    check_reason_name(account, reason.name)
    return account._replace(
        loss_reasons=(*account.loss_reasons, reason),
        _reason_uses=(*account._reason_uses, 0),
        next_loss_reason_id=max(account.next_loss_reason_id, reason.id + 1),
        revision=event.revision,
    )


def _reason_renamed(account: Account, event: events.LossReasonRenamed) -> Account:
    index = account.loss_reason_index(event.reason_id)
    name = check_reason_name(account, event.name, event.reason_id)
    reasons = replaced(account.loss_reasons, index, LossReason(event.reason_id, name))
    return account._replace(loss_reasons=reasons, revision=event.revision)


def _reason_deleted(account: Account, event: events.LossReasonDeleted) -> Account:
    index = account.loss_reason_index(event.reason_id)
    check_reason_unused(account, event.reason_id)
    return account._replace(
        loss_reasons=removed(account.loss_reasons, index),
        _reason_uses=removed(account._reason_uses, index),
        revision=event.revision,
    )


# -- automations (the Digital Pipeline) ---------------------------------------------


def _automation_added(account: Account, event: events.AutomationAdded) -> Account:
    automation = event.automation
    check_new_automation_id(account, automation.id)
    check_automation_room(account, automation.pipeline_id)
    check_automation(account, automation)
    return account._replace(
        automations=(*account.automations, automation),
        next_automation_id=max(account.next_automation_id, automation.id + 1),
        revision=event.revision,
    )


def _automation_updated(account: Account, event: events.AutomationUpdated) -> Account:
    automation = event.automation
    index = account.automation_index(automation.id)
    if account.automations[index].pipeline_id != automation.pipeline_id:
        raise InvalidEvent(
            "AutomationUpdated", f"automation {automation.id} cannot change its pipeline"
        )
    check_automation(account, automation)
    automations = replaced(account.automations, index, automation)
    return account._replace(automations=automations, revision=event.revision)


def _automation_switched(
    account: Account, event: events.AutomationEnabled | events.AutomationDisabled
) -> Account:
    index = account.automation_index(event.automation_id)
    enabled = isinstance(event, events.AutomationEnabled)
    automation = account.automations[index]
    if automation.enabled == enabled:
        state = "enabled" if enabled else "disabled"
        raise InvalidEvent(type(event).__name__, f"automation {automation.id} is {state} already")
    switched = attrs.evolve(automation, enabled=enabled)
    automations = replaced(account.automations, index, switched)
    return account._replace(automations=automations, revision=event.revision)


def _automation_removed(account: Account, event: events.AutomationRemoved) -> Account:
    index = account.automation_index(event.automation_id)
    automations = removed(account.automations, index)
    return account._replace(automations=automations, revision=event.revision)


# -- tuples -------------------------------------------------------------------------


def removed(items: tuple[_T, ...], index: int) -> tuple[_T, ...]:
    """Return *items* without the one at *index*."""
    return items[:index] + items[index + 1 :]


def moved(items: tuple[_T, ...], index: int, target: int) -> tuple[_T, ...]:
    """Return *items* with the one at *index* moved to *target*."""
    rest = items[:index] + items[index + 1 :]
    return (*rest[:target], items[index], *rest[target:])


_EVENTS: Final = get_args(Event)

_HANDLERS: Final[dict[type[Any], Callable[[Account, Any], Account]]] = {
    events.StageAdded: _stage_added,
    events.StageRenamed: _stage_edited,
    events.StageRecolored: _stage_edited,
    events.StageMoved: _stage_edited,
    events.StageDeleted: _stage_deleted,
    events.IncomingStageEnabled: _incoming_enabled,
    events.IncomingStageDisabled: _incoming_disabled,
    events.PipelineCreated: _pipeline_created,
    events.PipelineRenamed: _pipeline_renamed,
    events.PipelineMoved: _pipeline_moved,
    events.MainPipelineSet: _main_pipeline_set,
    events.PipelineDeleted: _pipeline_deleted,
    events.LossReasonAdded: _reason_added,
    events.LossReasonRenamed: _reason_renamed,
    events.LossReasonDeleted: _reason_deleted,
    events.AutomationAdded: _automation_added,
    events.AutomationUpdated: _automation_updated,
    events.AutomationEnabled: _automation_switched,
    events.AutomationDisabled: _automation_switched,
    events.AutomationRemoved: _automation_removed,
}
"""The configuration events, each with how it changes an account."""
