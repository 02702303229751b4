"""Lead and LossReason: value objects valid from construction, frozen, with a Python repr."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
import re
import zoneinfo
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    MAX_ID,
    MAX_NAME_LENGTH,
    MAX_PRICE,
    MAX_REVISION,
    InvalidId,
    InvalidName,
    InvalidPrice,
    InvalidStageId,
    InvalidVersion,
    Lead,
    LossReason,
    PipekitError,
    RuleViolation,
    Workspace,
    default_pipeline,
)
from pipekit.codec import ADDED_LATER, dump, load
from tests.profiles import LIGHT, MODERATE
from tests.strategies import names

AT = datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
LATER = datetime(2026, 11, 28, 17, 5, 30, 250, tzinfo=timezone(timedelta(hours=2)))
NAMESPACE = {"Lead": Lead, "LossReason": LossReason, "datetime": dt, "zoneinfo": zoneinfo}

LEAD_FIELDS = {
    "id": 1,
    "name": "ACME",
    "pipeline_id": 1,
    "stage_id": 144,
    "price": 150_000,
    "created_at": AT,
    "stage_entered_at": AT,
}
ID_FIELDS = [("id", "lead"), ("pipeline_id", "pipeline"), ("loss_reason_id", "loss reason")]
TIME_FIELDS = ["created_at", "stage_entered_at", "closed_at"]


def make_lead(**changes: Any) -> Lead:
    return Lead(**{**LEAD_FIELDS, **changes})


class NoOffset(dt.tzinfo):
    """A tzinfo that does not know its offset: a datetime using it is naive."""

    def utcoffset(self, moment: datetime | None) -> timedelta | None:
        return None

    def dst(self, moment: datetime | None) -> timedelta | None:
        return None

    def tzname(self, moment: datetime | None) -> str | None:
        return None


# -- strategies ---------------------------------------------------------------------

aware_times = st.datetimes(
    timezones=st.just(dt.UTC)
    | st.builds(
        timezone,
        st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)),
    )
)


@st.composite
def lead_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Valid keyword arguments for a Lead, names padded as a user might type them."""
    return {
        "id": draw(st.integers(1, MAX_ID)),
        "name": draw(names()) + draw(st.sampled_from(["", " ", "\t  "])),
        "pipeline_id": draw(st.integers(1, MAX_ID)),
        "stage_id": draw(st.integers(1, MAX_ID)),
        "price": draw(st.integers(0, MAX_PRICE)),
        "created_at": draw(aware_times),
        "stage_entered_at": draw(aware_times),
        "closed_at": draw(st.none() | aware_times),
        "loss_reason_id": draw(st.none() | st.integers(1, MAX_ID)),
    }


class TestConstruction:
    def test_holds_its_fields(self) -> None:
        lead = make_lead()
        assert lead.id == 1
        assert lead.name == "ACME"
        assert lead.pipeline_id == 1
        assert lead.stage_id == 144
        assert lead.price == 150_000
        assert lead.created_at == AT
        assert lead.stage_entered_at == AT

    def test_closed_at_and_loss_reason_id_are_optional(self) -> None:
        lead = make_lead()
        assert lead.closed_at is None
        assert lead.loss_reason_id is None
        assert make_lead(closed_at=None, loss_reason_id=None) == lead

    def test_holds_a_close_time_and_a_loss_reason(self) -> None:
        lead = make_lead(stage_id=143, closed_at=LATER, loss_reason_id=2)
        assert lead.closed_at == LATER
        assert lead.loss_reason_id == 2

    def test_fields_come_in_the_issue_order(self) -> None:
        assert [field.name for field in attrs.fields(Lead)] == [
            "id",
            "name",
            "pipeline_id",
            "stage_id",
            "price",
            "created_at",
            "stage_entered_at",
            "closed_at",
            "loss_reason_id",
            "version",  # added by the lead-level path (issue 20), last, with a default
        ]

    def test_takes_positional_arguments(self) -> None:
        lead = Lead(1, "ACME", 1, 144, 150_000, AT, AT, LATER, 3)
        assert lead == make_lead(closed_at=LATER, loss_reason_id=3)

    def test_accepts_ids_and_prices_up_to_their_bounds(self) -> None:
        lead = make_lead(id=MAX_ID, pipeline_id=MAX_ID, stage_id=MAX_ID, price=MAX_PRICE)
        assert (lead.id, lead.pipeline_id, lead.stage_id, lead.price) == (2**53 - 1,) * 4

    def test_accepts_a_price_of_zero(self) -> None:
        assert make_lead(price=0).price == 0

    @LIGHT
    @given(lead_fields())
    def test_keeps_what_it_is_given_and_strips_the_name(self, fields: dict[str, Any]) -> None:
        lead = Lead(**fields)
        for name, value in fields.items():
            expected = value.strip() if name == "name" else value
            assert getattr(lead, name) == expected


