"""The errors pipekit raises.

Every error is a :class:`PipekitError`. Breaking a rule of the domain raises a
:class:`RuleViolation`, which is also a :class:`ValueError`; each subclass has a
stable ``code`` (for a host to map to its own UI text and translations), keeps
the facts that explain it as attributes, and pickles with them.

Wrong Python types are programming errors and raise plain :class:`TypeError`.

>>> from pipekit import UnknownStage
>>> err = UnknownStage(stage_id=7)
>>> err.code, err.stage_id
('unknown_stage', 7)
>>> print(err)
no stage has id 7
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pipekit._checks import int_text
from pipekit.bounds import MAX_DELAY, MAX_ID, MAX_PRICE, MAX_REVISION, microseconds

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from pipekit.kind import StageKind

__all__ = [
    "AutomationLimitReached",
    "DuplicateAutomationId",
    "DuplicateLeadId",
    "DuplicateLossReasonId",
    "DuplicateName",
    "DuplicatePipelineId",
    "DuplicateStageId",
    "IncomingDisabled",
    "IncomingNotEmpty",
    "InvalidColor",
    "InvalidDelay",
    "InvalidEvent",
    "InvalidId",
    "InvalidName",
    "InvalidOutcome",
    "InvalidPipeline",
    "InvalidPrice",
    "InvalidPriceRange",
    "InvalidStageId",
    "InvalidTarget",
    "InvalidVersion",
    "InvalidWorkspace",
    "LastOpenStage",
    "LastPipeline",
    "LeadNotIncoming",
    "LeadVersionConflict",
    "LossReasonInUse",
    "MainPipelineLocked",
    "PipekitError",
    "PipelineLimitReached",
    "PipelineNotEmpty",
    "PositionOutOfRange",
    "RevisionConflict",
    "RuleViolation",
    "ScheduleOutOfRange",
    "StageLimitReached",
    "StageLocked",
    "UnknownAutomation",
    "UnknownLead",
    "UnknownLossReason",
    "UnknownPipeline",
    "UnknownScheduledAction",
    "UnknownStage",
]


class PipekitError(Exception):
    """The root of every error pipekit raises on purpose."""

    code: ClassVar[str] = "pipekit_error"

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling calls ``cls(*args)`` with the message alone, which
        # does not fit constructors that take facts; restore the facts instead.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[PipekitError], args: tuple[object, ...], facts: dict[str, object]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(facts)
    return error


class RuleViolation(PipekitError, ValueError):
    """A command or a value breaks one of the pipeline's rules."""

    code: ClassVar[str] = "rule_violation"


class InvalidName(RuleViolation):
    """A name is empty, too long, or holds a control or line-break character (R7)."""

    code: ClassVar[str] = "invalid_name"

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"invalid name {name!r}: {reason}")


class DuplicateName(RuleViolation):
    """A name clashes with the name of another item of the same collection (R7)."""

    code: ClassVar[str] = "duplicate_name"

    def __init__(
        self, name: str, existing_name: str, existing_id: int, what: str = "stage"
    ) -> None:
        self.name = name
        self.existing_name = existing_name
        self.existing_id = existing_id
        self.what = what
        super().__init__(
            f"the name {name!r} clashes with {what} {existing_id} named {existing_name!r}"
            " (names are compared ignoring case and Unicode compatibility forms)"
        )


class DuplicateStageId(RuleViolation):
    """A stage id given by the caller is already held by a stage of the pipeline (R9)."""

    code: ClassVar[str] = "duplicate_stage_id"

    def __init__(self, stage_id: int) -> None:
        self.stage_id = stage_id
        super().__init__(f"the pipeline already has a stage with id {stage_id}")


class InvalidId(RuleViolation):
    """An id given by the caller is not an integer from 1 to ``MAX_ID`` (R9, W6).

    ``what`` says whose id it is: ``"lead"``, ``"pipeline"``...
    """

    code: ClassVar[str] = "invalid_id"

    def __init__(self, value: int, what: str) -> None:
        self.value = value
        self.what = what
        if value < 1:
            super().__init__(f"{what} ids are positive integers, got {value}")
        else:
            super().__init__(f"{what} ids are at most {MAX_ID} (2**53 - 1), got {int_text(value)}")


