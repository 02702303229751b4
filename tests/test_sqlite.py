"""``pipekit.sqlite``: workspaces kept as an event log plus snapshots in one SQLite file.

The store is checked from the outside (what ``load``, ``execute`` and ``events``
return) and from the inside, through a second plain ``sqlite3`` connection to
the same file reading the two tables documented in ``docs/storing.md``.
"""

from __future__ import annotations

import json
import multiprocessing
import pickle
import random
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipekit import (
    AddLossReason,
    Applied,
    Command,
    CreateLead,
    DeleteStage,
    LeadCreated,
    LoseLead,
    MoveLead,
    PipekitError,
    RenamePipeline,
    RevisionConflict,
    RuleViolation,
    UnknownLead,
    UnknownLossReason,
    WinLead,
    Workspace,
    apply,
    new_workspace,
    replay,
)
from pipekit.bounds import MAX_REVISION
from pipekit.codec import JSON, DecodeError, dump, load
from pipekit.sqlite import MAX_TIMEOUT, SQLiteStore, StoreError
from tests.profiles import EXPENSIVE, current_profile
from tests.workspace_strategies import History, histories

AT: Final = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
ACME: Final = "acme"
GLOBEX: Final = "globex"

INITIAL: Final = 144
OFFER: Final = 145
NEGOTIATION: Final = 146

"""For the store property: each example opens a database and runs a history through it.

No deadline: its time is the database's, which depends on the machine's load."""

Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


# -- looking inside the file ------------------------------------------------------------


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection to the store's file, beside the store's own."""
    return sqlite3.connect(path, isolation_level=None)


def rows(path: Path) -> Rows:
    """Every row of the event table and of the snapshot table, in key order."""
    db = raw(path)
    try:
        events = db.execute(
            "SELECT workspace_id, revision, events FROM pipekit_events"
            " ORDER BY workspace_id, revision"
        ).fetchall()
        snapshots = db.execute(
            "SELECT workspace_id, revision, document FROM pipekit_snapshots ORDER BY workspace_id"
        ).fetchall()
    finally:
        db.close()
    return events, snapshots


def revisions(path: Path, workspace_id: str) -> list[int]:
    """The revisions of the rows of *workspace_id*'s event log, in order."""
    events, _snapshots = rows(path)
    return [revision for (owner, revision, _events) in events if owner == workspace_id]


def snapshot(path: Path, workspace_id: str) -> tuple[int, Workspace] | None:
    """The revision and the workspace of *workspace_id*'s stored snapshot, if it has one."""
    _events, snapshots = rows(path)
    for owner, revision, document in snapshots:
        if owner == workspace_id:
            return revision, load(Workspace, json.loads(document))
    return None


# -- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "pipekit.db"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(path) as opened:
        yield opened


def execute_all(
    store: SQLiteStore, commands: list[Command], workspace_id: str = ACME
) -> list[Applied]:
    """Execute *commands* one after the other, a minute apart; return what each returned."""
    return [
        store.execute(workspace_id, command, at=AT + timedelta(minutes=minute))
        for minute, command in enumerate(commands)
    ]


def refusal_of(workspace: Workspace, command: Command, at: datetime) -> ValueError:
    """The error ``apply`` refuses *command* with."""
    try:
        apply(workspace, command, at=at)
    except ValueError as error:
        return error
    raise AssertionError(f"{command!r} was not refused")


LEADS: Final[list[Command]] = [
    CreateLead("ACME", price=150_000),
    CreateLead("Globex", stage_id=OFFER),
    MoveLead(1, OFFER),
    WinLead(2),
]


# -- opening ------------------------------------------------------------------------------


