"""The bar frame rules as invariants: whatever goes in, clean mode yields a valid frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data.frame import COLUMNS, to_bars, validate_frame
from engine.errors import DataError

value = st.one_of(
    st.floats(min_value=-5, max_value=200),
    st.sampled_from([100.0, float("nan"), float("inf")]),
)
row = st.tuples(st.integers(0, 40), value, value, value, value, value)


def assert_valid(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(COLUMNS)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert str(frame.index.tz) == "UTC"
    o, h, lo, c, v = (frame[k].to_numpy() for k in COLUMNS)
    assert np.isfinite(frame.to_numpy()).all()
    assert (lo > 0).all() and (v >= 0).all()
    assert (lo <= np.minimum(o, c)).all() and (h >= np.maximum(o, c)).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=30))
def test_clean_keeps_exactly_the_rows_strict_mode_accepts(rows):
    index = pd.to_datetime([r[0] for r in rows], unit="D", utc=True)
    df = pd.DataFrame([r[1:] for r in rows], columns=list(COLUMNS), index=index)
    try:
        frame, dropped = validate_frame(df, name="t", clean=True)
    except DataError as exc:
        assert "all" in str(exc)  # every row was bad
        return
    assert_valid(frame)
    assert len(frame) + dropped == len(rows)
    # The kept rows are accepted as they are, and strict mode fails iff something dropped.
    assert validate_frame(frame, name="t")[1] == 0
    if dropped:
        with pytest.raises(DataError):
            validate_frame(df, name="t")
    else:
        pd.testing.assert_frame_equal(validate_frame(df, name="t")[0], frame)


def test_to_bars_round_trips_the_frame():
    index = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC", name="ts")
    frame = pd.DataFrame(
        {
            "open": [1.0, 2, 3],
            "high": [2.0, 3, 4],
            "low": [0.5, 1, 2],
            "close": [1.5, 2.5, 3.5],
            "volume": [10.0, 0, 7],
        },
        index=index,
    )
    bars = list(to_bars("X", frame))
    assert [b.ts for b in bars] == list(index.to_pydatetime())
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in bars] == [
        tuple(r) for r in frame.itertuples(index=False)
    ]
    assert {b.symbol for b in bars} == {"X"}
