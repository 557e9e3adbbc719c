"""The capital layer: which assets to hold and how much of each.

One small module per concern: `inputs` (returns, expected returns and covariance from
prices), one module per optimizer (`max_sharpe`, `min_volatility`, `risk_parity`,
`mean_variance`, `min_cvar`, `kelly`), `simple` (equal, inverse volatility, momentum),
`result` (the figures every method reports), `frontier`, and `optimize` (one entry point
by method name). The position book is `engine.trading.portfolio`; this room decides
targets, it holds no positions.

Kept light: nothing is imported at package import.
"""
