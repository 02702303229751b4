"""A persistent B+ tree keyed by pairs of ints, which takes new keys in batches.

A store may hold a million entries, and each change may add one. :class:`Tree`
copies one path to add or remove an entry and shares the rest. An entry whose
id (its key's second part) is above every id the tree has held (the usual case:
ids come from a counter) first goes to a small sorted buffer beside the tree; a full
buffer goes into the tree in one pass, which copies each node it touches once.
Entries added about the same time mostly sort about the same place (a schedule's
due times, for one), so a buffer's entries mostly share a leaf, and a new entry
costs a copy of the buffer plus a small share of one path. A buffer sorting
wholly before or after the leaf it lands by becomes a leaf of its own, and that
leaf is left unread; one sorting wholly between two neighbouring entries of a
leaf is spliced in between them.

Each value belongs to a group, an int the tree reads with the function it is
made with, and each node names the groups of the values below it, so that
finding one group's values descends only where it has some.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from heapq import merge
from itertools import chain, pairwise
from typing import Any, Final, Generic, TypeAlias, TypeVar, final

__all__ = ["Key", "Tree"]

_V = TypeVar("_V")

Key: TypeAlias = tuple[int, int]
"""Where an entry sorts: two ints, compared in turn. The second, the entry's id, tells
entries apart and mostly grows, as a counter's ids do; for a schedule, (due time, id)."""

Node: TypeAlias = tuple[tuple[Any, ...], tuple[Any, ...], frozenset[int]]
"""A leaf: (keys, values, groups). A branch: (the last key of each child, children,
groups). ``groups`` holds the group of every value below the node, and may hold more:
see :func:`_insert`."""

_MAX: Final = 64
"""The most entries a node holds before it splits."""
_BUFFER: Final = 32
"""The most entries the buffer holds before they go into the tree."""
_NO_GROUPS: Final[frozenset[int]] = frozenset()
_EMPTY_NODE: Final[Node] = ((), (), _NO_GROUPS)


