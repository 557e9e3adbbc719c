"""The stored fills as the desk's history reads them (Market chart markers, the History
pane): newest first, re-read only when a new fill has been stored."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.types import Fill, OrderSide
from store import fill_history as rows
from store.db import Store


def _fill(row: dict) -> Fill:
    return Fill(row["client_order_id"], row["trade_id"], row["symbol"], OrderSide(row["side"]),
                Decimal(row["qty"]), Decimal(row["price"]), Decimal(row["fee"]),
                datetime.fromisoformat(row["ts"]))


class FillHistory:
    """The newest fills of a store, cached until the store holds a newer one (the engine
    publishes a snapshot every step; most steps fill nothing)."""

    def __init__(self, store: Store, keep: int = 500) -> None:
        self.store = store
        self.keep = keep
        self._head = -1
        self._fills: list[Fill] = []

    def newest(self) -> list[Fill]:
        """Up to `keep` fills, newest first."""
        with self.store.lock:
            head = rows.newest_fill_id(self.store.conn)
            if head != self._head:
                self._fills = [_fill(r) for r in rows.recent_fills(self.store.conn, self.keep)]
                self._head = head
        return self._fills


def latest_audit(store: Store, kinds: tuple[str, ...],
                 since_seq: int = 0) -> dict[tuple[str, str], dict]:
    """(kind, symbol) -> the payload of the newest such entry after `since_seq`."""
    import json

    with store.lock:
        found = rows.latest_entries(store.conn, kinds, since_seq)
    return {(kind, symbol): json.loads(payload) for _, kind, symbol, payload in found
            if symbol is not None}
