"""One option, priced: what `desk price option` and the desk's options calculator show.

Scalar front end over the vectorized `black_scholes` and `implied_vol`. With a market
price and no volatility, the Greeks are taken at the implied volatility; with both, at the
volatility given, and the implied volatility is reported beside them. A price outside the
no-arbitrage bounds is an `InstrumentError` naming the reason, never a number.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date

from engine.instruments.black_scholes import DAYS_PER_YEAR, black_scholes
from engine.instruments.errors import InstrumentError
from engine.instruments.implied_vol import Reason, implied_vol


class NoImpliedVolError(InstrumentError):
    """A market price no volatility reproduces: carries the price and the `Reason`."""

    def __init__(self, price: float, reason: Reason) -> None:
        super().__init__(f"price {price:g}: {reason.message}")
        self.price, self.reason = price, reason


@dataclass(frozen=True, slots=True)
class OptionInputs:
    call: bool
    spot: float
    strike: float
    years: float  # to expiry
    rate: float  # continuously compounded, 0.05 = 5 %
    vol: float | None  # annualized; None: solve it from `price`
    div: float = 0.0  # continuous dividend yield
    price: float | None = None  # a market price to solve the implied volatility from


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """Per unit of the underlying. vega and rho per 1.00, theta per year (as the JSON
    output); the *_pct and *_day fields are the same Greeks per 1 % and per calendar day."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float
    implied_vol: float | None
    vol: float  # the volatility the Greeks were computed at
    vega_pct: float
    theta_day: float
    rho_pct: float

    def json_fields(self) -> dict[str, float | None]:
        """The keys of `desk price option --json`."""
        keys = ("price", "delta", "gamma", "vega", "theta", "rho", "implied_vol")
        return {k: v for k, v in asdict(self).items() if k in keys}


def years_until(expiry: date, today: date) -> float:
    """Calendar days from `today` to `expiry`, / 365 (the convention of theta per day)."""
    return (expiry - today).days / DAYS_PER_YEAR


def price_option(inputs: OptionInputs) -> OptionQuote:
    """Price and Greeks of one European option; see the module docstring."""
    _check(inputs)
    iv: float | None = None
    if inputs.price is not None:
        solved = implied_vol(inputs.call, inputs.price, inputs.spot, inputs.strike,
                             inputs.years, inputs.rate, inputs.div)
        if int(solved.reason) != Reason.SOLVED:
            raise NoImpliedVolError(inputs.price, Reason(int(solved.reason)))
        iv = float(solved.vol)
    vol = inputs.vol if inputs.vol is not None else iv
    if vol is None:
        raise InstrumentError("give a volatility or a market price to solve it from")
    v = black_scholes(inputs.call, inputs.spot, inputs.strike, inputs.years, inputs.rate,
                      vol, inputs.div)
    return OptionQuote(
        price=float(v.price), delta=float(v.delta), gamma=float(v.gamma),
        vega=float(v.vega), theta=float(v.theta), rho=float(v.rho), implied_vol=iv,
        vol=float(vol), vega_pct=float(v.vega_pct), theta_day=float(v.theta_day),
        rho_pct=float(v.rho_pct),
    )


def _check(inputs: OptionInputs) -> None:
    """Bad input is one line naming the quantity, never a NaN in the output."""
    positive = {"spot": inputs.spot, "strike": inputs.strike, "expiry": inputs.years}
    if inputs.vol is not None:
        positive["vol"] = inputs.vol
    if inputs.price is not None:
        positive["price"] = inputs.price
    for name, value in positive.items():
        if not math.isfinite(value) or value <= 0:
            raise InstrumentError(f"{name} must be > 0, got {value:g}")
    for name, value in (("rate", inputs.rate), ("div", inputs.div)):
        if not math.isfinite(value) or abs(value) > 1:
            raise InstrumentError(f"{name} must be a yearly rate between -1 and 1 "
                                  f"(0.05 = 5 %), got {value:g}")
    if inputs.vol is not None and inputs.vol > 10:
        raise InstrumentError(f"vol must be at most 10 (1,000 %), got {inputs.vol:g}")
