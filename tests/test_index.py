"""PersistentIndex: a persistent ``Mapping[int, V]``, held to the laws of a plain dict.

Every property runs the index beside a ``dict`` that sees the same changes. Keys
come from a small range (many share low bits, so nodes split deep), a large one,
negatives, values up to and beyond ``2**64``, and keys built to share their low
35 bits (so two of them only part seven levels down the trie).
"""

from __future__ import annotations

import copy
import datetime
import operator
import pickle
import re
import types
from collections.abc import Iterable, Mapping
from typing import TypeAlias

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from pipekit._containers import PersistentIndex
from tests.profiles import COSTLY, LIGHT, MODERATE, machine_runs


@attrs.frozen
class Item:
    """A small frozen value that carries its own key, as a lead carries its id."""

    id: int
    tag: int = 0


NAMESPACE = {"Item": Item}
by_id = operator.attrgetter("id")
MISSING = object()

ItemIndex: TypeAlias = PersistentIndex[Item]


def item_index(values: Iterable[Item] = ()) -> ItemIndex:
    """An index of items keyed by ``id``, built in one go."""
    return PersistentIndex(by_id, iter(values))


def int_index(values: Iterable[int] = ()) -> PersistentIndex[int]:
    """An index of ints keyed by themselves (a set of ids), built in one go."""
    return PersistentIndex(values=iter(values))


# -- strategies ---------------------------------------------------------------------


def index_keys() -> st.SearchStrategy[int]:
    """Keys from every range the index must handle."""
    return st.one_of(
        st.integers(0, 40),
        st.integers(0, 2**20),
        st.integers(-40, -1),
        st.integers(-(2**64), 2**64),
        # Equal in their low 35 bits: a pair of these splits only at depth 7.
        st.builds(lambda high, low: (high << 35) | low, st.integers(-3, 3), st.integers(0, 3)),
        st.sampled_from([0, -1, 31, 32, 33, 1023, 1024, 2**64 - 1, 2**64, -(2**64)]),
    )


@attrs.frozen
class Put:
    item: Item

    def apply(self, index: ItemIndex, model: dict[int, Item]) -> ItemIndex:
        model[self.item.id] = self.item
        return index.with_value(self.item)


@attrs.frozen
class Remove:
    key: int

    def apply(self, index: ItemIndex, model: dict[int, Item]) -> ItemIndex:
        model.pop(self.key, None)
        return index.without(self.key)


Operation: TypeAlias = Put | Remove


@st.composite
def index_operations(draw: st.DrawFn, max_size: int = 40) -> list[Operation]:
    """Puts and removes, mostly on a small pool of keys so that they meet again."""
    pool = draw(st.lists(index_keys(), min_size=1, max_size=12, unique=True), label="pool")
    keys = st.sampled_from(pool) | st.sampled_from(pool) | index_keys()
    items = st.builds(Item, keys, st.integers(0, 3))
    operations = st.one_of(st.builds(Put, items), st.builds(Remove, keys))
    return draw(st.lists(operations, max_size=max_size))


def index_items(max_size: int = 40) -> st.SearchStrategy[list[Item]]:
    """Items with distinct keys."""
    return st.lists(
        st.builds(Item, index_keys(), st.integers(0, 3)), max_size=max_size, unique_by=by_id
    )


# -- helpers ------------------------------------------------------------------------


def run(operations: Iterable[Operation]) -> tuple[ItemIndex, dict[int, Item]]:
    index = item_index()
    model: dict[int, Item] = {}
    for operation in operations:
        index = operation.apply(index, model)
    return index, model


def mentioned_keys(operations: Iterable[Operation]) -> set[int]:
    return {op.item.id if isinstance(op, Put) else op.key for op in operations}


def assert_matches(index: ItemIndex, model: dict[int, Item], probes: Iterable[int] = ()) -> None:
    """Assert that *index* reads exactly like *model*, for its keys and any *probes*."""
    assert len(index) == len(model)
    keys = list(index)
    assert len(keys) == len(model), "iteration gives each key once"
    assert set(keys) == set(model)
    assert index.keys() == model.keys()
    for key, value in model.items():
        assert key in index
        assert index[key] is value
        assert index.get(key) is value
        assert index.get(key, MISSING) is value
    for key in set(probes) - set(model):
        assert key not in index
        assert index.get(key) is None
        assert index.get(key, MISSING) is MISSING
        with pytest.raises(KeyError, match=f"^{re.escape(str(key))}$") as info:
            index[key]
        assert info.value.args == (key,)
    values = list(index.values())
    assert len(values) == len(model)
    assert sorted(values, key=by_id) == sorted(model.values(), key=by_id)
    assert sorted(index.iter_values(), key=by_id) == sorted(model.values(), key=by_id)
    items = list(index.items())
    assert len(items) == len(model)
    assert set(items) == set(model.items())
    assert all(item in index.items() for item in model.items())
    assert dict(index) == model


