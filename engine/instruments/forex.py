"""Forex arithmetic: pip size, pip value in the account currency, lots.

Conventions:
- A pair BASE/QUOTE is priced in QUOTE per one BASE; a position is a number of BASE units.
- One pip is 0.0001 of the price, or 0.01 when the quote currency is JPY.
- The value of one pip for `units` of the pair is units x pip size, in the QUOTE currency.
  In another account currency it is converted at the market rate between the two
  currencies, quoted the way the market quotes that pair (`market_pair`): EUR/GBP in a USD
  account goes through GBP/USD, USD/JPY in a EUR account through EUR/JPY.
- Lots: standard 100,000 units of the base, mini 10,000, micro 1,000.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from engine.instruments.errors import InstrumentError

PIP = Decimal("0.0001")
JPY_PIP = Decimal("0.01")

# The market's order of precedence: the currency earlier in this list is the base of the
# pair that trades (EUR/USD, GBP/USD, USD/JPY, EUR/GBP, AUD/NZD ...).
_PRECEDENCE = ("EUR", "GBP", "AUD", "NZD", "USD", "CAD", "CHF", "JPY")

# Fiat currencies whose pairs are forex (not spot crypto): ISO 4217 codes that trade.
FIAT = frozenset({
    "AUD", "BRL", "CAD", "CHF", "CNH", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF",
    "ILS", "INR", "JPY", "KRW", "MXN", "NOK", "NZD", "PLN", "RUB", "SEK", "SGD", "THB",
    "TRY", "TWD", "USD", "ZAR",
})


class LotSize(enum.Enum):
    STANDARD = Decimal(100_000)
    MINI = Decimal(10_000)
    MICRO = Decimal(1_000)

    @property
    def label(self) -> str:
        return self.name.lower()


def split_pair(pair: str) -> tuple[str, str]:
    """"EUR/USD" -> ("EUR", "USD"); also accepts EURUSD and EUR-USD. Both must be fiat."""
    text = pair.strip().upper()
    if "/" in text or "-" in text:
        parts = text.replace("-", "/").split("/")
    else:
        parts = [text[:3], text[3:]] if len(text) == 6 else [text]
    if len(parts) != 2 or not all(len(p) == 3 and p.isalpha() for p in parts):
        raise InstrumentError(f"{pair!r} is not a currency pair like EUR/USD")
    base, quote = parts
    for code in (base, quote):
        if code not in FIAT:
            raise InstrumentError(f"{pair}: {code} is not a known fiat currency")
    if base == quote:
        raise InstrumentError(f"{pair}: base and quote are both {base}")
    return base, quote


def pip_size(quote: str) -> Decimal:
    """0.01 for a JPY quote, 0.0001 otherwise."""
    return JPY_PIP if quote.upper() == "JPY" else PIP


def market_pair(a: str, b: str) -> str:
    """The pair of two currencies as the market quotes it: ("USD", "GBP") -> "GBP/USD"."""
    a, b = a.upper(), b.upper()

    def rank(code: str) -> int:
        return _PRECEDENCE.index(code) if code in _PRECEDENCE else len(_PRECEDENCE)

    first, second = sorted((a, b), key=lambda c: (rank(c), c))
    return f"{first}/{second}"


@dataclass(frozen=True, slots=True)
class PipValue:
    """One pip of a position, in the quote currency and in the account currency."""

    pair: str
    units: Decimal
    pip: Decimal  # pip size, in price units
    in_quote: Decimal  # value of one pip, quote currency
    account: str
    in_account: Decimal  # value of one pip, account currency
    conversion_pair: str | None  # the market pair used to convert (None: no conversion)
    conversion_rate: Decimal | None


def pip_value(pair: str, units: Decimal, account: str | None = None,
              rate: Decimal | None = None) -> PipValue:
    """The value of one pip of `units` of `pair` (negative units: a short, same size).

    `account` defaults to the quote currency (no conversion). Otherwise `rate` is the price
    of `market_pair(quote, account)`, e.g. GBP/USD for EUR/GBP in a USD account, and of the
    pair itself when the account currency is its base (EUR/USD in a EUR account).
    """
    base, quote = split_pair(pair)
    account = (account or quote).upper()
    if len(account) != 3 or not account.isalpha():
        raise InstrumentError(f"account currency {account!r} is not a currency code")
    pip = pip_size(quote)
    in_quote = abs(units) * pip
    name = f"{base}/{quote}"
    if account == quote:
        return PipValue(name, units, pip, in_quote, account, in_quote, None, None)
    conversion = market_pair(quote, account)
    if rate is None:
        raise InstrumentError(f"{name} in a {account} account needs the {conversion} rate")
    if not rate.is_finite() or rate <= 0:
        raise InstrumentError(f"{conversion} rate must be > 0, got {rate}")
    # quote -> account: multiply when the market pair is QUOTE/ACCOUNT, divide otherwise.
    in_account = in_quote * rate if conversion.startswith(quote) else in_quote / rate
    return PipValue(name, units, pip, in_quote, account, in_account, conversion, rate)


def units_for_lots(lots: Decimal, size: LotSize = LotSize.STANDARD) -> Decimal:
    """Units of the base currency in `lots` lots of `size`."""
    return lots * size.value


def lots_for_units(units: Decimal, size: LotSize = LotSize.STANDARD) -> Decimal:
    """How many lots of `size` `units` make (a fraction when they do not divide)."""
    return units / size.value
