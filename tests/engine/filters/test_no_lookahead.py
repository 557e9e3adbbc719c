"""No look-ahead: with filters and the quality score on, a backtest over a prefix of real
data takes exactly the trades the full run takes before the cut; features and predictions
at bar t do not change when later bars do."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.backtest.job import build_spec
from engine.backtest.run import run_backtest
from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.signals.filters.backtest import build_layer
from engine.signals.filters.features import Bars, direction_features
from engine.signals.filters.predict import direction_walk_forward, volatility_walk_forward

CONFIG = {
    "feed": {"history_bars": 300},
    "engine": {"regime_window": 300, "regime_refit_every": 250},
    "filters": {"enabled": True, "walk_forward": True, "retrain_every": 100,
                "train_window": 300,
                "direction": {"confidence_threshold": 0.4},
                "volatility": {"block_high_volatility": True, "threshold": 0.012,
                               "confidence_threshold": 0.3},
                "volume": {"require_surge": False}},
    "quality": {"enabled": True, "min_score": 0.45, "min_trades": 2},
}


@pytest.fixture(scope="module")
def frame():
    return load_source("arch:sp500", start="2004-01-01", end="2011-12-31").frames["SP500"]


def _run(frames, cfg):
    spec = build_spec(cfg)
    spec = replace(spec, signal_layer=build_layer(cfg, frames, walk_forward=True))
    return run_backtest(frames, spec)


def test_a_prefix_takes_the_full_runs_trades_before_the_cut(frame):
    cfg = config_from_dict(CONFIG)
    full = _run({"SP500": frame}, cfg)
    cut = 1700
    prefix = _run({"SP500": frame.iloc[:cut]}, cfg)
    last = frame.index[cut - 1].to_pydatetime()

    def before(trades):
        return [t.to_dict() for t in trades if t.exit_time < last]

    counts = full.stats["signal_layer"]["SP500"]["counts"]
    # the layer really acted: something was vetoed and something passed
    assert sum(c["veto"] for c in counts.values()) > 0
    assert sum(c["pass"] for c in counts.values()) > 0
    assert len(before(full.trades)) >= 4
    assert before(prefix.trades) == before(full.trades)
    # and every verdict before the cut is the same
    full_records = full.stats["signal_layer"]["SP500"]["decisions"]
    prefix_records = prefix.stats["signal_layer"]["SP500"]["decisions"]
    for when, record in prefix_records.items():
        assert full_records[when] == record


def test_features_and_predictions_ignore_later_bars(frame):
    cfg = config_from_dict(CONFIG)
    bars = Bars.of(frame.iloc[:900])
    # Just after the walk-forward fit at bar 600: a fit that peeked at any label it could not
    # know yet (rows past 600 - horizon) would change the prediction of bar 600.
    cut = 601
    changed = Bars(*(np.concatenate([a[:cut], a[cut:] * 1.5]) for a in
                     (bars.open, bars.high, bars.low, bars.close, bars.volume)))
    x, x2 = direction_features(bars, 50), direction_features(changed, 50)
    np.testing.assert_array_equal(x[:cut], x2[:cut])
    kw = {"train_window": 300, "retrain_every": 100}
    d1 = direction_walk_forward(bars, cfg.filters.direction, None, **kw)
    d2 = direction_walk_forward(changed, cfg.filters.direction, None, **kw)
    v1 = volatility_walk_forward(bars, cfg.filters.volatility, **kw)
    v2 = volatility_walk_forward(changed, cfg.filters.volatility, **kw)
    for a, b in ((d1, d2), (v1, v2)):
        assert a.known[:cut].any()
        np.testing.assert_array_equal(a.value[:cut], b.value[:cut])
        np.testing.assert_array_equal(a.probability[:cut], b.probability[:cut])
