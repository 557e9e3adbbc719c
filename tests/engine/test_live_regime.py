"""Live and backtest follow one regime rule: stepping the live engine's per-symbol state
gives, bar for bar, the regime labels the backtest's `plan_symbol` computes."""

from __future__ import annotations

import numpy as np

from engine.live.feeds import SimFeed
from engine.signals.pipeline import plan_symbol
from engine.signals.regime.labels import LABELS as REGIME_LABELS
from tests.live_engine import START, live_engine


def test_live_regime_labels_equal_the_backtest_plan(tmp_path):
    # History 300 bars, fits at bars 120, 180, 240, ... : the warm-up spans several fits
    # and the live steps see four more refits.
    regime = {"regime": True, "regime_window": 120, "regime_refit_every": 60,
              "regime_states": 3, "approval": "auto"}
    engine, _, cfg = live_engine(tmp_path, engine=regime)
    steps = 240
    live = {s: [] for s in cfg.feed.symbols}
    sizes = {s: [] for s in cfg.feed.symbols}
    for _ in range(steps):
        engine.step()
        for symbol, state in engine.symbols.items():
            live[symbol].append(state.regime_index)
            sizes[symbol].append(state.size_multiplier)
    engine.stop()
    market = SimFeed(cfg.feed.symbols, seed=cfg.feed.seed, freq=cfg.feed.freq,
                     history_bars=cfg.feed.history_bars, now=START).market
    frames = market.history(cfg.feed.history_bars + steps)
    for symbol, frame in frames.items():
        plan = plan_symbol(frame, engine.strategies, engine.ensemble, regime_window=120,
                           regime_states=3, regime_refit_every=60)
        np.testing.assert_array_equal(plan.regime[-steps:], np.array(live[symbol]))
        np.testing.assert_array_equal(plan.size_multiplier[-steps:], np.array(sizes[symbol]))
        assert len(plan.regime_model.fits) == 7  # bars 120, 180, ..., 480
        assert len(set(live[symbol])) >= 2 and min(live[symbol]) >= 0
        assert set(REGIME_LABELS) >= {REGIME_LABELS[i] for i in live[symbol]}