# -- the laws -----------------------------------------------------------------------


class TestReadsLikeADict:
    @MODERATE
    @given(index_operations())
    def test_after_any_operations_it_reads_like_the_dict(self, operations: list[Operation]) -> None:
        index, model = run(operations)
        assert_matches(index, model, mentioned_keys(operations) | {0, -1, 2**64 + 1})

    @MODERATE
    @given(index_items())
    def test_built_in_one_go_it_reads_like_the_dict(self, items: list[Item]) -> None:
        model = {item.id: item for item in items}
        assert_matches(item_index(items), model, {0, 1, -1, 2**64, 2**70})

    @MODERATE
    @given(st.lists(st.tuples(st.booleans(), index_keys()), max_size=40))
    def test_a_set_of_ints_keyed_by_themselves(self, changes: list[tuple[bool, int]]) -> None:
        index: PersistentIndex[int] = PersistentIndex()
        model: dict[int, int] = {}
        for add, key in changes:
            if add:
                index, model[key] = index.with_value(key), key
            else:
                index = index.without(key)
                model.pop(key, None)
        assert dict(index) == model
        assert sorted(index) == sorted(model)
        assert sorted(index.values()) == sorted(model)
        assert index._root == int_index(model)._root
        for _, key in changes:
            assert (key in index) == (key in model)
            assert index.get(key) == model.get(key)

    def test_an_empty_index_reads_like_an_empty_dict(self) -> None:
        index: PersistentIndex[int] = PersistentIndex()
        assert len(index) == 0
        assert list(index) == []
        assert list(index.values()) == []
        assert list(index.items()) == []
        assert index.get(0) is None
        assert 0 not in index
        with pytest.raises(KeyError, match=r"^0$"):
            index[0]

    @pytest.mark.parametrize("key", ["1", None, b"\x01", object()], ids=repr)
    def test_a_key_that_is_not_an_int_is_not_in_it(self, key: object) -> None:
        index = int_index([1])
        assert key not in index
        assert key not in {1: 1}

    def test_values_carry_their_own_key(self) -> None:
        index = item_index([Item(7, 1), Item(2**40 + 7, 2)])
        assert index[7] == Item(7, 1)
        assert index[2**40 + 7] == Item(2**40 + 7, 2)
        assert sorted(index) == [7, 2**40 + 7]

    def test_is_a_mapping(self) -> None:
        assert isinstance(item_index(), Mapping)


class TestKey:
    def test_is_the_function_it_was_given_and_copies_keep_it(self) -> None:
        index = item_index([Item(1)])
        assert index.key is by_id
        assert index.with_value(Item(2)).key is by_id
        assert index.without(1).key is by_id

    def test_keys_values_by_themselves_when_none_is_given(self) -> None:
        index = int_index([5])
        assert index.key(7) == 7
        assert index.with_value(6).key is index.key


class TestWithValue:
    def test_adds_a_value(self) -> None:
        index = item_index([Item(1)]).with_value(Item(33))
        assert dict(index) == {1: Item(1), 33: Item(33)}

    def test_replaces_the_value_with_the_same_key(self) -> None:
        index = item_index([Item(1), Item(2)]).with_value(Item(1, tag=9))
        assert len(index) == 2
        assert index[1] == Item(1, tag=9)

    @LIGHT
    @given(index_items(), st.builds(Item, index_keys(), st.integers(0, 3)))
    def test_leaves_the_original_unchanged(self, items: list[Item], item: Item) -> None:
        index = item_index(items)
        before = {value.id: value for value in items}
        changed = index.with_value(item)
        assert changed is not index
        assert_matches(index, before, {item.id})
        assert_matches(changed, {**before, item.id: item}, {item.id})

    @LIGHT
    @given(index_items())
    def test_counts_only_new_keys(self, items: list[Item]) -> None:
        index = item_index()
        for count, item in enumerate(items, start=1):
            index = index.with_value(item)
            assert len(index) == count
            index = index.with_value(Item(item.id, tag=item.tag + 1))
            assert len(index) == count


