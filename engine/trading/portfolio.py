"""Positions, cash and P&L of one account, in Decimal.

Each symbol keeps a signed quantity (negative = short) and a signed cost basis: the sum of
qty * price of the fills that built the open position. The average entry price is
cost / qty. Keeping the cost basis instead of a rounded average makes the books balance
exactly: equity - initial cash == realized + unrealized - fees, with no drift however many
fills pass through.

- Adding to a position (same direction) adds qty * price to the cost: a weighted average.
- Reducing removes the reduced share of the cost; the average price is unchanged.
  Realized P&L is what the reduction brought in minus the cost it removed.
- A fill that flips the position closes the old one in full and opens the rest at the
  fill price.
- Fees reduce cash and are tracked per symbol and in total; realized P&L excludes them.

Quantities and prices are per unit of the instrument; its multiplier (an option's 100
shares, a future's point value, 1 for spot) turns them into money: value = qty x price x
multiplier. The cost basis and the average price stay per unit; cash, P&L, equity and
exposure are money.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

from engine.types import Fill, OrderSide

_ZERO = Decimal(0)
_ONE = Decimal(1)
# The share of cost removed by a partial reduction is the one inexact step (a division).
# It is computed with extra digits and quantized, so every later sum stays exact within
# Decimal's default 28 digits for realistic magnitudes (cost basis below 1e10).
_COST_QUANTUM = Decimal("1e-18")
_WIDE = Context(prec=56)


class InvalidFillError(ValueError):
    """A fill with a non-positive quantity or price, or a negative fee."""

    def __init__(self, fill: Fill, why: str) -> None:
        super().__init__(f"invalid fill {fill.trade_id or fill.client_order_id}: {why}")
        self.fill = fill


@dataclass(frozen=True, slots=True)
class Position:
    """A read-only view of one symbol's position at the last mark."""

    symbol: str
    qty: Decimal  # signed: negative for a short
    avg_price: Decimal  # 0 when flat
    realized_pnl: Decimal  # before fees
    fees: Decimal
    last: Decimal  # last mark (or last fill price before any mark); 0 if never seen
    unrealized: Decimal  # money
    multiplier: Decimal = Decimal(1)  # money per unit of qty x price

    @property
    def side(self) -> str:
        return "long" if self.qty > 0 else "short" if self.qty < 0 else "flat"

    @property
    def notional(self) -> Decimal:
        """Signed market value at the last mark, in money."""
        return self.qty * self.last * self.multiplier


class _Book:
    """Mutable per-symbol state behind a `Position` view."""

    __slots__ = ("qty", "cost", "realized", "fees", "last", "mult")

    def __init__(self, mult: Decimal = _ONE) -> None:
        self.mult = mult  # money per unit of qty x price
        self.qty = _ZERO
        self.cost = _ZERO  # signed: sum of qty * price of the open position
        self.realized = _ZERO
        self.fees = _ZERO
        self.last = _ZERO

    def apply(self, signed_qty: Decimal, price: Decimal) -> None:
        if self.qty == 0 or (self.qty > 0) == (signed_qty > 0):
            self.qty += signed_qty
            self.cost += signed_qty * price
            return
        closing = min(abs(signed_qty), abs(self.qty))
        if closing == abs(self.qty):
            removed = self.cost
        else:
            with localcontext(_WIDE):
                removed = (self.cost * closing / abs(self.qty)).quantize(_COST_QUANTUM)
        closed_signed = -closing if signed_qty < 0 else closing
        # Cash received for the closed part is -closed_signed * price (x the multiplier).
        gain = -closed_signed * price - removed
        self.realized += gain if self.mult == 1 else gain * self.mult
        self.cost -= removed
        self.qty += closed_signed
        opening = signed_qty - closed_signed
        if opening != 0:  # flip: the remainder opens a fresh position at the fill price
            self.qty += opening
            self.cost += opening * price

    def view(self, symbol: str) -> Position:
        avg = self.cost / self.qty if self.qty != 0 else _ZERO
        return Position(
            symbol=symbol,
            qty=self.qty,
            avg_price=avg,
            realized_pnl=self.realized,
            fees=self.fees,
            last=self.last,
            unrealized=self.unrealized(),
            multiplier=self.mult,
        )

    def value(self) -> Decimal:
        """Signed market value at the last mark, in money."""
        value = self.qty * self.last
        return value if self.mult == 1 else value * self.mult

    def unrealized(self) -> Decimal:
        gain = self.qty * self.last - self.cost
        return gain if self.mult == 1 else gain * self.mult


