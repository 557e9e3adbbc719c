"""Close prices of several assets as one wide frame: what `desk portfolio` reads.

PRICES is one of:
- a wide CSV or Parquet file: a time column (named date/time/timestamp/datetime, else the
  first column), then one close-price column per asset;
- one or more OHLCV files (comma-separated, or --data repeated): each file is an asset
  named by its stem upper-cased; bars are kept where every file has one;
- `sim:A,B,C`: the simulated market's closes for those symbols.

A file with open, high, low, close and volume columns is read as OHLCV, any other as wide.
Times are UTC. `start`/`end` (inclusive) filter the rows. Every problem is one line naming
the file and the column or row.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.files import CSV_SUFFIXES, PARQUET_SUFFIXES, TIME_NAMES, one_line, parse_times
from engine.data.frame import COLUMNS
from engine.errors import DataError

COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")


def load_prices(
    sources: Sequence[str],
    *,
    start: str | None = None,
    end: str | None = None,
    bars: int | None = None,
    seed: int | None = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """A wide frame of closes (UTC DatetimeIndex, one column per asset)."""
    names = [part.strip() for source in sources for part in _split(source) if part.strip()]
    if not names:
        raise DataError("--data: no price source given")
    if len(names) == 1 and (names[0] == "sim" or names[0].startswith("sim:")):
        from engine.data.sources import load_source

        market = load_source(names[0], bars=bars, seed=seed, freq=freq, start=start, end=end)
        return pd.DataFrame({symbol: frame["close"] for symbol, frame in market.frames.items()})
    if len(names) == 1 and not _is_ohlcv(names[0]):
        prices = _read_wide(names[0])
    else:
        prices = _join_ohlcv(names)
    return _window(prices, start, end, bars, "+".join(names))


def _split(source: str) -> list[str]:
    # "sim:A,B,C" names symbols after the colon; anything else is a list of files.
    return [source] if source.startswith("sim") else source.split(",")


def _check_file(name: str) -> Path:
    path = Path(name)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise DataError(f"{name}: not a regular file")
    if _suffix(path) not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise DataError(f"{name}: unsupported file type (expected .csv, .csv.gz or .parquet)")
    return path


def _suffix(path: Path) -> str:
    """The type suffix, under a compression one: data.csv.gz is a CSV (pandas inflates it)."""
    suffixes = [s.lower() for s in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in COMPRESSED:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def _read_raw(name: str) -> pd.DataFrame:
    path = _check_file(name)
    try:
        if _suffix(path) in PARQUET_SUFFIXES:
            raw = pd.read_parquet(path)
            return raw if isinstance(raw.index, pd.RangeIndex) else raw.reset_index()
        return pd.read_csv(path, sep=_separator(path), dtype=str, encoding="utf-8-sig")
    except Exception as exc:  # pandas and pyarrow raise many unrelated types for a bad file
        raise DataError(f"{name}: cannot read prices ({one_line(exc)})") from None


def _separator(path: Path) -> str:
    """The separator exports use (',' ';' tab or '|'): the most frequent in the header."""
    import bz2
    import gzip
    import lzma

    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix.lower(), open)
    with opener(path, "rt", encoding="utf-8-sig") as handle:
        header = handle.readline()
    return max((",", ";", "\t", "|"), key=header.count)


def _is_ohlcv(name: str) -> bool:
    path = _check_file(name)
    try:
        if _suffix(path) in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            header = pq.read_schema(path).names
        else:
            header = pd.read_csv(path, nrows=0, sep=_separator(path),
                                 encoding="utf-8-sig").columns
    except Exception as exc:  # pandas and pyarrow raise many unrelated types for a bad file
        raise DataError(f"{name}: cannot read the header ({one_line(exc)})") from None
    return set(COLUMNS) <= {str(col).strip().lower() for col in header}


def _read_wide(name: str) -> pd.DataFrame:
    raw = _read_raw(name)
    if raw.empty:
        raise DataError(f"{name}: no data rows")
    lower = {str(col).strip().lower(): col for col in raw.columns}
    time_col = next((lower[t] for t in TIME_NAMES if t in lower), raw.columns[0])
    index = parse_times(raw[time_col], name)
    if index.isna().any():
        row = int(np.flatnonzero(index.isna())[0])
        raise DataError(f"{name}: row {row + 2}: not a date or time: {raw[time_col].iloc[row]}")
    columns = {}
    for col in raw.columns:
        if col == time_col:
            continue
        text = raw[col]
        values = pd.to_numeric(text, errors="coerce")
        unreadable = values.isna() & text.notna() & (text.astype("string").str.strip() != "")
        if unreadable.any():
            row = int(np.flatnonzero(unreadable.to_numpy())[0])
            raise DataError(f"{name}: column {col}, row {row + 2}: not a price: {text.iloc[row]}")
        columns[str(col).strip()] = values.to_numpy(dtype=float)
    prices = pd.DataFrame(columns, index=index)
    if not prices.index.is_monotonic_increasing:
        prices = prices.sort_index(kind="stable")
    if prices.index.has_duplicates:
        when = prices.index[prices.index.duplicated()][0]
        raise DataError(f"{name}: two rows for the same time {when}")
    return prices


def _join_ohlcv(names: list[str]) -> pd.DataFrame:
    from engine.data.files import load_file

    closes: dict[str, pd.Series] = {}
    for name in names:
        symbol = Path(name).stem.upper()
        if symbol in closes:
            raise DataError(f"{name}: a second file for {symbol}")
        frame, _ = load_file(name)
        closes[symbol] = frame["close"]
    prices = pd.concat(closes, axis=1, join="inner")
    if prices.empty:
        raise DataError(f"{', '.join(names)}: the files share no bar time")
    return prices


def _window(
    prices: pd.DataFrame, start: str | None, end: str | None, bars: int | None, label: str
) -> pd.DataFrame:
    if start is not None:
        prices = prices.loc[prices.index >= _bound(start, "--start")]
    if end is not None:
        stop = _bound(end, "--end")
        if ":" not in end and "T" not in end.upper():  # "--end 2022-03-01" keeps that day
            stop = stop + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
        prices = prices.loc[prices.index <= stop]
    if bars is not None:
        prices = prices.iloc[-bars:]
    if prices.empty:
        raise DataError(f"{label}: no rows between {start} and {end}")
    return prices


def _bound(text: str, option: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise DataError(f"{option}: not a date or time: {text!r}")
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
