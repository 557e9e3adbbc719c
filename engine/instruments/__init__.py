"""Instruments beyond spot: the typed model (spot, stock/ETF, forex, option, future), the
symbol registry, forex pips and lots, Black-Scholes-Merton prices, Greeks and implied
volatility, and multiplier-aware position money (`valuation`)."""
