"""Rotation: which assets to hold. Rank the universe by momentum over `lookback` bars and/or
by strategy signal strength, and keep the best `top_n` (never more than `max_assets`).

- "momentum": the compounded return over the last `lookback` bars (only bars up to the
  decision time are used: the caller passes the trailing window).
- "signal": the strategies' signal strength per asset, in [-1, 1].
- "both": the average of the two rank positions (ties broken by name, so the choice is
  deterministic).
The ranking is relative: the best `top_n` are held even when their momentum is negative
(a basket that should leave the market is the hedge's job). With "both", an asset is held
only when both its momentum and its signal are positive.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def momentum_by_asset(closes: Mapping[str, np.ndarray], lookback: int) -> dict[str, float]:
    """Compounded return over the last `lookback` bars; assets with fewer bars are left out."""
    out = {}
    for asset, series in closes.items():
        if len(series) > lookback and series[-lookback - 1] > 0:
            out[asset] = float(series[-1] / series[-lookback - 1] - 1.0)
    return out


def select_assets(
    *,
    method: str,
    top_n: int,
    max_assets: int,
    momentum: Mapping[str, float] | None = None,
    signal: Mapping[str, float] | None = None,
) -> list[str]:
    """The assets to hold, best first."""
    limit = min(top_n, max_assets)
    if method == "momentum":
        scores = dict(momentum or {})
    elif method == "signal":
        scores = dict(signal or {})
    elif method == "both":
        mom, sig = dict(momentum or {}), dict(signal or {})
        common = sorted(set(mom) & set(sig))
        rank_m = {a: i for i, a in enumerate(sorted(common, key=lambda a: (-mom[a], a)))}
        rank_s = {a: i for i, a in enumerate(sorted(common, key=lambda a: (-sig[a], a)))}
        # Held only when both say so; better (lower) average rank first.
        scores = {a: -(rank_m[a] + rank_s[a]) / 2 - 1e-9 for a in common
                  if mom[a] > 0 and sig[a] > 0}
        ranked = sorted(scores, key=lambda a: (-scores[a], a))
        return ranked[:limit]
    else:
        raise ValueError(f"rotation method: {method}")
    ranked = sorted(scores, key=lambda a: (-scores[a], a))
    return ranked[:limit]
