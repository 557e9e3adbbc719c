"""load_source: one name for files, shipped datasets and the simulated market."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from engine.data.sim import SimMarket
from engine.data.sources import MarketData, load_source
from engine.errors import DataError


def test_sim_defaults():
    data = load_source("sim:")
    assert isinstance(data, MarketData)
    assert data.symbols == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert len(data.index) == 5000 and data.dropped == 0
    assert (data.index[1] - data.index[0]) == pd.Timedelta("1h")
    expected = SimMarket(data.symbols, seed=7, freq="1h").history(5000)
    for sym in data.symbols:
        pd.testing.assert_frame_equal(data.frames[sym], expected[sym])
        assert data.frames[sym].index.equals(data.index)


def test_sim_with_symbols_bars_seed_freq_start_and_end():
    start = datetime(2025, 3, 1, tzinfo=UTC)
    data = load_source(
        "sim:DOGE/USDT,BTC/USDT", bars=48, seed=3, freq="1h", start=start, end="2025-03-01"
    )
    assert data.symbols == ["DOGE/USDT", "BTC/USDT"]
    # end is a date: the whole of 1 March is kept, 24 hourly bars of the 48.
    assert len(data.index) == 24
    assert data.index[0] == pd.Timestamp(start) and data.index[-1].hour == 23
    expected = SimMarket(["DOGE/USDT", "BTC/USDT"], seed=3, freq="1h", start=start).history(24)
    pd.testing.assert_frame_equal(data.frames["BTC/USDT"], expected["BTC/USDT"])


def test_dataset_with_inclusive_date_filter_and_last_bars():
    data = load_source("arch:sp500", start="2018-12-03", end="2018-12-31")
    assert data.symbols == ["SP500"]
    assert data.index[0] == pd.Timestamp("2018-12-03", tz="UTC")
    assert data.index[-1] == pd.Timestamp("2018-12-31", tz="UTC")
    # Ignored for a dataset: seed and freq. bars keeps the last N.
    last = load_source("arch:nasdaq", bars=10, seed=1, freq="1min")
    assert len(last.index) == 10 and last.index[-1] == pd.Timestamp("2018-12-31", tz="UTC")


def test_file_source_symbol_and_clean(tmp_path):
    path = tmp_path / "eth_daily.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        "2024-01-02,100,105,99,104,1000\n"
        "2024-01-03,104,100,101,102,1500\n"  # high below open
        "2024-01-04,102,103,98,99.5,800\n"
    )
    with pytest.raises(DataError, match="eth_daily.csv: row 3: high below open/close"):
        load_source(str(path))
    data = load_source(str(path), clean=True)
    assert data.symbols == ["ETH_DAILY"] and data.dropped == 1
    assert list(data.frames["ETH_DAILY"]["close"]) == [104.0, 99.5]


@pytest.mark.parametrize(
    ("source", "kwargs", "message"),
    [
        ("yahoo:AAPL", {}, "unknown source prefix 'yahoo:'"),
        ("arch:sp500", {"start": "2030-01-01"}, "no bars for SP500"),
        ("arch:sp500", {"start": "2010-01-02", "end": "2009-01-01"}, "start .* is after end"),
        ("arch:sp500", {"end": "someday"}, "end: not a date"),
        ("sim:", {"bars": 0}, "bars must be at least 1"),
        ("missing.parquet", {}, "missing.parquet: no such file"),
    ],
)
def test_bad_sources(source, kwargs, message):
    with pytest.raises(DataError, match=message):
        load_source(source, **kwargs)
