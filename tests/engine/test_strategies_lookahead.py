"""No strategy looks ahead: the whole-frame computation a backtest uses equals, bar by bar,
what the live engine gets from `latest` on the history up to that bar.

Data: the real daily S&P 500 OHLCV shipped in the arch package (arch.data.sp500).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.signals.strategies.registry import STRATEGIES, create
from engine.types import Side
from tests.engine.flow_columns import flow_frame_columns

BARS = 2_500


@pytest.fixture(scope="module")
def sp500():
    import arch.data.sp500
    import pandas as pd

    raw = arch.data.sp500.load()
    frame = raw[["Open", "High", "Low", "Close", "Volume"]].astype("float64")
    frame.columns = [c.lower() for c in frame.columns]
    frame.index = pd.DatetimeIndex(frame.index).tz_localize("UTC")
    frame = frame.iloc[-BARS:]
    # The hft strategy's order-flow columns (the bar strategies ignore them).
    return frame.assign(**flow_frame_columns(len(frame), seed=500))


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_whole_frame_equals_bar_by_bar_latest(sp500, name):
    strategy = create(name)

    whole = strategy.compute(sp500)
    sides = np.empty(len(sp500), dtype=np.int8)
    confidences = np.empty(len(sp500))
    for t in range(len(sp500)):
        side, confidence = strategy.latest(sp500.iloc[: t + 1])
        sides[t], confidences[t] = side, confidence

    assert (whole.side != 0).sum() >= 10, "too few signals for the comparison to mean much"
    np.testing.assert_array_equal(sides, whole.side)
    np.testing.assert_allclose(confidences, whole.confidence, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_signals_are_well_formed_on_real_data(sp500, name):
    strategy = create(name)

    out = strategy.compute(sp500)

    assert out.side.dtype == np.int8 and out.confidence.dtype == np.float64
    assert len(out) == len(sp500)
    assert set(np.unique(out.side)) <= {-1, 0, 1}
    assert (out.side[: strategy.warmup] == 0).all()
    acting = out.side != 0
    assert ((out.confidence >= 0) & (out.confidence <= 1)).all()
    assert (out.confidence[~acting] == 0).all()
    # Confidence measures strength: it is not one constant over the signals.
    assert np.unique(out.confidence[acting]).size > 3
    assert strategy.latest(sp500) == (Side(int(out.side[-1])), float(out.confidence[-1]))
