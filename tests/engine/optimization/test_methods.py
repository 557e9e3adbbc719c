"""Search methods on objectives with known answers: reproducible for a seed, and right."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.optimize.methods.evolution import differential
from engine.optimize.methods.genetic import genetic
from engine.optimize.methods.grid import grid, random_search
from engine.optimize.methods.mcmc import metropolis, split_rhat
from engine.optimize.space import CategoricalParam, FloatParam, IntParam, ParamSpace


def _space(*params) -> ParamSpace:
    return ParamSpace("", tuple(params), {})


def _batch(f):
    calls = []

    def evaluate(points):
        calls.append([dict(p) for p in points])
        return [f(p) for p in points]

    evaluate.calls = calls
    return evaluate


def _bowl(p):  # maximum 0 at a=17, b=-3.5, c="y"
    return -((p["a"] - 17) ** 2) - (p["b"] + 3.5) ** 2 - (0 if p.get("c", "y") == "y" else 5)


SPACE = _space(IntParam("a", 0, 40), FloatParam("b", -10.0, 10.0, 0.5),
               CategoricalParam("c", ("x", "y", "z")))


def test_grid_finds_the_maximum_and_keeps_order():
    space = _space(IntParam("a", 10, 20, 2), FloatParam("b", -4.0, -3.0, 0.5))
    outcome = grid(space, _batch(_bowl))
    assert outcome.best == {"a": 16, "b": -3.5}  # ties: the first in grid order
    assert outcome.evaluations == 6 * 3


def test_grid_leaves_out_what_the_strategy_refuses():
    space = ParamSpace("sma_cross", (IntParam("fast", 5, 30, 5), IntParam("slow", 10, 30, 5)),
                       {"fast": 10, "slow": 30})
    points = list(space.grid())
    assert points and all(p["fast"] < p["slow"] for p in points)
    assert len(points) == sum(1 for f in range(5, 31, 5) for s in range(10, 31, 5) if f < s)


@pytest.mark.parametrize("method", ["random", "ga", "de", "mcmc"])
def test_same_seed_same_search(method):
    def run(seed):
        evaluate = _batch(_bowl)
        if method == "random":
            out = random_search(SPACE, evaluate, trials=60, seed=seed)
        elif method == "ga":
            out = genetic(SPACE, evaluate, population=12, generations=6, crossover_rate=0.7,
                          mutation_rate=0.2, seed=seed, patience=10, tolerance=0.0)
        elif method == "de":
            out = differential(SPACE, evaluate, trials=120, popsize=8, mutation=(0.5, 1.0),
                               recombination=0.7, seed=seed)
        else:
            out = metropolis(SPACE, evaluate, iterations=150, chains=2, burn_in=50, thin=1,
                             temperature=1.0, target_acceptance=0.3, initial_scale=0.1,
                             seed=seed)
        return out, evaluate.calls

    first, calls_first = run(7)
    again, calls_again = run(7)
    other, calls_other = run(8)
    assert calls_first == calls_again  # the same points, in the same batches
    assert (first.best, first.fitness, first.history) == (again.best, again.fitness,
                                                         again.history)
    assert calls_other != calls_first


def test_ga_and_de_find_the_bowl_bottom():
    ga = genetic(SPACE, _batch(_bowl), population=20, generations=30, crossover_rate=0.7,
                 mutation_rate=0.2, seed=1, patience=30, tolerance=0.0)
    de = differential(SPACE, _batch(_bowl), trials=1500, popsize=15, mutation=(0.5, 1.0),
                      recombination=0.7, seed=1)
    for outcome in (ga, de):
        assert outcome.fitness >= -1.25  # within one lattice step of the optimum (0)
        assert outcome.best["c"] == "y"


def test_ga_stops_when_converged():
    flat = genetic(SPACE, _batch(lambda p: 1.0), population=8, generations=50,
                   crossover_rate=0.7, mutation_rate=0.1, seed=0, patience=3, tolerance=1e-9)
    assert flat.extras["converged_at"] == 3
    assert len(flat.history) == 4


def test_mcmc_recovers_a_gaussian_mean_posterior():
    """Data x_i ~ N(mu, sigma^2), sigma known, flat prior: the posterior of mu is
    N(mean(x), sigma^2 / n). With fitness = log-likelihood and temperature 1, the sampled
    mean and 90% interval must match the closed form within Monte Carlo error."""
    rng = np.random.default_rng(3)
    sigma, n = 2.0, 50
    x = rng.normal(1.3, sigma, n)
    xbar, sd = float(x.mean()), sigma / math.sqrt(n)

    def log_likelihood(p):
        return -float(np.sum((x - p["mu"]) ** 2)) / (2 * sigma**2)

    space = _space(FloatParam("mu", -10.0, 10.0))
    out = metropolis(space, _batch(log_likelihood), iterations=20_000, chains=4, burn_in=2000,
                     thin=5, temperature=1.0, target_acceptance=0.44, initial_scale=0.05,
                     seed=11)
    post = out.extras["posterior"]["mu"]
    kept = out.extras["samples"]  # 4 chains x 3600 draws, autocorrelated at acceptance ~0.44
    mc_error = sd / math.sqrt(kept / 10)  # a generous effective sample size: kept / 10
    assert post["mean"] == pytest.approx(xbar, abs=4 * mc_error)
    z = 1.6448536269514722
    assert post["ci90"][0] == pytest.approx(xbar - z * sd, abs=0.05 * sd + 4 * mc_error)
    assert post["ci90"][1] == pytest.approx(xbar + z * sd, abs=0.05 * sd + 4 * mc_error)
    assert 0.3 < out.extras["acceptance_rate"] < 0.6  # adapted toward 0.44
    assert post["rhat"] < 1.01


def test_split_rhat_against_its_definition():
    rng = np.random.default_rng(0)
    agree = rng.normal(size=(4, 1000))
    assert split_rhat(agree) == pytest.approx(1.0, abs=0.01)
    apart = agree + np.array([[0.0], [0.0], [3.0], [3.0]])
    assert split_rhat(apart) > 1.5
    # By hand for one small case: halves of each chain, then BDA3's formula.
    chains = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 5.0, 6.0]])
    parts = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [5.0, 6.0]])
    n = 2
    w = parts.var(axis=1, ddof=1).mean()
    b = n * parts.mean(axis=1).var(ddof=1)
    assert split_rhat(chains) == pytest.approx(math.sqrt(((n - 1) / n * w + b / n) / w))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_search_draws_only_feasible_points_in_range(seed):
    space = ParamSpace("sma_cross", (IntParam("fast", 2, 60, 2), IntParam("slow", 5, 80)),
                       {"fast": 10, "slow": 30})
    seen = []
    random_search(space, lambda batch: seen.extend(batch) or [0.0] * len(batch), trials=20,
                  seed=seed)
    assert len(seen) == 20
    for p in seen:
        assert p["fast"] < p["slow"] and p["fast"] % 2 == 0 and 5 <= p["slow"] <= 80
