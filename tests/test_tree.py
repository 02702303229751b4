"""Tree: a persistent sorted map from pairs of ints, held to a sorted dict's laws.

Every change runs beside a ``dict`` from key to value. The values are plain ones
made here, each of a group, as the tree knows nothing of what it holds beyond the
function that reads a value's group. Ids (a key's second part) come mostly
counting up, so new values go through the buffer, and also from below the
highest, as a replayed log may bring an old key back, which then replaces what
the tree or the buffer holds under it. A second machine shrinks nodes and the
buffer, so trees grow deep and take full buffers every few values.
"""

from __future__ import annotations

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from pipekit._containers import tree as _tree
from pipekit._containers.tree import Key, Node, Tree
from tests.profiles import machine_runs


@attrs.frozen
class Entry:
    """A value filed under *key*, of *group*; *tag* tells apart two values under one key."""

    key: Key
    group: int
    tag: int = 0


def group_of(entry: Entry) -> int:
    return entry.group


def check_nodes(node: Node, height: int, limit: int) -> list[Key]:
    """Return the keys under *node*; fail where a node is too big, unsorted or misnamed."""
    keys, entries, groups = node
    assert len(keys) == len(entries) <= limit
    if height == 0:
        found = list(keys)
        assert {group_of(entry) for entry in entries} <= groups
    else:
        found = []
        for last, child in zip(keys, entries, strict=True):
            below = check_nodes(child, height - 1, limit)
            assert below
            assert below[-1] == last
            assert child[2] <= groups
            found += below
    assert found == sorted(set(found))
    return found


class TreeMachine(RuleBasedStateMachine):
    """A tree beside a dict: after every change, every read agrees, and old trees keep theirs."""

    keys: Bundle[Key] = Bundle("keys")
    """The keys added so far, once per add: some were removed since, or added twice."""

    def __init__(self) -> None:
        super().__init__()
        self.tree: Tree[Entry] = Tree(group_of)
        self.model: dict[Key, Entry] = {}
        self.next_id = 1
        self.old: list[tuple[Tree[Entry], dict[Key, Entry]]] = []

    @rule(target=keys, minutes=st.integers(-20, 20), group=st.integers(1, 3))
    def add_next_id(self, minutes: int, group: int) -> Key:
        key = (minutes, self.next_id)
        self.next_id += 1
        return self.add(key, Entry(key, group))

    @rule(
        target=keys,
        minutes=st.integers(-20, 20),
        item_id=st.integers(1, 40),
        group=st.integers(1, 3),
        tag=st.integers(0, 3),
    )
    def add_lower_id(self, minutes: int, item_id: int, group: int, tag: int) -> Key:
        key = (minutes, min(item_id, self.next_id))
        return self.add(key, Entry(key, group, tag))

    @rule(key=keys, group=st.integers(1, 3), tag=st.integers(0, 3))
    def replace(self, key: Key, group: int, tag: int) -> None:
        # A key added before: still there, or removed since (then this adds it back).
        self.add(key, Entry(key, group, tag))

    def add(self, key: Key, item: Entry) -> Key:
        self.old.append((self.tree, dict(self.model)))
        self.tree = self.tree.with_item(key, item)
        self.model[key] = item
        return key

    @rule(key=consumes(keys))
    def remove(self, key: Key) -> None:
        if key not in self.model:
            return  # added twice and removed once already: a tree removes only what it holds
        self.old.append((self.tree, dict(self.model)))
        self.tree = self.tree.without(key)
        del self.model[key]

    @invariant()
    def reads_agree(self) -> None:
        pairs = sorted(self.model.items())
        assert list(self.tree.items()) == pairs
        assert self.tree.first() == (pairs[0] if pairs else None)
        for bound in (-21, -1, 0, 21):
            assert list(self.tree.until(bound)) == [item for key, item in pairs if key[0] <= bound]
        held = sorted(self.model.values(), key=_order)
        for group in (1, 2, 3, 4):
            near = sorted(self.tree.near_group(group), key=_order)
            assert all(one in held for one in near)
            assert len(set(map(_order, near))) == len(near)
            found = [item for item in near if item.group == group]
            mine = [item for item in held if item.group == group]
            assert found == mine
        assert list(self.tree.near_group(5)) == []  # a group never added: no leaf names it

    @invariant()
    def parts_are_sound(self) -> None:
        tree = self.tree
        in_tree = check_nodes(tree._root, tree._height, _tree._MAX) if tree._root[0] else []
        in_buffer = list(tree._buffer_keys)
        assert in_buffer == sorted(in_buffer)
        assert len(in_buffer) <= _tree._BUFFER
        assert not set(in_tree) & set(in_buffer)
        assert all(key[1] <= tree._top_id for key in (*in_tree, *in_buffer))

    @invariant()
    def old_trees_are_unchanged(self) -> None:
        for old, model in self.old[-3:]:
            assert list(old.items()) == sorted(model.items())


def _order(one: Entry) -> tuple[Key, int]:
    return (one.key, one.tag)


class SmallTreeMachine(TreeMachine):
    """The same with nodes of at most four entries and a buffer of two."""

    def __init__(self) -> None:
        self.limits = (_tree._MAX, _tree._BUFFER)
        # mypy refuses assigning a Final
        setattr(_tree, "_MAX", 4)  # noqa: B010
        setattr(_tree, "_BUFFER", 2)  # noqa: B010
        super().__init__()

    def teardown(self) -> None:
        setattr(_tree, "_MAX", self.limits[0])  # noqa: B010
        setattr(_tree, "_BUFFER", self.limits[1])  # noqa: B010


TestTreeMachine = TreeMachine.TestCase
TestTreeMachine.settings = machine_runs(10, 200, 2000)
TestSmallTreeMachine = SmallTreeMachine.TestCase
TestSmallTreeMachine.settings = machine_runs(10, 200, 2000)


def test_built_at_once_reads_like_its_pairs() -> None:
    pairs = [
        ((minute // 3, minute), Entry((minute // 3, minute), minute % 5 + 1))
        for minute in range(1, 501)
    ]
    tree = Tree(group_of, pairs)
    assert list(tree.items()) == pairs
    assert tree._top_id == 500
    assert check_nodes(tree._root, tree._height, _tree._MAX) == [key for key, _ in pairs]
    assert Tree(group_of)._top_id == -1


def test_a_full_buffer_spread_over_many_leaves_goes_in_whole() -> None:
    """New ids sorting all over a deep tree: the buffer lands in many children at once."""
    pairs = [((minute * 10, minute), Entry((minute * 10, minute), 1)) for minute in range(1, 3001)]
    tree = Tree(group_of, pairs)
    model = dict(pairs)
    for step in range(100):
        key = ((step * 7919) % 30000, 3001 + step)
        tree = tree.with_item(key, Entry(key, 2))
        model[key] = Entry(key, 2)
    assert list(tree.items()) == sorted(model.items())
    assert check_nodes(tree._root, tree._height, _tree._MAX) == sorted(
        set(model) - set(tree._buffer_keys)
    )
