"""One-at-a-time sensitivity: how fitness moves when one parameter leaves the best point.

For each parameter, `points` values spread evenly over its range (every choice for a
categorical), the best point's own value included, the others held at the best point.
Values the strategy's rules refuse are left out. A fragile optimum shows as a spike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.optimize.methods import Evaluate
from engine.optimize.space import CategoricalParam, ParamSpace


def sweep_values(param, best_value: Any, points: int) -> list[Any]:
    if isinstance(param, CategoricalParam):
        return list(param.choices)
    raw = [param.snap(x) for x in np.linspace(param.low, param.high, points)]
    return sorted(set(raw) | {best_value})


def sensitivity(space: ParamSpace, evaluate: Evaluate, best: Mapping[str, Any],
                points: int) -> dict[str, list[dict[str, Any]]]:
    """{parameter: [{"value", "fitness"}, ...]} in value order (categoricals: listed order)."""
    if points <= 0:
        return {}
    sweeps: dict[str, list[dict[str, Any]]] = {}
    batch: list[dict[str, Any]] = []
    owners: list[tuple[str, Any]] = []
    for p in space.params:
        for value in sweep_values(p, best[p.name], points):
            candidate = {**best, p.name: value}
            if space.feasible(candidate):
                batch.append(candidate)
                owners.append((p.name, value))
    values = evaluate(batch)
    for (name, value), fit in zip(owners, values, strict=True):
        sweeps.setdefault(name, []).append({"value": value, "fitness": fit})
    return sweeps
