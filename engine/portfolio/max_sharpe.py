"""Maximum Sharpe ratio, long-only, 0 <= w_i <= max_weight, sum w = 1.

The ratio (mu'w - rf) / sqrt(w'Σw) is not concave, so a solver started anywhere may stop
short of the best portfolio. The standard convex reformulation (Cornuejols & Tütüncü,
"Optimization Methods in Finance", 8.2) removes the ratio: with y = κ w, κ > 0,

    minimize y'Σy  subject to  (mu - rf)'y = 1,  sum y = κ,  0 <= y_i <= max_weight κ,

a convex quadratic program whose minimum is the global optimum; w = y / κ. It needs a
feasible portfolio whose expected return beats rf; without one the maximum Sharpe ratio
is not positive and the problem has no meaning here (one line says so).
"""

from __future__ import annotations

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, check_max_weight, clean_weights
from engine.portfolio.errors import PortfolioInputError
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult, summarize
from engine.portfolio.solve import slsqp

DEFAULT_RF = 0.02


def best_excess_portfolio(excess: np.ndarray, max_weight: float) -> np.ndarray:
    """The feasible weights with the highest excess return: fill the best assets to the
    cap in turn (the linear program over a capped simplex is solved greedily)."""
    weights = np.zeros(len(excess))
    left = 1.0
    for i in np.argsort(-excess):
        weights[i] = min(max_weight, left)
        left -= weights[i]
        if left <= 0:
            break
    return weights


def max_sharpe_weights(
    mu: np.ndarray, cov: np.ndarray, *, rf: float = DEFAULT_RF,
    max_weight: float = DEFAULT_MAX_WEIGHT,
) -> tuple[np.ndarray, str, float]:
    """(weights, solver status, solver seconds) of the bounded maximum Sharpe portfolio."""
    n = len(mu)
    check_max_weight(n, max_weight)
    excess = np.asarray(mu, dtype=float) - rf
    start = best_excess_portfolio(excess, max_weight)
    best = float(excess @ start)
    if best <= 0:
        raise PortfolioInputError(
            f"max_sharpe: no portfolio within the bounds has an expected return above rf"
            f" ({rf:g}); the best is {best + rf:.4g}"
        )
    # Σ is scaled to a unit mean variance: the weights are unchanged, and the solver's
    # tolerance then means the same thing for any data.
    scale = float(np.mean(np.diag(cov)))
    sigma = np.asarray(cov, dtype=float) / scale

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        y = z[:n]
        grad_y = sigma @ y
        return float(y @ grad_y), np.append(2.0 * grad_y, 0.0)

    a_excess = np.append(excess, 0.0)
    a_sum = np.append(np.ones(n), -1.0)
    a_cap = np.hstack([-np.eye(n), np.full((n, 1), max_weight)])
    constraints = [
        {"type": "eq", "fun": lambda z: a_excess @ z - 1.0, "jac": lambda z: a_excess},
        {"type": "eq", "fun": lambda z: a_sum @ z, "jac": lambda z: a_sum},
        {"type": "ineq", "fun": lambda z: a_cap @ z, "jac": lambda z: a_cap},
    ]
    z0 = np.append(start, 1.0) / best
    solved = slsqp(objective, z0, [(0.0, None)] * (n + 1), constraints, what="max_sharpe")
    y, kappa = solved.x[:n], solved.x[n]
    return clean_weights(y / kappa, max_weight), solved.status, solved.seconds


def max_sharpe(
    inputs: MarketInputs, *, rf: float = DEFAULT_RF, max_weight: float = DEFAULT_MAX_WEIGHT
) -> PortfolioResult:
    weights, status, seconds = max_sharpe_weights(inputs.mu, inputs.cov, rf=rf,
                                                  max_weight=max_weight)
    return summarize(inputs, weights, method="max_sharpe", rf=rf, status=status,
                     solve_seconds=seconds, settings={"rf": rf, "max_weight": max_weight})