class InvalidStageId(InvalidId):
    """A stage id given by the caller is not an integer from 1 to ``MAX_ID`` (R9)."""

    code: ClassVar[str] = "invalid_stage_id"

    def __init__(self, stage_id: int) -> None:
        self.stage_id = stage_id
        super().__init__(stage_id, "stage")


class InvalidOutcome(RuleViolation):
    """A stage kind given as the outcome of a closed lead is not won or lost (R5)."""

    code: ClassVar[str] = "invalid_outcome"

    def __init__(self, outcome: StageKind) -> None:
        self.outcome = outcome
        super().__init__(f"an outcome is StageKind.WON or StageKind.LOST, got {outcome!r}")


class InvalidColor(RuleViolation):
    """A colour is not of the form ``#rrggbb`` or ``#rgb`` (R8)."""

    code: ClassVar[str] = "invalid_color"

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"invalid colour {value!r}: expected '#rrggbb' or '#rgb' in hex digits")


class UnknownStage(RuleViolation, LookupError):
    """No stage of the pipeline has the given id."""

    code: ClassVar[str] = "unknown_stage"

    def __init__(self, stage_id: int, pipeline_id: int | None = None) -> None:
        self.stage_id = stage_id
        self.pipeline_id = pipeline_id
        where = "" if pipeline_id is None else f" in pipeline {int_text(pipeline_id)}"
        super().__init__(f"no stage has id {int_text(stage_id)}{where}")


class StageLocked(RuleViolation):
    """A system stage (incoming leads, won, lost) does not allow the action (R4, R5)."""

    code: ClassVar[str] = "stage_locked"

    def __init__(self, stage_id: int, kind: StageKind, action: str) -> None:
        self.stage_id = stage_id
        self.kind = kind
        self.action = action
        super().__init__(f"the {kind.label} stage (id {stage_id}) cannot be {action}")


class PositionOutOfRange(RuleViolation):
    """A position among the open stages (R3), or of a pipeline, is outside the allowed range."""

    code: ClassVar[str] = "position_out_of_range"

    def __init__(self, position: int, low: int, high: int, what: str = "an open stage") -> None:
        self.position = position
        self.low = low
        self.high = high
        self.what = what
        super().__init__(
            f"position {int_text(position)} is out of range:"
            f" here {what}'s position goes from {low} to {high}"
        )


class LastOpenStage(RuleViolation):
    """The only open stage of a pipeline cannot be deleted (R3)."""

    code: ClassVar[str] = "last_open_stage"

    def __init__(self, stage_id: int) -> None:
        self.stage_id = stage_id
        super().__init__(
            f"stage {stage_id} is the pipeline's last open stage and cannot be deleted:"
            " a pipeline always keeps one open stage for its leads"
        )


class StageLimitReached(RuleViolation):
    """The pipeline already holds the most stages allowed, system stages included (R6)."""

    code: ClassVar[str] = "stage_limit_reached"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"a pipeline holds at most {limit} stages, system stages included")


class _InvalidValue(RuleViolation):
    """A value built directly breaks a rule: which one, why, and which part is at fault."""

    what: ClassVar[str]

    def __init__(self, rule: str, reason: str, where: tuple[str | int, ...] = ()) -> None:
        self.rule = rule
        self.reason = reason
        self.where = where
        super().__init__(f"invalid {self.what} ({rule}): {reason}")


class InvalidPipeline(_InvalidValue):
    """A pipeline built directly breaks one of the rules R1 to R10; ``rule`` says which.

    ``where`` says which part is at fault, as the path of field names and stage
    indexes inside the pipeline: ``("stages", 2, "id")``; empty when it is the whole.
    """

    code: ClassVar[str] = "invalid_pipeline"
    what: ClassVar[str] = "pipeline"


# -- the workspace: leads, pipelines and loss reasons ---------------------------------


