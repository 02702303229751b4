"""A real store for workspaces: an event log and snapshots in one SQLite file.

Outside the pure core (which never imports this module), on the standard
library's :mod:`sqlite3`. Each workspace, named by a non-empty string id, has an
append-only log with one row per applied command (primary key workspace id +
revision) and a snapshot of its latest state. Writers are serialised by SQLite
(``BEGIN IMMEDIATE``, a busy timeout); a writer whose ``expected_revision`` is
stale gets :class:`~pipekit.RevisionConflict`, and nothing is lost or written
twice. No :mod:`sqlite3` exception escapes: anything else the database reports
is a :class:`StoreError`.

>>> from datetime import datetime, timezone
>>> from pipekit import CreateLead
>>> at = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
>>> with SQLiteStore(":memory:") as store:
...     applied = store.execute("acme", CreateLead("First deal"), at=at)
...     store.load("acme").lead(1).name, len(store.events("acme"))
('First deal', 1)
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import ClassVar, Final, final

from pipekit._checks import require_int, require_type
from pipekit.applying import Applied, apply
from pipekit.codec import dump, load, load_event
from pipekit.commands import Command
from pipekit.errors import PipekitError, RevisionConflict
from pipekit.events import Event
from pipekit.evolve import replay
from pipekit.workspace import Workspace, new_workspace

__all__ = ["SQLiteStore", "StoreError"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS pipekit_events (
    workspace_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (workspace_id, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pipekit_snapshots (
    workspace_id TEXT NOT NULL PRIMARY KEY,
    revision INTEGER NOT NULL,
    document TEXT NOT NULL
) WITHOUT ROWID;
"""


class StoreError(PipekitError):
    """The database failed in a way that is not a concurrent writer: a broken file, a full disk."""

    code: ClassVar[str] = "store_error"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the store failed: {reason}")


@final
class SQLiteStore:
    """Workspaces kept as an event log plus snapshots in the SQLite file *path*.

    The file is created on first use, in WAL mode. *timeout* is how many seconds
    a writer waits for another to finish. A snapshot is written with every
    *snapshot_every*-th revision (every one by default); loading reads the
    latest snapshot and replays the events after it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        snapshot_every: int = 1,
    ) -> None:
        if require_int(snapshot_every, "snapshot_every") < 1:
            raise ValueError(f"snapshot_every is at least 1, got {snapshot_every}")
        self._snapshot_every = snapshot_every
        with _translated():
            self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with _translated():
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------

    def load(self, workspace_id: str) -> Workspace:
        """Return the latest state of *workspace_id*; an id never seen starts new."""
        _check_workspace_id(workspace_id)
        with self._transaction("BEGIN"):
            return self._load(workspace_id)

    def events(self, workspace_id: str) -> tuple[Event, ...]:
        """Return the whole event log of *workspace_id*, in order."""
        _check_workspace_id(workspace_id)
        with self._transaction("BEGIN"):
            return tuple(self._events_after(workspace_id, 0))

    # -- writing --------------------------------------------------------------------

    def execute(
        self,
        workspace_id: str,
        command: Command,
        *,
        at: datetime,
        expected_revision: int | None = None,
    ) -> Applied:
        """Load *workspace_id*, apply *command*, and store its events and snapshot.

        All in one transaction: either everything is written or nothing is. A
        refused command raises its :class:`~pipekit.RuleViolation` and writes
        nothing; a stale *expected_revision* raises
        :class:`~pipekit.RevisionConflict`.
        """
        _check_workspace_id(workspace_id)
        with self._transaction("BEGIN IMMEDIATE"):
            workspace = self._load(workspace_id)
            applied = apply(workspace, command, at=at, expected_revision=expected_revision)
            if applied.events:
                self._append(workspace_id, applied)
                if applied.workspace.revision % self._snapshot_every == 0:
                    self._save_snapshot(workspace_id, applied.workspace)
            return applied

    def _append(self, workspace_id: str, applied: Applied) -> None:
        document = json.dumps([dump(event) for event in applied.events])
        try:
            self._db.execute(
                "INSERT INTO pipekit_events (workspace_id, revision, events) VALUES (?, ?, ?)",
                (workspace_id, applied.workspace.revision, document),
            )
        except sqlite3.IntegrityError:
            # Another writer stored this revision first.
            raise RevisionConflict(
                applied.workspace.revision - 1, applied.workspace.revision
            ) from None

    def _save_snapshot(self, workspace_id: str, workspace: Workspace) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO pipekit_snapshots (workspace_id, revision, document)"
            " VALUES (?, ?, ?)",
            (workspace_id, workspace.revision, json.dumps(dump(workspace))),
        )

    # -- inside a transaction ---------------------------------------------------------

    def _load(self, workspace_id: str) -> Workspace:
        row = self._db.execute(
            "SELECT revision, document FROM pipekit_snapshots WHERE workspace_id = ?",
            (workspace_id,),
        ).fetchone()
        if row is None:
            initial, revision = new_workspace(), 0
        else:
            initial, revision = load(Workspace, json.loads(row[1])), row[0]
        return replay(self._events_after(workspace_id, revision), initial=initial)

    def _events_after(self, workspace_id: str, revision: int) -> Iterator[Event]:
        rows = self._db.execute(
            "SELECT events FROM pipekit_events WHERE workspace_id = ? AND revision > ?"
            " ORDER BY revision",
            (workspace_id, revision),
        ).fetchall()
        for (document,) in rows:
            for data in json.loads(document):
                yield load_event(data)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        with _translated():
            self._db.execute(begin)
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


def _check_workspace_id(workspace_id: str) -> None:
    if not require_type(workspace_id, str, "a workspace id"):
        raise ValueError("a workspace id is a non-empty str")


@contextmanager
def _translated() -> Iterator[None]:
    """Report what SQLite raises as pipekit errors: contention as a conflict, else StoreError."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise RevisionConflict(None, None) from error
        raise StoreError(str(error)) from error
    except sqlite3.Error as error:
        raise StoreError(str(error)) from error
