"""What a symbol is: one typed instrument model for spot, stocks and ETFs, forex pairs,
options and futures.

Every instrument has a `symbol`, a `quote` currency (prices and P&L are in it), a
`tick_size` (the smallest price step), a `lot_size` (the smallest quantity step: one
contract for options and futures, one unit for forex) and a `multiplier` (units of the
underlying per one unit of quantity: 1 for spot, stocks and forex, 100 for a standard
equity option, e.g. 50 for an E-mini S&P future). A position's value is
qty x price x multiplier (`engine.instruments.valuation`).

Amounts are `Decimal`: these numbers meet orders, fills and the store.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from engine.instruments.errors import InstrumentError
from engine.instruments.forex import pip_size

_ONE = Decimal(1)
# The desk's panes show prices and quantities to 8 places: the default step of a spot pair.
SPOT_STEP = Decimal("0.00000001")
CENT = Decimal("0.01")


class Kind(enum.StrEnum):
    SPOT = "spot"
    STOCK = "stock"
    ETF = "etf"
    FOREX = "forex"
    OPTION = "option"
    FUTURE = "future"


class OptionRight(enum.StrEnum):
    CALL = "call"
    PUT = "put"


class ExerciseStyle(enum.StrEnum):
    EUROPEAN = "european"
    AMERICAN = "american"


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """Fields every instrument has; a concrete kind adds its own."""

    kind: ClassVar[Kind]
    symbol: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    multiplier: Decimal = _ONE

    def __post_init__(self) -> None:
        if not self.symbol:
            raise InstrumentError("an instrument needs a symbol")
        if not self.quote:
            raise InstrumentError(f"{self.symbol}: quote currency is empty")
        for name in ("tick_size", "lot_size", "multiplier"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise InstrumentError(f"{self.symbol}: {name} must be a Decimal > 0, "
                                      f"got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Spot(Instrument):
    """A spot pair such as BTC/USDT: `base` bought and sold, priced in `quote`."""

    kind: ClassVar[Kind] = Kind.SPOT
    base: str
    tick_size: Decimal = SPOT_STEP
    lot_size: Decimal = SPOT_STEP


@dataclass(frozen=True, slots=True, kw_only=True)
class Stock(Instrument):
    """A share, priced in cents and traded in whole shares by default."""

    kind: ClassVar[Kind] = Kind.STOCK
    tick_size: Decimal = CENT
    lot_size: Decimal = _ONE


@dataclass(frozen=True, slots=True, kw_only=True)
class Etf(Stock):
    """An exchange-traded fund: traded like a stock."""

    kind: ClassVar[Kind] = Kind.ETF


@dataclass(frozen=True, slots=True, kw_only=True)
class ForexPair(Instrument):
    """A currency pair BASE/QUOTE: the price is units of `quote` per one unit of `base`,
    the quantity is in units of `base` (see `engine.instruments.forex` for pips and lots)."""

    kind: ClassVar[Kind] = Kind.FOREX
    base: str
    tick_size: Decimal = Decimal("0.00001")  # a fractional pip; 0.001 for JPY quotes
    lot_size: Decimal = _ONE

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        if self.base == self.quote:
            raise InstrumentError(f"{self.symbol}: base and quote are both {self.base}")

    @property
    def pip(self) -> Decimal:
        """One pip in price units: 0.0001, or 0.01 for a JPY quote."""
        return pip_size(self.quote)


@dataclass(frozen=True, slots=True, kw_only=True)
class Option(Instrument):
    """An option on `underlying`: the right to buy (call) or sell (put) `multiplier` units
    at `strike` until (American) or at (European) `expiry`. Quantity is in contracts."""

    kind: ClassVar[Kind] = Kind.OPTION
    underlying: str
    strike: Decimal
    expiry: date
    right: OptionRight
    style: ExerciseStyle = ExerciseStyle.AMERICAN
    tick_size: Decimal = CENT
    lot_size: Decimal = _ONE
    multiplier: Decimal = Decimal(100)

    def __post_init__(self) -> None:
        Instrument.__post_init__(self)
        if not isinstance(self.strike, Decimal) or not self.strike.is_finite() \
                or self.strike <= 0:
            raise InstrumentError(f"{self.symbol}: strike must be a Decimal > 0, "
                                  f"got {self.strike!r}")

    @property
    def is_call(self) -> bool:
        return self.right is OptionRight.CALL


@dataclass(frozen=True, slots=True, kw_only=True)
class Future(Instrument):
    """A futures contract on `underlying` expiring on `expiry`. Desk keeps positions,
    the multiplier and P&L for futures; it has no futures pricing model."""

    kind: ClassVar[Kind] = Kind.FUTURE
    underlying: str
    expiry: date
    lot_size: Decimal = _ONE
