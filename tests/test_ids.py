"""IdTrie: a persistent map from ids to the values carrying them, held to a dict's laws.

Every change runs beside a ``dict``. Ids come mostly counting up, as a counter
hands them out, and also from below the highest (a replayed log may bring an old
one back), from far above it (a document with gaps), and across block and level
boundaries.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from pipekit._containers import IdTrie
from tests.profiles import LIGHT, machine_runs


@attrs.frozen
class Item:
    """A small frozen value that carries its own id, as a scheduled action does."""

    id: int
    tag: int = 0


ids = st.one_of(
    st.integers(0, 70),
    st.integers(0, 2000),
    st.sampled_from([31, 32, 33, 1023, 1024, 1025, 32767, 32768, 2**20]),
    st.integers(0, 2**70),
)


def reads(trie: IdTrie[Item], model: dict[int, Item], probes: list[int]) -> None:
    assert list(trie) == [model[key] for key in sorted(model)]
    for key in [*model, *probes]:
        assert trie.get(key) == model.get(key)


class IdTrieMachine(RuleBasedStateMachine):
    """A trie beside a dict: after every change, every read agrees, and old tries keep theirs."""

    keys: Bundle[int] = Bundle("keys")
    """The ids put so far, once per put: some were removed since, or put twice."""

    def __init__(self) -> None:
        super().__init__()
        self.trie: IdTrie[Item] = IdTrie()
        self.model: dict[int, Item] = {}
        self.history: list[tuple[IdTrie[Item], dict[int, Item]]] = []
        self.tag = 0

    def _put(self, key: int) -> int:
        self.tag += 1
        value = Item(key, self.tag)
        self.history.append((self.trie, dict(self.model)))
        self.trie = self.trie.with_value(value)
        self.model[key] = value
        return key

    @rule(target=keys, step=st.integers(1, 40))
    def add_the_next(self, step: int) -> int:
        return self._put(max(self.model, default=-1) + step)

    @rule(target=keys, key=ids)
    def add_any(self, key: int) -> int:
        return self._put(key)

    @rule(key=consumes(keys))
    def remove(self, key: int) -> None:
        # The same id may have been put twice and removed once already.
        self.history.append((self.trie, dict(self.model)))
        before = self.trie
        self.trie = self.trie.without(key)
        if self.model.pop(key, None) is None:
            assert self.trie is before

    @rule(key=ids)
    def remove_an_absent_id(self, key: int) -> None:
        if key not in self.model:
            assert self.trie.without(key) is self.trie

    @invariant()
    def reads_like_the_dict(self) -> None:
        reads(self.trie, self.model, [-1, 0, 31, 32, 1024, 2**70 + 1])

    @invariant()
    def equals_a_trie_built_at_once(self) -> None:
        reads(IdTrie(self.model.values()), self.model, [-1, 0, 32, 1024])

    def teardown(self) -> None:
        for trie, model in self.history:
            reads(trie, model, [])


TestIdTrieMachine = IdTrieMachine.TestCase
TestIdTrieMachine.settings = machine_runs(8, 200, 2000)


class TestBuiltAtOnce:
    @LIGHT
    @given(st.lists(ids, unique=True))
    def test_reads_like_the_dict(self, keys: list[int]) -> None:
        model = {key: Item(key) for key in keys}
        reads(IdTrie(model.values()), model, [-5, 0, 33, 2**71])

    def test_an_empty_trie_holds_nothing(self) -> None:
        trie: IdTrie[Item] = IdTrie()
        assert list(trie) == []
        assert trie.get(0) is None
        assert trie.get(-1) is None

    @pytest.mark.parametrize("size", [32, 33, 1024, 1025, 40_000])
    def test_counting_ids_from_one_read_back_whether_built_or_added(self, size: int) -> None:
        items = [Item(key) for key in range(1, size + 1)]
        added: IdTrie[Item] = IdTrie()
        for one in items:
            added = added.with_value(one)
        for trie in (added, IdTrie(items)):
            assert list(trie) == items
            assert all(trie.get(one.id) is one for one in items)
            assert trie.get(size + 1) is None


class TestEmptiedTail:
    def test_an_id_past_an_emptied_tail_leaves_the_trie_below_as_it_was(self) -> None:
        # The highest block, emptied by removals, is dropped rather than placed in the trie.
        below = [Item(key) for key in (1, 2, 31)]
        trie = IdTrie([*below, Item(40)]).without(40)
        moved = trie.with_value(Item(5000))
        assert list(moved) == [*below, Item(5000)]
        assert moved.get(40) is None
        assert list(trie) == below


class TestRefusesNegativeIds:
    def test_when_built(self) -> None:
        with pytest.raises(ValueError, match="at least 0, got -1"):
            IdTrie([Item(-1)])

    def test_when_added(self) -> None:
        trie = IdTrie([Item(5000)])
        with pytest.raises(ValueError, match="at least 0, got -3"):
            trie.with_value(Item(-3))
        assert list(trie) == [Item(5000)]
