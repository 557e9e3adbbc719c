"""A rejected child order through the REAL ccxt broker, against the fake exchange.

The execution manager must recognise the broker's `OrderRejected` (there is one such class,
in the broker port): a refused limit child falls back to market once, then the part fails.
Before the classes were unified, the manager took the ccxt broker's rejection for an
unknown outcome, looked the order up, found nothing and resent it as a1, a2, a3 ... on
every tick. The fake exchange counts every client order id it receives, so the test
asserts on what actually reached the venue.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from engine.config.schema import (
    DcaExecution,
    ExecutionConfig,
    SmartExecution,
    TwapExecution,
    VwapExecution,
)
from engine.execution.manager import ExecutionManager
from engine.trading.portfolio import Portfolio
from engine.trading.risk import GatedBroker, RiskGate, RiskLimits
from engine.types import OrderRequest, OrderSide, OrderType
from engine.venues.ccxt.broker import CcxtBroker
from store.vault import ApiCredentials
from tests.fakes.exchange import FakeExchange

KEYS = ApiCredentials("AKIA-test-key-0042", "s3cr3t-test-value-0042")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def config(fallback: str) -> ExecutionConfig:
    return ExecutionConfig(
        mode="smart", catch_up="skip",
        smart=SmartExecution(D("1e12"), 1, 1.0, fallback),  # one part, whatever the size
        twap=TwapExecution(30.0, 10, fallback),
        vwap=VwapExecution(30.0, 10, 60.0, fallback),
        dca=DcaExecution(60.0, 5, fallback),
    )


@pytest.fixture(scope="module")
def poor_fake():
    """An account with almost no quote currency: every BTC buy is refused (-2010)."""
    with FakeExchange(ws_port=None, balances={"USDT": "5", "BTC": "0"}) as running:
        yield running


@pytest.fixture(params=["memory", "sqlite"])
def port(request, tmp_path):
    """Both store adapters: the rejection path must not depend on the persistence."""
    if request.param == "memory":
        from engine.adapters.memory import MemoryExecutionStore

        yield MemoryExecutionStore()
        return
    from engine.adapters.sqlite.open import open_execution_store

    port = open_execution_store(tmp_path / "desk.db")
    yield port
    port.close()


def audit_kinds(port) -> list[str]:
    if hasattr(port, "audit_entries"):  # the in-memory adapter keeps a plain list
        return [e["kind"] for e in port.audit_entries]
    return [e.kind for e in port.store.audit.tail(1000)]


def limit_buy(fake: FakeExchange, cid: str) -> OrderRequest:
    price = D(fake.state()["prices"]["BTC/USDT"])
    return OrderRequest("BTC/USDT", OrderSide.BUY, D("0.5"), type=OrderType.LIMIT,
                        limit_price=(price * D("0.99")).quantize(D("0.01")),
                        client_order_id=cid, ref_price=price)


def manager(fake: FakeExchange, port, fallback: str) -> ExecutionManager:
    broker = CcxtBroker("binance", KEYS, sandbox=False, urls=fake.ccxt_urls(),
                        sleep=lambda _s: None, timeout_ms=2000)
    gated = GatedBroker(broker, RiskGate(RiskLimits(1.0, 1.0, 1.0, D("1"))),
                        Portfolio(D("1e9")))
    return ExecutionManager(gated, port, config(fallback), clock=lambda: T0)


_runs = itertools.count()


def run(fake: FakeExchange, port, fallback: str, name: str):
    """One session on the shared fake exchange: the parent id is new for every run."""
    mgr = manager(fake, port, fallback)
    parent = limit_buy(fake, f"{name}-{next(_runs)}")
    session = mgr.start(parent, T0, arrival_price=parent.ref_price)
    for minute in range(6):  # several ticks: a resend loop would show up as a3, a4, ...
        mgr.tick(T0 + timedelta(minutes=minute))
    received = {cid: n for cid, n in fake.received.items() if cid.startswith(session.id)}
    return mgr.session(session.id), received


def test_rejected_limit_child_falls_back_to_market_once_then_the_part_fails(poor_fake, port):
    session, received = run(poor_fake, port, "market", "rej-mkt")
    sid = session.id
    assert received == {f"{sid}-p001-a1": 1, f"{sid}-p001-a2": 1}
    part = session.part(1)
    assert (part.status, part.attempt, part.order_type) == ("failed", 2, "market")
    assert "insufficient balance" in part.note
    assert session.status == "failed"
    kinds = audit_kinds(port)
    assert kinds.count("order.rejected") == 2 and "order.unknown" not in kinds


def test_rejected_child_without_market_fallback_fails_at_once(poor_fake, port):
    session, received = run(poor_fake, port, "twap", "rej-twap")
    assert received == {f"{session.id}-p001-a1": 1}
    assert session.part(1).status == "failed" and session.status == "failed"
