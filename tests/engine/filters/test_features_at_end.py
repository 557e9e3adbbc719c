"""The live desk computes only its newest bar's features; they are the last row of the
backtest's feature matrix over the same window, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data.sources import load_source
from engine.signals import indicators as ind
from engine.signals.filters.features import (
    Bars,
    bollinger_width_at_end,
    direction_features,
    direction_features_at_end,
    realized_vol,
    realized_vol_at_end,
    volume_zscore,
    volume_zscore_at_end,
)
from engine.signals.filters.volume import surge


def _same(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 320),
       lookback=st.sampled_from([5, 20, 50, 100]), holes=st.booleans(),
       flat=st.booleans(), regime=st.booleans())
def test_the_newest_row_is_the_matrix_last_row_bit_for_bit(seed, n, lookback, holes, flat,
                                                              regime):
    """Random walks with NaN bars, flat stretches (zero sigma) and zero volume."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    volume = rng.lognormal(3, 1, n)
    if flat:
        k = int(rng.integers(0, n))
        close[k:] = close[k]
        volume[k:] = 0.0
    if holes:
        close[rng.random(n) < 0.05] = np.nan
        volume[rng.random(n) < 0.05] = np.nan
    bars = Bars(close * 1.001, close * 1.01, close * 0.99, close, volume)
    probs = None
    if regime:
        probs = np.full((n, 3), np.nan)
        probs[-1] = rng.dirichlet(np.ones(3))
    full = direction_features(bars, lookback, probs)[-1:]
    assert _same(direction_features_at_end(bars, lookback,
                                           None if probs is None else probs[-1]), full)
    assert _same(volume_zscore_at_end(volume, lookback), volume_zscore(volume, lookback)[-1])
    assert _same(realized_vol_at_end(close, lookback), realized_vol(close, lookback)[-1])
    assert _same(bollinger_width_at_end(close, 20, 2.0), ind.bollinger(close, 20, 2.0).width[-1])
    z, is_surge = surge(volume, lookback, 2.5)
    assert bool(volume_zscore_at_end(volume, lookback) >= 2.5) == bool(is_surge[-1])


def test_the_newest_row_over_simulated_windows():
    """Every window of a live desk's shape (the last 300 bars) over a simulated market."""
    bars = Bars.of(load_source("sim:ETH/USDT", bars=1200, seed=5, freq="1min")
                   .frames["ETH/USDT"])
    for hi in range(1, len(bars) + 1, 7):
        window = bars.slice(max(0, hi - 300), hi)
        for lookback in (20, 50):
            assert _same(direction_features_at_end(window, lookback),
                         direction_features(window, lookback)[-1:]), (hi, lookback)
