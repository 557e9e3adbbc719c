"""Rows of portfolio optimizations (`desk portfolio optimize`): the method, the data it
ran on, the weights and the figures, and how the solver ended.

Figures are statistics, not money: REAL columns. Weights and contributions are JSON
objects keyed by asset."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

MIGRATION_SQL = """
CREATE TABLE portfolio_optimizations (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    method TEXT NOT NULL,
    data_source TEXT NOT NULL,
    data_start TEXT NOT NULL,
    data_end TEXT NOT NULL,
    weights_json TEXT NOT NULL,
    expected_return REAL NOT NULL,
    volatility REAL NOT NULL,
    sharpe REAL,
    cvar_95 REAL NOT NULL,
    risk_contributions_json TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    solver_status TEXT NOT NULL,
    solve_seconds REAL NOT NULL
);
CREATE INDEX portfolio_optimizations_method ON portfolio_optimizations (method, id);
"""

COLUMNS = ("method", "data_source", "data_start", "data_end", "weights_json",
           "expected_return", "volatility", "sharpe", "cvar_95", "risk_contributions_json",
           "settings_json", "solver_status", "solve_seconds")


def insert_optimization(conn: sqlite3.Connection, row: dict) -> int:
    """Insert one optimization (call inside a unit of work); returns its id."""
    cursor = conn.execute(
        f"INSERT INTO portfolio_optimizations (created_at, {', '.join(COLUMNS)})"
        f" VALUES (?, {', '.join('?' for _ in COLUMNS)})",
        (datetime.now(UTC).isoformat(), *(row[c] for c in COLUMNS)),
    )
    return int(cursor.lastrowid)


def latest_optimizations(conn: sqlite3.Connection, limit: int = 20) -> list[dict]:
    """The newest optimizations first."""
    cursor = conn.execute(
        f"SELECT id, created_at, {', '.join(COLUMNS)} FROM portfolio_optimizations"
        " ORDER BY id DESC LIMIT ?", (limit,))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