@final
class Tree(Generic[_V]):
    """An immutable sorted map from :data:`Key` to value, with no key twice.

    Leaves hold sorted keys and their values; a branch holds, for each child, the
    last key below it. Nodes split when they pass ``_MAX`` entries and are dropped
    when empty; they are never merged, so a tree is only ever as deep as it was at
    its largest. Each node also names the groups of the values below it, so that
    finding one group's values descends only where it has some.
    """

    __slots__ = ("_buffer", "_buffer_keys", "_group", "_height", "_root", "_top_id")

    _group: Callable[[_V], int]
    _root: Node
    _height: int
    _buffer_keys: tuple[Key, ...]
    _buffer: tuple[_V, ...]
    """Entries not yet in the tree, sorted like it: no key is in both."""
    _top_id: int
    """No entry has a higher id; a key with a higher id is in neither part."""

    def __init__(self, group: Callable[[_V], int], pairs: Sequence[tuple[Key, _V]] = ()) -> None:
        """Hold *pairs*, sorted by key with no key twice; *group* reads a value's group."""
        self._group = group
        half = _MAX // 2
        nodes: list[Node] = []
        for start in range(0, len(pairs), half):
            values = tuple(value for _, value in pairs[start : start + half])
            keys = tuple(key for key, _ in pairs[start : start + half])
            nodes.append((keys, values, _groups_of(values, 0, group)))
        height = 0
        while len(nodes) > 1:
            height += 1
            nodes = [
                (
                    tuple(node[0][-1] for node in children),
                    children,
                    _groups_of(children, height, group),
                )
                for children in (
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
        buffer: tuple[_V, ...],
        top_id: int,
    ) -> Tree[_V]:
        result: Tree[_V] = object.__new__(Tree)
        result._group = self._group
        result._root = root
        result._height = height
        result._buffer_keys = buffer_keys
        result._buffer = buffer
        result._top_id = top_id
        return result

    # -- reading --------------------------------------------------------------------

    def items(self) -> Iterator[tuple[Key, _V]]:
        """Yield every key and its value, in order."""
        pairs = _walk(self._root, self._height)
        if not self._buffer:
            return pairs
        return merge(pairs, zip(self._buffer_keys, self._buffer, strict=True), key=_first)

    def first(self) -> tuple[Key, _V] | None:
        """Return the first key and its value, or ``None`` when the tree is empty."""
        node, height = self._root, self._height
        while height:
            node, height = node[1][0], height - 1
        keys = self._buffer_keys
        if keys and (not node[0] or keys[0] < node[0][0]):
            return (keys[0], self._buffer[0])
        return (node[0][0], node[1][0]) if node[0] else None

    def near_group(self, group_id: int) -> Iterator[_V]:
        """Yield every value of the group *group_id*, and others near them, in no particular order.

        The others are the rest of each leaf that names the group: the caller keeps
        the values of the group. It can read a value's group as an attribute, where
        the tree would call its function once a value: at a hundred groups spread
        over every leaf, that call doubles the time of the scan.
        """
        group = self._group
        in_buffer = (value for value in self._buffer if group(value) == group_id)
        leaves = _leaves_naming(self._root, self._height, group_id)
        return chain(chain.from_iterable(leaves), in_buffer)

    def until(self, bound: int) -> Iterator[_V]:
        """Yield the values whose key's first part is at most *bound*, in order."""
        for key, value in self.items():
            if key[0] > bound:
                return
            yield value

    # -- changing -------------------------------------------------------------------

    def with_item(self, key: Key, value: _V) -> Tree[_V]:
        """Return a tree that holds *value* under *key*, in place of any value there."""
        keys, buffer = self._buffer_keys, self._buffer
        index = bisect_left(keys, key)
        if key[1] > self._top_id:  # a fresh id: into the buffer
            if len(keys) < _BUFFER:
                if index == len(keys):  # the usual case: sorts last of the buffer
                    new_keys, new_buffer = (*keys, key), (*buffer, value)
                else:
                    new_keys = (*keys[:index], key, *keys[index:])
                    new_buffer = (*buffer[:index], value, *buffer[index:])
                return self._evolve(self._root, self._height, new_keys, new_buffer, key[1])
            all_keys, all_values = list(keys), list(buffer)
            all_keys.insert(index, key)
            all_values.insert(index, value)
            parts = _merged(self._root, self._height, all_keys, all_values, self._group)
            root, height = _rooted(parts, self._height, self._group)
            return self._evolve(root, height, (), (), key[1])
        if index < len(keys) and keys[index] == key:  # in the buffer: the value replaces it
            replaced = list(buffer)
            replaced[index] = value
            return self._evolve(self._root, self._height, keys, tuple(replaced), self._top_id)
        group = self._group
        parts = _insert(self._root, self._height, key, value, group(value), group)
        root, height = _rooted(parts, self._height, group)
        return self._evolve(root, height, keys, buffer, self._top_id)

    def without(self, key: Key) -> Tree[_V]:
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


def _insert(
    node: Node, height: int, key: Key, value: Any, group_id: int, group: Callable[[Any], int]
) -> list[Node]:
    """Return *node* with *value* (of *group_id*) under *key*: one node, or the two it split into.

    A node's groups only grow as values come; a value that goes leaves its group
    named, until the node splits and each half names exactly its own.
    """
    keys, entries, groups = node
    if group_id not in groups:
        groups = groups | {group_id}
    index = bisect_left(keys, key)
    if height == 0:
        new_entries = list(entries)
        if index < len(keys) and keys[index] == key:  # a left-over entry: the value replaces it
            new_entries[index] = value
            return [(keys, tuple(new_entries), groups)]
        new_entries.insert(index, value)
        new_keys = list(keys)
        new_keys.insert(index, key)
    else:
        index = min(index, len(keys) - 1)  # past every key: into the last child
        parts = _insert(entries[index], height - 1, key, value, group_id, group)
        new_entries = list(entries)
        new_entries[index] = parts[0]
        last = parts[0][0][-1]
        if len(parts) == 1 and last == keys[index]:  # the usual case: no new last key
            return [(keys, tuple(new_entries), groups)]
        new_keys = list(keys)
        new_keys[index] = last  # the key went past the child's last, or the child split
        if len(parts) == 2:
            new_entries.insert(index + 1, parts[1])
            new_keys.insert(index + 1, parts[1][0][-1])
    if len(new_keys) <= _MAX:
        return [(tuple(new_keys), tuple(new_entries), groups)]
    return _chunks(new_keys, new_entries, height, group)


def _merged(
    node: Node, height: int, keys: list[Key], values: list[Any], group: Callable[[Any], int]
) -> list[Node]:
    """Return *node* with *values* under *keys*, sorted and none in it: one node, or more.

    Each node on the way to the new keys is copied once, however many land below it.
    """
    node_keys, entries, groups = node
    named = set(map(group, values))
    if not named <= groups:
        groups = groups | named
    if height == 0:
        start = bisect_left(node_keys, keys[0])
        if start != bisect_left(node_keys, keys[-1], start):
            # Some of this leaf's keys sort between the new ones: sort them all together.
            pairs = sorted(
                chain(zip(node_keys, entries, strict=True), zip(keys, values, strict=True)),
                key=_first,
            )
            new_keys = [key for key, _ in pairs]
            new_entries: list[Any] = [value for _, value in pairs]
        elif node_keys and len(keys) >= _MAX // 4 and start in (0, len(node_keys)):
            # The new keys all sort before this leaf's or all after: they make a leaf of
            # their own, and this one is shared as it is, its values never read.
            new_values = tuple(values)
            leaf = (tuple(keys), new_values, _groups_of(new_values, 0, group))
            return [leaf, node] if start == 0 else [node, leaf]
        else:
            # The new keys all fall between the same two of this leaf's: splice them in there.
            new_keys = list(node_keys)
            new_keys[start:start] = keys
            new_entries = list(entries)
            new_entries[start:start] = values
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
            parts = _merged(entries[index], height - 1, keys[start:end], values[start:end], group)
            new_entries[index : index + 1] = parts
            new_keys[index : index + 1] = [part[0][-1] for part in parts]
            end = start
    if len(new_keys) <= _MAX:
        return [(tuple(new_keys), tuple(new_entries), groups)]
    return _chunks(new_keys, new_entries, height, group)


def _chunks(
    keys: list[Any], entries: list[Any], height: int, group: Callable[[Any], int]
) -> list[Node]:
    """Return nodes of at most ``_MAX`` entries each, as few as can hold *entries*."""
    count = -(-len(keys) // _MAX)
    bounds = [len(keys) * part // count for part in range(count + 1)]
    nodes: list[Node] = []
    for start, end in pairwise(bounds):
        chunk = tuple(entries[start:end])
        nodes.append((tuple(keys[start:end]), chunk, _groups_of(chunk, height, group)))
    return nodes


def _rooted(nodes: list[Node], height: int, group: Callable[[Any], int]) -> tuple[Node, int]:
    """Return the root over *nodes*, which sit at *height*, and its height."""
    while len(nodes) > 1:
        height += 1
        nodes = _chunks([node[0][-1] for node in nodes], nodes, height, group)
    return nodes[0], height


def _groups_of(
    entries: tuple[Any, ...], height: int, group: Callable[[Any], int]
) -> frozenset[int]:
    """Return the groups of a node's *entries*: values at height 0, else children."""
    if height == 0:
        return frozenset(map(group, entries))
    return _NO_GROUPS.union(*(child[2] for child in entries))


def _remove(node: Node, height: int, key: Key) -> Node | None:
    """Return *node* without *key* (which it holds), or ``None`` when nothing is left."""
    keys, entries, groups = node
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
    return (tuple(new_keys), tuple(new_entries), groups)


def _leaves_naming(node: Node, height: int, group_id: int) -> Iterator[tuple[Any, ...]]:
    """Yield the values of each leaf under *node* that names *group_id*, a tuple a leaf."""
    if group_id not in node[2]:
        return
    if height == 0:
        yield node[1]
    else:
        for child in node[1]:
            yield from _leaves_naming(child, height - 1, group_id)


def _walk(node: Node, height: int) -> Iterator[tuple[Key, Any]]:
    if height == 0:
        yield from zip(node[0], node[1], strict=True)
    else:
        for child in node[1]:
            yield from _walk(child, height - 1)


def _first(pair: tuple[Key, object]) -> Key:
    return pair[0]
