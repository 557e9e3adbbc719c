"""One optimization end to end: load the data once, open the backend, run the method through
the ledger (persisting every trial), sweep sensitivity around the best, and report.

The command line (`desk optimize`) parses arguments into an `OptimizeRequest` and prints
what `optimize` returns; everything it does is here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ConfigError
from engine.optimize.backends import open_backend
from engine.optimize.evaluate import Objective, TrialResult
from engine.optimize.fitness import fitness as fitness_of
from engine.optimize.ledger import Ledger, LedgerStats
from engine.optimize.methods import SearchOutcome
from engine.optimize.space import ParamSpace, build_space

METHODS = ("grid", "random", "ga", "de", "mcmc", "wfo", "qlearn")


@dataclass(frozen=True)
class OptimizeRequest:
    data: str
    strategy: str
    params: tuple[str, ...]
    method: str
    fitness: str | None = None  # None: [optimization] fitness
    trials: int | None = None  # None: [optimization] trials
    seed: int | None = None  # the search's seed (0 when not given), and sim data's
    workers: int | None = None  # None: [optimization] workers
    cluster: str | None = None
    bars: int | None = None
    freq: str | None = None
    start: str | None = None
    end: str | None = None
    clean: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class OptimizeOutcome:
    run_id: int | None
    request: OptimizeRequest
    source: str
    symbols: tuple[str, ...]
    space: ParamSpace | None
    fitness_name: str
    best: dict[str, Any]  # {"params", "fitness", "metrics"}
    trials: list[dict[str, Any]]
    elapsed_s: float
    stats: LedgerStats
    workers: int
    extras: dict[str, Any] = field(default_factory=dict)  # method-specific (windows, ...)
    sensitivity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status: str = "finished"

    def document(self) -> dict[str, Any]:
        """The --json document."""
        doc = {
            "run_id": self.run_id,
            "method": self.request.method,
            "strategy": self.request.strategy,
            "source": self.source,
            "symbols": list(self.symbols),
            "fitness_name": self.fitness_name,
            "status": self.status,
            "seed": seed_of(self.request),
            "request": self.request.to_dict(),
            "best": self.best,
            "trials": self.trials,
            "sensitivity": self.sensitivity,
            "timing": {"elapsed_s": round(self.elapsed_s, 3), "trials_run": self.stats.done,
                       "trials_reused": self.stats.reused, "workers": self.workers,
                       "trials_per_s": round(self.stats.done / self.elapsed_s, 3)
                       if self.elapsed_s > 0 else None},
        }
        if self.space is not None:
            doc["space"] = self.space.to_dict()
        doc.update({k: v for k, v in self.extras.items() if not k.startswith("_")})
        return doc


def seed_of(request: OptimizeRequest) -> int:
    return 0 if request.seed is None else request.seed


def objective_of(cfg, request: OptimizeRequest) -> Objective:
    name = request.fitness or cfg.optimization.fitness
    weights = dataclasses.asdict(cfg.optimization.composite)
    return Objective(request.strategy, name, weights)


def load_market(request: OptimizeRequest):
    from engine.data.sources import load_source

    return load_source(request.data, bars=request.bars, seed=request.seed, freq=request.freq,
                       start=request.start, end=request.end, clean=request.clean)


Recorder = Callable[[str, list[TrialResult]], None]


def optimize(cfg, request: OptimizeRequest, *, record: Recorder | None = None,
             known: Mapping[tuple[str, str], TrialResult] | None = None,
             progress: Callable[[LedgerStats], None] | None = None,
             run_id: int | None = None, cluster_client: Any = None,
             market: Any = None) -> OptimizeOutcome:
    """Run `request` under `cfg`. `record(scope, results)` is called as trials finish;
    `known` holds trials already done (a resumed run); `cluster_client` replaces
    `request.cluster` with a connected Dask client (tests); `market` is the data when
    `check_request` has loaded it already."""
    started = time.perf_counter()
    market = market or check_request(cfg, request)
    objective = objective_of(cfg, request)
    if request.method == "qlearn":
        from engine.optimize.qlearn_run import train_policy

        return train_policy(cfg, request, market, objective, started, run_id)
    space = space_of(cfg, request)
    workers = request.workers if request.workers is not None else cfg.optimization.workers
    backend = open_backend(market.frames, cfg, objective, workers=workers,
                           cluster=cluster_client or request.cluster)
    ledger = Ledger(backend, known=known, record=record, progress=progress)
    outcome_status = "finished"
    try:
        extras, best_scope, best_params = _search(cfg, request, space, ledger, market)
        points = cfg.optimization.sensitivity_points
        window = extras.pop("_sensitivity_window", None)
        sweeps = _sweep(space, ledger, best_params, points, window)
    finally:
        backend.close()
    best = ledger.result(best_params, best_scope)
    trials = [_trial_row(scope, r) for scope, r in ledger.order]
    return OptimizeOutcome(
        run_id, request, market.source, tuple(market.frames), space, objective.fitness,
        {"params": best.params, "fitness": best.fitness, "metrics": best.metrics},
        trials, time.perf_counter() - started, ledger.stats, backend.workers, extras, sweeps,
        outcome_status)


def space_of(cfg, request: OptimizeRequest) -> ParamSpace:
    return build_space(request.strategy, request.params,
                       dict(cfg.strategies.get(request.strategy, {})))


def check_request(cfg, request: OptimizeRequest):
    """Everything a run needs that can be wrong, checked before anything is stored: the
    method, the parameter space and the data (returned, loaded)."""
    if request.method not in METHODS:
        raise ConfigError(f"--method {request.method}: expected one of {', '.join(METHODS)}")
    if request.method != "qlearn":
        space_of(cfg, request)
    return load_market(request)


def _sweep(space, ledger, best_params, points, window):
    from engine.optimize.sensitivity import sensitivity

    scope = "sensitivity" if window is None else "sensitivity:last-train"
    return sensitivity(space, ledger.objective(scope, window), best_params, points)


def _trial_row(scope: str, r: TrialResult) -> dict[str, Any]:
    row = {"scope": scope, "params": r.params, "fitness": r.fitness, "metrics": r.metrics,
           "elapsed_s": round(r.elapsed_s, 6)}
    if r.window is not None:
        row["window"] = [r.window.start, r.window.end]
    return row


def inner_search(cfg, method: str, trials: int) -> Callable[[ParamSpace, Any, int],
                                                             SearchOutcome]:
    """The search `method` as a function of (space, batch fitness, seed)."""
    opt = cfg.optimization

    def run(space: ParamSpace, evaluate, seed: int) -> SearchOutcome:
        if method == "grid":
            from engine.optimize.methods.grid import grid

            return grid(space, evaluate)
        if method == "random":
            from engine.optimize.methods.grid import random_search

            return random_search(space, evaluate, trials=trials, seed=seed)
        if method == "ga":
            from engine.optimize.methods.genetic import genetic

            ga = opt.ga
            generations = max(1, -(-trials // ga.population)) if trials else ga.generations
            return genetic(space, evaluate, population=ga.population,
                           generations=generations, crossover_rate=ga.crossover_rate,
                           mutation_rate=ga.mutation_rate, seed=seed, patience=ga.patience,
                           tolerance=ga.tolerance)
        if method == "de":
            from engine.optimize.methods.evolution import differential

            de = opt.de
            return differential(space, evaluate, trials=trials, popsize=de.popsize,
                                mutation=(de.mutation_min, de.mutation_max),
                                recombination=de.recombination, seed=seed)
        if method == "mcmc":
            from engine.optimize.methods.mcmc import metropolis

            m = opt.mcmc
            per_chain = max(trials // m.chains, 1)
            return metropolis(space, evaluate, iterations=per_chain, chains=m.chains,
                              burn_in=min(m.burn_in, per_chain // 2), thin=m.thin,
                              temperature=m.temperature,
                              target_acceptance=m.target_acceptance,
                              initial_scale=m.initial_scale, seed=seed)
        raise ConfigError(f"--method {method}: not a search method")

    return run


def _search(cfg, request: OptimizeRequest, space: ParamSpace, ledger: Ledger, market):
    """Run the method; returns (extras for the report, scope of the best, best params)."""
    trials = request.trials or cfg.optimization.trials
    seed = seed_of(request)
    sweep = cfg.optimization.sensitivity_points * len(space.params)
    if request.method != "wfo":
        ledger.stats.expected = expected_trials(cfg, request.method, space, trials) + sweep
        outcome = inner_search(cfg, request.method, trials)(space, ledger.objective(), seed)
        extras: dict[str, Any] = {"history": outcome.history}
        for name in ("acceptance_rate", "posterior", "generations", "converged_at"):
            if name in outcome.extras:
                extras[name] = outcome.extras[name]
        return extras, "search", outcome.best
    from engine.optimize.methods.walk_forward import splits
    from engine.optimize.walk_forward import walk_forward

    wfo = cfg.optimization.wfo
    index = next(iter(market.frames.values())).index
    windows = splits(index, start=min(cfg.feed.history_bars, len(index) - 1), unit=wfo.unit,
                     train=wfo.train, test=wfo.test, anchored=wfo.anchored,
                     min_observations=wfo.min_observations)
    objective = objective_of(cfg, request)
    per_window = expected_trials(cfg, wfo.inner_method, space, trials) + 2
    ledger.stats.expected = len(windows) * per_window + sweep
    report = walk_forward(
        space, ledger, windows, inner_search(cfg, wfo.inner_method, trials),
        threshold=wfo.improvement_threshold, seed=seed, cash=float(cfg.broker.cash),
        risk_free_rate=cfg.metrics.risk_free_rate,
        fitness_of=lambda m: fitness_of(m, objective.fitness, objective.weights))
    last = report.windows[-1]
    from engine.optimize.evaluate import Window

    extras = {
        "windows": [_window_row(index, w) for w in report.windows],
        "out_of_sample": {"metrics": report.stitched_metrics,
                          "fitness": report.stitched_fitness},
        "in_sample": _mean_in_sample(report),
        "_equity": report.stitched_equity,
        "_sensitivity_window": Window(last.split.train_start, last.split.train_end),
    }
    return extras, f"wfo:{len(report.windows) - 1}:train", last.params


def expected_trials(cfg, method: str, space: ParamSpace, trials: int) -> int:
    """About how many trials `method` asks for (revisits included), for a progress bar."""
    opt = cfg.optimization
    if method == "grid":
        return sum(1 for _ in space.grid())
    if method == "ga":
        return opt.ga.population * max(1, -(-trials // opt.ga.population))
    if method == "de":
        per_generation = opt.de.popsize * len(space.params)
        return per_generation * max(2, -(-trials // per_generation))
    if method == "mcmc":
        return opt.mcmc.chains * (max(trials // opt.mcmc.chains, 1) + 1)
    return trials


def _iso(index, position: int) -> str:
    return index[min(position, len(index) - 1)].isoformat()


def _window_row(index, w) -> dict[str, Any]:
    s = w.split
    return {
        "train_start": _iso(index, s.train_start), "train_end": _iso(index, s.train_end - 1),
        "test_start": _iso(index, s.test_start), "test_end": _iso(index, s.test_end - 1),
        "params": w.params, "adopted": w.adopted, "candidate": w.candidate,
        "in_sample": w.in_sample, "out_of_sample": w.out_of_sample,
        "in_sample_fitness": w.in_sample_fitness,
        "out_of_sample_fitness": w.out_of_sample_fitness,
    }


def _mean_in_sample(report) -> dict[str, Any]:
    """The in-sample side of the summary: the mean train fitness of the parameters in force."""
    values = [w.in_sample_fitness for w in report.windows]
    return {"fitness": sum(values) / len(values)}
