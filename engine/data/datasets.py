"""Real daily OHLCV shipped inside our dependencies, so a backtest needs no download.

`arch:sp500` and `arch:nasdaq` are the S&P 500 and NASDAQ Composite daily bars
(1999-01-04 .. 2018-12-31) that ship with the arch package.

The files are read where arch keeps them, the way arch's own `load()` reads them, without
importing arch: its package imports statsmodels and SciPy's optimizers (1.8 s), which a
backtest on these bars never uses. A test holds the frame to arch's own loader.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from engine.data.frame import COLUMNS, validate_frame
from engine.errors import DataError

# dataset name -> (symbol, file under arch/data/)
DATASETS: dict[str, tuple[str, str]] = {
    "sp500": ("SP500", "sp500/sp500.csv.gz"),
    "nasdaq": ("NASDAQ", "nasdaq/nasdaq.csv.gz"),
}


def load_dataset(name: str) -> tuple[str, pd.DataFrame]:
    """(symbol, bar frame) of a shipped dataset named without its prefix ("sp500")."""
    key = name.strip().lower()
    if key not in DATASETS:
        known = ", ".join(f"arch:{k}" for k in DATASETS)
        raise DataError(f"arch:{name}: unknown dataset (known: {known})")
    symbol, file = DATASETS[key]
    raw = _read_shipped(key, file)
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    # The data is daily closes dated without a zone; the date is the trading day in UTC.
    frame = pd.DataFrame({c: raw[c] for c in COLUMNS}, index=pd.DatetimeIndex(raw.index))
    frame, _ = validate_frame(frame, name=f"arch:{key}")
    return symbol, frame


def _read_shipped(key: str, file: str) -> pd.DataFrame:
    """What `arch.data.<key>.load()` returns: the CSV, dated by its Date column, every
    column numeric (what is not becomes NaN)."""
    spec = importlib.util.find_spec("arch")  # finds the package without running it
    path = None if spec is None or not spec.submodule_search_locations else (
        Path(spec.submodule_search_locations[0]) / "data" / file)
    if path is None or not path.is_file():
        raise DataError(f"arch:{key}: the arch package's data file {file} is missing")
    data = pd.read_csv(path)
    if "Date" in data:
        data["Date"] = pd.to_datetime(data["Date"])
        data = data.set_index("Date")
    return data.apply(pd.to_numeric, errors="coerce")
