"""Deterministic candles for the fake exchange: SimMarket 1-minute bars, aggregated on request.

The fake's clock is the simulated market's: bar 0 opens at `start`, `cursor` bars are
visible, and the last visible bar is the current one (its close is the price orders trade
at). Other intervals are buckets of whole minutes aligned to the epoch, like Binance's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np

from engine.data.sim import DEFAULT_START, SimMarket

MINUTE_MS = 60_000
INTERVALS_MS = {
    "1m": 1,
    "3m": 3,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "2h": 120,
    "4h": 240,
    "6h": 360,
    "8h": 480,
    "12h": 720,
    "1d": 1440,
}


class Candles:
    """One array of (open, high, low, close, volume) per symbol, `cursor` rows visible."""

    def __init__(
        self, symbols: list[str], *, seed: int, history: int, start: datetime | None = None
    ) -> None:
        if history < 1:
            raise ValueError("history must be >= 1 bar")
        self.symbols = list(symbols)
        self._sim = SimMarket(self.symbols, seed=seed, freq="1min", start=start or DEFAULT_START)
        self.start_ms = int(self._sim.start.timestamp() * 1000)
        self.cursor = history
        self._rows: dict[str, np.ndarray] = {}
        self._ensure(history)

    def _ensure(self, n: int) -> None:
        have = len(next(iter(self._rows.values()))) if self._rows else 0
        if have >= n:
            return
        # SimMarket's history(n) is a prefix of history(m > n): regenerating is consistent.
        frames = self._sim.history(max(n, 2 * have, 2048))
        columns = ["open", "high", "low", "close", "volume"]
        self._rows = {s: frames[s][columns].to_numpy(dtype=float) for s in self.symbols}

    def advance(self, bars: int = 1) -> None:
        if bars < 0:
            raise ValueError("bars must be >= 0")
        self._ensure(self.cursor + bars)
        self.cursor += bars

    def now_ms(self) -> int:
        """Server time: the end of the current (last visible) bar, minus one millisecond."""
        return self.start_ms + self.cursor * MINUTE_MS - 1

    def bar(self, symbol: str, index: int) -> tuple[int, np.ndarray]:
        """(open time ms, [o, h, l, c, v]) of a 1-minute bar, visible or not."""
        self._ensure(index + 1)
        return self.start_ms + index * MINUTE_MS, self._rows[symbol][index]

    def last(self, symbol: str) -> tuple[int, np.ndarray]:
        return self.bar(symbol, self.cursor - 1)

    def close(self, symbol: str) -> float:
        return float(self._rows[symbol][self.cursor - 1, 3])

    def klines(
        self,
        symbol: str,
        interval: str,
        *,
        start_ms: int | None,
        end_ms: int | None,
        limit: int,
    ) -> list[tuple[int, int, np.ndarray]]:
        """Binance semantics: with startTime, the first `limit` buckets opening at or after it
        (and at or before endTime); with only endTime, the last `limit` opening at or before
        it; with neither, the latest `limit`. Rows are (open ms, close ms, ohlcv)."""
        k = INTERVALS_MS[interval]
        step = k * MINUTE_MS
        rows = self._rows[symbol][: self.cursor]
        edges = np.arange(0, len(rows), k)
        agg = np.column_stack(
            [
                rows[edges, 0],
                np.maximum.reduceat(rows[:, 1], edges),
                np.minimum.reduceat(rows[:, 2], edges),
                rows[np.minimum(edges + k, len(rows)) - 1, 3],
                np.add.reduceat(rows[:, 4], edges),
            ]
        )
        count = len(agg)
        first, last = 0, count - 1
        if end_ms is not None:
            last = min(last, (end_ms - self.start_ms) // step)
        if start_ms is not None:
            first = max(0, -(-(start_ms - self.start_ms) // step))
            last = min(last, first + limit - 1)
        else:
            first = max(first, last - limit + 1)
        return [
            (self.start_ms + j * step, self.start_ms + (j + 1) * step - 1, agg[j])
            for j in range(first, last + 1)
        ]


def to_decimal(value: float, quantum: Decimal) -> Decimal:
    """A float price or size on the exchange's grid (half-even, like a matching engine)."""
    return Decimal(repr(float(value))).quantize(quantum)
