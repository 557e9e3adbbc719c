"""Long-only weight bounds shared by every method: 0 <= w_i <= max_weight, sum w = 1."""

from __future__ import annotations

import numpy as np

from engine.portfolio.errors import PortfolioInputError

DEFAULT_MAX_WEIGHT = 0.3
# Slack allowed when checking a solver's answer against its bounds.
TOLERANCE = 1e-9
# A solver's weights below this are its round-off around 0 (it stops at ~1e-17).
ROUND_OFF = 1e-12


def check_max_weight(n_assets: int, max_weight: float) -> None:
    """One line when the bounds leave no portfolio: max_weight outside (0, 1] or
    max_weight x n < 1 (the weights could not add up to 1)."""
    if not 0 < max_weight <= 1:
        raise PortfolioInputError(f"max_weight: expected a number in (0, 1], got {max_weight:g}")
    if max_weight * n_assets < 1 - TOLERANCE:
        raise PortfolioInputError(
            f"max_weight: {max_weight:g} x {n_assets} assets = {max_weight * n_assets:g} < 1:"
            " no weights within the bounds add up to 1 (raise max_weight or add assets)"
        )


def cap_weights(raw: np.ndarray, max_weight: float) -> np.ndarray:
    """Scale non-negative `raw` scores to weights summing to 1 with none above max_weight.

    Weights over the cap are pinned at it and the rest is shared among the others in
    proportion to their scores (equally if none of them has a positive score), repeated
    until nothing is over. Needs max_weight x n >= 1 (see `check_max_weight`)."""
    raw = np.maximum(np.asarray(raw, dtype=float), 0.0)
    n = len(raw)
    pinned = np.zeros(n, dtype=bool)
    weights = np.zeros(n)
    for _ in range(n + 1):
        free = ~pinned
        left = 1.0 - max_weight * pinned.sum()
        scores = raw[free]
        share = scores / scores.sum() if scores.sum() > 0 else np.full(free.sum(), 1 / free.sum())
        weights[free] = left * share
        weights[pinned] = max_weight
        over = free & (weights > max_weight + TOLERANCE)
        if not over.any():
            break
        pinned |= over
    return np.minimum(weights, max_weight)


def clean_weights(weights: np.ndarray, max_weight: float) -> np.ndarray:
    """A solver's answer with round-off removed: clipped to the bounds, weights under
    ROUND_OFF set to 0, renormalized."""
    weights = np.clip(np.asarray(weights, dtype=float), 0.0, max_weight)
    weights[weights < ROUND_OFF] = 0.0
    return weights / weights.sum()
