"""Datasets shipped with arch, checked against the raw files read without pandas or arch."""

from __future__ import annotations

import csv
import gzip
import importlib.util
from datetime import date
from pathlib import Path

import pytest

from engine.data.datasets import load_dataset
from engine.data.frame import COLUMNS
from engine.errors import DataError


def raw_rows(module: str, filename: str) -> list[dict[str, str]]:
    folder = Path(importlib.util.find_spec(module).origin).parent
    with gzip.open(folder / filename, "rt", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    ("name", "symbol", "module", "filename", "last_close"),
    [
        ("sp500", "SP500", "arch.data.sp500", "sp500.csv.gz", 2506.850098),
        ("nasdaq", "NASDAQ", "arch.data.nasdaq", "nasdaq.csv.gz", 6635.279785),
    ],
)
def test_dataset_matches_the_shipped_file(name, symbol, module, filename, last_close):
    got_symbol, frame = load_dataset(name)
    rows = raw_rows(module, filename)

    assert got_symbol == symbol
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == len(rows) == 5031
    assert frame.index[0].isoformat() == "1999-01-04T00:00:00+00:00"
    assert frame.index[-1].isoformat() == "2018-12-31T00:00:00+00:00"
    assert frame["close"].iloc[-1] == pytest.approx(last_close, abs=1e-6)
    for position, row in ((0, rows[0]), (-1, rows[-1]), (2500, rows[2500])):
        month, day, year = (int(x) for x in row["Date"].split("/"))  # the file is M/D/YYYY
        assert frame.index[position].date() == date(year, month, day)
        for column in COLUMNS:
            assert frame[column].iloc[position] == float(row[column.title()])


def test_sp500_first_close_is_the_known_value():
    _, frame = load_dataset("sp500")
    assert frame["close"].iloc[0] == pytest.approx(1228.099976, abs=1e-6)


def test_unknown_dataset():
    with pytest.raises(DataError, match="arch:dax: unknown dataset"):
        load_dataset("dax")


@pytest.mark.parametrize("name", ["sp500", "nasdaq"])
def test_dataset_equals_what_arch_own_loader_gives(name):
    import importlib

    import pandas as pd

    from engine.data.frame import validate_frame

    raw = importlib.import_module(f"arch.data.{name}").load()
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    expected = pd.DataFrame({c: raw[c] for c in COLUMNS}, index=pd.DatetimeIndex(raw.index))
    expected, _ = validate_frame(expected, name=f"arch:{name}")
    pd.testing.assert_frame_equal(load_dataset(name)[1], expected, check_exact=True)


def test_loading_a_dataset_does_not_import_arch():
    import subprocess
    import sys

    code = ("import sys; from engine.data.datasets import load_dataset; "
            "load_dataset('sp500'); print(sorted(m for m in sys.modules "
            "if m == 'arch' or m.startswith(('arch.', 'statsmodels'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