class TestName:
    """Lead names follow R7's validity rules (they need not be unique)."""

    @pytest.mark.parametrize(
        ("name", "stripped"),
        [(" ACME ", "ACME"), ("\tACME Corp\u3000", "ACME Corp"), ("  a  b  ", "a  b")],
    )
    def test_is_stripped(self, name: str, stripped: str) -> None:
        assert make_lead(name=name).name == stripped

    def test_may_be_as_long_as_max_name_length(self) -> None:
        assert make_lead(name="x" * MAX_NAME_LENGTH).name == "x" * MAX_NAME_LENGTH

    @pytest.mark.parametrize(
        ("name", "match"),
        [
            ("", "cannot be empty or only white space"),
            ("   ", "cannot be empty or only white space"),
            ("x" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH} characters"),
            ("ACME\nCorp", r"control or line-break characters \(U\+000A\)"),
            ("ACME\x00", r"control or line-break characters \(U\+0000\)"),
            ("ACME\u2028Corp", r"control or line-break characters \(U\+2028\)"),
        ],
        ids=["empty", "blank", "too long", "newline", "nul", "line separator"],
    )
    def test_an_invalid_name_is_refused(self, name: str, match: str) -> None:
        with pytest.raises(InvalidName, match=match) as info:
            make_lead(name=name)
        assert info.value.name == name

    @pytest.mark.parametrize("name", [None, 7, b"ACME", ["ACME"]], ids=repr)
    def test_a_name_that_is_not_a_str_is_a_type_error(self, name: object) -> None:
        with pytest.raises(TypeError, match="a name must be a str"):
            make_lead(name=name)


class TestIds:
    @pytest.mark.parametrize(("field", "what"), ID_FIELDS)
    @pytest.mark.parametrize("value", [0, -1, -(2**64)])
    def test_a_non_positive_id_is_refused(self, field: str, what: str, value: int) -> None:
        with pytest.raises(
            InvalidId, match=f"^{what} ids are positive integers, got {value}$"
        ) as info:
            make_lead(**{field: value})
        assert type(info.value) is InvalidId
        assert info.value.what == what
        assert info.value.value == value

    @pytest.mark.parametrize(("field", "what"), ID_FIELDS)
    @pytest.mark.parametrize(
        "value", [2**53, 1 + 2**4400, 10**4300 - 1], ids=["2**53", "1+2**4400", "10**4300-1"]
    )
    def test_an_id_past_max_id_is_refused(self, field: str, what: str, value: int) -> None:
        with pytest.raises(InvalidId, match=f"^{what} ids are at most 9007199254740991") as info:
            make_lead(**{field: value})
        assert info.value.what == what
        assert info.value.value == value

    @pytest.mark.parametrize("value", [0, -1, -(2**64)])
    def test_a_non_positive_stage_id_is_an_invalid_stage_id(self, value: int) -> None:
        with pytest.raises(
            InvalidStageId, match=f"^stage ids are positive integers, got {value}$"
        ) as info:
            make_lead(stage_id=value)
        assert isinstance(info.value, InvalidId)
        assert info.value.stage_id == value
        assert info.value.what == "stage"

    @pytest.mark.parametrize("field", ["id", "pipeline_id", "stage_id", "loss_reason_id"])
    @pytest.mark.parametrize("value", [True, False, 1.0, "1", None], ids=repr)
    def test_an_id_that_is_not_an_int_is_a_type_error(self, field: str, value: object) -> None:
        if field == "loss_reason_id" and value is None:
            assert make_lead(loss_reason_id=value).loss_reason_id is None
            return
        with pytest.raises(TypeError, match=r"id must be an int, got (bool|float|str|NoneType)$"):
            make_lead(**{field: value})

    @pytest.mark.parametrize("field", ["id", "pipeline_id", "stage_id", "loss_reason_id"])
    def test_a_bool_id_is_a_type_error_not_a_rule_violation(self, field: str) -> None:
        with pytest.raises(TypeError) as info:
            make_lead(**{field: True})
        assert not isinstance(info.value, PipekitError)


