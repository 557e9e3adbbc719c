"""The live board: alerts fire once per crossing and re-arm only after a calm spell, a
maker backing away is an alert, and none of it reaches the audit log; the simulated
market's stream has a two-sided maker most of the time and backs away on big bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from engine.data.microstructure import SIM_MAKER, OrderBook, TradePrint, tick_size
from engine.data.sim import SimMarket
from engine.microstructure.board import FlowBoard
from engine.microstructure.hft import HftParams
from engine.microstructure.tracker import FlowParams, FlowTracker
from engine.types import OrderSide
from tests.live_engine import live_engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PARAMS = FlowParams(window=10, z_window=100, min_periods=20)


def book(i: int, bid_size: float, ask_size: float, spread: float = 0.02) -> OrderBook:
    return OrderBook("X/USD", T0 + timedelta(seconds=i), ((100.0, bid_size),),
                     ((100.0 + spread, ask_size),))


def trade(i: int, side: OrderSide) -> TradePrint:
    return TradePrint("X/USD", T0 + timedelta(seconds=i, microseconds=1), 100.0, 1.0, side)


def calm(board: FlowBoard, start: int, n: int, rng) -> int:
    for i in range(start, start + n):
        board.on_event(book(i, *rng.lognormal(0, 0.2, 2)))
        board.on_event(trade(i, OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL))
    return start + n


def pressure(board: FlowBoard, start: int, n: int) -> int:
    for i in range(start, start + n):
        board.on_event(book(i, 5.0, 0.3))
        board.on_event(trade(i, OrderSide.BUY))
    return start + n


def test_an_imbalance_alert_fires_once_per_crossing():
    rng = np.random.default_rng(1)
    board = FlowBoard(["X/USD"], PARAMS, HftParams(), alert_confidence=0.7)
    i = calm(board, 0, 200, rng)
    before = [a for a in board.recent_alerts() if a.kind == "imbalance"]
    # Past the cool-down of any alert the calm spell raised (alerts are at most hourly).
    i = pressure(board, i + 3600, 15)
    alerts = [a for a in board.recent_alerts() if a.kind == "imbalance"]
    assert len(alerts) == len(before) + 1
    assert "buy pressure" in alerts[-1].message
    pressure(board, i, 5)  # still pressing: no new alert
    assert len([a for a in board.recent_alerts() if a.kind == "imbalance"]) == len(alerts)
    seqs = [a.seq for a in board.recent_alerts()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_a_maker_backing_away_is_an_alert():
    rng = np.random.default_rng(2)
    board = FlowBoard(["X/USD"], PARAMS, HftParams())
    i = calm(board, 0, 150, rng)
    board.on_event(book(i, 0.05, 0.05, spread=0.2))
    last = board.recent_alerts()[-1]
    assert last.kind == "withdrawal" and last.symbol == "X/USD"
    view = board.views()[0]
    assert view.withdrawn and view.bid == 100.0 and view.ask == pytest.approx(100.2)


def test_flow_alerts_are_not_audit_entries(tmp_path):
    engine, _, _ = live_engine(tmp_path)
    try:
        for _ in range(60):
            engine.step()
        snapshot = engine.latest_snapshot()
        assert snapshot.flow_alerts, "60 bars of the simulated stream raise some alert"
        kinds = {entry.kind for entry in engine.store.audit.tail(10_000)}
        assert not any("flow" in k or "imbalance" in k or "withdraw" in k for k in kinds)
        views = {v.symbol: v for v in snapshot.order_flow}
        assert set(views) == set(snapshot.symbols)
        for symbol, view in views.items():
            bid, ask = snapshot.quotes[symbol]  # Positions' quotes: the sim's book
            assert (float(bid), float(ask)) == (view.bid, view.ask)
            assert view.bid < float(snapshot.last_prices[symbol]) * 1.01
    finally:
        engine.stop()


def test_the_simulated_stream_has_a_maker_that_backs_away_on_big_bars():
    market = SimMarket(["BTC/USDT"], seed=5, freq="1min")
    market.history(0)
    tracker = FlowTracker("BTC/USDT", FlowParams())
    scores, withdrawn_bars = [], 0
    for _ in range(400):
        bar = market.next_bars()["BTC/USDT"]
        events = market.flow("BTC/USDT", 20, 5)
        books = [e for e in events if isinstance(e, OrderBook)]
        trades = [e for e in events if isinstance(e, TradePrint)]
        assert all(bar.ts <= e.ts < bar.ts + timedelta(minutes=1) for e in events)
        assert [e.ts for e in events] == sorted(e.ts for e in events)
        assert all(b.best_bid < b.best_ask for b in books)
        tick = tick_size(bar.close)  # quotes sit on ticks around the walk in [low, high]
        assert all(bar.low - tick <= b.mid <= bar.high + tick for b in books)
        withdrawn = any(t.maker != SIM_MAKER for t in trades)
        withdrawn_bars += withdrawn
        for event in events:
            tracker.on_event(event)
        if tracker.updates > 500:
            scores.append(tracker.makers.reading().score)
    assert market.flow("BTC/USDT", 20, 5) == market.flow("BTC/USDT", 20, 5)
    assert np.median(scores) > 0.6
    assert 0 < withdrawn_bars < 200


def test_a_flickering_maker_alerts_once_per_cooldown():
    """A maker backing away, returning and backing away again within the hour is one
    alert; after the cool-down (market time) the next withdrawal is news again."""
    from engine.microstructure.board import ALERT_COOLDOWN

    rng = np.random.default_rng(2)
    board = FlowBoard(["X/USD"], PARAMS, HftParams())
    i = calm(board, 0, 150, rng)
    for _ in range(3):  # away, back, away, back ... within minutes
        board.on_event(book(i, 0.05, 0.05, spread=0.2))
        i = calm(board, i + 1, 30, rng)
    withdrawals = [a for a in board.recent_alerts() if a.kind == "withdrawal"]
    assert len(withdrawals) == 1
    later = i + int(ALERT_COOLDOWN.total_seconds())
    calm(board, later, 30, rng)
    board.on_event(book(later + 31, 0.05, 0.05, spread=0.2))
    assert len([a for a in board.recent_alerts() if a.kind == "withdrawal"]) == 2