class RevisionConflict(PipekitError):
    """The workspace is not at the revision the caller expected: someone changed it first.

    Not a rule violation: the command may be fine, the caller's view is stale. Reload
    and decide again.
    """

    code: ClassVar[str] = "revision_conflict"

    def __init__(
        self, expected: int | None, actual: int | None, message: str | None = None
    ) -> None:
        self.expected = expected
        self.actual = actual
        if message is None and (expected is None or actual is None):
            message = "another writer kept the workspace busy for longer than the timeout"
        elif message is None:
            message = (
                f"expected the workspace at revision {expected}, but it is at revision {actual}"
            )
        super().__init__(message)


class LeadVersionConflict(RevisionConflict):
    """A lead is not at the version the command expected: someone changed that lead first.

    A command on one lead may name, as ``expected_version``, the version of the
    lead its client saw. Changes to other leads never conflict with it.
    """

    code: ClassVar[str] = "lead_version_conflict"

    def __init__(self, lead_id: int, expected: int, actual: int) -> None:
        self.lead_id = lead_id
        super().__init__(
            expected,
            actual,
            f"expected lead {lead_id} at version {expected}, but it is at version {actual}",
        )


class _DuplicateId(RuleViolation):
    what: ClassVar[str]

    def __init__(self, value: int) -> None:
        self.value = value
        article = "an" if self.what[0] in "aeiou" else "a"
        super().__init__(f"the workspace already has {article} {self.what} with id {value}")


class DuplicateLeadId(_DuplicateId):
    """A lead id given by the caller is already held by a lead of the workspace (W6)."""

    code: ClassVar[str] = "duplicate_lead_id"
    what: ClassVar[str] = "lead"


class DuplicatePipelineId(_DuplicateId):
    """A pipeline id given by the caller is already held by a pipeline of the workspace (W6)."""

    code: ClassVar[str] = "duplicate_pipeline_id"
    what: ClassVar[str] = "pipeline"


class DuplicateLossReasonId(_DuplicateId):
    """A loss reason id given by the caller is already held in the workspace (W6)."""

    code: ClassVar[str] = "duplicate_loss_reason_id"
    what: ClassVar[str] = "loss reason"


class DuplicateAutomationId(_DuplicateId):
    """An automation id given by the caller is already held in the workspace (D4)."""

    code: ClassVar[str] = "duplicate_automation_id"
    what: ClassVar[str] = "automation"


class _Unknown(RuleViolation, LookupError):
    what: ClassVar[str]

    def __init__(self, value: int) -> None:
        self.value = value
        super().__init__(f"no {self.what} has id {int_text(value)}")


class UnknownPipeline(_Unknown):
    """No pipeline of the workspace has the given id."""

    code: ClassVar[str] = "unknown_pipeline"
    what: ClassVar[str] = "pipeline"

    def __init__(self, pipeline_id: int) -> None:
        self.pipeline_id = pipeline_id
        super().__init__(pipeline_id)


class UnknownLead(_Unknown):
    """No lead of the workspace has the given id."""

    code: ClassVar[str] = "unknown_lead"
    what: ClassVar[str] = "lead"

    def __init__(self, lead_id: int) -> None:
        self.lead_id = lead_id
        super().__init__(lead_id)


class UnknownLossReason(_Unknown):
    """No loss reason of the workspace has the given id."""

    code: ClassVar[str] = "unknown_loss_reason"
    what: ClassVar[str] = "loss reason"

    def __init__(self, reason_id: int) -> None:
        self.reason_id = reason_id
        super().__init__(reason_id)


class UnknownAutomation(_Unknown):
    """No automation of the workspace has the given id."""

    code: ClassVar[str] = "unknown_automation"
    what: ClassVar[str] = "automation"

    def __init__(self, automation_id: int) -> None:
        self.automation_id = automation_id
        super().__init__(automation_id)


