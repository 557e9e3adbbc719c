"""Strategy signal strength per asset and bar, for rotation by "signal" or "both".

For each asset, each strategy's stance (its last BUY or SELL carried forward, causal) is
+confidence for BUY, -confidence for SELL, 0 before its first signal; the strength is the
weight-averaged stance over the strategies, in [-1, 1]. A prices-only source has no highs,
lows or volume: strategies see high = low = close and a volume of 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def signal_strength(
    closes: np.ndarray, members: Sequence[tuple[str, float]],
    params: Mapping[str, Mapping[str, object]],
) -> np.ndarray:
    """bars x assets strength from `closes` (bars x assets); `members` are (strategy id,
    weight), `params` each strategy's parameters."""
    from engine.signals.strategies.base import Prices, stance
    from engine.signals.strategies.registry import create

    strategies = [(create(name, **dict(params.get(name, {}))), weight)
                  for name, weight in members if weight > 0]
    total = sum(weight for _, weight in strategies)
    out = np.zeros_like(closes, dtype=float)
    if not strategies or total <= 0:
        return out
    for j in range(closes.shape[1]):
        close = closes[:, j]
        prices = Prices(close, close, close, close, np.ones_like(close))
        for strategy, weight in strategies:
            held = stance(strategy.signals(prices))
            out[:, j] += weight * held.side * held.confidence
    return out / total
