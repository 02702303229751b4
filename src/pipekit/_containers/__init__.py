"""Persistent containers: immutable maps that change by copying one path and sharing the rest.

A workspace may hold a million leads and a million scheduled actions, so a command
must not copy them all to change one; these structures are why it need not.

- :class:`PersistentIndex` (``index``): a ``Mapping[int, V]`` whose values carry their
  own key, a hash array mapped trie; the leads of a workspace, by id.
- :class:`IdTrie` (``ids``): a map from ids handed out in increasing order, where the
  next id costs one small copy; the scheduled actions, by id.
- :class:`Tree` (``tree``): a sorted map from (due time, id), which takes new keys in
  batches; the scheduled actions, by due time.

They are private: their interfaces change with what the workspace needs.
"""

from pipekit._containers.ids import IdTrie
from pipekit._containers.index import PersistentIndex
from pipekit._containers.tree import Key, Tree

__all__ = ["IdTrie", "Key", "PersistentIndex", "Tree"]
