"""A persistent B+ tree of scheduled actions by (due time, id), which takes new ids in batches.

A workspace may hold a million scheduled actions, and each lead move may add one.
:class:`Tree` copies one path to add or remove an entry and shares the rest. An
entry whose id is above every id the tree has held (the usual case: ids come
from a counter) first goes to a small sorted buffer beside the tree; a full
buffer goes into the tree in one pass, which copies each node it touches once.
Actions scheduled by moves made about the same time fall due about the same
time, so a buffer's entries mostly share a leaf, and a new entry costs a copy of
the buffer plus a small share of one path. A buffer due wholly before or after
the leaf it lands by becomes a leaf of its own, and that leaf is left unread; one
due wholly between two neighbouring entries of a leaf is spliced in between them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from heapq import merge
from itertools import chain, pairwise
from typing import Any, Final, TypeAlias, final

from pipekit.automation import Scheduled

__all__ = ["Key", "Tree"]

Key: TypeAlias = tuple[int, int]
"""Where an item sorts: its due time in microseconds since the epoch, then its id."""

Node: TypeAlias = tuple[tuple[Any, ...], tuple[Any, ...], frozenset[int]]
"""A leaf: (keys, items, automations). A branch: (the last key of each child, children,
automations). ``automations`` holds the automation id of every item below the node, and
may hold more: see :func:`_insert`."""

_MAX: Final = 64
"""The most entries a node holds before it splits."""
_BUFFER: Final = 32
"""The most entries the buffer holds before they go into the tree."""
_NO_AUTOMATIONS: Final[frozenset[int]] = frozenset()
_EMPTY_NODE: Final[Node] = ((), (), _NO_AUTOMATIONS)


@final
class Tree:
    """An immutable sorted map from :data:`Key` to item, with no key twice.

    Leaves hold sorted keys and their items; a branch holds, for each child, the
    last key below it. Nodes split when they pass ``_MAX`` entries and are dropped
    when empty; they are never merged, so a tree is only ever as deep as it was at
    its largest. Each node also names the automations of the items below it, so
    that finding one automation's items descends only where it has some.
    """

    __slots__ = ("_buffer", "_buffer_keys", "_height", "_root", "_top_id")

    _root: Node
    _height: int
    _buffer_keys: tuple[Key, ...]
    _buffer: tuple[Scheduled, ...]
    """Entries not yet in the tree, sorted like it: no key is in both."""
    _top_id: int
    """No entry has a higher id; a key with a higher id is in neither part."""

    def __init__(self, pairs: Sequence[tuple[Key, Scheduled]] = ()) -> None:
        """Hold *pairs*, sorted by key with no key twice."""
        half = _MAX // 2
        nodes: list[Node] = []
        for start in range(0, len(pairs), half):
            items = tuple(item for _, item in pairs[start : start + half])
            keys = tuple(key for key, _ in pairs[start : start + half])
            nodes.append((keys, items, _automations_of(items, 0)))
        height = 0
        while len(nodes) > 1:
            height += 1
            nodes = [
                (tuple(node[0][-1] for node in group), group, _automations_of(group, height))
                for group in (
                    tuple(nodes[start : start + half]) for start in range(0, len(nodes), half)
                )
            ]
        self._root = nodes[0] if nodes else _EMPTY_NODE
        self._height = height
        self._buffer_keys = ()
        self._buffer = ()
        self._top_id = max((key[1] for key, _ in pairs), default=-1)

    def _evolve(
        self,
        root: Node,
        height: int,
        buffer_keys: tuple[Key, ...],
        buffer: tuple[Scheduled, ...],
        top_id: int,
    ) -> Tree:
        result = object.__new__(Tree)
        result._root = root
        result._height = height
        result._buffer_keys = buffer_keys
        result._buffer = buffer
        result._top_id = top_id
        return result

    # -- reading --------------------------------------------------------------------

    def items(self) -> Iterator[tuple[Key, Scheduled]]:
        """Yield every key and its item, in order."""
        pairs = _walk(self._root, self._height)
        if not self._buffer:
            return pairs
        return merge(pairs, zip(self._buffer_keys, self._buffer, strict=True), key=_first)

    def first(self) -> tuple[Key, Scheduled] | None:
        """Return the first key and its item, or ``None`` when the tree is empty."""
        node, height = self._root, self._height
        while height:
            node, height = node[1][0], height - 1
        keys = self._buffer_keys
        if keys and (not node[0] or keys[0] < node[0][0]):
            return (keys[0], self._buffer[0])
        return (node[0][0], node[1][0]) if node[0] else None

    def of_automation(self, automation_id: int) -> Iterator[Scheduled]:
        """Yield the items of *automation_id*, in no particular order."""
        in_buffer = (item for item in self._buffer if item.automation_id == automation_id)
        return chain(_of_automation(self._root, self._height, automation_id), in_buffer)

    def until(self, bound: int) -> Iterator[Scheduled]:
        """Yield the items due at most at the time key *bound*, in order."""
        for key, item in self.items():
            if key[0] > bound:
                return
            yield item

    # -- changing -------------------------------------------------------------------

    def with_item(self, key: Key, item: Scheduled) -> Tree:
        """Return a tree that holds *item* under *key*, in place of any item there."""
        keys, buffer = self._buffer_keys, self._buffer
        index = bisect_left(keys, key)
        if key[1] > self._top_id:  # a fresh id: into the buffer
            if len(keys) < _BUFFER:
                if index == len(keys):  # the usual case: due last of the buffer
                    new_keys, new_buffer = (*keys, key), (*buffer, item)
                else:
                    new_keys = (*keys[:index], key, *keys[index:])
                    new_buffer = (*buffer[:index], item, *buffer[index:])
                return self._evolve(self._root, self._height, new_keys, new_buffer, key[1])
            all_keys, all_items = list(keys), list(buffer)
            all_keys.insert(index, key)
            all_items.insert(index, item)
            parts = _merged(self._root, self._height, all_keys, all_items)
            root, height = _rooted(parts, self._height)
            return self._evolve(root, height, (), (), key[1])
        if index < len(keys) and keys[index] == key:  # in the buffer: the item replaces it
            replaced = list(buffer)
            replaced[index] = item
            return self._evolve(self._root, self._height, keys, tuple(replaced), self._top_id)
        root, height = _rooted(_insert(self._root, self._height, key, item), self._height)
        return self._evolve(root, height, keys, buffer, self._top_id)

    def without(self, key: Key) -> Tree:
        """Return a tree without *key*, which it holds."""
        keys = self._buffer_keys
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            new_keys, new_buffer = list(keys), list(self._buffer)
            del new_keys[index], new_buffer[index]
            return self._evolve(
                self._root, self._height, tuple(new_keys), tuple(new_buffer), self._top_id
            )
        root, height = _remove(self._root, self._height, key), self._height
        if root is None:
            root, height = _EMPTY_NODE, 0
        while height and len(root[1]) == 1:
            root, height = root[1][0], height - 1
        return self._evolve(root, height, keys, self._buffer, self._top_id)


# Copies go through a list: list(), a change in place and tuple() cost less than
# slicing and unpacking, the more so the longer the node.


def _insert(node: Node, height: int, key: Key, item: Scheduled) -> list[Node]:
    """Return *node* with *item* under *key*: one node, or the two it split into.

    A node's automations only grow as items come; an item that goes leaves its
    automation named, until the node splits and each half names exactly its own.
    """
    keys, entries, automations = node
    if item.automation_id not in automations:
        automations = automations | {item.automation_id}
    index = bisect_left(keys, key)
    if height == 0:
        new_entries = list(entries)
        if index < len(keys) and keys[index] == key:  # a left-over entry: the item replaces it
            new_entries[index] = item
            return [(keys, tuple(new_entries), automations)]
        new_entries.insert(index, item)
        new_keys = list(keys)
        new_keys.insert(index, key)
    else:
        index = min(index, len(keys) - 1)  # past every key: into the last child
        parts = _insert(entries[index], height - 1, key, item)
        new_entries = list(entries)
        new_entries[index] = parts[0]
        last = parts[0][0][-1]
        if len(parts) == 1 and last == keys[index]:  # the usual case: no new last key
            return [(keys, tuple(new_entries), automations)]
        new_keys = list(keys)
        new_keys[index] = last  # the key went past the child's last, or the child split
        if len(parts) == 2:
            new_entries.insert(index + 1, parts[1])
            new_keys.insert(index + 1, parts[1][0][-1])
    if len(new_keys) <= _MAX:
        return [(tuple(new_keys), tuple(new_entries), automations)]
    return _chunks(new_keys, new_entries, height)


def _merged(node: Node, height: int, keys: list[Key], items: list[Scheduled]) -> list[Node]:
    """Return *node* with *items* under *keys*, sorted and none in it: one node, or more.

    Each node on the way to the new keys is copied once, however many land below it.
    """
    node_keys, entries, automations = node
    named = {item.automation_id for item in items}
    if not named <= automations:
        automations = automations | named
    if height == 0:
        start = bisect_left(node_keys, keys[0])
        if start != bisect_left(node_keys, keys[-1], start):
            # Some of this leaf's keys sort between the new ones: sort them all together.
            pairs = sorted(
                chain(zip(node_keys, entries, strict=True), zip(keys, items, strict=True)),
                key=_first,
            )
            new_keys = [key for key, _ in pairs]
            new_entries: list[Any] = [item for _, item in pairs]
        elif node_keys and len(keys) >= _MAX // 4 and start in (0, len(node_keys)):
            # The new keys all sort before this leaf's or all after: they make a leaf of
            # their own, and this one is shared as it is, its items never read.
            new_items = tuple(items)
            leaf = (tuple(keys), new_items, _automations_of(new_items, 0))
            return [leaf, node] if start == 0 else [node, leaf]
        else:
            # The new keys all fall between the same two of this leaf's: splice them in there.
            new_keys = list(node_keys)
            new_keys[start:start] = keys
            new_entries = list(entries)
            new_entries[start:start] = items
    else:
        new_keys, new_entries = list(node_keys), list(entries)
        # Each child takes the new keys above the last key of the child before it. Go
        # from the last child back, so that a child replaced by several leaves the
        # indexes still to come as they were.
        last = len(node_keys) - 1
        end = len(keys)
        while end:
            index = min(bisect_left(node_keys, keys[end - 1]), last)
            start = bisect_left(keys, node_keys[index - 1], 0, end) if index else 0
            parts = _merged(entries[index], height - 1, keys[start:end], items[start:end])
            new_entries[index : index + 1] = parts
            new_keys[index : index + 1] = [part[0][-1] for part in parts]
            end = start
    if len(new_keys) <= _MAX:
        return [(tuple(new_keys), tuple(new_entries), automations)]
    return _chunks(new_keys, new_entries, height)


def _chunks(keys: list[Any], entries: list[Any], height: int) -> list[Node]:
    """Return nodes of at most ``_MAX`` entries each, as few as can hold *entries*."""
    count = -(-len(keys) // _MAX)
    bounds = [len(keys) * part // count for part in range(count + 1)]
    nodes: list[Node] = []
    for start, end in pairwise(bounds):
        group = tuple(entries[start:end])
        nodes.append((tuple(keys[start:end]), group, _automations_of(group, height)))
    return nodes


def _rooted(nodes: list[Node], height: int) -> tuple[Node, int]:
    """Return the root over *nodes*, which sit at *height*, and its height."""
    while len(nodes) > 1:
        height += 1
        nodes = _chunks([node[0][-1] for node in nodes], nodes, height)
    return nodes[0], height


def _automations_of(entries: tuple[Any, ...], height: int) -> frozenset[int]:
    """Return the automations of a node's *entries*: items at height 0, else children."""
    if height == 0:
        return frozenset(item.automation_id for item in entries)
    return _NO_AUTOMATIONS.union(*(child[2] for child in entries))


def _remove(node: Node, height: int, key: Key) -> Node | None:
    """Return *node* without *key* (which it holds), or ``None`` when nothing is left."""
    keys, entries, automations = node
    index = bisect_left(keys, key)
    child = None if height == 0 else _remove(entries[index], height - 1, key)
    if child is None and len(keys) == 1:
        return None
    new_keys = list(keys)
    new_entries = list(entries)
    if child is None:
        del new_keys[index]
        del new_entries[index]
    else:
        new_keys[index] = child[0][-1]
        new_entries[index] = child
    return (tuple(new_keys), tuple(new_entries), automations)


def _of_automation(node: Node, height: int, automation_id: int) -> Iterator[Scheduled]:
    if automation_id not in node[2]:
        return
    if height == 0:
        yield from (item for item in node[1] if item.automation_id == automation_id)
    else:
        for child in node[1]:
            yield from _of_automation(child, height - 1, automation_id)


def _walk(node: Node, height: int) -> Iterator[tuple[Key, Scheduled]]:
    if height == 0:
        yield from zip(node[0], node[1], strict=True)
    else:
        for child in node[1]:
            yield from _walk(child, height - 1)


def _first(pair: tuple[Key, Scheduled]) -> Key:
    return pair[0]
