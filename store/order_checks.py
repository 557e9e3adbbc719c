"""The pre-trade checks an order was judged with, kept on its row (orders.checks_json):
[{rule, passed, value, limit[, reason]}], as its order.proposed / risk.denied entry has."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

MIGRATION_SQL = """
ALTER TABLE orders ADD COLUMN checks_json TEXT;
"""


def set_order_checks(conn: sqlite3.Connection, client_order_id: str,
                     checks: Sequence[dict[str, Any]]) -> None:
    conn.execute("UPDATE orders SET checks_json = ? WHERE client_order_id = ?",
                 (json.dumps(list(checks), sort_keys=True, default=str), client_order_id))


def order_checks(conn: sqlite3.Connection, client_order_id: str) -> list[dict] | None:
    row = conn.execute("SELECT checks_json FROM orders WHERE client_order_id = ?",
                       (client_order_id,)).fetchone()
    return None if row is None or row[0] is None else json.loads(row[0])
