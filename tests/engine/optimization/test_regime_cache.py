"""Regime fits made once in the parent serve every worker; a daemonic worker can fit."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.optimize import regime_cache
from engine.signals.regime.policy import RegimePolicy, fit_all


def test_prefit_runs_are_served_without_fitting(monkeypatch):
    cfg = config_from_dict({"engine": {"regime_window": 200, "regime_refit_every": 400}})
    frames = load_source("sim:BTC/USDT", bars=1500, seed=9).frames
    entries = regime_cache.prefit(frames, cfg)
    assert len(entries) == 1
    expected = RegimePolicy(200, 400, 3).run(next(iter(frames.values()))["close"].to_numpy())

    def no_fit(*_args):
        raise AssertionError("the regime was fitted again")

    regime_cache.preload(entries)
    # Leaving shared_regimes() puts `_original` back on RegimePolicy: undo that too, or
    # every later test in this process would run no_fit.
    monkeypatch.setattr(RegimePolicy, "run", RegimePolicy.run)
    monkeypatch.setattr(regime_cache, "_original", no_fit)
    with regime_cache.shared_regimes():
        served = RegimePolicy(200, 400, 3).run(next(iter(frames.values()))["close"].to_numpy())
    np.testing.assert_array_equal(served.labels, expected.labels)
    np.testing.assert_array_equal(served.probabilities, expected.probabilities)


def test_prefit_is_empty_with_the_regime_off():
    cfg = config_from_dict({"engine": {"regime": False}})
    assert regime_cache.prefit(load_source("sim:BTC/USDT", bars=800, seed=1).frames, cfg) == []


def _fit_many(queue) -> None:
    rng = np.random.default_rng(0)
    models = fit_all(2, [rng.normal(0, 0.01, 60) for _ in range(20)])
    queue.put(len(models))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="fork only")
def test_a_daemonic_process_fits_in_order():
    """Dask worker processes are daemonic and may not start a pool of their own."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_fit_many, args=(queue,), daemon=True)
    process.start()
    process.join(120)
    assert process.exitcode == 0
    assert queue.get(timeout=5) == 20
