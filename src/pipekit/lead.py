"""Leads (deals) and loss reasons.

A :class:`Lead` sits in one stage of one pipeline. Whether that stage exists, and
whether ``closed_at`` and ``loss_reason_id`` fit its kind, is the workspace's to
check (W1, W5); a lead on its own checks what it can know by itself.

>>> from datetime import datetime, timezone
>>> at = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
>>> lead = Lead(
...     id=1,
...     name=" ACME ",
...     pipeline_id=1,
...     stage_id=144,
...     price=150_000,
...     created_at=at,
...     stage_entered_at=at,
... )
>>> lead.name, lead.closed_at
('ACME', None)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final, final

import attrs

from pipekit._checks import require_int, require_type
from pipekit.bounds import ID_RANGE, PRICE_RANGE, REVISION_RANGE, Id, Price, Revision
from pipekit.errors import InvalidId, InvalidPrice, InvalidVersion
from pipekit.names import clean_name
from pipekit.stage import check_id

__all__ = ["Lead", "LossReason", "check_aware", "check_price", "positive_id"]


def positive_id(value: int, what: str) -> int:
    """Return *value* if it is an ``int`` from 1 to ``MAX_ID``, as every id is (W6)."""
    if require_int(value, f"a {what} id") not in ID_RANGE:
        raise InvalidId(value, what)
    return value


def check_price(price: int) -> int:
    """Return *price* if it is a whole number of minor units, from 0 to ``MAX_PRICE`` (W7)."""
    if require_int(price, "a price") not in PRICE_RANGE:
        raise InvalidPrice(price)
    return price


def check_aware(moment: datetime, what: str = "a time") -> datetime:
    """Return *moment* if it is a timezone-aware ``datetime``; a naive one raises ``ValueError``."""
    require_type(moment, datetime, what)
    if moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got the naive {moment.isoformat()}")
    return moment


def _lead_id(value: int) -> int:
    return positive_id(value, "lead")


def _pipeline_id(value: int) -> int:
    return positive_id(value, "pipeline")


def _reason_id(value: int) -> int:
    return positive_id(value, "loss reason")


def _optional_reason_id(value: int | None) -> int | None:
    return None if value is None else _reason_id(value)


def _version(value: int) -> int:
    if require_int(value, "a lead's version") not in REVISION_RANGE:
        raise InvalidVersion(value)
    return value


def _aware(value: datetime) -> datetime:
    return check_aware(value)


def _optional_aware(value: datetime | None) -> datetime | None:
    return None if value is None else check_aware(value)


@final
@attrs.frozen
class Lead:
    """A deal in one stage of one pipeline.

    ``price`` is in minor units (cents), at least 0. ``created_at`` and
    ``stage_entered_at`` are timezone-aware; ``closed_at`` is set exactly while the
    lead sits in the won or lost stage, and ``loss_reason_id`` only while it sits in
    lost. The name follows R7 but need not be unique. ``version`` grows by one with
    each change to the lead (a move, a new loss reason), from 0 when it is created:
    a command may name the version its client saw (``expected_version``) and is
    refused if the lead changed since. Equality leaves the version out.
    """

    id: Id = attrs.field(converter=_lead_id)
    name: str = attrs.field(converter=clean_name)
    pipeline_id: Id = attrs.field(converter=_pipeline_id)
    stage_id: Id = attrs.field(converter=check_id)
    price: Price = attrs.field(converter=check_price)
    created_at: datetime = attrs.field(converter=_aware)
    stage_entered_at: datetime = attrs.field(converter=_aware)
    closed_at: datetime | None = attrs.field(default=None, converter=_optional_aware)
    loss_reason_id: Id | None = attrs.field(default=None, converter=_optional_reason_id)
    # Counts changes; it is not part of what the lead is, so two leads that differ
    # only in their versions are equal (a lead moved back equals itself before).
    version: Revision = attrs.field(default=0, converter=_version, eq=False)


def trusted_lead(
    lead: Lead,
    *,
    pipeline_id: int,
    stage_id: int,
    stage_entered_at: datetime,
    closed_at: datetime | None,
    loss_reason_id: int | None,
) -> Lead:
    """Return *lead* in another stage, one version on, from values already checked.

    Each field is written through its slot's own setter, past the frozen class's
    ``__setattr__``, as ``object.__setattr__`` does without looking the name up.
    """
    result = object.__new__(Lead)
    _SET_ID(result, lead.id)
    _SET_NAME(result, lead.name)
    _SET_PIPELINE_ID(result, pipeline_id)
    _SET_STAGE_ID(result, stage_id)
    _SET_PRICE(result, lead.price)
    _SET_CREATED_AT(result, lead.created_at)
    _SET_STAGE_ENTERED_AT(result, stage_entered_at)
    _SET_CLOSED_AT(result, closed_at)
    _SET_LOSS_REASON_ID(result, loss_reason_id)
    _SET_VERSION(result, lead.version + 1)
    return result


def _slot_setter(name: str) -> Callable[[Lead, object], None]:
    setter: Callable[[Lead, object], None] = Lead.__dict__[name].__set__
    return setter


_SET_ID: Final = _slot_setter("id")
_SET_NAME: Final = _slot_setter("name")
_SET_PIPELINE_ID: Final = _slot_setter("pipeline_id")
_SET_STAGE_ID: Final = _slot_setter("stage_id")
_SET_PRICE: Final = _slot_setter("price")
_SET_CREATED_AT: Final = _slot_setter("created_at")
_SET_STAGE_ENTERED_AT: Final = _slot_setter("stage_entered_at")
_SET_CLOSED_AT: Final = _slot_setter("closed_at")
_SET_LOSS_REASON_ID: Final = _slot_setter("loss_reason_id")
_SET_VERSION: Final = _slot_setter("version")


@final
@attrs.frozen
class LossReason:
    """Why a lead was lost: one entry of the workspace's list, as in Kommo."""

    id: Id = attrs.field(converter=_reason_id)
    name: str = attrs.field(converter=clean_name)
