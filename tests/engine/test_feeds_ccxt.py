"""Live ccxt feeds against the fake exchange: closed candles once, in order, gaps back-filled."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from engine.venues.ccxt.feeds import CcxtPollingFeed, WebsocketKlineFeed
from engine.venues.ccxt.fetch import Retry
from tests.fakes.exchange import CCXT_OPTIONS, FakeExchange

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
HISTORY = 300


def client(fake):
    import ccxt

    ex = ccxt.binance({"enableRateLimit": False, "options": dict(CCXT_OPTIONS)})
    ex.urls["api"].update(fake.ccxt_urls())
    return ex


def fake_bar(fake, symbol, index):
    """(open time, close) of the fake's 1-minute bar `index`, as the API prints it."""
    ms, ohlcv = fake.candles.bar(symbol, index)
    return datetime.fromtimestamp(ms / 1000, tz=UTC), round(float(ohlcv[3]), 2)


def seen(bar):
    return bar.ts, bar.close


@pytest.fixture
def rest_fake():
    with FakeExchange(SYMBOLS, history=HISTORY, ws_port=None) as fake:
        yield fake


def test_polling_delivers_each_closed_candle_once_and_back_fills_an_outage(rest_fake):
    fake = rest_fake
    feed = CcxtPollingFeed(client(fake), SYMBOLS, "1m", 100, retry=Retry(attempts=1),
                           max_wait=0)

    history = feed.history(100)
    idle = feed.next_bars()
    fake.advance(1)
    first, after_first = feed.next_bars(), feed.next_bars()
    fake.set_faults(server_error=1000)
    fake.advance(3)
    during = feed.next_bars()
    error = feed.last_error
    fake.set_faults(server_error=0)
    caught_up = [feed.next_bars() for _ in range(4)]

    last_closed = HISTORY - 2  # bar HISTORY-1 is forming
    for symbol in SYMBOLS:
        frame = history[symbol]
        assert len(frame) == 100
        assert (frame.index[-1].to_pydatetime(), frame["close"].iloc[-1]) == \
            fake_bar(fake, symbol, last_closed)
    assert idle == {} and after_first == {} and during == {} and not feed.ended
    assert error is not None and feed.last_error is None
    assert {s: seen(b) for s, b in first.items()} == \
        {s: fake_bar(fake, s, last_closed + 1) for s in SYMBOLS}
    assert [{s: seen(b) for s, b in bars.items()} for bars in caught_up] == [
        {s: fake_bar(fake, s, last_closed + k) for s in SYMBOLS} for k in (2, 3, 4)
    ] + [{}]
    assert feed.bar_seconds == 60


def test_polling_hands_out_one_timestamp_per_call_when_symbols_are_out_of_step(rest_fake):
    fake = rest_fake
    feed = CcxtPollingFeed(client(fake), SYMBOLS, "1m", 10, retry=Retry(attempts=1),
                           max_wait=0)
    feed.history(10)
    fake.advance(2)
    feed.backfill("BTC/USDT")  # BTC is two bars ahead of ETH in the queues

    calls = [feed.next_bars() for _ in range(3)]

    assert [sorted(c) for c in calls] == [SYMBOLS, SYMBOLS, []]
    assert calls[0]["BTC/USDT"].ts == calls[0]["ETH/USDT"].ts < calls[1]["ETH/USDT"].ts


@pytest.fixture
def ws_fake():
    with FakeExchange(SYMBOLS[:1], history=HISTORY) as fake:
        fake.set_faults(ws_interval_s=0.02)
        yield fake


def wait_for_bar(feed, deadline_s=5.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        bars = feed.next_bars()
        if bars:
            return bars
    raise AssertionError(f"no bar within {deadline_s} s (last error: {feed.last_error!r})")


def test_websocket_feed_survives_a_dropped_connection_without_losing_or_repeating(ws_fake):
    fake, symbol = ws_fake, SYMBOLS[0]
    feed = WebsocketKlineFeed(fake.ws_url, [symbol], "1m", client(fake), 50,
                              retry=Retry(attempts=2, first_delay=0.01), max_wait=0.2,
                              backoff=(0.2, 0.5))
    try:
        history = feed.history()
        delivered = []
        for _ in range(2):  # a connected stream: each close arrives as an "x": true kline
            fake.advance(1)
            delivered.append(wait_for_bar(feed))
        while fake.drop_ws() == 0:  # cut the TCP connection once the stream is up
            time.sleep(0.01)
        fake.advance(3)  # three candles close while the feed is reconnecting
        fake.advance(1)
        while len(delivered) < 6:
            delivered.append(wait_for_bar(feed))
        time.sleep(0.3)  # anything repeated would arrive now
        extra = feed.next_bars()
    finally:
        feed.close()

    last_closed = HISTORY - 2
    assert len(history[symbol]) == 50
    assert history[symbol].index[-1].to_pydatetime() == fake_bar(fake, symbol, last_closed)[0]
    assert [seen(bars[symbol]) for bars in delivered] == [
        fake_bar(fake, symbol, last_closed + k) for k in range(1, 7)
    ]
    assert extra == {}
    assert feed.connections >= 2
    assert not feed.streams.thread.is_alive()


def test_importing_the_modules_loads_no_heavy_or_ui_library():
    import subprocess
    import sys

    code = ("import sys, engine.venues.ccxt.feeds, engine.venues.ccxt.fetch; "
            "print(' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    loaded = set(out.stdout.split())
    for heavy in ("ccxt", "pandas", "websockets", "pyarrow", "rich", "textual"):
        assert heavy not in loaded
