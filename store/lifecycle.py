"""Rows of the strategy lifecycle: each symbol's lifecycle book (adaptive weights, health)
as the live desk last saved it, the votes that opened each live order (attribution of the
desk's own trades), and each stored backtest run's decomposition and lifecycle entries."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

MIGRATION_SQL = """
CREATE TABLE lifecycle_books (
    symbol TEXT PRIMARY KEY,
    state_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE order_attributions (
    client_order_id TEXT PRIMARY KEY,
    attribution_json TEXT NOT NULL
);

CREATE TABLE run_lifecycle (
    run_id INTEGER PRIMARY KEY REFERENCES backtest_runs (id),
    decomposition_json TEXT NOT NULL,
    lifecycle_json TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def save_book(conn: sqlite3.Connection, symbol: str, state_json: str) -> None:
    conn.execute(
        "INSERT INTO lifecycle_books (symbol, state_json, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (symbol) DO UPDATE SET state_json = excluded.state_json,"
        " updated_at = excluded.updated_at",
        (symbol, state_json, _now()),
    )


def load_books(conn: sqlite3.Connection) -> dict[str, str]:
    """symbol -> state JSON."""
    return dict(conn.execute("SELECT symbol, state_json FROM lifecycle_books ORDER BY symbol"))


def save_attribution(conn: sqlite3.Connection, client_order_id: str, attribution_json: str
                     ) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO order_attributions (client_order_id, attribution_json)"
        " VALUES (?, ?)", (client_order_id, attribution_json))


def load_attributions(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT client_order_id, attribution_json FROM order_attributions"))


def order_strategies(conn: sqlite3.Connection) -> dict[str, str]:
    """client order id -> the strategy label of the order."""
    return dict(conn.execute("SELECT client_order_id, COALESCE(strategy, '') FROM orders"))


def save_run_lifecycle(conn: sqlite3.Connection, run_id: int, decomposition_json: str,
                       lifecycle_json: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO run_lifecycle (run_id, decomposition_json, lifecycle_json)"
        " VALUES (?, ?, ?)", (run_id, decomposition_json, lifecycle_json))


def load_run_lifecycle(conn: sqlite3.Connection, run_id: int) -> tuple[str, str] | None:
    row = conn.execute("SELECT decomposition_json, lifecycle_json FROM run_lifecycle"
                       " WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else (row[0], row[1])


def run_exists(conn: sqlite3.Connection, run_id: int) -> bool:
    return conn.execute("SELECT 1 FROM backtest_runs WHERE id = ?", (run_id,)).fetchone() \
        is not None
