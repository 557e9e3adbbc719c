"""Domain types shared by the engine: bars, signals, orders and fills.

Money and quantities are `Decimal` here, at the edge where orders, fills and the journal
meet; numeric algorithms work on float arrays inside.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class Side(enum.IntEnum):
    """A strategy's or the ensemble's opinion; the integer is used in signal arrays."""

    SELL = -1
    HOLD = 0
    BUY = 1

    @property
    def label(self) -> str:
        return self.name


class OrderSide(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(enum.StrEnum):
    PROPOSED = "proposed"  # waiting for approval
    APPROVED = "approved"
    REJECTED = "rejected"  # by the user
    EXPIRED = "expired"  # approval timed out
    DENIED = "denied"  # by the risk gate
    SUBMITTED = "submitted"  # intent journaled, sent to the broker
    UNKNOWN = "unknown"  # sent, outcome not known (timeout, network error)
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Bar:
    symbol: str
    ts: datetime  # bar open time, UTC
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the engine wants to trade, before risk and approval."""

    symbol: str
    side: OrderSide
    qty: Decimal
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    reason: str = ""
    strategy: str = ""
    client_order_id: str = ""
    ref_price: Decimal | None = None  # price the decision was made at (arrival price)
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class Fill:
    client_order_id: str
    trade_id: str
    symbol: str
    side: OrderSide
    qty: Decimal
    price: Decimal
    fee: Decimal
    ts: datetime
    extra: dict = field(default_factory=dict)
