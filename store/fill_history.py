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
