"""Report extras: the buy-and-hold benchmark against its closed form, monthly returns that
compound to the total return, and the compare table's order kept through the store."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.report_data import buy_and_hold, monthly_returns, report_data


def frame(closes, start="2024-01-01", freq="D") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(closes), freq=freq, tz="UTC")
    close = np.asarray(closes, dtype=float)
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                         "volume": 1.0}, index=index)


def test_buy_and_hold_of_one_symbol_is_cash_times_the_price_ratio():
    closes = [100.0, 110.0, 99.0, 121.0]
    curve = buy_and_hold({"A": frame(closes)}, 10_000)
    assert np.allclose(curve.to_numpy(), 10_000 * np.array(closes) / 100.0)


def test_equal_weight_of_two_symbols_returns_the_mean_of_their_returns():
    a, b = frame([50.0, 60.0, 75.0]), frame([200.0, 180.0, 150.0])
    curve = buy_and_hold({"A": a, "B": b}, 1_000)
    total = curve.iloc[-1] / curve.iloc[0] - 1
    assert math.isclose(total, ((75 / 50 - 1) + (150 / 200 - 1)) / 2, rel_tol=1e-12)


def test_a_late_starter_holds_its_share_in_cash_until_its_first_bar():
    early, late = frame([10.0, 20.0, 30.0]), frame([5.0, 10.0], start="2024-01-02")
    curve = buy_and_hold({"E": early, "L": late}, 100)
    # L is valued at its first close before it starts: its half stays 50 until then.
    assert curve.iloc[0] == 50 + 50 and curve.iloc[1] == 100 + 50 and curve.iloc[2] == 150 + 100


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-0.05, 0.05), min_size=2, max_size=400),
       st.sampled_from(["D", "h", "7D"]))
def test_monthly_returns_compound_to_the_total_return(returns, freq):
    values = 10_000 * np.cumprod(1 + np.asarray(returns))
    equity = pd.Series(values, index=pd.date_range("2023-11-20", periods=len(values),
                                                   freq=freq, tz="UTC"))
    monthly = monthly_returns(equity)
    assert list(monthly) == sorted(monthly)
    compounded = math.prod(1 + r for r in monthly.values()) - 1
    assert math.isclose(compounded, values[-1] / values[0] - 1, rel_tol=1e-9, abs_tol=1e-12)


def test_compare_keeps_the_order_the_runs_were_made_in():
    runs = [SimpleNamespace(label=label, metrics={"total_return": 0.1})
            for label in ("sma_cross", "ema_cross", "breakout")]
    data = report_data({"A": frame([1.0, 2.0])}, 100, None, runs)
    assert [entry["label"] for entry in data["compare"]] == ["sma_cross", "ema_cross",
                                                             "breakout"]
    assert data["benchmark"]["metrics"]["total_return"] == 1.0
    assert data["prices"]["A"]["close"] == [1.0, 2.0]
