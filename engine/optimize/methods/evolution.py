"""Differential evolution (scipy.optimize.differential_evolution) over strategy parameters.

Every generation is handed to the batch fitness at once (`updating="deferred"` with our
map as `workers`), so it runs in parallel and in a fixed order. Integer parameters and
categorical indices are integral for scipy; the parameter set tried is each coordinate's
nearest allowed value. Points the strategy's rules refuse score a large penalty, which DE
leaves behind (it keeps a trial only if it is no worse).
"""

from __future__ import annotations

import math

import numpy as np

from engine.optimize.methods import Evaluate, SearchOutcome
from engine.optimize.space import CategoricalParam, IntParam, ParamSpace

# DE minimises; an infeasible point costs more than any fitness a backtest can show.
PENALTY = 1e12


def differential(space: ParamSpace, evaluate: Evaluate, *, trials: int, popsize: int,
                 mutation: tuple[float, float], recombination: float,
                 seed: int) -> SearchOutcome:
    from scipy.optimize import differential_evolution

    dim = len(space.params)
    per_generation = popsize * dim
    maxiter = max(1, math.ceil(trials / per_generation) - 1)
    history: list[float] = []
    seen = {"n": 0, "best": -math.inf, "point": None}

    def cost_of_batch(_func, vectors) -> list[float]:
        points = [space.snap(x) for x in vectors]
        feasible = [space.feasible(p) for p in points]
        values = iter(evaluate([p for p, ok in zip(points, feasible, strict=True) if ok]))
        costs = []
        for point, ok in zip(points, feasible, strict=True):
            if not ok:
                costs.append(PENALTY)
                continue
            value = next(values)
            seen["n"] += 1
            if value > seen["best"]:
                seen["best"], seen["point"] = value, point
            costs.append(-value)
        history.append(seen["best"])
        return costs

    integrality = [isinstance(p, IntParam | CategoricalParam) for p in space.params]
    result = differential_evolution(
        _unused, space.bounds(), popsize=popsize, maxiter=maxiter, mutation=mutation,
        recombination=recombination, rng=np.random.default_rng(seed), polish=False,
        init="latinhypercube", updating="deferred", workers=cost_of_batch,
        integrality=integrality, tol=0.0, atol=0.0,
    )
    best = space.snap(result.x)
    if seen["point"] is None or not space.feasible(best):
        from engine.errors import ConfigError

        raise ConfigError(f"--method de: no feasible {space.strategy} parameters were found")
    # scipy's x is the best member of the final population: the best point seen.
    return SearchOutcome(seen["point"], seen["best"], seen["n"], history,
                         {"generations": int(result.nit)})


def _unused(x):  # pragma: no cover - DE calls our `workers` map, never this directly
    raise AssertionError("evaluated through the batch map")
