"""The Digital Pipeline's values: Trigger, MoveTo, HostAction and its frozen params, Automation."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    Automation,
    HostAction,
    InvalidDelay,
    InvalidId,
    InvalidName,
    InvalidPrice,
    InvalidPriceRange,
    InvalidStageId,
    InvalidTarget,
    MoveTo,
    Trigger,
)
from pipekit.automation import MAX_PARAMS_DEPTH, FrozenList, FrozenMapping, freeze_json
from pipekit.bounds import MAX_SAFE_INTEGER
from tests.profiles import COSTLY, MODERATE

# Any JSON object pipekit holds: finite numbers, strings, nested arrays and objects.
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=15,
)
JSON_OBJECTS = st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=5)


def nested(depth: int) -> dict[str, Any]:
    """An object *depth* levels deep: {"a": {"a": ... {}}}."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def an_automation(**changes: Any) -> Automation:
    fields: dict[str, Any] = {
        "id": 1,
        "pipeline_id": 1,
        "stage_ids": (144, 145),
        "trigger": Trigger.ENTERED,
        "action": MoveTo(146),
    }
    fields.update(changes)
    return Automation(**fields)


class TestTrigger:
    def test_values_are_lower_case_strings(self) -> None:
        assert [trigger.value for trigger in Trigger] == ["entered", "created", "moved_in", "left"]

    def test_repr_is_valid_python(self) -> None:
        assert repr(Trigger.MOVED_IN) == "Trigger.MOVED_IN"
        assert eval(repr(Trigger.LEFT)) is Trigger.LEFT


