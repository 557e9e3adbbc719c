"""Hostile data files stop with one line naming the file (and the row where there is one),
before pandas spends minutes or gigabytes on them."""

from __future__ import annotations

import os
import tracemalloc

import pandas as pd
import pytest

from engine.data import files
from engine.data.files import MAX_COLUMNS, load_file
from engine.data.sources import load_source
from engine.errors import DataError

HEADER = "date,open,high,low,close,volume\n"
GOOD = "2024-01-02,1,2,1,2,10\n"


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    assert error.value.exit_code == 2
    return message


@pytest.fixture
def no_pandas_reader(monkeypatch):
    """The file must be refused before pandas is asked to parse it."""

    def refuse(*args, **kwargs):
        raise AssertionError("pandas.read_csv was called")

    monkeypatch.setattr(files.pd, "read_csv", refuse)


@pytest.mark.parametrize(("first", "bad"), [
    ("2024-01-02", "9999-01-01"),
    ("2024-01-02", "1500-06-30T00:00:00Z"),
    ("1/2/2024", "1/2/9999"),
    ("1704153600", "99999999999"),  # epoch seconds: the year 5138
])
def test_a_time_outside_pandas_range_names_the_row(tmp_path, first, bad):
    path = tmp_path / "bars.csv"
    path.write_text(HEADER + f"{first},1,2,1,2,10\n" + f"{bad},1,2,1,2,10\n")

    with pytest.raises(DataError) as error:
        load_file(path)

    message = _one_line(error)
    assert message.startswith(f"{path}: row 3: time out of range")


def test_clean_drops_the_out_of_range_rows(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(HEADER + "1500-01-01,1,2,1,2,10\n" + GOOD + "9999-12-31,1,2,1,2,10\n")

    frame, dropped = load_file(path, clean=True)

    assert dropped == 2
    assert list(frame.index) == [pd.Timestamp("2024-01-02", tz="UTC")]


def test_a_parquet_time_outside_pandas_range_names_the_record(tmp_path):
    path = tmp_path / "bars.parquet"
    times = pd.to_datetime(["2024-01-02", "9999-01-01"]).as_unit("s")
    pd.DataFrame({"date": times, "open": 1.0, "high": 2.0, "low": 1.0, "close": 2.0,
                  "volume": 1.0}).to_parquet(path)

    with pytest.raises(DataError) as error:
        load_file(path)

    assert _one_line(error).startswith(f"{path}: row 2: time out of range")


def test_a_200000_column_header_is_refused_before_parsing(tmp_path, no_pandas_reader):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(200_000)) + "\n" + "1," * 10 + "\n")

    with pytest.raises(DataError) as error:
        load_file(path)

    # Over 1 MB, so the first line's length refuses it before the columns are counted.
    assert _one_line(error) == f"{path}: row 1 is longer than 1 MB: not a CSV export"


def test_a_header_over_the_column_limit_is_refused_before_parsing(tmp_path, no_pandas_reader):
    path = tmp_path / "wide.csv"
    path.write_text(",".join("c" for _ in range(MAX_COLUMNS + 1)) + "\n" + GOOD)

    with pytest.raises(DataError) as error:
        load_file(path)

    assert _one_line(error) == (
        f"{path}: the header has 1,001 columns (at most 1,000): not an OHLCV export"
    )


def test_a_single_5_mb_line_is_refused_in_little_memory(tmp_path, no_pandas_reader):
    path = tmp_path / "long.csv"
    path.write_bytes(b"1," * (5 * 2**20 // 2))

    tracemalloc.start()
    try:
        with pytest.raises(DataError) as error:
            load_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert _one_line(error) == f"{path}: row 1 is longer than 1 MB: not a CSV export"
    assert peak < 16 * 2**20


def test_a_long_line_further_down_is_named_by_row(tmp_path, no_pandas_reader):
    path = tmp_path / "bars.csv"
    path.write_text(HEADER + GOOD * 3 + "x" * (5 * 2**20) + "\n" + GOOD)

    with pytest.raises(DataError) as error:
        load_file(path)

    assert _one_line(error) == f"{path}: row 5 is longer than 1 MB: not a CSV export"


def test_a_line_of_exactly_the_limit_is_read(tmp_path):
    path = tmp_path / "bars.csv"
    padding = files.MAX_LINE_BYTES - len(GOOD.rstrip("\n")) - 1  # an extra ignored column
    path.write_text("date,open,high,low,close,volume,note\n"
                    + GOOD.rstrip("\n") + "," + "x" * padding + "\n")

    frame, _ = load_file(path)

    assert len(frame) == 1


def test_parser_messages_are_one_line(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(HEADER + GOOD + "2024-01-03,1,2,1,2,10,7,8\n")

    with pytest.raises(DataError) as error:
        load_file(path)

    message = _one_line(error)
    assert message.startswith(f"{path}: cannot read as CSV (")
    assert "line 3" in message


def test_a_directory_is_not_a_regular_file(tmp_path):
    folder = tmp_path / "bars.csv"
    folder.mkdir()

    with pytest.raises(DataError) as error:
        load_source(str(folder))

    assert _one_line(error) == f"{folder}: not a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_not_a_regular_file_and_is_never_opened(tmp_path):
    fifo = tmp_path / "bars.csv"
    os.mkfifo(fifo)  # opening it for reading would block this test forever

    with pytest.raises(DataError) as error:
        load_file(fifo)

    assert _one_line(error) == f"{fifo}: not a regular file"


def test_a_missing_file_still_says_so(tmp_path):
    with pytest.raises(DataError) as error:
        load_file(tmp_path / "nope.csv")

    assert _one_line(error) == f"{tmp_path / 'nope.csv'}: no such file"
