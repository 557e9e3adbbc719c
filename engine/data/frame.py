"""The bar frame: the one in-memory form of OHLCV data, and the bad-row rules.

A bar frame is a pandas DataFrame with float64 columns open, high, low, close, volume
(exactly these, in this order) and a strictly increasing, tz-aware UTC DatetimeIndex named
"ts" (bar open time).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.types import Bar

COLUMNS = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS = COLUMNS[:4]
# Enough to find the pattern in a spreadsheet; the rest is summarized as a count.
MAX_LISTED = 5


class BadRowsError(DataError):
    """Rows that break the bar rules; carries (row number, reason) for every bad row."""

    def __init__(self, message: str, name: str, bad_rows: list[tuple[int, str]]) -> None:
        super().__init__(message)
        self.name = name
        self.bad_rows = bad_rows


def validate_frame(
    df: pd.DataFrame,
    *,
    name: str,
    clean: bool = False,
    row_numbers: Sequence[int] | None = None,
    row_note: str = "rows counted from 1",
) -> tuple[pd.DataFrame, int]:
    """Check `df` against the bar rules and return (bar frame, rows dropped).

    `df` holds the five columns (any dtype; non-numbers count as missing) in file order
    with a DatetimeIndex that may contain NaT. Bad rows: a missing time or value,
    a non-positive price, a negative volume, high below open/close, low above open/close,
    a timestamp equal to or earlier than an earlier good row's. Without `clean` any bad
    row raises BadRowsError naming `name` and the rows (numbered by `row_numbers`,
    explained by `row_note`); with `clean` they are dropped and counted.
    """
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {', '.join(missing)}")
    n = len(df)
    if n == 0:
        raise DataError(f"{name}: no data rows")
    numbers = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers)
    values = {c: _as_float(df[c]) for c in COLUMNS}
    index, outside = _utc_index(df.index)

    reasons = _row_reasons(values, index, outside)
    bad = np.flatnonzero(reasons != "")
    if len(bad) and not clean:
        listed = [(int(numbers[i]), str(reasons[i])) for i in bad]
        raise BadRowsError(_bad_rows_message(name, listed, row_note), name, listed)
    keep = reasons == ""
    if not keep.any():
        raise DataError(f"{name}: all {n} rows are bad, nothing left to load")
    frame = pd.DataFrame(
        {c: values[c][keep] for c in COLUMNS},
        index=pd.DatetimeIndex(index[keep], name="ts"),
    )
    return frame, int(len(bad))


def to_bars(symbol: str, df: pd.DataFrame) -> Iterator[Bar]:
    """The rows of a bar frame as `Bar`s, oldest first (for replay)."""
    times = df.index.to_pydatetime()
    cols = [df[c].to_numpy(dtype=float) for c in COLUMNS]
    for i, ts in enumerate(times):
        yield Bar(
            symbol,
            ts,
            float(cols[0][i]),
            float(cols[1][i]),
            float(cols[2][i]),
            float(cols[3][i]),
            float(cols[4][i]),
        )


def _as_float(col: pd.Series) -> np.ndarray:
    arr = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return arr


# The span a nanosecond timestamp holds (1677-09-21 .. 2262-04-11): a time outside it is a
# bad row, not an OutOfBoundsDatetime from deep inside pandas.
NS_RANGE_NOTE = "time out of range (before 1677-09-22 or after 2262-04-10)"
_NS_LOW = pd.Timestamp("1677-09-22", tz="UTC")
_NS_HIGH = pd.Timestamp("2262-04-10", tz="UTC")


def _utc_index(index: pd.Index) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The index in UTC nanoseconds, and which entries were outside that range (now NaT).

    Parsers keep years like 1500 or 9999 at a coarser unit; converting those to
    nanoseconds would overflow."""
    idx = pd.DatetimeIndex(index)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    outside = np.asarray((idx < _NS_LOW) | (idx > _NS_HIGH))  # NaT compares False
    if outside.any():
        idx = idx.where(~outside)
    # One resolution everywhere so frames from different sources compare and align.
    return idx.as_unit("ns"), outside


def _row_reasons(
    values: dict[str, np.ndarray], index: pd.DatetimeIndex, outside: np.ndarray
) -> np.ndarray:
    """The first broken rule of every row ("" for a good row)."""
    n = len(index)
    reasons = np.full(n, "", dtype=object)

    def mark(mask: np.ndarray, reason: str) -> None:
        reasons[mask & (reasons == "")] = reason

    o, h, lo, c, v = (values[k] for k in COLUMNS)
    mark(outside, NS_RANGE_NOTE)
    mark(np.asarray(index.isna()), "missing or unreadable time")
    for col in COLUMNS:
        mark(~np.isfinite(values[col]), f"missing or non-numeric {col}")
    with np.errstate(invalid="ignore"):
        mark((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0), "non-positive price")
        mark(v < 0, "negative volume")
        mark(h < np.maximum(o, c), "high below open/close")
        mark(lo > np.minimum(o, c), "low above open/close")

    # Order is judged among rows that are otherwise good, so one bad row does not also
    # make its neighbours look out of order.
    good = np.flatnonzero(reasons == "")
    if len(good) > 1:
        ts = index.asi8[good]
        prev_max = np.concatenate(([np.iinfo(np.int64).min], np.maximum.accumulate(ts)[:-1]))
        reasons[good[ts == prev_max]] = "duplicate timestamp"
        reasons[good[ts < prev_max]] = "timestamp out of order"
    return reasons


def _bad_rows_message(name: str, bad_rows: list[tuple[int, str]], row_note: str) -> str:
    listed = bad_rows[:MAX_LISTED]
    groups: dict[str, list[int]] = {}
    for number, reason in listed:
        groups.setdefault(reason, []).append(number)
    parts = "; ".join(
        f"{'row' if len(rows) == 1 else 'rows'} {', '.join(map(str, rows))}: {reason}"
        for reason, rows in groups.items()
    )
    more = len(bad_rows) - len(listed)
    tail = f"and {more} more bad row{'s' if more != 1 else ''}; " if more else ""
    return f"{name}: {parts} ({tail}use --clean to drop them; {row_note})"
