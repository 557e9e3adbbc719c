"""Equal risk contribution (risk parity): every asset carries 1/n of the variance.

Spinu's convex formulation ("An algorithm for computing risk parity weights", 2013):

    minimize ½ y'Σy - (1/n) Σ log y_i  over y > 0,

is strictly convex; at its minimum y_i (Σy)_i = 1/n for every i, so w = y / sum(y) has equal
contributions. SciPy's exact trust-region Newton method solves it with the analytic
gradient and Hessian; the log barrier keeps y positive (a step leaving y > 0 is valued at
+inf and rejected by the trust region).

The weights are long-only and sum to 1 by construction. The cap max_weight is not part of
the problem: with a cap that binds, contributions cannot all be equal, so a binding cap is
refused with one line rather than answered with something that is not risk parity.
"""

from __future__ import annotations

import time

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, TOLERANCE, check_max_weight
from engine.portfolio.errors import PortfolioInputError, PortfolioSolverError
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult, risk_contributions, summarize
from engine.portfolio.solve import single_threaded_blas

# How far apart contributions may be, as a share of the variance (the issue asks 1e-6).
CONTRIBUTION_TOLERANCE = 1e-6


def risk_parity_weights(
    cov: np.ndarray, *, max_weight: float = 1.0, assets: tuple[str, ...] | None = None
) -> tuple[np.ndarray, str, float]:
    """(weights, solver status, solver seconds) of the equal risk contribution portfolio."""
    from scipy.optimize import minimize

    n = len(cov)
    check_max_weight(n, max_weight)
    sigma = np.asarray(cov, dtype=float) / float(np.mean(np.diag(cov)))

    def value(y: np.ndarray) -> float:
        if np.any(y <= 0):
            return np.inf
        return float(0.5 * y @ sigma @ y - np.log(y).sum() / n)

    def grad(y: np.ndarray) -> np.ndarray:
        return sigma @ y - 1.0 / (n * y)

    def hess(y: np.ndarray) -> np.ndarray:
        return sigma + np.diag(1.0 / (n * y * y))

    # Inverse volatility, scaled to y'Σy = 1, which every optimum has: there
    # sum y_i (Σy)_i = n x 1/n.
    y0 = 1.0 / np.sqrt(np.diag(sigma))
    y0 /= np.sqrt(float(y0 @ sigma @ y0))
    with single_threaded_blas():
        started = time.perf_counter()
        result = minimize(value, y0, jac=grad, hess=hess, method="trust-exact",
                          options={"gtol": 1e-12, "maxiter": 500})
        seconds = time.perf_counter() - started
    weights = result.x / result.x.sum()
    spread = float(np.ptp(risk_contributions(weights, cov)))
    if not np.all(result.x > 0) or spread > CONTRIBUTION_TOLERANCE:
        raise PortfolioSolverError(
            f"risk_parity: contributions differ by {spread:.2g} after {result.nit} Newton"
            f" steps ({result.message})"
        )
    if weights.max() > max_weight + TOLERANCE:
        i = int(np.argmax(weights))
        name = assets[i] if assets else f"asset {i + 1}"
        raise PortfolioInputError(
            f"risk_parity: equal risk contributions need {weights[i]:.4f} in {name}, above"
            f" max_weight {max_weight:g} (raise max_weight)"
        )
    return weights, f"optimal (trust-exact, {result.nit} iterations)", seconds


def risk_parity(
    inputs: MarketInputs, *, rf: float = 0.02, max_weight: float = DEFAULT_MAX_WEIGHT
) -> PortfolioResult:
    weights, status, seconds = risk_parity_weights(inputs.cov, max_weight=max_weight,
                                                   assets=inputs.assets)
    return summarize(inputs, weights, method="risk_parity", rf=rf, status=status,
                     solve_seconds=seconds, settings={"max_weight": max_weight})
