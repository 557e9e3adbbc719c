"""Each strategy on a small hand-built series whose BUY and SELL bars are known by
construction; confidences checked against their documented formulas computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.signals import indicators as ind
from engine.signals.strategies.registry import create


def _frame(close, spread: float = 0.5, high=None, low=None) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    index = pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC")
    return pd.DataFrame(
        {
            "open": close,
            "high": close + spread if high is None else np.asarray(high, dtype=float),
            "low": close - spread if low is None else np.asarray(low, dtype=float),
            "close": close,
            "volume": np.ones(len(close)),
        },
        index=index,
    )


def _events(arrays) -> tuple[list[int], list[int]]:
    return (np.flatnonzero(arrays.side == 1).tolist(), np.flatnonzero(arrays.side == -1).tolist())


# A plateau, a step up at bar 20 and a step down at bar 30.
STEPS = [10.0] * 20 + [12.0] * 10 + [8.0] * 10


def test_sma_cross_buys_on_the_step_up_and_sells_on_the_step_down():
    # Bar 20: SMA2 = 11 > SMA4 = 10.5 after being equal; bar 30: SMA2 = 10 < SMA4 = 11
    # after being equal (both 12) since bar 23.
    out = create("sma_cross", fast=2, slow=4).compute(_frame(STEPS))

    assert _events(out) == ([20], [30])
    # True ranges are 1 (high - low) until the step, whose range spans 10 -> 12.5: 2.5.
    atr_20 = (13 * 1.0 + 2.5) / 14
    assert math.isclose(out.confidence[20], math.tanh((12.0 - 10.5) / atr_20), rel_tol=1e-12)
    assert 0 < out.confidence[30] < 1


def test_ema_cross_buys_on_the_step_up_and_sells_on_the_step_down():
    # After the step EMA2 = 12 - 2(1/3)^k stays above EMA4 = 12 - 2(0.6)^k until bar 30.
    out = create("ema_cross", fast=2, slow=4).compute(_frame(STEPS))

    assert _events(out) == ([20], [30])


def test_rsi_sells_falling_through_overbought_and_buys_rising_through_oversold():
    # Nine rising closes (RSI 100), eight falling, eight rising again. With period 3 the
    # first fall gives RSI = 100·2/(2+1) = 66.7 (through 70: SELL at bar 9); eight falls take
    # RSI near 4, and the first rise lifts it to about 36 (through 30: BUY at bar 17).
    close = list(range(10, 19)) + list(range(17, 9, -1)) + list(range(11, 19))

    out = create("rsi", period=3).compute(_frame(close))

    assert _events(out) == ([17], [9])
    # SELL confidence: RSI peaked at 100, 30 points beyond 70, over a scale of 10.
    assert math.isclose(out.confidence[9], math.tanh(3.0), rel_tol=1e-12)
    rsi = ind.rsi(np.array(close, dtype=float), 3)
    assert math.isclose(out.confidence[17], math.tanh((30 - rsi[16]) / 10), rel_tol=1e-12)


def _trend_then_reversal(dip: bool) -> tuple[list[float], int]:
    """40 flat bars (optionally one dip at bar 30), 15 rises of 1 %, then falls of 1.5 %."""
    close = [100.0] * 40
    if dip:
        close[30] = 99.0
    close += [100.0 * 1.01**k for k in range(1, 16)]
    peak = len(close) - 1
    close += [close[peak] * 0.985**k for k in range(1, 8)]
    return close, peak


def test_momentum_buys_when_the_last_condition_joins_and_sells_on_the_mirror():
    close, peak = _trend_then_reversal(dip=True)
    strategy = create(
        "momentum", fast=3, slow=6, rsi_period=3, rsi_max=100.0, lookback=2, threshold=0.02
    )
    # Bar 40 meets every rule but momentum (1 % < 2 %); bar 41 has 1.01² - 1 = 2.01 %.
    # Falling: SMA3 < SMA6, close < SMA3 and a 2-bar fall of 3 % hold from peak+3, but
    # the MACD line only drops below its signal at peak+4.
    macd = ind.macd(np.array(close))
    assert macd.line[peak + 3] > macd.signal[peak + 3]
    assert macd.line[peak + 4] < macd.signal[peak + 4]

    out = strategy.compute(_frame(close))

    assert _events(out) == ([41], [peak + 4])
    assert math.isclose(out.confidence[41], math.tanh((1.01**2 - 1) / 0.04), rel_tol=1e-9)


def test_momentum_respects_rsi_max():
    # Without the dip there was never a loss, so RSI is exactly 100 and "RSI < 100" fails.
    close, _ = _trend_then_reversal(dip=False)
    strategy = create(
        "momentum", fast=3, slow=6, rsi_period=3, rsi_max=100.0, lookback=2, threshold=0.02
    )

    assert _events(strategy.compute(_frame(close)))[0] == []


def test_mean_reversion_buys_the_plunge_and_sells_the_spike():
    # A ±0.2 zigzag, a plunge to 97 at bar 12 and a spike to 103 at bar 24. With period 5
    # the plunge sits 1.995σ below the mean (beyond 1.5σ) and RSI(3) falls near 6.
    zigzag = [100.0, 100.2] * 6
    close = zigzag + [97.0] + zigzag[1:] + [103.0] + zigzag[:4]

    out = create("mean_reversion", period=5, num_std=1.5, rsi_period=3).compute(_frame(close))

    assert _events(out) == ([12], [24])
    window = np.array(close[8:13])
    z = (window[-1] - window.mean()) / window.std()
    assert math.isclose(out.confidence[12], math.tanh(abs(z) / 2), rel_tol=1e-9)


def test_breakout_trades_closes_beyond_the_previous_channel():
    close = [100.0] * 20 + [102.0, 102.0, 103.0, 103.0, 103.0, 97.0, 97.0]
    high = [101.0] * 20 + [102.5, 102.5, 103.5, 103.5, 103.5, 98.0, 98.0]
    low = [99.0] * 20 + [100.0, 101.0, 102.0, 102.0, 102.0, 96.0, 96.0]
    # Bar 20: 102 > 101 (the previous 3 highs): BUY. Bar 21: 102 < 102.5: the condition
    # lapses. Bar 22: 103 > 102.5: a new BUY. Bar 25: 97 < 102 (previous 3 lows): SELL.

    out = create("breakout", period=3).compute(_frame(close, high=high, low=low))

    assert _events(out) == ([20, 22], [25])
    # TR = 2 for the 20 flat bars; bar 20's range spans 100 -> 102.5.
    atr_20 = (13 * 2.0 + 2.5) / 14
    assert math.isclose(out.confidence[20], math.tanh((102 - 101) / (0.5 * atr_20)))


def test_a_flat_market_gives_no_signal():
    flat = _frame([50.0] * 120)
    for name in ("sma_cross", "ema_cross", "rsi", "momentum", "mean_reversion", "breakout"):
        out = create(name).compute(flat)
        assert not out.side.any(), name
