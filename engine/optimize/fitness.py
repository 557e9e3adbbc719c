"""Fitness: the one number a search maximises, read from a backtest's metrics.

The metrics are `engine.trading.metrics.compute_metrics`'s, by the names `desk --backtest
--json` writes. A metric the run leaves undefined (no trade: no win rate; a flat equity:
no Sharpe) counts as 0: a run that never trades neither earns nor loses, and a search
must still be able to compare it. Max drawdown is a positive fraction, so its composite
weight is negative to penalise it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

FITNESS_NAMES = ("sharpe", "sortino", "calmar", "total_return", "composite")

# The founding documents' composite weights; desk.toml's [optimization.composite] holds
# the values in force.
DEFAULT_COMPOSITE = {"sharpe": 1.0, "total_return": 0.3, "win_rate": 0.2,
                     "max_drawdown": -0.1}


def metric(metrics: Mapping[str, object], name: str) -> float:
    """A metric as a finite float; undefined (None, NaN, infinite) as 0."""
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def fitness(metrics: Mapping[str, object], name: str,
            weights: Mapping[str, float] | None = None) -> float:
    """The fitness `name` of a run's metrics; `weights` for "composite" (metric -> weight)."""
    if name == "composite":
        chosen = DEFAULT_COMPOSITE if weights is None else weights
        return math.fsum(w * metric(metrics, m) for m, w in chosen.items())
    if name not in FITNESS_NAMES:
        raise ValueError(f"unknown fitness {name!r} (expected one of {', '.join(FITNESS_NAMES)})")
    return metric(metrics, name)
