"""The efficient frontier under the long-only bounds: for target returns from the minimum
volatility portfolio's to the highest attainable, the least volatile weights reaching
each (a convex QP per point, SLSQP)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, check_max_weight, clean_weights
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.max_sharpe import best_excess_portfolio
from engine.portfolio.min_volatility import min_volatility_weights
from engine.portfolio.solve import slsqp, sum_to_one

DEFAULT_POINTS = 20


@dataclass(frozen=True)
class FrontierPoint:
    expected_return: float  # annualized
    volatility: float  # annualized
    sharpe: float
    weights: np.ndarray


def efficient_frontier(
    inputs: MarketInputs, *, max_weight: float = DEFAULT_MAX_WEIGHT, rf: float = 0.02,
    points: int = DEFAULT_POINTS,
) -> list[FrontierPoint]:
    """`points` portfolios (at least 2) evenly spaced in expected return."""
    n, mu, cov = inputs.n, inputs.mu, inputs.cov
    check_max_weight(n, max_weight)
    low, _, _ = min_volatility_weights(cov, max_weight=max_weight)
    high = best_excess_portfolio(mu, max_weight)  # the highest return in the bounds
    sigma = cov / float(np.mean(np.diag(cov)))

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        grad = sigma @ w
        return float(w @ grad), 2.0 * grad

    frontier = [low]
    targets = np.linspace(float(mu @ low), float(mu @ high), max(points, 2))
    for target in targets[1:-1]:
        reach = {"type": "eq", "fun": lambda w, t=target: mu @ w - t, "jac": lambda w: mu}
        solved = slsqp(objective, frontier[-1], [(0.0, max_weight)] * n,
                       [sum_to_one(n), reach], what="frontier")
        frontier.append(clean_weights(solved.x, max_weight))
    frontier.append(high)
    out = []
    for weights in frontier:
        expected = float(mu @ weights)
        vol = math.sqrt(max(float(weights @ cov @ weights), 0.0))
        out.append(FrontierPoint(expected, vol, (expected - rf) / vol if vol > 0 else math.nan,
                                 weights))
    return out
