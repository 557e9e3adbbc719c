"""The capital layer: which assets to hold and how much of each.

One small module per concern:
- estimates and figures: `inputs` (returns, expected returns, covariance, bars per year),
  `result` (weights, return, volatility, Sharpe, CVaR, risk contributions), `prices`
  (wide files, OHLCV files, sim);
- optimizers: `max_sharpe`, `min_volatility`, `risk_parity`, `mean_variance`, `min_cvar`,
  `kelly`, `simple` (equal, inverse volatility, momentum), `frontier`, and `optimize` (one
  entry point by method name); `multi_strategy` (strategy x asset allocation);
- rules of the book, pure functions: `rotation`, `rebalance`, `hedging`,
  `drawdown_control`, `targets`, `basket` (the orders of a rebalance);
- the portfolio backtest: `backtest`, `backtest_settings`, `backtest_job`,
  `backtest_report`; `virtual` (virtual portfolios, export and merge).

The position book is `engine.trading.portfolio`; this room decides targets, it holds no
positions. Kept light: nothing is imported at package import.
"""
