"""Implied volatility of European options: the sigma at which Black-Scholes-Merton gives
the observed price, solved for whole arrays at once.

The solver is SciPy's elementwise bracketed root finder (Chandrupatla's method: inverse
quadratic interpolation safeguarded by bisection), on the bracket [VOL_MIN, VOL_MAX]. The
Black-Scholes price rises strictly with sigma from the lower no-arbitrage bound (sigma -> 0)
to the upper one (sigma -> inf), so a price strictly inside the bounds has exactly one root
and the bracketed method always finds it.

Never a wrong number: an element that cannot be solved is NaN, and `reason` says why, one
`Reason` per element (`message` turns it into words). Conventions are those of
`engine.instruments.black_scholes`: years to expiry, continuous rates, sigma annualized.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.instruments.black_scholes import FloatArray, bs_price, no_arbitrage_bounds

VOL_MIN = 1e-6  # 0.0001 % a year: below this a price cannot be told from its lower bound
VOL_MAX = 10.0  # 1,000 % a year
# The root's accuracy in sigma: far below anything a quote can resolve, and reached in
# a handful of iterations because the method converges superlinearly.
VOL_TOLERANCE = 1e-12
GUESS_WIDTH = 1.5  # the first bracket around the closed-form guess: guess / 1.5 .. x 1.5


class Reason(enum.IntEnum):
    """Why an implied volatility is NaN (SOLVED when it is not)."""

    SOLVED = 0
    INVALID_INPUT = 1
    AT_OR_BELOW_LOWER_BOUND = 2
    AT_OR_ABOVE_UPPER_BOUND = 3
    BELOW_VOL_MIN = 4
    ABOVE_VOL_MAX = 5
    NOT_CONVERGED = 6

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Reason.SOLVED: "solved",
    Reason.INVALID_INPUT: (
        "spot, strike and expiry must be positive and finite, price and rates finite"),
    Reason.AT_OR_BELOW_LOWER_BOUND: (
        "price is at or below the no-arbitrage lower bound (the discounted intrinsic value)"),
    Reason.AT_OR_ABOVE_UPPER_BOUND: (
        "price is at or above the no-arbitrage upper bound (S e^-qT for a call, "
        "K e^-rT for a put)"),
    Reason.BELOW_VOL_MIN: (
        f"price is within rounding of the lower bound: implied volatility below "
        f"{VOL_MIN:g}"),
    Reason.ABOVE_VOL_MAX: f"implied volatility above {VOL_MAX * 100:,.0f} %",
    Reason.NOT_CONVERGED: "the solver did not converge",
}


@dataclass(frozen=True, slots=True)
class ImpliedVol:
    """Implied volatilities (NaN where unsolved) and a `Reason` code per element."""

    vol: FloatArray
    reason: NDArray[np.int8]

    def message(self, index: int | tuple[int, ...] = ()) -> str:
        """Why element `index` is what it is, in words ("solved" when it has a value)."""
        return Reason(int(self.reason[index])).message


def implied_vol(call: ArrayLike, price: ArrayLike, spot: ArrayLike, strike: ArrayLike,
                years: ArrayLike, rate: ArrayLike, div: ArrayLike = 0.0) -> ImpliedVol:
    """The Black-Scholes-Merton volatility of each option price; arguments broadcast."""
    from scipy.optimize.elementwise import find_root

    is_call, p, s, k, t, r, q = np.broadcast_arrays(
        np.asarray(call, dtype=bool), *(np.asarray(x, dtype=np.float64)
                                        for x in (price, spot, strike, years, rate, div)))
    reason = np.zeros(p.shape, dtype=np.int8)
    valid = (np.isfinite(p) & (s > 0) & (k > 0) & (t > 0) & np.isfinite(s)
             & np.isfinite(k) & np.isfinite(t) & np.isfinite(r) & np.isfinite(q))
    reason[~valid] = Reason.INVALID_INPUT
    with np.errstate(all="ignore"):
        lower, upper = no_arbitrage_bounds(is_call, s, k, t, r, q)
    reason[valid & (p <= lower)] = Reason.AT_OR_BELOW_LOWER_BOUND
    reason[valid & (p >= upper)] = Reason.AT_OR_ABOVE_UPPER_BOUND

    vol = np.full(p.shape, np.nan)
    todo = reason == Reason.SOLVED
    if not todo.any():
        return ImpliedVol(vol, reason)
    args = tuple(x[todo] for x in (is_call, p, s, k, t, r, q))
    c, pt, st, kt, tt, rt, qt = args
    # Inside the bounds but outside what [VOL_MIN, VOL_MAX] can reach: say which side.
    too_low = bs_price(c, st, kt, tt, rt, VOL_MIN, qt) >= pt
    too_high = bs_price(c, st, kt, tt, rt, VOL_MAX, qt) <= pt
    sub = np.where(too_low, Reason.BELOW_VOL_MIN,
                   np.where(too_high, Reason.ABOVE_VOL_MAX, Reason.SOLVED)).astype(np.int8)
    solvable = sub == Reason.SOLVED
    if solvable.any():
        inside = tuple(x[solvable] for x in args)
        result = find_root(_price_error, _bracket(*inside), args=inside,
                           tolerances={"xatol": VOL_TOLERANCE, "xrtol": 0.0, "fatol": 0.0,
                                       "frtol": 0.0})
        sub_vol = np.full(sub.shape, np.nan)
        sub_vol[solvable] = np.where(result.success, result.x, np.nan)
        sub[np.flatnonzero(solvable)[~result.success]] = Reason.NOT_CONVERGED
        vol[todo] = sub_vol
    reason[todo] = sub
    return ImpliedVol(vol, reason)


def _price_error(sigma, call, price, spot, strike, years, rate, div):
    return bs_price(call, spot, strike, years, rate, sigma, div) - price


def _bracket(call, price, spot, strike, years, rate, div) -> tuple[FloatArray, FloatArray]:
    """A bracket of the root for each option, as narrow as is cheap to know.

    Corrado and Miller's closed-form approximation (1996) is usually within a few per cent
    of the root; [guess / GUESS_WIDTH, guess x GUESS_WIDTH] is kept where the price changes
    sign across it, which saves the solver most of its iterations. Elsewhere the side on
    which the root must lie is kept, reaching to VOL_MIN or VOL_MAX: still a valid bracket,
    so a poor guess costs iterations, never the answer.
    """
    with np.errstate(all="ignore"):
        forward_s = spot * np.exp(-div * years)
        discounted_k = strike * np.exp(-rate * years)
        gap = forward_s - discounted_k
        as_call = np.where(call, price, price + gap)  # put-call parity
        half = as_call - gap / 2
        root = np.sqrt(np.maximum(half * half - gap * gap / np.pi, 0.0))
        guess = np.sqrt(2 * np.pi / years) / (forward_s + discounted_k) * (half + root)
    guess = np.clip(np.nan_to_num(guess, nan=0.2), VOL_MIN, VOL_MAX)
    low = np.maximum(guess / GUESS_WIDTH, VOL_MIN)
    high = np.minimum(guess * GUESS_WIDTH, VOL_MAX)
    args = (call, price, spot, strike, years, rate, div)
    at_low, at_high = _price_error(low, *args), _price_error(high, *args)
    # The error rises with sigma, is < 0 at VOL_MIN and > 0 at VOL_MAX (checked before).
    lower = np.where(at_high < 0, high, np.where(at_low < 0, low, VOL_MIN))
    upper = np.where(at_low > 0, low, np.where(at_high > 0, high, VOL_MAX))
    return lower, upper
