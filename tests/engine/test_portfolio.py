"""Portfolio: hand-computed positions and P&L, then invariants over random fill sequences."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.trading.portfolio import InvalidFillError, Portfolio
from engine.types import Fill, OrderSide

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def fill(side: str, qty: str, price: str, fee: str = "0", symbol: str = "BTC/USDT") -> Fill:
    return Fill(
        client_order_id="c",
        trade_id="c-1",
        symbol=symbol,
        side=OrderSide(side),
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        ts=T0,
    )


def test_adds_average_weighted_and_partial_reduce_keeps_average():
    p = Portfolio(D("10000"))
    p.apply_fill(fill("buy", "1", "100"))
    p.apply_fill(fill("buy", "3", "120"))
    pos = p.position("BTC/USDT")
    assert pos.qty == D("4")
    assert pos.avg_price == D("115")  # (100 + 360) / 4
    p.apply_fill(fill("sell", "1", "130"))
    pos = p.position("BTC/USDT")
    assert pos.qty == D("3")
    assert pos.avg_price == D("115")
    assert pos.realized_pnl == D("15")  # 1 * (130 - 115)
    assert p.cash == D("10000") - D("460") + D("130")


def test_short_reduce_and_flip_resets_average():
    p = Portfolio(D("1000"))
    p.apply_fill(fill("sell", "2", "50", fee="0.1"))
    assert p.position("BTC/USDT").qty == D("-2")
    assert p.position("BTC/USDT").avg_price == D("50")
    p.mark("BTC/USDT", D("45"))
    assert p.position("BTC/USDT").unrealized == D("10")  # short gains when price falls
    p.apply_fill(fill("buy", "5", "40", fee="0.2"))  # closes 2 short, opens 3 long
    pos = p.position("BTC/USDT")
    assert pos.qty == D("3")
    assert pos.avg_price == D("40")
    assert pos.realized_pnl == D("20")  # 2 * (50 - 40)
    assert pos.fees == D("0.3")
    assert p.cash == D("1000") + D("100") - D("200") - D("0.3")
    p.mark("BTC/USDT", D("42"))
    assert p.equity == p.cash + D("3") * D("42")
    assert p.equity - D("1000") == p.realized_pnl + p.unrealized_pnl - p.fees


def test_exposure_and_gross_exposure_over_symbols():
    p = Portfolio(D("100000"))
    p.apply_fill(fill("buy", "2", "100", symbol="A"))
    p.apply_fill(fill("sell", "3", "10", symbol="B"))
    p.mark("A", D("110"))
    p.mark("B", D("12"))
    assert p.exposure() == {"A": D("220"), "B": D("-36")}
    assert p.gross_exposure == D("256")
    assert [x.symbol for x in p.positions()] == ["A", "B"]
    p.apply_fill(fill("sell", "2", "110", symbol="A"))
    assert [x.symbol for x in p.positions()] == ["B"]
    assert p.position("A").realized_pnl == D("20")
    assert [x.symbol for x in p.positions(include_flat=True)] == ["A", "B"]


def test_flat_unknown_symbol_and_invalid_fills():
    p = Portfolio(D("1"))
    assert p.position("X").qty == 0 and p.position("X").avg_price == 0
    with pytest.raises(InvalidFillError):
        p.apply_fill(fill("buy", "0", "1"))
    with pytest.raises(InvalidFillError):
        p.apply_fill(fill("buy", "1", "-1"))
    with pytest.raises(InvalidFillError):
        p.apply_fill(fill("buy", "1", "1", fee="-0.01"))


prices = st.decimals(min_value="0.01", max_value="100000", places=2)
qtys = st.decimals(min_value="0.0001", max_value="1000", places=4)
fees = st.decimals(min_value="0", max_value="50", places=4)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("fill"), st.sampled_from(["A", "B"]),
                  st.sampled_from(["buy", "sell"]), qtys, prices, fees),
        st.tuples(st.just("mark"), st.sampled_from(["A", "B"]), prices),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_pnl_adds_up_and_closing_realizes_everything(steps):
    p = Portfolio(D("50000"))
    for step in steps:
        if step[0] == "fill":
            _, sym, side, qty, price, fee = step
            p.apply_fill(fill(side, str(qty), str(price), str(fee), symbol=sym))
        else:
            p.mark(step[1], step[2])
        assert p.equity - p.initial_cash == p.realized_pnl + p.unrealized_pnl - p.fees
    before = p.realized_pnl + p.unrealized_pnl
    for pos in p.positions():
        side = "sell" if pos.qty > 0 else "buy"
        p.apply_fill(fill(side, str(abs(pos.qty)), str(pos.last), symbol=pos.symbol))
    assert p.unrealized_pnl == 0
    assert p.realized_pnl == before
    assert p.equity == p.cash


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["buy", "sell"]), qtys, prices), max_size=30))
def test_average_price_within_prices_that_built_the_position(steps):
    p = Portfolio(D("0"))
    building: list[D] = []
    for side, qty, price in steps:
        before = p.position("A").qty
        p.apply_fill(fill(side, str(qty), str(price), symbol="A"))
        after = p.position("A").qty
        if after == 0:
            building = []
        elif before == 0 or (before > 0) != (after > 0):
            building = [price]  # opened or flipped: the fill alone built it
        elif abs(after) > abs(before):
            building.append(price)
        if after != 0:
            avg = p.position("A").avg_price
            assert min(building) <= avg <= max(building)
