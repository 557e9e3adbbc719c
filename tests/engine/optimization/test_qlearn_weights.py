"""[ensemble] weights = "qlearn": a stored policy sets the ensemble's weights at every bar,
in backtests and live alike, and a configuration it cannot drive is one line."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest

from engine.backtest.job import build_spec
from engine.backtest.run import run_backtest
from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.errors import ConfigError
from engine.optimize.run import OptimizeRequest

SOURCE = "arch:sp500"
IDS = ("sma_cross", "rsi", "breakout")
BASE_WEIGHTS = {"sma_cross": 1.0, "rsi": 1.0, "breakout": 2.0}
TREND, VOL = 30, 10


def _settings(db, **ensemble) -> dict:
    return {
        "store": {"path": str(db)},
        "audit": {"key_path": str(db.parent / "audit.pem")},
        "feed": {"kind": "replay", "source": SOURCE, "speed": 0, "history_bars": 600},
        "engine": {"approval": "auto", "regime": True},
        "optimization": {"qlearn": {"episodes": 20, "trend_period": TREND, "vol_period": VOL}},
        "ensemble": {"strategies": [{"id": sid, "weight": w} for sid, w in BASE_WEIGHTS.items()],
                     **ensemble},
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A database holding one finished qlearn run over IDS on the S&P 500, and the run id."""
    from engine.optimize.job import run_optimization

    db = tmp_path_factory.mktemp("qlearn") / "desk.db"
    cfg = config_from_dict(_settings(db))
    outcome = run_optimization(cfg, OptimizeRequest(
        data=SOURCE, strategy=",".join(IDS), params=(), method="qlearn", seed=5, workers=1))
    return db, outcome.run_id


def _qlearn_cfg(db, run_id, **ensemble):
    return config_from_dict(_settings(db, weights="qlearn", qlearn_run=run_id, **ensemble))


def _stored_policy(db, run_id) -> dict:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (text,) = conn.execute("SELECT result_json FROM optimization_runs WHERE id = ?",
                               (run_id,)).fetchone()
    return json.loads(text)["policy"]


def _bucket(value: float, edges) -> int | None:
    """Tercile bucket of `value`; None when it lies within rounding of an edge (the two
    computations may then fairly disagree)."""
    if any(abs(value - e) <= 1e-12 * max(1.0, abs(e)) for e in edges):
        return None
    return int(sum(value > e for e in edges))


def test_a_backtest_takes_the_policy_action_of_each_bar(trained):
    """The weights at each bar are the stored Q table's greedy action for the bar's state,
    the state rebuilt here with pandas from the prices and the plan's own regime labels."""
    from engine.signals.pipeline import plan_symbol

    db, run_id = trained
    cfg = _qlearn_cfg(db, run_id)
    spec = build_spec(cfg)
    stored = _stored_policy(db, run_id)
    frame = load_source(SOURCE).frames["SP500"]
    plan = plan_symbol(frame, spec.strategies, spec.ensemble, regime_window=spec.regime_window,
                       regime_states=spec.regime_states,
                       regime_refit_every=spec.regime_refit_every, symbol="SP500")

    close = frame["close"]
    trend = (close / close.rolling(TREND).mean() - 1.0).to_numpy()
    vol = np.log(close).diff().rolling(VOL).std(ddof=0).to_numpy()
    edges = stored["symbol_edges"]["SP500"]
    q = np.array(stored["q"])
    visited = set(stored["visited"])
    total = sum(BASE_WEIGHTS.values())
    checked = chosen_bars = 0
    for t in range(len(frame)):
        tb, vb = _bucket(trend[t], edges["trend"]), _bucket(vol[t], edges["vol"])
        if tb is None or vb is None or not (np.isfinite(trend[t]) and np.isfinite(vol[t])):
            continue
        state = (int(plan.regime[t]) + 1) * 9 + tb * 3 + vb
        if state in visited:
            action = int(np.argmax(q[state]))
            expected = np.array(stored["weights"][action]) * total
            chosen_bars += 1
            strategy = stored["actions"][action]
            # One strategy weighted alone: the ensemble's stance is its stance or HOLD.
            own = plan.strategy_stances[strategy].side[t]
            assert plan.decision[t] in (0, own)
        else:
            expected = np.array([BASE_WEIGHTS[sid] for sid in IDS])
        # Retirement is on: a degraded or suspended strategy keeps its factor of this.
        nonzero = expected > 0
        factor = plan.weights[nonzero, t] / expected[nonzero]
        assert np.all(plan.weights[~nonzero, t] == 0.0)
        assert np.all(np.isin(np.round(factor, 12), (0.0, 0.5, 1.0))), (t, factor)
        checked += 1
    assert chosen_bars > 1000 and checked > 0.9 * len(frame)


def test_live_and_backtest_trade_the_same_with_qlearn_weights(trained, tmp_path):
    """The live engine stepped over the replay reads each bar's state from its bar window
    and takes the backtest's trades."""
    from engine.live.build import build_live
    from tests.one_engine import assert_same_trades, live_trades

    db, run_id = trained
    shutil.copy(db, tmp_path / "desk.db")  # the live desk writes its own database
    settings = _settings(tmp_path / "desk.db", weights="qlearn", qlearn_run=run_id)
    settings["feed"]["history_bars"] = 3000  # the last 2,031 bars are stepped live
    cfg = config_from_dict(settings)
    engine = build_live(cfg)
    assert engine.ensemble.policy is not None
    engine.start()
    while engine.step():
        pass
    engine.stop()
    frames = load_source(SOURCE).frames
    result = run_backtest(frames, build_spec(cfg))
    live, still_open = live_trades(tmp_path / "desk.db")
    assert assert_same_trades(live, still_open, [t.to_dict() for t in result.trades], 20)
    # And the policy mattered: the base weights trade otherwise.
    settings["ensemble"]["weights"] = "base"
    base = run_backtest(frames, build_spec(config_from_dict(settings)))
    assert [t.to_dict() for t in base.trades] != [t.to_dict() for t in result.trades]