class TestWithout:
    def test_removes_a_value(self) -> None:
        index = item_index([Item(1), Item(33), Item(65)]).without(33)
        assert dict(index) == {1: Item(1), 65: Item(65)}

    @LIGHT
    @given(index_items(), index_keys())
    def test_returns_the_same_index_when_the_key_is_absent(
        self, items: list[Item], key: int
    ) -> None:
        index = item_index(item for item in items if item.id != key)
        assert index.without(key) is index

    @LIGHT
    @given(index_items(), st.data())
    def test_leaves_the_original_unchanged(self, items: list[Item], data: st.DataObject) -> None:
        index = item_index(items)
        before = {item.id: item for item in items}
        for item in data.draw(st.permutations(items)):
            changed = index.without(item.id)
            assert item.id not in changed
            assert len(changed) == len(index) - 1
            assert_matches(index, before, {item.id})
            index = changed
            del before[item.id]
        assert len(index) == 0


class TestPersistence:
    @COSTLY
    @given(index_operations())
    def test_every_earlier_index_keeps_its_content(self, operations: list[Operation]) -> None:
        index = item_index()
        model: dict[int, Item] = {}
        history: list[tuple[ItemIndex, dict[int, Item]]] = []
        for operation in operations:
            history.append((index, dict(model)))
            index = operation.apply(index, model)
        probes = mentioned_keys(operations)
        for earlier, snapshot in history:
            assert_matches(earlier, snapshot, probes)


class TestCanonicalShape:
    """The trie's shape depends only on the set of keys, never on the order of changes."""

    @COSTLY
    @given(index_operations())
    def test_any_operations_give_the_shape_of_a_bulk_build(
        self, operations: list[Operation]
    ) -> None:
        index, model = run(operations)
        assert index._root == item_index(model.values())._root

    @MODERATE
    @given(index_items(), st.data())
    def test_any_insertion_order_gives_the_same_shape(
        self, items: list[Item], data: st.DataObject
    ) -> None:
        index = item_index()
        for item in data.draw(st.permutations(items), label="order"):
            index = index.with_value(item)
        assert index._root == item_index(items)._root

    @MODERATE
    @given(index_items(), index_items())
    def test_removing_keys_gives_the_shape_of_an_index_without_them(
        self, kept: list[Item], removed: list[Item]
    ) -> None:
        kept_ids = {item.id for item in kept}
        removed = [item for item in removed if item.id not in kept_ids]
        index = item_index([*removed, *kept])
        for item in removed:
            index = index.without(item.id)
        assert index._root == item_index(kept)._root

    @MODERATE
    @given(index_items())
    def test_removing_every_key_gives_the_empty_shape(self, items: list[Item]) -> None:
        index = item_index(items)
        for item in items:
            index = index.without(item.id)
        assert index._root == item_index()._root

    def test_keys_that_share_their_low_bits_lift_back_up(self) -> None:
        # 0 and 2**35 share 35 low bits: together they sit seven levels down.
        deep = item_index([Item(0), Item(2**35)])
        assert deep._root != item_index([Item(0)])._root
        assert deep.without(2**35)._root == item_index([Item(0)])._root
        assert deep.without(0)._root == item_index([Item(2**35)])._root


class TestBulkConstructor:
    @LIGHT
    @given(st.lists(st.builds(Item, st.integers(-5, 5), st.integers(0, 9)), max_size=30))
    def test_keeps_the_last_value_for_a_duplicate_key(self, items: list[Item]) -> None:
        index = item_index(items)
        assert dict(index) == {item.id: item for item in items}
        one_by_one = item_index()
        for item in items:
            one_by_one = one_by_one.with_value(item)
        assert index == one_by_one

    def test_the_last_of_two_values_wins(self) -> None:
        index = item_index([Item(1, tag=1), Item(2), Item(1, tag=2)])
        assert len(index) == 2
        assert index[1] == Item(1, tag=2)

    def test_without_values_builds_an_empty_index(self) -> None:
        assert len(PersistentIndex(by_id)) == 0
        assert len(int_index()) == 0
        assert PersistentIndex(by_id, None) == {}

    def test_takes_a_generator(self) -> None:
        assert int_index(key * 3 for key in range(5)) == {0: 0, 3: 3, 6: 6, 9: 9, 12: 12}


Pair: TypeAlias = tuple[int, str]


