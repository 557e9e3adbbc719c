"""The feed port: where the live engine's bars come from.

A feed gives a block of history to warm up on, then the next bar of every symbol each
time it is asked. The simulated market is the default; a replay feed plays a file or a
named dataset through the same interface.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import UTC, datetime

from engine.types import Bar


class Feed(ABC):
    symbols: tuple[str, ...]
    bar_seconds: float  # market time between two bars
    ended: bool = False  # True once no bar will ever come again (a replay ran out)

    @abstractmethod
    def history(self, bars: int) -> dict:
        """The last `bars` bars of every symbol before live bars start (symbol -> frame)."""

    @abstractmethod
    def next_bars(self) -> dict[str, Bar]:
        """The next bar of every symbol; empty when nothing new has come yet (or, with
        `ended` set, ever will)."""

    def close(self) -> None:  # noqa: B027 - a hook: only exchange feeds hold resources
        """Release connections and threads (live exchange feeds)."""

    def flow_events(self, symbol: str) -> list:
        """The book updates and trades (engine.data.microstructure OrderBook / TradePrint)
        inside the bar `next_bars` just gave for `symbol`, in time order; empty for feeds
        without a book stream of their own (an exchange's arrives on its market stream)."""
        return []


_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "D": 86400.0}
_PLAIN = re.compile(r"([1-9][0-9]*)?(ms|s|min|h|D)")


def freq_seconds(freq: str) -> float:
    """Seconds in a bar interval ("1min", "4h", "1D"); pandas only for rarer spellings."""
    plain = _PLAIN.fullmatch(freq)
    if plain:
        return int(plain.group(1) or 1) * _UNIT_SECONDS[plain.group(2)]
    import pandas as pd

    return pd.Timedelta(pd.tseries.frequencies.to_offset(freq)).total_seconds()


class SimFeed(Feed):
    """The embedded simulated market, positioned so that live bars start now.

    The market (and pandas with it) is built on first use, on the engine's thread, so the
    desk's first frame does not wait for it."""

    def __init__(self, symbols, *, seed: int, freq: str, history_bars: int,
                 now: datetime | None = None, flow_updates: int = 20,
                 flow_levels: int = 5) -> None:
        self.symbols = tuple(symbols)
        self.flow_updates, self.flow_levels = flow_updates, flow_levels
        self.bar_seconds = freq_seconds(freq)
        self._seed, self._freq, self._history_bars = seed, freq, history_bars
        self._now = now
        self._market = None

    @property
    def market(self):
        if self._market is None:
            import pandas as pd

            from engine.data.sim import SimMarket

            now = pd.Timestamp(self._now or datetime.now(UTC))
            start = now.floor(self._freq) - pd.Timedelta(
                seconds=self.bar_seconds * self._history_bars)
            self._market = SimMarket(self.symbols, seed=self._seed, freq=self._freq,
                                     start=start.to_pydatetime())
        return self._market

    def history(self, bars: int) -> dict:
        return self.market.history(bars)

    def next_bars(self) -> dict[str, Bar]:
        return self.market.next_bars()

    def flow_events(self, symbol: str) -> list:
        return self.market.flow(symbol, self.flow_updates, self.flow_levels)


class ReplayFeed(Feed):
    """Plays a loaded dataset bar by bar after its first `history_bars` bars."""

    def __init__(self, frames: dict) -> None:
        self.frames = frames
        self.symbols = tuple(frames)
        index = frames[self.symbols[0]].index
        self.bar_seconds = float((index[1] - index[0]).total_seconds()) if len(index) > 1 else 60
        self.position = 0

    def history(self, bars: int) -> dict:
        self.position = bars
        return {s: f.iloc[:bars] for s, f in self.frames.items()}

    def next_bars(self) -> dict[str, Bar]:
        out = {}
        for symbol, frame in self.frames.items():
            if self.position >= len(frame):
                self.ended = True
                return {}
            row = frame.iloc[self.position]
            out[symbol] = Bar(symbol, frame.index[self.position].to_pydatetime(),
                              float(row["open"]), float(row["high"]), float(row["low"]),
                              float(row["close"]), float(row["volume"]))
        self.position += 1
        return out
