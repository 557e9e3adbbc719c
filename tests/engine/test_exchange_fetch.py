"""fetch_candles against the fake Binance exchange: paging, Parquet round trip, resume, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.sources import load_source
from engine.venues.ccxt.fetch import (
    ExchangeFetchError,
    FileMismatchError,
    Retry,
    UnknownSymbolError,
    UnknownTimeframeError,
    fetch_candles,
    write_candle_file,
)
from tests.fakes.exchange import CCXT_OPTIONS, FakeExchange

HISTORY = 2500  # 1-minute bars visible on the fake; the last one is still forming
START = "2026-01-01"  # the fake's first bar


@pytest.fixture
def fake():
    with FakeExchange(["BTC/USDT", "ETH/USDT"], history=HISTORY, ws_port=None) as fake:
        yield fake


def client(fake):
    import ccxt

    ex = ccxt.binance({"enableRateLimit": True, "options": dict(CCXT_OPTIONS)})
    ex.urls["api"].update(fake.ccxt_urls())
    return ex


def no_wait(sleeps=None):
    return Retry(attempts=3, first_delay=0.01, sleep=(sleeps.append if sleeps is not None
                                                      else lambda s: None))


def expected_frame(fake, symbol, bars):
    """The fake's own 1-minute bars, rounded to the price tick the API prints."""
    rows = [fake.candles.bar(symbol, i) for i in range(bars)]
    ohlcv = np.array([r[1] for r in rows])
    ohlcv[:, :4] = np.round(ohlcv[:, :4], 2)
    ohlcv[:, 4] = np.round(ohlcv[:, 4], 8)
    index = pd.to_datetime([r[0] for r in rows], unit="ms", utc=True).rename("ts").as_unit("ns")
    return pd.DataFrame(ohlcv, index=index, columns=["open", "high", "low", "close", "volume"])


def test_pages_of_1000_round_trip_through_load_source(fake, tmp_path):
    out = tmp_path / "btc.parquet"

    summary = fetch_candles(client(fake), "BTC/USDT", "1m", since=START, out=out,
                            retry=no_wait())

    closed = HISTORY - 1  # the forming bar is never written
    assert (summary.fetched, summary.total, summary.pages) == (closed, closed, 3)
    assert fake.count("GET", "/api/v3/klines") == 3
    assert summary.first == pd.Timestamp(START, tz="UTC")
    assert summary.last == pd.Timestamp(START, tz="UTC") + pd.Timedelta(minutes=closed - 1)
    loaded = load_source(str(out)).frames["BTC"]
    assert str(loaded.index.tz) == "UTC" and loaded.index.name == "ts"
    assert list(loaded.dtypes) == [np.float64] * 5
    pd.testing.assert_frame_equal(loaded, expected_frame(fake, "BTC/USDT", closed),
                                  check_freq=False, atol=1e-9, rtol=0)


def test_an_interrupted_fetch_resumes_to_the_same_file_as_one_clean_fetch(fake, tmp_path):
    out, clean = tmp_path / "resumed.parquet", tmp_path / "clean.parquet"

    def fail_after_first_page(fetched, *_):
        fake.set_faults(server_error=100)  # every later request: 503

    with pytest.raises(ExchangeFetchError, match="failed after 3 attempts"):
        fetch_candles(client(fake), "BTC/USDT", "1m", since=START, out=out,
                      progress=fail_after_first_page, retry=no_wait(), checkpoint_seconds=0)
    kept = load_source(str(out)).frames["RESUMED"]
    fake.set_faults(server_error=0)
    before = fake.count("GET", "/api/v3/klines")
    resumed = fetch_candles(client(fake), "BTC/USDT", "1m", since=START, out=out,
                            retry=no_wait())
    fetch_candles(client(fake), "BTC/USDT", "1m", since=START, out=clean, retry=no_wait())

    assert len(kept) == 1000
    assert (resumed.fetched, resumed.total, resumed.pages) == (HISTORY - 1 - 1000, HISTORY - 1, 2)
    assert fake.count("GET", "/api/v3/klines") - before == 2 + 3
    a, b = pd.read_parquet(out), pd.read_parquet(clean)
    assert a.index.is_unique and a.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(a, b)


def test_rerun_with_nothing_new_fetches_nothing_and_new_bars_are_appended(fake, tmp_path):
    out = tmp_path / "btc.parquet"
    fetch_candles(client(fake), "BTC/USDT", "1m", since=START, out=out, retry=no_wait())

    again = fetch_candles(client(fake), "BTC/USDT", "1m", since=START, out=out,
                          retry=no_wait())
    fake.advance(5)
    more = fetch_candles(client(fake), "BTC/USDT", "1m", since=START, out=out, retry=no_wait())

    assert (again.fetched, again.total) == (0, HISTORY - 1)
    assert (more.fetched, more.total) == (5, HISTORY + 4)
    pd.testing.assert_frame_equal(load_source(str(out)).frames["BTC"],
                                  expected_frame(fake, "BTC/USDT", HISTORY + 4),
                                  check_freq=False, atol=1e-9, rtol=0)