class TestPrice:
    @pytest.mark.parametrize("price", [-1, -150_000, -(2**64)])
    def test_a_negative_price_is_refused(self, price: int) -> None:
        with pytest.raises(InvalidPrice, match=f"at least 0; got {price}$") as info:
            make_lead(price=price)
        assert info.value.price == price

    @pytest.mark.parametrize("price", [MAX_PRICE + 1, 10**4299], ids=["2**53", "10**4299"])
    def test_a_price_past_max_price_is_refused(self, price: int) -> None:
        with pytest.raises(
            InvalidPrice, match=r"^a price is at most 9007199254740991 minor"
        ) as info:
            make_lead(price=price)
        assert info.value.price == price

    @pytest.mark.parametrize("price", [True, False, 1.0, 1.5, "100", None], ids=repr)
    def test_a_price_that_is_not_an_int_is_a_type_error(self, price: object) -> None:
        with pytest.raises(TypeError, match="a price must be an int") as info:
            make_lead(price=price)
        assert not isinstance(info.value, PipekitError)


class TestTimes:
    @pytest.mark.parametrize("field", TIME_FIELDS)
    def test_a_naive_datetime_is_a_value_error_not_a_rule_violation(self, field: str) -> None:
        naive = datetime(2026, 11, 27, 9, 30)
        with pytest.raises(ValueError, match="must be timezone-aware") as info:
            make_lead(**{field: naive})
        assert not isinstance(info.value, PipekitError)
        assert "2026-11-27T09:30:00" in str(info.value)

    @pytest.mark.parametrize("field", TIME_FIELDS)
    def test_a_tzinfo_without_an_offset_makes_a_naive_datetime(self, field: str) -> None:
        with pytest.raises(ValueError, match="must be timezone-aware") as info:
            make_lead(**{field: datetime(2026, 11, 27, tzinfo=NoOffset())})
        assert not isinstance(info.value, RuleViolation)

    @pytest.mark.parametrize("field", TIME_FIELDS)
    @pytest.mark.parametrize(
        "value",
        [date(2026, 11, 27), "2026-11-27T09:30:00+00:00", 1_795_000_000, 1.5],
        ids=["date", "str", "int", "float"],
    )
    def test_a_value_that_is_not_a_datetime_is_a_type_error(
        self, field: str, value: object
    ) -> None:
        with pytest.raises(TypeError, match="must be a datetime") as info:
            make_lead(**{field: value})
        assert not isinstance(info.value, PipekitError)

    @pytest.mark.parametrize("field", ["created_at", "stage_entered_at"])
    def test_created_at_and_stage_entered_at_are_required(self, field: str) -> None:
        fields = {name: value for name, value in LEAD_FIELDS.items() if name != field}
        with pytest.raises(TypeError, match=field):
            Lead(**fields)  # type: ignore[arg-type]  # the ids, names and times mix types

    @pytest.mark.parametrize(
        "moment",
        [
            LATER,
            datetime(2026, 3, 29, 2, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
            datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
        ],
        ids=["fixed offset", "zoneinfo gap", "zoneinfo fold"],
    )
    def test_any_aware_datetime_is_kept(self, moment: datetime) -> None:
        lead = make_lead(created_at=moment, stage_entered_at=moment, closed_at=moment)
        assert lead.created_at == moment
        assert lead.stage_entered_at == moment
        assert lead.closed_at == moment


class TestValueObject:
    @pytest.mark.parametrize("field", [field.name for field in attrs.fields(Lead)])
    def test_is_frozen(self, field: str) -> None:
        lead = make_lead()
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(lead, field, getattr(lead, field))
        assert lead == make_lead()

    def test_takes_no_new_attributes(self) -> None:
        with pytest.raises(AttributeError):
            make_lead().note = "hot"  # type: ignore[attr-defined]  # what is under test

    def test_equal_fields_make_equal_leads_with_equal_hashes(self) -> None:
        assert make_lead() == make_lead(name=" ACME ")
        assert hash(make_lead()) == hash(make_lead(name=" ACME "))

    @pytest.mark.parametrize(
        "changes",
        [
            {"id": 2},
            {"name": "Globex"},
            {"pipeline_id": 2},
            {"stage_id": 145},
            {"price": 1},
            {"created_at": LATER},
            {"stage_entered_at": LATER},
            {"closed_at": AT},
            {"loss_reason_id": 1},
        ],
        ids=lambda changes: next(iter(changes)),
    )
    def test_any_different_field_makes_a_different_lead(self, changes: dict[str, Any]) -> None:
        assert make_lead(**changes) != make_lead()

    def test_evolve_checks_like_the_constructor(self) -> None:
        lead = make_lead()
        with pytest.raises(InvalidPrice):
            attrs.evolve(lead, price=-1)
        with pytest.raises(InvalidName):
            attrs.evolve(lead, name=" ")
        with pytest.raises(ValueError, match="timezone-aware"):
            attrs.evolve(lead, closed_at=datetime(2026, 1, 1))
        assert attrs.evolve(lead, name=" Globex ").name == "Globex"
        assert lead == make_lead()


class TestRepr:
    def test_repr_is_the_constructor_call(self) -> None:
        assert repr(make_lead()) == (
            "Lead(id=1, name='ACME', pipeline_id=1, stage_id=144, price=150000,"
            " created_at=datetime.datetime(2026, 11, 27, 9, 30, tzinfo=datetime.timezone.utc),"
            " stage_entered_at=datetime.datetime(2026, 11, 27, 9, 30,"
            " tzinfo=datetime.timezone.utc), closed_at=None, loss_reason_id=None, version=0)"
        )

    @pytest.mark.parametrize(
        "lead",
        [
            make_lead(),
            make_lead(name='It\'s "ACME"', stage_id=143, closed_at=LATER, loss_reason_id=7),
            make_lead(created_at=datetime(2026, 3, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))),
        ],
        ids=["open", "lost", "zoneinfo"],
    )
    def test_repr_evaluates_to_an_equal_lead(self, lead: Lead) -> None:
        assert eval(repr(lead), NAMESPACE) == lead

    @MODERATE
    @given(lead_fields())
    def test_any_lead_survives_its_repr(self, fields: dict[str, Any]) -> None:
        lead = Lead(**fields)
        assert eval(repr(lead), NAMESPACE) == lead


