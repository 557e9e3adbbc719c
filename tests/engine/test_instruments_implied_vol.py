"""Implied volatility: round trips over a grid of strikes and expiries, NaN with a reason
at and beyond the no-arbitrage bounds, and QuantLib's solver as a second opinion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.instruments.black_scholes import black_scholes, bs_price, no_arbitrage_bounds
from engine.instruments.implied_vol import Reason, implied_vol
from tests.engine.quantlib_peer import quantlib_option

STRIKES = np.linspace(0.6, 1.6, 11)  # x spot
YEARS = np.array([7 / 365, 30 / 365, 0.25, 0.5, 1.0, 2.0, 5.0])


@settings(max_examples=60, deadline=None)
@given(call=st.booleans(), spot=st.floats(1.0, 5000.0), vol=st.floats(0.03, 2.5),
       rate=st.floats(-0.02, 0.12), div=st.floats(0.0, 0.06))
def test_round_trip_over_a_grid_of_strikes_and_expiries(call, spot, vol, rate, div):
    """sigma -> price -> sigma. Where the option's time value is resolvable in double
    precision the volatility comes back to 1e-8; every solved volatility reprices the
    option to within 1e-12 of spot; an unsolved one is NaN and says why."""
    strike, years = np.meshgrid(STRIKES * spot, YEARS)
    values = black_scholes(call, spot, strike, years, rate, vol, div)
    lower, _ = no_arbitrage_bounds(call, spot, strike, years, rate, div)

    solved = implied_vol(call, values.price, spot, strike, years, rate, div)

    ok = solved.reason == Reason.SOLVED
    assert np.isnan(solved.vol[~ok]).all()
    assert np.isin(solved.reason[~ok], [Reason.AT_OR_BELOW_LOWER_BOUND,
                                        Reason.BELOW_VOL_MIN]).all()
    repriced = bs_price(call, spot, strike[ok], years[ok], rate, solved.vol[ok], div)
    assert np.abs(repriced - values.price[ok]).max(initial=0) <= 1e-12 * spot
    # Conditioning: a price error of a few ulps moves sigma by ulps / vega.
    well_posed = (values.vega * 1e-8 > 1e-13 * spot) & (values.price - lower > 1e-9 * spot)
    assert ok[well_posed].all()
    assert np.abs(solved.vol[well_posed] - vol).max(initial=0) <= 1e-8


def test_textbook_option_solves_back_to_twenty_percent():
    price = float(bs_price(True, 42, 40, 0.5, 0.10, 0.20))

    solved = implied_vol(True, price, 42, 40, 0.5, 0.10)

    assert float(solved.vol) == pytest.approx(0.20, abs=1e-12)
    assert solved.message() == "solved"


@pytest.mark.parametrize(("call", "price", "days"), [
    (True, 3.10, 90), (False, 11.7, 400), (True, 0.05, 30), (False, 25.0, 1000),
])
def test_agrees_with_quantlibs_implied_volatility(call, price, days):
    option, process = quantlib_option(call, 100.0, 110.0, days, 0.03, 0.3, 0.01)
    peer = option.impliedVolatility(price, process, 1e-12, 1000, 1e-7, 4.0)

    ours = implied_vol(call, price, 100.0, 110.0, days / 365, 0.03, 0.01)

    assert float(ours.vol) == pytest.approx(peer, rel=1e-8)


@pytest.mark.parametrize("call", [True, False])
def test_prices_at_or_beyond_the_bounds_give_nan_with_a_reason(call):
    spot, strike, years, rate, div = 100.0, 90.0, 1.0, 0.05, 0.02
    lower, upper = (float(b) for b in no_arbitrage_bounds(call, spot, strike, years, rate,
                                                          div))
    prices = np.array([lower, lower - 0.5, upper, upper + 1.0, np.nan])

    solved = implied_vol(call, prices, spot, strike, years, rate, div)

    assert np.isnan(solved.vol).all()
    assert solved.reason.tolist() == [Reason.AT_OR_BELOW_LOWER_BOUND,
                                      Reason.AT_OR_BELOW_LOWER_BOUND,
                                      Reason.AT_OR_ABOVE_UPPER_BOUND,
                                      Reason.AT_OR_ABOVE_UPPER_BOUND,
                                      Reason.INVALID_INPUT]
    assert "lower bound" in solved.message(0)
    assert "upper bound" in solved.message(2)


def test_zero_and_negative_prices_are_at_or_below_the_lower_bound():
    """An out-of-the-money put's lower bound is 0: a price of 0 is at it, -1 below it, and
    a tenth of a cent is a (high) volatility."""
    solved = implied_vol(False, [0.0, -1.0, 1e-3], 100.0, 50.0, 0.5, 0.01)

    assert solved.reason.tolist() == [Reason.AT_OR_BELOW_LOWER_BOUND,
                                      Reason.AT_OR_BELOW_LOWER_BOUND, Reason.SOLVED]


def test_a_price_just_inside_the_upper_bound_needs_more_than_the_ceiling():
    upper = float(no_arbitrage_bounds(True, 100.0, 100.0, 1.0, 0.0)[1])
    solved = implied_vol(True, upper * (1 - 1e-12), 100.0, 100.0, 1.0, 0.0)

    assert np.isnan(solved.vol) and solved.reason == Reason.ABOVE_VOL_MAX


def test_inputs_of_several_shapes_broadcast():
    prices = bs_price(True, 100.0, np.array([[90.0], [110.0]]), np.array([0.5, 1.0]), 0.02,
                      0.25)
    solved = implied_vol(True, prices, 100.0, np.array([[90.0], [110.0]]),
                         np.array([0.5, 1.0]), 0.02)

    assert solved.vol.shape == (2, 2)
    np.testing.assert_allclose(solved.vol, 0.25, atol=1e-10)
