"""Invariants of the indicators: causality, bounds, NaN handling and input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.signals import indicators as ind

PRICE = st.floats(1.0, 1000.0, allow_nan=False, allow_infinity=False)


@st.composite
def bars(draw, min_size: int = 2, max_size: int = 80):
    """Consistent OHLC: low <= close <= high, with flat stretches likely (repeated closes)."""
    close = np.array(draw(st.lists(PRICE, min_size=min_size, max_size=max_size)))
    size = len(close)
    spread = st.lists(st.floats(0.0, 5.0), min_size=size, max_size=size)
    high = close + np.array(draw(spread))
    low = np.maximum(close - np.array(draw(spread)), 0.0)
    return high, low, close


def _all_outputs(high, low, close) -> dict[str, np.ndarray]:
    out = {
        "sma": ind.sma(close, 5),
        "ema": ind.ema(close, 5),
        "wilder": ind.wilder(close, 5),
        "std": ind.rolling_std(close, 5),
        "zscore": ind.zscore(close, 5),
        "rsi": ind.rsi(close, 5),
        "momentum": ind.momentum(close, 5),
        "atr": ind.atr(high, low, close, 5),
        "tr": ind.true_range(high, low, close),
    }
    for name, tup in (
        ("macd", ind.macd(close, 3, 6, 4)),
        ("bb", ind.bollinger(close, 5, 2.0)),
        ("adx", ind.adx(high, low, close, 5)),
        ("donchian", ind.donchian(high, low, 5)),
    ):
        for field, arr in tup._asdict().items():
            out[f"{name}.{field}"] = arr
    return out


@settings(max_examples=60, deadline=None)
@given(data=bars(), cut=st.integers(1, 80))
def test_appending_future_bars_never_changes_past_values(data, cut):
    high, low, close = data
    cut = min(cut, len(close))

    full = _all_outputs(high, low, close)
    past = _all_outputs(high[:cut], low[:cut], close[:cut])

    for name, values in past.items():
        assert len(full[name]) == len(close)
        np.testing.assert_array_equal(values, full[name][:cut], err_msg=name)


@settings(max_examples=60, deadline=None)
@given(data=bars(min_size=1))
def test_bounds_hold(data):
    high, low, close = data
    out = _all_outputs(high, low, close)

    def finite(name):
        v = out[name]
        return v[~np.isnan(v)]

    for name in ("rsi", "adx.adx", "adx.plus_di", "adx.minus_di"):
        assert ((finite(name) >= 0) & (finite(name) <= 100)).all(), name
    assert (finite("atr") >= 0).all() and (finite("tr") >= 0).all()
    ok = ~np.isnan(out["bb.mid"])
    tol = 1e-9 * close.max()
    assert (out["bb.lower"][ok] <= out["bb.mid"][ok] + tol).all()
    assert (out["bb.mid"][ok] <= out["bb.upper"][ok] + tol).all()
    ok = ~np.isnan(out["donchian.upper"])
    assert (out["donchian.lower"][ok] <= out["donchian.upper"][ok]).all()


def test_flat_market_gives_neutral_values():
    close = np.full(40, 50.0)

    assert np.all(ind.rsi(close, 14)[14:] == 50.0)
    assert np.all(ind.zscore(close, 10)[9:] == 0.0)
    assert np.all(ind.atr(close, close, close, 14)[13:] == 0.0)
    assert np.all(ind.adx(close, close, close, 5).adx[9:] == 0.0)


def test_rsi_is_100_when_prices_only_rise():
    assert np.all(ind.rsi(np.arange(1.0, 30.0), 14)[14:] == 100.0)


def test_nan_in_a_window_only_spoils_the_windows_that_hold_it():
    close = np.arange(1.0, 31.0)
    close[12] = np.nan

    got = ind.sma(close, 5)

    expected = pd.Series(close).rolling(5).mean().to_numpy()
    np.testing.assert_allclose(got, expected)
    assert np.isnan(got[12:17]).all() and not np.isnan(got[17])


def test_recursions_skip_nan_bars_and_continue_after_them():
    rng = np.random.default_rng(0)
    close = 100 + np.cumsum(rng.normal(size=60))
    holes = close.copy()
    holes[[0, 1, 20, 41]] = np.nan

    got = ind.ema(holes, 10)

    # The recursion over the finite bars equals the EMA of the series with NaNs removed,
    # which pandas' ewm(ignore_na=True) computes too once fed the same seed.
    finite = ~np.isnan(holes)
    np.testing.assert_allclose(got[finite], ind.ema(holes[finite], 10), rtol=1e-13)
    assert np.isnan(got[~finite]).all()
    seeded = pd.Series(holes[finite]).copy()
    seeded.iloc[9] = seeded.iloc[:10].mean()
    pandas = seeded.iloc[9:].ewm(span=10, adjust=False, ignore_na=True).mean().to_numpy()
    np.testing.assert_allclose(got[finite][9:], pandas, rtol=1e-12)


def test_too_short_inputs_are_all_nan():
    assert np.isnan(ind.ema(np.ones(3), 5)).all()
    assert np.isnan(ind.rsi(np.ones(1), 14)).all()
    assert np.isnan(ind.donchian(np.ones(2), np.ones(2), 5).upper).all()
    assert len(ind.adx(np.ones(1), np.ones(1), np.ones(1)).adx) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ind.sma(np.ones(5), 0), "n must be a positive integer, got 0"),
        (lambda: ind.ema(np.ones(5), 2.5), "n must be a positive integer, got 2.5"),
        (lambda: ind.rsi(np.ones((2, 3))), "close must be a 1-D array"),
        (lambda: ind.atr(np.ones(3), np.ones(4), np.ones(3)), "arrays differ in length"),
        (lambda: ind.macd(np.ones(50), fast=0), "fast must be a positive integer"),
        (lambda: ind.bollinger(np.ones(50), 20, 0.0), "k must be positive"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_donchian_with_nan_matches_pandas_rolling(n):
    rng = np.random.default_rng(n)
    high = rng.normal(size=60)
    low = high - 1.0
    high[[7, 30]] = np.nan
    low[[12]] = np.nan

    got = ind.donchian(high, low, n)

    np.testing.assert_array_equal(got.upper, pd.Series(high).rolling(n).max())
    np.testing.assert_array_equal(got.lower, pd.Series(low).rolling(n).min())