class TestPickling:
    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    def test_pickles_to_an_equal_lead(self, protocol: int) -> None:
        lead = make_lead(stage_id=143, closed_at=LATER, loss_reason_id=7)
        restored = pickle.loads(pickle.dumps(lead, protocol=protocol))
        assert restored == lead
        assert type(restored) is Lead
        assert restored.closed_at is not None
        assert restored.closed_at.utcoffset() == timedelta(hours=2)

    @MODERATE
    @given(lead_fields())
    def test_any_lead_survives_pickling_and_copying(self, fields: dict[str, Any]) -> None:
        lead = Lead(**fields)
        assert pickle.loads(pickle.dumps(lead)) == lead
        assert copy.copy(lead) == lead
        assert copy.deepcopy(lead) == lead


class TestVersion:
    def test_a_lead_starts_at_version_0(self) -> None:
        assert make_lead().version == 0
        assert Lead(1, "ACME", 1, 144, 0, AT, AT).version == 0

    @pytest.mark.parametrize("version", [0, 1, 41, MAX_REVISION])
    def test_holds_a_version_from_0_to_max_revision(self, version: int) -> None:
        assert make_lead(version=version).version == version

    @pytest.mark.parametrize(
        ("version", "shown"),
        [(-1, "-1"), (MAX_REVISION + 1, "9007199254740992"), (-(2**64), "-18446744073709551616")],
    )
    def test_a_version_out_of_range_is_refused(self, version: int, shown: str) -> None:
        match = f"^a lead's version is a whole number from 0 to 9007199254740991, got {shown}$"
        with pytest.raises(InvalidVersion, match=match) as info:
            make_lead(version=version)
        assert info.value.version == version
        assert info.value.code == "invalid_version"
        assert isinstance(info.value, RuleViolation)

    @pytest.mark.parametrize("version", [True, False, 1.0, "1", None])
    def test_a_version_that_is_not_an_int_is_a_type_error(self, version: object) -> None:
        match = f"^a lead's version must be an int, got {type(version).__name__}$"
        with pytest.raises(TypeError, match=match):
            make_lead(version=version)

    def test_evolve_checks_the_version_like_the_constructor(self) -> None:
        lead = make_lead(version=3)
        assert attrs.evolve(lead, version=4).version == 4
        with pytest.raises(InvalidVersion):
            attrs.evolve(lead, version=-1)
        assert lead.version == 3

    def test_two_leads_that_differ_only_in_version_are_equal_with_equal_hashes(self) -> None:
        # A lead moved away and back is the lead it was; only its version tells it changed.
        assert make_lead(version=5) == make_lead()
        assert hash(make_lead(version=5)) == hash(make_lead())
        assert len({make_lead(), make_lead(version=1), make_lead(version=2)}) == 1

    def test_repr_pickling_and_copies_keep_the_version(self) -> None:
        lead = make_lead(version=7)
        assert repr(lead).endswith(", loss_reason_id=None, version=7)")
        for restored in (
            eval(repr(lead), NAMESPACE),
            pickle.loads(pickle.dumps(lead)),
            copy.copy(lead),
            copy.deepcopy(lead),
        ):
            assert restored.version == 7

    def test_the_codec_writes_and_reads_the_version(self) -> None:
        document = dump(make_lead(version=7))
        assert isinstance(document, dict)
        assert document["version"] == 7
        assert load(Lead, document).version == 7

    def test_a_document_written_before_versions_loads_at_version_0(self) -> None:
        document = dump(make_lead(version=7))
        assert isinstance(document, dict)
        del document["version"]
        assert "version" in ADDED_LATER[Lead]
        assert load(Lead, document).version == 0
        assert load(Lead, document) == make_lead()

    def test_a_workspace_written_before_versions_loads_its_leads_at_version_0(self) -> None:
        workspace = Workspace(
            pipelines=(default_pipeline(),),
            main_pipeline_id=1,
            leads=[make_lead(version=3), make_lead(id=2, version=9)],
        )
        document = dump(workspace)
        assert isinstance(document, dict)
        for lead in document["leads"]:
            del lead["version"]
        loaded = load(Workspace, document)
        assert loaded == workspace
        assert [lead.version for lead in loaded.leads.values()] == [0, 0]


