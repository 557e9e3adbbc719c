"""The simulated market: determinism, batch == stream, bar invariants, book and prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.data.frame import COLUMNS, to_bars, validate_frame
from engine.data.sim import CHUNK, DEFAULT_START, REGIME_NAMES, SimMarket, transition_matrix
from engine.errors import DataError

CRYPTO = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


def test_same_seed_same_market_other_seed_other_market():
    a = SimMarket(CRYPTO, seed=3).history(300)
    b = SimMarket(CRYPTO, seed=3).history(300)
    c = SimMarket(CRYPTO, seed=4).history(300)
    for sym in CRYPTO:
        pd.testing.assert_frame_equal(a[sym], b[sym])
        assert not np.allclose(a[sym]["close"], c[sym]["close"])


def test_frames_are_bar_frames_on_a_regular_utc_grid():
    market = SimMarket(CRYPTO, seed=1, freq="5min")
    frames = market.history(200)
    for frame in frames.values():
        assert list(frame.columns) == list(COLUMNS)
        assert (frame.dtypes == np.float64).all()
        assert frame.index.name == "ts" and str(frame.index.tz) == "UTC"
        assert frame.index[0] == pd.Timestamp(DEFAULT_START)
        assert (np.diff(frame.index.asi8) == 5 * 60 * 10**9).all()
        # The bar rules the file loader enforces hold for simulated bars too.
        assert validate_frame(frame, name="sim")[1] == 0
    assert all(f.index.equals(frames["BTC/USDT"].index) for f in frames.values())


def test_starting_prices_and_a_custom_start():
    start = datetime(2025, 6, 1, 12, tzinfo=UTC)
    frames = SimMarket(CRYPTO, seed=2, freq="1min", start=start).history(1)
    assert frames["BTC/USDT"].index[0] == pd.Timestamp(start)
    for sym, price in zip(CRYPTO, (60_000, 3_000, 150), strict=True):
        assert frames[sym]["open"].iloc[0] == pytest.approx(price, rel=0.01)


def test_twenty_symbols_with_deterministic_prices():
    symbols = [f"C{i}/USDT" for i in range(17)] + CRYPTO
    market = SimMarket(symbols, seed=5)
    frames = market.history(50)
    again = SimMarket(list(reversed(symbols)), seed=9).history(1)
    for sym in symbols:
        # A symbol's starting level depends on its name only, not on the seed or its company.
        assert again[sym]["open"].iloc[0] == pytest.approx(frames[sym]["open"].iloc[0], rel=0.05)
    assert np.all(np.linalg.eigvalsh(market.correlation) > 0)


@settings(max_examples=15, deadline=None)
@example(n=CHUNK - 3, k=10, seed=0)  # the stream crosses a chunk boundary
@example(n=0, k=1, seed=1)
@given(
    n=st.integers(0, 2 * CHUNK + 10),
    k=st.integers(1, 40),
    seed=st.integers(0, 2**32),
)
def test_history_then_stream_equals_longer_history(n, k, seed):
    market = SimMarket(CRYPTO[:2], seed=seed, freq="1h")
    market.history(n)
    streamed = [market.next_bars() for _ in range(k)]

    full = SimMarket(CRYPTO[:2], seed=seed, freq="1h").history(n + k)
    for sym in CRYPTO[:2]:
        expected = list(to_bars(sym, full[sym]))[n:]
        assert [step[sym] for step in streamed] == expected
    assert market.position == n + k
    assert len(market.regimes) == n + k


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), freq=st.sampled_from(["1min", "1h", "1D"]))
def test_ohlc_invariants_hold_for_any_seed(seed, freq):
    frames = SimMarket(CRYPTO, seed=seed, freq=freq).history(CHUNK + 100)
    for frame in frames.values():
        o, h, lo, c, v = (frame[col].to_numpy() for col in COLUMNS)
        assert np.all(lo > 0) and np.all(v > 0)
        assert np.all(lo <= np.minimum(o, c)) and np.all(h >= np.maximum(o, c))
        # Open is the previous close plus a tiny gap, never a jump.
        gaps = np.abs(np.log(o[1:] / c[:-1]))
        moves = np.abs(np.log(c[1:] / c[:-1]))
        assert np.median(gaps) < 0.2 * np.median(moves)


def test_volatility_scales_with_the_bar_interval():
    def stdev(freq):
        frame = SimMarket(["BTC/USDT"], seed=11, freq=freq).history(20_000)["BTC/USDT"]
        return np.diff(np.log(frame["close"].to_numpy())).std()

    # sqrt(time): daily bars move sqrt(1440) = 38x as much as minute bars; the regime
    # and volatility paths are the same, so the ratio is close to that.
    assert stdev("1D") / stdev("1min") == pytest.approx(np.sqrt(1440), rel=0.01)
    # Plausible levels: BTC moves ~2-5% a day and a few hundredths of a percent a minute.
    assert 0.015 < stdev("1D") < 0.06


def test_regime_chain_is_persistent():
    market = SimMarket(["BTC/USDT"], seed=8, freq="1h")
    market.history(30_000)
    path = market.regimes
    switches = np.count_nonzero(np.diff(path))
    matrix = transition_matrix()
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    # Expected switches: bars x average leave probability under the stationary mix.
    eigenvalues, vectors = np.linalg.eig(matrix.T)
    stationary = np.real(vectors[:, np.argmin(np.abs(eigenvalues - 1))])
    stationary /= stationary.sum()
    expected = len(path) * float(stationary @ (1 - np.diag(matrix)))
    assert switches == pytest.approx(expected, rel=0.3)
    assert set(np.unique(path)) == set(range(len(REGIME_NAMES)))


def test_book_is_ordered_around_the_last_close_and_deterministic():
    market = SimMarket(CRYPTO, seed=4)
    market.history(100)
    last = market.last_bar("ETH/USDT")
    book = market.book("ETH/USDT", levels=10)
    assert len(book.bids) == len(book.asks) == 10
    bids = [p for p, _ in book.bids]
    asks = [p for p, _ in book.asks]
    assert bids == sorted(bids, reverse=True) and len(set(bids)) == 10
    assert asks == sorted(asks) and len(set(asks)) == 10
    assert book.best_bid < last.close < book.best_ask
    assert all(size > 0 for _, size in book.bids + book.asks)
    assert market.book("ETH/USDT", levels=10) == book
    market.next_bars()
    assert market.book("ETH/USDT", levels=10) != book


def test_spread_widens_with_volatility():
    calm = SimMarket(["BTC/USDT"], seed=6, freq="1min")
    wild = SimMarket(["BTC/USDT"], seed=6, freq="1D")  # same shocks, 38x the volatility
    calm.history(10)
    wild.history(10)
    calm_book, wild_book = calm.book("BTC/USDT"), wild.book("BTC/USDT")
    assert wild_book.spread / wild_book.mid > 5 * calm_book.spread / calm_book.mid


def test_trade_prints_fit_inside_the_last_bar():
    market = SimMarket(CRYPTO, seed=12, freq="1min")
    market.history(5)
    for _ in range(50):
        bars = market.next_bars()
        for sym, bar in bars.items():
            prints = market.trades(sym)
            prices = [t.price for t in prints]
            assert 3 <= len(prints) <= 10
            assert prices[0] == bar.open and prices[-1] == bar.close
            assert min(prices) == bar.low and max(prices) == bar.high
            assert all(bar.ts <= t.ts < bar.ts + timedelta(minutes=1) for t in prints)
            assert [t.ts for t in prints] == sorted(t.ts for t in prints)
            assert 0 < sum(t.size for t in prints) <= bar.volume
    assert market.trades("SOL/USDT") == market.trades("SOL/USDT")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"symbols": []}, "no symbols"),
        ({"symbols": ["A/B", "A/B"]}, "duplicate"),
        ({"symbols": ["A/B"], "freq": "soon"}, "bad bar interval"),
        ({"symbols": ["A/B"], "seed": -1}, "seed"),
    ],
)
def test_bad_arguments(kwargs, message):
    kwargs = {"seed": 1, **kwargs}
    with pytest.raises(DataError, match=message):
        SimMarket(kwargs.pop("symbols"), **kwargs)


def test_book_before_any_bar_and_unknown_symbol():
    market = SimMarket(["A/B"], seed=1)
    with pytest.raises(DataError, match="no bar yet"):
        market.book("A/B")
    market.next_bars()
    with pytest.raises(DataError, match="unknown symbol"):
        market.trades("C/D")


def test_log_volatility_is_lfilter_to_the_bit_without_importing_scipy_signal():
    """The AR(1) recursion replaces scipy's lfilter step for step (same market, bit for bit)
    and the simulated market never loads scipy.signal (a second of the desk's start)."""
    import subprocess
    import sys

    from scipy.signal import lfilter

    from engine.data.sim import PHI, _log_volatility

    rng = np.random.default_rng(3)
    state = np.array([0.3])
    for _ in range(3):
        eta = rng.standard_normal(4096) * 0.1
        expected, expected_state = lfilter([1.0], [1.0, -PHI], eta, zi=state)
        got, state = _log_volatility(eta, state)
        assert np.array_equal(got, expected) and np.array_equal(state, expected_state)
    code = ("import sys; from engine.data.sources import load_source; "
            "load_source('sim:BTC/USDT', bars=5000); print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
