"""Exponential moving-average crossover."""

from __future__ import annotations

from dataclasses import dataclass

from engine.signals import indicators as ind
from engine.signals.strategies.sma_cross import MovingAverageCross


class EmaCross(MovingAverageCross):
    """BUY when EMA(fast) crosses above EMA(slow), SELL when it crosses below.

    EMAs are SMA-seeded (see engine.signals.indicators); confidence as for sma_cross.
    """

    id = "ema_cross"
    average = staticmethod(ind.ema)

    @dataclass(frozen=True, slots=True)
    class Params:
        fast: int = 12
        slow: int = 26

    @property
    def recursive_period(self) -> int:
        return self.params.slow
