"""Trend-following momentum with five confirmations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals import indicators as ind
from engine.signals.strategies.base import Prices, SignalArrays, Strategy, events, squash
from engine.signals.strategies.sma_cross import check_fast_slow

MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
MACD_WARMUP = MACD_SLOW + MACD_SIGNAL - 2  # first bar with a MACD signal line


class Momentum(Strategy):
    """BUY on the bar all of these become true together: SMA(fast) > SMA(slow), close >
    SMA(fast), RSI < rsi_max, MACD(12, 26, 9) line above its signal, and the
    `lookback`-bar rate of change > threshold. SELL mirrored: SMA(fast) < SMA(slow), close <
    SMA(fast), RSI > 100 - rsi_max, MACD below signal, rate of change < -threshold.

    Confidence: |rate of change| / (2 · threshold), squashed with tanh, so a move of
    exactly the threshold reads 0.46 and twice the threshold 0.76.
    """

    id = "momentum"

    @dataclass(frozen=True, slots=True)
    class Params:
        fast: int = 20
        slow: int = 50
        rsi_period: int = 14
        rsi_max: float = 70.0
        lookback: int = 5
        threshold: float = 0.02

    @classmethod
    def check(cls, params: Params) -> list[str]:
        problems = super().check(params) + check_fast_slow(params.fast, params.slow)
        if not 0.0 < params.rsi_max <= 100.0:
            problems.append(f"rsi_max must be in (0, 100], got {params.rsi_max!r}")
        if not params.threshold > 0.0:
            problems.append(f"threshold must be positive, got {params.threshold!r}")
        return problems

    @property
    def warmup(self) -> int:
        p = self.params
        first_valid = max(p.slow - 1, p.rsi_period, MACD_WARMUP, p.lookback)
        return first_valid + 1

    @property
    def recursive_period(self) -> int:
        return max(self.params.rsi_period, MACD_SLOW)

    def signals(self, prices: Prices) -> SignalArrays:
        p = self.params
        close = prices.close
        fast, slow = ind.sma(close, p.fast), ind.sma(close, p.slow)
        rsi = ind.rsi(close, p.rsi_period)
        macd = ind.macd(close, MACD_FAST, MACD_SLOW, MACD_SIGNAL)
        roc = ind.momentum(close, p.lookback)
        valid = (
            np.isfinite(slow) & np.isfinite(fast) & np.isfinite(rsi)
            & np.isfinite(macd.signal) & np.isfinite(roc)
        )  # fmt: skip
        strength = squash(np.abs(roc) / (2.0 * p.threshold))
        with np.errstate(invalid="ignore"):
            buy = (
                (fast > slow) & (close > fast) & (rsi < p.rsi_max)
                & (macd.line > macd.signal) & (roc > p.threshold)
            )  # fmt: skip
            sell = (
                (fast < slow) & (close < fast) & (rsi > 100.0 - p.rsi_max)
                & (macd.line < macd.signal) & (roc < -p.threshold)
            )  # fmt: skip
        return events(buy, sell, strength, strength, valid)
