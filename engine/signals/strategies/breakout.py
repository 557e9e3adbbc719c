"""Donchian channel breakout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals import indicators as ind
from engine.signals.strategies.base import Prices, SignalArrays, Strategy, events, ratio, squash


def _previous(x: np.ndarray) -> np.ndarray:
    """x shifted one bar later: bar t sees x[t-1]."""
    out = np.full(len(x), np.nan)
    out[1:] = x[:-1]
    return out


class Breakout(Strategy):
    """BUY on the bar the close rises above the highest high of the previous `period` bars,
    SELL on the bar it falls below their lowest low (the current bar is excluded).

    Confidence: the distance beyond the channel in units of half an ATR(14), squashed with
    tanh, so a close half an ATR through the channel reads 0.76.
    """

    id = "breakout"

    @dataclass(frozen=True, slots=True)
    class Params:
        period: int = 20

    @property
    def warmup(self) -> int:
        return max(self.params.period, ind.ATR_PERIOD - 1) + 1

    def signals(self, prices: Prices) -> SignalArrays:
        channel = ind.donchian(prices.high, prices.low, self.params.period)
        upper, lower = _previous(channel.upper), _previous(channel.lower)
        atr = ind.atr(prices.high, prices.low, prices.close, ind.ATR_PERIOD)
        close = prices.close
        valid = np.isfinite(upper) & np.isfinite(lower) & np.isfinite(atr)
        with np.errstate(invalid="ignore"):
            return events(
                buy=close > upper,
                sell=close < lower,
                buy_confidence=squash(ratio(close - upper, 0.5 * atr)),
                sell_confidence=squash(ratio(lower - close, 0.5 * atr)),
                valid=valid,
            )
