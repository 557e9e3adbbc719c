"""Order flow from the fake exchange's depth and trade streams: a recording of the stream
holds its books and trades with bars built from the trades, and the live FlowBoard fed by
the stream's listeners shows bid, ask, imbalance and a maker score."""

from __future__ import annotations

import time

import pytest

from engine.data.microstructure import OrderBook, TradePrint
from engine.microstructure.board import FlowBoard
from engine.microstructure.hft import HftParams
from engine.microstructure.recording import record_stream
from engine.microstructure.tracker import FlowParams
from engine.venues.ccxt.market_stream import MarketStream
from tests.fakes.exchange import FakeExchange

IDS = {"BTC/USDT": "BTCUSDT", "ETH/USDT": "ETHUSDT"}


@pytest.fixture
def fake():
    with FakeExchange() as running:
        running.set_faults(ws_interval_s=0.02, ws_drop_after=0)
        yield running


def test_a_stream_recording_holds_books_trades_and_bars(fake):
    stream = MarketStream(fake.ws_url, IDS, backoff=(0.05, 0.2), idle_timeout=5)
    recording = record_stream(stream, list(IDS), seconds=2.5, freq="1s")
    for symbol in IDS:
        events = recording.events[symbol]
        books = [e for e in events if isinstance(e, OrderBook)]
        trades = [e for e in events if isinstance(e, TradePrint)]
        assert len(books) >= 5 and len(trades) >= 5
        assert [e.ts for e in events] == sorted(e.ts for e in events)
        frame = recording.frames[symbol]
        assert len(frame) >= 2
        assert frame["volume"].sum() == pytest.approx(sum(t.size for t in trades))
        assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
        assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()


def test_the_board_follows_the_exchange_depth_stream(fake):
    board = FlowBoard(list(IDS), FlowParams(window=10, z_window=40, min_periods=5),
                      HftParams())
    stream = MarketStream(fake.ws_url, IDS, backoff=(0.05, 0.2), idle_timeout=5)
    stream.listeners.append(board.on_event)
    stream.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            views = {v.symbol: v for v in board.views()}
            if len(views) == len(IDS) and all(v.updates >= 60 for v in views.values()):
                break
            time.sleep(0.05)
    finally:
        stream.close()
    views = {v.symbol: v for v in board.views()}
    assert set(views) == set(IDS)
    for view in views.values():
        assert 0 < view.bid < view.ask
        assert -1 <= view.book_imbalance <= 1
        assert 0 <= view.maker_score <= 1 and 0 <= view.confidence <= 1
        assert view.bids[0] == (view.bid, view.bid_size)
        assert view.trades > 0


def test_the_live_engine_publishes_the_exchange_streams_order_flow(fake, tmp_path):
    """A live engine whose bars carry no book (a replay) and whose market stream is the fake
    exchange's: the stream's listeners feed the trackers, and the snapshot shows each
    symbol's order flow and quotes between bars."""
    from engine.config.schema import config_from_dict
    from engine.data.sim import SimMarket
    from engine.live.build import build_live
    from engine.live.feeds import ReplayFeed
    from tests.live_engine import FakeWallClock

    frames = SimMarket(list(IDS), seed=3, freq="1min").history(400)
    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")},
                            "feed": {"history_bars": 300, "symbols": list(IDS)},
                            "engine": {"regime": False}})
    engine = build_live(cfg, feed=ReplayFeed(frames), wall_clock=FakeWallClock(),
                        market_stream=lambda: MarketStream(fake.ws_url, IDS,
                                                           backoff=(0.05, 0.2),
                                                           idle_timeout=5))
    engine.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            engine.step()
            snapshot = engine.latest_snapshot()
            if len(snapshot.order_flow) == len(IDS) and all(
                    v.updates >= 20 for v in snapshot.order_flow):
                break
            time.sleep(0.05)
        snapshot = engine.latest_snapshot()
        views = {v.symbol: v for v in snapshot.order_flow}
        assert set(views) == set(IDS)
        for symbol, view in views.items():
            assert 0 < view.bid < view.ask and 0 <= view.maker_score <= 1
            assert symbol in snapshot.quotes
    finally:
        engine.stop()
