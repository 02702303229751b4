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

if TYPE_CHECKING:
    from pipekit.stage import StageKind

__all__ = [
    "DuplicateName",
    "DuplicateStageId",
    "InvalidColor",
    "InvalidName",
    "InvalidPipeline",
    "InvalidStageId",
    "LastOpenStage",
    "PipekitError",
    "PositionOutOfRange",
    "RuleViolation",
    "StageLimitReached",
    "StageLocked",
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


class InvalidStageId(RuleViolation):
    """A stage id given by the caller is not a positive integer (R9)."""

    code: ClassVar[str] = "invalid_stage_id"

    def __init__(self, stage_id: int) -> None:
        self.stage_id = stage_id
        super().__init__(f"stage ids are positive integers, got {stage_id}")


class InvalidColor(RuleViolation):
    """A colour is not of the form ``#rrggbb`` or ``#rgb`` (R8)."""

    code: ClassVar[str] = "invalid_color"

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"invalid colour {value!r}: expected '#rrggbb' or '#rgb' in hex digits")


class UnknownStage(RuleViolation, LookupError):
    """No stage of the pipeline has the given id."""

    code: ClassVar[str] = "unknown_stage"

    def __init__(self, stage_id: int) -> None:
        self.stage_id = stage_id
        super().__init__(f"no stage has id {stage_id}")


class StageLocked(RuleViolation):
    """A system stage (incoming leads, won, lost) does not allow the action (R4, R5)."""

    code: ClassVar[str] = "stage_locked"

    def __init__(self, stage_id: int, kind: StageKind, action: str) -> None:
        self.stage_id = stage_id
        self.kind = kind
        self.action = action
        super().__init__(f"the {kind.label} stage (id {stage_id}) cannot be {action}")


class PositionOutOfRange(RuleViolation):
    """A position among the open stages is outside the allowed range (R3)."""

    code: ClassVar[str] = "position_out_of_range"

    def __init__(self, position: int, low: int, high: int) -> None:
        self.position = position
        self.low = low
        self.high = high
        super().__init__(
            f"position {position} is out of range: here an open stage's position"
            f" goes from {low} to {high}"
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


class InvalidPipeline(RuleViolation):
    """A pipeline built directly breaks one of the rules R1 to R10; ``rule`` says which."""

    code: ClassVar[str] = "invalid_pipeline"

    def __init__(self, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(f"invalid pipeline ({rule}): {reason}")
