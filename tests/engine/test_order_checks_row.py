"""An order's row keeps the pre-trade checks it was judged with (migration 10)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from engine.adapters.sqlite.journal import StoreJournal
from engine.types import OrderRequest, OrderSide, OrderType
from store.db import Store
from store.order_checks import order_checks


def test_the_order_row_carries_every_check(tmp_path):
    store = Store.open(tmp_path / "desk.db", audit_key_path=tmp_path / "key.pem")
    journal = StoreJournal(store)
    order = OrderRequest("BTC/USDT", OrderSide.BUY, D("0.5"), OrderType.MARKET,
                         client_order_id="o-1", ref_price=D("60000"))
    checks = [{"rule": "max_position", "passed": True, "value": 0.3, "limit": 0.25},
              {"rule": "liquidity", "passed": False, "value": 5.0, "limit": "1000000",
               "reason": "too thin"}]
    journal.order(order, "denied", datetime(2026, 1, 1, tzinfo=UTC), checks=checks)
    assert order_checks(store.conn, "o-1") == checks
    journal.order(order, "expired", datetime(2026, 1, 2, tzinfo=UTC))  # no checks: kept
    assert order_checks(store.conn, "o-1") == checks
    store.close()