def test_an_earlier_since_fills_in_before_the_file_and_until_is_exclusive(fake, tmp_path):
    out = tmp_path / "eth.parquet"
    fetch_candles(client(fake), "ETH/USDT", "5m", since="2026-01-01T01:00", out=out,
                  until="2026-01-01T02:00", retry=no_wait())

    summary = fetch_candles(client(fake), "ETH/USDT", "5m", since=START, out=out,
                            until="2026-01-01T03:00", retry=no_wait())

    assert (summary.fetched, summary.total) == (24, 36)
    frame = pd.read_parquet(out)
    assert frame.index[0] == pd.Timestamp(START, tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2026-01-01T02:55", tz="UTC")
    assert (frame.index.to_series().diff().dropna() == pd.Timedelta(minutes=5)).all()


def test_rate_limit_and_server_errors_are_retried_with_doubling_backoff(fake, tmp_path):
    sleeps = []
    fake.set_faults(rate_limit=1, retry_after=0, server_error=1)

    summary = fetch_candles(client(fake), "BTC/USDT", "1h", since=START, out=tmp_path / "a.pq",
                            retry=Retry(attempts=3, first_delay=0.01, sleep=sleeps.append))

    assert summary.total == (HISTORY - 1) // 60  # whole closed hours
    assert sleeps == [0.01, 0.02]


def test_unknown_symbol_and_timeframe_are_named(fake, tmp_path):
    with pytest.raises(UnknownSymbolError, match=r"unknown symbol 'BTC/USDX'.*BTC/USDT"):
        fetch_candles(client(fake), "BTC/USDX", "1m", since=START, out=tmp_path / "x.parquet")
    with pytest.raises(UnknownTimeframeError, match=r"unknown timeframe '7m' \(supported: 1s"):
        fetch_candles(client(fake), "BTC/USDT", "7m", since=START, out=tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_a_file_of_another_market_is_never_extended(fake, tmp_path):
    out = tmp_path / "btc.parquet"
    fetch_candles(client(fake), "BTC/USDT", "1h", since=START, out=out, retry=no_wait())

    with pytest.raises(FileMismatchError, match="holds binance BTC/USDT 1h, not binance ETH"):
        fetch_candles(client(fake), "ETH/USDT", "1h", since=START, out=out, retry=no_wait())


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    out = tmp_path / "bars.parquet"
    frame = expected_frame_like(3)
    meta = {"exchange": "x", "symbol": "A/B", "timeframe": "1m"}
    write_candle_file(out, frame, meta)

    def crash(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise KeyboardInterrupt  # what a Ctrl-C mid-write looks like

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(KeyboardInterrupt):
        write_candle_file(out, expected_frame_like(5), meta)

    pd.testing.assert_frame_equal(pd.read_parquet(out), frame, check_freq=False)
    assert [p.name for p in tmp_path.iterdir()] == ["bars.parquet"]


def expected_frame_like(n):
    index = pd.date_range("2026-01-01", periods=n, freq="1min", tz="UTC", name="ts")
    values = np.arange(1.0, n + 1.0)
    return pd.DataFrame({"open": values, "high": values + 1, "low": values, "close": values,
                         "volume": values}, index=index)


class _FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_startup_retries_with_backoff_until_its_time_budget():
    import ccxt

    fake = _FakeTime()
    retry = Retry(first_delay=0.5, max_delay=10.0, within_s=60.0, sleep=fake.sleep,
                  clock=lambda: fake.now)
    calls = []

    def down_for_a_while():
        calls.append(fake.now)
        if fake.now < 20:
            raise ccxt.NetworkError("connection refused")
        return "markets"

    assert retry.call("binance: load markets", down_for_a_while) == "markets"
    assert len(calls) > 2  # more than the two tries a live poll gets
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[:3] == [0.5, 1.0, 2.0] and max(gaps) == 10.0

    fake.now = 0.0

    def never_up():
        raise ccxt.NetworkError("connection refused")

    with pytest.raises(ExchangeFetchError, match=r"failed after \d+ attempts in \d+ s"):
        retry.call("binance: load markets", never_up)
    assert 50 <= fake.now <= 60  # gave up within its budget, not before most of it
    assert Retry.for_startup(60.0).within_s == 60.0
