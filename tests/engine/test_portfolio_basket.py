"""Rebalance baskets: sells first, never borrowing, quantities on their steps, the book on
target afterwards (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.portfolio.basket import rebalance_basket
from engine.types import OrderSide

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")
money = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("70000"), places=2)


@settings(max_examples=200, deadline=None)
@given(prices=st.tuples(*[money] * 4),
       held=st.tuples(*[st.decimals(min_value=0, max_value=5, places=4)] * 4),
       cash=st.decimals(min_value=0, max_value=Decimal("200000"), places=2),
       raw=st.tuples(*[st.floats(0, 1)] * 4), invest=st.floats(0, 1),
       cost=st.sampled_from([Decimal(0), Decimal("0.0015")]))
def test_basket_reaches_target_without_borrowing(prices, held, cash, raw, invest, cost):
    prices = dict(zip(SYMBOLS, prices, strict=True))
    positions = dict(zip(SYMBOLS, held, strict=True))
    total = sum(raw) or 1.0
    targets = {s: r / total * invest for s, r in zip(SYMBOLS, raw, strict=True)}
    step = Decimal("0.0001")
    basket = rebalance_basket(basket_id="b1", positions=positions, prices=prices, cash=cash,
                              targets=targets, reason="test", cost_rate=cost,
                              steps=dict.fromkeys(SYMBOLS, step))
    sides = [o.side for o in basket.orders]
    assert sides == sorted(sides, key=lambda s: s is OrderSide.BUY)  # sells first
    assert [o.client_order_id for o in basket.orders] == [
        f"b1-{n}" for n in range(1, len(basket.orders) + 1)]
    after, money_left = dict(positions), cash
    for order in basket.orders:
        assert order.qty > 0 and order.qty % step == 0
        notional = order.qty * prices[order.symbol]
        if order.side is OrderSide.SELL:
            assert order.reduce_only and order.qty <= after[order.symbol]
            after[order.symbol] -= order.qty
            money_left += notional * (1 - cost)
        else:
            after[order.symbol] += order.qty
            money_left -= notional * (1 + cost)
    assert money_left >= 0  # the book never borrows
    equity = basket.equity
    if equity == 0:
        assert basket.orders == ()
        return
    # Rounding a sell down keeps a step more of that asset, and the buys are scaled to the
    # cash that is left: an asset is off target by at most every asset's step, plus what
    # the costs take.
    slack = float(sum(step * p for p in prices.values()) / equity) + 2 * float(cost) + 1e-9
    for symbol in SYMBOLS:
        weight = float(after[symbol] * prices[symbol] / equity)
        if targets[symbol] == 0:
            assert after[symbol] == 0
        else:
            assert targets[symbol] - slack <= weight <= targets[symbol] + slack


def test_min_notional_leaves_small_orders_out():
    basket = rebalance_basket(
        basket_id="b2", positions={"A": Decimal("1")}, prices={"A": Decimal("100")},
        cash=Decimal("5"), targets={"A": 1.0}, reason="top up", min_notional=Decimal("10"))
    assert basket.orders == ()
