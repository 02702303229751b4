"""Persistent containers: immutable maps that change by copying one path and sharing the rest.

They know nothing of pipekit's domain, and import nothing from pipekit outside this
package: what they read from a value (its key, its id, its group) they are told by a
function or find as a plain ``id`` attribute. A workspace may hold a million leads and a
million scheduled actions, so a command must not copy them all to change one; these
structures are why it need not.

- :class:`PersistentIndex` (``index``): a ``Mapping[int, V]`` whose values carry their
  own key, a hash array mapped trie; the leads of a workspace, by id.
- :class:`IdTrie` (``ids``): a map from ids handed out in increasing order, where the
  next id costs one small copy; the scheduled actions, by id.
- :class:`Tree` (``tree``): a sorted map from pairs of ints, which takes new keys in
  batches and, to find one group's values, descends only where the group has some; the
  scheduled actions, by due time, grouped by automation.

They are private: their interfaces change with what the workspace needs.
"""

from pipekit._containers.ids import IdTrie
from pipekit._containers.index import PersistentIndex
from pipekit._containers.tree import Key, Tree

__all__ = ["IdTrie", "Key", "PersistentIndex", "Tree"]
