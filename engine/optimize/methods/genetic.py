"""Genetic algorithm: optuna's NSGA-II sampler, run a generation at a time.

What the library provides and we use: a population of `population` individuals; children
from binary-tournament parents by uniform crossover with probability `crossover_rate` and
per-gene mutation with probability `mutation_rate` (a mutated gene is redrawn from its
range); elitist survival (each generation keeps the best `population` of parents and
children, so the best individual is never lost). Seeded, it is reproducible.

What we add: a generation is asked for as one batch (so its trials run in parallel) and
told back in order; parameter sets the strategy's rules refuse are told as failed (the
sampler leaves them out of the parents); and convergence: the search stops early when the
best fitness has not improved by more than `tolerance` for `patience` generations.
"""

from __future__ import annotations

import math

from engine.optimize.methods import Evaluate, SearchOutcome
from engine.optimize.space import CategoricalParam, IntParam, ParamSpace


def distributions(space: ParamSpace) -> dict:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for p in space.params:
        if isinstance(p, CategoricalParam):
            out[p.name] = CategoricalDistribution(list(p.choices))
        elif isinstance(p, IntParam):
            high = p.low + (p.high - p.low) // p.step * p.step
            out[p.name] = IntDistribution(p.low, high, step=p.step)
        elif p.step is not None:
            high = p.low + math.floor((p.high - p.low) / p.step + 1e-9) * p.step
            out[p.name] = FloatDistribution(p.low, high, step=p.step)
        else:
            out[p.name] = FloatDistribution(p.low, p.high)
    return out


def genetic(space: ParamSpace, evaluate: Evaluate, *, population: int, generations: int,
            crossover_rate: float, mutation_rate: float, seed: int, patience: int,
            tolerance: float) -> SearchOutcome:
    import optuna
    from optuna.samplers import NSGAIISampler
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = NSGAIISampler(population_size=population, crossover_prob=crossover_rate,
                            mutation_prob=mutation_rate, seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    dists = distributions(space)
    history: list[float] = []
    best: dict | None = None
    best_value = -math.inf
    evaluations = 0
    stale = 0
    converged_at = None
    for generation in range(generations):
        trials = [study.ask(dists) for _ in range(population)]
        points = [dict(t.params) for t in trials]
        feasible = [space.feasible(p) for p in points]
        values = iter(evaluate([p for p, ok in zip(points, feasible, strict=True) if ok]))
        improved = False
        for trial, point, ok in zip(trials, points, feasible, strict=True):
            if not ok:
                study.tell(trial, state=TrialState.FAIL)
                continue
            value = next(values)
            evaluations += 1
            study.tell(trial, value)
            if value > best_value + tolerance:
                improved = True
            if value > best_value:
                best, best_value = point, value
        history.append(best_value)
        stale = 0 if improved else stale + 1
        if generation > 0 and stale >= patience:
            converged_at = generation
            break
    if best is None:
        from engine.errors import ConfigError

        raise ConfigError(f"--method ga: no feasible {space.strategy} parameters were drawn")
    return SearchOutcome(best, best_value, evaluations, history,
                         {"generations": len(history), "converged_at": converged_at})
