"""Rows for listing and reopening stored backtest runs (`desk runs list|show`): the run
list and each run's report extras (the --compare table, the buy-and-hold benchmark and
the closes the price chart draws), kept as one JSON document per run."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

MIGRATION_SQL = """
CREATE TABLE backtest_report_data (
    run_id INTEGER PRIMARY KEY REFERENCES backtest_runs (id) ON DELETE CASCADE,
    data_json TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class RunRow:
    run_id: int
    created_at: str
    data_source: str
    config: dict
    metrics: dict
    trades: int


def save_report_data(conn: sqlite3.Connection, run_id: int, data_json: str) -> None:
    conn.execute("INSERT INTO backtest_report_data (run_id, data_json) VALUES (?, ?)",
                 (run_id, data_json))


def load_report_data(conn: sqlite3.Connection, run_id: int) -> dict:
    """The run's report extras; {} for a run stored before they were kept."""
    row = conn.execute("SELECT data_json FROM backtest_report_data WHERE run_id = ?",
                       (run_id,)).fetchone()
    return {} if row is None else json.loads(row[0])


def list_runs(conn: sqlite3.Connection, limit: int | None = None) -> list[RunRow]:
    """Stored runs, newest first, with their trade counts."""
    rows = conn.execute(
        "SELECT r.id, r.created_at, r.data_source, r.config_json, r.metrics_json,"
        " (SELECT count(*) FROM backtest_trades t WHERE t.run_id = r.id)"
        " FROM backtest_runs r ORDER BY r.id DESC" + (" LIMIT ?" if limit else ""),
        (limit,) if limit else (),
    ).fetchall()
    return [RunRow(i, created, source, json.loads(config), json.loads(metrics), trades)
            for i, created, source, config, metrics, trades in rows]
