"""The instrument model, the symbol registry and multiplier-aware position money."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.instruments.errors import InstrumentError
from engine.instruments.model import (
    Etf,
    ExerciseStyle,
    ForexPair,
    Future,
    Kind,
    Option,
    OptionRight,
    Spot,
    Stock,
)
from engine.instruments.registry import instrument_for
from engine.instruments.valuation import (
    cash_flow,
    notional,
    pnl,
    qty_for_notional,
    round_to_lot,
    round_to_tick,
)

D = Decimal
ES = Future(symbol="ESH6", underlying="SPX", quote="USD", expiry=date(2026, 3, 20),
            tick_size=D("0.25"), multiplier=D(50))
AAPL_CALL = Option(symbol="AAPL251219C00150000", underlying="AAPL", quote="USD",
                   strike=D(150), expiry=date(2025, 12, 19), right=OptionRight.CALL)


# -- registry ---------------------------------------------------------------------------------
def test_an_existing_spot_symbol_keeps_multiplier_one():
    btc = instrument_for("BTC/USDT")

    assert isinstance(btc, Spot) and btc.kind is Kind.SPOT
    assert (btc.base, btc.quote, btc.multiplier) == ("BTC", "USDT", D(1))
    assert notional(btc, D("0.5"), D(60_000)) == D(30_000)


def test_fiat_pairs_are_forex_with_a_fractional_pip_tick():
    eur = instrument_for("EUR/USD")
    jpy = instrument_for("USD/JPY")

    assert isinstance(eur, ForexPair) and (eur.base, eur.quote) == ("EUR", "USD")
    assert (eur.tick_size, jpy.tick_size) == (D("0.00001"), D("0.001"))
    assert (eur.pip, jpy.pip) == (D("0.0001"), D("0.01"))


def test_occ_option_symbols():
    call = instrument_for("AAPL251219C00150000")
    put = instrument_for("SPY   260116P00450500")

    assert call == AAPL_CALL
    assert isinstance(put, Option) and put.right is OptionRight.PUT
    assert (put.underlying, put.strike, put.expiry) == ("SPY", D("450.5"), date(2026, 1, 16))
    assert put.multiplier == D(100) and put.style is ExerciseStyle.AMERICAN


def test_settings_make_a_future_a_stock_and_an_etf():
    future = instrument_for("ESH6", {"kind": "future", "underlying": "SPX",
                                     "expiry": "2026-03-20", "multiplier": 50,
                                     "tick_size": "0.25"})
    stock = instrument_for("MSFT", {"kind": "stock"})
    etf = instrument_for("SPY", {"kind": "etf", "quote": "usd"})

    assert future == ES
    assert isinstance(stock, Stock) and stock.tick_size == D("0.01") and stock.lot_size == 1
    assert isinstance(etf, Etf) and etf.kind is Kind.ETF and etf.quote == "USD"


def test_settings_override_the_shape():
    mini = instrument_for("AAPL251219C00150000", {"multiplier": 10, "style": "european"})

    assert mini.multiplier == D(10) and mini.style is ExerciseStyle.EUROPEAN


@pytest.mark.parametrize(("settings", "message"), [
    ({"kind": "bond"}, 'instruments."X".kind: expected one of spot, stock'),
    ({"multiplier": 0}, 'instruments."X".multiplier: expected a number > 0, got 0'),
    ({"tick_size": True}, 'instruments."X".tick_size: expected a number > 0, got True'),
    ({"strike": 5}, 'instruments."X".strike: unknown key for a spot'),
    ({"kind": "future"}, 'instruments."X": a future needs underlying, expiry'),
    ({"kind": "option", "underlying": "X", "expiry": "2026-13-01", "strike": 1,
      "right": "call"}, 'instruments."X".expiry: expected a date YYYY-MM-DD'),
    ({"kind": "option", "underlying": "X", "expiry": "2026-01-01", "strike": 1,
      "right": "straddle"}, 'instruments."X".right: expected one of call, put'),
])
def test_bad_settings_are_one_line_naming_the_key(settings, message):
    with pytest.raises(InstrumentError) as caught:
        instrument_for("X", settings)

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_the_model_refuses_non_positive_steps():
    with pytest.raises(InstrumentError, match="lot_size must be a Decimal > 0"):
        Stock(symbol="X", quote="USD", lot_size=D(0))


# -- valuation --------------------------------------------------------------------------------
def test_option_and_future_money_use_the_multiplier():
    assert notional(AAPL_CALL, D(3), D("2.15")) == D("645.00")
    assert cash_flow(AAPL_CALL, D(3), D("2.15")) == D("-645.00")
    assert pnl(ES, D(-2), D("5000.25"), D("4990.00")) == D("1025.00")  # short gains
    assert notional(ES, D(1), D(5000)) == D(250_000)


def test_sizing_counts_whole_contracts_within_the_amount():
    assert qty_for_notional(ES, D(600_000), D(5000)) == D(2)  # 2 x 250k, not 2.4
    assert qty_for_notional(AAPL_CALL, D(1000), D("2.15")) == D(4)
    assert qty_for_notional(ES, D(100_000), D(5000)) == D(0)
    assert qty_for_notional(instrument_for("BTC/USDT"), D(100), D(60_000)) == \
        D("0.00166666")


def test_ticks_and_lots():
    assert round_to_tick(ES, D("5000.37")) == D("5000.25")
    assert round_to_tick(ES, D("5000.37"), ROUND_UP) == D("5000.50")
    assert round_to_tick(ES, D("5000.49"), ROUND_DOWN) == D("5000.25")
    assert round_to_lot(ES, D("-2.7")) == D(-2)


money = st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2)
qty = st.integers(-1000, 1000).map(D)


@given(qty=qty, a=money, b=money, c=money)
def test_pnl_adds_up_over_consecutive_marks(qty, a, b, c):
    """Marking a→b then b→c is the P&L of a→c, and equals the change in notional."""
    assert pnl(ES, qty, a, b) + pnl(ES, qty, b, c) == pnl(ES, qty, a, c)
    assert pnl(AAPL_CALL, qty, a, c) == notional(AAPL_CALL, qty, c) - \
        notional(AAPL_CALL, qty, a)


@given(amount=money, price=money)
def test_sizing_never_exceeds_the_amount_and_one_more_lot_would(amount, price):
    size = qty_for_notional(AAPL_CALL, amount, price)

    assert notional(AAPL_CALL, size, price) <= amount
    assert notional(AAPL_CALL, size + AAPL_CALL.lot_size, price) > amount


@given(qty=st.integers(1, 1000).map(D), a=money, b=money)
def test_a_round_trips_cash_is_its_pnl(qty, a, b):
    """Buy at a, sell at b: the two cash flows add up to pnl(a -> b), for any multiplier;
    a short round trip (sell first) is the mirror image."""
    for instrument in (ES, AAPL_CALL, instrument_for("BTC/USDT")):
        long_cash = cash_flow(instrument, qty, a) + cash_flow(instrument, -qty, b)
        short_cash = cash_flow(instrument, -qty, a) + cash_flow(instrument, qty, b)
        assert long_cash == pnl(instrument, qty, a, b)
        assert short_cash == pnl(instrument, -qty, a, b)
