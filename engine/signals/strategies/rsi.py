"""RSI threshold crossings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals import indicators as ind
from engine.signals.strategies.base import Prices, SignalArrays, Strategy, events, squash

# RSI points of excursion beyond the threshold that read as confidence tanh(1) = 0.76.
DEPTH_SCALE = 10.0


def check_levels(oversold: float, overbought: float) -> list[str]:
    if not 0.0 < oversold < overbought < 100.0:
        return [
            f"expected 0 < oversold < overbought < 100, got oversold {oversold!r} "
            f"and overbought {overbought!r}"
        ]
    return []


class Rsi(Strategy):
    """BUY when RSI crosses up through `oversold`, SELL when it crosses down through
    `overbought`.

    Confidence: how far RSI went beyond the threshold during the last `period` bars before
    the cross (oversold - lowest RSI, or highest RSI - overbought), over 10 RSI points,
    squashed with tanh.
    """

    id = "rsi"

    @dataclass(frozen=True, slots=True)
    class Params:
        period: int = 14
        oversold: float = 30.0
        overbought: float = 70.0

    @classmethod
    def check(cls, params: Params) -> list[str]:
        return super().check(params) + check_levels(params.oversold, params.overbought)

    @property
    def warmup(self) -> int:
        # RSI exists from bar `period`; a cross needs it on the bar before as well.
        return self.params.period + 1

    @property
    def recursive_period(self) -> int:
        return self.params.period

    def signals(self, prices: Prices) -> SignalArrays:
        p = self.params
        rsi = ind.rsi(prices.close, p.period)
        valid = np.isfinite(rsi)
        # Neutral 50 in the warm-up so the excursion windows below ignore it.
        settled = np.where(valid, rsi, 50.0)
        extremes = ind.donchian(settled, settled, p.period + 1)
        with np.errstate(invalid="ignore"):
            return events(
                buy=rsi >= p.oversold,
                sell=rsi <= p.overbought,
                buy_confidence=squash((p.oversold - extremes.lower) / DEPTH_SCALE),
                sell_confidence=squash((extremes.upper - p.overbought) / DEPTH_SCALE),
                valid=valid,
            )