class UnknownScheduledAction(_Unknown):
    """No scheduled action handed over to the host has the given id.

    Raised when the host reports back on an action that it was never handed, or
    that was completed, failed or cancelled since.
    """

    code: ClassVar[str] = "unknown_scheduled_action"
    what: ClassVar[str] = "scheduled action handed over to the host"

    def __init__(self, scheduled_id: int) -> None:
        self.scheduled_id = scheduled_id
        super().__init__(scheduled_id)


class InvalidPrice(RuleViolation):
    """A price is negative or above ``MAX_PRICE`` (W7). Prices are whole minor units: cents."""

    code: ClassVar[str] = "invalid_price"

    def __init__(self, price: int) -> None:
        self.price = price
        if price < 0:
            super().__init__(f"a price is a whole number of minor units, at least 0; got {price}")
        else:
            super().__init__(
                f"a price is at most {MAX_PRICE} minor units (2**53 - 1), got {int_text(price)}"
            )


class InvalidTarget(RuleViolation):
    """A stage named as where leads should go is not allowed there (W2, W4)."""

    code: ClassVar[str] = "invalid_target"

    def __init__(self, pipeline_id: int, stage_id: int | None, reason: str) -> None:
        self.pipeline_id = pipeline_id
        self.stage_id = stage_id
        self.reason = reason
        super().__init__(f"invalid target in pipeline {pipeline_id}: {reason}")


class LastPipeline(RuleViolation):
    """The last pipeline of a workspace cannot be deleted (W3)."""

    code: ClassVar[str] = "last_pipeline"

    def __init__(self, pipeline_id: int) -> None:
        self.pipeline_id = pipeline_id
        super().__init__(
            f"pipeline {pipeline_id} is the workspace's last pipeline and cannot be deleted"
        )


class MainPipelineLocked(RuleViolation):
    """The main pipeline cannot be deleted: set another main pipeline first (W3)."""

    code: ClassVar[str] = "main_pipeline_locked"

    def __init__(self, pipeline_id: int) -> None:
        self.pipeline_id = pipeline_id
        super().__init__(
            f"pipeline {pipeline_id} is the main pipeline and cannot be deleted:"
            " set another main pipeline first"
        )


class PipelineNotEmpty(RuleViolation):
    """A pipeline that still holds leads cannot be deleted (W3)."""

    code: ClassVar[str] = "pipeline_not_empty"

    def __init__(self, pipeline_id: int, lead_count: int) -> None:
        self.pipeline_id = pipeline_id
        self.lead_count = lead_count
        super().__init__(
            f"pipeline {pipeline_id} still holds {lead_count} lead(s):"
            " move or delete them before deleting the pipeline"
        )


class PipelineLimitReached(RuleViolation):
    """The workspace already holds the most pipelines allowed (W3)."""

    code: ClassVar[str] = "pipeline_limit_reached"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"a workspace holds at most {limit} pipelines")


class IncomingDisabled(RuleViolation):
    """A lead was sent to the incoming leads stage of a pipeline where it is off (W4)."""

    code: ClassVar[str] = "incoming_disabled"

    def __init__(self, pipeline_id: int) -> None:
        self.pipeline_id = pipeline_id
        super().__init__(f"pipeline {pipeline_id} has its incoming leads stage switched off")


class IncomingNotEmpty(RuleViolation):
    """The incoming leads stage cannot be switched off while leads wait there (W4)."""

    code: ClassVar[str] = "incoming_not_empty"

    def __init__(self, pipeline_id: int, lead_count: int) -> None:
        self.pipeline_id = pipeline_id
        self.lead_count = lead_count
        super().__init__(
            f"{lead_count} lead(s) wait in the incoming leads stage of pipeline {pipeline_id}:"
            " accept, decline or delete them before switching it off"
        )


class LeadNotIncoming(RuleViolation):
    """Only a lead in an incoming leads stage can be accepted or declined (W4)."""

    code: ClassVar[str] = "lead_not_incoming"

    def __init__(self, lead_id: int, stage_id: int) -> None:
        self.lead_id = lead_id
        self.stage_id = stage_id
        super().__init__(
            f"lead {lead_id} is not waiting in an incoming leads stage (it is in stage"
            f" {stage_id}), so it cannot be accepted or declined"
        )


