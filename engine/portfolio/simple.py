"""Allocators without a solver: equal weight, inverse volatility, momentum-weighted.

Each gives long-only weights summing to 1 and capped at max_weight (an asset over the cap
is pinned at it and the excess shared by the others, see `bounds.cap_weights`).

- equal: 1/n each.
- inverse_vol: proportional to 1 / σ_i, σ_i the volatility of the asset's returns.
- momentum: proportional to the asset's total return over the window when positive; no
  asset with positive momentum falls back to equal weight (the status says so).
"""

from __future__ import annotations

import time

import numpy as np

from engine.portfolio.bounds import DEFAULT_MAX_WEIGHT, cap_weights, check_max_weight
from engine.portfolio.inputs import MarketInputs
from engine.portfolio.result import PortfolioResult, summarize


def equal_weights(n: int, max_weight: float = DEFAULT_MAX_WEIGHT) -> np.ndarray:
    check_max_weight(n, max_weight)
    return np.full(n, 1.0 / n)


def inverse_vol_weights(returns: np.ndarray, max_weight: float = DEFAULT_MAX_WEIGHT) -> np.ndarray:
    check_max_weight(returns.shape[1], max_weight)
    vol = returns.std(axis=0, ddof=1)
    # An asset that never moved has no volatility to invert: it gets the largest score.
    safe = np.where(vol > 0, vol, np.min(vol[vol > 0]) if np.any(vol > 0) else 1.0)
    return cap_weights(1.0 / safe, max_weight)


def momentum_scores(returns: np.ndarray) -> np.ndarray:
    """Compounded return of each asset over the window."""
    return np.prod(1.0 + returns, axis=0) - 1.0


def momentum_weights(
    returns: np.ndarray, max_weight: float = DEFAULT_MAX_WEIGHT
) -> tuple[np.ndarray, bool]:
    """(weights, whether any asset had positive momentum)."""
    check_max_weight(returns.shape[1], max_weight)
    scores = np.maximum(momentum_scores(returns), 0.0)
    if not np.any(scores > 0):
        return np.full(returns.shape[1], 1.0 / returns.shape[1]), False
    return cap_weights(scores, max_weight), True


def simple_allocation(
    inputs: MarketInputs, method: str, *, rf: float = 0.02,
    max_weight: float = DEFAULT_MAX_WEIGHT,
) -> PortfolioResult:
    """`method` is equal, inverse_vol or momentum."""
    started = time.perf_counter()
    status = "closed form"
    if method == "equal":
        weights = equal_weights(inputs.n, max_weight)
    elif method == "inverse_vol":
        weights = inverse_vol_weights(inputs.returns, max_weight)
    elif method == "momentum":
        weights, positive = momentum_weights(inputs.returns, max_weight)
        if not positive:
            status = "no asset with positive momentum: equal weight"
    else:
        raise ValueError(f"not a simple allocator: {method}")
    return summarize(inputs, weights, method=method, rf=rf, status=status,
                     solve_seconds=time.perf_counter() - started,
                     settings={"max_weight": max_weight})
