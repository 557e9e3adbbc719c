"""The market history the risk gate reads: trailing closes and daily quote volume, as known
at the moment an order is judged.

One port, two sources, the same answer for the same bars:

- `ArrayHistory` over a backtest's arrays: the bar at or before `now` is found by binary
  search on the bar times, so the gate sees exactly the bars the live desk had seen;
- `LiveHistory` over the live engine's per-symbol windows (the last bars it holds).

Conventions: returns are close-to-close simple returns; a position is "bar t" = the last bar
whose time is <= now. Daily quote volume is close x volume summed per UTC day; the average
daily volume (ADV) at `now` is the mean over the last `days` *complete* UTC days before
now's day (fewer if the history is shorter). A source whose volume is all zero or missing
has no ADV (None): the liquidity rule cannot judge it and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

_DAY_US = 86_400 * 10**6
_YEAR_SECONDS = 365.25 * 86_400


class MarketHistory(Protocol):
    symbols: tuple[str, ...]
    periods_per_year: float

    def bar_at(self, now: datetime) -> int:
        """A key of the newest bar at or before `now` (equal keys: the same market state)."""

    def closes(self, now: datetime, window: int) -> np.ndarray:
        """(len(symbols), k) closes of the last k <= window + 1 bars up to `now`."""

    def adv(self, symbol: str, now: datetime, days: int) -> float | None:
        """Average daily quote volume over the `days` complete UTC days before now's day."""


def _micros(ts: datetime) -> int:
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
    return int(ts.timestamp() * 1_000_000)


class ArrayHistory:
    """Backtest history: `index` (a pandas DatetimeIndex) and per-symbol OHLCV arrays."""

    def __init__(self, index, arrays: Mapping[str, Mapping[str, np.ndarray]], *,
                 micros: np.ndarray | None = None, days: np.ndarray | None = None) -> None:
        """`micros` / `days`: the bar times in microseconds and their UTC day numbers, when
        the caller holds them already (a 10M-bar backtest need not keep two copies)."""
        self.symbols = tuple(arrays)
        if micros is None:
            unit = {"s": 10**6, "ms": 10**3, "us": 1, "ns": 10**-3}[index.dtype.unit]
            micros = (index.asi8 * unit).astype(np.int64) if unit != 1 else index.asi8
        self._micros = micros
        closes = [np.asarray(arrays[s]["close"], dtype=np.float64) for s in self.symbols]
        # One symbol: a view of its closes, not a copy.
        self._close = closes[0][None, :] if len(closes) == 1 else np.vstack(closes)
        n = len(index)
        years = (self._micros[-1] - self._micros[0]) / 1e6 / _YEAR_SECONDS if n > 1 else 0
        self.periods_per_year = (n - 1) / years if years > 0 else 252.0
        self._days = self._micros // _DAY_US if days is None else days
        self._daily: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        self._adv: dict[tuple[str, int, int], float | None] = {}
        self._arrays = arrays
        self._last_at: tuple[datetime | None, int] = (None, -1)  # bar_at's last answer

    def bar_at(self, now: datetime) -> int:
        # An order is judged at one instant up to three times, each asking for its bar.
        if now != self._last_at[0]:
            self._last_at = (now, int(np.searchsorted(self._micros, _micros(now),
                                                      side="right")) - 1)
        return self._last_at[1]

    def closes(self, now: datetime, window: int) -> np.ndarray:
        t = self.bar_at(now)
        return self._close[:, max(t - window, 0): t + 1]

    def adv(self, symbol: str, now: datetime, days: int) -> float | None:
        if symbol not in self._daily:
            a = self._arrays[symbol]
            quote = np.nan_to_num(np.asarray(a["close"]) * np.asarray(a["volume"]))
            if not quote.any():
                self._daily[symbol] = None
            else:
                day_numbers, starts = np.unique(self._days, return_index=True)
                self._daily[symbol] = (day_numbers, np.add.reduceat(quote, starts))
        daily = self._daily[symbol]
        if daily is None:
            return None
        today = _micros(now) // _DAY_US
        # The same all day (complete days only): judged once per symbol and day.
        key = (symbol, today, days)
        if key not in self._adv:
            day_numbers, sums = daily
            end = int(np.searchsorted(day_numbers, today, side="left"))
            self._adv[key] = None if end == 0 else float(sums[max(end - days, 0): end].mean())
        return self._adv[key]


class LiveHistory:
    """The live engine's windows: `states` maps symbol -> an object with `times` (bar times,
    oldest first) and `data` ((n, 5) open, high, low, close, volume).

    It knows only the bars the windows hold: with windows shorter than a complete UTC day
    (600 one-minute bars) there is no ADV, and the liquidity rule records that it could not
    judge, where a backtest over the same market, holding every bar, judges it."""

    def __init__(self, states: Mapping[str, object], bar_seconds: float) -> None:
        self._states = states
        self.symbols = tuple(states)
        self.periods_per_year = _YEAR_SECONDS / bar_seconds if bar_seconds > 0 else 252.0

    def bar_at(self, now: datetime) -> int:
        # The live windows move together, one bar per step: the newest bar time is the key.
        state = next(iter(self._states.values()))
        return _micros(state.times[-1]) if state.times else 0

    def closes(self, now: datetime, window: int) -> np.ndarray:
        columns = [np.asarray(s.data[-(window + 1):, 3]) for s in self._states.values()]
        k = min(len(c) for c in columns)
        return np.vstack([c[-k:] for c in columns])

    def adv(self, symbol: str, now: datetime, days: int) -> float | None:
        state = self._states[symbol]
        quote = np.nan_to_num(state.data[:, 3] * state.data[:, 4])
        if not quote.any():
            return None
        day = np.array([_micros(t) // _DAY_US for t in state.times])
        today = _micros(now) // _DAY_US
        keep = day < today
        if not keep.any():
            return None
        day_numbers, starts = np.unique(day[keep], return_index=True)
        sums = np.add.reduceat(quote[keep], starts)
        return float(sums[-days:].mean())


def returns_of(closes: np.ndarray) -> np.ndarray:
    """Close-to-close simple returns along the last axis."""
    return closes[:, 1:] / closes[:, :-1] - 1.0


def symbols_index(symbols: Sequence[str]) -> dict[str, int]:
    return {s: i for i, s in enumerate(symbols)}
