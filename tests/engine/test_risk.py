"""Risk gate: one test per rule, each denied order carries its reason and never reaches the
broker (a recording fake observes); then the position limit as a property."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.brokers.base import Broker, BrokerOrder
from engine.trading.portfolio import Portfolio
from engine.trading.risk import GatedBroker, OrderDenied, RiskGate, RiskLimits
from engine.types import Bar, Fill, OrderRequest, OrderSide, OrderStatus, OrderType

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
SYM = "BTC/USDT"


class RecordingBroker(Broker):
    """Records what reaches it; fills every open order in full at the next bar's open."""

    def __init__(self) -> None:
        self.submitted: list[OrderRequest] = []
        self.orders: dict[str, BrokerOrder] = {}

    def submit(self, order: OrderRequest) -> str:
        self.submitted.append(order)
        self.orders[order.client_order_id] = BrokerOrder(
            order.client_order_id, f"rec-{len(self.submitted)}", order.symbol, order.side,
            order.type, order.qty, order.limit_price, OrderStatus.SUBMITTED, D(0), None,
        )
        return f"rec-{len(self.submitted)}"

    def cancel(self, client_order_id: str) -> bool:
        return False

    def fetch_order(self, client_order_id: str) -> BrokerOrder | None:
        return self.orders.get(client_order_id)

    def on_bar(self, bar: Bar) -> list[Fill]:
        fills = []
        for cid, o in self.orders.items():
            if o.is_open and o.symbol == bar.symbol:
                price = D(str(bar.open))
                fills.append(Fill(cid, f"{cid}-1", o.symbol, o.side, o.qty, price, D(0), bar.ts))
                self.orders[cid] = BrokerOrder(
                    cid, o.broker_order_id, o.symbol, o.side, o.type, o.qty, o.limit_price,
                    OrderStatus.FILLED, o.qty, price,
                )
        return fills


_ids = itertools.count(1)


def order(side: str, qty: str, reduce_only: bool = False) -> OrderRequest:
    return OrderRequest(SYM, OrderSide(side), D(qty), OrderType.MARKET,
                        client_order_id=f"o{next(_ids)}", reduce_only=reduce_only)


def desk(cash: str = "100000"):
    broker = RecordingBroker()
    portfolio = Portfolio(D(cash))
    gate = RiskGate(RiskLimits(0.25, 0.05, 0.20, D("10")))
    return broker, portfolio, gate, GatedBroker(broker, gate, portfolio)


def hold(gated: GatedBroker, side: str, qty: str, price: float, now: datetime) -> None:
    """Arrange: take a position through the gate and fill it at `price`."""
    gated.submit(order(side, qty), price=D(str(price)), now=now)
    gated.on_bar(Bar(SYM, now + timedelta(minutes=1), price, price, price, price, 1e9))


def assert_denied(gated, broker, o, price, now, rule):
    before = len(broker.submitted)
    with pytest.raises(OrderDenied) as err:
        gated.submit(o, price=D(price), now=now)
    assert rule in err.value.decision.rules
    reason = err.value.decision.reasons[err.value.decision.rules.index(rule)]
    assert reason
    assert len(broker.submitted) == before  # never reached the broker
    return err.value.decision


def test_allowed_order_reaches_broker_and_fills_book_into_portfolio():
    broker, portfolio, gate, gated = desk()
    hold(gated, "buy", "200", 100.0, T0)
    assert [o.qty for o in broker.submitted] == [D("200")]
    assert portfolio.position(SYM).qty == D("200")


def test_max_position_denies_an_entry_above_the_limit():
    broker, portfolio, gate, gated = desk()
    d = assert_denied(gated, broker, order("buy", "251"), "100", T0, "max_position")
    assert "25.00%" in d.reasons[0]
    gated.submit(order("buy", "250"), price=D("100"), now=T0)  # exactly at the limit passes


def test_max_position_counts_open_orders_in_the_same_direction():
    broker, portfolio, gate, gated = desk()
    gated.submit(order("buy", "150"), price=D("100"), now=T0)
    assert_denied(gated, broker, order("buy", "150"), "100", T0, "max_position")
    gated.submit(order("buy", "100"), price=D("100"), now=T0)
    assert len(broker.submitted) == 2


