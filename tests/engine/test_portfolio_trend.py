"""The bar-by-bar close-only ADX of portfolio mode equals the indicator computed over the
whole series (engine.signals.indicators.adx with high = low = close)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.portfolio.trend import CloseOnlyADX
from engine.signals.indicators import adx


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), bars=st.integers(2, 200), period=st.integers(2, 20))
def test_stepping_equals_the_whole_series_indicator(seed, bars, period):
    rng = np.random.default_rng(seed)
    closes = 100 * np.cumprod(1 + rng.normal(0, 0.02, (bars, 4)), axis=0)
    closes[rng.random((bars, 4)) < 0.05] = closes[0, 0]  # flat steps and repeats too
    expected = np.column_stack([adx(c, c, c, period).adx for c in closes.T])
    stepper = CloseOnlyADX(4, period)
    got = np.array([stepper.update(row).copy() for row in closes])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got[~np.isnan(got)], expected[~np.isnan(expected)],
                               rtol=1e-10, atol=1e-10)
