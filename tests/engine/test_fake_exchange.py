"""The fake exchange speaks enough Binance for the unmodified ccxt client (and raw HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import ccxt
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.fakes.candles import MINUTE_MS
from tests.fakes.exchange import CCXT_OPTIONS, FakeExchange, spawn


@pytest.fixture
def fake():
    with FakeExchange(history=3000) as running:
        yield running


def client(fake_or_urls, timeout_ms: int = 2000) -> ccxt.binance:
    ex = ccxt.binance(
        {"apiKey": "k", "secret": "s", "timeout": timeout_ms, "options": dict(CCXT_OPTIONS)}
    )
    urls = fake_or_urls if isinstance(fake_or_urls, dict) else fake_or_urls.ccxt_urls()
    ex.urls["api"].update(urls)
    return ex


def test_load_markets_applies_the_filters(fake):
    markets = client(fake).load_markets()
    assert sorted(markets) == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    btc = markets["BTC/USDT"]
    assert btc["precision"]["amount"] == 0.00001 and btc["precision"]["price"] == 0.01
    assert btc["limits"]["amount"]["min"] == 0.00001 and btc["limits"]["cost"]["min"] == 5


def test_time_and_ohlcv_paging_are_contiguous_and_deterministic(fake):
    ex = client(fake)
    assert ex.fetch_time() == fake.candles.start_ms + 3000 * MINUTE_MS - 1
    start = fake.candles.start_ms
    first = ex.fetch_ohlcv("BTC/USDT", "1m", since=start, limit=1000)
    second = ex.fetch_ohlcv("BTC/USDT", "1m", since=first[-1][0] + MINUTE_MS, limit=1000)
    rows = first + second
    assert [r[0] for r in rows] == [start + i * MINUTE_MS for i in range(2000)]
    # Only visible bars: the last page stops at the current bar.
    tail = ex.fetch_ohlcv("BTC/USDT", "1m", since=start + 2990 * MINUTE_MS, limit=1000)
    assert len(tail) == 10
    latest = ex.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert latest == tail[-5:]
    # endTime alone: the `limit` bars up to it.
    until = ex.fetch_ohlcv("BTC/USDT", "1m", limit=3, params={"endTime": start + 9 * MINUTE_MS})
    assert [r[0] for r in until] == [start + i * MINUTE_MS for i in (7, 8, 9)]
    # An hour is its sixty minutes.
    hour = ex.fetch_ohlcv("BTC/USDT", "1h", since=start, limit=1)[0]
    minutes = first[:60]
    assert hour[1] == minutes[0][1] and hour[4] == minutes[-1][4]
    assert hour[2] == max(m[2] for m in minutes) and hour[3] == min(m[3] for m in minutes)
    with FakeExchange(history=3000, ws_port=None) as again:
        assert client(again).fetch_ohlcv("BTC/USDT", "1m", since=start, limit=1000) == first


def test_orders_by_client_id_and_trades(fake):
    ex = client(fake)
    ex.load_markets()
    bought = ex.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "m-1"})
    assert bought["clientOrderId"] == "m-1" and bought["status"] == "closed"
    assert bought["average"] == float(fake.state()["prices"]["BTC/USDT"])
    price = bought["average"] * 0.99
    resting = ex.create_order(
        "BTC/USDT", "limit", "buy", 0.02, round(price, 2), {"clientOrderId": "l-1"}
    )
    assert resting["status"] == "open"
    found = ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "l-1"})
    assert found["id"] == resting["id"] and found["remaining"] == 0.02
    assert [o["clientOrderId"] for o in ex.fetch_open_orders("BTC/USDT")] == ["l-1"]
    cancelled = ex.cancel_order(None, "BTC/USDT", {"origClientOrderId": "l-1"})
    assert cancelled["status"] == "canceled"
    assert ex.fetch_open_orders("BTC/USDT") == []
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order(None, "BTC/USDT", {"origClientOrderId": "l-1"})
    with pytest.raises(ccxt.OrderNotFound):
        ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "never"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        ex.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "m-1"})
    trades = ex.fetch_my_trades("BTC/USDT", since=fake.candles.start_ms)
    assert [(t["order"], t["amount"], t["side"]) for t in trades] == [
        (bought["id"], 0.01, "buy")
    ]
    assert [o["clientOrderId"] for o in ex.fetch_orders("BTC/USDT")] == ["m-1", "l-1"]
    assert fake.received == {"m-1": 2, "l-1": 1}
    assert fake.venue.created == {"m-1": 1, "l-1": 1}


def test_limit_orders_rest_then_fill_in_slices_as_the_price_crosses(fake):
    ex = client(fake)
    fake.set_faults(fill_slices=2)
    below = round(float(fake.state()["prices"]["ETH/USDT"]) * 0.999, 2)
    ex.create_order("ETH/USDT", "limit", "buy", 0.5, below, {"clientOrderId": "e-1"})
    for _ in range(500):
        fake.advance(1)
        if ex.fetch_order(None, "ETH/USDT", {"origClientOrderId": "e-1"})["status"] == "closed":
            break
    trades = ex.fetch_my_trades("ETH/USDT")
    assert [t["amount"] for t in trades] == [0.25, 0.25]
    assert {t["price"] for t in trades} == {below} and trades[0]["takerOrMaker"] == "maker"


def test_balances_and_insufficient_funds(fake):
    ex = client(fake)
    assert ex.fetch_balance()["free"]["USDT"] == 100000
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "market", "buy", 5, None, {"clientOrderId": "big"})
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        # Raw endpoint: ccxt's create_order would round the quantity to the step first.
        ex.privatePostOrder(
            {"symbol": "SOLUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.0015"}
        )
    ex.create_order("SOL/USDT", "market", "sell", 10, None, {"clientOrderId": "s"})
    balance = ex.fetch_balance()
    assert balance["free"]["SOL"] == 90 and balance["free"]["USDT"] > 100000


def test_rate_limit_and_server_error_faults(fake):
    ex = client(fake)
    fake.set_faults(rate_limit=1, retry_after=7)
    with pytest.raises(ccxt.DDoSProtection):
        ex.fetch_time()
    assert ex.last_response_headers["Retry-After"] == "7"
    fake.set_faults(server_error=1)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        ex.fetch_time()
    assert ex.fetch_time() > 0
    assert fake.count("GET", "/api/v3/time") == 3


def test_accept_then_timeout_creates_the_order_but_the_client_times_out(fake):
    ex = client(fake, timeout_ms=200)
    fake.set_faults(accept_then_timeout=1, stall_s=1.0)
    with pytest.raises(ccxt.RequestTimeout):
        ex.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "t-1"})
    fake.set_faults(reject_then_timeout=1, drop=True)
    with pytest.raises(ccxt.NetworkError):
        ex.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "t-2"})
    assert fake.received == {"t-1": 1, "t-2": 1} and fake.venue.created == {"t-1": 1}


def test_signed_endpoints_want_an_api_key(fake):
    request = urllib.request.Request(fake.url + "/api/v3/account?timestamp=1&signature=x")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 401 and json.loads(raised.value.read())["code"] == -2014


def test_websocket_streams_and_drops(fake):
    fake.set_faults(ws_interval_s=0.02)
    with connect(fake.ws_url + "/btcusdt@trade/btcusdt@kline_1m") as ws:
        events = [json.loads(ws.recv(timeout=5)) for _ in range(2)]
        assert {e["e"] for e in events} == {"trade", "kline"}
        kline = next(e for e in events if e["e"] == "kline")["k"]
        assert kline["x"] is False and kline["t"] == fake.candles.last("BTC/USDT")[0]
        fake.advance(1)
        closed = None
        for _ in range(10):
            event = json.loads(ws.recv(timeout=5))
            if event["e"] == "kline" and event["k"]["x"]:
                closed = event["k"]
                break
        assert closed is not None and closed["t"] == kline["t"]
        assert fake.drop_ws() == 1
        with pytest.raises(ConnectionClosed):
            for _ in range(100):
                ws.recv(timeout=5)
    url = fake.ws_url.removesuffix("/ws") + "/stream?streams=ethusdt@depth5"
    with connect(url) as ws:
        message = json.loads(ws.recv(timeout=5))
        assert message["stream"] == "ethusdt@depth5" and len(message["data"]["bids"]) == 5
    fake.set_faults(ws_drop_after=3)
    with connect(fake.ws_url) as ws:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["solusdt@trade"], "id": 9}))
        assert json.loads(ws.recv(timeout=5)) == {"result": None, "id": 9}
        received = 0
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=5)
                received += 1
        assert received == 3


def test_script_form_with_admin_faults():
    process, rest, _ws = spawn("--history", "100")
    try:
        urls = {"public": rest + "/api/v3", "private": rest + "/api/v3"}
        ex = client(urls)
        assert ex.fetch_time() == ex.fetch_ohlcv("BTC/USDT", "1m", limit=1)[0][0] + MINUTE_MS - 1
        post = urllib.request.Request(
            rest + "/_admin/faults", data=json.dumps({"rate_limit": 1}).encode(), method="POST"
        )
        urllib.request.urlopen(post, timeout=5).read()
        with pytest.raises(ccxt.DDoSProtection):  # what binance maps an HTTP 429 to
            ex.fetch_balance()
        ex.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "e2e"})
        with urllib.request.urlopen(rest + "/_admin/state", timeout=5) as response:
            state = json.loads(response.read())
        assert state["received"] == {"e2e": 1} and state["created"] == {"e2e": 1}
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
