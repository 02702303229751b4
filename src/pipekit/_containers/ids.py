"""A persistent map from ids handed out in increasing order to the values that carry them.

Scheduled actions get ids from a counter, so a new one almost always has the
highest id yet. :class:`IdTrie` is a trie on the id's bits, 32 slots a node,
high bits first, so ids that are close share their whole path; and it keeps the
block of the 32 highest ids out of the trie, so adding the next id copies one
block of 32 slots, not a path. A lower id, or a removal, copies one path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from operator import is_not
from typing import Any, Final, Generic, Protocol, TypeVar, final

__all__ = ["IdTrie"]

_BITS: Final = 5
_WIDTH: Final = 1 << _BITS
_MASK: Final = _WIDTH - 1
_EMPTY: Final[tuple[None, ...]] = (None,) * _WIDTH
_present: Final = partial(is_not, None)
"""Whether a slot holds something, by identity: ``tuple.count(None)`` would compare each
value with ``None`` through its ``__eq__``, a Python call for an attrs class."""

Node = tuple[Any, ...]
"""32 slots: values or ``None`` in a leaf, child nodes or ``None`` above."""


class HasId(Protocol):
    @property
    def id(self) -> int: ...


_V = TypeVar("_V", bound=HasId)


@final
class IdTrie(Generic[_V]):
    """An immutable map from ids (ints of at least 0) to values, each carrying its id as ``id``.

    ``with_value`` and ``without`` return a new trie and leave this one as it was.
    """

    __slots__ = ("_height", "_root", "_tail", "_tail_start")

    _root: Node
    """The ids below ``_tail_start``: a node of ``_height`` levels above its leaves."""
    _height: int
    _tail: Node
    """A leaf: the ids from ``_tail_start`` to ``_tail_start + 31``, the highest held."""
    _tail_start: int

    def __init__(self, values: Iterable[_V] = ()) -> None:
        """Hold *values*, whose ids must be distinct."""
        leaves: dict[int, list[Any]] = {}
        for value in values:
            key = value.id
            if key < 0:
                raise ValueError(f"an IdTrie holds ids of at least 0, got {key}")
            leaves.setdefault(key >> _BITS, list(_EMPTY))[key & _MASK] = value
        self._root, self._height, self._tail, self._tail_start = _EMPTY, 0, _EMPTY, 0
        if not leaves:
            return
        last = max(leaves)
        self._tail = tuple(leaves.pop(last))
        self._tail_start = last << _BITS
        nodes: dict[int, Node] = {index: tuple(slots) for index, slots in leaves.items()}
        while (last - 1) >> (_BITS * self._height) > 0:  # the root covers every block below
            parents: dict[int, list[Any]] = {}
            for index, node in nodes.items():
                parents.setdefault(index >> _BITS, list(_EMPTY))[index & _MASK] = node
            nodes = {index: tuple(slots) for index, slots in parents.items()}
            self._height += 1
        self._root = nodes.get(0, _EMPTY)

    def _evolve(self, root: Node, height: int, tail: Node, tail_start: int) -> IdTrie[_V]:
        result: IdTrie[_V] = object.__new__(IdTrie)
        result._root = root
        result._height = height
        result._tail = tail
        result._tail_start = tail_start
        return result

    def get(self, key: int) -> _V | None:
        """Return the value whose id is *key*, or ``None``."""
        offset = key - self._tail_start
        if offset >= 0:
            return self._tail[offset] if offset < _WIDTH else None
        shift = _BITS * self._height
        if key < 0 or key >> (shift + _BITS):
            return None
        node = self._root
        while shift:
            node = node[(key >> shift) & _MASK]
            if node is None:
                return None
            shift -= _BITS
        return node[key & _MASK]  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[_V]:
        """Yield every value, by id."""
        yield from _walk(self._root, self._height)
        yield from (value for value in self._tail if value is not None)

    def with_value(self, value: _V) -> IdTrie[_V]:
        """Return a trie that holds *value*, replacing any value with the same id."""
        key = value.id
        offset = key - self._tail_start
        if 0 <= offset < _WIDTH:  # the usual case: the next id
            slots = list(self._tail)
            slots[offset] = value
            return self._evolve(self._root, self._height, tuple(slots), self._tail_start)
        if key < 0:
            raise ValueError(f"an IdTrie holds ids of at least 0, got {key}")
        if offset > 0:  # past the tail: it joins the trie, and a new tail starts
            root, height = self._root, self._height
            if self._tail_start == 0:
                root = self._tail  # nothing is below the first block: it becomes the root
            elif any(map(_present, self._tail)):
                root, height = _grown(root, height, self._tail_start)
                root = _placed(root, _BITS * height, self._tail_start, self._tail, _BITS)
            slots = list(_EMPTY)
            slots[key & _MASK] = value
            return self._evolve(root, height, tuple(slots), key - (key & _MASK))
        root, height = _grown(self._root, self._height, key)
        root = _placed(root, _BITS * height, key, value, 0)
        return self._evolve(root, height, self._tail, self._tail_start)

    def without(self, key: int) -> IdTrie[_V]:
        """Return a trie without the value whose id is *key*; the same trie if absent."""
        if self.get(key) is None:
            return self
        offset = key - self._tail_start
        if offset >= 0:
            slots = list(self._tail)
            slots[offset] = None
            return self._evolve(self._root, self._height, tuple(slots), self._tail_start)
        root = _placed(self._root, _BITS * self._height, key, None, 0)
        return self._evolve(
            _EMPTY if root is None else root, self._height, self._tail, self._tail_start
        )


def _grown(root: Node, height: int, key: int) -> tuple[Node, int]:
    """Return *root* and its height, with levels added on top until it covers *key*."""
    while key >> (_BITS * (height + 1)):
        root = (root, *_EMPTY[1:])
        height += 1
    return root, height


def _placed(node: Node | None, shift: int, key: int, new: Any, bottom: int) -> Any:
    """Return *node* with *new* in the slot of *key* at the level of *bottom*.

    *shift* is the node's own level; *bottom* is 0 to place a value in a leaf,
    5 to place a whole leaf. A node left without anything becomes ``None``.
    """
    slots = list(_EMPTY if node is None else node)
    index = (key >> shift) & _MASK
    if shift != bottom:
        new = _placed(slots[index], shift - _BITS, key, new, bottom)
    slots[index] = new
    if new is None and not any(map(_present, slots)):
        return None
    return tuple(slots)


def _walk(node: Node | None, height: int) -> Iterator[Any]:
    if node is None:
        return
    if height == 0:
        yield from (value for value in node if value is not None)
        return
    for child in node:
        yield from _walk(child, height - 1)
