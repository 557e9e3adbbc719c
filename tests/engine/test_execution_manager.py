"""ExecutionManager against a real store, a real risk gate and the paper broker.

The broker is wrapped to count submissions per client order id and to inject the failures
a venue produces (timeouts after or before accepting, rejections). A "crash" closes the
store without its shutdown checkpoint and builds a new manager on the same file and the
same broker object (the exchange outlives the process).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from engine.brokers.base import Broker, OrderRejected
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
from engine.types import Bar, Fill, OrderRequest, OrderSide, OrderStatus
from store.db import Store

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def config(catch_up: str = "skip") -> ExecutionConfig:
    return ExecutionConfig(
        mode="dca", catch_up=catch_up,
        smart=SmartExecution(D("10000"), 5, 2.0, "market"),
        twap=TwapExecution(30.0, 10, "market"),
        vwap=VwapExecution(30.0, 10, 1440.0, "market"),
        dca=DcaExecution(60.0, 5, "market"),
    )


class Recording(Broker):
    """PaperBroker plus a submission count per client id and injectable failures."""

    def __init__(self) -> None:
        self.inner = PaperBroker(fee=D("0.001"), slippage_bps=D(0))
        self.submits: Counter[str] = Counter()
        self.timeout_after: set[str] = set()  # accept, then raise
        self.timeout_before: set[str] = set()  # raise without accepting
        self.reject_all = False

    def submit(self, order: OrderRequest) -> str:
        cid = order.client_order_id
        self.submits[cid] += 1
        if cid in self.timeout_before:
            raise TimeoutError("read timed out")
        if self.reject_all:
            raise OrderRejected(cid, "insufficient balance")
        broker_id = self.inner.submit(order)
        if cid in self.timeout_after:
            raise TimeoutError("read timed out")
        return broker_id

    def cancel(self, client_order_id: str) -> bool:
        return self.inner.cancel(client_order_id)

    def fetch_order(self, client_order_id: str):
        return self.inner.fetch_order(client_order_id)

    def on_bar(self, bar: Bar):
        return self.inner.on_bar(bar)


class Desk:
    """One process's worth of engine: a manager on a store, over the given broker."""

    def __init__(self, path, broker: Recording, catch_up: str = "skip", limits=None) -> None:
        self.broker = broker
        self.gated = GatedBroker(
            broker, RiskGate(limits or RiskLimits(1.0, 1.0, 1.0, D("1"))), Portfolio(D("1e7"))
        )
        self.store = Store.open(path, audit_key_path=path.parent / "audit.pem")
        self.manager = ExecutionManager(self.gated, self.store, config(catch_up),
                                        clock=lambda: T0)

    def bar(self, ts: datetime, price: float) -> list:
        fills = self.gated.on_bar(Bar("BTC/USDT", ts, price, price + 1, price - 1, price, 50))
        for fill in fills:
            assert self.manager.on_fill(fill)
        return fills

    def kinds(self) -> list[str]:
        return [k for (k,) in self.store.conn.execute(
            "SELECT kind FROM audit_entries ORDER BY seq")]

    def fills(self) -> list[tuple[str, str]]:
        return list(self.store.conn.execute(
            "SELECT trade_id, client_order_id FROM fills ORDER BY id"))

    def crash(self) -> None:
        self.store.close(checkpoint=False)  # no shutdown checkpoint: only commits survive


def parent(qty: str = "1", cid: str = "o-0000001") -> OrderRequest:
    return OrderRequest("BTC/USDT", OrderSide.BUY, D(qty), client_order_id=cid,
                        ref_price=D("100"))


@pytest.fixture
def db(tmp_path):
    return tmp_path / "desk.db"


def run_dca(desk: Desk, hours: range) -> None:
    for h in hours:
        now = T0 + h * HOUR
        desk.manager.tick(now)
        desk.bar(now + timedelta(minutes=1), 100 + h)


