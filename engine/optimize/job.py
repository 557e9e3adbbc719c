"""A stored optimization: the run row opened first, every trial stored as it finishes, the
result stored at the end; `--resume ID` replays a stopped run under its recorded request
and configuration, skipping the trials already stored; `--apply` makes the best parameters
the strategy's set for the desk's next start."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from engine.errors import ConfigError
from engine.optimize.evaluate import TrialResult, Window
from engine.optimize.ledger import LedgerStats
from engine.optimize.run import (
    OptimizeOutcome,
    OptimizeRequest,
    check_request,
    objective_of,
    optimize,
    seed_of,
)


def run_optimization(cfg, request: OptimizeRequest, *,
                     progress: Callable[[LedgerStats], None] | None = None,
                     cluster_client: Any = None) -> OptimizeOutcome:
    """A new stored run of `request` under `cfg`."""
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.optimization import start_run

    market = check_request(cfg, request)  # a bad request stores nothing
    store = open_store(cfg)
    try:
        run_id = start_run(store, method=request.method, strategy=request.strategy,
                           data_source=request.data, fitness=objective_of(cfg, request).fitness,
                           seed=seed_of(request), request=request.to_dict(),
                           config_hash=cfg.hash(), config=cfg.to_dict())
        return _run(store, cfg, request, run_id, {}, progress, cluster_client, market)
    finally:
        store.close()


def resume_optimization(cfg, run_id: int, *, workers: int | None = None,
                        cluster: str | None = None,
                        progress: Callable[[LedgerStats], None] | None = None,
                        cluster_client: Any = None) -> OptimizeOutcome:
    """Run `run_id` again under its recorded request and configuration (only the backend
    may change): trials already stored are not run again."""
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.optimization import load_run, load_trials, reopen_run
    from engine.config.schema import config_from_dict

    store = open_store(cfg)
    try:
        run = load_run(store, run_id)
        recorded = dict(run["request"])
        recorded["params"] = tuple(recorded["params"])
        request = dataclasses.replace(OptimizeRequest(**recorded), workers=workers,
                                      cluster=cluster)
        run_cfg = config_from_dict(run["config"], name=f"optimization run {run_id}",
                                   source=cfg.source)
        known = {(t["scope"], t["params_key"]): _trial(t) for t in load_trials(store, run_id)}
        reopen_run(store, run_id)
        return _run(store, run_cfg, request, run_id, known, progress, cluster_client)
    finally:
        store.close()


def _trial(row: dict[str, Any]) -> TrialResult:
    window = None if row["window"] is None else Window(*row["window"])
    return TrialResult(row["params"], row["fitness"], row["metrics"], row["elapsed_s"], window)


def _run(store, cfg, request, run_id, known, progress, cluster_client,
         market=None) -> OptimizeOutcome:
    from engine.adapters.sqlite.optimization import finish_run, record_trials

    def record(scope: str, results) -> None:
        record_trials(store, run_id, scope, results)

    try:
        outcome = optimize(cfg, request, record=record, known=known, progress=progress,
                           run_id=run_id, cluster_client=cluster_client, market=market)
    except KeyboardInterrupt:
        # The finished trials are stored; --resume picks up from them.
        finish_run(store, run_id, "interrupted", None, None)
        raise
    except BaseException:
        finish_run(store, run_id, "failed", None, None)
        raise
    document = outcome.document()
    finish_run(store, run_id, "finished", document["best"],
               {k: v for k, v in document.items() if k != "trials"})
    return outcome


def apply_best(cfg, run_id: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Make run `run_id`'s best parameters its strategy's set for the desk's next start, with
    a `params.changed` audit entry; returns (strategy, old, new)."""
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.optimization import apply_params, load_run, with_applied_params

    store = open_store(cfg)
    try:
        run = load_run(store, run_id)
        if run["method"] == "qlearn":
            raise ConfigError(f"optimization run {run_id}: a Q-learning run holds a policy, "
                              "not strategy parameters: it trades with [ensemble] weights = "
                              f'"qlearn", qlearn_run = {run_id}')
        if run["status"] != "finished" or not run["best"]:
            raise ConfigError(f"optimization run {run_id}: {run['status']}, nothing to apply"
                              " (finish it with --resume first)")
        strategy = run["strategy"]
        in_force = with_applied_params(cfg, store).strategies.get(strategy, {})
        new = {**dict(in_force), **run["best"]["params"]}
        old = dict(in_force)
        # The same checks a desk.toml value meets, before anything is written.
        from engine.signals.strategies.registry import STRATEGIES

        cls = STRATEGIES[strategy]
        problems = cls.check(cls.Params(**new))
        if problems:
            raise ConfigError(f"optimization run {run_id}: {'; '.join(problems)}")
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if not changed:
            return strategy, {}, {}
        apply_params(store, strategy=strategy, old={k: old.get(k) for k in changed},
                     new=changed, run_id=run_id)
        return strategy, {k: old.get(k) for k in changed}, changed
    finally:
        store.close()
