"""CSV and Parquet files as people export them, and the bad-row rules with their messages."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engine.data.files import load_file
from engine.data.frame import COLUMNS, BadRowsError
from engine.errors import DataError

GOOD = [
    # day, open, high, low, close, volume
    ("2024-01-02", 100.0, 105.0, 99.0, 104.0, 1000.0),
    ("2024-01-03", 104.0, 106.0, 101.0, 102.0, 1500.0),
    ("2024-01-04", 102.0, 103.0, 98.0, 99.5, 800.0),
    ("2024-01-05", 99.5, 101.0, 97.0, 100.5, 1200.0),
]
EXPECTED_INDEX = pd.DatetimeIndex(
    ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], tz="UTC", name="ts"
)
EPOCH_S = [int(ts.timestamp()) for ts in EXPECTED_INDEX]


def write_csv(path, header, times, rows=GOOD, sep=",", extra=None):
    lines = [sep.join(header)]
    for t, row in zip(times, rows, strict=True):
        values = [str(t), *(str(v) for v in row[1:])]
        if extra is not None:
            values.insert(5, extra)
        lines.append(sep.join(values))
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_good_frame(frame):
    assert list(frame.columns) == list(COLUMNS)
    assert all(frame.dtypes == np.float64)
    assert frame.index.name == "ts"
    assert str(frame.index.tz) == "UTC"
    assert frame.index.equals(EXPECTED_INDEX)
    np.testing.assert_array_equal(frame.to_numpy(), np.array([r[1:] for r in GOOD]))


TIME_VARIANTS = {
    "iso dates": [r[0] for r in GOOD],
    "iso with T and Z": [f"{r[0]}T00:00:00Z" for r in GOOD],
    "iso with offset": [f"{r[0]}T02:00:00+02:00" for r in GOOD],
    "space separated": [f"{r[0]} 00:00:00" for r in GOOD],
    "us slashes": ["01/02/2024", "01/03/2024", "01/04/2024", "01/05/2024"],
    "epoch seconds": EPOCH_S,
    "epoch milliseconds": [s * 1000 for s in EPOCH_S],
    "yyyymmdd": ["20240102", "20240103", "20240104", "20240105"],
}


@pytest.mark.parametrize("variant", list(TIME_VARIANTS))
def test_csv_time_formats(tmp_path, variant):
    path = write_csv(tmp_path / "p.csv", COLUMNS_HEADER, TIME_VARIANTS[variant])
    frame, dropped = load_file(path)
    assert dropped == 0
    assert_good_frame(frame)


COLUMNS_HEADER = ["timestamp", "open", "high", "low", "close", "volume"]


@pytest.mark.parametrize(
    ("header", "sep", "extra"),
    [
        (["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"], ",", "1.0"),
        (["DATETIME", "OPEN", "HIGH", "LOW", "CLOSE", "VOLUME"], ";", None),
        (["Time", "open", "high", "low", "close", "volume"], "\t", None),
        # No named time column: the first column holds the time.
        (["", "open", "high", "low", "close", "volume"], ",", None),
    ],
    ids=["yahoo-style", "upper-semicolon", "tab", "unnamed-first-column"],
)
def test_csv_column_spellings(tmp_path, header, sep, extra):
    path = write_csv(tmp_path / "p.csv", header, TIME_VARIANTS["iso dates"], sep=sep, extra=extra)
    frame, _ = load_file(path)
    assert_good_frame(frame)


def test_parquet_with_time_column_and_with_time_index(tmp_path):
    raw = pd.DataFrame([r[1:] for r in GOOD], columns=["Open", "High", "Low", "Close", "Volume"])
    raw.insert(0, "date", pd.to_datetime([r[0] for r in GOOD]))
    raw.to_parquet(tmp_path / "col.parquet")
    raw.set_index("date").to_parquet(tmp_path / "idx.parquet")
    raw.assign(date=EPOCH_S).to_parquet(tmp_path / "epoch.parquet")
    for name in ("col.parquet", "idx.parquet", "epoch.parquet"):
        frame, dropped = load_file(tmp_path / name)
        assert dropped == 0
        assert_good_frame(frame)


def test_separate_date_and_time_columns_are_joined(tmp_path):
    path = tmp_path / "intraday.csv"
    path.write_text(
        "Date,Time,Open,High,Low,Close,Volume\n"
        "2024-01-02,09:30,100,105,99,104,1000\n"
        "2024-01-02,09:31,104,106,101,102,1500\n"
    )
    frame, _ = load_file(path)
    assert list(frame.index) == list(
        pd.DatetimeIndex(["2024-01-02 09:30", "2024-01-02 09:31"], tz="UTC")
    )


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text(
        "date,open,high,low,close,volume\n"
        "2024-01-02,100,105,99,104,1000\n"
        "\n"
        "2024-01-03,104,103,101,102,1500\n"  # line 4: high below open
    )
    with pytest.raises(BadRowsError, match=r"row 4: high below open/close"):
        load_file(path)


# (reason in the message, the bad row's values: time, open, high, low, close, volume)
BAD_ROWS = [
    ("missing or non-numeric close", ("2024-01-04", 102, 103, 98, "", 800)),
    ("missing or non-numeric volume", ("2024-01-04", 102, 103, 98, 99.5, "n/a")),
    ("missing or unreadable time", ("not a date", 102, 103, 98, 99.5, 800)),
    ("non-positive price", ("2024-01-04", 0, 103, 0, 99.5, 800)),
    ("negative volume", ("2024-01-04", 102, 103, 98, 99.5, -1)),
    ("high below open/close", ("2024-01-04", 102, 101, 98, 99.5, 800)),
    ("low above open/close", ("2024-01-04", 102, 103, 100, 99.5, 800)),
    ("duplicate timestamp", ("2024-01-03", 102, 103, 98, 99.5, 800)),
    ("timestamp out of order", ("2024-01-01", 102, 103, 98, 99.5, 800)),
]


@pytest.mark.parametrize(("reason", "row"), BAD_ROWS, ids=[r for r, _ in BAD_ROWS])
def test_each_bad_row_reason_names_file_row_and_reason(tmp_path, reason, row):
    rows = [GOOD[0], GOOD[1], row, GOOD[3]]
    path = write_csv(tmp_path / "prices.csv", COLUMNS_HEADER, [r[0] for r in rows], rows)
    with pytest.raises(DataError) as info:
        load_file(path)
    message = str(info.value)
    # The bad row is the third data row: line 4 of the file, the header being line 1.
    assert message.startswith(f"{path}: row 4: {reason} (use --clean to drop them;")
    assert "header = row 1" in message
    assert info.value.bad_rows == [(4, reason)]

    frame, dropped = load_file(path, clean=True)
    assert dropped == 1
    assert list(frame.index) == [EXPECTED_INDEX[i] for i in (0, 1, 3)]
    np.testing.assert_array_equal(frame["close"], [104.0, 102.0, 100.5])


def test_many_bad_rows_are_summarized(tmp_path):
    rows, times = [], []
    for i in range(12):
        day = f"2024-02-{i + 1:02d}"
        high = 90 if i in (2, 4, 5, 6, 8, 9, 11) else 110  # 7 rows with high below open
        rows.append((day, 100, high, 95, 100, 10))
        times.append(day)
    path = write_csv(tmp_path / "prices.csv", COLUMNS_HEADER, times, rows)
    with pytest.raises(DataError) as info:
        load_file(path)
    message = str(info.value)
    assert re.match(
        rf"{re.escape(str(path))}: rows 4, 6, 7, 8, 10: high below open/close "
        r"\(and 2 more bad rows; use --clean to drop them;",
        message,
    ), message
    frame, dropped = load_file(path, clean=True)
    assert (dropped, len(frame)) == (7, 5)


def test_parquet_rows_are_counted_from_one(tmp_path):
    raw = pd.DataFrame([r[1:] for r in GOOD], columns=list(COLUMNS))
    raw.loc[1, "low"] = 200.0
    raw.insert(0, "time", [r[0] for r in GOOD])
    raw.to_parquet(tmp_path / "p.parquet")
    with pytest.raises(DataError, match=r"p\.parquet: row 2: low above open/close .*first"):
        load_file(tmp_path / "p.parquet")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", "", "empty"),
        ("header.csv", "date,open,high,low,close,volume\n", "no data rows"),
        ("nocol.csv", "date,open,high,low,close\n2024-01-02,1,2,1,1\n", "missing column"),
        ("notime.csv", "open,high,low,close,volume\n1,2,1,1,5\n", "no time column"),
        ("prices.xlsx", "x", "unsupported file type"),
        ("bad.parquet", "not parquet", "cannot read as Parquet"),
    ],
)
def test_unusable_files_name_the_file(tmp_path, name, content, expected):
    (tmp_path / name).write_text(content)
    with pytest.raises(DataError, match=rf"{re.escape(name)}: .*{expected}"):
        load_file(tmp_path / name)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.csv: no such file"):
        load_file(tmp_path / "nope.csv")


def test_clean_with_every_row_bad_is_an_error(tmp_path):
    rows = [(r[0], r[1], 1.0, r[3], r[4], r[5]) for r in GOOD]
    path = write_csv(tmp_path / "p.csv", COLUMNS_HEADER, [r[0] for r in rows], rows)
    with pytest.raises(DataError, match="all 4 rows are bad"):
        load_file(path, clean=True)
