"""Rows of the live trading journal: orders, fills, signals, ensemble decisions, positions.

Plain values in; call inside `store.unit_of_work()`. Decimals are stored as TEXT, times as
ISO 8601 in UTC (the format the journal has always written).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def upsert_order(conn: sqlite3.Connection, order: Mapping[str, Any], ts: datetime) -> None:
    """Insert an order (client_order_id, symbol, side, type, qty, limit_price, status,
    strategy, reason, ref_price) or update the status of the one with that client id."""
    now = _iso(ts)
    conn.execute(
        "INSERT INTO orders (client_order_id, symbol, side, type, qty, limit_price,"
        " status, strategy, reason, ref_price, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(client_order_id) DO UPDATE SET status = excluded.status,"
        " updated_at = excluded.updated_at",
        (order["client_order_id"], order["symbol"], str(order["side"]), str(order["type"]),
         str(order["qty"]), _opt(order.get("limit_price")), order["status"],
         order.get("strategy", ""), order.get("reason", ""), _opt(order.get("ref_price")),
         now, now),
    )


def insert_fill_and_mark_filled(conn: sqlite3.Connection, fill: Mapping[str, Any]) -> bool:
    """Store a fill once per trade id and mark its order filled; False if already stored."""
    ts = _iso(fill["ts"])
    cursor = conn.execute(
        "INSERT OR IGNORE INTO fills (trade_id, client_order_id, symbol, side, qty,"
        " price, fee, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (fill["trade_id"], fill["client_order_id"], fill["symbol"], str(fill["side"]),
         str(fill["qty"]), str(fill["price"]), str(fill["fee"]), ts),
    )
    if cursor.rowcount:
        conn.execute("UPDATE orders SET status = 'filled', updated_at = ?"
                     " WHERE client_order_id = ?", (ts, fill["client_order_id"]))
    return bool(cursor.rowcount)


def insert_signal(
    conn: sqlite3.Connection, ts: datetime, symbol: str, strategy: str, side: str, conf: float
) -> None:
    conn.execute(
        "INSERT INTO signals (ts, symbol, strategy, side, confidence) VALUES (?, ?, ?, ?, ?)",
        (_iso(ts), symbol, strategy, side, conf),
    )


def insert_decision(conn: sqlite3.Connection, payload: Mapping[str, Any]) -> None:
    """One ensemble decision: ts, symbol, decision, mode, confidence, vote_counts, weights,
    contributors, total_weight (the lists and maps stored as JSON)."""
    conn.execute(
        "INSERT INTO ensemble_decisions (ts, symbol, decision, mode, confidence,"
        " votes_json, weights_json, contributors_json, total_weight)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(payload.get("ts")), payload.get("symbol"), payload.get("decision"),
         payload.get("mode"), payload.get("confidence"),
         json.dumps(payload.get("vote_counts")), json.dumps(payload.get("weights")),
         json.dumps(payload.get("contributors")), payload.get("total_weight")),
    )


def upsert_position(
    conn: sqlite3.Connection, symbol: str, qty: Any, avg_price: Any, realized: Any, fees: Any
) -> None:
    conn.execute(
        "INSERT INTO positions (symbol, qty, avg_price, realized_pnl, fees, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET"
        " qty = excluded.qty, avg_price = excluded.avg_price,"
        " realized_pnl = excluded.realized_pnl, fees = excluded.fees,"
        " updated_at = excluded.updated_at",
        (symbol, str(qty), str(avg_price), str(realized), str(fees),
         datetime.now(UTC).isoformat()),
    )
