"""Rows of virtual portfolios: named books of trades in several asset types, and their
allocation history. A trade's uid is unique within its portfolio (the database refuses a
second copy), which is what makes imports free of double counting."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

MIGRATION_SQL = """
CREATE TABLE virtual_portfolios (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE virtual_trades (
    id INTEGER PRIMARY KEY,
    portfolio TEXT NOT NULL REFERENCES virtual_portfolios (name),
    uid TEXT NOT NULL,
    ts TEXT NOT NULL,
    symbol TEXT NOT NULL,
    asset_type TEXT NOT NULL,
    side TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    multiplier TEXT NOT NULL,
    strategy TEXT NOT NULL DEFAULT '',
    UNIQUE (portfolio, uid)
);
CREATE INDEX virtual_trades_portfolio_ts ON virtual_trades (portfolio, ts);

CREATE TABLE virtual_allocations (
    id INTEGER PRIMARY KEY,
    portfolio TEXT NOT NULL REFERENCES virtual_portfolios (name),
    ts TEXT NOT NULL,
    source TEXT NOT NULL,
    weights_json TEXT NOT NULL,
    UNIQUE (portfolio, ts, source)
);
"""

TRADE_COLUMNS = ("uid", "ts", "symbol", "asset_type", "side", "qty", "price", "fee",
                 "multiplier", "strategy")


def ensure_portfolio(conn: sqlite3.Connection, name: str) -> None:
    conn.execute("INSERT OR IGNORE INTO virtual_portfolios (name, created_at) VALUES (?, ?)",
                 (name, datetime.now(UTC).isoformat()))


def insert_trades(conn: sqlite3.Connection, name: str, rows: list[dict]) -> int:
    """Insert trades not already there (by uid); returns how many were new."""
    before = conn.total_changes
    conn.executemany(
        f"INSERT OR IGNORE INTO virtual_trades (portfolio, {', '.join(TRADE_COLUMNS)})"
        f" VALUES (?, {', '.join('?' for _ in TRADE_COLUMNS)})",
        [(name, *(row[c] for c in TRADE_COLUMNS)) for row in rows])
    return conn.total_changes - before


def insert_allocations(conn: sqlite3.Connection, name: str, rows: list[dict]) -> int:
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO virtual_allocations (portfolio, ts, source, weights_json)"
        " VALUES (?, ?, ?, ?)",
        [(name, row["ts"], row["source"], row["weights_json"]) for row in rows])
    return conn.total_changes - before


def portfolio_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM virtual_portfolios WHERE name = ?",
                        (name,)).fetchone() is not None


def trades_of(conn: sqlite3.Connection, name: str) -> list[dict]:
    cursor = conn.execute(f"SELECT {', '.join(TRADE_COLUMNS)} FROM virtual_trades"
                          " WHERE portfolio = ? ORDER BY ts, uid", (name,))
    return [dict(zip(TRADE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def allocations_of(conn: sqlite3.Connection, name: str) -> list[dict]:
    cursor = conn.execute("SELECT ts, source, weights_json FROM virtual_allocations"
                          " WHERE portfolio = ? ORDER BY ts, source", (name,))
    return [{"ts": ts, "source": source, "weights_json": weights}
            for ts, source, weights in cursor.fetchall()]
