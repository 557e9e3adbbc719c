"""Black-Scholes-Merton prices and Greeks of European options, vectorized over numpy arrays.

Conventions (the same everywhere in Desk, and in the README):

- `spot` S and `strike` K in the quote currency; `years` T to expiry as a year fraction
  (the command line counts calendar days / 365); `rate` r and `div` q are continuously
  compounded annual rates (0.05 = 5 %); `vol` sigma is the annualized volatility
  (0.20 = 20 %).
- d1 = (ln(S/K) + (r - q + sigma^2/2) T) / (sigma sqrt T),  d2 = d1 - sigma sqrt T.
  With w = +1 for a call and -1 for a put:
  price = w (S e^-qT N(w d1) - K e^-rT N(w d2)).
- `delta` = dV/dS, `gamma` = d2V/dS2, per one unit of the underlying.
- `vega` = dV/dsigma per 1.00 of volatility (`vega_pct`: per one volatility point, 1 %).
- `theta` = dV/dt per year of calendar time (= -dV/dT; `theta_day`: per calendar day,
  theta / 365). Negative when time decay costs the holder.
- `rho` = dV/dr per 1.00 of rate (`rho_pct`: per 1 %).
- Everything is per one unit of the underlying: multiply by the contract's multiplier for
  a contract's value (see `engine.instruments.valuation`).

The model needs S, K, T, sigma > 0 and finite r, q; any element outside gives NaN in every
output, never a number from a formula that does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

DAYS_PER_YEAR = 365.0  # calendar days: theta per day and the CLI's date -> years
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class OptionValues:
    """Price and Greeks per unit of the underlying, one element per option."""

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray  # per 1.00 of volatility
    theta: FloatArray  # per year
    rho: FloatArray  # per 1.00 of rate

    @property
    def vega_pct(self) -> FloatArray:
        """Vega per one volatility point (1 %)."""
        return self.vega / 100.0

    @property
    def theta_day(self) -> FloatArray:
        """Theta per calendar day."""
        return self.theta / DAYS_PER_YEAR

    @property
    def rho_pct(self) -> FloatArray:
        """Rho per 1 % of rate."""
        return self.rho / 100.0


def option_sign(call: ArrayLike) -> FloatArray:
    """+1.0 for a call, -1.0 for a put. `call` is a bool or an array of bools."""
    return np.where(np.asarray(call, dtype=bool), 1.0, -1.0)


def _valid(spot, strike, years, vol, rate, div) -> NDArray[np.bool_]:
    return ((spot > 0) & (strike > 0) & (years > 0) & (vol > 0)
            & np.isfinite(spot) & np.isfinite(strike) & np.isfinite(years)
            & np.isfinite(vol) & np.isfinite(rate) & np.isfinite(div))


def _arrays(*values: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def bs_price(call: ArrayLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
             rate: ArrayLike, vol: ArrayLike, div: ArrayLike = 0.0) -> FloatArray:
    """Black-Scholes-Merton price only (the implied-volatility solver's inner function)."""
    from scipy.special import ndtr

    s, k, t, r, v, q = _arrays(spot, strike, years, rate, vol, div)
    w = option_sign(call)
    with np.errstate(all="ignore"):
        sd = v * np.sqrt(t)
        d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * t) / sd
        forward_s = s * np.exp(-q * t)
        discounted_k = k * np.exp(-r * t)
        price = w * (forward_s * ndtr(w * d1) - discounted_k * ndtr(w * (d1 - sd)))
    return np.where(_valid(s, k, t, v, r, q), price, np.nan)


def black_scholes(call: ArrayLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
                  rate: ArrayLike, vol: ArrayLike, div: ArrayLike = 0.0) -> OptionValues:
    """Price and every Greek of European options; arguments broadcast against each other.

    `call` is True for a call, False for a put (or an array of them). See the module
    docstring for units: vega and rho per 1.00, theta per year.
    """
    from scipy.special import ndtr

    s, k, t, r, v, q = _arrays(spot, strike, years, rate, vol, div)
    w = option_sign(call)
    with np.errstate(all="ignore"):
        sqrt_t = np.sqrt(t)
        sd = v * sqrt_t
        d1 = (np.log(s / k) + (r - q + 0.5 * v * v) * t) / sd
        d2 = d1 - sd
        disc_q = np.exp(-q * t)
        disc_r = np.exp(-r * t)
        forward_s = s * disc_q
        discounted_k = k * disc_r
        n1 = ndtr(w * d1)  # N(w d1)
        n2 = ndtr(w * d2)  # N(w d2)
        pdf1 = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)  # phi(d1), the same for calls and puts
        price = w * (forward_s * n1 - discounted_k * n2)
        delta = w * disc_q * n1
        gamma = disc_q * pdf1 / (s * sd)
        vega = forward_s * pdf1 * sqrt_t
        theta = (-forward_s * pdf1 * v / (2.0 * sqrt_t)
                 - w * r * discounted_k * n2 + w * q * forward_s * n1)
        rho = w * discounted_k * t * n2
    ok = _valid(s, k, t, v, r, q)
    return OptionValues(*(np.where(ok, x, np.nan) for x in (price, delta, gamma, vega,
                                                            theta, rho)))


def no_arbitrage_bounds(call: ArrayLike, spot: ArrayLike, strike: ArrayLike,
                        years: ArrayLike, rate: ArrayLike,
                        div: ArrayLike = 0.0) -> tuple[FloatArray, FloatArray]:
    """(lower, upper) bounds of a European option's price, model free.

    Call: max(S e^-qT - K e^-rT, 0) < C < S e^-qT.  Put: max(K e^-rT - S e^-qT, 0) < P <
    K e^-rT. Black-Scholes prices lie strictly inside for any sigma in (0, inf): the lower
    bound is the sigma -> 0 limit, the upper one the sigma -> inf limit.
    """
    s, k, t, r, q = _arrays(spot, strike, years, rate, div)
    is_call = np.asarray(call, dtype=bool)
    forward_s = s * np.exp(-q * t)
    discounted_k = k * np.exp(-r * t)
    lower = np.maximum(np.where(is_call, forward_s - discounted_k,
                                discounted_k - forward_s), 0.0)
    upper = np.where(is_call, forward_s, discounted_k)
    return lower, upper
