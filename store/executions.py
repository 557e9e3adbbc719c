"""Rows of execution sessions, their parts, and the child orders and fills they produce.

Plain values in, dicts out: the store knows rows, not sessions (the engine builds those).
Decimals are stored as TEXT and come back as TEXT. Call these inside `store.unit_of_work()`
so that a session's rows, an intent or an outcome commit together with their audit entry.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from store.canonical import utc_iso

_SESSION_COLUMNS = (
    "id", "kind", "symbol", "side", "total_qty", "status", "schedule_json", "params_json",
    "arrival_price", "created_at", "updated_at",
)
_PART_COLUMNS = (
    "session_id", "part_no", "scheduled_at", "qty", "status", "client_order_id", "attempt",
    "filled_qty", "avg_price",
)
_PART_UPDATABLE = frozenset({"status", "client_order_id", "attempt", "filled_qty", "avg_price"})


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, datetime):
        return utc_iso(value)
    return str(value)


def insert_session(
    conn: sqlite3.Connection, session: Mapping[str, Any], parts: Iterable[Mapping[str, Any]],
    now: datetime,
) -> None:
    """The session row and all its parts. `session` holds the session columns (params as a
    dict under "params"); each part holds part_no, scheduled_at, qty (and optionally more)."""
    parts = list(parts)
    row = {
        "id": session["id"], "kind": session["kind"], "symbol": session["symbol"],
        "side": session["side"], "total_qty": _text(session["total_qty"]),
        "status": session.get("status", "running"),
        "schedule_json": json.dumps(
            [{"part_no": p["part_no"], "due": _text(p["scheduled_at"]), "qty": _text(p["qty"])}
             for p in parts]
        ),
        "params_json": json.dumps(session.get("params", {}), sort_keys=True, default=str),
        "arrival_price": _text(session.get("arrival_price")),
        "created_at": utc_iso(now), "updated_at": utc_iso(now),
    }
    marks = ", ".join("?" for _ in _SESSION_COLUMNS)
    conn.execute(
        f"INSERT INTO execution_sessions ({', '.join(_SESSION_COLUMNS)}) VALUES ({marks})",
        [row[c] for c in _SESSION_COLUMNS],
    )
    marks = ", ".join("?" for _ in _PART_COLUMNS)
    conn.executemany(
        f"INSERT INTO execution_parts ({', '.join(_PART_COLUMNS)}) VALUES ({marks})",
        [
            (session["id"], p["part_no"], _text(p["scheduled_at"]), _text(p["qty"]),
             p.get("status", "pending"), p.get("client_order_id"), p.get("attempt", 0),
             _text(p.get("filled_qty", "0")), _text(p.get("avg_price")))
            for p in parts
        ],
    )


def update_session(
    conn: sqlite3.Connection, session_id: str, *, status: str, note: str, now: datetime
) -> None:
    # The note lives in params_json: migration 1's schema has no column for it, and one
    # short text does not justify a migration.
    conn.execute(
        "UPDATE execution_sessions SET status = ?, updated_at = ?,"
        " params_json = json_set(params_json, '$.note', ?) WHERE id = ?",
        (status, utc_iso(now), note, session_id),
    )


def update_part(conn: sqlite3.Connection, session_id: str, part_no: int, **values: Any) -> None:
    unknown = set(values) - _PART_UPDATABLE
    if unknown:
        raise ValueError(f"execution_parts has no updatable column {sorted(unknown)}")
    sets = ", ".join(f"{c} = ?" for c in values)
    conn.execute(
        f"UPDATE execution_parts SET {sets} WHERE session_id = ? AND part_no = ?",
        [*(_text(v) for v in values.values()), session_id, part_no],
    )


def get_session(conn: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    cur = conn.execute(
        f"SELECT {', '.join(_SESSION_COLUMNS)} FROM execution_sessions WHERE id = ?",
        (session_id,),
    )
    row = cur.fetchone()
    return None if row is None else _session_dict(row)


def sessions(conn: sqlite3.Connection, status: str | None = None) -> list[dict[str, Any]]:
    """Sessions (all, or those in `status`), oldest first."""
    sql = f"SELECT {', '.join(_SESSION_COLUMNS)} FROM execution_sessions"
    args: tuple = ()
    if status is not None:
        sql += " WHERE status = ?"
        args = (status,)
    return [_session_dict(r) for r in conn.execute(sql + " ORDER BY created_at, id", args)]


def session_ids(conn: sqlite3.Connection) -> list[str]:
    """The id of every session, oldest first."""
    return [sid for (sid,) in conn.execute(
        "SELECT id FROM execution_sessions ORDER BY created_at, id")]


def parts(conn: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """The parts of a session; `order_type` is the type of the current attempt's orders
    row (None before the first submission)."""
    cols = ", ".join(f"p.{c}" for c in _PART_COLUMNS)
    cur = conn.execute(
        f"SELECT {cols}, o.type FROM execution_parts p LEFT JOIN orders o"
        " ON o.client_order_id = p.client_order_id WHERE p.session_id = ? ORDER BY p.part_no",
        (session_id,),
    )
    return [dict(zip((*_PART_COLUMNS, "order_type"), r, strict=True)) for r in cur]


def _session_dict(row: tuple) -> dict[str, Any]:
    out = dict(zip(_SESSION_COLUMNS, row, strict=True))
    out["params"] = json.loads(out.pop("params_json") or "{}")
    out["schedule"] = json.loads(out.pop("schedule_json") or "[]")
    return out


# -- child orders and their fills ---------------------------------------------------------


def upsert_order(conn: sqlite3.Connection, order: Mapping[str, Any], now: datetime) -> None:
    """Insert the orders row of a child (keyed by client order id) or update its status."""
    ts = utc_iso(now)
    conn.execute(
        "INSERT INTO orders (client_order_id, symbol, side, type, qty, limit_price, status,"
        " strategy, reason, session_id, ref_price, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(client_order_id) DO UPDATE SET status = excluded.status,"
        " updated_at = excluded.updated_at",
        (order["client_order_id"], order["symbol"], order["side"], order["type"],
         _text(order["qty"]), _text(order.get("limit_price")), order["status"],
         order.get("strategy", ""), order.get("reason", ""), order.get("session_id"),
         _text(order.get("ref_price")), ts, ts),
    )


def set_order_status(
    conn: sqlite3.Connection, client_order_id: str, status: str, now: datetime,
    broker_order_id: str | None = None,
) -> None:
    conn.execute(
        "UPDATE orders SET status = ?, updated_at = ?,"
        " broker_order_id = COALESCE(?, broker_order_id) WHERE client_order_id = ?",
        (status, utc_iso(now), broker_order_id, client_order_id),
    )


def order_session(conn: sqlite3.Connection, client_order_id: str) -> str | None:
    row = conn.execute(
        "SELECT session_id FROM orders WHERE client_order_id = ?", (client_order_id,)
    ).fetchone()
    return None if row is None else row[0]


def child_orders(conn: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """client_order_id, type and status of every orders row of a session."""
    cur = conn.execute(
        "SELECT client_order_id, type, status FROM orders WHERE session_id = ? ORDER BY id",
        (session_id,),
    )
    return [dict(zip(("client_order_id", "type", "status"), r, strict=True)) for r in cur]


def insert_fill(conn: sqlite3.Connection, fill: Mapping[str, Any]) -> bool:
    """Store a fill once per trade id; False if that trade id was already stored."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO fills (trade_id, client_order_id, symbol, side, qty, price, fee,"
        " ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (fill["trade_id"], fill["client_order_id"], fill["symbol"], fill["side"],
         _text(fill["qty"]), _text(fill["price"]), _text(fill.get("fee", "0")),
         _text(fill["ts"])),
    )
    return bool(cur.rowcount)


def fills_of(conn: sqlite3.Connection, client_order_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Stored fills of these client order ids (qty and price as TEXT), in insertion order."""
    ids = list(client_order_ids)
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    cur = conn.execute(
        "SELECT trade_id, client_order_id, qty, price, fee, ts FROM fills"
        f" WHERE client_order_id IN ({marks}) ORDER BY id",
        ids,
    )
    cols = ("trade_id", "client_order_id", "qty", "price", "fee", "ts")
    return [dict(zip(cols, r, strict=True)) for r in cur]


def fill_exists(conn: sqlite3.Connection, trade_id: str) -> bool:
    """Whether a fill with this trade id is stored (by anyone: a session or the journal)."""
    return conn.execute(
        "SELECT 1 FROM fills WHERE trade_id = ?", (trade_id,)).fetchone() is not None


FILL_COLUMNS = ("client_order_id", "trade_id", "symbol", "side", "qty", "price", "fee", "ts")


def all_fills(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every stored fill (values as TEXT), in the order they were stored."""
    cur = conn.execute(f"SELECT {', '.join(FILL_COLUMNS)} FROM fills ORDER BY id")
    return [dict(zip(FILL_COLUMNS, r, strict=True)) for r in cur]
