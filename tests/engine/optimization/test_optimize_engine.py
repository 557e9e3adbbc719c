"""Optimizations over real backtests: honest fitness, equal results on every backend,
resume without redoing trials, and --apply reaching the desk."""

from __future__ import annotations

import json
import sqlite3

import pytest

from engine.config.schema import config_from_dict
from engine.optimize.run import OptimizeRequest, optimize

DATA = {"data": "sim:BTC/USDT", "bars": 1200, "seed": 3}


def _cfg(tmp_path, **optimization):
    return config_from_dict({"store": {"path": str(tmp_path / "desk.db")},
                             "optimization": {"sensitivity_points": 3, **optimization}})


def _request(**overrides) -> OptimizeRequest:
    values = {**DATA, "strategy": "sma_cross", "params": ("fast=3:20", "slow=21:60"),
              "method": "random", "trials": 6, "workers": 1, **overrides}
    return OptimizeRequest(**values)


def _comparable(outcome):
    return [(t["scope"], t["params"], t["fitness"], t["metrics"]) for t in outcome.trials]


def test_reported_fitness_equals_a_desk_backtest_rerun(tmp_path):
    from desk.cli import main

    common = ["--db", str(tmp_path / "desk.db"), "--data", DATA["data"], "--bars",
              str(DATA["bars"]), "--seed", str(DATA["seed"])]
    assert main(["optimize", *common, "--strategy", "sma_cross", "--param", "fast=3:20",
                 "--param", "slow=21:60", "--method", "random", "--trials", "6",
                 "--workers", "1", "--fitness", "sortino", "--json",
                 str(tmp_path / "opt.json")]) == 0
    best = json.loads((tmp_path / "opt.json").read_text())["best"]
    spec = "sma_cross:" + ",".join(f"{k}={v}" for k, v in best["params"].items())
    assert main(["--backtest", *common, "--strategy", spec, "--json",
                 str(tmp_path / "bt.json")]) == 0
    rerun = json.loads((tmp_path / "bt.json").read_text())["metrics"]
    assert best["metrics"] == rerun  # every metric, exactly, under the same names
    assert best["fitness"] == rerun["sortino"]


def test_local_pool_and_local_cluster_agree(tmp_path):
    from distributed import LocalCluster

    cfg = _cfg(tmp_path)
    request = _request(method="ga", trials=8)
    cfg = config_from_dict({**cfg.to_dict(), "optimization": {
        **cfg.to_dict()["optimization"], "ga": {"population": 4, "generations": 2,
                                                "crossover_rate": 0.7, "mutation_rate": 0.2,
                                                "patience": 5, "tolerance": 0.0}}})
    local = optimize(cfg, request)
    pool = optimize(cfg, _request(method="ga", trials=8, workers=2))
    # On loopback over TCP, reached by its address as `--cluster tcp://...` would be.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=":0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = optimize(cfg, _request(method="ga", trials=8,
                                        cluster=cluster.scheduler_address))
    assert _comparable(local) == _comparable(pool) == _comparable(remote)
    assert local.best == pool.best == remote.best
    assert len(local.trials) > 8  # the search and the sensitivity sweep


def test_resume_skips_finished_trials(tmp_path):
    from engine.optimize.job import resume_optimization, run_optimization

    cfg = _cfg(tmp_path)
    request = _request(trials=20)
    stops = []

    def stop_after_first_chunk(stats):
        if not stops:
            stops.append(stats.done)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_optimization(cfg, request, progress=stop_after_first_chunk)
    with sqlite3.connect(tmp_path / "desk.db") as conn:
        status, = conn.execute("SELECT status FROM optimization_runs WHERE id = 1").fetchone()
        stored, = conn.execute("SELECT COUNT(*) FROM optimization_trials").fetchone()
    assert status == "interrupted" and stored == stops[0] == 8
    resumed = resume_optimization(cfg, 1)
    assert resumed.stats.reused >= stored
    whole = optimize(cfg, request)
    assert resumed.stats.done == whole.stats.done - stored  # nothing finished ran again
    assert _comparable(resumed) == _comparable(whole)
    with sqlite3.connect(tmp_path / "desk.db") as conn:
        status, = conn.execute("SELECT status FROM optimization_runs WHERE id = 1").fetchone()
    assert status == "finished"


