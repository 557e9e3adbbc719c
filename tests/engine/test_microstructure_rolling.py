"""Rolling statistics against pandas' rolling windows, the independent computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.microstructure.rolling import RollingStats, RollingSum


def pandas_z(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    series = pd.Series(values)
    rolling = series.rolling(window, min_periods=min_periods)
    return ((series - rolling.mean()) / rolling.std(ddof=1)).to_numpy()


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=3, max_size=400),
    window=st.integers(2, 60),
    offset=st.floats(-1e9, 1e9, allow_nan=False),
)
def test_z_scores_match_pandas_rolling(values, window, offset):
    data = np.asarray(values) + offset  # a large level must not cost precision
    stats = RollingStats(window, min_periods=2)
    ours = np.array([stats.push(float(v)) for v in data])
    theirs = pandas_z(data, window, 2)
    spread = pd.Series(data).rolling(window, min_periods=2).std().to_numpy()
    # Compare where the window has a real spread; flat windows are NaN for us by contract.
    # Below a spread of 1e-4 of the level, both running sums lose digits to cancellation
    # (pandas' too) and the two differ in the fifth significant digit.
    usable = np.isfinite(theirs) & (spread > 1e-4 * (np.abs(data).max() + 1))
    np.testing.assert_allclose(ours[usable], theirs[usable], rtol=1e-6, atol=1e-6)


def test_mean_std_and_warm_up():
    stats = RollingStats(4, min_periods=3)
    assert math.isnan(stats.push(1.0))
    assert math.isnan(stats.push(2.0))
    z = stats.push(3.0)
    assert z == pytest.approx((3.0 - 2.0) / 1.0)
    for v in (10.0, 20.0):
        stats.push(v)
    window = [2.0, 3.0, 10.0, 20.0]
    assert stats.mean == pytest.approx(np.mean(window))
    assert stats.std == pytest.approx(np.std(window, ddof=1))


def test_flat_window_has_no_z():
    stats = RollingStats(5, min_periods=2)
    for _ in range(10):
        z = stats.push(0.25)
    assert math.isnan(z)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=300),
       window=st.integers(1, 50))
def test_rolling_sum_matches_pandas(values, window):
    rolling = RollingSum(window)
    ours = [rolling.push(v) for v in values]
    theirs = pd.Series(values).rolling(window, min_periods=1).sum().to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-7)
