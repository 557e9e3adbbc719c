"""Execution sessions through the real ccxt client against the fake exchange, under each
injected fault: no order is duplicated or lost, and after reconciliation the desk's
fills equal the exchange's trades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from engine.config.schema import config_from_dict
from engine.execution.manager import ExecutionManager
from engine.trading.portfolio import Portfolio
from engine.trading.risk import GatedBroker, RiskGate, RiskLimits
from engine.types import Bar, OrderRequest, OrderSide
from engine.venues.ccxt.broker import CcxtBroker
from store.db import Store
from store.vault import ApiCredentials
from tests.fakes.exchange import FakeExchange

KEYS = ApiCredentials("fault-test-key", "fault-test-secret")
LOOSE = RiskLimits(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
                   min_order_notional=Decimal(0))
START = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake():
    with FakeExchange(ws_port=None) as running:
        yield running


class Desk:
    """The execution half of the desk over one store, rebuilt at will (a restart)."""

    def __init__(self, fake, folder, *, catch_up: str = "run") -> None:
        self.fake, self.folder = fake, folder
        self.cfg = config_from_dict({"execution": {
            "mode": "dca", "catch_up": catch_up,
            "dca": {"interval_minutes": 1.0, "parts": 4}}}).execution
        self.restart()

    def restart(self) -> None:
        self.store = Store.open(self.folder / "desk.db", audit_key_path=self.folder / "a.pem")
        self.portfolio = Portfolio(Decimal(100_000))
        self.broker = CcxtBroker("binance", KEYS, sandbox=False, urls=self.fake.ccxt_urls(),
                                 timeout_ms=400, sleep=lambda _s: None, symbols=["BTC/USDT"])
        self.gated = GatedBroker(self.broker, RiskGate(LOOSE), self.portfolio)
        self.now = START
        self.manager = ExecutionManager(self.gated, self.store, self.cfg, clock=lambda: self.now)

    def run(self, minutes: int) -> None:
        """Advance the exchange and the clock a minute at a time, polling fills."""
        for _ in range(minutes):
            self.now += timedelta(minutes=1)
            self.manager.tick(self.now)
            self.fake.advance(1)
            bar = Bar("BTC/USDT", self.now, 1, 1, 1, 1, 1)
            for fill in self.gated.on_bar(bar):
                self.manager.on_fill(fill)

    def fills(self, session_id: str) -> dict[str, Decimal]:
        rows = self.store.conn.execute(
            "SELECT trade_id, qty FROM fills WHERE client_order_id LIKE ?",
            (session_id + "-%",)).fetchall()
        return {trade: Decimal(qty) for trade, qty in rows}


def _exchange_trades(fake, session_id: str) -> dict[str, Decimal]:
    venue = fake.venue
    with venue.lock:
        return {str(t.trade_id): t.qty for t in venue.trades
                if t.order.cid.startswith(session_id)}


@pytest.mark.parametrize("fault", [
    {"accept_then_timeout": 1},
    {"reject_then_timeout": 1},
    {"accept_then_timeout": 1, "drop": True},
    {"rate_limit": 3, "retry_after": 0},
    {"server_error": 2},
    {"fill_slices": 3},
])
def test_no_order_is_duplicated_or_lost_under_a_fault(fake, tmp_path, fault):
    fake.set_faults(rate_limit=0, server_error=0, accept_then_timeout=0, reject_then_timeout=0,
                    drop=False, stall_s=0.8, fill_slices=1)
    desk = Desk(fake, tmp_path)
    parent = OrderRequest("BTC/USDT", OrderSide.BUY, Decimal("0.04"),
                          client_order_id=f"fault-{len(fake.received)}",
                          ref_price=Decimal(60000))
    session = desk.manager.start(parent, desk.now, arrival_price=Decimal(60000))
    fake.set_faults(**fault)
    desk.run(8)
    fake.set_faults(accept_then_timeout=0, reject_then_timeout=0, rate_limit=0,
                    server_error=0, fill_slices=1)
    desk.run(4)  # time for unknown outcomes to be looked up and resolved
    done = desk.manager.session(session.id)
    assert done.status == "done", [(p.part_no, p.status) for p in done.parts]
    assert done.filled_qty == Decimal("0.04")
    created = {cid: n for cid, n in fake.venue.created.items() if cid.startswith(session.id)}
    assert len(created) == 4 and set(created.values()) == {1}, created  # one order per part
    assert desk.fills(session.id) == _exchange_trades(fake, session.id)


def test_a_restart_reconciles_with_the_exchange(fake, tmp_path):
    """The desk dies with a child at the exchange: the new desk finds it by client id,
    records its fill once and resends nothing."""
    fake.set_faults(rate_limit=0, server_error=0, accept_then_timeout=0, reject_then_timeout=0,
                    drop=False, stall_s=0.8, fill_slices=1)
    desk = Desk(fake, tmp_path)
    parent = OrderRequest("BTC/USDT", OrderSide.BUY, Decimal("0.04"),
                          client_order_id=f"restart-{len(fake.received)}",
                          ref_price=Decimal(60000))
    session = desk.manager.start(parent, desk.now, arrival_price=Decimal(60000))
    desk.run(2)
    desk.manager.tick(desk.now + timedelta(minutes=1))  # a part goes out; then the crash
    desk.store.conn.close()
    desk.restart()
    desk.now = START + timedelta(minutes=3)
    desk.manager.recover(desk.now)
    desk.run(4)
    assert desk.manager.session(session.id).status == "done"
    created = {cid: n for cid, n in fake.venue.created.items() if cid.startswith(session.id)}
    assert len(created) == 4 and set(created.values()) == {1}, created
    assert sum(desk.fills(session.id).values()) == Decimal("0.04")
