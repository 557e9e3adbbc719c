"""Trades and order books streamed from the fake exchange's websockets: they arrive, a
dropped connection is reopened, and no trade is kept twice (with the REST back-fill)."""

from __future__ import annotations

import time

import pytest

from engine.venues.ccxt.market_stream import MarketStream
from tests.fakes.exchange import FakeExchange

IDS = {"BTC/USDT": "BTCUSDT", "ETH/USDT": "ETHUSDT"}


def _wait(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture
def fake():
    with FakeExchange() as running:
        running.set_faults(ws_interval_s=0.05, ws_drop_after=0)
        yield running


class StubRest:
    """A REST side that knows trades the stream may have missed (the fake exchange serves
    no public trade history)."""

    def __init__(self, rows, fail: bool = False) -> None:
        self.rows, self.fail, self.calls = rows, fail, 0

    def fetch_trades(self, symbol, since=None):
        self.calls += 1
        if self.fail:
            raise ConnectionError("REST is down too")
        return [r for r in self.rows if r["symbol"] == symbol and r["timestamp"] >= since]


def test_books_and_trades_arrive_and_survive_a_dropped_connection(fake):
    stream = MarketStream(fake.ws_url, IDS, backoff=(0.05, 0.2), idle_timeout=5)
    stream.start()
    try:
        _wait(lambda: all(stream.quote(s) and len(stream.trade_ids(s)) >= 3 for s in IDS))
        bid, ask = stream.quote("BTC/USDT")
        assert 0 < bid < ask
        before = {s: len(stream.trade_ids(s)) for s in IDS}
        connections = stream.connections
        assert fake.drop_ws() > 0
        _wait(lambda: stream.connections > connections)
        _wait(lambda: all(len(stream.trade_ids(s)) > before[s] + 3 for s in IDS))
        for symbol in IDS:
            ids = stream.trade_ids(symbol)
            assert len(ids) == len(set(ids))
        assert stream.unfilled_gaps >= 1  # no REST trade history behind this stream
    finally:
        stream.close()


def test_a_reconnect_backfills_missed_trades_once(fake):
    rest = StubRest([])
    stream = MarketStream(fake.ws_url, {"BTC/USDT": "BTCUSDT"}, rest_exchange=rest,
                          backoff=(0.05, 0.2), idle_timeout=5)
    stream.start()
    try:
        _wait(lambda: len(stream.trade_ids("BTC/USDT")) >= 2)
        last = stream.last_trade("BTC/USDT")
        seen = stream.trade_ids("BTC/USDT")[-1]
        ms = int(last.ts.timestamp() * 1000)
        rest.rows = [  # one trade the stream already has, two it missed
            {"symbol": "BTC/USDT", "id": seen, "timestamp": ms, "price": 1.0, "amount": 1.0,
             "side": "buy"},
            {"symbol": "BTC/USDT", "id": "missed-1", "timestamp": ms + 1, "price": 1.0,
             "amount": 1.0, "side": "sell"},
            {"symbol": "BTC/USDT", "id": "missed-2", "timestamp": ms + 2, "price": 1.0,
             "amount": 1.0, "side": "buy"},
        ]
        fake.drop_ws()
        _wait(lambda: rest.calls >= 1 and "missed-2" in stream.trade_ids("BTC/USDT"))
        ids = stream.trade_ids("BTC/USDT")
        assert ids.count(seen) == 1 and ids.count("missed-1") == 1
        assert len(ids) == len(set(ids))
        assert stream.unfilled_gaps == 0
    finally:
        stream.close()


def test_a_failed_backfill_is_counted_and_the_stream_goes_on(fake):
    rest = StubRest([], fail=True)
    stream = MarketStream(fake.ws_url, {"ETH/USDT": "ETHUSDT"}, rest_exchange=rest,
                          backoff=(0.05, 0.2), idle_timeout=5)
    stream.start()
    try:
        _wait(lambda: len(stream.trade_ids("ETH/USDT")) >= 2)
        fake.drop_ws()
        _wait(lambda: stream.unfilled_gaps >= 1)
        count = len(stream.trade_ids("ETH/USDT"))
        _wait(lambda: len(stream.trade_ids("ETH/USDT")) > count)
        assert isinstance(stream.last_error, ConnectionError)
    finally:
        stream.close()
