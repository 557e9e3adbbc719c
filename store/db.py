"""The SQLite store: one file in WAL mode, one writer connection, numbered migrations.

The engine owns the writer connection and batches each loop step's writes in one
`unit_of_work()`; readers (export, verify, reports) use their own read-only connections.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from store.audit import AuditLog
from store.canonical import utc_now_iso
from store.errors import StoreError
from store.files import prepare_database_files
from store.migrations import apply_migrations, check_not_too_new
from store.signing import AuditSigner


def read_only_connection(
    path: str | os.PathLike[str], busy_timeout_ms: int = 5000
) -> sqlite3.Connection:
    """A connection that cannot write (`mode=ro`); StoreError if the file does not exist,
    so a reader never creates a database."""
    file = Path(path)
    if not file.is_file():
        raise StoreError(f"{file}: no such database")
    uri = file.absolute().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA user_version").fetchone()  # fails here if not a database
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{file}: cannot open database: {error}") from error
    return conn


def open_read_only(path: str | os.PathLike[str], busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A read-only connection to a Desk database this code can read (schema checked), for
    commands that must never write: verify, export's reads, `keys list`."""
    conn = read_only_connection(path, busy_timeout_ms)
    try:
        version = check_not_too_new(conn, path)
        if version < 1:
            raise StoreError(f"{path}: not a Desk database (schema version {version})")
    except sqlite3.DatabaseError as error:
        conn.close()
        raise StoreError(f"{path}: cannot read database: {error}") from error
    except BaseException:
        conn.close()
        raise
    return conn


class Store:
    """An open Desk database. Create with `Store.open(path)`; close with `close()`."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        *,
        busy_timeout_ms: int,
        signer: AuditSigner,
        checkpoint_every: int,
    ) -> None:
        self.path = path
        self.conn = conn
        self.busy_timeout_ms = busy_timeout_ms
        # Guards the writer connection: the engine thread and the UI thread (an approval)
        # may both write; a unit of work holds it from BEGIN to COMMIT.
        self.lock = threading.RLock()
        self._depth = 0
        self._db: Any = None
        self.audit = AuditLog(self, signer, checkpoint_every)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout_ms: int = 5000,
        audit_key_path: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 1000,
    ) -> Store:
        file = Path(path)
        prepare_database_files(file)
        try:
            conn = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(f"{file}: cannot open database: {error}") from error
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            # Checked before anything writes (WAL mode is recorded in the file header).
            check_not_too_new(conn, file)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{file}: cannot switch to WAL journal mode (got {mode})")
            # NORMAL is durable against a killed process under WAL; only power loss can
            # lose the last commits, never corrupt the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            apply_migrations(conn, file, utc_now_iso())
            return cls(
                file,
                conn,
                busy_timeout_ms=busy_timeout_ms,
                signer=AuditSigner(audit_key_path),
                checkpoint_every=checkpoint_every,
            )
        except sqlite3.DatabaseError as error:
            conn.close()
            raise StoreError(f"{file}: cannot open database: {error}") from error
        except BaseException:
            conn.close()
            raise

    def unit_of_work(self) -> _UnitOfWork:
        """`with store.unit_of_work() as conn:` runs BEGIN IMMEDIATE ... COMMIT (ROLLBACK on
        an exception). A nested block joins the outer transaction: its writes commit or roll
        back with it."""
        return _UnitOfWork(self)

    def reader(self) -> sqlite3.Connection:
        """A new read-only connection to this file (close it when done)."""
        return read_only_connection(self.path, self.busy_timeout_ms)

    @property
    def db(self) -> Any:
        """A sqlite_utils.Database over the writer connection, for simple inserts and
        introspection. Write through it inside `unit_of_work()` (it nests as a savepoint)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def close(self, checkpoint: bool = True) -> None:
        """Close; with `checkpoint`, first sign the head if this store appended entries that
        no checkpoint covers. A store that appended nothing signs nothing: read-only work
        (listing keys) never writes, and never vouches for what other writers appended.
        ForgedChainError if the chain no longer extends the key holder's last signed head."""
        with self.lock:
            if self.conn is None:
                return
            try:
                if checkpoint:
                    self.audit.checkpoint_own()
            finally:
                self.conn.close()
                self.conn = None  # type: ignore[assignment]

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(checkpoint=exc_type is None)


class _UnitOfWork:
    """A class, not a @contextmanager generator: audit appends enter one per entry, and
    this costs a fraction of a generator's set-up."""

    __slots__ = ("_store", "_outer", "_audit_state")

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        store.lock.acquire()
        self._outer = store._depth == 0
        if self._outer:
            try:
                store.conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                store.lock.release()
                raise
            try:
                # Other processes may have appended since our last transaction: the chain
                # head is read again now that we hold the write lock.
                store.audit._reload(store.conn)
            except BaseException:
                store.conn.execute("ROLLBACK")
                store.lock.release()
                raise
            self._audit_state = store.audit._state()
        store._depth += 1
        return store.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        store = self._store
        try:
            store._depth -= 1
            if not self._outer:
                return
            conn = store.conn
            if exc_type is None:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
                store.audit._committed()
                return
            self._rollback()
        finally:
            store.lock.release()

    def _rollback(self) -> None:
        conn = self._store.conn
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        # The in-memory chain head must not point at entries that were not committed.
        self._store.audit._restore(self._audit_state)
