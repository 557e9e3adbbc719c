"""Simple moving-average crossover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from engine.signals import indicators as ind
from engine.signals.strategies.base import Prices, SignalArrays, Strategy, events, ratio, squash


def crossover_signals(
    fast: np.ndarray, slow: np.ndarray, prices: Prices, atr_period: int = ind.ATR_PERIOD
) -> SignalArrays:
    """BUY on the bar `fast` moves above `slow`, SELL on the bar it moves below.

    Confidence: how far the close already stands beyond the slow average on the side of
    the cross, in ATR units, squashed with tanh (0 if the close lags on the other side).
    """
    atr = ind.atr(prices.high, prices.low, prices.close, atr_period)
    gap = prices.close - slow
    valid = np.isfinite(fast) & np.isfinite(slow) & np.isfinite(atr)
    with np.errstate(invalid="ignore"):
        above, below = fast > slow, fast < slow
    return events(
        buy=above,
        sell=below,
        buy_confidence=squash(ratio(gap, atr)),
        sell_confidence=squash(ratio(-gap, atr)),
        valid=valid,
    )


def check_fast_slow(fast: object, slow: object) -> list[str]:
    if isinstance(fast, int) and isinstance(slow, int) and fast >= slow:
        return [f"fast ({fast}) must be less than slow ({slow})"]
    return []


class MovingAverageCross(Strategy):
    """BUY when the fast average crosses above the slow one, SELL when it crosses below;
    subclasses name the average."""

    average: ClassVar[Callable[[np.ndarray, int], np.ndarray]]

    @classmethod
    def check(cls, params) -> list[str]:
        return super().check(params) + check_fast_slow(params.fast, params.slow)

    @property
    def warmup(self) -> int:
        # The cross compares bar t with bar t-1, both needing the slow average and the ATR.
        return max(self.params.slow, ind.ATR_PERIOD)

    def signals(self, prices: Prices) -> SignalArrays:
        p, average = self.params, type(self).average
        return crossover_signals(average(prices.close, p.fast), average(prices.close, p.slow),
                                 prices)


class SmaCross(MovingAverageCross):
    """BUY when SMA(fast) crosses above SMA(slow), SELL when it crosses below."""

    id = "sma_cross"
    average = staticmethod(ind.sma)

    @dataclass(frozen=True, slots=True)
    class Params:
        fast: int = 10
        slow: int = 30
