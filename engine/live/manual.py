"""Manual orders: what the desk's order ticket asks for, checked and turned into an order
the kernel's trader submits through the same risk gate and executor as the engine's own.

A ticket gives a quantity or a notional (money: the quantity is the notional over the
last price, floored to the broker's quantity step), market or limit, and an executor. It is
validated here (one reason per problem, naming the field); the risk gate then judges the
order like any other, and a denial comes back with every failing rule's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

EXECUTORS = ("market", "smart", "twap", "vwap", "dca")
QTY_STEP = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """The order ticket's fields as typed (strings from the form are parsed by `parse`)."""

    symbol: str
    side: str  # "buy" | "sell"
    amount: Decimal  # a quantity, or money when `notional`
    notional: bool = False
    order_type: str = "market"  # "market" | "limit"
    limit_price: Decimal | None = None
    execution: str = "market"  # one of EXECUTORS
    reduce_only: bool = False  # closing a position: never opens the other side


@dataclass(frozen=True, slots=True)
class TicketOutcome:
    """What became of a ticket: accepted (the order id it runs as) or refused with reasons
    (a field the ticket got wrong, or every risk or compliance rule that denied it)."""

    accepted: bool
    order_id: str = ""
    qty: Decimal = Decimal(0)
    reasons: tuple[str, ...] = ()


class TicketError(ValueError):
    """A ticket field that cannot make an order; the message names the field."""


def decimal_field(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except (InvalidOperation, AttributeError):
        raise TicketError(f"{name}: not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise TicketError(f"{name}: must be a positive number, not {text!r}")
    return value


def parse(symbol: str, side: str, amount: str, *, notional: bool = False,
          order_type: str = "market", limit_price: str = "",
          execution: str = "market") -> OrderTicket:
    """A ticket from the form's text fields; TicketError names the first bad field."""
    if side not in ("buy", "sell"):
        raise TicketError(f"side: buy or sell, not {side!r}")
    if order_type not in ("market", "limit"):
        raise TicketError(f"type: market or limit, not {order_type!r}")
    if execution not in EXECUTORS:
        raise TicketError(f"executor: one of {', '.join(EXECUTORS)}, not {execution!r}")
    value = decimal_field("notional" if notional else "quantity", amount)
    limit = decimal_field("limit price", limit_price) if order_type == "limit" else None
    return OrderTicket(symbol, side, value, notional, order_type, limit, execution)


def quantity(ticket: OrderTicket, last: Decimal, step: Decimal | None) -> Decimal:
    """The order's quantity: as typed, or the notional over the price it would trade at
    (the limit price, else the last price), floored to the quantity step."""
    step = step or QTY_STEP
    if not ticket.notional:
        qty = ticket.amount // step * step
        if qty <= 0:
            raise TicketError(f"quantity: {ticket.amount} is below the step {step}")
        return qty
    price = ticket.limit_price or last
    if price <= 0:
        raise TicketError(f"{ticket.symbol}: no price yet to turn a notional into a quantity")
    qty = ticket.amount // (price * step) * step
    if qty <= 0:
        raise TicketError(f"notional: {ticket.amount} buys less than one step ({step}) at "
                          f"{price}")
    return qty
