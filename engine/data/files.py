"""OHLCV files as people export them: CSV and Parquet into a bar frame.

Time is the column named date/time/timestamp/datetime (any case), else the first column;
it may be epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
magnitude), YYYYMMDD integers, or ISO / common date strings (month before day when
ambiguous). Naive times are UTC. Price and volume columns are matched in any case;
"Adj Close" and other extra columns are ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.frame import COLUMNS, validate_frame
from engine.errors import DataError

TIME_NAMES = ("date", "time", "timestamp", "datetime")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_ROW_NOTE = "row = line number as a spreadsheet shows it, header = row 1"
EPOCH_UNITS = (("s", 1e11), ("ms", 1e14), ("us", 1e17), ("ns", float("inf")))
PARQUET_ROW_NOTE = "row = record number in the file, first record = row 1"


def load_file(path: str | Path, *, clean: bool = False) -> tuple[pd.DataFrame, int]:
    """Load a CSV or Parquet OHLCV file: (bar frame, bad rows dropped).

    Bad rows (see `validate_frame`) raise DataError naming the file and rows unless
    `clean`, which drops them and returns how many.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError(f"{name}: no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        raw = _read_csv(path, name)
        # Data starts on spreadsheet row 2, under the header.
        numbers, note = np.arange(2, len(raw) + 2), CSV_ROW_NOTE
    elif suffix in PARQUET_SUFFIXES:
        raw = _read_parquet(path, name)
        numbers, note = np.arange(1, len(raw) + 1), PARQUET_ROW_NOTE
    else:
        raise DataError(f"{name}: unsupported file type (expected .csv or .parquet)")

    # Blank lines are kept while reading so line numbers stay true; they are not rows.
    blank = raw.isna().all(axis=1).to_numpy()
    raw, numbers = raw.loc[~blank], numbers[~blank]
    if raw.empty:
        raise DataError(f"{name}: no data rows")

    time_col, value_cols = _map_columns(raw, name)
    frame = pd.DataFrame({c: raw[value_cols[c]].to_numpy() for c in COLUMNS})
    frame.index = parse_times(_time_values(raw, time_col), name)
    return validate_frame(frame, name=name, clean=clean, row_numbers=numbers, row_note=note)


def parse_times(col: pd.Series, name: str) -> pd.DatetimeIndex:
    """A time column as a UTC DatetimeIndex; unreadable entries become NaT."""
    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(col):
        idx = pd.DatetimeIndex(col)
        return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    text = col.astype("string").str.strip()
    present = text.notna() & (text != "")
    if not present.any():
        raise DataError(f"{name}: the time column '{col.name}' is empty")
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers[present].notna().all():
        return _epoch_times(numbers.to_numpy(dtype=float, na_value=np.nan))
    text = text.where(present)
    iso = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    if iso[present].isna().any():
        mixed = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
        if mixed.isna().sum() < iso.isna().sum():
            iso = mixed
    return pd.DatetimeIndex(iso)


def _epoch_times(values: np.ndarray) -> pd.DatetimeIndex:
    finite = values[np.isfinite(values)]
    if (
        len(finite)
        and np.all(finite == np.round(finite))
        and np.all((finite >= 1900_01_01) & (finite <= 2100_12_31))
    ):
        # 8-digit integers in the date range: YYYYMMDD, not seconds after 1970.
        text = pd.Series(values).map(lambda v: f"{v:.0f}" if np.isfinite(v) else None)
        return pd.DatetimeIndex(pd.to_datetime(text, format="%Y%m%d", utc=True, errors="coerce"))
    magnitude = float(np.median(np.abs(finite))) if len(finite) else 0.0
    # 1e11 s is the year 5138 while 1e11 ms is 1973: the scales do not overlap in practice.
    unit = next(u for u, top in EPOCH_UNITS if magnitude < top)
    return pd.DatetimeIndex(pd.to_datetime(values, unit=unit, utc=True, errors="coerce"))


def _time_values(raw: pd.DataFrame, time_col: str) -> pd.Series:
    """The time column; a separate Date and Time pair (intraday exports) is joined."""
    names = {str(c).strip().lower(): c for c in raw.columns}
    if str(time_col).strip().lower() == "date" and "time" in names:
        clock = raw[names["time"]]
        if clock.dtype == object or pd.api.types.is_string_dtype(clock):
            joined = raw[time_col].astype("string") + " " + clock.astype("string")
            return joined.rename(time_col)
    return raw[time_col]


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{name}: cannot read the file ({exc})") from exc
    if not header.strip():
        raise DataError(f"{name}: the file is empty (no header line)")
    # Exports use ',' ';' tab or '|': the most frequent one in the header line wins.
    sep = max((",", ";", "\t", "|"), key=header.count)
    try:
        return pd.read_csv(path, sep=sep, dtype=str, skip_blank_lines=False, encoding="utf-8-sig")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{name}: cannot read as CSV ({exc})") from exc


def _read_parquet(path: Path, name: str) -> pd.DataFrame:
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{name}: cannot read as Parquet ({exc})") from exc
    if not isinstance(raw.index, pd.RangeIndex):
        # A frame saved with its time index: the index becomes the first column.
        raw = raw.reset_index()
    return raw


def _map_columns(raw: pd.DataFrame, name: str) -> tuple[str, dict[str, str]]:
    by_name: dict[str, str] = {}
    for col in raw.columns:
        by_name.setdefault(str(col).strip().lower(), col)
    missing = [c for c in COLUMNS if c not in by_name]
    if missing:
        found = ", ".join(map(str, raw.columns))
        raise DataError(f"{name}: missing column(s) {', '.join(missing)} (found: {found})")
    time_col = next((by_name[t] for t in TIME_NAMES if t in by_name), raw.columns[0])
    if str(time_col).strip().lower() in COLUMNS:
        raise DataError(
            f"{name}: no time column (expected one named date, time, timestamp or datetime,"
            " or time in the first column)"
        )
    return time_col, {c: by_name[c] for c in COLUMNS}
