"""Metropolis-Hastings over strategy parameters, with likelihood exp(fitness / temperature).

Each chain walks the space with symmetric proposals: a float moves by N(0, (s * span)^2),
an integer by that step rounded to its lattice, a categorical switches to another choice
with probability min(s, 1/2). A proposal outside the ranges or refused by the strategy's
rules has likelihood 0 and is rejected. A move is accepted with probability
min(1, exp((f' - f) / T)).

During burn-in each chain adapts its scale s toward `target_acceptance` (Robbins-Monro on
log s, step 1/sqrt(i)); after burn-in s is frozen, so the kept samples come from a fixed
Markov kernel whose stationary law is the target. Every `thin`-th state after burn-in is
kept. Chains start at independent draws and step in lock-step, so each iteration is one
batch of `chains` trials. Reported: acceptance rate after burn-in, the posterior mean and
90% credible interval (5% and 95% quantiles) of each parameter over the kept samples of all
chains, and the split R-hat of Gelman et al. (BDA3, 11.4) over the chains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.optimize.methods import Evaluate, SearchOutcome
from engine.optimize.space import CategoricalParam, FloatParam, IntParam, ParamSpace


def propose(space: ParamSpace, point: Mapping[str, Any], scale: float,
            rng: np.random.Generator) -> dict[str, Any] | None:
    """A symmetric proposal from `point`, or None when it leaves the ranges."""
    out: dict[str, Any] = {}
    for p in space.params:
        value = point[p.name]
        draw = rng.standard_normal()
        switch = rng.random()
        if isinstance(p, CategoricalParam):
            if switch < min(scale, 0.5) and len(p.choices) > 1:
                others = [c for c in p.choices if c != value]
                value = others[int(rng.integers(len(others)))]
            out[p.name] = value
            continue
        moved = value + draw * scale * p.span
        if isinstance(p, IntParam):
            moved = value + p.step * round((moved - value) / p.step)
        elif isinstance(p, FloatParam) and p.step is not None:
            moved = p.snap(value + p.step * round((moved - value) / p.step)) \
                if p.low <= moved <= p.high else moved
        if not p.low <= moved <= p.high:
            return None
        out[p.name] = int(moved) if isinstance(p, IntParam) else float(moved)
    return out


def split_rhat(chains: np.ndarray) -> float:
    """Split R-hat of draws shaped (chains, draws) (BDA3 11.4): each chain halved, then
    sqrt(((n-1)/n W + B/n) / W). 1 for chains that agree; NaN without spread."""
    m, n = chains.shape
    half = n // 2
    if half < 2:
        return math.nan
    parts = np.concatenate([chains[:, :half], chains[:, n - half:]])
    n = half
    means = parts.mean(axis=1)
    within = parts.var(axis=1, ddof=1).mean()
    between = n * means.var(ddof=1)
    if within <= 0:
        return 1.0 if between == 0 else math.inf
    return float(math.sqrt(((n - 1) / n * within + between / n) / within))


def metropolis(space: ParamSpace, evaluate: Evaluate, *, iterations: int, chains: int,
               burn_in: int, thin: int, temperature: float, target_acceptance: float,
               initial_scale: float, seed: int) -> SearchOutcome:
    """`iterations` steps per chain (burn-in included)."""
    streams = np.random.SeedSequence(seed).spawn(chains)
    rngs = [np.random.default_rng(s) for s in streams]
    current = [space.sample(rng) for rng in rngs]
    values = evaluate(current)
    log_scale = [math.log(initial_scale)] * chains
    kept: list[list[dict[str, Any]]] = [[] for _ in range(chains)]
    accepted = proposed = 0
    best, best_value = dict(current[int(np.argmax(values))]), float(max(values))
    history = []
    for i in range(iterations):
        proposals = [propose(space, x, math.exp(s), rng)
                     for x, s, rng in zip(current, log_scale, rngs, strict=True)]
        usable = [p is not None and space.feasible(p) for p in proposals]
        results = iter(evaluate([p for p, ok in zip(proposals, usable, strict=True) if ok]))
        for c in range(chains):
            u = rngs[c].random()  # drawn whatever happens: a chain's stream never shifts
            moved = False
            if usable[c]:
                value = next(results)
                if math.log(u) < (value - values[c]) / temperature:
                    current[c], values[c], moved = proposals[c], value, True
                    if value > best_value:
                        best, best_value = dict(proposals[c]), value
            if i < burn_in:
                step = 1.0 / math.sqrt(i + 1)
                log_scale[c] += step * ((1.0 if moved else 0.0) - target_acceptance)
                log_scale[c] = min(max(log_scale[c], math.log(1e-4)), math.log(10.0))
            else:
                proposed += 1
                accepted += moved
                if (i - burn_in) % thin == 0:
                    kept[c].append(dict(current[c]))
        history.append(best_value)
    posterior = summarize(space, kept)
    extras = {
        "acceptance_rate": accepted / proposed if proposed else None,
        "posterior": posterior,
        "samples": sum(len(k) for k in kept),
        "scales": [math.exp(s) for s in log_scale],
    }
    return SearchOutcome(best, best_value, chains * (iterations + 1), history, extras)


def summarize(space: ParamSpace, kept: list[list[dict[str, Any]]]) -> dict[str, dict]:
    """Per parameter: mean, 90% interval and R-hat over chains (categoricals: the share of
    samples on each choice)."""
    out: dict[str, dict] = {}
    if not kept or not kept[0]:
        return out
    length = min(len(k) for k in kept)
    for p in space.params:
        if isinstance(p, CategoricalParam):
            flat = [k[p.name] for chain in kept for k in chain]
            out[p.name] = {"shares": {str(c): flat.count(c) / len(flat) for c in p.choices}}
            continue
        draws = np.array([[k[p.name] for k in chain[:length]] for chain in kept], dtype=float)
        flat = np.concatenate([np.array([k[p.name] for k in chain], dtype=float)
                               for chain in kept])
        low, high = np.quantile(flat, [0.05, 0.95])
        out[p.name] = {"mean": float(flat.mean()), "ci90": [float(low), float(high)],
                       "rhat": split_rhat(draws)}
    return out