class TestFrozenParams:
    @COSTLY
    @given(JSON_OBJECTS)
    def test_equal_to_the_dict_it_came_from_both_ways(self, params: dict[str, Any]) -> None:
        frozen = freeze_json(params)
        assert frozen == params
        assert params == frozen
        assert frozen == freeze_json(copy.deepcopy(params))

    @MODERATE
    @given(JSON_OBJECTS)
    def test_hashable_and_equal_ones_hash_alike(self, params: dict[str, Any]) -> None:
        assert hash(freeze_json(params)) == hash(freeze_json(copy.deepcopy(params)))

    def test_nested_lists_and_dicts_are_frozen_and_compare_equal(self) -> None:
        frozen = freeze_json({"to": ["a@example.com", {"cc": [1, 2]}]})
        to = frozen["to"]
        assert isinstance(to, FrozenList)
        assert isinstance(to, Sequence)
        assert to == ["a@example.com", {"cc": [1, 2]}]
        assert isinstance(to[1], FrozenMapping)
        assert to[1]["cc"] == [1, 2]
        assert to[0:1] == ["a@example.com"]
        assert isinstance(to[0:1], FrozenList)
        assert len(to) == 2

    def test_a_tuple_becomes_a_frozen_list(self) -> None:
        assert freeze_json({"sizes": (1, 2)}) == {"sizes": [1, 2]}

    def test_a_frozen_list_is_not_equal_to_a_tuple_or_other_things(self) -> None:
        frozen = FrozenList([1, 2])
        assert frozen != (1, 2)
        assert frozen != [1, 2, 3]
        assert frozen != [1, 3]
        assert frozen == FrozenList([1, 2])
        assert FrozenMapping({"a": 1}) != [("a", 1)]

    def test_cannot_be_changed(self) -> None:
        frozen = freeze_json({"a": [1]})
        with pytest.raises(TypeError):
            frozen["a"] = 2  # type: ignore[index]  # read-only on purpose
        with pytest.raises(AttributeError, match="cannot be changed"):
            frozen._items = {}  # the attribute is guarded too
        with pytest.raises(AttributeError, match="cannot be changed"):
            frozen["a"]._items = ()

    def test_a_changed_source_does_not_change_it(self) -> None:
        source: dict[str, Any] = {"a": [1], "b": {"c": 1}}
        frozen = freeze_json(source)
        source["a"].append(2)
        source["b"]["c"] = 2
        source["d"] = 3
        assert frozen == {"a": [1], "b": {"c": 1}}

    def test_a_frozen_value_is_kept_as_it_is(self) -> None:
        frozen = freeze_json({"a": 1})
        assert freeze_json(frozen) is frozen
        again = FrozenMapping({"nested": frozen, "list": FrozenList([frozen])})
        assert again["nested"] is frozen
        assert again == {"nested": {"a": 1}, "list": [{"a": 1}]}

    @pytest.mark.parametrize(
        "value",
        [
            {1, 2},
            b"bytes",
            datetime(2026, 1, 1, tzinfo=UTC),
            math.nan,
            math.inf,
            -math.inf,
            object(),
            {1: "a non-str key"},
            [{"deep": {2}}],
        ],
        ids=repr,
    )
    def test_a_non_json_value_is_a_type_error(self, value: object) -> None:
        with pytest.raises(TypeError, match="params"):
            freeze_json({"value": value})

    @pytest.mark.parametrize("value", [2**53, -(2**53), 10**4300 - 1, [1, {"n": 2**64}]], ids=str)
    def test_an_integer_a_json_reader_cannot_hold_is_a_value_error(self, value: object) -> None:
        # A host's JSON library, like JavaScript's, reads larger integers inexactly, and
        # Python's json refuses to write one of more than 4,300 digits.
        with pytest.raises(ValueError, match=r"params hold the integer .* outside"):
            freeze_json({"value": value})

    def test_the_safe_integers_at_either_end_are_kept(self) -> None:
        edges = {"low": -(2**53 - 1), "high": 2**53 - 1}
        assert freeze_json(edges) == edges

    def test_a_non_str_key_at_the_top_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="keys must be strings"):
            freeze_json({1: "one"})  # type: ignore[dict-item]  # what the check is for

    @pytest.mark.parametrize("value", [[("a", 1)], "text", None, 7])
    def test_params_that_are_not_a_mapping_are_a_type_error(self, value: Any) -> None:
        with pytest.raises(TypeError, match="params must be a mapping"):
            freeze_json(value)
        with pytest.raises(TypeError, match="params must be a mapping"):
            HostAction("webhook", value)

    def test_a_frozen_mapping_of_a_non_mapping_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="params must be a mapping, got list"):
            FrozenMapping([("a", 1)])  # type: ignore[arg-type]  # what the check is for

    def test_nesting_up_to_the_limit_is_fine_and_deeper_is_a_type_error(self) -> None:
        assert freeze_json(nested(MAX_PARAMS_DEPTH)) == nested(MAX_PARAMS_DEPTH)
        with pytest.raises(TypeError, match="deeper than 32 levels"):
            freeze_json(nested(MAX_PARAMS_DEPTH + 1))
        deep_list: list[Any] = []  # with the mapping around it: the limit, exactly
        for _ in range(MAX_PARAMS_DEPTH - 2):
            deep_list = [deep_list]
        assert freeze_json({"a": deep_list}) == {"a": deep_list}
        with pytest.raises(TypeError, match="deeper than 32 levels"):
            freeze_json({"a": [deep_list]})

    def test_frozen_parts_count_toward_the_depth_where_they_are_put(self) -> None:
        part = freeze_json(nested(MAX_PARAMS_DEPTH))
        with pytest.raises(TypeError, match="deeper than 32 levels"):
            freeze_json({"a": part})
        with pytest.raises(TypeError, match="deeper than 32 levels"):
            freeze_json({"a": FrozenList([nested(MAX_PARAMS_DEPTH - 1)])})

    def test_a_cycle_is_a_type_error_not_a_recursion_error(self) -> None:
        looped: dict[str, Any] = {}
        looped["self"] = looped
        with pytest.raises(TypeError, match="deeper than"):
            freeze_json(looped)

    def test_10000_deep_nesting_is_a_type_error_not_a_recursion_error(self) -> None:
        with pytest.raises(TypeError, match="deeper than"):
            freeze_json(nested(10_000))

    @MODERATE
    @given(JSON_OBJECTS)
    def test_pickles_and_copies(self, params: dict[str, Any]) -> None:
        frozen = freeze_json(params)
        for again in (pickle.loads(pickle.dumps(frozen)), copy.copy(frozen), copy.deepcopy(frozen)):
            assert again == frozen
            assert type(again) is FrozenMapping

    def test_repr_is_valid_python(self) -> None:
        frozen = freeze_json({"to": ["a@b.c"], "n": {"x": 1.5}})
        expected = "FrozenMapping({'to': FrozenList(['a@b.c']), 'n': FrozenMapping({'x': 1.5})})"
        assert repr(frozen) == expected
        assert eval(repr(frozen)) == frozen

    def test_empty_by_default(self) -> None:
        assert FrozenMapping() == {}
        assert FrozenList() == []
        assert HostAction("webhook").params == {}


class TestMoveTo:
    def test_defaults_to_the_automations_pipeline(self) -> None:
        assert MoveTo(145) == MoveTo(stage_id=145, pipeline_id=None)

    def test_repr_is_valid_python(self) -> None:
        move = MoveTo(145, pipeline_id=2)
        assert repr(move) == "MoveTo(stage_id=145, pipeline_id=2)"
        assert eval(repr(move)) == move

    def test_ids_are_positive(self) -> None:
        with pytest.raises(InvalidStageId, match="positive"):
            MoveTo(0)
        with pytest.raises(InvalidId, match="pipeline ids are positive"):
            MoveTo(145, pipeline_id=-1)

    @pytest.mark.parametrize(
        "fields", [{"stage_id": "145"}, {"stage_id": 145, "pipeline_id": True}]
    )
    def test_wrong_types_are_type_errors(self, fields: dict[str, Any]) -> None:
        with pytest.raises(TypeError):
            MoveTo(**fields)

    def test_frozen(self) -> None:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            MoveTo(145).stage_id = 146  # type: ignore[misc]  # frozen on purpose


