"""Mean-variance utility: maximize mu'w - (λ / 2) w'Σw, long-only, 0 <= w_i <= max_weight,
sum w = 1. λ is the risk aversion (the same convention as PyPortfolioOpt's
`max_quadratic_utility`); concave, so SLSQP's stationary point is the global optimum."""

from __future__ import annotations

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, check_max_weight, clean_weights
from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult, summarize
from engine.portfolio.solve import slsqp, sum_to_one

DEFAULT_RISK_AVERSION = 1.0


def mean_variance_weights(
    mu: np.ndarray, cov: np.ndarray, *, risk_aversion: float = DEFAULT_RISK_AVERSION,
    max_weight: float = DEFAULT_MAX_WEIGHT,
) -> tuple[np.ndarray, str, float]:
    """(weights, solver status, solver seconds)."""
    if not risk_aversion > 0:
        raise PortfolioInputError(
            f"risk_aversion: expected a positive number, got {risk_aversion:g}")
    n = len(mu)
    check_max_weight(n, max_weight)
    mu = np.asarray(mu, dtype=float)
    cov = np.asarray(cov, dtype=float)
    # Dividing the utility by a positive constant moves no optimum; it makes the solver's
    # tolerance comparable across data sets.
    scale = float(np.mean(np.diag(cov))) * risk_aversion + float(np.mean(np.abs(mu)))

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        grad_var = cov @ w
        value = -(mu @ w) + 0.5 * risk_aversion * (w @ grad_var)
        return float(value) / scale, (-mu + risk_aversion * grad_var) / scale

    solved = slsqp(objective, np.full(n, 1.0 / n), [(0.0, max_weight)] * n, [sum_to_one(n)],
                   what="mean_variance")
    return clean_weights(solved.x, max_weight), solved.status, solved.seconds


def mean_variance(
    inputs: MarketInputs, *, rf: float = 0.02, risk_aversion: float = DEFAULT_RISK_AVERSION,
    max_weight: float = DEFAULT_MAX_WEIGHT,
) -> PortfolioResult:
    weights, status, seconds = mean_variance_weights(
        inputs.mu, inputs.cov, risk_aversion=risk_aversion, max_weight=max_weight)
    return summarize(inputs, weights, method="mean_variance", rf=rf, status=status,
                     solve_seconds=seconds,
                     settings={"risk_aversion": risk_aversion, "max_weight": max_weight})
