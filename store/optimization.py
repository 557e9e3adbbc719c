"""Rows of `desk optimize`: runs, their trials, and parameter sets applied to the desk.

A trial is identified within its run by (scope, params_key): the part of the run it
belongs to ("search", "sensitivity", "wfo:3:train") and the canonical JSON of its
parameters. A parameter set applied with `--apply` is one `applied_params` row; the
latest row of a strategy is the set the desk starts with.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

MIGRATION_SQL = """
CREATE TABLE optimization_runs (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    method TEXT NOT NULL,
    strategy TEXT NOT NULL,
    data_source TEXT NOT NULL,
    fitness TEXT NOT NULL,
    seed INTEGER NOT NULL,
    request_json TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    config_json TEXT NOT NULL,
    best_json TEXT,
    result_json TEXT
);
CREATE INDEX optimization_runs_created ON optimization_runs (created_at);

CREATE TABLE optimization_trials (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES optimization_runs (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    params_key TEXT NOT NULL,
    params_json TEXT NOT NULL,
    fitness REAL NOT NULL,
    metrics_json TEXT NOT NULL,
    elapsed_s REAL NOT NULL,
    window_json TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, scope, params_key)
);
CREATE INDEX optimization_trials_run ON optimization_trials (run_id);

CREATE TABLE applied_params (
    id INTEGER PRIMARY KEY,
    strategy TEXT NOT NULL,
    params_json TEXT NOT NULL,
    run_id INTEGER REFERENCES optimization_runs (id),
    applied_at TEXT NOT NULL
);
CREATE INDEX applied_params_strategy ON applied_params (strategy, id);
"""

RUN_COLUMNS = ("id", "created_at", "finished_at", "status", "method", "strategy",
               "data_source", "fitness", "seed", "request_json", "config_hash", "config_json",
               "best_json", "result_json")
TRIAL_COLUMNS = ("scope", "params_key", "params_json", "fitness", "metrics_json", "elapsed_s",
                 "window_json")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def insert_run(conn: sqlite3.Connection, *, method: str, strategy: str, data_source: str,
               fitness: str, seed: int, request_json: str, config_hash: str,
               config_json: str) -> int:
    cursor = conn.execute(
        "INSERT INTO optimization_runs (created_at, status, method, strategy, data_source,"
        " fitness, seed, request_json, config_hash, config_json)"
        " VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
        (_now(), method, strategy, data_source, fitness, seed, request_json, config_hash,
         config_json),
    )
    return int(cursor.lastrowid)


def insert_trials(conn: sqlite3.Connection, run_id: int,
                  rows: Iterable[tuple[Any, ...]]) -> None:
    """Rows in TRIAL_COLUMNS order; a trial already stored is kept as it was."""
    now = _now()
    conn.executemany(
        f"INSERT OR IGNORE INTO optimization_trials (run_id, {', '.join(TRIAL_COLUMNS)},"
        f" created_at) VALUES (?, {', '.join('?' for _ in TRIAL_COLUMNS)}, ?)",
        ((run_id, *row, now) for row in rows),
    )


def finish_run(conn: sqlite3.Connection, run_id: int, *, status: str, best_json: str | None,
               result_json: str | None) -> None:
    conn.execute(
        "UPDATE optimization_runs SET status = ?, finished_at = ?, best_json = ?,"
        " result_json = ? WHERE id = ?",
        (status, _now(), best_json, result_json, run_id),
    )


def reopen_run(conn: sqlite3.Connection, run_id: int) -> None:
    conn.execute("UPDATE optimization_runs SET status = 'running', finished_at = NULL"
                 " WHERE id = ?", (run_id,))


def select_run(conn: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM optimization_runs WHERE id = ?",
                       (run_id,)).fetchone()
    return dict(zip(RUN_COLUMNS, row, strict=True)) if row else None


def select_runs(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    columns = ("id", "created_at", "finished_at", "status", "method", "strategy",
               "data_source", "fitness", "best_json")
    rows = conn.execute(
        f"SELECT {', '.join(columns)}, (SELECT COUNT(*) FROM optimization_trials t"
        " WHERE t.run_id = r.id) FROM optimization_runs r ORDER BY id DESC LIMIT ?",
        (limit,)).fetchall()
    return [dict(zip((*columns, "trials"), row, strict=True)) for row in rows]


def select_trials(conn: sqlite3.Connection, run_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {', '.join(TRIAL_COLUMNS)} FROM optimization_trials WHERE run_id = ?"
        " ORDER BY id", (run_id,)).fetchall()
    return [dict(zip(TRIAL_COLUMNS, row, strict=True)) for row in rows]


def insert_applied(conn: sqlite3.Connection, *, strategy: str, params_json: str,
                   run_id: int | None) -> None:
    conn.execute("INSERT INTO applied_params (strategy, params_json, run_id, applied_at)"
                 " VALUES (?, ?, ?, ?)", (strategy, params_json, run_id, _now()))


def select_applied(conn: sqlite3.Connection) -> dict[str, tuple[str, int | None]]:
    """strategy -> (params_json, run_id) of its latest applied set."""
    rows = conn.execute(
        "SELECT strategy, params_json, run_id FROM applied_params a WHERE id ="
        " (SELECT MAX(id) FROM applied_params b WHERE b.strategy = a.strategy)").fetchall()
    return {strategy: (params, run_id) for strategy, params, run_id in rows}
