"""The fake exchange's books: symbols and their filters, balances, orders and trades.

Everything here is plain Python under one lock; exchange.py turns requests into calls and
`ApiError`s into Binance's JSON errors. Amounts are Decimals throughout, rendered as strings
on the wire like Binance does.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from tests.fakes.candles import Candles, to_decimal

FEE_RATE = Decimal("0.001")  # charged in the quote asset on every trade


class ApiError(Exception):
    """A Binance error response: HTTP status, Binance code and message."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status, self.code, self.msg = status, code, msg


@dataclass(frozen=True)
class SymbolSpec:
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal

    @property
    def id(self) -> str:
        return self.base + self.quote

    @property
    def unified(self) -> str:
        return f"{self.base}/{self.quote}"


SPECS = {
    "BTC/USDT": SymbolSpec(
        "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"),
        Decimal("9000"), Decimal("5"),
    ),
    "ETH/USDT": SymbolSpec(
        "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("0.0001"),
        Decimal("9000"), Decimal("5"),
    ),
    "SOL/USDT": SymbolSpec(
        "SOL", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("0.001"),
        Decimal("90000"), Decimal("5"),
    ),
}
DEFAULT_BALANCES = {"USDT": "100000", "BTC": "1", "ETH": "10", "SOL": "100"}


