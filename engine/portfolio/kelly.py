"""Kelly sizing: the fraction of equity that maximizes the expected log growth.

One asset:
- from a win rate p and a payoff b (average win / average loss): f* = p - (1 - p) / b;
- from the mean and variance of its returns (excess of rf, in the same period units):
  f* = (μ - rf) / σ², the continuous-time growth-optimal fraction.
`kelly_size` turns f* into a position: times `fraction` (1 = full Kelly, 0.5 = half),
floored at 0 (long-only: no edge, no position) and capped at `cap`.

A portfolio: the growth-optimal weights under the usual bounds (0 <= w_i <= max_weight,
sum w = 1), maximizing the average of log(1 + r_t'w) over the historical bars, which is
concave; SLSQP's stationary point is the optimum. Fully invested by construction: a
fractional Kelly portfolio holds `fraction` of equity in these weights and the rest in
the quote currency.
"""

from __future__ import annotations

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, check_max_weight, clean_weights
from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult, summarize
from engine.portfolio.solve import slsqp, sum_to_one


def kelly_from_odds(win_rate: float, payoff: float) -> float:
    """f* = p - (1 - p) / b for a bet won with probability p paying b per unit lost."""
    if not 0 <= win_rate <= 1:
        raise PortfolioInputError(f"win_rate: expected a number in [0, 1], got {win_rate:g}")
    if not payoff > 0:
        raise PortfolioInputError(f"payoff: expected a positive number, got {payoff:g}")
    return win_rate - (1.0 - win_rate) / payoff


def kelly_from_moments(mean: float, variance: float, rf: float = 0.0) -> float:
    """f* = (μ - rf) / σ² (mean, variance and rf in the same period units)."""
    if not variance > 0:
        raise PortfolioInputError(f"variance: expected a positive number, got {variance:g}")
    return (mean - rf) / variance


def kelly_size(full_kelly: float, *, fraction: float = 1.0, cap: float = 1.0) -> float:
    """The fraction of equity to hold: full_kelly x fraction, within [0, cap]."""
    if not 0 < fraction <= 1:
        raise PortfolioInputError(f"kelly fraction: expected a number in (0, 1], got {fraction:g}")
    if not cap >= 0:
        raise PortfolioInputError(f"kelly cap: expected a number >= 0, got {cap:g}")
    return float(min(max(full_kelly * fraction, 0.0), cap))


def growth_optimal_weights(
    returns: np.ndarray, *, max_weight: float = DEFAULT_MAX_WEIGHT, periods_per_year: float = 252.0
) -> tuple[np.ndarray, str, float]:
    """(weights, solver status, solver seconds) maximizing mean log(1 + r_t'w)."""
    count, n = returns.shape
    check_max_weight(n, max_weight)
    # Simple returns are above -1, so a long-only, fully invested book never reaches zero
    # wealth and the logarithm is defined over the whole feasible set.

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        growth = 1.0 + returns @ w
        # Annualized, so the solver's tolerance means the same whatever the bar size.
        value = -np.log(growth).mean() * periods_per_year
        grad = -(returns / growth[:, None]).mean(axis=0) * periods_per_year
        return float(value), grad

    solved = slsqp(objective, np.full(n, 1.0 / n), [(0.0, max_weight)] * n, [sum_to_one(n)],
                   what="kelly")
    return clean_weights(solved.x, max_weight), solved.status, solved.seconds


def kelly(
    inputs: MarketInputs, *, rf: float = 0.02, max_weight: float = DEFAULT_MAX_WEIGHT
) -> PortfolioResult:
    weights, status, seconds = growth_optimal_weights(
        inputs.returns, max_weight=max_weight, periods_per_year=inputs.periods_per_year)
    return summarize(inputs, weights, method="kelly", rf=rf, status=status,
                     solve_seconds=seconds, settings={"max_weight": max_weight})
