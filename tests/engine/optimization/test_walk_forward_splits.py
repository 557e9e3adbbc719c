"""Walk-forward windows: a window never trains on its test bars or later (by property)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ConfigError
from engine.optimize.methods.walk_forward import splits


@settings(max_examples=200, deadline=None)
@given(n=st.integers(50, 3000), start=st.integers(0, 200), train=st.integers(1, 800),
       test=st.integers(1, 400), anchored=st.booleans(), days=st.booleans(),
       minutes=st.sampled_from([60, 1440]))
def test_windows_never_overlap_their_tests(n, start, train, test, anchored, days, minutes):
    index = pd.date_range("2020-01-01", periods=n, freq=f"{minutes}min", tz="UTC")
    try:
        windows = splits(index, start=start, unit="days" if days else "bars", train=train,
                         test=test, anchored=anchored, min_observations=1)
    except ConfigError:
        return  # no whole window fits: refused with one line, nothing to check
    for w in windows:
        assert start <= w.train_start < w.train_end == w.test_start < w.test_end <= n
        if anchored:
            assert w.train_start == start
    # Test windows follow one another without overlap, each after its own training.
    for before, after in zip(windows, windows[1:], strict=False):
        assert before.test_end <= after.test_start
        assert after.train_end > before.train_end
        # No window's training reaches into a later test window.
        assert before.train_end <= after.test_start
    if not days:
        assert all(w.test_end - w.test_start == test for w in windows)
        assert all(w.test_start - w.train_start == (w.test_start - start if anchored
                                                    else train) for w in windows)


def test_rolling_bars_by_hand():
    index = pd.RangeIndex(20)
    got = [(w.train_start, w.train_end, w.test_end)
           for w in splits(index, start=2, unit="bars", train=6, test=4, anchored=False,
                           min_observations=1)]
    assert got == [(2, 8, 12), (6, 12, 16), (10, 16, 20)]
    anchored = [(w.train_start, w.train_end, w.test_end)
                for w in splits(index, start=2, unit="bars", train=6, test=4, anchored=True,
                                min_observations=1)]
    assert anchored == [(2, 8, 12), (2, 12, 16), (2, 16, 20)]


def test_too_short_a_train_window_is_one_line():
    with pytest.raises(ConfigError, match="min_observations: a train window holds 6 bars"):
        splits(pd.RangeIndex(30), start=0, unit="bars", train=6, test=4, anchored=False,
               min_observations=10)
    with pytest.raises(ConfigError, match="holds no whole train"):
        splits(pd.RangeIndex(30), start=0, unit="bars", train=26, test=5, anchored=False,
               min_observations=1)