def test_max_position_always_allows_a_reduction_even_when_over_the_limit():
    broker, portfolio, gate, gated = desk()
    hold(gated, "buy", "250", 100.0, T0)
    portfolio.mark(SYM, D("150"))  # the position grew to ~33% of equity by price alone
    assert_denied(gated, broker, order("buy", "1"), "150", T0, "max_position")
    gated.submit(order("sell", "50"), price=D("150"), now=T0)
    # Selling through zero opens a short, which is an entry and is checked.
    assert_denied(gated, broker, order("sell", "400"), "150", T0, "max_position")


def test_min_notional_refuses_tiny_orders():
    broker, portfolio, gate, gated = desk()
    assert_denied(gated, broker, order("buy", "0.09"), "100", T0, "min_notional")
    gated.submit(order("buy", "0.1"), price=D("100"), now=T0)


def test_daily_loss_halts_entries_for_the_rest_of_the_utc_day_but_not_reductions():
    broker, portfolio, gate, gated = desk()
    hold(gated, "buy", "200", 100.0, T0)  # 20,000 of 100,000
    gate.on_equity(T0, portfolio.equity)
    portfolio.mark(SYM, D("74"))  # equity 94,800: day P&L -5.2%
    assert_denied(gated, broker, order("buy", "1"), "74", T0 + timedelta(hours=1),
                  "max_daily_loss")
    assert_denied(gated, broker, order("sell", "250"), "74", T0 + timedelta(hours=1),
                  "max_daily_loss")  # flipping to short is an entry
    portfolio.mark(SYM, D("100"))  # recovered, but the halt holds for the day
    assert_denied(gated, broker, order("buy", "1"), "100", T0 + timedelta(hours=2),
                  "max_daily_loss")
    gated.submit(order("sell", "50"), price=D("100"), now=T0 + timedelta(hours=2))
    next_day = datetime(2024, 5, 7, 0, 5, tzinfo=UTC)
    gated.submit(order("buy", "1"), price=D("100"), now=next_day)
    assert gate.state().day_halted is False


def test_daily_loss_is_measured_from_the_days_first_equity():
    _, portfolio, gate, gated = desk()
    hold(gated, "buy", "200", 100.0, T0)
    gate.on_equity(T0, portfolio.equity)  # 100,000
    portfolio.mark(SYM, D("80"))  # 96,000 first seen on the next day: yesterday's loss
    gate.on_equity(datetime(2024, 5, 7, 0, 1, tzinfo=UTC), portfolio.equity)
    assert gate.day_pnl == 0
    assert gate.state().day_start_equity == D("96000")
    assert gate.state().daily_loss_limit == D("4800.00")
    portfolio.mark(SYM, D("79"))
    gate.on_equity(datetime(2024, 5, 7, 13, 0, tzinfo=UTC), portfolio.equity)
    assert gate.day_pnl == D("-200")
    assert not gate.state().day_halted


def test_drawdown_trips_the_kill_switch_until_reset():
    broker, portfolio, gate, gated = desk()
    hold(gated, "buy", "250", 100.0, T0)
    for day, price in enumerate(["110", "96", "93", "90"]):  # one small step a day
        portfolio.mark(SYM, D(price))
        gate.on_equity(T0 + timedelta(days=day + 1), portfolio.equity)
    # peak 102,500 at 110; at 90 equity is 97,500; 4.9% down: not yet
    assert not gate.kill_switch
    portfolio.mark(SYM, D("20"))
    gate.on_equity(T0 + timedelta(days=6), portfolio.equity)  # 80,000: 21.95% down
    assert gate.kill_switch
    assert gate.drawdown == pytest.approx(1 - 80000 / 102500)
    assert gate.peak == D("102500")
    later = T0 + timedelta(days=7)
    d = assert_denied(gated, broker, order("buy", "10"), "20", later, "max_drawdown")
    assert "kill switch" in d.reasons[d.rules.index("max_drawdown")]
    assert "max_daily_loss" not in d.rules  # a new day, no day loss
    gated.submit(order("sell", "100"), price=D("20"), now=later)  # reducing still works
    gate.reset_kill_switch()
    assert gate.halted_reason == ""
    gated.submit(order("buy", "10"), price=D("20"), now=later)


