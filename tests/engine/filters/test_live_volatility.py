"""The live volatility filter with a stored regressor of realized volatility predicts as the
stored-model backtest does, bit for bit: the newest row of the volatility features is the
backtest matrix's row at that bar."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.signals.filters import realized
from engine.signals.filters.backtest import for_prediction
from engine.signals.filters.features import (
    Bars,
    finite_rows,
    volatility_features,
    volatility_features_at_end,
)
from engine.signals.filters.layer import SignalLayer, StoredModel
from engine.signals.filters.live import LiveFilters
from engine.signals.filters.predict import volatility_stored

BARS, FIRST, WINDOW = 1600, 700, 600  # WINDOW: the live desk's bars (MIN_WINDOW)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400),
       lookback=st.sampled_from([2, 5, 20, 50, 100]), holes=st.booleans(),
       flat=st.booleans())
def test_the_newest_row_is_the_matrix_last_row_bit_for_bit(seed, n, lookback, holes, flat):
    """Random walks with NaN bars and flat stretches (zero variance: the log floor)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    if flat:
        close[int(rng.integers(0, n)):] = close[int(rng.integers(0, n))]
    if holes:
        close[rng.random(n) < 0.05] = np.nan
    bars = Bars(close * 1.001, close * 1.01, close * 0.99, close, np.ones(n))
    assert np.array_equal(volatility_features_at_end(bars, lookback),
                          volatility_features(bars, lookback)[-1:], equal_nan=True)


def _cfg(kind: str):
    return config_from_dict({"filters": {"enabled": True, "direction": {"enabled": False},
                                         "volume": {"enabled": False},
                                         "volatility": {"type": kind, "threshold": 0.006}}})


@pytest.mark.parametrize("kind", ["lightgbm", "random_forest"])
def test_live_regressor_is_the_stored_backtest_bit_for_bit(kind):
    cfg = _cfg(kind)
    vol = cfg.filters.volatility
    # Fitted on other bars than the ones it judges, as `desk train` fits it.
    other = Bars.of(load_source("sim:ETH/USDT", bars=2000, seed=3).frames["ETH/USDT"])
    x = volatility_features(other, vol.lookback)
    y = realized.realized_variance(other.close, vol.forecast_horizon)
    rows = finite_rows(x) & np.isfinite(y)
    # As `load_stored_models` loads it (a forest predicts on one thread: in tree order).
    model = for_prediction(realized.fit_regressor(kind, x[rows], y[rows]))
    bars = Bars.of(load_source("sim:ETH/USDT", bars=BARS, seed=9).frames["ETH/USDT"])
    judged = np.arange(FIRST, BARS, 7)
    expected = volatility_stored(bars, vol, model, 0, at=judged)
    layer = SignalLayer(cfg.filters, None, False, 0.1, 0.25, walk_forward=False,
                        stored={"X": {"volatility": StoredModel("v", model)}})
    live = LiveFilters(layer, ["X"])
    flags = set()
    for t in judged:
        # The live desk's window: its last WINDOW bars, not the backtest's whole frame.
        window = bars.slice(t - WINDOW + 1, t + 1)
        (p,) = live.predictions("X", window, None)
        last = WINDOW - 1
        assert p.known[last] and expected.known[t]
        assert p.value[last] == expected.value[t], t
        assert p.probability[last] == expected.probability[t], t
        assert p.flag[last] == expected.flag[t], t
        flags.add(bool(p.flag[last]))
    assert flags == {True, False}  # the threshold splits the judged bars: both verdicts seen


@pytest.mark.parametrize(("model", "kind"), [("garch", "garch"), ("vol_lightgbm", "lightgbm")])
def test_a_live_desk_without_quality_judges_with_the_stored_model(tmp_path, model, kind):
    """Through the engine: the stored model loads, GARCH's recursion is primed from the
    warm-up bars though [quality] is off (unprimed, the first judgement would be refused),
    and every judged decision carries the volatility verdict of the model's type."""
    from engine.signals.filters.training import TrainOptions, train
    from tests.live_engine import judged_decisions

    db = str(tmp_path / "desk.db")
    sections = {"feed": {"symbols": ["BTC/USDT"], "history_bars": 300},
                "engine": {"approval": "auto"},
                "filters": {"enabled": True, "direction": {"enabled": False},
                            "volume": {"enabled": False},
                            "volatility": {"type": kind, "threshold": 0.0005}}}
    train(config_from_dict({"store": {"path": db}} | sections),
          TrainOptions(data="sim:BTC/USDT", model=model, end="2026-02-01"))
    judged = judged_decisions(tmp_path, 300, **sections)
    assert judged, "no decision was judged"
    for record in judged:
        (verdict,) = record["filters"]
        assert verdict["filter"] == "volatility" and verdict["model"] == kind
        assert verdict["prediction"].startswith(("high ", "low ")), record  # known