class TestLossReason:
    def test_holds_an_id_and_a_name(self) -> None:
        reason = LossReason(id=3, name="Too expensive")
        assert (reason.id, reason.name) == (3, "Too expensive")
        assert LossReason(3, "Too expensive") == reason
        assert [field.name for field in attrs.fields(LossReason)] == ["id", "name"]

    def test_strips_the_name(self) -> None:
        assert LossReason(1, "  No budget\t").name == "No budget"

    @pytest.mark.parametrize("name", ["", "  ", "a\nb", "x" * (MAX_NAME_LENGTH + 1)])
    def test_an_invalid_name_is_refused(self, name: str) -> None:
        with pytest.raises(InvalidName, match=f"^invalid name {re.escape(repr(name))}"):
            LossReason(1, name)

    @pytest.mark.parametrize("reason_id", [0, -3])
    def test_a_non_positive_id_is_refused(self, reason_id: int) -> None:
        with pytest.raises(
            InvalidId, match=f"^loss reason ids are positive integers, got {reason_id}$"
        ) as info:
            LossReason(reason_id, "Too expensive")
        assert info.value.what == "loss reason"
        assert info.value.value == reason_id

    @pytest.mark.parametrize("reason_id", [True, 1.0, "1", None], ids=repr)
    def test_an_id_that_is_not_an_int_is_a_type_error(self, reason_id: object) -> None:
        with pytest.raises(TypeError, match="a loss reason id must be an int"):
            LossReason(reason_id, "Too expensive")  # type: ignore[arg-type]  # under test

    def test_a_name_that_is_not_a_str_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="a name must be a str"):
            LossReason(1, 7)  # type: ignore[arg-type]  # what is under test

    def test_is_frozen(self) -> None:
        reason = LossReason(1, "Too expensive")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            reason.name = "Cheap"  # type: ignore[misc]  # what is under test
        assert reason.name == "Too expensive"

    def test_equality_and_hash_follow_the_fields(self) -> None:
        assert LossReason(1, " Late ") == LossReason(1, "Late")
        assert hash(LossReason(1, " Late ")) == hash(LossReason(1, "Late"))
        assert LossReason(1, "Late") != LossReason(2, "Late")
        assert LossReason(1, "Late") != LossReason(1, "late")

    def test_repr_evaluates_to_an_equal_reason(self) -> None:
        reason = LossReason(12, 'It\'s "too" expensive')
        assert repr(LossReason(1, "Late")) == "LossReason(id=1, name='Late')"
        assert eval(repr(reason), NAMESPACE) == reason

    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    def test_pickles_to_an_equal_reason(self, protocol: int) -> None:
        reason = LossReason(12, "Too expensive")
        assert pickle.loads(pickle.dumps(reason, protocol=protocol)) == reason