def test_dca_session_runs_to_completion_each_child_once(db):
    desk = Desk(db, Recording())
    session = desk.manager.start(parent("1"), T0, mode="dca", arrival_price=D("100"))
    assert session.id == "S-o-0000001" and len(session.parts) == 5
    run_dca(desk, range(5))
    desk.bar(T0 + 6 * HOUR, 200)  # nothing left: no fill, no resubmission
    desk.manager.tick(T0 + 7 * HOUR)

    cids = [f"S-o-0000001-p{i:03d}-a1" for i in range(1, 6)]
    assert dict(desk.broker.submits) == dict.fromkeys(cids, 1)
    assert [cid for _, cid in desk.fills()] == cids
    # The same fill delivered again is stored once and counted once.
    assert desk.manager.on_fill(_fill_again(desk, cids[0]))
    assert len(desk.fills()) == 5
    view = desk.manager.views()[0]
    assert (view.status, view.parts_done, view.filled_qty) == ("done", 5, D("1"))
    assert view.avg_price == D("102")  # opens 100..104, equal parts
    assert desk.kinds() == ["session.started"] + ["order.submitted", "order.filled"] * 5 + [
        "session.done"]
    q = desk.manager.quality(session.id)
    assert q.shortfall_bps == D("200")  # (102 - 100) / 100
    # Orders rows carry the session.
    rows = desk.store.conn.execute(
        "SELECT status, session_id FROM orders ORDER BY id").fetchall()
    assert rows == [("filled", session.id)] * 5
    # Starting the same parent again returns the stored session, plans nothing new.
    assert desk.manager.start(parent("1"), T0 + 9 * HOUR, arrival_price=D("1")) is session


def _fill_again(desk: Desk, cid: str) -> Fill:
    (trade_id, qty, price, ts) = desk.store.conn.execute(
        "SELECT trade_id, qty, price, ts FROM fills WHERE client_order_id = ?", (cid,)).fetchone()
    return Fill(cid, trade_id, "BTC/USDT", OrderSide.BUY, D(qty), D(price), D(0),
                datetime.fromisoformat(ts))


@pytest.mark.parametrize("catch_up", ["skip", "run"])
def test_crash_mid_session_recovers_without_double_submission(db, catch_up):
    broker = Recording()
    desk = Desk(db, broker)
    desk.manager.start(parent("1"), T0, mode="dca", arrival_price=D("100"))
    run_dca(desk, range(2))
    desk.manager.tick(T0 + 2 * HOUR)  # part 3 leaves the process ...
    desk.crash()  # ... and the process dies before its fill comes back
    # While Desk is down the exchange fills part 3; nobody hears about it.
    assert len(broker.on_bar(Bar("BTC/USDT", T0 + 2 * HOUR + timedelta(minutes=1),
                                 102, 103, 101, 102, 50))) == 1

    again = Desk(db, broker, catch_up=catch_up)
    recon = again.manager.recover(T0 + 3 * HOUR + timedelta(minutes=30))
    assert [f.client_order_id for f in recon] == ["S-o-0000001-p003-a1"]
    assert recon[0].price == D("102") and recon[0].qty == D("0.2")
    s = again.manager.session("S-o-0000001")
    part4 = s.part(4)
    assert part4.status == ("skipped" if catch_up == "skip" else "submitted")
    again.bar(T0 + 3 * HOUR + timedelta(minutes=31), 103)
    again.manager.tick(T0 + 4 * HOUR)
    again.bar(T0 + 4 * HOUR + timedelta(minutes=1), 104)

    assert max(broker.submits.values()) == 1  # no client id ever submitted twice
    trade_ids = [t for t, _ in again.fills()]
    assert len(trade_ids) == len(set(trade_ids)) == (4 if catch_up == "skip" else 5)
    assert s.status == "done"
    assert s.filled_qty == (D("0.8") if catch_up == "skip" else D("1"))
    assert ("1 skipped" in s.note) == (catch_up == "skip")
    assert "session.resumed" in again.kinds()
    resumed = again.store.conn.execute(
        "SELECT payload FROM audit_entries WHERE kind = 'session.resumed'").fetchone()[0]
    assert '"reconciled":1' in resumed
    # Recovering again (another restart) finds nothing left to do.
    assert again.manager.recover(T0 + 5 * HOUR) == []
    assert max(broker.submits.values()) == 1


def test_accept_then_timeout_is_looked_up_not_resent(db):
    broker = Recording()
    broker.timeout_after.add("S-o-0000001-p001-a1")
    desk = Desk(db, broker)
    s = desk.manager.start(parent("0.5"), T0, mode="market", arrival_price=D("100"))
    assert desk.manager.tick(T0) == []
    assert s.part(1).status == "unknown"
    desk.manager.tick(T0 + timedelta(seconds=1))  # the lookup finds the order
    assert s.part(1).status == "submitted"
    desk.bar(T0 + timedelta(minutes=1), 100)
    assert dict(broker.submits) == {"S-o-0000001-p001-a1": 1}
    assert s.status == "done" and s.filled_qty == D("0.5")
    kinds = desk.kinds()
    assert kinds.index("order.unknown") < kinds.index("order.found") < kinds.index("order.filled")


