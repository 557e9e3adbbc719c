"""A fake Binance spot exchange on loopback: REST (and websocket streams, see ws.py).

Enough of Binance's spot API that the unmodified ccxt client talks to it once its
`urls['api']` point here (`FakeExchange.ccxt_urls()`): exchangeInfo, time, klines, order
(POST / GET / DELETE), openOrders, allOrders, myTrades and account. Signed endpoints want
the X-MBX-APIKEY header and a signature parameter but do not check the HMAC.

From a test:

    with FakeExchange() as fake:
        ex = ccxt.binance({"apiKey": "k", "secret": "s", "options": CCXT_OPTIONS})
        ex.urls["api"].update(fake.ccxt_urls())
        fake.faults.update(rate_limit=2)      # or fake.set_faults(...)
        fake.advance(5)                       # five more 1-minute bars
        fake.received["cid-1"]                # how many times that client order id came in

As a script (end-to-end tests of the real `desk`):

    python -m tests.fakes.exchange --port 0

prints one line `FAKE_EXCHANGE rest=http://127.0.0.1:P ws=ws://127.0.0.1:W/ws` once it
listens; POST /_admin/faults, /_admin/advance, /_admin/ws/drop and GET /_admin/state drive
it (see `_admin`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.candles import INTERVALS_MS, Candles
from tests.fakes.venue import SPECS, ApiError, Venue

# ccxt.binance options that keep it on the endpoints served here.
CCXT_OPTIONS = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "adjustForTimeDifference": False,
    "fetchMargins": False,
}
SIGNED = {"/api/v3/order", "/api/v3/openOrders", "/api/v3/allOrders", "/api/v3/myTrades",
          "/api/v3/account"}


@dataclass
class Faults:
    """What goes wrong next. Counters count down per request they affect."""

    rate_limit: int = 0  # next N API requests: HTTP 429, code -1003, Retry-After
    retry_after: int = 1  # seconds, in the Retry-After header of a 429
    server_error: int = 0  # next N API requests: HTTP `server_error_status`
    server_error_status: int = 503
    accept_then_timeout: int = 0  # next N order POSTs: created, then no timely answer
    reject_then_timeout: int = 0  # next N order POSTs: not created, no timely answer
    stall_s: float = 2.0  # how long a timed-out answer is held back...
    drop: bool = False  # ...or, if True, the connection is closed without an answer
    fill_slices: int = 1  # >1: an order fills in that many trades (partial fills)
    ws_interval_s: float = 0.2  # seconds between websocket pushes
    ws_drop_after: int = 0  # >0: every websocket connection is cut after N messages


class FakeExchange:
    """The fake exchange's state and its servers; `start()` or use as a context manager."""

    def __init__(
        self,
        symbols: list[str] | None = None,
        *,
        seed: int = 7,
        history: int = 2000,
        start: datetime | None = None,
        balances: dict[str, str] | None = None,
        port: int = 0,
        ws_port: int | None = 0,
        auto_advance_s: float | None = None,
    ) -> None:
        self.candles = Candles(list(symbols or SPECS), seed=seed, history=history, start=start)
        self.venue = Venue(self.candles, balances)
        self.faults = Faults()
        self.received: Counter[str] = Counter()  # client order ids of every order POST
        self.requests: Counter[str] = Counter()  # "GET /api/v3/time" -> count
        self.lock = threading.RLock()
        self._port, self._ws_port = port, ws_port
        self._auto = auto_advance_s
        self._http: ThreadingHTTPServer | None = None
        self._ws = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeExchange:
        self._http = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))
        self._http.daemon_threads = True
        # A short poll interval: stop() waits for it, and tests start many fakes.
        http = self._http
        self._spawn(lambda: http.serve_forever(poll_interval=0.05))
        if self._ws_port is not None:
            from tests.fakes.ws import WsStreams

            self._ws = WsStreams(self, self._ws_port)
            self._spawn(self._ws.serve_forever)
        if self._auto:
            self._spawn(self._auto_advance)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._ws is not None:
            self._ws.shutdown()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target) -> None:
        thread = threading.Thread(target=target, daemon=True, name=f"fake-exchange-{target}")
        thread.start()
        self._threads.append(thread)

    def _auto_advance(self) -> None:
        while not self._stop.wait(self._auto):
            self.advance(1)

    # -- addresses ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._http is not None, "not started"
        return self._http.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        assert self._ws is not None, "websocket streams not started"
        return f"ws://127.0.0.1:{self._ws.port}/ws"

    def ccxt_urls(self) -> dict[str, str]:
        """Entries for ccxt.binance's urls['api'] (the REST ones; 'ws' for ccxt.pro)."""
        rest = self.url + "/api/v3"
        urls = {"public": rest, "private": rest, "v1": self.url + "/api/v1"}
        if self._ws is not None:
            urls["ws"] = {"spot": self.ws_url}  # type: ignore[assignment]
        return urls

    # -- control ------------------------------------------------------------------------

    def set_faults(self, **changes: object) -> None:
        with self.lock:
            for name, value in changes.items():
                if not hasattr(self.faults, name):
                    raise ValueError(f"unknown fault {name!r}")
                setattr(self.faults, name, type(getattr(self.faults, name))(value))
            self.venue.fill_slices = self.faults.fill_slices

    def advance(self, bars: int = 1) -> None:
        """Make `bars` more 1-minute bars visible; resting limit orders trade against each."""
        with self.venue.lock:
            for _ in range(bars):
                self.candles.advance(1)
                self.venue.on_bar(self.candles.cursor - 1)

    def drop_ws(self) -> int:
        """Cut every open websocket connection; returns how many."""
        return self._ws.drop_all() if self._ws is not None else 0

    def state(self) -> dict:
        with self.lock:
            return {
                "received": dict(self.received),
                "created": dict(self.venue.created),
                "requests": dict(self.requests),
                "faults": asdict(self.faults),
                "server_time": self.candles.now_ms(),
                "prices": {s: str(self.venue.price(SPECS[s])) for s in self.candles.symbols},
            }

    def count(self, method: str, path: str) -> int:
        return self.requests[f"{method} {path}"]

    def take_fault(self, name: str) -> bool:
        """Use up one of a counted fault; True if it applies to this request."""
        with self.lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False


