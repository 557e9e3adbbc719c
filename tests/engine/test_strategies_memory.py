"""A live strategy sees a window of `memory` bars; its latest signal must equal the value
computed over the whole history at any run length, recursive averages included."""

from __future__ import annotations

import numpy as np
import pytest

from engine.signals.strategies.base import Prices
from engine.signals.strategies.registry import STRATEGIES, create
from tests.engine.flow_columns import flow_features

LONG = {  # periods long enough that a 600-bar window would not do for the EMA ones
    "sma_cross": {"fast": 50, "slow": 200},
    "ema_cross": {"fast": 50, "slow": 200},
    "rsi": {"period": 60},
    "momentum": {"fast": 40, "slow": 120, "rsi_period": 50},
    "mean_reversion": {"period": 60, "rsi_period": 50},
    "breakout": {"period": 120},
    "hft": {"entry_z": 1.5, "sustain_trades": 10},
}


def _prices(n: int, seed: int) -> Prices:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    spread = np.abs(rng.normal(0, 0.004, n)) * close
    return Prices(close * (1 + rng.normal(0, 0.002, n)), close + spread, close - spread, close,
                  rng.lognormal(10, 0.5, n), flow=flow_features(n, seed))


def _tail(prices: Prices, end: int, size: int) -> Prices:
    lo = max(end - size, 0)
    flow = {k: np.ascontiguousarray(v[lo:end]) for k, v in (prices.flow or {}).items()}
    return Prices(*(np.ascontiguousarray(a[lo:end]) for a in (
        prices.open, prices.high, prices.low, prices.close, prices.volume)), flow=flow or None)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("long", [False, True])
def test_latest_over_the_memory_window_equals_the_full_history(name, long):
    strategy = create(name, **(LONG[name] if long else {}))
    window = strategy.memory + 1
    prices = _prices(window + 1500, seed=len(name) + 7 * long)
    full = strategy.signals(prices)
    checked = 0
    for end in range(window + 1000, window + 1500, 5):  # far past the window's start
        side, confidence = strategy.latest_of(_tail(prices, end, window))
        assert side == int(full.side[end - 1]), (name, end)
        assert confidence == pytest.approx(float(full.confidence[end - 1]), rel=1e-9,
                                           abs=1e-12)
        checked += 1
    assert checked == 100


def test_the_ema_memory_is_what_makes_the_window_exact():
    """The old fixed 600 bars: a 200-bar EMA's seed still weighs e^-6 there, and signals
    computed on 600 bars drift from the full history's."""
    strategy = create("ema_cross", fast=50, slow=200)
    prices = _prices(6000, seed=3)
    full = strategy.signals(prices)
    short = [strategy.latest_of(_tail(prices, end, 600))[1] for end in range(5000, 5500)]
    assert max(abs(c - f) for c, f in zip(short, full.confidence[4999:5499], strict=True)) \
        > 1e-6
