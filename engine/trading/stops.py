"""Protective stops: one rule, asked bar by bar live and over arrays in backtests.

A fill that leaves a position arms a stop `width` away from the fill price, against the
position (below a long, above a short); `width` is the regime's stop multiple times the
ATR, both as known at the close before the fill. A later bar whose low (long) or high
(short) reaches the level hits it; the position is then closed, once. Every new fill of
the symbol re-arms (or, when flat, disarms) its stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Stop:
    level: float
    below: bool  # True for a long's stop (hit by a low at or under the level)
    version: int  # bumps at every arm: a search started for an older stop is stale


class StopBook:
    def __init__(self) -> None:
        self._stops: dict[str, Stop] = {}
        self._versions: dict[str, int] = {}

    def arm(self, symbol: str, fill_price: float, position: float, width: float) -> Stop | None:
        """After a fill that leaves `position`: place its stop, or clear it when flat or
        when no width is known (no regime yet, no ATR yet)."""
        version = self._versions.get(symbol, 0) + 1
        self._versions[symbol] = version
        if position == 0 or not math.isfinite(width):
            self._stops.pop(symbol, None)
            return None
        below = position > 0
        stop = Stop(fill_price - width if below else fill_price + width, below, version)
        self._stops[symbol] = stop
        return stop

    def get(self, symbol: str) -> Stop | None:
        return self._stops.get(symbol)

    def hit(self, symbol: str, low: float, high: float) -> bool:
        """Whether this bar reaches the symbol's stop; a hit stop is spent."""
        stop = self._stops.get(symbol)
        if stop is None or not _crosses(stop, low, high):
            return False
        del self._stops[symbol]
        return True

    def take(self, symbol: str, version: int) -> bool:
        """Spend the stop found ahead by `first_hit` if it is still the armed one."""
        stop = self._stops.get(symbol)
        if stop is None or stop.version != version:
            return False
        del self._stops[symbol]
        return True

    @staticmethod
    def first_hit(stop: Stop, lows: np.ndarray, highs: np.ndarray, start: int) -> int | None:
        """The first bar at or after `start` that reaches `stop`: the same comparison as
        `hit`, searched in growing chunks so a far stop costs little and a near one less."""
        prices = lows if stop.below else highs
        n = len(prices)
        lo, chunk = start, 64
        while lo < n:
            hi = min(n, lo + chunk)
            window = prices[lo:hi]
            hits = np.flatnonzero(window <= stop.level if stop.below else window >= stop.level)
            if len(hits):
                return lo + int(hits[0])
            lo, chunk = hi, chunk * 4
        return None


def _crosses(stop: Stop, low: float, high: float) -> bool:
    return low <= stop.level if stop.below else high >= stop.level


def stop_width(regime: str, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> float:
    """The width of a stop armed now: the regime's stop multiple times the ATR at the last
    of these bars; NaN (no stop) while the regime is unknown. Live passes its window, whose
    ATR equals the full history's to float precision (Wilder's memory of bars before a
    600-bar window weighs (13/14)^600 < 1e-19)."""
    from engine.signals.indicators import ATR_PERIOD, atr
    from engine.signals.regime import LABELS, adapt

    if regime not in LABELS or len(close) <= ATR_PERIOD:
        return math.nan
    return adapt(regime).stop_atr * float(atr(high, low, close, ATR_PERIOD)[-1])
