"""Minimum CVaR at level α (95% by default) over historical scenarios.

Rockafellar & Uryasev ("Optimization of conditional value-at-risk", 2000): with scenario
returns r_t (t = 1..T, equally likely) and losses -r_t'w,

    minimize ζ + 1 / ((1 - α) T) Σ u_t
    subject to u_t >= -r_t'w - ζ,  u_t >= 0,  sum w = 1,  0 <= w_i <= max_weight,

a linear program solved by SciPy's `linprog` with HiGHS. At the optimum ζ is the VaR and
the objective is the portfolio's CVaR (per bar, a loss as a positive fraction).
"""

from __future__ import annotations

import time

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, check_max_weight, clean_weights
from engine.portfolio.errors import PortfolioInputError, PortfolioSolverError
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult, summarize

DEFAULT_ALPHA = 0.95


def min_cvar_weights(
    returns: np.ndarray, *, alpha: float = DEFAULT_ALPHA, max_weight: float = DEFAULT_MAX_WEIGHT
) -> tuple[np.ndarray, float, str, float]:
    """(weights, minimal CVaR, solver status, solver seconds) for scenario `returns`
    (bars x assets, simple per-bar returns)."""
    from scipy import sparse
    from scipy.optimize import linprog

    if not 0 < alpha < 1:
        raise PortfolioInputError(f"alpha: expected a number in (0, 1), got {alpha:g}")
    count, n = returns.shape
    check_max_weight(n, max_weight)
    # Variables: w (n), ζ (1), u (count).
    cost = np.concatenate([np.zeros(n), [1.0], np.full(count, 1.0 / ((1.0 - alpha) * count))])
    # -r_t'w - ζ - u_t <= 0
    a_ub = sparse.hstack([
        sparse.csr_matrix(-returns), sparse.csr_matrix(-np.ones((count, 1))),
        -sparse.identity(count, format="csr"),
    ], format="csr")
    a_eq = np.concatenate([np.ones(n), [0.0], np.zeros(count)])[None, :]
    bounds = [(0.0, max_weight)] * n + [(None, None)] + [(0.0, None)] * count
    started = time.perf_counter()
    result = linprog(cost, A_ub=a_ub, b_ub=np.zeros(count), A_eq=a_eq, b_eq=[1.0],
                     bounds=bounds, method="highs")
    seconds = time.perf_counter() - started
    if result.status != 0:
        raise PortfolioSolverError(f"min_cvar: HiGHS stopped without an optimum ({result.message})")
    weights = clean_weights(result.x[:n], max_weight)
    return weights, float(result.fun), "optimal (HiGHS linprog)", seconds


def min_cvar(
    inputs: MarketInputs, *, rf: float = 0.02, alpha: float = DEFAULT_ALPHA,
    max_weight: float = DEFAULT_MAX_WEIGHT,
) -> PortfolioResult:
    weights, _, status, seconds = min_cvar_weights(inputs.returns, alpha=alpha,
                                                   max_weight=max_weight)
    return summarize(inputs, weights, method="min_cvar", rf=rf, status=status,
                     solve_seconds=seconds, settings={"alpha": alpha, "max_weight": max_weight})
