"""Numbered schema migrations, applied in order when a store is opened.

Each migration runs in its own transaction together with its row in `schema_migrations`
and `PRAGMA user_version`, so a crash leaves the file at one version or the next, never in
between. Never edit a released migration: add the next number.

Decimals and timestamps are TEXT (exact; ISO 8601 UTC with a Z), ids are integer keys.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store.backtest_equity import MIGRATION_SQL as BACKTEST_EQUITY_SQL
from store.backtest_reports import MIGRATION_SQL as BACKTEST_REPORTS_SQL
from store.errors import SchemaTooNewError, StoreError
from store.lifecycle import MIGRATION_SQL as LIFECYCLE_SQL
from store.models import MIGRATION_SQL as MODELS_SQL
from store.optimization import MIGRATION_SQL as OPTIMIZATION_SQL
from store.order_checks import MIGRATION_SQL as ORDER_CHECKS_SQL
from store.portfolio_optimizations import MIGRATION_SQL as PORTFOLIO_OPTIMIZATIONS_SQL
from store.virtual_portfolios import MIGRATION_SQL as VIRTUAL_PORTFOLIOS_SQL

MIGRATION_1 = """
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);

CREATE TABLE execution_sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    total_qty TEXT NOT NULL,
    status TEXT NOT NULL,
    schedule_json TEXT NOT NULL DEFAULT '[]',
    params_json TEXT NOT NULL DEFAULT '{}',
    arrival_price TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX execution_sessions_status ON execution_sessions (status);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    client_order_id TEXT UNIQUE NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    qty TEXT NOT NULL,
    limit_price TEXT,
    status TEXT NOT NULL,
    strategy TEXT,
    reason TEXT,
    session_id TEXT REFERENCES execution_sessions (id),
    ref_price TEXT,
    broker_order_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_symbol_created ON orders (symbol, created_at);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_session ON orders (session_id);

CREATE TABLE fills (
    id INTEGER PRIMARY KEY,
    trade_id TEXT UNIQUE NOT NULL,
    client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL DEFAULT '0',
    ts TEXT NOT NULL
);
CREATE INDEX fills_order ON fills (client_order_id);
CREATE INDEX fills_symbol_ts ON fills (symbol, ts);

CREATE TABLE positions (
    symbol TEXT PRIMARY KEY,
    qty TEXT NOT NULL,
    avg_price TEXT NOT NULL,
    realized_pnl TEXT NOT NULL DEFAULT '0',
    fees TEXT NOT NULL DEFAULT '0',
    updated_at TEXT NOT NULL
);

CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    symbol TEXT NOT NULL,
    strategy TEXT NOT NULL,
    side TEXT NOT NULL,
    confidence TEXT NOT NULL
);
CREATE INDEX signals_symbol_ts ON signals (symbol, ts);

CREATE TABLE ensemble_decisions (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    symbol TEXT NOT NULL,
    decision TEXT NOT NULL,
    mode TEXT NOT NULL,
    confidence TEXT NOT NULL,
    votes_json TEXT NOT NULL DEFAULT '{}',
    weights_json TEXT NOT NULL DEFAULT '{}',
    contributors_json TEXT NOT NULL DEFAULT '[]',
    total_weight TEXT
);
CREATE INDEX ensemble_decisions_symbol_ts ON ensemble_decisions (symbol, ts);

CREATE TABLE execution_parts (
    session_id TEXT NOT NULL REFERENCES execution_sessions (id),
    part_no INTEGER NOT NULL,
    scheduled_at TEXT NOT NULL,
    qty TEXT NOT NULL,
    status TEXT NOT NULL,
    client_order_id TEXT,
    attempt INTEGER NOT NULL DEFAULT 0,
    filled_qty TEXT NOT NULL DEFAULT '0',
    avg_price TEXT,
    PRIMARY KEY (session_id, part_no)
);
CREATE INDEX execution_parts_status ON execution_parts (status, scheduled_at);

CREATE TABLE backtest_runs (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    config_json TEXT NOT NULL,
    data_source TEXT NOT NULL,
    metrics_json TEXT NOT NULL DEFAULT '{}',
    timing_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX backtest_runs_config_hash ON backtest_runs (config_hash);

CREATE TABLE backtest_trades (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    entry_time TEXT NOT NULL,
    entry_price TEXT NOT NULL,
    exit_time TEXT,
    exit_price TEXT,
    qty TEXT NOT NULL,
    pnl TEXT,
    return_pct TEXT,
    strategy TEXT
);
CREATE INDEX backtest_trades_run ON backtest_trades (run_id);

CREATE TABLE audit_entries (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_entries_kind ON audit_entries (kind);

CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    ts TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TABLE secrets (
    exchange TEXT PRIMARY KEY,
    salt BLOB NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT,
    updated_at TEXT
);
"""

# The checkpoint cadence in force from each checkpoint on, covered by its signature. NULL
# only in checkpoints written before this migration (their signature does not cover it).
MIGRATION_2 = """
ALTER TABLE audit_checkpoints ADD COLUMN every INTEGER;
"""

# (version, SQL). The schema_migrations table itself is created by migration 1.
# A stored backtest's equity curve (store.backtest_equity): risk commands resample it.
MIGRATION_3 = BACKTEST_EQUITY_SQL

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, MIGRATION_1), (2, MIGRATION_2), (3, MIGRATION_3),
    (4, MODELS_SQL),  # trained predictive models (store.models, `desk train`)
    (5, PORTFOLIO_OPTIMIZATIONS_SQL),  # `desk portfolio optimize` results
    (6, OPTIMIZATION_SQL),  # `desk optimize` runs, trials, applied parameters
    (7, BACKTEST_REPORTS_SQL),  # report extras of stored runs (`desk runs show --report`)
    (8, LIFECYCLE_SQL),  # lifecycle books, live order attribution, runs' decompositions
    (9, VIRTUAL_PORTFOLIOS_SQL),  # virtual portfolios (`desk portfolio import|export`)
    (10, ORDER_CHECKS_SQL),  # each order's pre-trade checks (store.order_checks)
)
LATEST_VERSION = MIGRATIONS[-1][0]


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_not_too_new(conn: sqlite3.Connection, path: str | Path) -> int:
    """The file's version; SchemaTooNewError if this code cannot read it (nothing written)."""
    version = user_version(conn)
    if version > LATEST_VERSION:
        raise SchemaTooNewError(
            f"{path}: database schema version {version} is newer than this Desk supports "
            f"(up to {LATEST_VERSION}); upgrade Desk to open it"
        )
    return version


def apply_migrations(conn: sqlite3.Connection, path: str | Path, now: str) -> list[int]:
    """Bring the file up to LATEST_VERSION; returns the versions applied (maybe none).

    `conn` must be in autocommit mode (isolation_level=None): each migration script carries
    its own BEGIN IMMEDIATE ... COMMIT, and the version is re-read under the write lock so
    two processes opening a new file at once apply each migration once.
    """
    applied: list[int] = []
    for version, sql in MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = check_not_too_new(conn, path)
            if current >= version:
                conn.execute("COMMIT")
                continue
            if current != version - 1:
                raise StoreError(f"{path}: schema version {current} cannot be migrated")
            _run_script(conn, sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                (version, now),
            )
            conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _run_script(conn: sqlite3.Connection, sql: str) -> None:
    # executescript() would commit our open transaction first; run statement by statement.
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise StoreError(f"incomplete SQL statement in a migration: {statement.strip()[:60]}")