@dataclass
class Order:
    order_id: int
    cid: str
    spec: SymbolSpec
    side: str  # BUY / SELL
    type: str  # MARKET / LIMIT
    qty: Decimal
    price: Decimal | None
    tif: str
    time: int
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    update: int = 0
    reserved: Decimal = Decimal(0)  # quote (buy) or base (sell) set aside at placement
    fills: list[Trade] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    def view(self) -> dict:
        return {
            "symbol": self.spec.id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.cid,
            "price": str(self.price or Decimal("0")),
            "origQty": str(self.qty),
            "executedQty": str(self.executed),
            "cummulativeQuoteQty": str(self.quote),
            "status": self.status,
            "timeInForce": self.tif,
            "type": self.type,
            "side": self.side,
            "stopPrice": "0.00000000",
            "icebergQty": "0.00000000",
            "time": self.time,
            "updateTime": self.update or self.time,
            "isWorking": True,
            "workingTime": self.time,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


@dataclass
class Trade:
    trade_id: int
    order: Order
    price: Decimal
    qty: Decimal
    commission: Decimal
    time: int
    maker: bool

    def view(self) -> dict:
        o = self.order
        return {
            "symbol": o.spec.id,
            "id": self.trade_id,
            "orderId": o.order_id,
            "orderListId": -1,
            "price": str(self.price),
            "qty": str(self.qty),
            "quoteQty": str(self.price * self.qty),
            "commission": str(self.commission),
            "commissionAsset": o.spec.quote,
            "time": self.time,
            "isBuyer": o.side == "BUY",
            "isMaker": self.maker,
            "isBestMatch": True,
        }


def _missing(name: str) -> ApiError:
    return ApiError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _decimal(params: dict, name: str) -> Decimal:
    try:
        value = Decimal(params.get(name))
    except (TypeError, InvalidOperation):
        raise _missing(name) from None
    if not value.is_finite():
        raise _missing(name)
    return value


class Venue:
    """Orders, trades and balances of one account; thread-safe."""

    def __init__(self, candles: Candles, balances: dict[str, str] | None = None) -> None:
        self.candles = candles
        self.specs = {s: SPECS[s] for s in candles.symbols}
        self.by_id = {spec.id: spec for spec in self.specs.values()}
        self.lock = threading.RLock()
        self.free: dict[str, Decimal] = {}
        self.locked: dict[str, Decimal] = {}
        self.set_balances(balances or DEFAULT_BALANCES)
        self.orders: dict[int, Order] = {}
        self.by_cid: dict[tuple[str, str], Order] = {}
        self.trades: list[Trade] = []
        self.created: Counter[str] = Counter()  # client order ids of orders created
        self.fill_slices = 1  # >1: fills come in that many trades (see _match)

    # -- account ------------------------------------------------------------------------

    def set_balances(self, balances: dict[str, str]) -> None:
        with self.lock:
            for asset, amount in balances.items():
                self.free[asset] = Decimal(str(amount))
                self.locked.setdefault(asset, Decimal(0))

    def account(self) -> dict:
        with self.lock:
            balances = [
                {"asset": a, "free": str(self.free[a]), "locked": str(self.locked.get(a, 0))}
                for a in sorted(self.free)
            ]
        return {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
            "sellerCommission": 0, "canTrade": True, "canWithdraw": True, "canDeposit": True,
            "brokered": False, "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": self.candles.now_ms(), "accountType": "SPOT",
            "balances": balances, "permissions": ["SPOT"], "uid": 1,
        }

    # -- symbols and prices -------------------------------------------------------------

    def spec(self, symbol_id: str | None) -> SymbolSpec:
        spec = self.by_id.get(symbol_id or "")
        if spec is None:
            raise ApiError(400, -1121, "Invalid symbol.")
        return spec

    def price(self, spec: SymbolSpec) -> Decimal:
        return to_decimal(self.candles.close(spec.unified), spec.tick)

    # -- orders -------------------------------------------------------------------------

    def place(self, params: dict) -> Order:
        """Validate like Binance (symbol, parameters, duplicate id, filters, balance), then
        create the order and match what can trade now."""
        with self.lock:
            spec = self.spec(params.get("symbol"))
            side, kind = params.get("side"), params.get("type")
            if side not in ("BUY", "SELL"):
                raise _missing("side")
            if kind not in ("MARKET", "LIMIT"):
                raise ApiError(400, -1116, "Invalid orderType.")
            qty = _decimal(params, "quantity")
            price = _decimal(params, "price") if kind == "LIMIT" else None
            tif = params.get("timeInForce", "GTC")
            if kind == "LIMIT" and "timeInForce" not in params:
                raise _missing("timeInForce")
            cid = params.get("newClientOrderId") or f"fake-{len(self.orders) + 1}"
            if (spec.id, cid) in self.by_cid:
                raise ApiError(400, -2010, "Duplicate order sent.")
            self._check_filters(spec, qty, price)
            now = self.candles.now_ms()
            market = self.price(spec)
            if side == "BUY":
                need = qty * (price or market) * (1 + FEE_RATE)
                self._reserve(spec.quote, need, lock=kind == "LIMIT")
            else:
                self._reserve(spec.base, qty, lock=kind == "LIMIT")
            order = Order(len(self.orders) + 1, cid, spec, side, kind, qty, price, tif, now)
            order.reserved = need if side == "BUY" else qty
            self.orders[order.order_id] = order
            self.by_cid[(spec.id, cid)] = order
            self.created[cid] += 1
            self._match(order, market, now, taker=True)
            return order

    def _check_filters(self, spec: SymbolSpec, qty: Decimal, price: Decimal | None) -> None:
        if qty < spec.min_qty or qty > spec.max_qty or qty % spec.step != 0:
            raise ApiError(400, -1013, "Filter failure: LOT_SIZE")
        if price is not None and (price <= 0 or price % spec.tick != 0):
            raise ApiError(400, -1013, "Filter failure: PRICE_FILTER")
        notional = qty * (price if price is not None else self.price(spec))
        if notional < spec.min_notional:
            raise ApiError(400, -1013, "Filter failure: NOTIONAL")

    def _reserve(self, asset: str, amount: Decimal, *, lock: bool) -> None:
        if self.free.get(asset, Decimal(0)) < amount:
            raise ApiError(400, -2010, "Account has insufficient balance for requested action.")
        if lock:
            self.free[asset] -= amount
            self.locked[asset] = self.locked.get(asset, Decimal(0)) + amount

    def _slice(self, order: Order) -> Decimal:
        left = order.qty - order.executed
        if self.fill_slices <= 1:
            return left
        part = (order.qty / self.fill_slices).quantize(order.spec.step, rounding=ROUND_DOWN)
        return min(left, max(part, order.spec.step))

    def _match(self, order: Order, market: Decimal, now: int, *, taker: bool) -> None:
        """Market orders fill now at the market price, in `fill_slices` trades. A limit
        order that crosses on arrival fills at the market price; a resting one fills one
        slice per bar at its limit when a bar trades through it (see `on_bar`)."""
        if order.type == "MARKET":
            while order.is_open:
                self._trade(order, market, self._slice(order), now, maker=False)
            return
        assert order.price is not None
        crosses = market <= order.price if order.side == "BUY" else market >= order.price
        if taker and crosses:
            self._trade(order, market, self._slice(order), now, maker=False)

    def on_bar(self, index: int) -> None:
        """Resting limit orders against 1-minute bar `index` (just made visible)."""
        with self.lock:
            for order in [o for o in self.orders.values() if o.is_open]:
                unified = order.spec.unified
                open_ms, (_, high, low, _, _) = self.candles.bar(unified, index)
                assert order.price is not None
                hit = (
                    Decimal(repr(float(low))) <= order.price
                    if order.side == "BUY"
                    else Decimal(repr(float(high))) >= order.price
                )
                if hit:
                    now = open_ms + 59_999
                    self._trade(order, order.price, self._slice(order), now, maker=True)

    def _trade(self, order: Order, price: Decimal, qty: Decimal, now: int, *, maker: bool) -> None:
        spec = order.spec
        quote = price * qty
        fee = (quote * FEE_RATE).quantize(Decimal("0.00000001"))
        if order.side == "BUY":
            if order.type == "LIMIT":
                release = order.reserved * qty / order.qty
                self.locked[spec.quote] -= release
                self.free[spec.quote] += release
            self.free[spec.quote] -= quote + fee
            self.free[spec.base] = self.free.get(spec.base, Decimal(0)) + qty
        else:
            if order.type == "LIMIT":
                self.locked[spec.base] -= qty
            else:
                self.free[spec.base] -= qty
            self.free[spec.quote] = self.free.get(spec.quote, Decimal(0)) + quote - fee
        trade = Trade(len(self.trades) + 1, order, price, qty, fee, now, maker)
        self.trades.append(trade)
        order.fills.append(trade)
        order.executed += qty
        order.quote += quote
        order.update = now
        order.status = "FILLED" if order.executed == order.qty else "PARTIALLY_FILLED"

    def find(self, params: dict) -> Order:
        """The order named by orderId or origClientOrderId, or -2013."""
        with self.lock:
            spec = self.spec(params.get("symbol"))
            order = None
            if params.get("orderId"):
                order = self.orders.get(int(params["orderId"]))
            elif params.get("origClientOrderId"):
                order = self.by_cid.get((spec.id, params["origClientOrderId"]))
            else:
                raise ApiError(
                    400, -1102,
                    "Param 'origClientOrderId' or 'orderId' must be sent, "
                    "but both were empty/null!",
                )
            if order is None or order.spec is not spec:
                raise ApiError(400, -2013, "Order does not exist.")
            return order

    def cancel(self, params: dict) -> dict:
        with self.lock:
            try:
                order = self.find(params)
            except ApiError as error:
                if error.code == -2013:
                    raise ApiError(400, -2011, "Unknown order sent.") from None
                raise
            if not order.is_open:
                raise ApiError(400, -2011, "Unknown order sent.")
            left = order.qty - order.executed
            spec = order.spec
            if order.type == "LIMIT":
                asset = spec.quote if order.side == "BUY" else spec.base
                amount = order.reserved * left / order.qty
                self.locked[asset] -= amount
                self.free[asset] += amount
            order.status = "CANCELED"
            order.update = self.candles.now_ms()
            view = order.view()
            view["origClientOrderId"] = order.cid
            view["clientOrderId"] = params.get("newClientOrderId") or f"cancel-{order.order_id}"
            view["transactTime"] = order.update
            return view

    def open_orders(self, symbol_id: str | None) -> list[dict]:
        with self.lock:
            spec = self.spec(symbol_id) if symbol_id else None
            return [
                o.view() for o in self.orders.values()
                if o.is_open and (spec is None or o.spec is spec)
            ]

    def all_orders(self, params: dict) -> list[dict]:
        with self.lock:
            spec = self.spec(params.get("symbol"))
            rows = [o for o in self.orders.values() if o.spec is spec]
            if params.get("orderId"):
                rows = [o for o in rows if o.order_id >= int(params["orderId"])]
            rows = _window(rows, params, lambda o: o.time)
            return [o.view() for o in rows]

    def my_trades(self, params: dict) -> list[dict]:
        with self.lock:
            spec = self.spec(params.get("symbol"))
            rows = [t for t in self.trades if t.order.spec is spec]
            if params.get("orderId"):
                rows = [t for t in rows if t.order.order_id == int(params["orderId"])]
            if params.get("fromId"):
                rows = [t for t in rows if t.trade_id >= int(params["fromId"])]
            rows = _window(rows, params, lambda t: t.time)
            return [t.view() for t in rows]


def _window(rows: list, params: dict, when) -> list:
    """startTime / endTime (inclusive) and limit (default 500, max 1000), oldest first."""
    if params.get("startTime"):
        rows = [r for r in rows if when(r) >= int(params["startTime"])]
    if params.get("endTime"):
        rows = [r for r in rows if when(r) <= int(params["endTime"])]
    limit = min(int(params.get("limit") or 500), 1000)
    return rows[:limit] if params.get("startTime") or params.get("fromId") else rows[-limit:]
