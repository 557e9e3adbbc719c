"""The broker port: where orders go and where fills come back from.

The engine talks to a broker only through these methods (and, in practice, only through
`engine.risk.GatedBroker`, which checks every order against the risk gate first).

Lifecycle of an order, identified by the client order id the engine gives it:

1. `submit(order)` accepts the order and returns the broker's own id. A second submission
   with the same client order id is refused with `DuplicateOrderError`, so a restart that
   replays an intent never places it twice; the caller can `fetch_order` instead.
2. Fills come back from `on_bar(bar)`, which the engine calls once per new bar before it
   asks the strategies for decisions. A paper broker matches its pending orders against
   that bar; a live broker polls the venue for fills since the previous call and may
   ignore the bar's content.
3. `cancel` stops what has not filled yet; `fetch_order` reports status, filled quantity
   and average price at any time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from engine.types import Bar, Fill, OrderRequest, OrderSide, OrderStatus, OrderType


class BrokerError(Exception):
    """A broker refused or could not handle a request."""


class DuplicateOrderError(BrokerError):
    """An order with this client order id was already submitted."""

    def __init__(self, client_order_id: str) -> None:
        super().__init__(f"order {client_order_id!r} was already submitted")
        self.client_order_id = client_order_id


class InvalidOrderError(BrokerError):
    """An order the broker cannot accept as written (no id, bad quantity, missing limit)."""

    def __init__(self, order: OrderRequest, why: str) -> None:
        super().__init__(f"order {order.client_order_id!r} refused: {why}")
        self.order = order
        self.why = why


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """The broker's view of one order."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    status: OrderStatus  # SUBMITTED, PARTIALLY_FILLED, FILLED or CANCELLED
    filled_qty: Decimal
    avg_price: Decimal | None  # average fill price; None before the first fill

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)


class Broker(ABC):
    """Port to a venue, real or simulated. See the module docstring for the lifecycle."""

    # True when `fetch_order` of an order sent by an earlier process makes that order's
    # fills come through `on_bar` (an exchange lists its trades). Recovery then waits for
    # the real fills instead of booking one reconciliation fill per order.
    replays_fills: bool = False

    def quantity_step(self, symbol: str) -> Decimal | None:
        """The venue's smallest quantity increment for `symbol`, or None if any quantity
        goes (the paper broker). Sizes and execution parts are put on this grid so that
        what is sent is exactly what was planned."""
        return None

    @abstractmethod
    def submit(self, order: OrderRequest) -> str:
        """Accept an order; return the broker order id. Raises `DuplicateOrderError` for a
        client order id already seen and `InvalidOrderError` for an order it cannot take."""

    @abstractmethod
    def cancel(self, client_order_id: str) -> bool:
        """Cancel the unfilled rest of an open order; False if unknown or no longer open."""

    @abstractmethod
    def fetch_order(self, client_order_id: str) -> BrokerOrder | None:
        """The broker's current view of an order, or None if it never saw it."""

    @abstractmethod
    def on_bar(self, bar: Bar) -> list[Fill]:
        """Advance to a new bar and return the fills that happened since the last call."""

