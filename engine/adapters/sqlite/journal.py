"""`StoreJournal`: the trading journal over the SQLite store; every live decision becomes
rows and audit entries.

Each write is one unit of work (one `BEGIN IMMEDIATE` transaction) unless a `batch()`
groups several; no batch spans a broker call, so an order's intent is on disk before the
order leaves and no write lock is held while the broker answers. The SQL is in
`store.journal_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from engine.trading.journal import Journal
from engine.types import Fill, OrderRequest
from store import journal_rows as rows
from store.db import Store
from store.order_checks import set_order_checks


class StoreJournal(Journal):
    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.store.unit_of_work():
            yield

    def event(self, kind: str, actor: str, payload: Mapping[str, Any]) -> None:
        with self.store.unit_of_work():
            self.store.audit.append(kind, actor, dict(payload))

    def order(self, order: OrderRequest, status: str, ts: datetime, **extra: Any) -> None:
        with self.store.unit_of_work() as conn:
            rows.upsert_order(conn, {
                "client_order_id": order.client_order_id, "symbol": order.symbol,
                "side": order.side, "type": order.type, "qty": order.qty,
                "limit_price": order.limit_price, "status": status,
                "strategy": order.strategy, "reason": order.reason,
                "ref_price": order.ref_price,
            }, ts)
            if extra.get("checks") is not None:  # the pre-trade checks it was judged with
                set_order_checks(conn, order.client_order_id, extra["checks"])

    def fill(self, fill: Fill) -> bool:
        with self.store.unit_of_work() as conn:
            return rows.insert_fill_and_mark_filled(conn, {
                "trade_id": fill.trade_id, "client_order_id": fill.client_order_id,
                "symbol": fill.symbol, "side": fill.side, "qty": fill.qty,
                "price": fill.price, "fee": fill.fee, "ts": fill.ts,
            })

    def signal(self, ts: datetime, symbol: str, strategy: str, side: str, conf: float) -> None:
        with self.store.unit_of_work() as conn:
            rows.insert_signal(conn, ts, symbol, strategy, side, conf)

    def decision(self, payload: Mapping[str, Any]) -> None:
        with self.store.unit_of_work() as conn:
            rows.insert_decision(conn, payload)

    def position(self, symbol: str, qty: Any, avg_price: Any, realized: Any, fees: Any) -> None:
        with self.store.unit_of_work() as conn:
            rows.upsert_position(conn, symbol, qty, avg_price, realized, fees)
