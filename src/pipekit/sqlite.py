"""A real store for workspaces: an event log and snapshots in one SQLite file.

Outside the pure core (which never imports this module), on the standard
library's :mod:`sqlite3`. Each workspace, named by a non-empty string id, has an
append-only log with one row per applied command (primary key workspace id +
revision) and a snapshot of its latest state. Writers are serialised by SQLite
(``BEGIN IMMEDIATE``, a busy timeout); a writer whose ``expected_revision`` is
stale gets :class:`~pipekit.RevisionConflict`, and nothing is lost or written
twice. No :mod:`sqlite3` exception escapes: anything else the database reports,
and any row that does not read back as what the store wrote (a file edited by
hand or by another program), is a :class:`StoreError`. A bad argument (a
workspace id that is not a non-empty ``str`` of valid Unicode) is a
:class:`TypeError` or :class:`ValueError`, raised before the database is read.

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
from pipekit.bounds import MAX_REVISION
from pipekit.codec import dump, load, load_event
from pipekit.commands import Command
from pipekit.errors import PipekitError, RevisionConflict
from pipekit.events import Event
from pipekit.evolve import replay
from pipekit.workspace import Workspace, new_workspace

__all__ = ["MAX_TIMEOUT", "SQLiteStore", "StoreError"]

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

MAX_TIMEOUT: Final = 2_147_483
"""The longest *timeout*, in seconds: SQLite takes it in milliseconds, as a C ``int``."""


class StoreError(PipekitError):
    """The store failed in a way that is not a concurrent writer.

    A broken file, a full disk, a database another connection kept locked while
    the store was being opened, or rows that do not read back as what the store
    wrote. ``reason`` says what; ``workspace_id`` names the workspace whose rows
    are at fault, or is ``None`` when the fault is not one workspace's. The
    original error, when there is one, is the ``__cause__``.
    """

    code: ClassVar[str] = "store_error"

    def __init__(self, reason: str, workspace_id: str | None = None) -> None:
        self.reason = reason
        self.workspace_id = workspace_id
        where = "" if workspace_id is None else f"workspace {workspace_id!r}: "
        super().__init__(f"the store failed: {where}{reason}")


@final
class SQLiteStore:
    """Workspaces kept as an event log plus snapshots in the SQLite file *path*.

    The file is created on first use, in WAL mode. *timeout* is how many seconds
    (from 0 to :data:`MAX_TIMEOUT`) a writer waits for another to finish; a store
    being opened for the first time waits as long for the lock it needs to create
    its tables, and raises :class:`StoreError` if it does not get it. A snapshot
    is written with every *snapshot_every*-th revision (every one by default);
    loading reads the latest snapshot and replays the events after it.
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
        _check_timeout(timeout)
        self._snapshot_every = snapshot_every
        with _translated(opening=True):
            self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(_SCHEMA)
            except BaseException:
                self._db.close()
                raise

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
        # A document past the last revision would not load again: refuse to write it.
        if applied.workspace.revision > MAX_REVISION:
            raise StoreError(
                f"revision {applied.workspace.revision} is past the last one a workspace holds"
                f" ({MAX_REVISION})",
                workspace_id,
            )
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
            revision, document = row
            with _reading(workspace_id, "the snapshot"):
                initial = load(Workspace, json.loads(document))
            if not isinstance(revision, int) or revision != initial.revision:
                raise StoreError(
                    f"the snapshot row says revision {revision!r}, but its document is at"
                    f" revision {initial.revision}",
                    workspace_id,
                )
        with _reading(workspace_id, "the event log"):
            return replay(self._events_after(workspace_id, revision), initial=initial)

    def _events_after(self, workspace_id: str, revision: int) -> Iterator[Event]:
        rows = self._db.execute(
            "SELECT revision, events FROM pipekit_events WHERE workspace_id = ? AND revision > ?"
            " ORDER BY revision",
            (workspace_id, revision),
        ).fetchall()
        for row_revision, document in rows:
            yield from _row_events(workspace_id, row_revision, document)

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


def _row_events(workspace_id: str, revision: object, document: object) -> tuple[Event, ...]:
    """Return the events the row of *revision* holds, or raise :class:`StoreError`."""
    what = f"the events of revision {revision!r}"
    with _reading(workspace_id, what):
        data = json.loads(document)  # type: ignore[arg-type]  # a cell may hold anything
        events = tuple(load_event(item) for item in data) if isinstance(data, list) else ()
    if not events:
        raise StoreError(f"{what} are not a non-empty JSON array of events", workspace_id)
    wrong = next((event.revision for event in events if event.revision != revision), None)
    if wrong is not None:
        raise StoreError(f"{what} hold an event of revision {wrong}", workspace_id)
    return events


def _check_workspace_id(workspace_id: str) -> None:
    if not require_type(workspace_id, str, "a workspace id"):
        raise ValueError("a workspace id is a non-empty str")
    try:
        workspace_id.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"a workspace id is valid Unicode, without lone surrogates, got {workspace_id!r}"
        ) from None


def _check_timeout(timeout: float) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    if not 0 <= timeout <= MAX_TIMEOUT:
        raise ValueError(f"timeout is from 0 to {MAX_TIMEOUT} seconds, got {timeout}")


@contextmanager
def _reading(workspace_id: str, what: str) -> Iterator[None]:
    """Report what reading the rows of *what* raises as a :class:`StoreError`.

    The rows are the store's own writing: whatever does not read back (not JSON,
    JSON nested too deeply, a document the codec refuses, a log that does not
    replay) was changed behind the store's back, and the caller can do nothing
    about it but report it. The database's own errors pass, for
    :func:`_translated`.
    """
    try:
        yield
    except (sqlite3.Error, StoreError):
        raise
    except Exception as error:
        raise StoreError(
            f"cannot read {what}: {type(error).__name__}: {error}", workspace_id
        ) from error


@contextmanager
def _translated(*, opening: bool = False) -> Iterator[None]:
    """Report what SQLite raises as pipekit errors: contention as a conflict, else StoreError.

    While the store is *opening*, contention is a :class:`StoreError` too: no
    workspace is being written, so there is no revision to conflict with.
    """
    try:
        yield
    except sqlite3.OperationalError as error:
        busy = "locked" in str(error) or "busy" in str(error)
        if busy and opening:
            raise StoreError(
                f"{error}: another connection held the database for longer than the timeout"
                " while the store was opening"
            ) from error
        if busy:
            raise RevisionConflict(None, None) from error
        raise StoreError(str(error)) from error
    except sqlite3.Error as error:
        raise StoreError(str(error)) from error
