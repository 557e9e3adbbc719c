"""Exponential moving-average crossover."""

from __future__ import annotations

from dataclasses import dataclass

from engine import indicators as ind
from engine.strategies.base import Prices, SignalArrays, Strategy
from engine.strategies.sma_cross import ATR_PERIOD, check_fast_slow, crossover_signals


class EmaCross(Strategy):
    """BUY when EMA(fast) crosses above EMA(slow), SELL when it crosses below.

    EMAs are SMA-seeded (see engine.indicators); confidence as for sma_cross.
    """

    id = "ema_cross"

    @dataclass(frozen=True, slots=True)
    class Params:
        fast: int = 12
        slow: int = 26

    @classmethod
    def check(cls, params: Params) -> list[str]:
        return super().check(params) + check_fast_slow(params.fast, params.slow)

    @property
    def warmup(self) -> int:
        return max(self.params.slow, ATR_PERIOD)

    def signals(self, prices: Prices) -> SignalArrays:
        p = self.params
        close = prices.close
        return crossover_signals(ind.ema(close, p.fast), ind.ema(close, p.slow), prices)