class TestRefusesTuples:
    """Inner nodes are tuples, so a tuple value would be read as a node."""

    def test_with_value_refuses_a_tuple(self) -> None:
        index: PersistentIndex[Pair] = PersistentIndex(operator.itemgetter(0))
        with pytest.raises(TypeError, match="a PersistentIndex cannot hold tuples"):
            index.with_value((5, "five"))
        assert len(index) == 0

    def test_the_constructor_refuses_a_tuple(self) -> None:
        with pytest.raises(TypeError, match="a PersistentIndex cannot hold tuples"):
            PersistentIndex(operator.itemgetter(0), iter([(5, "five")]))

    def test_the_constructor_refuses_a_tuple_among_other_values(self) -> None:
        values: list[object] = [Item(1), Item(2), (3, "three"), Item(4)]

        def key(value: object) -> int:
            if isinstance(value, tuple):
                return int(value[0])
            assert isinstance(value, Item)
            return value.id

        with pytest.raises(TypeError, match="a PersistentIndex cannot hold tuples"):
            PersistentIndex(key, iter(values))


class TestEquality:
    @MODERATE
    @given(index_operations())
    def test_equals_the_dict_with_the_same_items(self, operations: list[Operation]) -> None:
        index, model = run(operations)
        assert index == index
        assert index == model
        assert model == index
        assert not index != model  # noqa: SIM202 -- the != operator is what is under test
        assert index == types.MappingProxyType(model)
        assert index == item_index(model.values())

    @LIGHT
    @given(index_items(max_size=20), st.builds(Item, index_keys()))
    def test_differs_from_a_mapping_with_one_more_key(self, items: list[Item], extra: Item) -> None:
        index = item_index(item for item in items if item.id != extra.id)
        bigger = {**dict(index), extra.id: extra}
        assert index != bigger
        assert bigger != index
        assert index != item_index(bigger.values())

    @LIGHT
    @given(index_items(max_size=20).filter(bool), st.data())
    def test_differs_from_a_mapping_with_another_value(
        self, items: list[Item], data: st.DataObject
    ) -> None:
        index = item_index(items)
        changed = data.draw(st.sampled_from(items))
        other = {**dict(index), changed.id: Item(changed.id, changed.tag + 1)}
        assert index != other
        assert other != index
        assert index != item_index(other.values())

    @LIGHT
    @given(index_items(max_size=20).filter(bool), st.data())
    def test_differs_from_a_mapping_with_another_key(
        self, items: list[Item], data: st.DataObject
    ) -> None:
        index = item_index(items)
        gone = data.draw(st.sampled_from(items))
        new_id = max(index) + 1
        other = {**{k: v for k, v in index.items() if k != gone.id}, new_id: gone}
        assert len(other) == len(index)
        assert index != other

    @pytest.mark.parametrize(
        "other", [[], (), set(), frozenset(), "", 0, None], ids=lambda other: repr(other)
    )
    def test_an_empty_index_differs_from_a_non_mapping(self, other: object) -> None:
        assert item_index() != other
        assert item_index() == {}

    def test_differs_from_non_mappings_with_the_same_content(self) -> None:
        index = int_index([1, 2])
        for other in ([1, 2], {1, 2}, [(1, 1), (2, 2)], (1, 2), "12", 2):
            assert index != other

    @MODERATE
    @given(index_items(), st.data())
    def test_equal_indexes_have_equal_hashes(self, items: list[Item], data: st.DataObject) -> None:
        first = item_index(items)
        second = item_index()
        for item in data.draw(st.permutations(items), label="order"):
            second = second.with_value(Item(item.id, item.tag + 1)).with_value(item)
        assert first == second
        assert first is not second
        assert hash(first) == hash(second)
        assert {first: "found"}[second] == "found"

    def test_equal_int_indexes_have_equal_hashes(self) -> None:
        first = int_index([1, 2**64, -3])
        second = int_index([-3, 2**64]).with_value(1)
        assert hash(first) == hash(second)
        assert len({first, second, int_index([1, 2**64, -3, 4]).without(4)}) == 1


class TestRepr:
    @LIGHT
    @given(st.lists(index_keys(), max_size=30))
    def test_is_the_dict_in_key_order(self, keys: list[int]) -> None:
        index = int_index(keys)
        assert repr(index) == repr({key: key for key in sorted(set(keys))})

    @LIGHT
    @given(st.lists(index_keys(), max_size=30))
    def test_evaluates_to_an_equal_index_for_int_values(self, keys: list[int]) -> None:
        index = int_index(keys)
        assert eval(repr(index)) == index

    @COSTLY
    @given(index_operations())
    def test_evaluates_to_an_equal_index_for_values_with_a_valid_repr(
        self, operations: list[Operation]
    ) -> None:
        index, _ = run(operations)
        assert eval(repr(index), NAMESPACE) == index

    def test_examples(self) -> None:
        assert repr(int_index()) == "{}"
        assert repr(int_index([33, -1, 2])) == "{-1: -1, 2: 2, 33: 33}"
        assert repr(item_index([Item(2, 1)])) == "{2: Item(id=2, tag=1)}"

    def test_shows_each_value_by_its_repr(self) -> None:
        # A date's str is not its repr: the text must stay valid Python.
        index = PersistentIndex(operator.attrgetter("day"), iter([datetime.date(2026, 11, 27)]))
        assert repr(index) == "{27: datetime.date(2026, 11, 27)}"
        assert eval(repr(index), {"datetime": datetime}) == index