class TestOpening:
    def test_creates_the_file_on_first_use(self, path: Path) -> None:
        assert not path.exists()
        with SQLiteStore(path) as store:
            store.execute(ACME, CreateLead("ACME"), at=AT)
            assert path.is_file()

    def test_uses_write_ahead_logging(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            store.execute(ACME, CreateLead("ACME"), at=AT)
            db = raw(path)
            try:
                (mode,) = db.execute("PRAGMA journal_mode").fetchone()
            finally:
                db.close()
        assert mode == "wal"

    def test_takes_a_str_path_too(self, path: Path) -> None:
        with SQLiteStore(str(path)) as store:
            store.execute(ACME, CreateLead("ACME"), at=AT)
        assert revisions(path, ACME) == [1]

    def test_a_missing_directory_is_a_store_error(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError, match="the store failed"):
            SQLiteStore(tmp_path / "missing" / "pipekit.db")

    @pytest.mark.parametrize("every", [0, -1])
    def test_snapshot_every_is_at_least_one(self, path: Path, every: int) -> None:
        with pytest.raises(ValueError, match="snapshot_every is at least 1"):
            SQLiteStore(path, snapshot_every=every)
        assert not path.exists()

    @pytest.mark.parametrize("every", [True, 2.0, "2", None])
    def test_snapshot_every_is_an_int(self, path: Path, every: object) -> None:
        with pytest.raises(TypeError, match="snapshot_every must be an int"):
            SQLiteStore(path, snapshot_every=every)  # type: ignore[arg-type]  # on purpose

    @pytest.mark.parametrize("timeout", [0, 0.5, 30, MAX_TIMEOUT])
    def test_takes_a_timeout_from_0_to_the_most_sqlite_holds(
        self, path: Path, timeout: float
    ) -> None:
        with SQLiteStore(path, timeout=timeout) as store:
            store.execute(ACME, CreateLead("ACME"), at=AT)
        assert revisions(path, ACME) == [1]

    @pytest.mark.parametrize("timeout", [-1, -0.001, MAX_TIMEOUT + 1, float("inf"), float("nan")])
    def test_a_timeout_out_of_range_is_refused(self, path: Path, timeout: float) -> None:
        with pytest.raises(ValueError, match=f"timeout is from 0 to {MAX_TIMEOUT} seconds"):
            SQLiteStore(path, timeout=timeout)
        assert not path.exists()

    @pytest.mark.parametrize("timeout", [True, "30", None, [30]])
    def test_a_timeout_that_is_not_a_number_is_a_type_error(
        self, path: Path, timeout: object
    ) -> None:
        with pytest.raises(TypeError, match="timeout must be a number of seconds"):
            SQLiteStore(path, timeout=timeout)  # type: ignore[arg-type]  # on purpose
        assert not path.exists()

    def test_a_database_locked_while_opening_is_a_store_error_not_a_conflict(
        self, path: Path
    ) -> None:
        # Creating the tables needs the write lock another connection holds: opening
        # writes no workspace, so there is no revision to conflict with.
        holder = raw(path)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(
                StoreError, match="longer than the timeout while the store was opening"
            ) as raised:
                SQLiteStore(path, timeout=0)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert not isinstance(raised.value, RevisionConflict)
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        assert raised.value.workspace_id is None
        with SQLiteStore(path, timeout=0) as store:
            assert store.execute(ACME, CreateLead("ACME"), at=AT).workspace.revision == 1

    def test_opening_a_store_that_exists_needs_no_lock(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            store.execute(ACME, CreateLead("ACME"), at=AT)
        holder = raw(path)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with SQLiteStore(path, timeout=0) as store:
                assert store.load(ACME).revision == 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()


# -- reading --------------------------------------------------------------------------------


class TestLoad:
    def test_an_id_never_seen_is_a_new_workspace(self, store: SQLiteStore) -> None:
        assert store.load(ACME) == new_workspace()
        assert store.events(ACME) == ()

    def test_reading_writes_nothing(self, store: SQLiteStore, path: Path) -> None:
        store.load(ACME)
        store.events(ACME)
        assert rows(path) == ([], [])

    def test_gives_the_workspace_the_last_command_returned(self, store: SQLiteStore) -> None:
        results = execute_all(store, LEADS)
        assert store.load(ACME) == results[-1].workspace
        assert store.load(ACME).revision == len(LEADS)


class TestEvents:
    def test_are_the_whole_log_in_order(self, store: SQLiteStore) -> None:
        results = execute_all(store, LEADS)
        log = store.events(ACME)

        assert isinstance(log, tuple)
        assert log == tuple(event for applied in results for event in applied.events)
        assert [event.revision for event in log] == [1, 2, 3, 4]

    def test_replay_to_the_loaded_workspace(self, store: SQLiteStore) -> None:
        execute_all(store, [*LEADS, AddLossReason("Too expensive"), LoseLead(1, 1)])
        assert replay(store.events(ACME)) == store.load(ACME)


# -- writing --------------------------------------------------------------------------------


class TestExecute:
    def test_returns_what_apply_returns(self, store: SQLiteStore) -> None:
        before = store.load(ACME)
        applied = store.execute(ACME, CreateLead("ACME", price=990), at=AT)

        assert isinstance(applied, Applied)
        assert applied == apply(before, CreateLead("ACME", price=990), at=AT)
        assert applied.workspace.revision == 1
        assert applied.workspace.lead(1).name == "ACME"

    def test_stores_one_row_per_revision(self, store: SQLiteStore, path: Path) -> None:
        results = execute_all(store, LEADS)
        events, _snapshots = rows(path)

        assert [(owner, revision) for owner, revision, _ in events] == [
            (ACME, 1),
            (ACME, 2),
            (ACME, 3),
            (ACME, 4),
        ]
        for (_owner, _revision, document), applied in zip(events, results, strict=True):
            assert json.loads(document) == [dump(event) for event in applied.events]

    def test_stores_the_events_of_one_command_in_one_row(
        self, store: SQLiteStore, path: Path
    ) -> None:
        execute_all(
            store, [CreateLead("ACME", stage_id=OFFER), CreateLead("Globex", stage_id=OFFER)]
        )
        deleted = store.execute(ACME, DeleteStage(1, OFFER), at=AT)

        assert len(deleted.events) == 2
        assert revisions(path, ACME) == [1, 2, 3]
        events, _snapshots = rows(path)
        assert json.loads(events[-1][2]) == [dump(event) for event in deleted.events]
        assert store.events(ACME)[-2:] == deleted.events

    def test_the_event_table_is_keyed_by_workspace_id_and_revision(
        self, store: SQLiteStore, path: Path
    ) -> None:
        store.execute(ACME, CreateLead("ACME"), at=AT)
        db = raw(path)
        try:
            columns = db.execute("PRAGMA table_info(pipekit_events)").fetchall()
            key = [name for _place, name in sorted((pk, name) for _, name, *_, pk in columns if pk)]
            with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
                db.execute(
                    "INSERT INTO pipekit_events (workspace_id, revision, events) VALUES (?, ?, ?)",
                    (ACME, 1, "[]"),
                )
        finally:
            db.close()
        assert key == ["workspace_id", "revision"]

    def test_the_key_refuses_a_second_writer_of_the_same_revision(
        self, store: SQLiteStore, path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A writer that read before another committed (as a host without BEGIN
        # IMMEDIATE might) computes a revision that is taken: the key refuses it.
        stale = store.execute(ACME, CreateLead("ACME"), at=AT).workspace
        store.execute(ACME, MoveLead(1, OFFER), at=AT)
        before = rows(path)
        monkeypatch.setattr(SQLiteStore, "_load", lambda self, workspace_id: stale)

        with pytest.raises(RevisionConflict, match="revision") as raised:
            store.execute(ACME, MoveLead(1, NEGOTIATION), at=AT)
        assert raised.value.actual == 2
        assert rows(path) == before

    def test_stores_a_snapshot(self, store: SQLiteStore, path: Path) -> None:
        results = execute_all(store, LEADS)
        assert snapshot(path, ACME) == (4, results[-1].workspace)

    def test_accepts_the_expected_revision(self, store: SQLiteStore) -> None:
        store.execute(ACME, CreateLead("ACME"), at=AT, expected_revision=0)
        applied = store.execute(ACME, MoveLead(1, OFFER), at=AT, expected_revision=1)
        assert applied.workspace.revision == 2

    def test_a_stale_expected_revision_is_a_revision_conflict(
        self, store: SQLiteStore, path: Path
    ) -> None:
        execute_all(store, LEADS)
        before = rows(path)

        with pytest.raises(RevisionConflict, match=r"revision 3.*revision 4") as raised:
            store.execute(ACME, MoveLead(1, NEGOTIATION), at=AT, expected_revision=3)
        assert (raised.value.expected, raised.value.actual) == (3, 4)
        assert rows(path) == before

    def test_a_refused_command_raises_and_writes_nothing(
        self, store: SQLiteStore, path: Path
    ) -> None:
        results = execute_all(store, LEADS)
        before = rows(path)

        with pytest.raises(UnknownLead, match="no lead has id 9"):
            store.execute(ACME, MoveLead(9, OFFER), at=AT)
        with pytest.raises(UnknownLossReason, match="no loss reason has id 4"):
            store.execute(ACME, LoseLead(1, loss_reason_id=4), at=AT)
        assert rows(path) == before
        assert store.load(ACME) == results[-1].workspace

    def test_a_refused_first_command_writes_nothing(self, store: SQLiteStore, path: Path) -> None:
        with pytest.raises(RuleViolation, match="no lead has id 1"):
            store.execute(ACME, WinLead(1), at=AT)
        assert rows(path) == ([], [])
        assert store.load(ACME) == new_workspace()

    def test_a_naive_time_is_refused_and_writes_nothing(
        self, store: SQLiteStore, path: Path
    ) -> None:
        store.execute(ACME, CreateLead("ACME"), at=AT)
        before = rows(path)

        with pytest.raises(ValueError, match="timezone"):
            store.execute(ACME, CreateLead("Globex"), at=datetime(2026, 11, 27, 9, 30))
        assert rows(path) == before

    def test_a_command_that_changes_nothing_writes_nothing(
        self, store: SQLiteStore, path: Path
    ) -> None:
        store.execute(ACME, CreateLead("ACME"), at=AT)
        before = rows(path)
        name = store.load(ACME).pipeline(1).name

        applied = store.execute(ACME, RenamePipeline(1, name), at=AT, expected_revision=1)
        assert applied.events == ()
        assert applied.workspace.revision == 1
        assert rows(path) == before

    def test_workspaces_with_different_ids_are_independent(
        self, store: SQLiteStore, path: Path
    ) -> None:
        acme = execute_all(store, LEADS, ACME)
        globex = execute_all(store, [CreateLead("Initech", price=5)], GLOBEX)

        assert store.load(ACME) == acme[-1].workspace
        assert store.load(GLOBEX) == globex[-1].workspace
        assert store.load(GLOBEX).revision == 1
        assert [event.revision for event in store.events(GLOBEX)] == [1]
        assert revisions(path, ACME) == [1, 2, 3, 4]
        assert revisions(path, GLOBEX) == [1]
        assert store.load("initech") == new_workspace()


class TestWorkspaceIds:
    OPERATIONS: Final[dict[str, Callable[[SQLiteStore, Any], object]]] = {
        "load": lambda store, workspace_id: store.load(workspace_id),
        "events": lambda store, workspace_id: store.events(workspace_id),
        "execute": lambda store, workspace_id: store.execute(
            workspace_id, CreateLead("ACME"), at=AT
        ),
    }

    @pytest.mark.parametrize("operation", OPERATIONS)
    def test_an_empty_id_is_refused(self, store: SQLiteStore, path: Path, operation: str) -> None:
        with pytest.raises(ValueError, match="non-empty str"):
            self.OPERATIONS[operation](store, "")
        assert rows(path) == ([], [])

    @pytest.mark.parametrize("operation", OPERATIONS)
    @pytest.mark.parametrize("workspace_id", [None, 1, b"acme", ["acme"]])
    def test_an_id_that_is_not_a_str_is_a_type_error(
        self, store: SQLiteStore, path: Path, operation: str, workspace_id: object
    ) -> None:
        with pytest.raises(TypeError, match="workspace id must be a str"):
            self.OPERATIONS[operation](store, workspace_id)
        assert rows(path) == ([], [])

    @pytest.mark.parametrize("operation", OPERATIONS)
    @pytest.mark.parametrize("workspace_id", ["\ud800", "acme\udfff", "\udc00\ud800"])
    def test_an_id_with_a_lone_surrogate_is_refused(
        self, store: SQLiteStore, path: Path, operation: str, workspace_id: str
    ) -> None:
        with pytest.raises(ValueError, match="without lone surrogates") as raised:
            self.OPERATIONS[operation](store, workspace_id)
        assert not isinstance(raised.value, UnicodeError)
        assert rows(path) == ([], [])

    @pytest.mark.parametrize("operation", OPERATIONS)
    @pytest.mark.parametrize(
        ("workspace_id", "error"), [("", ValueError), ("\ud800", ValueError), (None, TypeError)]
    )
    def test_a_bad_id_is_refused_before_the_database_is_touched(
        self, path: Path, operation: str, workspace_id: object, error: type[Exception]
    ) -> None:
        # A closed store fails on any use of its database: the id is refused first.
        store = SQLiteStore(path)
        store.close()
        with pytest.raises(error, match="workspace id"):
            self.OPERATIONS[operation](store, workspace_id)

    @pytest.mark.parametrize("workspace_id", ["a\x00b", "Ω 🚀", " "])
    def test_any_other_str_is_an_id(self, store: SQLiteStore, workspace_id: str) -> None:
        store.execute(workspace_id, CreateLead("ACME"), at=AT)
        assert store.load(workspace_id).revision == 1
        assert store.load(ACME).revision == 0


class TestSnapshotEvery:
    def test_writes_a_snapshot_only_every_n_revisions(self, path: Path) -> None:
        stored = []
        with SQLiteStore(path, snapshot_every=3) as store:
            for minute in range(7):
                applied = store.execute(ACME, CreateLead(f"Lead {minute}"), at=AT)
                found = snapshot(path, ACME)
                stored.append(None if found is None else found[0])
                assert store.load(ACME) == applied.workspace
        assert stored == [None, None, 3, 3, 3, 6, 6]
        assert revisions(path, ACME) == [1, 2, 3, 4, 5, 6, 7]

    def test_loading_replays_the_events_after_the_snapshot(self, path: Path) -> None:
        with SQLiteStore(path, snapshot_every=2) as store:
            results = execute_all(store, [*LEADS, AddLossReason("Too expensive")])
            assert snapshot(path, ACME) == (4, results[3].workspace)
            assert store.load(ACME) == results[-1].workspace
            assert replay(store.events(ACME)) == results[-1].workspace

    @EXPENSIVE
    @given(histories(incoming=False), st.integers(1, 4))
    def test_a_store_gives_what_apply_gives(self, history: History, every: int) -> None:
        with SQLiteStore(":memory:", snapshot_every=every) as store:
            workspace = history.start
            for (command, at), result in zip(history.steps, history.results, strict=True):
                if result is None:
                    refusal = refusal_of(workspace, command, at)
                    with pytest.raises(type(refusal), match=re.escape(str(refusal))):
                        store.execute(ACME, command, at=at)
                else:
                    assert store.execute(ACME, command, at=at) == result
                    workspace = result.workspace
                assert store.load(ACME) == workspace
            assert replay(store.events(ACME)) == history.final


class TestReopening:
    def test_a_new_store_on_the_same_file_sees_everything(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            acme = execute_all(store, LEADS, ACME)
            globex = execute_all(store, [CreateLead("Initech")], GLOBEX)
            log = store.events(ACME)

        with SQLiteStore(path) as reopened:
            assert reopened.load(ACME) == acme[-1].workspace
            assert reopened.load(GLOBEX) == globex[-1].workspace
            assert reopened.events(ACME) == log
            applied = reopened.execute(ACME, MoveLead(1, NEGOTIATION), at=AT, expected_revision=4)
            assert applied.workspace.revision == 5
        assert revisions(path, ACME) == [1, 2, 3, 4, 5]

    def test_a_store_with_another_snapshot_interval_reads_the_same(self, path: Path) -> None:
        with SQLiteStore(path, snapshot_every=3) as store:
            results = execute_all(store, LEADS)
        with SQLiteStore(path) as reopened:
            assert reopened.load(ACME) == results[-1].workspace

    def test_two_open_stores_see_each_others_writes(self, path: Path) -> None:
        with SQLiteStore(path) as first, SQLiteStore(path) as second:
            first.execute(ACME, CreateLead("ACME"), at=AT)
            assert second.load(ACME).lead(1).name == "ACME"
            second.execute(ACME, MoveLead(1, OFFER), at=AT, expected_revision=1)
            with pytest.raises(RevisionConflict, match=r"revision 1.*revision 2"):
                first.execute(ACME, MoveLead(1, NEGOTIATION), at=AT, expected_revision=1)
            assert first.load(ACME).lead(1).stage_id == OFFER


class TestClosing:
    def test_the_context_manager_gives_the_store_and_closes_it(self, path: Path) -> None:
        store = SQLiteStore(path)
        with store as entered:
            assert entered is store
            store.execute(ACME, CreateLead("ACME"), at=AT)
        with pytest.raises(StoreError, match="closed"):
            store.load(ACME)

    def test_the_context_manager_closes_on_an_error_and_lets_it_through(self, path: Path) -> None:
        store = SQLiteStore(path)
        with pytest.raises(KeyError, match="inside"), store:
            raise KeyError("inside")
        with pytest.raises(StoreError, match="closed"):
            store.execute(ACME, CreateLead("ACME"), at=AT)

    def test_close_closes(self, path: Path) -> None:
        store = SQLiteStore(path)
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.events(ACME)


# -- failures ---------------------------------------------------------------------------------


class Injected(Exception):
    """The failure injected in the middle of a write."""


class TestFailureInTheMiddleOfAWrite:
    @pytest.fixture
    def break_snapshots(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[int]]:
        """Make saving a snapshot fail; what it returns fills with the event rows by then."""

        def arm() -> list[int]:
            counts: list[int] = []

            def fail(self: SQLiteStore, workspace_id: str, workspace: Workspace) -> None:
                (count,) = self._db.execute(
                    "SELECT count(*) FROM pipekit_events WHERE workspace_id = ?",
                    (workspace_id,),
                ).fetchone()
                counts.append(count)
                raise Injected(workspace_id)

            monkeypatch.setattr(SQLiteStore, "_save_snapshot", fail)
            return counts

        return arm

    def test_leaves_the_database_exactly_as_before(
        self, path: Path, monkeypatch: pytest.MonkeyPatch, break_snapshots: Callable[[], list[int]]
    ) -> None:
        with SQLiteStore(path) as store:
            results = execute_all(store, LEADS)
            before, log = rows(path), store.events(ACME)
            inserted = break_snapshots()

            with pytest.raises(Injected, match=ACME):
                store.execute(ACME, MoveLead(1, NEGOTIATION), at=AT)

            assert inserted == [len(LEADS) + 1], "the failure came after the events were inserted"
            assert rows(path) == before
            assert store.events(ACME) == log
            assert store.load(ACME) == results[-1].workspace

            monkeypatch.undo()
            applied = store.execute(ACME, MoveLead(1, NEGOTIATION), at=AT, expected_revision=4)
            assert applied.workspace.revision == 5
        assert revisions(path, ACME) == [1, 2, 3, 4, 5]

    def test_leaves_a_new_workspace_unwritten(
        self, path: Path, break_snapshots: Callable[[], list[int]]
    ) -> None:
        with SQLiteStore(path) as store:
            inserted = break_snapshots()
            with pytest.raises(Injected, match=ACME):
                store.execute(ACME, CreateLead("ACME"), at=AT)
            assert inserted == [1]
            assert rows(path) == ([], [])
            assert store.load(ACME) == new_workspace()

    def test_a_database_error_there_is_a_store_error(
        self, path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def fail(self: SQLiteStore, workspace_id: str, workspace: Workspace) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        with SQLiteStore(path) as store:
            store.execute(ACME, CreateLead("ACME"), at=AT)
            before = rows(path)
            monkeypatch.setattr(SQLiteStore, "_save_snapshot", fail)
            with pytest.raises(StoreError, match="disk I/O error") as raised:
                store.execute(ACME, MoveLead(1, OFFER), at=AT)
            assert not isinstance(raised.value, sqlite3.Error)
            assert rows(path) == before


class TestNoSqliteErrorEscapes:
    @pytest.mark.parametrize(
        "junk",
        [
            random.Random(4).randbytes(4096),
            b"not a database, just some text\n" * 64,
            b"\x00" * 100 + b"x",
        ],
        ids=["random", "text", "zeros"],
    )
    def test_a_corrupted_file_is_a_store_error(self, path: Path, junk: bytes) -> None:
        path.write_bytes(junk)
        with (
            pytest.raises(StoreError, match="not a database") as raised,
            SQLiteStore(path) as store,
        ):
            store.load(ACME)
        assert isinstance(raised.value, PipekitError)
        assert not isinstance(raised.value, sqlite3.Error)
        assert raised.value.code == "store_error"

    def test_a_store_file_overwritten_with_junk_is_a_store_error(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            execute_all(store, LEADS)
        path.write_bytes(random.Random(5).randbytes(path.stat().st_size))
        with pytest.raises(StoreError, match="not a database"), SQLiteStore(path) as store:
            store.load(ACME)

    def test_a_database_locked_past_the_timeout_is_a_revision_conflict(self, path: Path) -> None:
        with SQLiteStore(path, timeout=0.1) as store:
            store.execute(ACME, CreateLead("ACME"), at=AT)
            before = rows(path)
            holder = raw(path)
            holder.execute("BEGIN IMMEDIATE")
            try:
                started = time.monotonic()
                with pytest.raises(RevisionConflict, match="busy") as raised:
                    store.execute(ACME, MoveLead(1, OFFER), at=AT)
                waited = time.monotonic() - started
                assert store.load(ACME).revision == 1, "readers are not blocked in WAL mode"
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            assert (raised.value.expected, raised.value.actual) == (None, None)
            assert 0.05 <= waited < 5
            assert rows(path) == before
            assert store.execute(ACME, MoveLead(1, OFFER), at=AT).workspace.revision == 2

    def test_a_lock_shorter_than_the_timeout_is_waited_out(self, path: Path) -> None:
        with SQLiteStore(path, timeout=20) as store:
            holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            holder.execute("BEGIN IMMEDIATE")
            release = threading.Timer(0.3, holder.execute, ("ROLLBACK",))
            started = time.monotonic()
            release.start()
            try:
                applied = store.execute(ACME, CreateLead("ACME"), at=AT)
            finally:
                release.join()
                holder.close()
            assert time.monotonic() - started >= 0.2
            assert applied.workspace.revision == 1
            assert revisions(path, ACME) == [1]


class TestStoreError:
    def test_carries_its_reason_and_workspace_and_pickles_with_them(self) -> None:
        error = StoreError("cannot read the snapshot: JSONDecodeError: ...", ACME)
        assert (error.code, error.reason, error.workspace_id, str(error)) == (
            "store_error",
            "cannot read the snapshot: JSONDecodeError: ...",
            ACME,
            "the store failed: workspace 'acme': cannot read the snapshot: JSONDecodeError: ...",
        )
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.reason, copy.workspace_id, str(copy)) == (
            StoreError,
            error.reason,
            ACME,
            str(error),
        )

    def test_a_fault_of_no_one_workspace_names_none(self) -> None:
        error = StoreError("disk I/O error")
        assert (error.workspace_id, str(error)) == (None, "the store failed: disk I/O error")


class TestTamperedRows:
    """A file that is valid SQLite but whose rows pipekit did not write reads as StoreError."""

    DEEP: Final = "[" * 100_000 + "]" * 100_000

    @pytest.fixture
    def logged(self, path: Path) -> Path:
        """A store of two revisions with no snapshot: loading reads every event row."""
        with SQLiteStore(path, snapshot_every=100) as store:
            execute_all(store, LEADS[:2])
        return path

    @pytest.fixture
    def snapshotted(self, path: Path) -> Path:
        """A store of two revisions with a snapshot at each."""
        with SQLiteStore(path) as store:
            execute_all(store, LEADS[:2])
        return path

    @staticmethod
    def tamper(path: Path, sql: str, *parameters: object) -> Rows:
        """Run *sql* on the file with a plain connection; return the rows after it."""
        db = raw(path)
        try:
            db.execute(sql, parameters)
        finally:
            db.close()
        return rows(path)

    @staticmethod
    def refusals(path: Path, *operations: str) -> list[StoreError]:
        """The StoreError each of *operations* raises on the store at *path*."""
        refused = []
        with SQLiteStore(path) as store:
            for operation in operations:
                with pytest.raises(StoreError, match=f"workspace '{ACME}'") as raised:
                    TestWorkspaceIds.OPERATIONS[operation](store, ACME)
                refused.append(raised.value)
        return refused

    @pytest.mark.parametrize(
        ("cell", "cause", "message"),
        [
            ("x{", json.JSONDecodeError, "JSONDecodeError: Expecting value"),
            (DEEP, RecursionError, "RecursionError"),
            (b"\xff\x00", json.JSONDecodeError, "JSONDecodeError"),
            ('[{"type": "LeadCreated"}]', DecodeError, "DecodeError: "),
            ("[5]", DecodeError, "DecodeError: "),
        ],
        ids=["not-json", "deep", "blob", "not-an-event", "a-number-in-the-array"],
    )
    def test_an_events_row_that_does_not_decode(
        self, logged: Path, cell: object, cause: type[Exception], message: str
    ) -> None:
        before = self.tamper(
            logged, "UPDATE pipekit_events SET events = ? WHERE revision = 2", cell
        )

        for error in self.refusals(logged, "load", "events", "execute"):
            assert error.code == "store_error"
            assert error.workspace_id == ACME
            assert re.search(f"cannot read the events of revision 2: {message}", error.reason)
            assert isinstance(error.__cause__, cause)
        assert rows(logged) == before

    @pytest.mark.parametrize("cell", [5, "5", "null", "{}", "[]", '"events"'], ids=repr)
    def test_an_events_row_that_is_not_an_array_of_events(self, logged: Path, cell: object) -> None:
        before = self.tamper(
            logged, "UPDATE pipekit_events SET events = ? WHERE revision = 2", cell
        )
        for error in self.refusals(logged, "load", "events", "execute"):
            assert (
                error.reason == "the events of revision 2 are not a non-empty JSON array of events"
            )
            assert error.__cause__ is None
        assert rows(logged) == before

    def test_an_events_row_that_is_null(self, path: Path) -> None:
        # A table made by hand without NOT NULL: CREATE TABLE IF NOT EXISTS keeps it.
        db = raw(path)
        db.execute(
            "CREATE TABLE pipekit_events (workspace_id TEXT, revision INTEGER, events TEXT,"
            " PRIMARY KEY (workspace_id, revision))"
        )
        db.execute("INSERT INTO pipekit_events VALUES (?, 1, NULL)", (ACME,))
        db.close()
        for error in self.refusals(path, "load", "events", "execute"):
            assert error.reason.startswith("cannot read the events of revision 1: TypeError")
            assert isinstance(error.__cause__, TypeError)

    def test_an_events_row_with_events_of_another_revision(self, logged: Path) -> None:
        events, _snapshots = rows(logged)
        before = self.tamper(
            logged,
            "UPDATE pipekit_events SET events = ? WHERE revision = 2",
            events[1][2].replace('"revision": 2', '"revision": 3'),
        )
        for error in self.refusals(logged, "load", "events", "execute"):
            assert error.reason == "the events of revision 2 hold an event of revision 3"
        assert rows(logged) == before

    def test_an_events_row_whose_revision_is_not_an_integer(self, logged: Path) -> None:
        before = self.tamper(
            logged, "UPDATE pipekit_events SET revision = 'two' WHERE revision = 2"
        )
        for error in self.refusals(logged, "load", "events", "execute"):
            assert error.reason == "the events of revision 'two' hold an event of revision 2"
        assert rows(logged) == before

    def test_a_log_with_a_gap_does_not_replay(self, logged: Path) -> None:
        before = self.tamper(logged, "DELETE FROM pipekit_events WHERE revision = 1")
        load_error, execute_error = self.refusals(logged, "load", "execute")
        for error in (load_error, execute_error):
            assert error.reason == (
                "cannot read the event log: RevisionConflict: the log jumps: the next events"
                " should have revision 1, not 2"
            )
            assert isinstance(error.__cause__, RevisionConflict)
        assert rows(logged) == before

    def test_a_log_whose_events_break_the_rules_does_not_replay(self, logged: Path) -> None:
        # Revision 2 creates a lead in stage 999, which no pipeline has.
        events, _snapshots = rows(logged)
        before = self.tamper(
            logged,
            "UPDATE pipekit_events SET events = ? WHERE revision = 2",
            events[1][2].replace(f'"stage_id": {OFFER}', '"stage_id": 999'),
        )
        (error,) = self.refusals(logged, "load")
        assert error.reason.startswith("cannot read the event log: ")
        assert isinstance(error.__cause__, PipekitError)
        assert rows(logged) == before

    @pytest.mark.parametrize(
        ("document", "cause"),
        [
            ("nope", json.JSONDecodeError),
            (DEEP, RecursionError),
            ("null", DecodeError),
            ('{"schema": "pipekit/1"}', DecodeError),
            (5, DecodeError),
        ],
        ids=["not-json", "deep", "null", "incomplete", "a-number"],
    )
    def test_a_snapshot_that_does_not_decode(
        self, snapshotted: Path, document: object, cause: type[Exception]
    ) -> None:
        before = self.tamper(snapshotted, "UPDATE pipekit_snapshots SET document = ?", document)
        for error in self.refusals(snapshotted, "load", "execute"):
            assert error.reason.startswith(f"cannot read the snapshot: {cause.__name__}")
            assert isinstance(error.__cause__, cause)
        with SQLiteStore(snapshotted) as store:
            assert len(store.events(ACME)) == 2, "the log is fine"
        assert rows(snapshotted) == before

    @pytest.mark.parametrize(
        ("sql", "shown"),
        [
            (
                "UPDATE pipekit_snapshots SET revision = 18446744073709551616",
                "1.8446744073709552e+19",
            ),
            ("UPDATE pipekit_snapshots SET revision = 'two'", "'two'"),
            ("UPDATE pipekit_snapshots SET revision = 1", "1"),
        ],
        ids=["past-int64", "text", "another"],
    )
    def test_a_snapshot_row_that_disagrees_with_its_document(
        self, snapshotted: Path, sql: str, shown: str
    ) -> None:
        before = self.tamper(snapshotted, sql)
        for error in self.refusals(snapshotted, "load", "execute"):
            assert error.reason == (
                f"the snapshot row says revision {shown}, but its document is at revision 2"
            )
        assert rows(snapshotted) == before

    def test_a_snapshot_document_past_the_last_revision(self, snapshotted: Path) -> None:
        _events, ((_owner, _revision, document),) = rows(snapshotted)
        data = json.loads(document)
        data["revision"] = 2**64
        before = self.tamper(
            snapshotted, "UPDATE pipekit_snapshots SET document = ?", json.dumps(data)
        )
        for error in self.refusals(snapshotted, "load", "execute"):
            assert error.reason.startswith("cannot read the snapshot: DecodeError: at /revision:")
            assert isinstance(error.__cause__, DecodeError)
        assert rows(snapshotted) == before

    def test_a_workspace_at_the_last_revision_takes_no_more(self, snapshotted: Path) -> None:
        _events, ((_owner, _revision, document),) = rows(snapshotted)
        data = json.loads(document)
        data["revision"] = MAX_REVISION
        self.tamper(snapshotted, "DELETE FROM pipekit_events")
        before = self.tamper(
            snapshotted,
            "UPDATE pipekit_snapshots SET revision = ?, document = ?",
            MAX_REVISION,
            json.dumps(data),
        )
        with SQLiteStore(snapshotted) as store:
            assert store.load(ACME).revision == MAX_REVISION
        (error,) = self.refusals(snapshotted, "execute")
        assert error.reason == (
            f"revision {MAX_REVISION + 1} is past the last one a workspace holds ({MAX_REVISION})"
        )
        assert rows(snapshotted) == before


# -- two real processes -------------------------------------------------------------------------

SHARED: Final = "shared"
# Enough for the two writers to race many times; the ci profile races longer.
COMMANDS_PER_PROCESS: Final = 100 if current_profile() == "dev" else 250

Success = tuple[int, JSON, list[JSON]]
"""A command that committed: the revision it made, the command and its events, as documents."""


def next_command(workspace: Workspace, worker: int, number: int, rng: random.Random) -> Command:
    """A lead created (named after its worker) or moved to another open stage."""
    if not workspace.leads or rng.random() < 0.5:
        return CreateLead(f"worker {worker} lead {number}", price=number)
    lead = workspace.lead(rng.choice(sorted(workspace.leads)))
    stages = [stage.id for stage in workspace.pipeline(lead.pipeline_id).open_stages]
    return MoveLead(lead.id, rng.choice([stage for stage in stages if stage != lead.stage_id]))


def hammer(
    path: str,
    worker: int,
    count: int,
    start: Any,  # a multiprocessing Barrier
    results: Any,  # a multiprocessing Queue
) -> None:
    """Run *count* commands on the shared workspace, retrying each on a revision conflict."""
    try:
        rng = random.Random(worker)
        successes: list[Success] = []
        conflicts = 0
        with SQLiteStore(path) as store:
            start.wait(timeout=60)
            while len(successes) < count:
                workspace = store.load(SHARED)
                command = next_command(workspace, worker, len(successes), rng)
                if rng.random() < 0.1:
                    # A host takes a while to decide: the other writer may commit meanwhile.
                    time.sleep(0.002)
                try:
                    applied = store.execute(
                        SHARED, command, at=AT, expected_revision=workspace.revision
                    )
                except RevisionConflict:
                    conflicts += 1
                    continue
                events = [dump(event) for event in applied.events]
                successes.append((applied.workspace.revision, dump(command), events))
        results.put((worker, conflicts, successes, None))
    except BaseException as error:  # report it: the parent waits for a result
        results.put((worker, 0, [], repr(error)))
        raise


class TestTwoProcesses:
    def test_racing_writers_lose_and_duplicate_nothing(self, path: Path) -> None:
        SQLiteStore(path).close()  # create the file and its tables before the race
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(2)
        results = context.Queue()
        workers = [
            context.Process(
                target=hammer, args=(str(path), worker, COMMANDS_PER_PROCESS, start, results)
            )
            for worker in (1, 2)
        ]
        for process in workers:
            process.start()
        try:
            reports = [results.get(timeout=120) for _ in workers]
        finally:
            for process in workers:
                process.join(timeout=30)
        assert [error for *_, error in reports] == [None, None]
        assert [process.exitcode for process in workers] == [0, 0]

        successes = [success for _w, _c, done, _e in reports for success in done]
        conflicts = sum(conflicts for _w, conflicts, _d, _e in reports)
        total = len(successes)
        assert total == 2 * COMMANDS_PER_PROCESS
        assert conflicts > 0, "the two processes never raced: the test proved nothing"

        with SQLiteStore(path) as store:
            log = store.events(SHARED)
            final = store.load(SHARED)

        # The log: revisions 1..N, no gap, no duplicate, each the events one success wrote.
        assert revisions(path, SHARED) == list(range(1, total + 1))
        assert sorted(revision for revision, _c, _e in successes) == list(range(1, total + 1))
        by_revision = {revision: events for revision, _c, events in successes}
        assert [[dump(event)] for event in log] == [
            by_revision[revision] for revision in range(1, total + 1)
        ]

        # Every successful command's lead is there exactly once.
        created = [command for _r, command, _e in successes if command["type"] == "CreateLead"]
        names = Counter(lead.name for lead in final.leads.values())
        assert len(final.leads) == len(created)
        assert all(names[command["name"]] == 1 for command in created)
        logged = Counter(event.lead.name for event in log if isinstance(event, LeadCreated))
        assert logged == Counter(command["name"] for command in created)
        moved = [command for _r, command, _e in successes if command["type"] == "MoveLead"]
        assert moved, "the processes moved no lead"
        assert all(command["lead_id"] in final.leads for command in moved)

        # The log replays to what the store loads and to the stored snapshot.
        assert replay(log) == final
        assert final.revision == total
        assert snapshot(path, SHARED) == (total, final)
