"""The feed port: where the live engine's bars come from.

A feed gives a block of history to warm up on, then the next bar of every symbol each
time it is asked. The simulated market is the default; a replay feed plays a file or a
named dataset through the same interface.
"""

from __future__ import annotations

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


def _freq_seconds(freq: str) -> float:
    import pandas as pd

    return pd.Timedelta(pd.tseries.frequencies.to_offset(freq)).total_seconds()


class SimFeed(Feed):
    """The embedded simulated market, positioned so that live bars start now."""

    def __init__(self, symbols, *, seed: int, freq: str, history_bars: int,
                 now: datetime | None = None) -> None:
        from engine.data.sim import SimMarket

        self.symbols = tuple(symbols)
        self.bar_seconds = _freq_seconds(freq)
        now = now or datetime.now(UTC)
        import pandas as pd

        start = pd.Timestamp(now).floor(freq) - pd.Timedelta(seconds=self.bar_seconds
                                                             * history_bars)
        self.market = SimMarket(self.symbols, seed=seed, freq=freq,
                                start=start.to_pydatetime())

    def history(self, bars: int) -> dict:
        return self.market.history(bars)

    def next_bars(self) -> dict[str, Bar]:
        return self.market.next_bars()


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
            out[symbol] = Bar(symbol, frame.index[self.position].to_pydatetime(), row["open"],
                              row["high"], row["low"], row["close"], row["volume"])
        self.position += 1
        return out
