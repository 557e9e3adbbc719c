"""The live layer scores every decision as the backtest's layer does, bar by bar."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.schema import config_from_dict
from engine.signals.filters.features import Bars
from engine.signals.filters.layer import SignalLayer
from engine.signals.filters.live import LiveFilters
from engine.signals.regime.labels import LABELS

N = 80
IDS = ("sma_cross", "rsi", "momentum")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), hold=st.floats(0.3, 0.95),
       min_trades=st.integers(1, 3))
def test_live_quality_scores_equal_the_backtest_layer(seed, hold, min_trades):
    rng = np.random.default_rng(seed)
    stances = {sid: rng.integers(-1, 2, N).astype(np.int8) for sid in IDS}
    decision = rng.integers(-1, 2, N).astype(np.int8)
    for t in range(1, N):
        if rng.random() < hold:
            decision[t] = decision[t - 1]
    regime = rng.integers(-1, 3, N).astype(np.int8)
    weights = {sid: float(w) for sid, w in zip(IDS, rng.uniform(0.5, 2, 3), strict=True)}
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, N)))
    opens = prices * np.exp(rng.normal(0, 0.005, N))
    bars = Bars(opens, prices * 1.01, prices * 0.99, prices, np.ones(N))
    cfg = config_from_dict({"quality": {"enabled": True, "min_trades": min_trades}})
    layer = SignalLayer(None, cfg.quality, False, 0.1, 0.25)
    batch = layer.apply("X", bars, decision=decision, confidence=np.ones(N),
                        size_multiplier=np.ones(N), stances=stances,
                        weights=np.array([[weights[s]] * N for s in IDS]), regime=regime,
                        regime_probs=None)
    live = LiveFilters(layer, ["X"])
    for t in range(N):
        changed = t == 0 and decision[0] != 0 or t > 0 and decision[t] != decision[t - 1]
        side = int(decision[t])
        agree = tuple(s for s in IDS if stances[s][t] == side)
        label = LABELS[regime[t]] if regime[t] >= 0 else "unknown"
        live.on_bar("X", float(opens[t]), side, changed, agree, label)
        if changed and side != 0:
            record = live.judge("X", bars.slice(0, t + 1), side=side, regime=label,
                                regime_probs=None, weights=weights, agree=agree,
                                size_multiplier=1.0)
            assert record["quality"] == batch.records[t]["quality"], t
