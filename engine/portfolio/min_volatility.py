"""Minimum volatility: minimize w'Σw, long-only, 0 <= w_i <= max_weight, sum w = 1.

A convex quadratic program, so SLSQP's stationary point is the global minimum."""

from __future__ import annotations

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, check_max_weight, clean_weights
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult, summarize
from engine.portfolio.solve import slsqp, sum_to_one


def min_volatility_weights(
    cov: np.ndarray, *, max_weight: float = DEFAULT_MAX_WEIGHT
) -> tuple[np.ndarray, str, float]:
    """(weights, solver status, solver seconds) of the bounded minimum variance portfolio."""
    n = len(cov)
    check_max_weight(n, max_weight)
    # Unit mean variance: the same weights, a tolerance that means the same for any data.
    sigma = np.asarray(cov, dtype=float) / float(np.mean(np.diag(cov)))

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        grad = sigma @ w
        return float(w @ grad), 2.0 * grad

    solved = slsqp(objective, np.full(n, 1.0 / n), [(0.0, max_weight)] * n, [sum_to_one(n)],
                   what="min_vol")
    return clean_weights(solved.x, max_weight), solved.status, solved.seconds


def min_volatility(
    inputs: MarketInputs, *, rf: float = 0.02, max_weight: float = DEFAULT_MAX_WEIGHT
) -> PortfolioResult:
    weights, status, seconds = min_volatility_weights(inputs.cov, max_weight=max_weight)
    return summarize(inputs, weights, method="min_vol", rf=rf, status=status,
                     solve_seconds=seconds, settings={"max_weight": max_weight})