class TestHostAction:
    def test_params_accept_a_dict_and_compare_equal_to_it(self) -> None:
        action = HostAction("send_email", {"template": "welcome"})
        assert action.params == {"template": "welcome"}
        assert isinstance(action.params, Mapping)
        assert action == HostAction("send_email", FrozenMapping({"template": "welcome"}))
        assert hash(action) == hash(HostAction("send_email", {"template": "welcome"}))

    def test_kind_is_stripped_like_a_name(self) -> None:
        assert HostAction(" webhook ").kind == "webhook"

    @pytest.mark.parametrize("kind", ["", "   ", "send\nemail", "x" * 256])
    def test_an_empty_or_invalid_kind_is_invalid_name(self, kind: str) -> None:
        with pytest.raises(InvalidName):
            HostAction(kind)

    def test_a_kind_that_is_not_a_str_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="must be a str"):
            HostAction(7)  # type: ignore[arg-type]  # what the check is for

    def test_repr_is_valid_python(self) -> None:
        action = HostAction("webhook", {"url": "https://example.com", "retries": [1, 5]})
        assert eval(repr(action)) == action

    def test_pickles(self) -> None:
        action = HostAction("webhook", {"headers": {"X-Token": "abc"}})
        again = pickle.loads(pickle.dumps(action))
        assert again == action
        assert again.params["headers"] == {"X-Token": "abc"}


class TestAutomation:
    def test_defaults(self) -> None:
        automation = an_automation()
        assert automation.delay == timedelta(0)
        assert (automation.min_price, automation.max_price) == (None, None)
        assert automation.enabled is True

    def test_stage_ids_given_as_a_list_are_kept_as_a_tuple(self) -> None:
        assert an_automation(stage_ids=[145, 144]).stage_ids == (145, 144)

    def test_target_of_a_move_is_its_pipeline_and_stage(self) -> None:
        assert an_automation().target == (1, 146)
        assert an_automation(action=MoveTo(150, pipeline_id=2)).target == (2, 150)
        assert an_automation(action=HostAction("webhook")).target is None

    def test_repr_is_valid_python(self) -> None:
        automation = an_automation(
            action=HostAction("send_email", {"to": ["a@b.c"]}), delay=timedelta(minutes=5)
        )
        namespace = {
            "Automation": Automation,
            "Trigger": Trigger,
            "HostAction": HostAction,
            "FrozenMapping": FrozenMapping,
            "FrozenList": FrozenList,
            "datetime": __import__("datetime"),
        }
        assert eval(repr(automation), namespace) == automation

    def test_hashable_and_pickles(self) -> None:
        automation = an_automation(action=HostAction("webhook", {"a": [1]}), min_price=5)
        assert hash(automation) == hash(copy.deepcopy(automation))
        assert pickle.loads(pickle.dumps(automation)) == automation

    def test_a_negative_delay_is_invalid_delay(self) -> None:
        with pytest.raises(InvalidDelay, match="at least 0, got -1 seconds") as caught:
            an_automation(delay=timedelta(seconds=-1))
        assert caught.value.delay == timedelta(seconds=-1)

    def test_min_price_above_max_price_is_invalid_price_range(self) -> None:
        with pytest.raises(InvalidPriceRange, match="min_price 500 is above max_price 100"):
            an_automation(min_price=500, max_price=100)
        assert an_automation(min_price=100, max_price=100).min_price == 100

    def test_a_negative_price_bound_is_invalid_price(self) -> None:
        with pytest.raises(InvalidPrice):
            an_automation(min_price=-1)
        with pytest.raises(InvalidPrice):
            an_automation(max_price=-1)

    def test_no_stage_is_invalid_target(self) -> None:
        with pytest.raises(InvalidTarget, match="watches at least one stage"):
            an_automation(stage_ids=())

    def test_a_stage_watched_twice_is_invalid_target(self) -> None:
        with pytest.raises(InvalidTarget, match="watches stage 144 only once") as caught:
            an_automation(stage_ids=(144, 145, 144))
        assert caught.value.stage_id == 144

    def test_ids_are_positive(self) -> None:
        with pytest.raises(InvalidId, match="automation ids"):
            an_automation(id=0)
        with pytest.raises(InvalidId, match="pipeline ids"):
            an_automation(pipeline_id=0)

    @pytest.mark.parametrize(
        "changes",
        [
            {"id": "1"},
            {"pipeline_id": 1.0},
            {"stage_ids": "144"},
            {"stage_ids": 144},
            {"stage_ids": (144, "145")},
            {"stage_ids": (True,)},
            {"trigger": "entered"},
            {"action": 146},
            {"delay": 0},
            {"min_price": "5"},
            {"max_price": 5.0},
            {"enabled": 1},
        ],
        ids=repr,
    )
    def test_wrong_types_are_type_errors(self, changes: dict[str, Any]) -> None:
        with pytest.raises(TypeError):
            an_automation(**changes)

    def test_frozen(self) -> None:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            an_automation().enabled = False  # type: ignore[misc]  # frozen on purpose
