"""Real daily OHLCV shipped inside our dependencies, so a backtest needs no download.

`arch:sp500` and `arch:nasdaq` are the S&P 500 and NASDAQ Composite daily bars
(1999-01-04 .. 2018-12-31) that ship with the arch package.
"""

from __future__ import annotations

import importlib

import pandas as pd

from engine.data.frame import COLUMNS, validate_frame
from engine.errors import DataError

# dataset name -> (symbol, module whose load() returns the data)
DATASETS: dict[str, tuple[str, str]] = {
    "sp500": ("SP500", "arch.data.sp500"),
    "nasdaq": ("NASDAQ", "arch.data.nasdaq"),
}


def load_dataset(name: str) -> tuple[str, pd.DataFrame]:
    """(symbol, bar frame) of a shipped dataset named without its prefix ("sp500")."""
    key = name.strip().lower()
    if key not in DATASETS:
        known = ", ".join(f"arch:{k}" for k in DATASETS)
        raise DataError(f"arch:{name}: unknown dataset (known: {known})")
    symbol, module = DATASETS[key]
    raw = importlib.import_module(module).load()
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    # The data is daily closes dated without a zone; the date is the trading day in UTC.
    frame = pd.DataFrame({c: raw[c] for c in COLUMNS}, index=pd.DatetimeIndex(raw.index))
    frame, _ = validate_frame(frame, name=f"arch:{key}")
    return symbol, frame