class Portfolio:
    """Cash and multi-symbol positions, updated by fills and marked to market."""

    def __init__(self, cash: Decimal,
                 multiplier: Callable[[str], Decimal] | None = None) -> None:
        """`multiplier(symbol)`: the instrument's contract multiplier (default 1)."""
        self._initial_cash = Decimal(cash)
        self._cash = Decimal(cash)
        self._books: dict[str, _Book] = {}
        self._multiplier = multiplier
        # Counts every change of cash, quantities and marks: whoever derives something from
        # the book (the risk gate's verdict, `equity` below) can tell that nothing moved since.
        self.version = 0
        self._equity: tuple[int, Decimal] = (-1, _ZERO)  # (version, equity at it)

    def multiplier(self, symbol: str) -> Decimal:
        return _ONE if self._multiplier is None else Decimal(self._multiplier(symbol))

    def _book(self, symbol: str) -> _Book:
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = _Book(self.multiplier(symbol))
        return book

    def apply_fill(self, fill: Fill) -> None:
        """Book a fill (`position` tells the result: a backtest books a million fills and
        reads none of their positions)."""
        if fill.qty <= 0:
            raise InvalidFillError(fill, f"qty must be > 0, got {fill.qty}")
        if fill.price <= 0:
            raise InvalidFillError(fill, f"price must be > 0, got {fill.price}")
        if fill.fee < 0:
            raise InvalidFillError(fill, f"fee must be >= 0, got {fill.fee}")
        signed = fill.qty if fill.side == OrderSide.BUY else -fill.qty
        book = self._book(fill.symbol)
        book.apply(signed, fill.price)
        book.fees += fill.fee
        # A fill is a trade at a market price: the freshest mark we have for the symbol.
        book.last = fill.price
        paid = signed * fill.price
        self._cash -= (paid if book.mult == 1 else paid * book.mult) + fill.fee
        self.version += 1  # last: a reader on another thread never caches a half-booked fill

    def mark(self, symbol: str, price: Decimal) -> None:
        """Set the last price of a symbol (held or not) for unrealized P&L and equity."""
        if price <= 0:
            raise ValueError(f"mark price for {symbol} must be > 0, got {price}")
        book = self._book(symbol)
        if book.last != price:
            book.last = Decimal(price)
            self.version += 1

    def position(self, symbol: str) -> Position:
        book = self._books.get(symbol)
        return (book or _Book()).view(symbol)

    def qty(self, symbol: str) -> Decimal:
        """The signed quantity held (what most callers want, without building a view)."""
        book = self._books.get(symbol)
        return _ZERO if book is None else book.qty

    def positions(self, include_flat: bool = False) -> tuple[Position, ...]:
        """Open positions sorted by symbol; with include_flat, every symbol ever traded or
        marked (closed positions keep their realized P&L and fees)."""
        return tuple(
            b.view(s)
            for s, b in sorted(self._books.items())
            if include_flat or b.qty != 0
        )

    def last_price(self, symbol: str) -> Decimal | None:
        book = self._books.get(symbol)
        return book.last if book is not None and book.last > 0 else None

    @property
    def initial_cash(self) -> Decimal:
        return self._initial_cash

    @property
    def cash(self) -> Decimal:
        return self._cash

    @property
    def equity(self) -> Decimal:
        # Read several times an order (sizing, each check of the gate) between two changes
        # of the book, so kept per version. The version is read before the sum: a change
        # booked meanwhile (the desk reads from its own thread) is then newer than the kept.
        current = self.version
        version, equity = self._equity
        if version != current:
            equity = self._cash + sum((b.value() for b in self._books.values()), _ZERO)
            self._equity = (current, equity)
        return equity

    @property
    def realized_pnl(self) -> Decimal:
        return sum((b.realized for b in self._books.values()), _ZERO)

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((b.unrealized() for b in self._books.values()), _ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((b.fees for b in self._books.values()), _ZERO)

    def exposure(self) -> dict[str, Decimal]:
        """Symbol -> signed notional at the last mark, for open positions."""
        return {s: b.value() for s, b in sorted(self._books.items()) if b.qty != 0}

    @property
    def gross_exposure(self) -> Decimal:
        return sum((abs(v) for v in self.exposure().values()), _ZERO)
