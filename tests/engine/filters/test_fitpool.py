"""Walk-forward refits side by side on threads give the predictions the same refits give
one after another, bit for bit."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine import cores
from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.signals.filters import fitpool
from engine.signals.filters.features import Bars
from engine.signals.filters.layer import SignalLayer


def _predictions(monkeypatch, free: int):
    monkeypatch.setattr(cores, "free_cores", lambda: free)
    cfg = config_from_dict({"filters": {
        "enabled": True, "walk_forward": True, "train_window": 300, "retrain_every": 100,
        "volume": {"type": "lightgbm"}}})
    bars = Bars.of(load_source("arch:sp500", start="2004-01-01",
                               end="2007-12-31").frames["SP500"])
    layer = SignalLayer(cfg.filters, None, False, 0.1, 0.25, walk_forward=True)
    return layer.predictions("SP500", bars, None)


def test_refits_on_threads_equal_refits_one_by_one(monkeypatch):
    alone = _predictions(monkeypatch, 1)
    together = _predictions(monkeypatch, 2)
    assert [p.name for p in alone] == ["direction", "volatility", "volume"]
    for a, b in zip(alone, together, strict=True):
        assert a.fits == b.fits and len(a.fits) > 5
        for field in ("value", "probability", "flag", "known"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=a.name)


def test_results_keep_the_jobs_order(monkeypatch):
    monkeypatch.setattr(cores, "free_cores", lambda: 2)
    names = []

    def fit(job):
        names.append(threading.current_thread().name)
        return job * job

    assert fitpool.fit_each(fit, list(range(40))) == [j * j for j in range(40)]
    assert all(name.startswith("desk-fit") for name in names)


def test_an_error_stops_the_fits_not_yet_started(monkeypatch):
    monkeypatch.setattr(cores, "free_cores", lambda: 2)
    started = []
    gate = threading.Event()

    def fit(job):
        started.append(job)
        if job == 0:
            raise ValueError("window 0")
        gate.wait(1)
        return job

    with pytest.raises(ValueError, match="window 0"):
        fitpool.fit_each(fit, list(range(50)))
    gate.set()
    assert len(started) < 50
