"""Bollinger-band mean reversion confirmed by RSI and a strong move against the side."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.signals import indicators as ind
from engine.signals.strategies.base import Prices, SignalArrays, Strategy, events, squash
from engine.signals.strategies.rsi import check_levels


class MeanReversion(Strategy):
    """BUY on the bar the close reaches the lower Bollinger band (period, num_std) while
    RSI < oversold and the `momentum_lookback`-bar rate of change is below
    -momentum_threshold (a strong move down to fade); SELL on the bar it reaches the upper
    band while RSI > overbought and the rate of change is above +momentum_threshold.

    Confidence: the close's distance from the middle band in σ, halved and squashed with
    tanh, so the band edge at 2σ reads 0.76 and 3σ reads 0.91.
    """

    id = "mean_reversion"

    @dataclass(frozen=True, slots=True)
    class Params:
        period: int = 20
        num_std: float = 2.0
        rsi_period: int = 14
        oversold: float = 30.0
        overbought: float = 70.0
        momentum_lookback: int = 5
        momentum_threshold: float = 0.02

    @classmethod
    def check(cls, params: Params) -> list[str]:
        problems = super().check(params) + check_levels(params.oversold, params.overbought)
        if not params.num_std > 0.0:
            problems.append(f"num_std must be positive, got {params.num_std!r}")
        if not params.momentum_threshold >= 0.0:
            problems.append("momentum_threshold must be >= 0, got "
                            f"{params.momentum_threshold!r}")
        return problems

    @property
    def warmup(self) -> int:
        p = self.params
        return max(p.period - 1, p.rsi_period, p.momentum_lookback) + 1

    @property
    def recursive_period(self) -> int:
        return self.params.rsi_period

    def signals(self, prices: Prices) -> SignalArrays:
        p = self.params
        close = prices.close
        bands = ind.bollinger(close, p.period, p.num_std)
        rsi = ind.rsi(close, p.rsi_period)
        roc = ind.momentum(close, p.momentum_lookback)
        valid = np.isfinite(bands.mid) & np.isfinite(rsi) & np.isfinite(roc)
        strength = squash(np.abs(ind.zscore(close, p.period)) / 2.0)
        with np.errstate(invalid="ignore"):
            buy = (close <= bands.lower) & (rsi < p.oversold) & (roc < -p.momentum_threshold)
            sell = (close >= bands.upper) & (rsi > p.overbought) & (roc > p.momentum_threshold)
        return events(buy, sell, strength, strength, valid)
