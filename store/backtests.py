"""Rows of stored backtest runs and their trades."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

TRADE_COLUMNS = ("symbol", "side", "entry_time", "entry_price", "exit_time", "exit_price",
                 "qty", "pnl", "return_pct", "strategy")


def save_backtest_run(
    conn: sqlite3.Connection,
    *,
    config_hash: str,
    config_json: str,
    data_source: str,
    metrics_json: str,
    timing_json: str,
    trades: Iterable[Mapping],
) -> int:
    """Insert one run and its trades (call inside a unit of work); returns the run id."""
    cursor = conn.execute(
        "INSERT INTO backtest_runs (created_at, config_hash, config_json, data_source,"
        " metrics_json, timing_json) VALUES (?, ?, ?, ?, ?, ?)",
        (datetime.now(UTC).isoformat(), config_hash, config_json, data_source, metrics_json,
         timing_json),
    )
    run_id = int(cursor.lastrowid)
    conn.executemany(
        f"INSERT INTO backtest_trades (run_id, {', '.join(TRADE_COLUMNS)})"
        f" VALUES (?, {', '.join('?' for _ in TRADE_COLUMNS)})",
        ((run_id, *(str(t[c]) if c != "return_pct" else t[c] for c in TRADE_COLUMNS))
         for t in trades),
    )
    return run_id
