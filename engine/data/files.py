"""OHLCV files as people export them: CSV and Parquet into a bar frame.

Time is the column named date/time/timestamp/datetime (any case), else the first column;
it may be epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
magnitude), YYYYMMDD integers, or ISO / common date strings (month before day when
ambiguous). Naive times are UTC. Price and volume columns are matched in any case;
"Adj Close" and other extra columns are ignored.
"""

from __future__ import annotations

import os
import stat
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
# An OHLCV export has a handful of columns and short lines. Far beyond that, a file is not
# one, and pandas would spend minutes (a 200,000-column header) or gigabytes (one 5 MB line)
# finding out; these are refused first, reading the bytes in one linear pass.
MAX_COLUMNS = 1_000
MAX_LINE_BYTES = 1 << 20
_SCAN_CHUNK = 1 << 22
_SEPARATORS = (",", ";", "\t", "|")


def load_file(path: str | Path, *, clean: bool = False) -> tuple[pd.DataFrame, int]:
    """Load a CSV or Parquet OHLCV file: (bar frame, bad rows dropped).

    Bad rows (see `validate_frame`) raise DataError naming the file and rows unless
    `clean`, which drops them and returns how many.
    """
    path = Path(path)
    name = str(path)
    _require_regular_file(path, name)
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


def _require_regular_file(path: Path, name: str) -> None:
    """A directory, FIFO or device is refused by its metadata: opening a FIFO would block."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except OSError as exc:
        raise DataError(f"{name}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise DataError(f"{name}: not a regular file")


def one_line(exc: BaseException, limit: int = 200) -> str:
    """A parser's message as one short line (pandas and pyarrow write several)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_header(path: Path, name: str) -> str:
    """The first line, read without ever holding more than MAX_LINE_BYTES of it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(MAX_LINE_BYTES + 1)
    except OSError as exc:
        raise DataError(f"{name}: cannot read the file ({exc.strerror})") from None
    end = head.find(b"\n")
    if end < 0 and len(head) > MAX_LINE_BYTES:
        raise DataError(f"{name}: row 1 is longer than {MAX_LINE_BYTES >> 20} MB: not a CSV export")
    line = head if end < 0 else head[:end]
    try:
        return line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        raise DataError(f"{name}: row 1: not UTF-8 text") from None


def _check_line_lengths(path: Path, name: str) -> None:
    """Refuse any line over MAX_LINE_BYTES, naming its row; one pass over the bytes."""
    row, run = 1, 0  # the row being read, and its bytes so far
    with path.open("rb") as fh:
        while chunk := fh.read(_SCAN_CHUNK):
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if len(ends) == 0:
                run += len(chunk)
            else:
                lengths = np.diff(ends, prepend=-1) - 1
                lengths[0] += run
                too_long = np.flatnonzero(lengths > MAX_LINE_BYTES)
                if len(too_long):
                    row += int(too_long[0])
                    run = MAX_LINE_BYTES + 1
                    break
                row += len(ends)
                run = len(chunk) - int(ends[-1]) - 1
            if run > MAX_LINE_BYTES:
                break
    if run > MAX_LINE_BYTES:
        raise DataError(
            f"{name}: row {row} is longer than {MAX_LINE_BYTES >> 20} MB: not a CSV export"
        )


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    header = _read_header(path, name)
    if not header.strip():
        raise DataError(f"{name}: the file is empty (no header line)")
    # Exports use ',' ';' tab or '|': the most frequent one in the header line wins.
    sep = max(_SEPARATORS, key=header.count)
    columns = header.count(sep) + 1
    if columns > MAX_COLUMNS:
        raise DataError(
            f"{name}: the header has {columns:,} columns (at most {MAX_COLUMNS:,}):"
            " not an OHLCV export"
        )
    _check_line_lengths(path, name)
    try:
        return pd.read_csv(path, sep=sep, dtype=str, skip_blank_lines=False, encoding="utf-8-sig")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        # ParserError is a ValueError; its message names the line pandas stopped at.
        raise DataError(f"{name}: cannot read as CSV ({one_line(exc)})") from None


def _read_parquet(path: Path, name: str) -> pd.DataFrame:
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{name}: cannot read as Parquet ({one_line(exc)})") from None
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