class LossReasonInUse(RuleViolation):
    """A loss reason that a lead refers to cannot be deleted (W5)."""

    code: ClassVar[str] = "loss_reason_in_use"

    def __init__(self, reason_id: int, lead_count: int) -> None:
        self.reason_id = reason_id
        self.lead_count = lead_count
        super().__init__(
            f"loss reason {reason_id} is given for {lead_count} lost lead(s) and cannot be deleted"
        )


class InvalidWorkspace(_InvalidValue):
    """A workspace built directly breaks one of the rules W1 to W7; ``rule`` says which.

    ``where`` says which part is at fault, as a path of field names and indexes:
    ``("pipelines", 1, "name")``. Under ``"leads"`` the next step is the lead's id,
    since leads are kept by id: ``("leads", 7, "stage_id")``.
    """

    code: ClassVar[str] = "invalid_workspace"
    what: ClassVar[str] = "workspace"


class InvalidEvent(RuleViolation):
    """An event does not fit the workspace it is applied to (a gap or a forgery in a log)."""

    code: ClassVar[str] = "invalid_event"

    def __init__(self, event: str, reason: str) -> None:
        self.event = event
        self.reason = reason
        super().__init__(f"{event} does not fit this workspace: {reason}")


# -- the Digital Pipeline: automations ------------------------------------------------


class InvalidDelay(RuleViolation):
    """An automation's delay is negative or above ``MAX_DELAY``, ten years (D5).

    An action is due at the trigger or after it, and within ten years of it.
    """

    code: ClassVar[str] = "invalid_delay"

    def __init__(self, delay: timedelta) -> None:
        self.delay = delay
        seconds = f"{delay.total_seconds():g}"
        if microseconds(delay) < 0:
            super().__init__(f"an automation's delay is at least 0, got {seconds} seconds")
        else:
            super().__init__(
                f"an automation's delay is at most {MAX_DELAY.days} days (ten years),"
                f" got {seconds} seconds"
            )


class InvalidVersion(RuleViolation):
    """A lead's version is negative or above ``MAX_REVISION`` (2**53 - 1)."""

    code: ClassVar[str] = "invalid_version"

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(
            f"a lead's version is a whole number from 0 to {MAX_REVISION}, got {int_text(version)}"
        )


class InvalidPriceRange(RuleViolation):
    """An automation's ``min_price`` is above its ``max_price``: no lead could match (D5)."""

    code: ClassVar[str] = "invalid_price_range"

    def __init__(self, min_price: int, max_price: int) -> None:
        self.min_price = min_price
        self.max_price = max_price
        super().__init__(
            f"min_price {min_price} is above max_price {max_price}: no price lies between them"
        )


class AutomationLimitReached(RuleViolation):
    """The pipeline already holds the most automations allowed (D3)."""

    code: ClassVar[str] = "automation_limit_reached"

    def __init__(self, pipeline_id: int, limit: int) -> None:
        self.pipeline_id = pipeline_id
        self.limit = limit
        super().__init__(f"pipeline {pipeline_id} holds the most automations allowed, {limit}")


class ScheduleOutOfRange(RuleViolation):
    """An action would be due past the last time Python's ``datetime`` holds (D7).

    Raised by the command whose lead change would schedule it: a lead created or
    moved at ``at`` into a stage an automation with ``delay`` watches, when ``at +
    delay`` passes 9999-12-31T23:59:59.999999 in ``at``'s own offset.
    """

    code: ClassVar[str] = "schedule_out_of_range"

    def __init__(self, automation_id: int, lead_id: int, at: datetime, delay: timedelta) -> None:
        self.automation_id = automation_id
        self.lead_id = lead_id
        self.at = at
        self.delay = delay
        super().__init__(
            f"automation {automation_id} would schedule its action for lead {lead_id} at"
            f" {at.isoformat()} plus {delay.total_seconds():g} seconds, past the end of the"
            " year 9999, the last time pipekit can hold"
        )
