"""A live broker over ccxt (sync): orders by client order id, fills from the trade history.

- `submit` rounds amount and price with the market's precision and checks its minimum
  amount and cost before anything is sent (an `InvalidOrderError` naming the limit), then
  creates the order with ccxt's unified `clientOrderId`. Rate limits are waited out and the
  same call retried (nothing was placed); a timeout or network error raises
  `OrderOutcomeUnknown` (the order may exist). See ccxt_errors.py.
- `fetch_order` and `cancel` address an order by its client order id, so an order whose
  creation timed out can still be found. Reads retry with exponential backoff.
- `on_bar(bar)` polls `fetch_my_trades` for the bar's symbol while this broker has orders
  there that may still fill, and turns each exchange trade into exactly one `Fill` whose
  trade_id is the exchange's trade id: polling twice never books a trade twice.

Only trades of orders this broker placed or looked up become fills; other activity on the
account is not the desk's. ccxt is imported in the constructor, not at package import.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.brokers.base import (
    Broker,
    BrokerError,
    BrokerOrder,
    DuplicateOrderError,
    InvalidOrderError,
    OrderOutcomeUnknown,
    OrderRejected,
)
from engine.types import Bar, Fill, OrderRequest, OrderSide, OrderStatus, OrderType
from engine.venues.ccxt.errors import ExchangeUnavailable, exchange_reason, scrub

# Options that keep each exchange on the endpoints a spot desk needs (no margin or futures
# market lists, no currency list: fewer requests, and fewer keys' permissions needed).
_DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {
        "fetchMarkets": {"types": ["spot"]},
        "fetchCurrencies": False,
        "fetchMargins": False,
        "defaultType": "spot",
    },
}
# The parameter naming an existing order by its client id, where it is not ccxt's unified one.
_CLIENT_ID_LOOKUP = {"binance": "origClientOrderId"}
_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.CANCELLED,
    "rejected": OrderStatus.CANCELLED,
}
_TRADES_PAGE = 1000


@dataclass
class _Tracked:
    """What this broker knows of one of its orders."""

    symbol: str
    side: OrderSide
    qty: Decimal  # as sent, after precision
    broker_id: str | None = None  # None while the outcome of its creation is unknown
    filled_seen: Decimal = Decimal(0)  # sum of the fills handed out
    closed_at: Decimal | None = None  # filled qty once the exchange says it is closed

    @property
    def settled(self) -> bool:
        """No more fills can come: all of it, or all the exchange says it filled, is booked."""
        if self.filled_seen >= self.qty:
            return True
        return self.closed_at is not None and self.filled_seen >= self.closed_at


class CcxtBroker(Broker):
    replays_fills = True  # fetch_order follows a found order's trades from then on

    def __init__(
        self,
        exchange_id: str,
        credentials: Any,
        *,
        sandbox: bool,
        urls: dict | None = None,
        timeout_ms: int = 10_000,
        options: dict | None = None,
        symbols: Iterable[str] = (),
        max_retries: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`credentials` has api_key, secret and password (store.vault.ApiCredentials).
        `urls` overrides entries of the exchange's urls['api'] (a fake exchange, a proxy).
        `symbols` are where `fetch_order` looks for a client id this broker never sent.
        `sleep` is the clock edge: tests pass one that records the waits instead."""
        import ccxt

        exchange_class = getattr(ccxt, exchange_id, None)
        if not isinstance(exchange_class, type) or not issubclass(exchange_class, ccxt.Exchange):
            raise ValueError(f"unknown ccxt exchange {exchange_id!r}")
        self._ccxt = ccxt
        self.exchange_id = exchange_id
        self.sandbox = sandbox
        self._secrets = (credentials.api_key, credentials.secret, credentials.password)
        config: dict[str, Any] = {
            "apiKey": credentials.api_key,
            "secret": credentials.secret,
            "timeout": int(timeout_ms),
            "enableRateLimit": True,
            "options": {**_DEFAULT_OPTIONS.get(exchange_id, {}), **(options or {})},
        }
        if credentials.password:
            config["password"] = credentials.password
        self._ex = exchange_class(config)
        if sandbox:
            self._ex.set_sandbox_mode(True)
        if urls:
            # After sandbox mode, which swaps the whole urls['api'] table for the test one.
            self._ex.urls["api"] = {**self._ex.urls["api"], **urls}
        self._lookup_param = _CLIENT_ID_LOOKUP.get(exchange_id, "clientOrderId")
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._lock = threading.RLock()
        self._markets_loaded = False
        self._symbols = list(symbols)
        self._orders: dict[str, _Tracked] = {}  # client order id -> order
        self._by_broker_id: dict[str, str] = {}  # exchange order id -> client order id
        self._foreign: set[str] = set()  # exchange order ids that are not ours
        self._seen: set[str] = set()  # trade ids already turned into fills
        self._since: dict[str, int | None] = {}  # symbol -> trade poll start, exchange ms

    def __repr__(self) -> str:
        return f"CcxtBroker({self.exchange_id!r}, sandbox={self.sandbox})"

    # -- the Broker port ----------------------------------------------------------------

    def submit(self, order: OrderRequest) -> str:
        cid = order.client_order_id
        if not cid:
            raise InvalidOrderError(order, "a client order id is required")
        with self._lock:
            known = self._orders.get(cid)
            # An order whose creation timed out may be sent again: the exchange refuses a
            # second order with the same client id, so a resend can never place two.
            if known is not None and known.broker_id is not None:
                raise DuplicateOrderError(cid)
            amount, price = self._checked(order)
            self._remember_symbol(order.symbol)
            # Known before sending, so a timed-out creation can be looked up by client id.
            self._orders[cid] = _Tracked(order.symbol, order.side, amount)
            self._since.setdefault(order.symbol, None)
            params = {"clientOrderId": cid}
            try:
                result = self._call(
                    "create order",
                    lambda: self._ex.create_order(
                        order.symbol,
                        order.type.value,
                        order.side.value,
                        float(amount),
                        float(price) if price is not None else None,
                        params,
                    ),
                    client_order_id=cid,
                )
            except (OrderRejected, DuplicateOrderError, ExchangeUnavailable):
                # Refused or never processed: nothing exists on the exchange for this id.
                del self._orders[cid]
                raise
            self._link(cid, result)
            return str(result["id"])

    def cancel(self, client_order_id: str) -> bool:
        with self._lock:
            tracked = self._orders.get(client_order_id)
            symbols = [tracked.symbol] if tracked else list(self._symbols)
            for symbol in symbols:
                try:
                    result = self._call(
                        "cancel order",
                        lambda s=symbol: self._ex.cancel_order(
                            None, s, {self._lookup_param: client_order_id}
                        ),
                    )
                except self._ccxt.OrderNotFound:
                    continue
                if tracked is not None and result.get("filled") is not None:
                    tracked.closed_at = _dec(result["filled"])
                return True
            return False

    def fetch_order(self, client_order_id: str) -> BrokerOrder | None:
        with self._lock:
            raw = self._fetch_raw(client_order_id)
            if raw is None:
                return None
            view = self._view(client_order_id, raw)
            tracked = self._orders.get(client_order_id)
            if tracked is None:
                # An order this broker did not send (a restart): follow its fills from now on.
                tracked = _Tracked(view.symbol, view.side, view.qty)
                self._orders[client_order_id] = tracked
                self._since[view.symbol] = _earliest(self._since.get(view.symbol), raw)
            self._link(client_order_id, raw)
            if view.status in (OrderStatus.FILLED, OrderStatus.CANCELLED):
                tracked.closed_at = view.filled_qty
            return view

    def on_bar(self, bar: Bar) -> list[Fill]:
        with self._lock:
            return self.poll_fills([bar.symbol])

    # -- beyond the port ----------------------------------------------------------------

    def poll_fills(self, symbols: Iterable[str] | None = None) -> list[Fill]:
        """New fills of this broker's orders in `symbols` (default: every symbol with an
        order that may still fill), oldest first."""
        with self._lock:
            wanted = set(symbols) if symbols is not None else None
            active = {t.symbol for t in self._orders.values() if not t.settled}
            fills: list[Fill] = []
            for symbol in sorted(active if wanted is None else active & wanted):
                fills += self._poll(symbol)
            return fills

    def quantity_step(self, symbol: str) -> Decimal | None:
        """The market's amount step (ccxt's precision, as a tick size or a digit count)."""
        if not self._markets_loaded:
            self.load_markets()
        try:
            market = self._ex.market(symbol)
        except self._ccxt.BadSymbol:
            return None
        step = (market.get("precision") or {}).get("amount")
        if step is None:
            return None
        if self._ex.precisionMode == self._ccxt.DECIMAL_PLACES:
            return Decimal(1).scaleb(-int(step))
        return _dec(step)

    def load_markets(self) -> dict:
        with self._lock:
            markets = self._call("load markets", self._ex.load_markets)
            self._markets_loaded = True
            return markets

    # -- internals ----------------------------------------------------------------------

    def _checked(self, order: OrderRequest) -> tuple[Decimal, Decimal | None]:
        """Amount and price on the market's grid, within its minimums; InvalidOrderError
        naming the limit otherwise. Amounts are truncated (never more than asked)."""
        if not self._markets_loaded:
            self.load_markets()
        if order.qty <= 0:
            raise InvalidOrderError(order, f"qty must be > 0, got {order.qty}")
        try:
            market = self._ex.market(order.symbol)
        except self._ccxt.BadSymbol:
            why = f"{self.exchange_id} has no market {order.symbol}"
            raise InvalidOrderError(order, why) from None
        price: Decimal | None = None
        if order.type == OrderType.LIMIT:
            if order.limit_price is None or order.limit_price <= 0:
                raise InvalidOrderError(order, "a limit order needs a positive limit_price")
            price = Decimal(self._ex.price_to_precision(order.symbol, str(order.limit_price)))
            if price <= 0:
                raise InvalidOrderError(order, f"limit price {order.limit_price} rounds to 0")
        try:
            amount = Decimal(self._ex.amount_to_precision(order.symbol, str(order.qty)))
        except self._ccxt.InvalidOrder:
            amount = Decimal(0)
        limits = market.get("limits") or {}
        low = (limits.get("amount") or {}).get("min")
        if amount <= 0 or (low is not None and amount < _dec(low)):
            step = (market.get("precision") or {}).get("amount")
            raise InvalidOrderError(
                order,
                f"amount {order.qty} is below the market minimum amount "
                f"(limits.amount.min {_dec(low)}, step {_dec(step)}; {amount} after precision)",
            )
        high = (limits.get("amount") or {}).get("max")
        if high is not None and amount > _dec(high):
            raise InvalidOrderError(
                order,
                f"amount {amount} is above the market maximum (limits.amount.max {_dec(high)})",
            )
        reference = price if price is not None else order.ref_price
        min_cost = (limits.get("cost") or {}).get("min")
        if reference is not None and min_cost is not None and amount * reference < _dec(min_cost):
            raise InvalidOrderError(
                order,
                f"cost {amount * reference} is below the market minimum cost "
                f"(limits.cost.min {_dec(min_cost)})",
            )
        return amount, price

    def _call(self, operation: str, request: Callable[[], Any], *, client_order_id: str = ""):
        """Run one ccxt request. Rate limits (and clock skew) are waited out and retried:
        the exchange did not process the request. Other network failures are retried for
        reads; for an order creation (`client_order_id` given) they mean the outcome is
        unknown. Exchange answers that refuse an order become OrderRejected."""
        ccxt = self._ccxt
        attempt = 0
        while True:
            try:
                return request()
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.InvalidNonce) as error:
                cause = error
                delay = max(self._backoff(attempt), self._retry_after())
            except ccxt.OrderNotFound:
                raise
            except ccxt.DuplicateOrderId:
                raise DuplicateOrderError(client_order_id) from None
            except (ccxt.InsufficientFunds, ccxt.InvalidOrder, ccxt.BadRequest) as error:
                if not client_order_id:
                    raise BrokerError(f"{operation}: {self._reason(error)}") from None
                reason = self._reason(error)
                if "Duplicate order" in reason:  # binance -2010 arrives as InvalidOrder
                    raise DuplicateOrderError(client_order_id) from None
                raise OrderRejected(client_order_id, reason) from None
            except ccxt.OperationFailed as error:  # network, timeout, 5xx, garbled answer
                if client_order_id:
                    raise OrderOutcomeUnknown(client_order_id, self._reason(error)) from None
                cause = error
                delay = self._backoff(attempt)
            except ccxt.ExchangeError as error:  # authentication, permissions, the rest
                if client_order_id:
                    raise OrderRejected(client_order_id, self._reason(error)) from None
                raise BrokerError(f"{operation}: {self._reason(error)}") from None
            if attempt >= self.max_retries:
                raise ExchangeUnavailable(operation, self._reason(cause)) from None
            attempt += 1
            self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_s * 2**attempt, self.max_backoff_s)

    def _retry_after(self) -> float:
        headers = self._ex.last_response_headers or {}
        try:
            return min(float(headers.get("Retry-After", 0)), self.max_backoff_s)
        except (TypeError, ValueError):
            return 0.0  # an HTTP date: fall back to the exponential backoff

    def _reason(self, error: Exception) -> str:
        reason = exchange_reason(error, *self._secrets)
        return reason.removeprefix(f"{self.exchange_id} ")  # ccxt's prefix, not the message

    def _remember_symbol(self, symbol: str) -> None:
        if symbol not in self._symbols:
            self._symbols.append(symbol)

    def _link(self, cid: str, raw: dict) -> None:
        tracked = self._orders.get(cid)
        if tracked is None or raw.get("id") is None:
            return
        tracked.broker_id = str(raw["id"])
        self._by_broker_id[tracked.broker_id] = cid
        self._since[tracked.symbol] = _earliest(self._since.get(tracked.symbol), raw)

    def _fetch_raw(self, cid: str) -> dict | None:
        tracked = self._orders.get(cid)
        symbols = [tracked.symbol] if tracked else list(self._symbols)
        for symbol in symbols:
            try:
                return self._call(
                    "fetch order",
                    lambda s=symbol: self._ex.fetch_order(None, s, {self._lookup_param: cid}),
                )
            except self._ccxt.OrderNotFound:
                continue
        return None

    def _view(self, cid: str, raw: dict) -> BrokerOrder:
        filled = _dec(raw.get("filled") or 0)
        status = _STATUS.get(raw.get("status") or "")
        if status is None:  # open (or unknown): by what has filled
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.SUBMITTED
        kind = raw.get("type")
        average = raw.get("average")
        if average is None and filled > 0 and raw.get("cost"):
            average = _dec(raw["cost"]) / filled
        return BrokerOrder(
            client_order_id=cid,
            broker_order_id=str(raw["id"]),
            symbol=raw["symbol"],
            side=OrderSide(raw["side"]),
            type=OrderType.MARKET if kind == "market" else OrderType.LIMIT,
            qty=_dec(raw.get("amount") or 0),
            limit_price=_dec(raw["price"]) if kind == "limit" and raw.get("price") else None,
            status=status,
            filled_qty=filled,
            avg_price=_dec(average) if average is not None else None,
        )

    def _poll(self, symbol: str) -> list[Fill]:
        fills: list[Fill] = []
        while True:
            since = self._since.get(symbol)
            trades = self._call(
                "fetch my trades",
                lambda since=since: self._ex.fetch_my_trades(
                    symbol, since=since, limit=_TRADES_PAGE
                ),
            )
            fresh = [t for t in trades if str(t["id"]) not in self._seen]
            for trade in fresh:
                fill = self._fill(symbol, trade)
                if fill is not None:
                    fills.append(fill)
            stamps = [t["timestamp"] for t in trades if t.get("timestamp") is not None]
            if stamps:
                # Inclusive on the next poll: trades sharing the last millisecond come back
                # and are skipped by id.
                self._since[symbol] = max(stamps)
            if len(trades) < _TRADES_PAGE or not fresh:
                return fills

    def _fill(self, symbol: str, trade: dict) -> Fill | None:
        broker_id = str(trade.get("order"))
        cid = self._by_broker_id.get(broker_id)
        if cid is None and broker_id not in self._foreign:
            cid = self._claim(symbol, broker_id)
        if cid is None:
            return None  # not an order of this desk
        trade_id = str(trade["id"])
        self._seen.add(trade_id)
        tracked = self._orders[cid]
        qty, price = _dec(trade["amount"]), _dec(trade["price"])
        tracked.filled_seen += qty
        fee, fee_currency = self._fee_in_quote(symbol, trade, price)
        return Fill(
            client_order_id=cid,
            trade_id=trade_id,
            symbol=symbol,
            side=OrderSide(trade.get("side") or tracked.side.value),
            qty=qty,
            price=price,
            fee=fee,
            ts=datetime.fromtimestamp(trade["timestamp"] / 1000, tz=UTC),
            extra={
                "broker_order_id": broker_id,
                "fee_currency": fee_currency,
                "taker_or_maker": trade.get("takerOrMaker"),
            },
        )

    def _claim(self, symbol: str, broker_id: str) -> str | None:
        """The client id of an exchange order seen only in the trades (its creation timed
        out): ours if it is one this broker sent."""
        try:
            raw = self._call("fetch order", lambda: self._ex.fetch_order(broker_id, symbol))
        except self._ccxt.OrderNotFound:
            raw = None
        cid = (raw or {}).get("clientOrderId")
        if cid not in self._orders:
            self._foreign.add(broker_id)
            return None
        self._link(cid, raw)
        return cid

    def _fee_in_quote(self, symbol: str, trade: dict, price: Decimal) -> tuple[Decimal, str]:
        fee = trade.get("fee") or {}
        cost, currency = fee.get("cost"), fee.get("currency") or ""
        if cost is None:
            return Decimal(0), currency
        amount = _dec(cost)
        market = self._ex.markets.get(symbol) or {}
        if currency and currency == market.get("base"):
            amount *= price  # charged in the asset bought: its value in the quote
        return amount, currency


def _dec(value: Any) -> Decimal:
    # ccxt parses the exchange's strings to floats; its number_to_string gives back the
    # shortest decimal that round-trips (no "59000.0", no exponent): the string sent.
    from ccxt.base.decimal_to_precision import number_to_string

    if isinstance(value, Decimal):
        return value
    return Decimal(number_to_string(value))


def _earliest(since: int | None, raw: dict) -> int | None:
    stamp = raw.get("timestamp")
    if stamp is None:
        return since
    return stamp if since is None else min(since, stamp)


def from_config(cfg: Any, vault: Any, passphrase: str, **kwargs: Any) -> CcxtBroker:
    """The broker for `cfg.broker` ([broker] exchange and sandbox), with the vault's keys
    for that exchange. `kwargs` go to CcxtBroker (urls, timeout_ms, symbols, ...)."""
    broker = cfg.broker
    credentials = vault.get(broker.exchange, passphrase)
    kwargs.setdefault("symbols", getattr(cfg.feed, "symbols", ()))
    return CcxtBroker(broker.exchange, credentials, sandbox=broker.sandbox, **kwargs)


__all__ = ["CcxtBroker", "from_config", "scrub"]
