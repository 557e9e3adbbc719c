"""`desk train --select-features K`: each CV fold ranks the features on its own training
rows only, and the stored model judges backtests and the live desk with the features it
was fitted on."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from desk.cli import main
from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.signals.filters import classify
from engine.signals.filters.cv import time_series_folds
from engine.signals.filters.features import (
    Bars,
    direction_feature_names,
    direction_features,
    finite_rows,
)
from engine.signals.filters.select import select_features
from engine.signals.filters.target import CLASS_NAMES, CLASSES, direction_target
from engine.signals.filters.training import (
    TrainOptions,
    forward_returns,
    regime_probabilities,
    train,
)

K = 2
LOOKBACK = 50


def _planted_bars(n: int = 8000) -> tuple[Bars, int]:
    """Bars whose returns follow an AR(1) of coefficient 0.35, so the short lagged returns
    carry the next bar's move everywhere; and whose volume from the last CV fold's first test
    row on is set by the next bar's return, so vol_z is informative in those test rows only.
    Returns the bars and that first test bar."""
    rng = np.random.default_rng(11)
    r = np.zeros(n)
    shocks = rng.normal(0.0, 0.01, n)
    for t in range(1, n):
        r[t] = 0.35 * r[t - 1] + shocks[t]
    close = 100.0 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.002, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.002, n))
    volume = rng.lognormal(7.0, 0.3, n)
    rows = _rows(Bars(open_, high, low, close, volume))
    last_test = int(rows[list(time_series_folds(len(rows), 5, 1))[-1][1][0]])
    volume[last_test:-1] = np.exp(7.0 + 60.0 * r[last_test + 1:])
    return Bars(open_, high, low, close, volume), last_test


def _rows(bars: Bars) -> np.ndarray:
    """The rows `desk train` uses: every feature and the label known (horizon 1)."""
    x = direction_features(bars, LOOKBACK)
    return np.flatnonzero(finite_rows(x) & direction_target(bars.close, 1, 0.25,
                                                            LOOKBACK).known)


def _csv(bars: Bars, path) -> str:
    times = pd.date_range("2020-01-01", periods=len(bars), freq="1h", tz="UTC")
    pd.DataFrame({"timestamp": times, "open": bars.open, "high": bars.high, "low": bars.low,
                  "close": bars.close, "volume": bars.volume}).to_csv(path, index=False)
    return str(path)


def test_each_fold_ranks_features_on_its_own_training_rows_only(tmp_path):
    bars, last_test = _planted_bars()
    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")},
                            "engine": {"regime": False}})
    names = direction_feature_names(LOOKBACK, False)
    rows = _rows(bars)
    x = direction_features(bars, LOOKBACK)[rows]
    forward = forward_returns(bars.close, 1)[rows]
    folds = list(time_series_folds(len(rows), 5, 1))
    test_rows = folds[-1][1]
    assert int(rows[test_rows[0]]) == last_test
    # The premise: in the last fold's test rows vol_z tells the most about the next move,
    # enough that a ranking which saw those rows (all of them) would choose it.
    vol_z = names.index("vol_z")
    assert select_features(x[test_rows], forward[test_rows], names, 1) == (vol_z,)
    assert vol_z in select_features(x, forward, names, K)

    outcome = train(cfg, TrainOptions(data=_csv(bars, tmp_path / "planted.csv"),
                                      model="logistic", select_features=K))

    report = outcome.report
    assert len(report["folds"]) == 5
    for fold, (train_rows, _) in zip(report["folds"], folds, strict=True):
        assert fold["train_rows"] == [int(train_rows[0]), int(train_rows[-1])]
        # exactly the ranking of the fold's training rows, and never the test-only feature
        chosen = select_features(x[train_rows], forward[train_rows], names, K)
        assert fold["features"] == [names[i] for i in chosen]
        assert "vol_z" not in fold["features"]
        assert len(fold["features"]) == K
    # The stored model ranks every row (vol_z among them, rightly: it trains on them all)
    # and keeps its K features in its file and record.
    every = select_features(x, forward, names, K)
    assert list(outcome.features) == report["features"] == [names[i] for i in every]
    assert "vol_z" in outcome.features
    row = sqlite3.connect(cfg.store.path).execute(
        "SELECT features_json, params_json FROM models").fetchone()
    assert json.loads(row[0]) == list(outcome.features)
    assert json.loads(row[1])["select_features"] == K


def _stored_model(db: str):
    from pathlib import Path

    from engine.signals.filters.modelfile import load_model_file

    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM models ORDER BY id DESC").fetchone()
    return load_model_file(Path(row["file_path"]), row["file_sha256"])


def _by_hand(payload, bars: Bars, regime_probs, lookback: int, t: int) -> tuple[str, float]:
    """The prediction at bar t from the model's own features, computed here."""
    with_regime = regime_probs is not None
    names = list(direction_feature_names(lookback, with_regime))
    columns = [names.index(f) for f in payload["features"]]
    x = direction_features(bars, lookback, regime_probs)[t:t + 1, columns]
    proba = classify.class_probabilities(payload["model"], x, CLASSES)[0]
    best = int(np.argmax(proba))
    return CLASS_NAMES[CLASSES[best]], float(proba[best])