def test_manual_kill_switch_halts_entries_with_its_reason():
    broker, portfolio, gate, gated = desk()
    hold(gated, "buy", "100", 100.0, T0)
    gate.set_kill_switch(True, "operator pressed K")
    d = assert_denied(gated, broker, order("buy", "1"), "100", T0, "kill_switch")
    assert "operator pressed K" in d.reasons[0]
    assert gate.halted_reason == "kill switch on: operator pressed K"
    gated.submit(order("sell", "100"), price=D("100"), now=T0)
    gate.set_kill_switch(False)
    gated.submit(order("buy", "1"), price=D("100"), now=T0)


def test_reduce_only_order_may_not_open_a_position():
    broker, portfolio, gate, gated = desk()
    assert_denied(gated, broker, order("buy", "1", reduce_only=True), "100", T0, "reduce_only")


def test_every_failing_rule_is_listed():
    broker, portfolio, gate, gated = desk()
    gate.set_kill_switch(True, "test")
    d = assert_denied(gated, broker, order("buy", "0.05"), "100", T0, "kill_switch")
    assert set(d.rules) == {"kill_switch", "min_notional"}
    d = assert_denied(gated, broker, order("buy", "300", reduce_only=True), "100", T0,
                      "max_position")
    assert set(d.rules) == {"kill_switch", "max_position", "reduce_only"}
    assert len(d.reasons) == 3


def test_invalid_orders_and_nonpositive_equity_are_denied():
    broker, portfolio, gate, gated = desk(cash="0")
    assert_denied(gated, broker, order("buy", "1"), "100", T0, "max_position")
    assert_denied(gated, broker, order("buy", "1"), "0", T0, "invalid_order")


def test_without_a_price_the_last_mark_is_used_and_none_known_is_denied():
    broker, portfolio, gate, gated = desk()
    with pytest.raises(OrderDenied) as err:
        gated.submit(order("buy", "1"), price=None, now=T0)
    assert err.value.decision.rules == ("invalid_order",) and broker.submitted == []
    portfolio.mark(SYM, D("1000"))
    with pytest.raises(OrderDenied) as err:
        gated.submit(order("buy", "26"), price=None, now=T0)  # 26,000 > 25% of 100,000
    assert err.value.decision.rules == ("max_position",)
    gated.submit(order("buy", "25"), price=None, now=T0)


def test_limits_are_validated():
    with pytest.raises(ValueError):
        RiskLimits(0, 0.05, 0.2, D("10"))
    with pytest.raises(ValueError):
        RiskLimits(0.25, 1.5, 0.2, D("10"))


steps = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.sampled_from(["buy", "sell"]),
                  st.integers(min_value=1, max_value=600)),
        st.tuples(st.just("move"), st.sampled_from([0.5, 0.8, 0.95, 1.05, 1.25, 2.0])),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_no_position_exceeds_the_limit_at_the_moment_it_was_opened(ops):
    """Orders submitted at one price fill together at the next bar. Whenever a batch opened,
    grew or flipped the position, the result is within the limit of the equity the gate
    judged the batch against (price moves between batches may push it over later; that
    is not an opening, and only reductions may follow)."""
    broker, portfolio, gate, gated = desk()
    price, now = D("100"), T0

    def fill_batch():
        nonlocal now
        before = portfolio.position(SYM).qty
        equity = portfolio.equity  # no fills since the batch's checks: what they saw
        now += timedelta(minutes=1)
        gated.on_bar(Bar(SYM, now, float(price), float(price), float(price), float(price), 1e9))
        after = portfolio.position(SYM).qty
        opened = abs(after) > abs(before) or (after != 0 and (after > 0) != (before > 0))
        if opened:
            assert abs(after) * price <= D("0.25") * equity

    for op in ops:
        if op[0] == "order":
            try:
                gated.submit(order(op[1], str(op[2])), price=price, now=now)
            except OrderDenied as denied:
                assert denied.decision.rules
        else:
            fill_batch()
            price = (price * D(str(op[1]))).quantize(D("0.01"))
            portfolio.mark(SYM, price)
    fill_batch()
