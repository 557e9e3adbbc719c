"""Black-Scholes-Merton prices and Greeks: textbook values, QuantLib, put-call parity and
central finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.instruments.black_scholes import (
    DAYS_PER_YEAR,
    black_scholes,
    bs_price,
    no_arbitrage_bounds,
)
from tests.engine.quantlib_peer import quantlib_values


def test_hull_textbook_values():
    """Hull, Options, Futures and Other Derivatives, example 15.6 (S=42, K=40, r=10 %,
    sigma=20 %, six months): call 4.76, put 0.81; example 17.1 (index with a 3 % yield):
    call 51.83."""
    call = black_scholes(True, 42, 40, 0.5, 0.10, 0.20)
    put = black_scholes(False, 42, 40, 0.5, 0.10, 0.20)
    index_call = black_scholes(True, 930, 900, 2 / 12, 0.08, 0.20, 0.03)

    assert round(float(call.price), 2) == 4.76
    assert round(float(put.price), 2) == 0.81
    assert round(float(index_call.price), 2) == 51.83


@pytest.mark.parametrize("call", [True, False])
@pytest.mark.parametrize(("spot", "strike", "days", "rate", "vol", "div"), [
    (42, 40, 182, 0.10, 0.20, 0.0),
    (100, 130, 730, 0.03, 0.45, 0.02),
    (2500, 2400, 9, -0.005, 0.12, 0.04),
])
def test_price_and_every_greek_match_quantlib(call, spot, strike, days, rate, vol, div):
    ours = black_scholes(call, spot, strike, days / DAYS_PER_YEAR, rate, vol, div)
    peer = quantlib_values(call, spot, strike, days, rate, vol, div)

    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        assert float(getattr(ours, name)) == pytest.approx(getattr(peer, name), rel=1e-9,
                                                           abs=1e-11), name


def test_per_percent_and_per_day_units():
    v = black_scholes(True, 42, 40, 0.5, 0.10, 0.20)

    assert float(v.vega_pct) == pytest.approx(float(v.vega) / 100)
    assert float(v.theta_day) == pytest.approx(float(v.theta) / 365)
    assert float(v.rho_pct) == pytest.approx(float(v.rho) / 100)


positive = st.floats(1.0, 1000.0)


@settings(max_examples=300, deadline=None)
@given(spot=positive, strike=positive, years=st.floats(1e-3, 10.0),
       rate=st.floats(-0.05, 0.20), div=st.floats(0.0, 0.10), vol=st.floats(0.01, 2.0))
def test_put_call_parity_to_1e_10(spot, strike, years, rate, div, vol):
    """C - P = S e^-qT - K e^-rT, to 1e-10 in money, for every input."""
    call = float(bs_price(True, spot, strike, years, rate, vol, div))
    put = float(bs_price(False, spot, strike, years, rate, vol, div))
    forward = spot * math.exp(-div * years) - strike * math.exp(-rate * years)

    assert abs(call - put - forward) <= 1e-10


@settings(max_examples=200, deadline=None)
@given(call=st.booleans(), spot=positive, moneyness=st.floats(0.7, 1.4),
       years=st.floats(0.05, 3.0), rate=st.floats(-0.02, 0.15), div=st.floats(0.0, 0.08),
       vol=st.floats(0.05, 1.0))
def test_prices_stay_inside_the_no_arbitrage_bounds(call, spot, moneyness, years, rate,
                                                    div, vol):
    strike = spot * moneyness
    price = float(bs_price(call, spot, strike, years, rate, vol, div))
    lower, upper = no_arbitrage_bounds(call, spot, strike, years, rate, div)

    assert float(lower) - 1e-9 <= price <= float(upper) + 1e-9


CASES = [
    (True, 42.0, 40.0, 0.5, 0.10, 0.20, 0.00),
    (False, 42.0, 40.0, 0.5, 0.10, 0.20, 0.00),
    (True, 100.0, 120.0, 1.5, 0.03, 0.35, 0.02),
    (False, 100.0, 80.0, 0.1, 0.05, 0.60, 0.04),
]


@pytest.mark.parametrize("case", CASES)
def test_each_greek_is_a_central_finite_difference_of_the_price(case):
    call, s, k, t, r, v, q = case
    g = black_scholes(call, s, k, t, r, v, q)

    def price(s=s, t=t, r=r, v=v):
        return float(bs_price(call, s, k, t, r, v, q))

    hs, hv, ht, hr = 1e-4 * s, 1e-5, 1e-6, 1e-6
    delta = (price(s=s + hs) - price(s=s - hs)) / (2 * hs)
    gamma = (price(s=s + hs) - 2 * price() + price(s=s - hs)) / hs**2
    vega = (price(v=v + hv) - price(v=v - hv)) / (2 * hv)
    theta = -(price(t=t + ht) - price(t=t - ht)) / (2 * ht)  # calendar time runs against T
    rho = (price(r=r + hr) - price(r=r - hr)) / (2 * hr)

    assert float(g.delta) == pytest.approx(delta, rel=1e-6)
    assert float(g.gamma) == pytest.approx(gamma, rel=1e-5)
    assert float(g.vega) == pytest.approx(vega, rel=1e-6)
    assert float(g.theta) == pytest.approx(theta, rel=1e-6)
    assert float(g.rho) == pytest.approx(rho, rel=1e-6)


def test_vectorized_over_every_argument_equals_one_at_a_time():
    rng = np.random.default_rng(7)
    n = 50
    args = (rng.random(n) < 0.5, rng.uniform(50, 150, n), rng.uniform(50, 150, n),
            rng.uniform(0.05, 2, n), rng.uniform(0, 0.08, n), rng.uniform(0.1, 0.8, n),
            rng.uniform(0, 0.03, n))
    whole = black_scholes(*args)

    for i in range(n):
        one = black_scholes(*(a[i] for a in args))
        assert float(one.price) == whole.price[i]
        assert float(one.theta) == whole.theta[i]


@pytest.mark.parametrize(("spot", "strike", "years", "vol", "rate"), [
    (0.0, 40, 0.5, 0.2, 0.1), (42, -1, 0.5, 0.2, 0.1), (42, 40, 0.0, 0.2, 0.1),
    (42, 40, 0.5, 0.0, 0.1), (42, 40, 0.5, 0.2, math.nan), (math.inf, 40, 0.5, 0.2, 0.1),
])
def test_inputs_outside_the_model_give_nan_everywhere(spot, strike, years, vol, rate):
    v = black_scholes(True, spot, strike, years, rate, vol)

    assert all(np.isnan(getattr(v, name)) for name in ("price", "delta", "gamma", "vega",
                                                       "theta", "rho"))


@settings(max_examples=200, deadline=None)
@given(spot=positive, strike=positive, years=st.floats(1e-3, 10.0),
       rate=st.floats(-0.05, 0.20), div=st.floats(0.0, 0.10), vol=st.floats(0.01, 2.0))
def test_greeks_keep_their_signs_and_ranges(spot, strike, years, rate, div, vol):
    """Gamma and vega >= 0 and equal for a call and a put; call delta in [0, e^-qT], put
    delta = call delta - e^-qT; call rho >= 0 >= put rho."""
    call = black_scholes(True, spot, strike, years, rate, vol, div)
    put = black_scholes(False, spot, strike, years, rate, vol, div)
    carry = math.exp(-div * years)

    assert float(call.gamma) >= 0 and float(call.vega) >= 0
    assert float(call.gamma) == float(put.gamma) and float(call.vega) == float(put.vega)
    assert 0 <= float(call.delta) <= carry
    assert float(put.delta) == pytest.approx(float(call.delta) - carry, abs=1e-12)
    assert float(call.rho) >= 0 >= float(put.rho)
