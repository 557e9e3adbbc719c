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


def execution_quality(executor, frames) -> dict:
    """Implementation shortfall (and for VWAP the gap to the market VWAP) per session,
    averaged over the run, in basis points (positive = cost)."""
    shortfalls, vwap_gaps, kinds = [], [], set()
    ids = executor.session_ids()
    for sid in ids:
        session = executor.session(sid)
        kinds.add(session.kind)
        # A market session is one part at one bar: its market VWAP says nothing, and
        # reading the bars of thousands of them would cost more than the run.
        window = None if session.kind == "market" else _window(session.symbol,
                                                               frames[session.symbol])
        quality = executor.quality_of(session, bars_between=window)
        if quality.shortfall_bps is None:
            continue
        shortfalls.append(float(quality.shortfall_bps))
        if quality.vwap_diff_bps is not None:
            vwap_gaps.append(float(quality.vwap_diff_bps))
    return {
        "mode": ", ".join(sorted(kinds)) or None,
        "sessions": len(ids),
        "avg_shortfall_bps": float(np.mean(shortfalls)) if shortfalls else None,
        "avg_vwap_diff_bps": float(np.mean(vwap_gaps)) if vwap_gaps else None,
    }


def _window(symbol: str, frame) -> Callable[[datetime, datetime], Iterator[Bar]]:
    """The bars of `frame` between two times, found by binary search."""
    from engine.data.frame import to_bars

    def bars_between(start: datetime, end: datetime) -> Iterator[Bar]:
        lo, hi = frame.index.searchsorted([start, end], side="left")
        return to_bars(symbol, frame.iloc[lo:hi + 1])

    return bars_between