def _handler_for(fake: FakeExchange) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        exchange = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    exchange: FakeExchange
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API front end

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: tests read `requests` instead

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        fake = self.exchange
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = split.path
        with fake.lock:
            fake.requests[f"{method} {path}"] += 1
        if path.startswith("/_admin/"):
            self._send(200, _admin(fake, method, path, body))
            return
        if body and "json" not in (self.headers.get("Content-Type") or ""):
            params.update(parse_qsl(body))
        if (method, path) == ("POST", "/api/v3/order"):
            with fake.lock:  # at the door: a 429 or 5xx answer still counts as received
                fake.received[params.get("newClientOrderId", "")] += 1
        try:
            if fake.take_fault("rate_limit"):
                retry = str(fake.faults.retry_after)
                error = {"code": -1003, "msg": "Too many requests; please use the websocket."}
                self._send(429, error, {"Retry-After": retry})
                return
            if fake.take_fault("server_error"):
                # A gateway's error page, not JSON: what a load balancer in trouble returns.
                self._send(fake.faults.server_error_status, "<html>Service Unavailable</html>")
                return
            self._route(method, path, params)
        except ApiError as error:
            self._send(error.status, {"code": error.code, "msg": error.msg})

    def _route(self, method: str, path: str, params: dict) -> None:
        fake, venue = self.exchange, self.exchange.venue
        if path in SIGNED:
            if not self.headers.get("X-MBX-APIKEY"):
                raise ApiError(401, -2014, "API-key format invalid.")
            if "signature" not in params or "timestamp" not in params:
                raise ApiError(400, -1022, "Signature for this request is not valid.")
        key = (method, path)
        if key == ("GET", "/api/v3/time"):
            self._send(200, {"serverTime": fake.candles.now_ms()})
        elif key == ("GET", "/api/v3/ping"):
            self._send(200, {})
        elif key == ("GET", "/api/v3/exchangeInfo"):
            self._send(200, _exchange_info(fake))
        elif key == ("GET", "/api/v3/klines"):
            self._send(200, _klines(fake, params))
        elif key == ("POST", "/api/v3/order"):
            self._new_order(params)
        elif key == ("GET", "/api/v3/order"):
            self._send(200, venue.find(params).view())
        elif key == ("DELETE", "/api/v3/order"):
            self._send(200, venue.cancel(params))
        elif key == ("GET", "/api/v3/openOrders"):
            self._send(200, venue.open_orders(params.get("symbol")))
        elif key == ("GET", "/api/v3/allOrders"):
            self._send(200, venue.all_orders(params))
        elif key == ("GET", "/api/v3/myTrades"):
            self._send(200, venue.my_trades(params))
        elif key == ("GET", "/api/v3/account"):
            self._send(200, venue.account())
        else:
            self._send(404, {"code": -1000, "msg": f"fake exchange does not serve {method} {path}"})

    def _new_order(self, params: dict) -> None:
        fake = self.exchange
        if fake.take_fault("reject_then_timeout"):
            self._stall()
            return
        order = fake.venue.place(params)
        if fake.take_fault("accept_then_timeout"):
            self._stall()
            return
        view = order.view() | {"transactTime": order.time}
        if params.get("newOrderRespType", "FULL") == "FULL":
            view["fills"] = [
                {
                    "price": str(t.price),
                    "qty": str(t.qty),
                    "commission": str(t.commission),
                    "commissionAsset": order.spec.quote,
                    "tradeId": t.trade_id,
                }
                for t in order.fills
            ]
        self._send(200, view)

    def _stall(self) -> None:
        """No timely answer: hold the response back, or close the connection."""
        if self.exchange.faults.drop:
            self.close_connection = True
            return
        deadline = time.monotonic() + self.exchange.faults.stall_s
        while time.monotonic() < deadline and not self.exchange._stop.is_set():
            time.sleep(0.02)
        self.close_connection = True  # the client gave up; the late answer is never read

    def _send(self, status: int, payload: object, headers: dict | None = None) -> None:
        text = isinstance(payload, str)
        data = (payload if text else json.dumps(payload)).encode()
        try:
            self.send_response(status)
            kind = "text/html" if text else "application/json;charset=UTF-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _exchange_info(fake: FakeExchange) -> dict:
    symbols = []
    for unified in fake.candles.symbols:
        s = SPECS[unified]
        symbols.append(
            {
                "symbol": s.id,
                "status": "TRADING",
                "baseAsset": s.base,
                "baseAssetPrecision": 8,
                "quoteAsset": s.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "icebergAllowed": False,
                "ocoAllowed": False,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": str(s.tick),
                     "maxPrice": "1000000.00", "tickSize": str(s.tick)},
                    {"filterType": "LOT_SIZE", "minQty": str(s.min_qty),
                     "maxQty": str(s.max_qty), "stepSize": str(s.step)},
                    {"filterType": "NOTIONAL", "minNotional": str(s.min_notional),
                     "applyMinToMarket": True, "maxNotional": "9000000.00",
                     "applyMaxToMarket": False, "avgPriceMins": 5},
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": fake.candles.now_ms(),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": symbols,
    }


