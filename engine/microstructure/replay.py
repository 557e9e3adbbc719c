"""Replaying a recording: per-bar order-flow feature columns for backtests, and a feed that
plays the same bars and streams to the live engine.

Both run each symbol's events through a FlowTracker, the live desk's code, and read its
features at each bar's close: the events of bar t are those with t <= ts < t + interval,
exactly the events the live engine hands the trackers before it reads them at bar t. So
the hft strategy sees the same numbers in a backtest and live (tests/engine/
test_microstructure_replay.py holds the two to it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

import numpy as np

from engine.data.sources import MarketData
from engine.live.feeds import ReplayFeed, freq_seconds
from engine.microstructure.recording import Recording
from engine.microstructure.tracker import FEATURES, FLOW_COLUMNS, FlowParams, FlowTracker


def bar_slices(recording: Recording, symbol: str) -> list[tuple[int, int]]:
    """[start, end) into recording.events[symbol] of each bar's events."""
    interval = timedelta(seconds=freq_seconds(recording.freq))
    times = [event.ts for event in recording.events[symbol]]
    index = recording.frames[symbol].index
    starts = [bisect_left(times, ts.to_pydatetime()) for ts in index]
    ends = [bisect_left(times, ts.to_pydatetime() + interval) for ts in index]
    return list(zip(starts, ends, strict=True))


def with_flow_features(recording: Recording, params: FlowParams,
                       frames: Mapping | None = None) -> dict:
    """`frames` (default: the recording's own bars; a filtered subset of them keeps its
    rows) with the FLOW_COLUMNS the trackers give at each close, NaN before a symbol's
    first book update. The trackers see every recorded event from the start, so a run
    that begins later starts with warmed-up trackers, as a live desk would."""
    out = {}
    for symbol, frame in recording.frames.items():
        tracker = FlowTracker(symbol, params)
        events = recording.events[symbol]
        rows = np.full((len(frame), len(FEATURES)), np.nan)
        for i, (start, end) in enumerate(bar_slices(recording, symbol)):
            for event in events[start:end]:
                tracker.on_event(event)
            if tracker.updates:
                features = tracker.features()
                rows[i] = [features[name] for name in FEATURES]
        full = frame.assign(**{c: rows[:, k] for k, c in enumerate(FLOW_COLUMNS)})
        if frames is None:
            out[symbol] = full
        else:
            wanted = frames[symbol]
            out[symbol] = wanted.assign(**{c: full[c].reindex(wanted.index).to_numpy()
                                           for c in FLOW_COLUMNS})
    return out


def market_with_flow(market: MarketData, cfg) -> MarketData:
    """A loaded recording's MarketData with the order-flow columns `cfg` gives."""
    from engine.microstructure.board import flow_params

    frames = with_flow_features(market.recording, flow_params(cfg), market.frames)
    return replace(market, frames=frames)


class RecordingFeed(ReplayFeed):
    """A recording's bars for the live engine, each with its own book stream
    (Feed.flow_events). The warm-up history carries the order-flow columns a backtest
    computes, and the first live bar's stream starts at the recording's first event, so the
    live trackers have seen what the backtest's had by then."""

    def __init__(self, recording: Recording, params: FlowParams) -> None:
        super().__init__(with_flow_features(recording, params))
        self.recording = recording
        self._slices = {s: bar_slices(recording, s) for s in recording.frames}
        self._started: set[str] = set()

    def flow_events(self, symbol: str) -> list:
        i = self.position - 1  # the bar next_bars just handed out
        if i < 0:
            return []
        start, end = self._slices[symbol][i]
        if symbol not in self._started:
            self._started.add(symbol)
            start = 0
        return self.recording.events[symbol][start:end]
