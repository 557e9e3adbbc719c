"""QuantLib's analytic European engine for one option: the independent implementation the
Black-Scholes tests (and benchmarks/options.py) compare against."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


def _quantlib():
    """QuantLib, or a skip of only the test that compares against it."""
    return pytest.importorskip("QuantLib")


@dataclass(frozen=True)
class QuantLibValues:
    price: float
    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float


def quantlib_option(call: bool, spot: float, strike: float, days: int, rate: float,
                    vol: float, div: float = 0.0):
    """A priced QuantLib EuropeanOption; T = days / 365 (Actual/365 Fixed)."""
    ql = _quantlib()
    today = ql.Date(2, 1, 2026)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    curve = ql.YieldTermStructureHandle(ql.FlatForward(today, rate, day_count))
    dividends = ql.YieldTermStructureHandle(ql.FlatForward(today, div, day_count))
    vols = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(today, ql.NullCalendar(), vol, day_count))
    process = ql.BlackScholesMertonProcess(ql.QuoteHandle(ql.SimpleQuote(spot)), dividends,
                                           curve, vols)
    right = ql.Option.Call if call else ql.Option.Put
    option = ql.EuropeanOption(ql.PlainVanillaPayoff(right, strike),
                               ql.EuropeanExercise(today + days))
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return option, process


def quantlib_values(*args, **kwargs) -> QuantLibValues:
    option, _ = quantlib_option(*args, **kwargs)
    return QuantLibValues(option.NPV(), option.delta(), option.gamma(), option.vega(),
                          option.theta(), option.rho())
