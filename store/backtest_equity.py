"""Rows of a stored backtest's equity curve and the reads risk commands make of a run.

The curve is kept as one BLOB of little-endian float64 equity values, one per bar, with the
first and last bar times: `desk montecarlo --run ID` resamples its per-bar returns and
`desk stress --run ID` reads its final book from the run's trades.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

MIGRATION_SQL = """
CREATE TABLE backtest_equity (
    run_id INTEGER PRIMARY KEY REFERENCES backtest_runs (id) ON DELETE CASCADE,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    bars INTEGER NOT NULL,
    equity BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class StoredRun:
    run_id: int
    data_source: str
    metrics: dict
    config: dict
    trades: list[dict]
    equity: Any  # numpy float64 array; None for a run stored before curves were kept
    start: str | None
    end: str | None


def save_equity(conn: sqlite3.Connection, run_id: int, start: str, end: str,
                equity: Any) -> None:
    import numpy as np  # only for the curve: opening a store must stay light

    values = np.ascontiguousarray(equity, dtype="<f8")
    conn.execute(
        "INSERT INTO backtest_equity (run_id, start, end, bars, equity) VALUES (?, ?, ?, ?, ?)",
        (run_id, start, end, len(values), values.tobytes()),
    )


def load_run(conn: sqlite3.Connection, run_id: int) -> StoredRun | None:
    row = conn.execute(
        "SELECT data_source, metrics_json, config_json FROM backtest_runs WHERE id = ?",
        (run_id,),
    ).fetchone()
    if row is None:
        return None
    cursor = conn.execute(
        "SELECT symbol, side, entry_time, entry_price, exit_time, exit_price, qty, pnl,"
        " return_pct, strategy FROM backtest_trades WHERE run_id = ? ORDER BY id", (run_id,))
    names = [d[0] for d in cursor.description]
    trades = [dict(zip(names, values, strict=True)) for values in cursor]
    curve = conn.execute(
        "SELECT start, end, equity FROM backtest_equity WHERE run_id = ?", (run_id,)
    ).fetchone()
    import numpy as np

    equity = None if curve is None else np.frombuffer(curve[2], dtype="<f8").copy()
    return StoredRun(run_id, row[0], json.loads(row[1]), json.loads(row[2]), trades, equity,
                     curve[0] if curve else None, curve[1] if curve else None)


def latest_run_id(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT max(id) FROM backtest_runs").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def positions_with_last_fill(conn: sqlite3.Connection) -> list[tuple]:
    """(symbol, qty, avg_price, realized_pnl, fees, last fill price) of every stored
    position, as text (Decimals), the last fill price NULL for a symbol never filled."""
    return conn.execute(
        "SELECT p.symbol, p.qty, p.avg_price, p.realized_pnl, p.fees,"
        " (SELECT f.price FROM fills f WHERE f.symbol = p.symbol ORDER BY f.ts DESC, f.id DESC"
        "  LIMIT 1) FROM positions p ORDER BY p.symbol").fetchall()
