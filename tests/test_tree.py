"""Tree: the due-time order of scheduled actions, held to a sorted dict's laws.

Every change runs beside a ``dict`` from key to item. Ids come mostly counting up,
so new items go through the buffer, and also from below the highest, as a
replayed log may bring an old key back, which then replaces what the tree or the
buffer holds under it. A second machine shrinks nodes and the buffer, so trees
grow deep and take full buffers every few items.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from pipekit import HostAction, Scheduled
from pipekit._containers import tree as _tree
from pipekit._containers.tree import Key, Node, Tree
from tests.profiles import machine_runs

START = datetime(2026, 12, 1, tzinfo=UTC)
EMAIL = HostAction("send_email")


def scheduled(key: Key, automation_id: int, tag: int = 0) -> Scheduled:
    """Return an item filed under *key*; *tag* tells apart two items under one key."""
    return Scheduled(key[1], automation_id, 1 + tag, START + timedelta(minutes=key[0]), EMAIL)


def check_nodes(node: Node, height: int, limit: int) -> list[Key]:
    """Return the keys under *node*; fail where a node is too big, unsorted or misnamed."""
    keys, entries, automations = node
    assert len(keys) == len(entries) <= limit
    if height == 0:
        found = list(keys)
        assert {item.automation_id for item in entries} <= automations
    else:
        found = []
        for last, child in zip(keys, entries, strict=True):
            below = check_nodes(child, height - 1, limit)
            assert below
            assert below[-1] == last
            assert child[2] <= automations
            found += below
    assert found == sorted(set(found))
    return found


class TreeMachine(RuleBasedStateMachine):
    """A tree beside a dict: after every change, every read agrees, and old trees keep theirs."""

    keys: Bundle[Key] = Bundle("keys")
    """The keys added so far, once per add: some were removed since, or added twice."""

    def __init__(self) -> None:
        super().__init__()
        self.tree = Tree()
        self.model: dict[Key, Scheduled] = {}
        self.next_id = 1
        self.old: list[tuple[Tree, dict[Key, Scheduled]]] = []

    @rule(target=keys, minutes=st.integers(-20, 20), automation_id=st.integers(1, 3))
    def add_next_id(self, minutes: int, automation_id: int) -> Key:
        key = (minutes, self.next_id)
        self.next_id += 1
        return self.add(key, scheduled(key, automation_id))

    @rule(
        target=keys,
        minutes=st.integers(-20, 20),
        item_id=st.integers(1, 40),
        automation_id=st.integers(1, 3),
        tag=st.integers(0, 3),
    )
    def add_lower_id(self, minutes: int, item_id: int, automation_id: int, tag: int) -> Key:
        key = (minutes, min(item_id, self.next_id))
        return self.add(key, scheduled(key, automation_id, tag))

    @rule(key=keys, automation_id=st.integers(1, 3), tag=st.integers(0, 3))
    def replace(self, key: Key, automation_id: int, tag: int) -> None:
        # A key added before: still there, or removed since (then this adds it back).
        self.add(key, scheduled(key, automation_id, tag))

    def add(self, key: Key, item: Scheduled) -> Key:
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
        for automation_id in (1, 2, 3, 4):
            found = sorted(self.tree.of_automation(automation_id), key=_order)
            mine = sorted(
                (item for item in self.model.values() if item.automation_id == automation_id),
                key=_order,
            )
            assert found == mine

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


def _order(one: Scheduled) -> tuple[datetime, int, int]:
    return (one.due_at, one.id, one.lead_id)


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
TestTreeMachine.settings = machine_runs(20, 200, 2000)
TestSmallTreeMachine = SmallTreeMachine.TestCase
TestSmallTreeMachine.settings = machine_runs(20, 200, 2000)


def test_built_at_once_reads_like_its_pairs() -> None:
    pairs = [
        ((minute // 3, minute), scheduled((minute // 3, minute), minute % 5 + 1))
        for minute in range(1, 501)
    ]
    tree = Tree(pairs)
    assert list(tree.items()) == pairs
    assert tree._top_id == 500
    assert check_nodes(tree._root, tree._height, _tree._MAX) == [key for key, _ in pairs]
    assert Tree()._top_id == -1


def test_a_full_buffer_spread_over_many_leaves_goes_in_whole() -> None:
    """New ids due all over a deep tree: the buffer lands in many children at once."""
    pairs = [
        ((minute * 10, minute), scheduled((minute * 10, minute), 1)) for minute in range(1, 3001)
    ]
    tree = Tree(pairs)
    model = dict(pairs)
    for step in range(100):
        key = ((step * 7919) % 30000, 3001 + step)
        tree = tree.with_item(key, scheduled(key, 2))
        model[key] = scheduled(key, 2)
    assert list(tree.items()) == sorted(model.items())
    assert check_nodes(tree._root, tree._height, _tree._MAX) == sorted(
        set(model) - set(tree._buffer_keys)
    )
