"""Executors in backtests: sessions journaled in memory, and their quality."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np

from engine.adapters.memory import MemoryExecutionStore
from engine.types import Bar


@contextmanager
def executor_store(spec) -> Iterator[MemoryExecutionStore]:
    """The execution store of one run: in memory, whatever the mode (a market order is a
    one-part session too). Nothing outlives the run, so no file is written."""
    yield MemoryExecutionStore(keep_audit=False)


class QualityTally:
    """Implementation shortfall (and for VWAP the gap to the market VWAP) per session,
    averaged over the run, in basis points (positive = cost).

    A market session is one part at one bar: its shortfall is taken from the session in
    hand the moment it ends, and its market VWAP says nothing. The other kinds are few and
    need the bars of their window, read when the run is over.
    """

    def __init__(self, executor, frames) -> None:
        self._executor = executor
        self._frames = frames
        self._shortfalls: list[float] = []
        self._vwap_gaps: list[float] = []
        self._kinds: set[str] = set()
        self._sessions = 0
        self._later: list[str] = []  # ids of ended non-market sessions
        executor.on_finish = self._ended

    def _ended(self, session) -> None:
        self._sessions += 1
        self._kinds.add(session.kind)
        if session.kind == "market":
            self._add(self._executor.quality_of(session))
        else:
            self._later.append(session.id)

    def _add(self, quality) -> None:
        if quality.shortfall_bps is None:
            return
        self._shortfalls.append(float(quality.shortfall_bps))
        if quality.vwap_diff_bps is not None:
            self._vwap_gaps.append(float(quality.vwap_diff_bps))

    def summary(self) -> dict:
        executor = self._executor
        later = [executor.session(sid) for sid in self._later]
        for session in later + executor.running_sessions():
            if session.status == "running":
                self._sessions += 1
                self._kinds.add(session.kind)
            window = None if session.kind == "market" else _window(
                session.symbol, self._frames[session.symbol])
            self._add(executor.quality_of(session, bars_between=window))
        return {
            "mode": ", ".join(sorted(self._kinds)) or None,
            "sessions": self._sessions,
            "avg_shortfall_bps": float(np.mean(self._shortfalls)) if self._shortfalls else None,
            "avg_vwap_diff_bps": float(np.mean(self._vwap_gaps)) if self._vwap_gaps else None,
        }


def _window(symbol: str, frame) -> Callable[[datetime, datetime], Iterator[Bar]]:
    """The bars of `frame` between two times, found by binary search."""
    from engine.data.frame import to_bars

    def bars_between(start: datetime, end: datetime) -> Iterator[Bar]:
        lo, hi = frame.index.searchsorted([start, end], side="left")
        return to_bars(symbol, frame.iloc[lo:hi + 1])

    return bars_between
