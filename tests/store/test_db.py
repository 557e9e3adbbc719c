"""The store: WAL file, migrations, units of work, readers."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest
import sqlite_utils

from store.db import Store
from store.errors import SchemaTooNewError, StoreError
from store.migrations import LATEST_VERSION


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "data" / "desk.db", audit_key_path=tmp_path / "keys" / "audit.pem")
    yield s
    s.close()


def test_open_creates_parent_dirs_wal_and_schema(tmp_path, store):
    assert store.path.parent.is_dir()
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert conn.execute("SELECT version FROM schema_migrations").fetchall() == [
        (v,) for v in range(1, LATEST_VERSION + 1)
    ]
    tables = set(sqlite_utils.Database(conn).table_names())
    assert {
        "orders", "fills", "positions", "signals", "ensemble_decisions", "execution_sessions",
        "execution_parts", "backtest_runs", "backtest_trades", "audit_entries",
        "audit_checkpoints", "secrets", "schema_migrations",
    } <= tables  # fmt: skip


def test_secrets_table_has_the_shape_the_vault_relies_on(store):
    columns = {c.name: (c.type, c.notnull, c.is_pk) for c in store.db["secrets"].columns}
    assert columns == {
        "exchange": ("TEXT", 0, 1),
        "salt": ("BLOB", 1, 0),
        "nonce": ("BLOB", 1, 0),
        "ciphertext": ("BLOB", 1, 0),
        "created_at": ("TEXT", 0, 0),
        "updated_at": ("TEXT", 0, 0),
    }


def test_reopen_is_idempotent(tmp_path):
    path = tmp_path / "desk.db"
    Store.open(path).close()
    store = Store.open(path)
    try:
        count = store.conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
        assert count == LATEST_VERSION
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    finally:
        store.close()


def test_newer_schema_is_refused_and_the_file_left_untouched(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNewError) as raised:
        Store.open(path)
    message = str(raised.value)
    assert str(path) in message and str(LATEST_VERSION + 1) in message
    assert f"up to {LATEST_VERSION}" in message
    assert raised.value.exit_code == 2
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "future.db-wal").exists()


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello, this is not sqlite " * 100)
    with pytest.raises(StoreError, match="notes.db: cannot open database"):
        Store.open(path)


def test_unit_of_work_commits_and_rolls_back_with_the_audit_head(store):
    with store.unit_of_work():
        store.audit.append("engine.started", "system", {})
    head = store.audit.head
    with pytest.raises(RuntimeError), store.unit_of_work():
        store.audit.append("order.proposed", "engine", {"qty": "1"})
        store.conn.execute(
            "INSERT INTO positions (symbol, qty, avg_price, updated_at) VALUES ('X', '1', '2', 't')"
        )
        raise RuntimeError("boom")
    assert store.audit.head == head
    assert store.conn.execute("SELECT COUNT(*) FROM positions").fetchone()[0] == 0
    entry = store.audit.append("order.proposed", "engine", {"qty": "1"})
    assert entry.seq == 2 and entry.prev_hash == head[1]


def test_nested_unit_of_work_joins_the_outer_transaction(store):
    with pytest.raises(ValueError), store.unit_of_work():
        with store.unit_of_work():
            store.audit.append("order.proposed", "engine", {})
        assert store.conn.in_transaction  # the inner block did not commit
        raise ValueError
    assert store.audit.head[0] == 0
    assert store.conn.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0] == 0


def test_sqlite_utils_writes_join_the_unit_of_work(store):
    with pytest.raises(KeyError), store.unit_of_work():
        store.db["signals"].insert(
            {"ts": "t", "symbol": "X", "strategy": "rsi", "side": "BUY", "confidence": "0.5"}
        )
        raise KeyError
    assert store.db["signals"].count == 0


def test_reader_is_read_only_and_sees_committed_rows_only(store):
    reader = store.reader()
    try:
        with store.unit_of_work():
            store.audit.append("engine.started", "system", {})
            assert reader.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0] == 0
        assert reader.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0] == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("DELETE FROM audit_entries")
    finally:
        reader.close()


def test_two_threads_append_without_breaking_the_chain(store):
    def work(actor):
        for i in range(50):
            store.audit.append("order.approved", actor, {"i": i})

    threads = [threading.Thread(target=work, args=(a,)) for a in ("engine", "user")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = store.audit.tail(1000)
    assert [e.seq for e in entries] == list(range(1, 101))
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError), store.unit_of_work() as conn:
        conn.execute(
            "INSERT INTO fills (trade_id, client_order_id, symbol, side, qty, price, ts) "
            "VALUES ('t1', 'missing-order', 'X', 'buy', '1', '1', 't')"
        )
