"""What `desk optimize` keeps in SQLite: runs, trials as they finish, the parameter sets
applied to the desk with their `params.changed` audit entries, and the overlay of those
sets on the configuration when the desk starts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import ConfigError
from store import optimization as rows
from store.db import Store


def start_run(store: Store, *, method: str, strategy: str, data_source: str, fitness: str,
              seed: int, request: Mapping[str, Any], config_hash: str,
              config: Mapping[str, Any]) -> int:
    with store.unit_of_work() as conn:
        return rows.insert_run(
            conn, method=method, strategy=strategy, data_source=data_source, fitness=fitness,
            seed=seed, request_json=json.dumps(request, sort_keys=True),
            config_hash=config_hash, config_json=json.dumps(config, sort_keys=True))


def record_trials(store: Store, run_id: int, scope: str, results: Sequence[Any]) -> None:
    """Trials (`TrialResult`s) of one finished chunk, in one unit of work."""
    from engine.optimize.space import key

    data = [(scope, key(r.params), json.dumps(r.params, sort_keys=True), float(r.fitness),
             json.dumps(r.metrics, sort_keys=True), float(r.elapsed_s),
             None if r.window is None else json.dumps([r.window.start, r.window.end]))
            for r in results]
    with store.unit_of_work() as conn:
        rows.insert_trials(conn, run_id, data)


def finish_run(store: Store, run_id: int, status: str, best: Mapping[str, Any] | None,
               result: Mapping[str, Any] | None) -> None:
    with store.unit_of_work() as conn:
        rows.finish_run(conn, run_id, status=status,
                        best_json=None if best is None else json.dumps(best, sort_keys=True),
                        result_json=None if result is None else json.dumps(result,
                                                                             sort_keys=True))


def reopen_run(store: Store, run_id: int) -> None:
    with store.unit_of_work() as conn:
        rows.reopen_run(conn, run_id)


def load_run(store: Store, run_id: int) -> dict[str, Any]:
    """The run `run_id` with its JSON columns parsed; ConfigError if there is none."""
    run = rows.select_run(store.conn, run_id)
    if run is None:
        raise ConfigError(f"optimization run {run_id}: no such run in {store.path.name}")
    for name in ("request_json", "config_json", "best_json", "result_json"):
        text = run.pop(name)
        run[name.removesuffix("_json")] = None if text is None else json.loads(text)
    return run


def list_runs(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    out = []
    for run in rows.select_runs(store.conn, limit):
        best = run.pop("best_json")
        run["best"] = None if best is None else json.loads(best)
        out.append(run)
    return out


def load_trials(store: Store, run_id: int) -> list[dict[str, Any]]:
    out = []
    for t in rows.select_trials(store.conn, run_id):
        out.append({"scope": t["scope"], "params_key": t["params_key"],
                    "params": json.loads(t["params_json"]), "fitness": t["fitness"],
                    "metrics": json.loads(t["metrics_json"]), "elapsed_s": t["elapsed_s"],
                    "window": None if t["window_json"] is None else json.loads(t["window_json"])})
    return out


def apply_params(store: Store, *, strategy: str, old: Mapping[str, Any],
                 new: Mapping[str, Any], run_id: int) -> None:
    """Make `new` the parameters `strategy` starts with, journaled as `params.changed`
    (old, new, the run id; actor user) in the same unit of work."""
    with store.unit_of_work() as conn:
        rows.insert_applied(conn, strategy=strategy, params_json=json.dumps(dict(new),
                                                                            sort_keys=True),
                            run_id=run_id)
        store.audit.append("params.changed", "user", {
            "strategy": strategy, "old": dict(old), "new": dict(new), "run_id": run_id,
            "source": "desk optimize --apply"})


def applied_params(store: Store) -> dict[str, tuple[dict[str, Any], int | None]]:
    """strategy -> (parameters, run id) of the sets applied with `desk optimize --apply`."""
    return {strategy: (json.loads(params), run_id)
            for strategy, (params, run_id) in rows.select_applied(store.conn).items()}


def with_applied_params(cfg: Any, store: Store) -> Any:
    """`cfg` with each strategy's applied parameter set over its [strategies] table,
    validated as a file's values are (the strategy's rules included); `cfg` itself when
    nothing was applied."""
    applied = applied_params(store)
    if not applied:
        return cfg
    from engine.config.schema import config_from_dict

    data = cfg.to_dict()
    for strategy, (params, _run_id) in applied.items():
        data["strategies"][strategy] = {**data["strategies"].get(strategy, {}), **params}
    return config_from_dict(data, name=f"{cfg.source} + parameters applied by desk optimize",
                            source=cfg.source)
