"""Reads of the stored fills for the desk's history: the newest ones (optionally of one
symbol) and the id of the newest, which tells a reader whether anything changed."""

from __future__ import annotations

import sqlite3
from typing import Any

COLUMNS = ("id", "trade_id", "client_order_id", "symbol", "side", "qty", "price", "fee", "ts")


def newest_fill_id(conn: sqlite3.Connection) -> int:
    (head,) = conn.execute("SELECT coalesce(max(id), 0) FROM fills").fetchone()
    return int(head)


def recent_fills(conn: sqlite3.Connection, limit: int,
                 symbol: str | None = None) -> list[dict[str, Any]]:
    """The newest `limit` fills (of `symbol` if given), newest first; values as stored."""
    where = " WHERE symbol = ?" if symbol else ""
    rows = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM fills{where} ORDER BY id DESC LIMIT ?",
        ((symbol, limit) if symbol else (limit,)),
    ).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def order_actors(conn: sqlite3.Connection, client_order_ids: list[str]) -> dict[str, str]:
    """Parent order id -> the strategy field of its order row ("manual" for the user's)."""
    if not client_order_ids:
        return {}
    marks = ", ".join("?" for _ in client_order_ids)
    rows = conn.execute(
        f"SELECT client_order_id, coalesce(strategy, '') FROM orders"
        f" WHERE client_order_id IN ({marks})", client_order_ids).fetchall()
    return dict(rows)


def recent_sessions(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """The newest execution sessions with their parts summed (for the Execution pane after
    a restart): id, kind, symbol, side, total_qty, status, arrival_price, parts_total,
    parts_done, filled_qty, avg_price (values as stored; the sums as numbers)."""
    rows = conn.execute(
        "SELECT s.id, s.kind, s.symbol, s.side, s.total_qty, s.status, s.arrival_price,"
        " count(p.part_no),"
        " sum(CASE WHEN p.status IN ('pending', 'submitted', 'unknown') THEN 0 ELSE 1 END),"
        " total(CAST(p.filled_qty AS REAL)),"
        " total(CAST(p.filled_qty AS REAL) * CAST(coalesce(p.avg_price, '0') AS REAL))"
        " FROM execution_sessions s LEFT JOIN execution_parts p ON p.session_id = s.id"
        " GROUP BY s.id ORDER BY s.created_at DESC, s.id DESC LIMIT ?", (limit,)).fetchall()
    names = ("id", "kind", "symbol", "side", "total_qty", "status", "arrival_price",
             "parts_total", "parts_done", "filled_qty", "notional")
    return [dict(zip(names, row, strict=True)) for row in rows]


def latest_entries(conn: sqlite3.Connection, kinds: tuple[str, ...],
                   since_seq: int = 0) -> list[tuple[int, str, str, str]]:
    """The newest entry of each (kind, symbol) among `kinds` after `since_seq`, as (seq,
    kind, symbol, payload JSON): why a symbol's last decision went nowhere."""
    marks = ", ".join("?" for _ in kinds)
    return conn.execute(
        f"SELECT max(seq), kind, json_extract(payload, '$.symbol') AS symbol, payload"
        f" FROM audit_entries WHERE kind IN ({marks}) AND seq > ?"
        f" GROUP BY kind, symbol", (*kinds, since_seq)).fetchall()


def fill_count(conn: sqlite3.Connection) -> int:
    (count,) = conn.execute("SELECT count(*) FROM fills").fetchone()
    return int(count)
