"""Rows of trained predictive models (`desk train`): what was trained, on which data, how it
scored in cross-validation, and the SHA-256 of the file that holds it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

MIGRATION_SQL = """
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    kind TEXT NOT NULL,
    model_type TEXT NOT NULL,
    symbol TEXT NOT NULL,
    data_source TEXT NOT NULL,
    features_json TEXT NOT NULL,
    params_json TEXT NOT NULL,
    data_start TEXT NOT NULL,
    data_end TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    cv_json TEXT NOT NULL,
    file_path TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX models_kind_symbol ON models (kind, model_type, symbol, id);
"""

COLUMNS = ("name", "kind", "model_type", "symbol", "data_source", "features_json",
           "params_json", "data_start", "data_end", "data_sha256", "cv_json", "file_path",
           "file_sha256")


def insert_model(conn: sqlite3.Connection, row: dict) -> int:
    """Insert one model row (call inside a unit of work); returns its id."""
    cursor = conn.execute(
        f"INSERT INTO models ({', '.join(COLUMNS)}, created_at)"
        f" VALUES ({', '.join('?' for _ in COLUMNS)}, ?)",
        (*(row[c] for c in COLUMNS), datetime.now(UTC).isoformat()),
    )
    return int(cursor.lastrowid)


def list_models(conn: sqlite3.Connection) -> list[dict]:
    cursor = conn.execute(f"SELECT id, {', '.join(COLUMNS)}, created_at FROM models"
                          " ORDER BY id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def find_model(conn: sqlite3.Connection, *, name: str | None = None,
               kind: str | None = None, model_type: str | None = None,
               symbol: str | None = None) -> dict | None:
    """The model called `name`, else the newest of `kind` / `model_type` for `symbol`."""
    if name:
        where, args = "name = ?", (name,)
    else:
        where, args = "kind = ? AND model_type = ? AND symbol = ?", (kind, model_type, symbol)
    cursor = conn.execute(f"SELECT id, {', '.join(COLUMNS)}, created_at FROM models"
                          f" WHERE {where} ORDER BY id DESC LIMIT 1", args)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))
