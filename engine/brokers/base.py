"""The broker port: where orders go and where fills come back from.

The engine talks to a broker only through these methods (and, in practice, only through
`engine.trading.risk.GatedBroker`, which checks every order against the risk gate first).

Lifecycle of an order, identified by the client order id the engine gives it:

1. `submit(order)` accepts the order and returns the broker's own id. A second submission
   with the same client order id is refused with `DuplicateOrderError`, so a restart that
   replays an intent never places it twice; the caller can `fetch_order` instead.
   A venue that refuses the order raises `OrderRejected`; one that may or may not have
   taken it (timeout) raises `OrderOutcomeUnknown`. These are the only two classes of
   each: adapters raise them and the execution manager catches them.
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


class OrderRejected(BrokerError):  # noqa: N818 - reads as what happened
    """The venue answered and definitively refused the order (insufficient balance, a
    filter, a bad symbol): nothing was placed. `reason` is the venue's own message. The
    execution manager falls back to market once, if the session says so, then fails the
    part; it never resends the same order."""

    def __init__(self, client_order_id: str, reason: str) -> None:
        super().__init__(f"order {client_order_id!r} rejected: {reason}")
        self.client_order_id = client_order_id
        self.reason = reason


class OrderOutcomeUnknown(BrokerError):  # noqa: N818 - the name says what is known
    """The order was sent and no usable answer came back (timeout, dropped connection,
    5xx): the venue may or may not have it. Never treat it as failed; the execution
    manager looks it up by its client order id before anything is resent."""

    def __init__(self, client_order_id: str, cause: str = "") -> None:
        detail = f" ({cause})" if cause else ""
        super().__init__(
            f"order {client_order_id!r}: outcome unknown{detail}; look it up by its client id"
        )
        self.client_order_id = client_order_id
        self.cause = cause


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
        client order id already seen, `InvalidOrderError` for an order it cannot take,
        `OrderRejected` when the venue refuses it and `OrderOutcomeUnknown` when whether
        the venue has it is not known."""

    @abstractmethod
    def cancel(self, client_order_id: str) -> bool:
        """Cancel the unfilled rest of an open order; False if unknown or no longer open."""

    @abstractmethod
    def fetch_order(self, client_order_id: str) -> BrokerOrder | None:
        """The broker's current view of an order, or None if it never saw it."""

    @abstractmethod
    def on_bar(self, bar: Bar) -> list[Fill]:
        """Advance to a new bar and return the fills that happened since the last call."""

