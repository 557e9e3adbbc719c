"""Executors in backtests: sessions journaled in memory, and their quality."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from engine.adapters.memory import MemoryExecutionStore
from engine.execution.quality import shortfall_bps
from engine.types import Bar


@contextmanager
def executor_store(spec) -> Iterator[MemoryExecutionStore]:
    """The execution store of one run: in memory, whatever the mode (a market order is a
    one-part session too). Nothing outlives the run, so no file is written."""
    yield MemoryExecutionStore(keep_audit=False, keep_ended=False)


class QualityTally:
    """Implementation shortfall (and for VWAP the gap to the market VWAP) per session,
    averaged over the run, in basis points (positive = cost).

    Each session is judged the moment it ends, from the session in hand (the store of a
    backtest forgets ended sessions). A market session is one part at one bar: its market
    VWAP says nothing, and reading the bars of thousands of them would cost more than the
    run. The other kinds read the bars of their window.
    """

    def __init__(self, executor, frames) -> None:
        self._executor = executor
        self._frames = frames
        # Running sums and counts (bp): a million sessions need no list of a million floats.
        self._shortfall = [0.0, 0]
        self._vwap_gap = [0.0, 0]
        self._kinds: set[str] = set()
        self._sessions = 0
        executor.on_finish = self._judge

    def _judge(self, session) -> None:
        self._sessions += 1
        self._kinds.add(session.kind)
        if session.kind == "market":  # the shortfall alone (class doc): no window to read
            shortfall = shortfall_bps(session.side, session.arrival_price, session.avg_price)
            if shortfall is not None:
                _count(self._shortfall, shortfall)
            return
        window = _window(session.symbol, self._frames[session.symbol])
        self._add(self._executor.quality_of(session, bars_between=window))

    def _add(self, quality) -> None:
        if quality.shortfall_bps is None:
            return
        _count(self._shortfall, quality.shortfall_bps)
        if quality.vwap_diff_bps is not None:
            _count(self._vwap_gap, quality.vwap_diff_bps)

    def summary(self) -> dict:
        """The run's figures, counting the sessions still running at its end."""
        for session in self._executor.running_sessions():
            self._judge(session)
        return {
            "mode": ", ".join(sorted(self._kinds)) or None,
            "sessions": self._sessions,
            "avg_shortfall_bps": _mean(self._shortfall),
            "avg_vwap_diff_bps": _mean(self._vwap_gap),
        }


def _count(tally: list, value) -> None:
    tally[0] += float(value)
    tally[1] += 1


def _mean(tally: list) -> float | None:
    return tally[0] / tally[1] if tally[1] else None


def _window(symbol: str, frame) -> Callable[[datetime, datetime], Iterator[Bar]]:
    """The bars of `frame` between two times, found by binary search."""
    from engine.data.frame import to_bars

    def bars_between(start: datetime, end: datetime) -> Iterator[Bar]:
        lo, hi = frame.index.searchsorted([start, end], side="left")
        return to_bars(symbol, frame.iloc[lo:hi + 1])

    return bars_between
