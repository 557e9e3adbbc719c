"""Multi-strategy x multi-asset allocation: how much capital each (strategy, asset) pair
gets.

Each pair is a return stream: the strategy's stance on that asset (long when its last
signal was BUY, flat otherwise: spot, long-only), entered at the close of the signal's bar
and earning the next bar's simple return, minus (fee + slippage) on every change of
position. Streams are net of their own transaction costs.

The allocation x (one weight per pair, 0 <= x <= max_weight, sum x = 1) maximizes

    mu'x - (λ / 2) x'Σx + β (1 - Σ x²)

with mu and Σ the annualized mean and Ledoit-Wolf covariance of the streams (λ is the
risk aversion, as in `mean_variance`; 1 - Σ x² is the diversification, 0 for one pair and
1 - 1/k for k equal pairs). The objective is concave, so SLSQP's stationary point is the
optimum.

A prices-only source (a wide file) has no highs, lows or volume: strategies see
high = low = close and a volume of 1.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.portfolio.bounds import check_max_weight, clean_weights
from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.inputs import MIN_RETURNS, covariance, periods_per_year
from engine.portfolio.solve import slsqp, sum_to_one


@dataclass(frozen=True)
class AllocationMatrix:
    strategies: tuple[str, ...]
    assets: tuple[str, ...]
    weights: np.ndarray  # strategies x assets, summing to 1
    expected_return: float  # annualized, net of costs
    volatility: float  # annualized
    diversification: float  # 1 - Σ x²
    stream_returns: np.ndarray  # strategies x assets, annualized mean of each stream
    status: str
    solve_seconds: float

    def to_dict(self) -> dict:
        return {
            "weights": {s: {a: float(self.weights[i, j]) for j, a in enumerate(self.assets)}
                        for i, s in enumerate(self.strategies)},
            "expected_return": self.expected_return, "volatility": self.volatility,
            "diversification": self.diversification,
            "stream_returns": {s: {a: float(self.stream_returns[i, j])
                                   for j, a in enumerate(self.assets)}
                               for i, s in enumerate(self.strategies)},
            "solver": {"status": self.status, "seconds": self.solve_seconds},
        }


def stream(strategy, close: np.ndarray, cost: float) -> np.ndarray:
    """Per-bar net returns of `strategy` trading `close` alone (bars 1..T-1)."""
    from engine.signals.strategies.base import Prices, stance

    prices = Prices(close, close, close, close, np.ones_like(close))
    position = (stance(strategy.signals(prices)).side > 0).astype(float)
    asset = close[1:] / close[:-1] - 1.0
    held = position[:-1]
    changes = np.abs(np.diff(np.concatenate([[0.0], position])))[:-1]
    return held * asset - cost * changes


def allocate(
    prices: pd.DataFrame,
    strategy_names: Sequence[str],
    *,
    risk_aversion: float = 1.0,
    diversification: float = 0.1,
    max_weight: float = 0.3,
    cost: float = 0.0015,
) -> AllocationMatrix:
    """The allocation matrix for `strategy_names` (ids of the strategy registry, with
    their default parameters) over the assets of `prices` (closes)."""
    from engine.signals.strategies.registry import create

    if not strategy_names:
        raise PortfolioInputError("--strategies: name at least one strategy")
    if not risk_aversion > 0 or diversification < 0:
        raise PortfolioInputError("risk_aversion must be positive and diversification >= 0")
    if len(prices) - 1 < MIN_RETURNS:
        raise PortfolioInputError(f"too few rows: {len(prices)} prices, need at least"
                                  f" {MIN_RETURNS + 1}")
    strategies = [create(name) for name in strategy_names]
    assets = tuple(str(c) for c in prices.columns)
    pairs = len(strategies) * len(assets)
    check_max_weight(pairs, max_weight)
    closes = prices.to_numpy(dtype=float)
    streams = np.column_stack([stream(s, closes[:, j], cost) for s in strategies
                               for j in range(len(assets))])
    ppy = periods_per_year(prices.index)
    mu = streams.mean(axis=0) * ppy
    sigma = covariance(streams, "ledoit_wolf") * ppy

    started = time.perf_counter()
    x, status = allocation_weights(mu, sigma, risk_aversion=risk_aversion,
                                   diversification=diversification, max_weight=max_weight)
    shape = (len(strategies), len(assets))
    return AllocationMatrix(
        strategies=tuple(strategy_names), assets=assets, weights=x.reshape(shape),
        expected_return=float(mu @ x), volatility=float(np.sqrt(max(x @ sigma @ x, 0.0))),
        diversification=float(1.0 - x @ x), stream_returns=mu.reshape(shape),
        status=status, solve_seconds=time.perf_counter() - started)


def allocation_weights(
    mu: np.ndarray, sigma: np.ndarray, *, risk_aversion: float, diversification: float,
    max_weight: float,
) -> tuple[np.ndarray, str]:
    """argmax mu'x - (λ/2) x'Σx + β (1 - Σx²) over the capped simplex; (x, status)."""
    pairs = len(mu)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        grad_var = sigma @ x
        value = -(mu @ x) + 0.5 * risk_aversion * (x @ grad_var) - diversification * (
            1.0 - x @ x)
        return float(value), -mu + risk_aversion * grad_var + 2.0 * diversification * x

    solved = slsqp(objective, np.full(pairs, 1.0 / pairs), [(0.0, max_weight)] * pairs,
                   [sum_to_one(pairs)], what="allocate")
    return clean_weights(solved.x, max_weight), solved.status
