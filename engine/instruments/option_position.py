"""An option position's Greeks and its value at expiry, with the contract multiplier.

What the risk side needs from an option book: the Greeks of `qty` contracts (per-unit
Greeks x qty x multiplier: delta becomes the share-equivalent exposure, vega the money
per 1.00 of volatility), and the payoff that settles a position at expiry. Conventions
are those of `engine.instruments.black_scholes`; years to expiry count calendar days / 365.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.instruments.black_scholes import OptionValues, black_scholes
from engine.instruments.calculator import years_until
from engine.instruments.errors import InstrumentError
from engine.instruments.model import Option


def payoff(option: Option, underlying: Decimal) -> Decimal:
    """Exercise value per unit of the underlying at `underlying`: max(S - K, 0) for a call,
    max(K - S, 0) for a put. Times the multiplier (valuation.notional) per contract."""
    intrinsic = underlying - option.strike if option.is_call else option.strike - underlying
    return max(intrinsic, Decimal(0))


def position_values(option: Option, qty: float, spot: float, vol: float, rate: float,
                    today: date, div: float = 0.0) -> OptionValues:
    """Value and Greeks of `qty` contracts (signed: < 0 is written) on `today`, priced as a
    European option: each per-unit figure x qty x multiplier. An expired option (expiry on
    or before `today`) has no Greeks: settle it with `payoff`."""
    years = years_until(option.expiry, today)
    if years <= 0:
        raise InstrumentError(f"{option.symbol}: expired on {option.expiry.isoformat()}; "
                              "settle it at its payoff")
    unit = black_scholes(option.is_call, spot, float(option.strike), years, rate, vol, div)
    scale = qty * float(option.multiplier)
    return OptionValues(*(getattr(unit, name) * scale for name in
                          ("price", "delta", "gamma", "vega", "theta", "rho")))
