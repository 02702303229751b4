"""A persistent map from int ids to values, with structural sharing.

A workspace may hold a million leads, so a command must not copy them all to
change one. :class:`PersistentIndex` is a hash array mapped trie on the id's own
bits, 16 slots a node, low bits first: a change copies the few nodes on one path
(five for a million sequential ids) and shares everything else with the old map.

Each value carries its own key (``key(value)``, or the value itself for a set of
ints), so no pair is stored per entry. A slot holds ``None``, a value, or a child
node (a tuple); values must therefore never be tuples. A value sits at the
shallowest level where its id's bits are unique, so the shape depends only on the
set of ids, whatever the order of changes.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, Mapping, ValuesView
from functools import partial
from operator import is_not
from typing import Any, Final, Generic, TypeAlias, TypeVar, cast, final, overload

__all__ = ["PersistentIndex"]

_V = TypeVar("_V")
_D = TypeVar("_D")

_BITS: Final = 4
_MASK: Final = (1 << _BITS) - 1
_EMPTY: Final[tuple[Any, ...]] = (None,) * (1 << _BITS)
_present: Final = partial(is_not, None)
"""Whether a slot holds something, by identity: ``tuple.count(None)`` would compare each
value with ``None`` through its ``__eq__``, a Python call for an attrs class."""

Node = tuple[Any, ...]
_Path: TypeAlias = list[tuple[Node, int]]
"""The nodes above a slot, from the root down, each with the index of the next step."""


def _itself(value: Any) -> Any:
    return value  # a set of ints: each value is its own key


@final
class PersistentIndex(Mapping[int, _V], Generic[_V]):
    """An immutable ``Mapping[int, V]`` whose values know their own key.

    ``with_value`` and ``without`` return a new index and leave this one as it
    was; both cost O(log n) and share all untouched nodes.
    """

    __slots__ = ("_key", "_len", "_root")

    _key: Callable[[_V], int]
    _len: int
    _root: Node

    def __init__(
        self, key: Callable[[_V], int] | None = None, values: Iterator[_V] | None = None
    ) -> None:
        self._key = _itself if key is None else key
        self._len = 0
        self._root = _EMPTY
        if values is not None:
            # The last value for a key wins, as if each were added in turn.
            by_key = {self._key(value): value for value in values}
            for value in by_key.values():
                if value.__class__ is tuple:
                    raise TypeError("a PersistentIndex cannot hold tuples")
            self._root = _build(list(by_key.items())) if by_key else _EMPTY
            self._len = len(by_key)

    def _evolve(self, root: Node, size: int) -> PersistentIndex[_V]:
        result: PersistentIndex[_V] = object.__new__(PersistentIndex)
        result._key = self._key
        result._root = root
        result._len = size
        return result

    # -- reading ------------------------------------------------------------------

    @overload
    def get(self, key: int, /) -> _V | None: ...
    @overload
    def get(self, key: int, default: _D, /) -> _V | _D: ...

    def get(self, key: int, default: object = None) -> object:
        """Return the value whose key is *key*, or *default*."""
        node = self._root
        bits = key
        while True:
            slot = node[bits & _MASK]
            if slot.__class__ is tuple:
                node = slot
                bits >>= _BITS
            elif slot is None or self._key(slot) != key:
                return default
            else:
                return slot

    def __getitem__(self, key: int) -> _V:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return cast(_V, value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self.get(key, _MISSING) is not _MISSING

    @property
    def key(self) -> Callable[[_V], int]:
        """The function that gives each value's key."""
        return self._key

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:
        key = self._key
        return (key(value) for value in _walk(self._root))

    def iter_values(self) -> Iterator[_V]:
        """Iterate over the values, in no particular order."""
        return _walk(self._root)

    def values(self) -> ValuesView[_V]:
        """Return a view of the values, in no particular order."""
        return _Values(self)

    def items(self) -> ItemsView[int, _V]:
        """Return a view of the ``(key, value)`` pairs, in no particular order."""
        return _Items(self)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Mapping) or len(self) != len(other):
            return False
        if isinstance(other, PersistentIndex) and self._root is other._root:
            return True
        for value in _walk(self._root):
            key = self._key(value)
            if other.get(key, _MISSING) != value:
                return False
        return True

    def __hash__(self) -> int:
        return hash(frozenset(_walk(self._root)))

    def __repr__(self) -> str:
        # Written like the dict it compares equal to, in key order.
        items = sorted(self.items(), key=lambda item: item[0])
        return "{" + ", ".join(f"{key!r}: {value!r}" for key, value in items) + "}"

    # -- changing -----------------------------------------------------------------

    def with_value(self, value: _V) -> PersistentIndex[_V]:
        """Return an index that holds *value*, replacing any value with the same key."""
        if value.__class__ is tuple:
            raise TypeError("a PersistentIndex cannot hold tuples")
        root, added = _insert(self._root, self._key(value), value, self._key)
        return self._evolve(root, self._len + added)

    def without(self, key: int) -> PersistentIndex[_V]:
        """Return an index without the value whose key is *key*; the same index if absent."""
        root = _remove(self._root, key, self._key)
        if root is None:
            return self
        return self._evolve(root, self._len - 1)


