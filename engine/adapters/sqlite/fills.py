"""The stored fills, as the live engine reads them: one lookup by trade id (so a fill seen
again after a restart is not booked twice) and the whole list (to rebuild the account)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.types import Fill, OrderSide
from store import executions as rows
from store.db import Store


def stored_fill(store: Store, trade_id: str) -> bool:
    """Whether a fill with this trade id is already stored."""
    with store.lock:  # the writer connection, shared with other threads
        return rows.fill_exists(store.conn, trade_id)


def stored_fills(store: Store) -> list[Fill]:
    """Every stored fill, oldest first."""
    with store.lock:
        found = rows.all_fills(store.conn)
    return [Fill(f["client_order_id"], f["trade_id"], f["symbol"], OrderSide(f["side"]),
                 Decimal(f["qty"]), Decimal(f["price"]), Decimal(f["fee"]),
                 datetime.fromisoformat(f["ts"])) for f in found]