def test_adaptive_bounds_hold_the_policy_weights(trained):
    """With [ensemble.adaptive] on, a one-strategy action becomes the closest weights within
    [min_mult, max_mult] x base that keep the base total (checked by hand: breakout at its
    ceiling, the others sharing the rest equally)."""
    db, run_id = trained
    policy = build_spec(_qlearn_cfg(db, run_id, adaptive={"enabled": True, "min_mult": 0.5,
                                                          "max_mult": 1.5})).ensemble.policy
    w = policy.weights_of(list(policy.actions).index("breakout"))
    # Proposal (0, 0, 4); breakout capped at 1.5 x 2 = 3; the other 1.0 is shared.
    np.testing.assert_allclose(w, [0.5, 0.5, 3.0], rtol=0, atol=1e-12)
    w = policy.weights_of(list(policy.actions).index("rsi"))
    # Proposal (0, 4, 0); rsi capped at 1.5; sma_cross and breakout take one shift x of
    # their proposals within their boxes: clip(x, 0.5, 1.5) + clip(x, 1, 3) = 2.5, x = 1.25.
    np.testing.assert_allclose(w, [1.25, 1.5, 1.25], rtol=0, atol=1e-12)
    assert policy.weights_of(-1).tolist() == [1.0, 1.0, 2.0]  # unvisited: the base


@pytest.mark.parametrize(("ensemble", "message"), [
    ({"weights": "qlearn"}, "[ensemble] qlearn_run: expected the id of a `desk optimize "
                            '--method qlearn` run when weights = "qlearn", got 0'),
    ({"weights": "qlearn", "qlearn_run": 1, "dynamic_weights": True},
     '[ensemble] dynamic_weights: expected false when weights = "qlearn"'),
    ({"weights": "qlearn", "qlearn_run": 1, "enabled": False},
     '[ensemble] enabled: expected true when weights = "qlearn"'),
    ({"weights": "policy"}, "[ensemble] weights"),
])
def test_a_bad_qlearn_setting_is_one_line(tmp_path, ensemble, message):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(_settings(tmp_path / "desk.db", **ensemble))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_run_that_cannot_drive_the_ensemble_is_one_line(trained, tmp_path):
    from engine.optimize.job import run_optimization

    db, run_id = trained
    with pytest.raises(ConfigError, match=r"^\[ensemble\] qlearn_run = 999: no such "
                                          r"optimization run in desk.db$"):
        build_spec(_qlearn_cfg(db, 999))
    other = dict(_settings(db, weights="qlearn", qlearn_run=run_id))
    other["ensemble"]["strategies"] = [{"id": "sma_cross", "weight": 1.0},
                                       {"id": "momentum", "weight": 1.0}]
    with pytest.raises(ConfigError, match=rf"^\[ensemble\] qlearn_run = {run_id}: the policy "
                                          r"weights sma_cross, rsi, breakout; the ensemble "
                                          r"has sma_cross, momentum$"):
        build_spec(config_from_dict(other))
    local = tmp_path / "desk.db"
    grid = run_optimization(config_from_dict(_settings(local)), OptimizeRequest(
        data="sim:BTC/USDT", bars=800, seed=1, strategy="sma_cross", params=("fast=3:5",),
        method="grid", workers=1))
    with pytest.raises(ConfigError, match=rf"^\[ensemble\] qlearn_run = {grid.run_id}: that "
                                          r"run is a grid run, not a qlearn run$"):
        build_spec(_qlearn_cfg(local, grid.run_id))


def test_pandas_and_the_desk_agree_on_the_state_features():
    """The independent computation above is the desk's own, to rounding."""
    from engine.optimize import market_states as ms

    close = load_source(SOURCE).frames["SP500"]["close"]
    trend, vol = ms.features(close.to_numpy(), TREND, VOL)
    np.testing.assert_allclose(trend, (close / close.rolling(TREND).mean() - 1.0), atol=1e-12)
    np.testing.assert_allclose(vol, np.log(close).diff().rolling(VOL).std(ddof=0),
                               atol=1e-12)
    assert isinstance(close, pd.Series)


def test_a_desk_labelling_regimes_otherwise_is_refused(trained):
    """The state's regime means what it meant in training only under the same model."""
    db, run_id = trained
    settings = _settings(db, weights="qlearn", qlearn_run=run_id)
    settings["engine"]["regime_window"] = 400
    with pytest.raises(ConfigError, match=rf"^\[ensemble\] qlearn_run = {run_id}: the policy "
                                          r"was trained with \[engine\] regime_window = 500, "
                                          r"the desk has 400$"):
        build_spec(config_from_dict(settings))


def test_desk_backtest_with_a_missing_run_is_one_line_and_exit_2(tmp_path, capsys):
    from desk.cli import main

    config = tmp_path / "desk.toml"
    config.write_text('[ensemble]\nweights = "qlearn"\nqlearn_run = 42\n')
    code = main(["--backtest", "--config", str(config), "--db", str(tmp_path / "desk.db"),
                 "--data", "sim:BTC/USDT", "--bars", "900", "--json", str(tmp_path / "bt.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.endswith("[ensemble] qlearn_run = 42: no such optimization run in desk.db")
    assert "\n" not in err and not (tmp_path / "bt.json").exists()
