"""Contract multipliers: an option of 100 shares or a future of 50 points is valued, sized,
charged fees and backtested as qty x price x multiplier; spot (multiplier 1) is unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.job import build_spec
from engine.backtest.run import run_backtest
from engine.config.schema import config_from_dict
from engine.trading.portfolio import Portfolio
from engine.types import Fill, OrderSide

T0 = datetime(2024, 1, 1, tzinfo=UTC)
MULTS = {"OPT": D(100), "FUT": D(50), "SPOT": D(1)}


def fill(symbol: str, side: str, qty: D, price: D, fee: D = D(0)) -> Fill:
    return Fill("c", "c-1", symbol, OrderSide(side), qty, price, fee, T0)


def test_a_round_trip_of_one_option_contract_pays_100_times_the_price_move():
    p = Portfolio(D(10_000), multiplier=MULTS.__getitem__)
    p.apply_fill(fill("OPT", "buy", D(2), D("3.10"), D("0.65")))
    assert p.cash == D(10_000) - D(620) - D("0.65")
    p.mark("OPT", D("3.60"))
    assert p.position("OPT").unrealized == D(100)  # 2 x (3.60 - 3.10) x 100
    assert p.position("OPT").notional == D(720)
    assert p.exposure() == {"OPT": D(720)} and p.equity == p.cash + D(720)
    p.apply_fill(fill("OPT", "sell", D(2), D("3.60"), D("0.65")))
    assert p.realized_pnl == D(100) and p.fees == D("1.30")
    assert p.equity == D(10_000) + D(100) - D("1.30")
    assert p.position("OPT").avg_price == 0 and p.multiplier("SPOT") == 1


qtys = st.integers(1, 20).map(D)
prices = st.integers(100, 100_000).map(lambda c: D(c) / 100)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(MULTS)), st.sampled_from(["buy", "sell"]),
                          qtys, prices), max_size=40))
def test_books_balance_with_any_multiplier(steps):
    """equity - initial cash == realized + unrealized - fees, and closing everything at
    the last price realizes exactly the P&L that was open."""
    p = Portfolio(D(1_000_000), multiplier=MULTS.__getitem__)
    for symbol, side, qty, price in steps:
        p.apply_fill(fill(symbol, side, qty, price, fee=qty * D("0.01")))
        assert p.equity - p.initial_cash == p.realized_pnl + p.unrealized_pnl - p.fees
    before = p.realized_pnl + p.unrealized_pnl
    for pos in p.positions():
        p.apply_fill(fill(pos.symbol, "sell" if pos.qty > 0 else "buy", abs(pos.qty), pos.last))
    assert p.realized_pnl == before and p.equity == p.cash


def _frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    close = 5.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC").as_unit("ns")
    return pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99,
                         "close": close, "volume": np.full(n, 1e9)}, index=index)


def test_an_option_backtest_sizes_charges_and_values_contracts_of_100():
    """Prices under an OCC option symbol (100 shares a contract): the first order is sized
    to the largest quantity step whose qty x price x 100 fits half of equity, the books end
    at the cash plus the trades' P&L, and the curve moves by qty x price move x 100."""
    cfg = config_from_dict({
        "broker": {"cash": "100000", "fee": "0.001", "slippage_bps": "0"},
        "engine": {"size": 0.5, "regime": False},
        "risk": {"max_position_pct": 1.0, "max_daily_loss_pct": 1.0, "max_drawdown_pct": 1.0,
                 "max_concentration": 1.0, "max_portfolio_volatility": 10.0},
        "compliance": {"enabled": False},
        "feed": {"history_bars": 1},
    })
    spec = replace(build_spec(cfg, ["sma_cross:fast=5,slow=20"]), stops=False, warmup=0)
    frame = _frame()
    option = run_backtest({"AAPL251219C00150000": frame}, spec)
    assert option.trades, "the run must trade for the test to mean anything"
    first = option.trades[0]
    exit_bar = frame.index.get_loc(first.exit_time)
    entry_bar = frame.index.get_loc(first.entry_time)
    # Sized at the decision's price, the close before the fill, against all of the cash.
    ref = D(str(frame["close"].iloc[entry_bar - 1])) * 100
    step = D("0.00000001")
    assert D(str(first.qty)) == (D(50_000) // (ref * step)) * step
    # The books: equity at the end is the initial cash plus the trades' P&L (fees inside).
    total = sum((t.pnl for t in option.trades), D(0))
    assert abs(D(str(option.equity.iloc[-1])) - (D(100_000) + total)) < D("0.01")
    if exit_bar - entry_bar >= 3:
        step = option.equity.iloc[entry_bar + 2] - option.equity.iloc[entry_bar + 1]
        move = frame["close"].iloc[entry_bar + 2] - frame["close"].iloc[entry_bar + 1]
        sign = 1 if first.side == "long" else -1
        assert np.isclose(step, sign * float(first.qty) * move * 100, rtol=1e-9)
