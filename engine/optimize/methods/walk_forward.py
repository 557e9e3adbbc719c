"""Walk-forward windows: where each train and test window lies.

Windows are positions in the bars [start, n). A train window is followed at once by its
test window; the next window moves on by one test span, so test windows tile the data
without overlap. Rolling: the train window keeps its length; anchored: it always starts at
`start` and grows. Spans are counted in bars, or in calendar days of the index (a window
holds the bars whose time falls in it). A window never trains on a bar of its own test
window or later: train_end == test_start, by construction and by a property test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigError


@dataclass(frozen=True)
class Split:
    train_start: int
    train_end: int  # exclusive; == test_start
    test_start: int
    test_end: int  # exclusive


def splits(index: Any, *, start: int, unit: str, train: int, test: int, anchored: bool,
           min_observations: int) -> list[Split]:
    """The walk-forward windows over `index` (a DatetimeIndex or anything with len) from
    bar `start` on: whole test windows only."""
    n = len(index)
    if unit == "bars":
        bounds = _bar_bounds(n, start, train, test)
    else:
        bounds = _day_bounds(index, start, train, test)
    out = []
    for train_start, test_start, test_end in bounds:
        first = start if anchored else train_start
        if test_start - first < min_observations:
            raise ConfigError(
                f"[optimization.wfo] min_observations: a train window holds "
                f"{test_start - first:,} bars, fewer than {min_observations:,}")
        if test_end > test_start:
            out.append(Split(first, test_start, test_start, test_end))
    if not out:
        raise ConfigError(
            f"[optimization.wfo] train = {train}, test = {test} ({unit}): the data after the "
            f"{start:,} warm-up bars ({n - start:,} bars) holds no whole train + test window")
    return out


def _bar_bounds(n: int, start: int, train: int, test: int) -> list[tuple[int, int, int]]:
    out = []
    lo = start
    while lo + train + test <= n:
        out.append((lo, lo + train, lo + train + test))
        lo += test
    return out


def _day_bounds(index: Any, start: int, train: int, test: int) -> list[tuple[int, int, int]]:
    import pandas as pd

    out = []
    n = len(index)
    if start >= n:
        return out
    t0 = index[start]
    train_span, test_span = pd.Timedelta(days=train), pd.Timedelta(days=test)
    k = 0
    while True:
        lo_time = t0 + k * test_span
        mid_time = lo_time + train_span
        end_time = mid_time + test_span
        if end_time > index[-1] + pd.Timedelta(microseconds=1):
            break
        lo, mid, end = (int(index.searchsorted(t, side="left"))
                        for t in (lo_time, mid_time, end_time))
        out.append((max(lo, start), mid, end))
        k += 1
    return out