def test_apply_journals_and_the_desk_starts_with_the_parameters(tmp_path):
    from engine.adapters.sqlite.open import open_store
    from engine.live.build import build_live
    from engine.optimize.job import apply_best, run_optimization

    cfg = _cfg(tmp_path)
    outcome = run_optimization(cfg, _request())
    strategy, old, new = apply_best(cfg, outcome.run_id)
    assert strategy == "sma_cross" and new
    assert {**dict(cfg.strategies["sma_cross"]), **new} == {
        **dict(cfg.strategies["sma_cross"]), **outcome.best["params"]}
    store = open_store(cfg)
    try:
        entries = store.conn.execute("SELECT actor, payload FROM audit_entries WHERE kind ="
                                     " 'params.changed'").fetchall()
    finally:
        store.close()
    assert len(entries) == 1
    actor, payload = entries[0]
    payload = json.loads(payload)
    assert actor == "user"
    assert payload["run_id"] == outcome.run_id and payload["new"] == new
    assert payload["old"] == {k: cfg.strategies["sma_cross"][k] for k in new}
    engine = build_live(cfg)
    try:
        params = engine.strategies["sma_cross"].params
        for name, value in outcome.best["params"].items():
            assert getattr(params, name) == value
    finally:
        engine.stop()


def test_shared_regimes_change_nothing(tmp_path):
    from engine.backtest.job import build_spec
    from engine.backtest.run import run_backtest
    from engine.data.sources import load_source
    from engine.optimize.regime_cache import shared_regimes

    frames = load_source("sim:BTC/USDT", bars=1600, seed=5).frames
    spec = build_spec(_cfg(tmp_path), ["sma_cross:fast=7,slow=25"])
    plain = run_backtest(frames, spec)
    with shared_regimes():
        first = run_backtest(frames, spec)
        second = run_backtest(frames, spec)
    for result in (first, second):
        assert result.metrics == plain.metrics
        assert [t.to_dict() for t in result.trades] == [t.to_dict() for t in plain.trades]
        assert result.regimes == plain.regimes


def test_walk_forward_trains_before_it_tests_and_stitches_every_test_bar(tmp_path):
    cfg = _cfg(tmp_path, wfo={"unit": "bars", "train": 400, "test": 200, "anchored": False,
                              "min_observations": 100, "improvement_threshold": 0.05,
                              "inner_method": "random"})
    outcome = optimize(cfg, _request(method="wfo", trials=3, bars=1800))
    doc = outcome.document()
    windows = doc["windows"]
    assert len(windows) == 4  # from bar 500 (history_bars) on: 500 + k*200 + 600 <= 1800
    for w in windows:
        assert w["train_start"] < w["train_end"] < w["test_start"] <= w["test_end"]
        assert w["in_sample"]["bars"] == 400 and w["out_of_sample"]["bars"] == 200
    for before, after in zip(windows, windows[1:], strict=False):
        assert before["test_end"] < after["test_start"]
    # Every train trial of window i ran on bars that end where its test begins.
    for t in doc["trials"]:
        scope = t["scope"]
        if scope.startswith("wfo:") and scope.endswith(":train"):
            i = int(scope.split(":")[1])
            start = 500 + 200 * i
            assert t["window"] == [start, start + 400]
        elif scope.endswith(":test"):
            i = int(scope.split(":")[1])
            assert t["window"] == [500 + 200 * i + 400, 500 + 200 * i + 600]
    assert doc["out_of_sample"]["metrics"]["bars"] == 4 * 200
    assert doc["out_of_sample"]["metrics"]["start"] == windows[0]["test_start"].replace(
        "T", " ")
