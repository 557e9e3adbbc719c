"""The gate's pending orders: what it let through, less the fills it booked.

The position rule counts every open order of the symbol as if it fills. The gate keeps
that figure itself instead of asking the broker: a venue's lookup is one network call per
open order, three checks an order, and an outage made every check wait out the retries
and then raise. The property checks the gate's figure against the paper broker's own
books (an independent account of the same orders) over random orders, partial fills and
cancels.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.brokers.base import BrokerError
from engine.brokers.paper import PaperBroker
from engine.trading.portfolio import Portfolio
from engine.trading.risk import GatedBroker, RiskGate, RiskLimits
from engine.types import Bar, OrderRequest, OrderSide, OrderType

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
SYM = "BTC/USDT"
PRICE = D("100")
_ids = itertools.count(1)


class CountingPaper(PaperBroker):
    """A paper broker that counts lookups and can be taken offline."""

    def __init__(self) -> None:
        super().__init__(fee=D(0), slippage_bps=D(0), partial_fills=True,
                         max_volume_fraction=D("0.5"))
        self.lookups = 0
        self.offline = False

    def fetch_order(self, client_order_id: str):
        self.lookups += 1
        if self.offline:
            raise BrokerError("exchange unavailable after retries")
        return super().fetch_order(client_order_id)


def gated(broker: CountingPaper, cash: str = "100000") -> GatedBroker:
    limits = RiskLimits(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
                        min_order_notional=D("0"))
    portfolio = Portfolio(D(cash))
    portfolio.mark(SYM, PRICE)
    return GatedBroker(broker, RiskGate(limits), portfolio)


def limit(side: OrderSide, qty: str, price: D) -> OrderRequest:
    return OrderRequest(SYM, side, D(qty), type=OrderType.LIMIT, limit_price=price,
                        client_order_id=f"p-{next(_ids)}", ref_price=PRICE)


def bar(minute: int, low: str, high: str, volume: float) -> Bar:
    return Bar(SYM, T0 + timedelta(minutes=minute), 100.0, float(high), float(low), 100.0,
               volume)


def broker_pending(broker: PaperBroker) -> tuple[D, D]:
    """The paper broker's own account: the unfilled quantity of its open orders."""
    buy = sell = D(0)
    for o in broker.open_orders(SYM):
        if o.side == OrderSide.BUY:
            buy += o.remaining
        else:
            sell += o.remaining
    return buy, sell


def test_a_check_asks_the_broker_nothing_and_counts_what_rests():
    broker = CountingPaper()
    gate = gated(broker)
    for qty in ("3", "4"):
        gate.submit(limit(OrderSide.BUY, qty, D("90")), price=PRICE, now=T0)
    gate.submit(limit(OrderSide.SELL, "2", D("110")), price=PRICE, now=T0)
    for _ in range(3):
        gate.check(limit(OrderSide.BUY, "1", D("90")), price=PRICE, now=T0)
    assert broker.lookups == 0
    assert gate._pending(SYM) == (D("7"), D("2")) == broker_pending(broker)


def test_pending_shrinks_with_partial_fills_and_ends_with_the_last_or_a_cancel():
    broker = CountingPaper()
    gate = gated(broker)
    resting = limit(OrderSide.BUY, "10", D("95"))
    other = limit(OrderSide.BUY, "5", D("80"))
    gate.submit(resting, price=PRICE, now=T0)
    gate.submit(other, price=PRICE, now=T0)
    gate.on_bar(bar(1, "94", "101", 8.0))  # half the volume: 4 of the 10 fill
    assert gate._pending(SYM) == (D("11"), D("0")) == broker_pending(broker)
    gate.on_bar(bar(2, "94", "101", 20.0))  # the other 6 fill: that order is done
    assert gate._pending(SYM) == (D("5"), D("0")) == broker_pending(broker)
    assert gate.cancel(other.client_order_id)
    assert gate._pending(SYM) == (D("0"), D("0")) == broker_pending(broker)
    assert broker.lookups == 0


def test_pending_orders_still_bound_the_position_limit():
    """10,000 of cash: two resting buys of 60 at 100 could together hold 12,000."""
    broker = CountingPaper()
    gate = gated(broker, cash="10000")
    first = gate.check(limit(OrderSide.BUY, "60", D("99")), price=PRICE, now=T0)
    assert first.allowed
    gate.submit(limit(OrderSide.BUY, "60", D("99")), price=PRICE, now=T0)
    second = gate.check(limit(OrderSide.BUY, "60", D("99")), price=PRICE, now=T0)
    assert not second.allowed and second.rules == ("max_position",)
    exactly = gate.check(limit(OrderSide.BUY, "40", D("99")), price=PRICE, now=T0)
    assert exactly.allowed  # 60 + 40 at 100 is exactly all of equity


def test_a_broker_outage_does_not_reach_the_check():
    broker = CountingPaper()
    gate = gated(broker)
    gate.submit(limit(OrderSide.BUY, "3", D("90")), price=PRICE, now=T0)
    broker.offline = True
    verdict = gate.check(limit(OrderSide.BUY, "1", D("90")), price=PRICE, now=T0)
    assert verdict.allowed and broker.lookups == 0


def test_a_lookup_through_the_gate_brings_the_venues_word_in():
    """An order whose submission outcome was unknown is found open: it counts from then;
    one found ended stops counting."""
    broker = CountingPaper()
    gate = gated(broker)
    unknown = limit(OrderSide.BUY, "4", D("90"))
    broker.submit(unknown)  # accepted, but the gate never heard back
    assert gate._pending(SYM) == (D("0"), D("0"))
    gate.fetch_order(unknown.client_order_id)
    assert gate._pending(SYM) == (D("4"), D("0"))
    broker.cancel(unknown.client_order_id)  # ended at the venue, behind the gate's back
    gate.fetch_order(unknown.client_order_id)
    assert gate._pending(SYM) == (D("0"), D("0"))


_action = st.one_of(
    st.tuples(st.just("order"), st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
              st.integers(1, 50), st.integers(90, 110)),
    st.tuples(st.just("bar"), st.integers(85, 100), st.integers(100, 115),
              st.integers(0, 60)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_action, max_size=40))
def test_the_gates_pending_is_the_brokers_open_remainder(actions):
    broker = CountingPaper()
    gate = gated(broker, cash="1000000")
    sent: list[str] = []
    minute = 0
    for action in actions:
        if action[0] == "order":
            _, side, qty, price = action
            request = limit(side, str(qty), D(price))
            gate.submit(request, price=PRICE, now=T0)
            sent.append(request.client_order_id)
        elif action[0] == "bar":
            minute += 1
            _, low, high, volume = action
            gate.on_bar(bar(minute, str(low), str(high), float(volume)))
        elif sent:
            gate.cancel(sent[action[1] % len(sent)])
        assert gate._pending(SYM) == broker_pending(broker)
    assert broker.lookups == 0