def test_timeout_before_accept_is_resent_as_next_attempt(db):
    broker = Recording()
    broker.timeout_before.add("S-o-0000001-p001-a1")
    desk = Desk(db, broker)
    s = desk.manager.start(parent("0.5"), T0, mode="market", arrival_price=D("100"))
    desk.manager.tick(T0)
    assert s.part(1).status == "unknown"
    sent = desk.manager.tick(T0 + timedelta(seconds=1))
    assert [o.client_order_id for o in sent] == ["S-o-0000001-p001-a2"]
    desk.bar(T0 + timedelta(minutes=1), 100)
    assert broker.inner.fetch_order("S-o-0000001-p001-a1") is None
    assert broker.submits["S-o-0000001-p001-a2"] == 1
    assert s.status == "done" and s.part(1).attempt == 2
    assert "order.absent" in desk.kinds()


def test_rejection_falls_back_to_market_once_then_fails(db):
    broker = Recording()
    broker.reject_all = True
    desk = Desk(db, broker)
    s = desk.manager.start(parent("0.5"), T0, mode="market", arrival_price=D("100"))
    desk.manager.tick(T0)
    assert list(broker.submits) == ["S-o-0000001-p001-a1", "S-o-0000001-p001-a2"]
    assert s.part(1).status == "failed" and "insufficient balance" in s.part(1).note
    assert s.status == "failed"
    assert desk.kinds()[-3:] == ["order.submitted", "order.rejected", "session.failed"]


def test_risk_denial_fails_the_part_with_reasons(db):
    broker = Recording()
    desk = Desk(db, broker, limits=RiskLimits(1.0, 1.0, 1.0, D("1000")))  # min notional 1000
    s = desk.manager.start(parent("0.5"), T0, mode="market", arrival_price=D("100"))
    desk.manager.tick(T0)
    assert not broker.submits  # never reached the venue
    assert s.part(1).status == "failed" and "below the minimum" in s.part(1).note
    assert desk.kinds() == ["session.started", "risk.denied", "session.failed"]


def test_cancel_mid_session_drops_parts_and_cancels_open_child(db):
    broker = Recording()
    desk = Desk(db, broker)
    s = desk.manager.start(parent("1"), T0, mode="twap", arrival_price=D("100"))
    desk.manager.tick(T0)
    desk.bar(T0 + timedelta(minutes=1), 100)  # part 1 fills
    desk.manager.tick(T0 + timedelta(minutes=3))  # part 2 is open at the broker
    assert desk.manager.cancel(s.id, T0 + timedelta(minutes=4)) == ""
    assert broker.inner.fetch_order("S-o-0000001-p002-a1").status == OrderStatus.CANCELLED
    assert [p.status for p in s.parts] == ["filled"] + ["cancelled"] * 9
    assert s.status == "cancelled" and s.filled_qty == D("0.1")
    assert desk.kinds()[-2:] == ["order.cancelled", "session.cancelled"]
    assert desk.manager.tick(T0 + HOUR) == []
    assert "already cancelled" in desk.manager.cancel(s.id, T0 + HOUR)
    assert "no execution session" in desk.manager.cancel("S-nope", T0 + HOUR)
    # The cancellation survives a restart: nothing resumes.
    desk.crash()
    again = Desk(db, broker)
    again.manager.recover(T0 + 2 * HOUR)
    assert again.manager.views() == [] and len(broker.submits) == 2


def test_no_broker_call_happens_inside_an_open_transaction(db):
    desk = Desk(db, Recording())
    desk.manager.start(parent("1"), T0, mode="dca", arrival_price=D("100"))
    with pytest.raises(BrokerCallInTransaction), desk.store.unit_of_work():
        desk.manager.tick(T0)
    assert not desk.broker.submits  # the order never left


def test_the_intent_is_committed_when_the_broker_is_called(db):
    """Read from another connection at the moment of the call: the order row and its audit
    entry are on disk, and SQLite's write lock is free."""
    import sqlite3

    seen: list[tuple] = []

    class Watching(Recording):
        def submit(self, order: OrderRequest) -> str:
            other = sqlite3.connect(db, timeout=0, isolation_level=None)
            try:
                row = other.execute("SELECT status FROM orders WHERE client_order_id = ?",
                                    (order.client_order_id,)).fetchone()
                kind = other.execute("SELECT kind FROM audit_entries ORDER BY seq DESC"
                                     " LIMIT 1").fetchone()
                other.execute("BEGIN IMMEDIATE")  # raises if a write lock were held
                other.execute("ROLLBACK")
                seen.append((row, kind))
            finally:
                other.close()
            return super().submit(order)

    desk = Desk(db, Watching())
    desk.manager.start(parent("1"), T0, mode="dca", arrival_price=D("100"))
    run_dca(desk, range(5))
    assert seen == [(("submitted",), ("order.submitted",))] * 5