def _klines(fake: FakeExchange, params: dict) -> list[list]:
    spec = fake.venue.spec(params.get("symbol"))
    interval = params.get("interval", "")
    if interval not in INTERVALS_MS:
        raise ApiError(400, -1120, "Invalid interval.")
    limit = int(params.get("limit") or 500)
    if not 1 <= limit <= 1000:
        raise ApiError(400, -1100, "Illegal characters found in parameter 'limit'.")
    start = int(params["startTime"]) if params.get("startTime") else None
    end = int(params["endTime"]) if params.get("endTime") else None
    with fake.venue.lock:
        rows = fake.candles.klines(spec.unified, interval, start_ms=start, end_ms=end, limit=limit)
    price, size = f".{len(str(spec.tick).split('.')[1])}f", ".8f"
    return [
        [
            open_ms,
            format(o, price), format(h, price), format(low, price), format(c, price),
            format(v, size),
            close_ms,
            format(v * c, ".8f"),
            int(v) + 1,
            format(v / 2, size),
            format(v * c / 2, ".8f"),
            "0",
        ]
        for open_ms, close_ms, (o, h, low, c, v) in rows
    ]


def _admin(fake: FakeExchange, method: str, path: str, body: str) -> dict:
    """The script form's remote control: faults, price moves, websocket drops, state."""
    data = json.loads(body) if body else {}
    if (method, path) == ("POST", "/_admin/faults"):
        fake.set_faults(**data)
    elif (method, path) == ("POST", "/_admin/advance"):
        fake.advance(int(data.get("bars", 1)))
    elif (method, path) == ("POST", "/_admin/ws/drop"):
        return {"dropped": fake.drop_ws()}
    elif (method, path) == ("POST", "/_admin/balances"):
        fake.venue.set_balances(data)
    return fake.state()


def spawn(*args: str, timeout_s: float = 30.0) -> tuple[subprocess.Popen, str, str]:
    """Run the script form in a child process (for end-to-end tests of `desk`): returns
    the process and its REST and websocket base URLs. The caller terminates it."""
    root = Path(__file__).resolve().parents[2]  # the checkout holding tests/
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.exchange", "--port", "0", *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = threading.Timer(timeout_s, process.kill)  # a stuck child must not hang a test
    ready.start()
    try:
        line = process.stdout.readline()
    finally:
        ready.cancel()
    if not line.startswith("FAKE_EXCHANGE "):
        process.kill()
        raise RuntimeError(f"fake exchange did not start: {line!r}")
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return process, fields["rest"], fields["ws"]


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Binance spot exchange on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="REST port (0: pick a free one)")
    parser.add_argument("--ws-port", type=int, default=0, help="websocket port (0: free)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history", type=int, default=2000, help="1-minute bars visible")
    parser.add_argument("--symbols", default=",".join(SPECS))
    parser.add_argument(
        "--advance-every", type=float, default=None, help="seconds per new bar (default: never)"
    )
    args = parser.parse_args(argv)
    fake = FakeExchange(
        args.symbols.split(","),
        seed=args.seed,
        history=args.history,
        port=args.port,
        ws_port=args.ws_port,
        auto_advance_s=args.advance_every,
    ).start()
    print(f"FAKE_EXCHANGE rest={fake.url} ws={fake.ws_url}", flush=True)
    import signal

    # SIGTERM (what a test's terminate() sends) stops the servers cleanly, like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
