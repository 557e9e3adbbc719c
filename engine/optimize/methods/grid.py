"""Grid search: every feasible combination, and random search: uniform feasible draws."""

from __future__ import annotations

import numpy as np

from engine.errors import ConfigError
from engine.optimize.methods import Evaluate, SearchOutcome, best_of
from engine.optimize.space import ParamSpace


def grid(space: ParamSpace, evaluate: Evaluate) -> SearchOutcome:
    points = list(space.grid())
    if not points:
        raise ConfigError(f"--param: no {space.strategy} parameters in the grid pass the "
                          "strategy's rules")
    values = evaluate(points)
    best, value = best_of(points, values)
    return SearchOutcome(best, value, len(points), [float(np.max(values))])


def random_search(space: ParamSpace, evaluate: Evaluate, *, trials: int, seed: int,
                  batch: int = 32) -> SearchOutcome:
    """`trials` uniform draws from the feasible space (seeded), evaluated in batches."""
    rng = np.random.default_rng(seed)
    points = [space.sample(rng) for _ in range(trials)]
    values: list[float] = []
    history = []
    for lo in range(0, trials, batch):
        values += evaluate(points[lo:lo + batch])
        history.append(max(values))
    best, value = best_of(points, values)
    return SearchOutcome(best, value, len(points), history)
