"""Paper broker: next-bar fills, slippage, limits, partial fills, idempotency, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.brokers.base import DuplicateOrderError, InvalidOrderError
from engine.brokers.paper import PaperBroker
from engine.types import Bar, OrderRequest, OrderSide, OrderStatus, OrderType

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def bar(i: int, o: float, h: float, low: float, c: float, v: float = 1000.0, sym="BTC/USDT"):
    return Bar(sym, T0 + timedelta(minutes=i), o, h, low, c, v)


def order(cid: str, side: str, qty: str, limit: str | None = None, sym="BTC/USDT"):
    return OrderRequest(
        symbol=sym,
        side=OrderSide(side),
        qty=D(qty),
        type=OrderType.LIMIT if limit else OrderType.MARKET,
        limit_price=D(limit) if limit else None,
        client_order_id=cid,
    )


def test_market_order_waits_for_next_bar_and_fills_at_its_open_with_slippage():
    b = PaperBroker(fee=D("0.001"), slippage_bps=D("5"))
    assert b.on_bar(bar(0, 99, 101, 98, 100)) == []
    b.submit(order("o1", "buy", "2"))
    b.submit(order("o2", "sell", "1"))
    assert b.on_bar(bar(0, 99, 101, 98, 100)) == []  # the decision bar itself never fills
    fills = b.on_bar(bar(1, 100, 102, 99, 101))
    buy, sell = fills
    assert buy.price == D("100.05")  # 100 * (1 + 5/10000)
    assert buy.qty == D("2")
    assert buy.fee == D("0.2001")  # 0.001 * 2 * 100.05
    assert buy.trade_id == "o1-1"
    assert buy.ts == T0 + timedelta(minutes=1)
    assert sell.price == D("99.95")
    assert sell.fee == D("0.09995")
    assert b.fetch_order("o1").status == OrderStatus.FILLED
    assert b.fetch_order("o1").avg_price == D("100.05")
    assert b.on_bar(bar(2, 101, 103, 100, 102)) == []  # nothing fills twice


def test_only_bars_of_the_orders_symbol_fill_it():
    b = PaperBroker(fee=D("0"), slippage_bps=D("0"))
    b.submit(order("e1", "buy", "1", sym="ETH/USDT"))
    assert b.on_bar(bar(1, 100, 101, 99, 100)) == []
    (f,) = b.on_bar(bar(1, 2000, 2010, 1990, 2005, sym="ETH/USDT"))
    assert f.price == D("2000")


def test_limit_buy_fills_when_low_reaches_limit_at_better_of_open_and_limit():
    b = PaperBroker(fee=D("0"), slippage_bps=D("5"))
    b.submit(order("l1", "buy", "1", limit="95"))
    b.submit(order("l2", "buy", "1", limit="105"))  # marketable: fills at the open
    fills = b.on_bar(bar(1, 100, 101, 96, 100))  # low 96 > 95: l1 does not fill
    assert [(f.client_order_id, f.price) for f in fills] == [("l2", D("100"))]
    (f,) = b.on_bar(bar(2, 97, 98, 94.5, 96))
    assert (f.client_order_id, f.price) == ("l1", D("95"))
    b.submit(order("l3", "buy", "1", limit="95"))
    (f,) = b.on_bar(bar(3, 93, 94, 92, 93))  # gapped below the limit: fills at the open
    assert f.price == D("93")


def test_limit_sell_fills_when_high_reaches_limit_at_better_of_open_and_limit():
    b = PaperBroker(fee=D("0.002"), slippage_bps=D("0"))
    b.submit(order("s1", "sell", "3", limit="110"))
    assert b.on_bar(bar(1, 100, 109.99, 99, 105)) == []
    (f,) = b.on_bar(bar(2, 106, 111, 105, 110))
    assert (f.price, f.qty, f.fee) == (D("110"), D("3"), D("0.660"))
    b.submit(order("s2", "sell", "1", limit="110"))
    (f,) = b.on_bar(bar(3, 112, 113, 111, 112))  # gapped above: fills at the open
    assert f.price == D("112")


def test_partial_fills_take_a_volume_fraction_per_bar_oldest_order_first():
    b = PaperBroker(fee=D("0.001"), slippage_bps=D("0"), partial_fills=True,
                    max_volume_fraction=D("0.1"))
    b.submit(order("p1", "buy", "25"))
    b.submit(order("p2", "buy", "10"))
    f1 = b.on_bar(bar(1, 100, 100, 100, 100, v=120))  # 12 available
    assert [(f.trade_id, f.qty) for f in f1] == [("p1-1", D("12.0"))]
    assert b.fetch_order("p1").status == OrderStatus.PARTIALLY_FILLED
    f2 = b.on_bar(bar(2, 102, 102, 102, 102, v=200))  # 20 available: 13 to p1, 7 to p2
    assert [(f.trade_id, f.qty, f.price) for f in f2] == [
        ("p1-2", D("13.0"), D("102")),
        ("p2-1", D("7.0"), D("102")),
    ]
    o = b.fetch_order("p1")
    assert o.status == OrderStatus.FILLED and o.filled_qty == D("25")
    assert o.avg_price == (D(12) * 100 + D(13) * 102) / 25
    assert b.on_bar(bar(3, 101, 101, 101, 101, v=0)) == []  # no volume, no fill
    (f,) = b.on_bar(bar(4, 101, 101, 101, 101, v=1000))
    assert (f.trade_id, f.qty) == ("p2-2", D("3.0"))
    assert f.extra["remaining"] == 0


def test_duplicate_client_order_id_is_refused_and_the_first_order_is_kept():
    b = PaperBroker(fee=D("0"), slippage_bps=D("0"))
    first = b.submit(order("dup", "buy", "1"))
    with pytest.raises(DuplicateOrderError) as err:
        b.submit(order("dup", "buy", "5"))
    assert err.value.client_order_id == "dup"
    (f,) = b.on_bar(bar(1, 100, 100, 100, 100))
    assert f.qty == D("1")
    assert b.fetch_order("dup").broker_order_id == first
    with pytest.raises(DuplicateOrderError):  # still refused after it filled
        b.submit(order("dup", "buy", "1"))


def test_cancel_pending_and_partially_filled_orders_only():
    b = PaperBroker(fee=D("0"), slippage_bps=D("0"), partial_fills=True)
    b.submit(order("c1", "buy", "1"))
    assert b.cancel("c1") is True
    assert b.on_bar(bar(1, 100, 100, 100, 100)) == []
    assert b.fetch_order("c1").status == OrderStatus.CANCELLED
    assert b.cancel("c1") is False
    assert b.cancel("nope") is False
    b.submit(order("c2", "sell", "50"))
    (f,) = b.on_bar(bar(2, 100, 100, 100, 100, v=100))
    assert f.qty == D("10.0")
    assert b.cancel("c2") is True
    assert b.on_bar(bar(3, 100, 100, 100, 100, v=100)) == []
    o = b.fetch_order("c2")
    assert (o.status, o.filled_qty) == (OrderStatus.CANCELLED, D("10.0"))
    assert b.open_orders() == []


def test_invalid_orders_are_refused():
    b = PaperBroker(fee=D("0"), slippage_bps=D("0"))
    with pytest.raises(InvalidOrderError):
        b.submit(order("", "buy", "1"))
    with pytest.raises(InvalidOrderError):
        b.submit(order("z", "buy", "0"))
    with pytest.raises(InvalidOrderError):
        b.submit(OrderRequest("BTC/USDT", OrderSide.BUY, D(1), OrderType.LIMIT,
                              client_order_id="y"))
    assert b.fetch_order("z") is None


@settings(max_examples=60, deadline=None)
@given(
    qtys=st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=5),
    volumes=st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=30),
)
def test_partial_fills_respect_the_volume_cap_and_never_overfill(qtys, volumes):
    b = PaperBroker(fee=D("0.001"), slippage_bps=D("3"), partial_fills=True,
                    max_volume_fraction=D("0.1"))
    for i, q in enumerate(qtys):
        b.submit(order(f"h{i}", "buy" if i % 2 else "sell", str(q)))
    filled = dict.fromkeys((f"h{i}" for i in range(len(qtys))), D(0))
    for t, v in enumerate(volumes, 1):
        fills = b.on_bar(bar(t, 100, 101, 99, 100, v=float(v)))
        assert sum((f.qty for f in fills), D(0)) <= D("0.1") * v
        for f in fills:
            filled[f.client_order_id] += f.qty
            assert f.fee == D("0.001") * f.qty * f.price
    for i, q in enumerate(qtys):
        o = b.fetch_order(f"h{i}")
        assert filled[f"h{i}"] == o.filled_qty <= D(q)
        assert (o.status == OrderStatus.FILLED) == (o.filled_qty == D(q))
    total_cap = sum(D("0.1") * v for v in volumes)
    assert sum(filled.values()) == min(sum(D(q) for q in qtys), total_cap)


def test_a_forgetting_broker_fills_the_same_and_keeps_only_open_orders():
    """keep_done=False (backtests): the same fills, fees and broker ids as a keeping broker;
    filled and cancelled orders are gone, open and partly filled ones are still found."""
    keeping = PaperBroker(fee=D("0.001"), slippage_bps=D("5"), partial_fills=True)
    forgetting = PaperBroker(fee=D("0.001"), slippage_bps=D("5"), partial_fills=True,
                             keep_done=False)
    seen = []
    for b in (keeping, forgetting):
        b.on_bar(bar(0, 99, 101, 98, 100))
        ids = [b.submit(order("o1", "buy", "2")), b.submit(order("o2", "sell", "150")),
               b.submit(order("o3", "buy", "1", limit="50"))]
        fills = b.on_bar(bar(1, 100, 102, 99, 101, v=1000.0))
        b.cancel("o3")
        seen.append((ids, fills))
    assert seen[0] == seen[1]
    assert keeping.fetch_order("o1").status == OrderStatus.FILLED
    assert forgetting.fetch_order("o1") is None and forgetting.fetch_order("o3") is None
    partly = forgetting.fetch_order("o2")  # 98 of 150 filled under the 10% volume cap
    assert partly.status == OrderStatus.PARTIALLY_FILLED
    assert partly == keeping.fetch_order("o2")
