"""The mean-reversion strategy's third condition: it fades only a strong move, a
`momentum_lookback`-bar rate of change beyond -threshold to buy and +threshold to sell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.errors import ConfigError
from engine.signals.strategies.registry import create, parse_spec

# A ±0.2 zigzag, a plunge to 97 at bar 12 and a spike to 103 at bar 24 (the rules test's
# series): both reach the 1.5σ bands with RSI(3) at its extremes.
ZIGZAG = [100.0, 100.2] * 6
CLOSE = ZIGZAG + [97.0] + ZIGZAG[1:] + [103.0] + ZIGZAG[:4]


def _frame(close) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    index = pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC")
    return pd.DataFrame({"open": close, "high": close + 0.5, "low": close - 0.5,
                         "close": close, "volume": 1.0}, index=index)


def _events(out) -> tuple[list[int], list[int]]:
    return np.flatnonzero(out.side == 1).tolist(), np.flatnonzero(out.side == -1).tolist()


@pytest.mark.parametrize(("threshold", "expected"), [
    (0.0, ([12], [24])),
    # Bar 12: 97 / 100.2 - 1 = -3.19% over 5 bars; bar 24: 103 / 100.2 - 1 = +2.79%.
    (0.03, ([12], [])),
    (0.031, ([12], [])),
    (0.032, ([], [])),
])
def test_only_a_move_beyond_the_threshold_is_faded(threshold, expected):
    strategy = create("mean_reversion", period=5, num_std=1.5, rsi_period=3,
                      momentum_lookback=5, momentum_threshold=threshold)
    assert _events(strategy.compute(_frame(CLOSE))) == expected


def test_the_lookback_is_the_rate_of_change_window():
    # Two bars back the zigzag reads 100.0: -3% and +3%. One bar back it reads 100.2:
    # -3.19% and +2.79%, and the spike no longer clears 2.95%.
    def events(lookback):
        strategy = create("mean_reversion", period=5, num_std=1.5, rsi_period=3,
                          momentum_lookback=lookback, momentum_threshold=0.0295)
        return _events(strategy.compute(_frame(CLOSE)))

    assert events(2) == ([12], [24])
    assert events(1) == ([12], [])


def test_a_negative_threshold_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="momentum_threshold must be >= 0"):
        parse_spec("mean_reversion:momentum_threshold=-0.01")