_MISSING: Final[Any] = object()


class _Values(ValuesView[_V]):
    _mapping: PersistentIndex[_V]

    def __iter__(self) -> Iterator[_V]:
        return self._mapping.iter_values()


class _Items(ItemsView[int, _V]):
    _mapping: PersistentIndex[_V]

    def __iter__(self) -> Iterator[tuple[int, _V]]:
        key = self._mapping._key
        return ((key(value), value) for value in self._mapping.iter_values())


def _walk(node: Node) -> Iterator[Any]:
    for slot in node:
        if slot is None:
            continue
        if slot.__class__ is tuple:
            yield from _walk(slot)
        else:
            yield slot


def _build(items: list[tuple[int, Any]]) -> Node:
    """Return the node holding *items*, pairs of (remaining key bits, value) with distinct keys."""
    groups: dict[int, list[tuple[int, Any]]] = {}
    for bits, value in items:
        groups.setdefault(bits & _MASK, []).append((bits >> _BITS, value))
    slots = list(_EMPTY)
    for index, group in groups.items():
        slots[index] = group[0][1] if len(group) == 1 else _build(group)
    return tuple(slots)


def _descend(root: Node, key: int) -> tuple[_Path, Node, int, Any, int]:
    """Follow *key*'s bits from *root* down to the first slot that holds no node.

    Returns the path to that slot's node, the node, the slot's index in it, what the
    slot holds (``None`` or a value), and the key bits left at that node's level.
    """
    path: _Path = []
    node = root
    bits = key
    while True:
        index = bits & _MASK
        slot = node[index]
        if slot.__class__ is not tuple:
            return path, node, index, slot, bits
        path.append((node, index))
        node = slot
        bits >>= _BITS


def _insert(root: Node, key: int, value: Any, key_of: Callable[[Any], int]) -> tuple[Node, bool]:
    path, node, index, slot, bits = _descend(root, key)
    added = True
    if slot is None:
        new = value
    else:
        other = key_of(slot)
        if other == key:
            new, added = value, False
        else:
            depth = len(path) + 1
            new = _pair(slot, other >> (depth * _BITS), value, bits >> _BITS)
    return _rebuild(path, node, index, new), added


def _rebuild(path: _Path, node: Node, index: int, new: Any) -> Node:
    """Return a new root: *node* with *new* at *index*, and copies of its ancestors."""
    slots = list(node)
    slots[index] = new
    rebuilt = tuple(slots)
    for parent, at in reversed(path):
        slots = list(parent)
        slots[at] = rebuilt
        rebuilt = tuple(slots)
    return rebuilt


def _pair(first: Any, first_bits: int, second: Any, second_bits: int) -> Node:
    """Return the smallest subtree holding two values whose remaining key bits differ."""
    first_index, second_index = first_bits & _MASK, second_bits & _MASK
    slots = list(_EMPTY)
    if first_index == second_index:
        slots[first_index] = _pair(first, first_bits >> _BITS, second, second_bits >> _BITS)
    else:
        slots[first_index] = first
        slots[second_index] = second
    return tuple(slots)


def _remove(root: Node, key: int, key_of: Callable[[Any], int]) -> Node | None:
    """Return *root* without *key*, or ``None`` when *key* is not there."""
    path, node, index, slot, _bits = _descend(root, key)
    if slot is None or key_of(slot) != key:
        return None
    slots = list(node)
    slots[index] = None
    current = tuple(slots)
    lifting = True
    for parent, at in reversed(path):
        # Keep every value at the shallowest level where its bits are unique: a node
        # left holding a single value gives it to its parent. Once a node keeps two
        # entries, no node above it can be left with one.
        single = _single_value(current) if lifting else None
        lifting = single is not None
        slots = list(parent)
        slots[at] = current if single is None else single
        current = tuple(slots)
    return current


def _single_value(node: Node) -> Any:
    """Return the value *node* holds if it holds one value and nothing else, else ``None``."""
    present = filter(_present, node)
    slot = next(present, None)
    if slot.__class__ is tuple or next(present, None) is not None:
        return None
    return slot
