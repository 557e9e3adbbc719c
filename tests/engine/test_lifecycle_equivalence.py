"""Live and backtest follow the same lifecycle: bar by bar the live engine reaches the
decisions, weights and statuses the backtest's walk-forward computes over the same bars,
with adaptive weights and retirement on (aggressive settings, so both really act)."""

from __future__ import annotations

import numpy as np

from engine.lifecycle.book import status_changes, weight_updates
from engine.live.feeds import SimFeed
from engine.signals.pipeline import plan_symbol
from tests.engine.test_live import ALL_SIX
from tests.live_engine import START, live_engine

AGGRESSIVE = {
    "adaptive": {"enabled": True, "update_every": 2, "min_trades": 2},
}
RETIREMENT = {"enabled": True, "window": 8, "min_trades": 4, "failed_checks": 1,
              "suspend_after": 2, "recovery_trades": 2, "cooldown_hours": 1.0}


def test_live_lifecycle_equals_the_backtest_walk_forward(tmp_path):
    members = [{"id": s, "weight": 1.0} for s in ALL_SIX]
    ensemble = {"strategies": members, "mode": "confidence_average",
                "thresholds": {"confidence": 0.2}} | AGGRESSIVE
    engine, _, cfg = live_engine(tmp_path, ensemble=ensemble,
                                 strategies={"retirement": RETIREMENT},
                                 engine={"approval": "auto", "regime": False})
    steps = 250
    live = {s: [] for s in cfg.feed.symbols}
    weights = {s: [] for s in cfg.feed.symbols}
    for _ in range(steps):
        engine.step()
        for symbol, state in engine.symbols.items():
            live[symbol].append(int(state.side))
            current = state.ensemble.weights()
            weights[symbol].append([current[sid] for sid in ALL_SIX])
    statuses = {symbol: {sid: str(state.ensemble.lifecycle.status(sid)) for sid in ALL_SIX}
                for symbol, state in engine.symbols.items()}
    audit = engine.store.audit.tail(100_000)
    engine.stop()
    live_changes = [e for e in audit if e.kind == "strategy.status_changed"]
    assert live_changes, "no status change in 250 bars: the settings are not aggressive"
    assert [e for e in audit if e.kind == "weights.updated"]

    market = SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                     history_bars=cfg.feed.history_bars, now=START).market
    frames = market.history(cfg.feed.history_bars + steps)
    engine.ensemble.lifecycle.log.drain()
    for symbol, frame in frames.items():
        frame.attrs["symbol"] = symbol
        plan = plan_symbol(frame, engine.strategies, engine.ensemble, regime_window=None)
        np.testing.assert_array_equal(plan.decision[-steps:], np.array(live[symbol]))
        np.testing.assert_allclose(plan.weights[:, -steps:].T, np.array(weights[symbol]),
                                   rtol=0, atol=1e-12)
    entries = engine.ensemble.lifecycle.log.drain()
    # The backtest saw the warm-up history too, one symbol after another: its entries
    # within the live span are the live desk's (which interleaves symbols bar by bar).
    start = frames[next(iter(frames))].index[-steps].isoformat()

    def key(p):
        return p["symbol"], p["ts"], p["strategy"], p["old"], p["new"]

    assert sorted(key(e) for e in status_changes(entries) if e["ts"] >= start) == \
        sorted(key(e.payload) for e in live_changes)
    live_updates = [e.payload for e in audit if e.kind == "weights.updated"]
    assert sorted((e["symbol"], e["ts"]) for e in weight_updates(entries) if e["ts"] >= start) \
        == sorted((e["symbol"], e["ts"]) for e in live_updates)
    assert any(status != "ACTIVE" for row in statuses.values() for status in row.values())
