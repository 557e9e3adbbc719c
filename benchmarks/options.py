"""Speed of option pricing: Black-Scholes-Merton price + all Greeks, and implied volatility,
vectorized over numpy arrays, against QuantLib's AnalyticEuropeanEngine pricing the same
options one at a time (the usual way QuantLib is driven from Python), in the same run.

The options are a random book: spot 50-150, strike 50-150, 1 week to 2 years, rate 0-8 %,
dividend yield 0-3 %, volatility 5-80 %, calls and puts. QuantLib builds each option once
(outside the timing), then the timed loop sets its volatility and reads NPV, delta,
gamma, vega, theta and rho: the peer's cost of a re-valuation, not of set-up. Every
figure is checked against QuantLib's before it is printed.

Run: python benchmarks/options.py [--n N] [--peer-n M]
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of

from engine.instruments.black_scholes import black_scholes
from engine.instruments.implied_vol import Reason, implied_vol

DAYS = 365


def book(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "call": rng.random(n) < 0.5, "spot": rng.uniform(50, 150, n),
        "strike": rng.uniform(50, 150, n), "days": rng.integers(7, 2 * DAYS, n),
        "rate": rng.uniform(0.0, 0.08, n), "div": rng.uniform(0.0, 0.03, n),
        "vol": rng.uniform(0.05, 0.8, n),
    }


def quantlib_book(b: dict[str, np.ndarray], m: int):
    """m QuantLib options with their volatility quotes, built once."""
    import QuantLib as ql

    today = ql.Date(2, 1, 2026)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    built = []
    for i in range(m):
        vol = ql.SimpleQuote(float(b["vol"][i]))
        process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(ql.SimpleQuote(float(b["spot"][i]))),
            ql.YieldTermStructureHandle(ql.FlatForward(today, float(b["div"][i]), dc)),
            ql.YieldTermStructureHandle(ql.FlatForward(today, float(b["rate"][i]), dc)),
            ql.BlackVolTermStructureHandle(ql.BlackConstantVol(
                today, ql.NullCalendar(), ql.QuoteHandle(vol), dc)))
        right = ql.Option.Call if b["call"][i] else ql.Option.Put
        option = ql.EuropeanOption(ql.PlainVanillaPayoff(right, float(b["strike"][i])),
                                   ql.EuropeanExercise(today + int(b["days"][i])))
        option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
        built.append((option, vol, process))
    return built


def quantlib_reprice(built, vols: np.ndarray) -> np.ndarray:
    out = np.empty((len(built), 6))
    for i, (option, quote, _) in enumerate(built):
        quote.setValue(float(vols[i]))
        out[i] = (option.NPV(), option.delta(), option.gamma(), option.vega(),
                  option.theta(), option.rho())
    return out


def quantlib_implied(built, prices: np.ndarray) -> np.ndarray:
    return np.array([option.impliedVolatility(float(p), process, 1e-10, 200, 1e-4, 5.0)
                     for (option, _, process), p in zip(built, prices, strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="options, vectorized")
    parser.add_argument("--peer-n", type=int, default=20_000, help="options, QuantLib")
    args = parser.parse_args()
    n, m = args.n, args.peer_n
    b = book(n)
    years = b["days"] / DAYS
    inputs = (b["call"], b["spot"], b["strike"], years, b["rate"], b["vol"], b["div"])

    black_scholes(*(x[:10] for x in inputs))  # import scipy.special outside the timing
    ours = black_scholes(*inputs)
    bs_secs = best_of(5, lambda: black_scholes(*inputs))

    built = quantlib_book(b, m)
    peer = quantlib_reprice(built, b["vol"][:m])
    peer_secs = best_of(3, lambda: quantlib_reprice(built, b["vol"][:m]))
    ours_m = np.column_stack([getattr(ours, k)[:m] for k in
                              ("price", "delta", "gamma", "vega", "theta", "rho")])
    worst = np.max(np.abs(ours_m - peer) / np.maximum(1.0, np.abs(peer)))
    assert worst < 1e-8, f"price/Greeks differ from QuantLib by {worst:.2e}"

    bs_rate, peer_rate = n / bs_secs, m / peer_secs
    print(f"price + 6 Greeks, {n:,} options vectorized: {bs_secs * 1e3:8.1f} ms  "
          f"{bs_rate:>12,.0f} options/s")
    print(f"QuantLib AnalyticEuropeanEngine, {m:,} one at a time: {peer_secs * 1e3:8.1f} ms  "
          f"{peer_rate:>12,.0f} options/s")
    print(f"  ratio: {bs_rate / peer_rate:,.1f}x QuantLib  (largest difference "
          f"{worst:.1e}, relative to max(1, |value|))")

    prices = ours.price
    implied_vol(True, 4.0, 42.0, 40.0, 0.5, 0.1)  # import scipy.optimize outside the timing
    iv_secs = best_of(3, lambda: implied_vol(b["call"], prices, b["spot"], b["strike"],
                                             years, b["rate"], b["div"]))
    solved = implied_vol(b["call"], prices, b["spot"], b["strike"], years, b["rate"],
                         b["div"])
    ok = solved.reason == Reason.SOLVED
    conditioned = ok & (ours.vega > 1e-3)
    # QuantLib's solver stops on a price within rounding of its bound ("root not
    # bracketed"): it is given only options whose volatility is well defined.
    chosen = np.flatnonzero(conditioned[:m])[:5_000]
    peer_m = len(chosen)
    peer_built, peer_prices = [built[i] for i in chosen], prices[chosen]
    peer_iv = quantlib_implied(peer_built, peer_prices)
    gap = np.max(np.abs(peer_iv - solved.vol[chosen]))
    assert gap < 1e-6, f"implied vols differ from QuantLib's by {gap:.1e}"
    peer_iv_secs = best_of(1, lambda: quantlib_implied(peer_built, peer_prices))
    iv_rate, peer_iv_rate = n / iv_secs, peer_m / peer_iv_secs
    print(f"implied vol, {n:,} options vectorized: {iv_secs * 1e3:8.1f} ms  "
          f"{iv_rate:>12,.0f} options/s  ({ok.mean() * 100:.2f}% solved; the rest are "
          f"priced at their lower bound in double precision: NaN by design; |sigma "
          f"error| <= "
          f"{np.max(np.abs(solved.vol[conditioned] - b['vol'][conditioned])):.1e} "
          f"where vega > 0.001)")
    print(f"QuantLib impliedVolatility, {peer_m:,} one at a time: "
          f"{peer_iv_secs * 1e3:8.1f} ms  {peer_iv_rate:>12,.0f} options/s")
    print(f"  ratio: {iv_rate / peer_iv_rate:,.1f}x QuantLib  (largest difference from "
          f"QuantLib's implied vol {gap:.1e})")


if __name__ == "__main__":
    main()