FILTERS = {"filters": {"enabled": True, "volatility": {"enabled": False},
                       "direction": {"confidence_threshold": 0.0},
                       "confidence_threshold": 0.0}}


def test_a_selected_model_judges_a_backtest_with_its_own_features(tmp_path):
    from engine.backtest.job import build_spec
    from engine.backtest.run import run_backtest
    from engine.signals.filters.backtest import build_layer

    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")}} | FILTERS)
    outcome = train(cfg, TrainOptions(data="arch:sp500", model="lightgbm", start="2000-01-01",
                                      end="2009-12-31", select_features=4))
    payload = _stored_model(cfg.store.path)
    assert payload["features"] == list(outcome.features) and len(outcome.features) == 4
    assert payload["model"].n_features_in_ == 4

    frame = load_source("arch:sp500", start="2010-01-01", end="2016-12-31").frames["SP500"]
    spec = replace(build_spec(cfg), signal_layer=build_layer(cfg, {"SP500": frame}))
    result = run_backtest({"SP500": frame}, spec)

    decisions = result.stats["signal_layer"]["SP500"]["decisions"]
    bars = Bars.of(frame)
    probs = regime_probabilities(bars.close, cfg.engine)
    index = {t.isoformat(): i for i, t in enumerate(frame.index)}
    judged = 0
    for when, record in decisions.items():
        (verdict,) = [v for v in record["filters"] if v["filter"] == "direction"]
        if verdict["prediction"] == "none":
            continue
        prediction, probability = _by_hand(payload, bars, probs, LOOKBACK, index[when])
        assert verdict["prediction"] == prediction
        assert verdict["probability"] == pytest.approx(probability, abs=1e-6)
        judged += 1
    assert judged >= 20


def test_a_selected_model_judges_live_with_its_own_features(tmp_path):
    from engine.adapters.sqlite.open import open_store
    from engine.signals.filters.live import FEATURE_TAIL, build_live_filters
    from tests.live_engine import judged_decisions

    sections = {"feed": {"symbols": ["BTC/USDT"], "history_bars": 300},
                "engine": {"approval": "auto"}} | FILTERS
    cfg = config_from_dict({"store": {"path": str(tmp_path / "desk.db")}} | sections)
    train(cfg, TrainOptions(data="sim:BTC/USDT", model="lightgbm", select_features=4))
    payload = _stored_model(cfg.store.path)

    # One judgement by hand: the newest bar of a window, from the model's own features.
    store = open_store(cfg)
    try:
        live = build_live_filters(cfg, store, ["BTC/USDT"])
    finally:
        store.close()
    window = Bars.of(load_source("sim:BTC/USDT", bars=700, seed=5).frames["BTC/USDT"])
    regime = {"bull": 0.2, "bear": 0.5, "sideways": 0.3}
    (direction, _) = live.predictions("BTC/USDT", window, regime)
    tail = window.slice(len(window) - FEATURE_TAIL, len(window))
    probs = np.full((FEATURE_TAIL, 3), np.nan)
    probs[-1] = [regime["bull"], regime["bear"], regime["sideways"]]
    prediction, probability = _by_hand(payload, tail, probs, LOOKBACK, FEATURE_TAIL - 1)
    last = len(window) - 1
    assert direction.known[last]
    assert CLASS_NAMES[int(direction.value[last])] == prediction
    assert direction.probability[last] == pytest.approx(probability, abs=1e-12)

    # And the live desk judges its decisions with it.
    records = judged_decisions(tmp_path, 300, **sections)
    seen = [v for r in records for v in r["filters"] if v["filter"] == "direction"]
    assert seen and all(v["prediction"] in ("down", "neutral", "up") for v in seen)


def test_a_model_trained_over_another_lookback_is_refused(tmp_path, capsys):
    db = str(tmp_path / "desk.db")
    assert main(["train", "--data", "arch:sp500", "--model", "logistic", "--start",
                 "2005-01-01", "--end", "2009-12-31", "--select-features", "3",
                 "--db", db]) == 0
    config = tmp_path / "filters.toml"
    config.write_text("[filters]\nenabled = true\n[filters.volatility]\nenabled = false\n"
                      "[filters.direction]\ntype = \"logistic\"\nlookback = 40\n")
    capsys.readouterr()
    code = main(["--backtest", "--data", "arch:sp500", "--start", "2010-01-01", "--db", db,
                 "--config", str(config)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "trained with lookback 50" in err and "lookback is 40" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "lightgbm", "--select-features", "0"], "expected 1 to 16"),
    (["--model", "lightgbm", "--select-features", "17"], "expected 1 to 16"),
    (["--model", "garch", "--select-features", "3"], "applies to the direction models"),
])
def test_a_bad_k_is_one_line_and_exit_2_before_any_data_loads(tmp_path, capsys, argv,
                                                                message):
    code = main(["train", "--data", "arch:sp500", "--db", str(tmp_path / "d.db"), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "d.db").exists()
