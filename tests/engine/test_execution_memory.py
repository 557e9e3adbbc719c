"""ExecutionManager on the in-memory store (what backtests use): the same rules as on
SQLite, without a file. The intent is in the store when the broker is called, and no
broker call happens inside an open unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from engine.adapters.memory import MemoryExecutionStore
from engine.brokers.paper import PaperBroker
from engine.config.schema import (
    DcaExecution,
    ExecutionConfig,
    SmartExecution,
    TwapExecution,
    VwapExecution,
)
from engine.execution.manager import BrokerCallInTransaction, ExecutionManager
from engine.trading.portfolio import Portfolio
from engine.trading.risk import GatedBroker, RiskGate, RiskLimits
from engine.types import Bar, OrderRequest, OrderSide

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def config() -> ExecutionConfig:
    return ExecutionConfig(
        mode="dca", catch_up="skip",
        smart=SmartExecution(D("10000"), 5, 2.0, "market"),
        twap=TwapExecution(30.0, 10, "market"),
        vwap=VwapExecution(30.0, 10, 60.0, "market"),
        dca=DcaExecution(60.0, 4, "market"),
    )


class Watching(PaperBroker):
    """A paper broker that records, at each submission, what the store already holds."""

    def __init__(self, store: MemoryExecutionStore) -> None:
        super().__init__(fee=D("0.001"), slippage_bps=D(0))
        self.store = store
        self.seen: list[tuple[str, bool, str]] = []

    def submit(self, order: OrderRequest) -> str:
        sid = order.client_order_id.rsplit("-p", 1)[0]
        stored = {o["client_order_id"]: o["status"] for o in self.store.child_orders(sid)}
        self.seen.append((stored.get(order.client_order_id, ""),
                          self.store.transaction_open(), self.store.audit_entries[-1]["kind"]))
        return super().submit(order)


def build():
    store = MemoryExecutionStore()
    broker = Watching(store)
    gated = GatedBroker(broker, RiskGate(RiskLimits(1.0, 1.0, 1.0, D("1"))),
                        Portfolio(D("1e7")))
    return store, broker, gated, ExecutionManager(gated, store, config(), clock=lambda: T0)


def test_a_dca_session_runs_to_done_in_memory():
    store, broker, gated, manager = build()
    parent = OrderRequest("BTC/USDT", OrderSide.BUY, D("2"), client_order_id="o-1",
                          ref_price=D("100"))
    session = manager.start(parent, T0, arrival_price=D("100"))
    fills = []
    for h in range(5):
        ts = T0 + h * HOUR
        manager.tick(ts)
        new = gated.on_bar(Bar("BTC/USDT", ts + HOUR, 100, 101, 99, 100, 50))
        for fill in new:
            assert manager.on_fill(fill)
        fills += new
    for fill in fills:  # every fill seen a second time counts once
        manager.on_fill(fill)
    done = manager.session(session.id)
    assert done.status == "done" and done.filled_qty == D("2") and done.parts_done == 4
    # Every child's intent was stored, and committed, before the broker saw it.
    assert broker.seen == [("submitted", False, "order.submitted")] * 4
    kinds = [e["kind"] for e in store.audit_entries]
    assert kinds.count("order.filled") == 4 and kinds[-1] == "session.done"
    assert manager.session_ids() == [session.id]


def test_no_broker_call_inside_an_open_unit_of_work_in_memory():
    store, broker, _gated, manager = build()
    parent = OrderRequest("BTC/USDT", OrderSide.BUY, D("1"), client_order_id="o-2",
                          ref_price=D("100"))
    manager.start(parent, T0, arrival_price=D("100"))
    with pytest.raises(BrokerCallInTransaction), store.unit_of_work():
        manager.tick(T0)
    assert broker.seen == []  # the order never left


class FailingOnce(MemoryExecutionStore):
    """A store whose first part update after a fill fails (a disk error, a bug)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    def update_part(self, *args, **kwargs) -> None:
        if self.fail and "filled_qty" in kwargs:
            self.fail = False
            raise OSError("disk full")
        super().update_part(*args, **kwargs)


def test_a_fill_rolled_back_counts_once_when_delivered_again():
    """A part keeps its fills in memory; a unit of work that fails takes its fill back out
    of the part as the store rolls it back, so the replayed fill counts once."""
    store = FailingOnce()
    gated = GatedBroker(PaperBroker(fee=D(0), slippage_bps=D(0)),
                        RiskGate(RiskLimits(1.0, 1.0, 1.0, D("1"))), Portfolio(D("1e7")))
    manager = ExecutionManager(gated, store, config(), clock=lambda: T0)
    parent = OrderRequest("BTC/USDT", OrderSide.BUY, D("2"), client_order_id="o-3",
                          ref_price=D("100"))
    session = manager.start(parent, T0, mode="market", arrival_price=D("100"))
    manager.tick(T0)
    [fill] = gated.on_bar(Bar("BTC/USDT", T0 + HOUR, 100, 101, 99, 100, 50))
    store.fail = True
    with pytest.raises(OSError):
        manager.on_fill(fill)
    assert store.fills_of([fill.client_order_id]) == []  # rolled back
    assert manager.on_fill(fill)
    done = manager.session(session.id)
    assert done.status == "done" and done.filled_qty == D("2")
    assert [f["trade_id"] for f in store.fills_of([fill.client_order_id])] == [fill.trade_id]
