"""The journal over the SQLite store: every live decision becomes rows and audit entries.

Each write is one unit of work (one `BEGIN IMMEDIATE` transaction) unless a `batch()`
groups several; no batch spans a broker call, so an order's intent is on disk before the
order leaves and no write lock is held while the broker answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.journal import Journal
from engine.types import Fill, OrderRequest


def open_store(cfg):
    """The store the configuration names (after --db), with its audit settings."""
    from store.db import Store
    from store.paths import default_audit_key_path, default_db_path

    path = Path(cfg.store.path) if cfg.store.path else default_db_path()
    key = Path(cfg.audit.key_path) if cfg.audit.key_path else default_audit_key_path()
    return Store.open(
        path,
        busy_timeout_ms=cfg.store.busy_timeout_ms,
        audit_key_path=key,
        checkpoint_every=cfg.audit.checkpoint_every,
    )


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


class StoreJournal(Journal):
    def __init__(self, store) -> None:
        self.store = store
        self.conn = store.conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.store.unit_of_work():
            yield

    def event(self, kind: str, actor: str, payload: Mapping[str, Any]) -> None:
        with self.store.unit_of_work():
            self.store.audit.append(kind, actor, dict(payload))

    def order(self, order: OrderRequest, status: str, ts: datetime, **extra: Any) -> None:
        now = _iso(ts)
        with self.store.unit_of_work():
            self.conn.execute(
                "INSERT INTO orders (client_order_id, symbol, side, type, qty, limit_price,"
                " status, strategy, reason, ref_price, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(client_order_id) DO UPDATE SET status = excluded.status,"
                " updated_at = excluded.updated_at",
                (order.client_order_id, order.symbol, str(order.side), str(order.type),
                 str(order.qty), None if order.limit_price is None else str(order.limit_price),
                 status, order.strategy, order.reason,
                 None if order.ref_price is None else str(order.ref_price), now, now),
            )

    def fill(self, fill: Fill) -> bool:
        with self.store.unit_of_work():
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO fills (trade_id, client_order_id, symbol, side, qty,"
                " price, fee, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (fill.trade_id, fill.client_order_id, fill.symbol, str(fill.side),
                 str(fill.qty), str(fill.price), str(fill.fee), _iso(fill.ts)),
            )
            if cursor.rowcount:
                self.conn.execute(
                    "UPDATE orders SET status = 'filled', updated_at = ?"
                    " WHERE client_order_id = ?", (_iso(fill.ts), fill.client_order_id),
                )
            return bool(cursor.rowcount)

    def signal(self, ts: datetime, symbol: str, strategy: str, side: str, conf: float) -> None:
        with self.store.unit_of_work():
            self.conn.execute(
                "INSERT INTO signals (ts, symbol, strategy, side, confidence)"
                " VALUES (?, ?, ?, ?, ?)", (_iso(ts), symbol, strategy, side, conf),
            )

    def decision(self, payload: Mapping[str, Any]) -> None:
        with self.store.unit_of_work():
            self.conn.execute(
                "INSERT INTO ensemble_decisions (ts, symbol, decision, mode, confidence,"
                " votes_json, weights_json, contributors_json, total_weight)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (str(payload.get("ts")), payload.get("symbol"), payload.get("decision"),
                 payload.get("mode"), payload.get("confidence"),
                 json.dumps(payload.get("vote_counts")), json.dumps(payload.get("weights")),
                 json.dumps(payload.get("contributors")), payload.get("total_weight")),
            )

    def position(self, symbol: str, qty: Any, avg_price: Any, realized: Any, fees: Any) -> None:
        with self.store.unit_of_work():
            self.conn.execute(
                "INSERT INTO positions (symbol, qty, avg_price, realized_pnl, fees, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET"
                " qty = excluded.qty, avg_price = excluded.avg_price,"
                " realized_pnl = excluded.realized_pnl, fees = excluded.fees,"
                " updated_at = excluded.updated_at",
                (symbol, str(qty), str(avg_price), str(realized), str(fees),
                 datetime.now(UTC).isoformat()),
            )