class TestPickling:
    @pytest.mark.parametrize(
        "protocol",
        [
            *(
                pytest.param(
                    protocol,
                    marks=pytest.mark.xfail(
                        raises=TypeError,
                        reason="__slots__ without __getstate__: protocols 0 and 1 cannot pickle it",
                    ),
                )
                for protocol in (0, 1)
            ),
            *range(2, pickle.HIGHEST_PROTOCOL + 1),
        ],
    )
    def test_pickles_to_an_equal_index_that_still_changes(self, protocol: int) -> None:
        index = item_index([Item(key, key % 3) for key in range(-40, 200, 7)])
        restored = pickle.loads(pickle.dumps(index, protocol=protocol))
        assert restored == index
        assert restored._root == index._root
        assert restored.with_value(Item(1000)) == index.with_value(Item(1000))
        assert restored.without(-40) == index.without(-40)

    def test_copies_are_equal_and_still_change(self) -> None:
        index = item_index([Item(1), Item(33)])
        for copied in (copy.copy(index), copy.deepcopy(index)):
            assert copied == index
            assert copied.with_value(Item(65)) == index.with_value(Item(65))


# -- the stateful model -------------------------------------------------------------


class IndexMachine(RuleBasedStateMachine):
    """The index and a dict, changed side by side; every index ever made is kept."""

    keys: Bundle[int] = Bundle("keys")
    """The keys put so far, once per put: some were removed since, or put twice."""

    def __init__(self) -> None:
        super().__init__()
        self.index = item_index()
        self.model: dict[int, Item] = {}
        self.history: list[tuple[ItemIndex, dict[int, Item]]] = []
        self.probes: set[int] = {0, -1}

    def change(self, index: ItemIndex) -> None:
        self.history.append((self.index, dict(self.model)))
        self.index = index

    @rule(target=keys, key=index_keys(), tag=st.integers(0, 3))
    def put(self, key: int, tag: int) -> int:
        item = Item(key, tag)
        self.probes.add(key)
        expected = len(self.model) + (key not in self.model)
        self.change(self.index.with_value(item))
        self.model[key] = item
        assert len(self.index) == expected
        return key

    @rule(key=keys, tag=st.integers(0, 3))
    def replace(self, key: int, tag: int) -> None:
        # A key put before: still there, or removed since (then this puts it back).
        item = Item(key, tag)
        expected = len(self.model) + (key not in self.model)
        self.change(self.index.with_value(item))
        self.model[key] = item
        assert len(self.index) == expected

    @rule(key=consumes(keys))
    def remove_present(self, key: int) -> None:
        # Present unless it was put twice and is removed the second time, or removed by
        # remove_any since.
        before = self.index
        self.change(self.index.without(key))
        if self.model.pop(key, None) is None:
            assert self.index is before
        assert len(self.index) == len(self.model)

    @rule(key=index_keys())
    def remove_any(self, key: int) -> None:
        self.probes.add(key)
        before = self.index
        self.change(self.index.without(key))
        if self.model.pop(key, None) is None:
            assert self.index is before

    @invariant()
    def reads_like_the_dict(self) -> None:
        assert_matches(self.index, self.model, self.probes)

    @invariant()
    def equals_the_dict_and_a_bulk_build_of_the_same_shape(self) -> None:
        rebuilt = item_index(self.model.values())
        assert self.index == self.model
        assert self.index == rebuilt
        assert hash(self.index) == hash(rebuilt)
        assert self.index._root == rebuilt._root

    @invariant()
    def every_earlier_index_is_unchanged(self) -> None:
        for earlier, snapshot in self.history:
            assert len(earlier) == len(snapshot)
            assert dict(earlier) == snapshot


TestIndexMachine = IndexMachine.TestCase
TestIndexMachine.settings = machine_runs(8, 200, 2000)
