"""A simulated broker: market and limit orders filled against the next bar.

A decision taken on bar t's close cannot trade at that close: an order submitted after bar
t of its symbol stays pending until `on_bar` brings a later bar of that symbol, and fills
against that bar:

- market orders at its open, moved against the trader by `slippage_bps`
  (a buy pays more, a sell receives less);
- limit buys if low <= limit, at min(open, limit); limit sells if high >= limit, at
  max(open, limit). No slippage: a limit is a price guarantee.

Fees are `fee` * notional. With `partial_fills`, a bar offers at most
`max_volume_fraction` of its volume, shared by that symbol's orders oldest first; what is
left stays pending for later bars. Trade ids are `<client order id>-<n>`, n counting the
order's fills from 1, so a replay produces the same ids.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from engine.brokers.base import (
    Broker,
    BrokerOrder,
    DuplicateOrderError,
    InvalidOrderError,
)
from engine.types import Bar, Fill, OrderRequest, OrderSide, OrderStatus, OrderType

_BPS = Decimal(10000)


class _PaperOrder:
    __slots__ = ("request", "broker_id", "status", "filled", "cost", "fills", "after")

    def __init__(self, request: OrderRequest, broker_id: str, after: datetime | None) -> None:
        self.request = request
        self.broker_id = broker_id
        self.status = OrderStatus.SUBMITTED
        self.filled = Decimal(0)
        self.cost = Decimal(0)  # sum of qty * price over fills
        self.fills = 0
        self.after = after  # fills only on bars strictly later than this one

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)

    def view(self) -> BrokerOrder:
        r = self.request
        return BrokerOrder(
            client_order_id=r.client_order_id,
            broker_order_id=self.broker_id,
            symbol=r.symbol,
            side=r.side,
            type=r.type,
            qty=r.qty,
            limit_price=r.limit_price,
            status=self.status,
            filled_qty=self.filled,
            avg_price=self.cost / self.filled if self.filled else None,
        )


class PaperBroker(Broker):
    def __init__(
        self,
        fee: Decimal,
        slippage_bps: Decimal,
        partial_fills: bool = False,
        max_volume_fraction: Decimal = Decimal("0.1"),
        multiplier: Callable[[str], Decimal] | None = None,
        keep_done: bool = True,
    ) -> None:
        """`multiplier(symbol)`: the instrument's contract multiplier, so a fee on notional
        is charged on qty x price x multiplier (default 1).

        `keep_done=False` (backtests) forgets an order once it is filled or cancelled:
        `fetch_order` no longer finds it and its id is no longer checked for duplicates.
        A run's client ids are unique by construction, and a run at high turnover would
        otherwise hold every order it ever placed."""
        if fee < 0 or slippage_bps < 0:
            raise ValueError("fee and slippage_bps must be >= 0")
        if partial_fills and not 0 < max_volume_fraction <= 1:
            raise ValueError("max_volume_fraction must be in (0, 1]")
        self.fee = Decimal(fee)
        self._multiplier = multiplier
        self.slippage_bps = Decimal(slippage_bps)
        self.partial_fills = partial_fills
        self.max_volume_fraction = Decimal(max_volume_fraction)
        self._orders: dict[str, _PaperOrder] = {}
        self._keep_done = keep_done
        self._submitted = 0
        # Open orders per symbol, oldest first: a bar looks only at these, so a long
        # backtest does not walk every order it ever placed.
        self._open: dict[str, dict[str, _PaperOrder]] = {}
        self._last_bar: dict[str, datetime] = {}

    def submit(self, order: OrderRequest) -> str:
        if not order.client_order_id:
            raise InvalidOrderError(order, "a client order id is required")
        if order.client_order_id in self._orders:
            raise DuplicateOrderError(order.client_order_id)
        if order.qty <= 0:
            raise InvalidOrderError(order, f"qty must be > 0, got {order.qty}")
        if order.type == OrderType.LIMIT and (order.limit_price is None or order.limit_price <= 0):
            raise InvalidOrderError(order, "a limit order needs a positive limit_price")
        self._submitted += 1
        broker_id = f"paper-{self._submitted}"
        paper = _PaperOrder(order, broker_id, self._last_bar.get(order.symbol))
        self._orders[order.client_order_id] = paper
        self._open.setdefault(order.symbol, {})[order.client_order_id] = paper
        return broker_id

    def cancel(self, client_order_id: str) -> bool:
        o = self._orders.get(client_order_id)
        if o is None or not o.is_open:
            return False
        o.status = OrderStatus.CANCELLED
        del self._open[o.request.symbol][client_order_id]
        if not self._keep_done:
            del self._orders[client_order_id]
        return True

    def fetch_order(self, client_order_id: str) -> BrokerOrder | None:
        o = self._orders.get(client_order_id)
        return o.view() if o is not None else None

    def open_orders(self, symbol: str | None = None) -> list[BrokerOrder]:
        books = self._open.values() if symbol is None else [self._open.get(symbol, {})]
        return [o.view() for book in books for o in book.values()]

    def on_bar(self, bar: Bar) -> list[Fill]:
        last = self._last_bar.get(bar.symbol)
        if last is not None and bar.ts <= last:
            return []  # a bar already seen (or older): nothing new can trade
        self._last_bar[bar.symbol] = bar.ts
        budget = (
            self.max_volume_fraction * _dec(bar.volume) if self.partial_fills else None
        )
        fills: list[Fill] = []
        book = self._open.get(bar.symbol, {})
        for o in list(book.values()):
            if budget is not None and budget <= 0:
                break
            if o.after is not None and bar.ts <= o.after:
                continue
            price = self._match_price(o.request, bar)
            if price is None:
                continue
            qty = o.request.qty - o.filled
            if budget is not None:
                qty = min(qty, budget)
                budget -= qty
            fills.append(self._fill(o, qty, price, bar.ts))
            if not o.is_open:
                del book[o.request.client_order_id]
                if not self._keep_done:
                    del self._orders[o.request.client_order_id]
        return fills

    def _match_price(self, order: OrderRequest, bar: Bar) -> Decimal | None:
        open_ = _dec(bar.open)
        buy = order.side == OrderSide.BUY
        if order.type == OrderType.MARKET:
            slip = self.slippage_bps / _BPS
            return open_ * (1 + slip) if buy else open_ * (1 - slip)
        limit = order.limit_price
        assert limit is not None  # checked at submit
        if buy:
            return min(open_, limit) if _dec(bar.low) <= limit else None
        return max(open_, limit) if _dec(bar.high) >= limit else None

    def _fill(self, o: _PaperOrder, qty: Decimal, price: Decimal, ts: datetime) -> Fill:
        o.fills += 1
        o.filled += qty
        o.cost += qty * price
        o.status = (
            OrderStatus.FILLED if o.filled == o.request.qty else OrderStatus.PARTIALLY_FILLED
        )
        r = o.request
        fee = self.fee * qty * price
        if self._multiplier is not None:
            fee *= self._multiplier(r.symbol)
        return Fill(
            client_order_id=r.client_order_id,
            trade_id=f"{r.client_order_id}-{o.fills}",
            symbol=r.symbol,
            side=r.side,
            qty=qty,
            price=price,
            fee=fee,
            ts=ts,
            extra={"broker_order_id": o.broker_id, "remaining": r.qty - o.filled},
        )


def _dec(x: float) -> Decimal:
    # str() gives the shortest repr, so 101.3 becomes Decimal("101.3"), not its binary tail.
    return Decimal(str(x))
