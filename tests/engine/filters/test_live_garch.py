"""The live volatility filter's GARCH forecast is the stored-model backtest's, bit for bit:
the desk starts the recursion from its warm-up history as `predict.volatility_stored` runs
it (from the first bar after the model's training range, over every return since), then
steps it bar by bar, whatever the gaps between judgements."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.signals.filters.backtest import first_bar_after
from engine.signals.filters.features import Bars, log_returns
from engine.signals.filters.garch import GarchModel, fit_garch
from engine.signals.filters.layer import SignalLayer, StoredModel
from engine.signals.filters.live import GarchNotPrimed, LiveFilters, prime_from_history
from engine.signals.filters.predict import volatility_stored

BARS, HISTORY, WINDOW = 2000, 1200, 600  # WINDOW: the live desk's bars (MIN_WINDOW)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_source("sim:ETH/USDT", bars=BARS, seed=9).frames["ETH/USDT"]


# Near-integrated (alpha + beta = 0.999, as intraday fits often are): its recursion
# remembers where it started for thousands of bars, so a wrong start shows.
PERSISTENT = GarchModel(mu=0.001, omega=0.0004, alpha=0.01, beta=0.989, nu=None,
                        last_sigma2=0.3, last_resid=-0.4, distribution="normal",
                        loglikelihood=0.0)


@pytest.fixture(scope="module", params=["fitted", "persistent"])
def model(request) -> GarchModel:
    """A real fit (on other bars than the ones it judges), and a persistent model."""
    if request.param == "persistent":
        return PERSISTENT
    other = load_source("sim:ETH/USDT", bars=1500, seed=3).frames["ETH/USDT"]
    return fit_garch(log_returns(other["close"].to_numpy())[1:])


def _cfg():
    return config_from_dict({"filters": {"enabled": True, "direction": {"enabled": False},
                                         "volume": {"enabled": False}}})


def _live(cfg, model, trained_until: str | None) -> LiveFilters:
    layer = SignalLayer(cfg.filters, None, False, 0.1, 0.25, walk_forward=False,
                        stored={"X": {"volatility": StoredModel(
                            "v", model, trained_until=trained_until)}})
    return LiveFilters(layer, ["X"])


def _judged(seed: int, max_gap: int) -> list[int]:
    """The first live bar, its next, then bars at random gaps of up to `max_gap`."""
    rng = np.random.default_rng(seed)
    out = [HISTORY, HISTORY + 1]
    while out[-1] < BARS - 1:
        out.append(min(out[-1] + int(rng.integers(1, max_gap + 1)), BARS - 1))
    return out


def _training_end(frame: pd.DataFrame, where: str) -> str:
    return {
        "inside the history": frame.index[700],
        "before the history": frame.index[0] - pd.Timedelta(days=3),
        "at the history's last bar": frame.index[HISTORY - 1],
    }[where].isoformat()


@pytest.mark.parametrize("every_bar", [True, False], ids=["stepped every bar",
                                                          "caught up at judgements"])
@pytest.mark.parametrize("where", ["inside the history", "before the history",
                                   "at the history's last bar"])
def test_live_garch_is_the_stored_backtest_bit_for_bit(frame, model, where, every_bar):
    cfg = _cfg()
    trained_until = _training_end(frame, where)
    bars = Bars.of(frame)
    start = first_bar_after(frame.index, trained_until)
    assert start == {"inside the history": 701, "before the history": 0,
                     "at the history's last bar": HISTORY}[where]
    # Stepped every bar (as `live.step` does), a judgement may follow any gap; caught up
    # at judgements only, gaps stay inside the window.
    judged = _judged(5, 900 if every_bar else WINDOW - 1)
    expected = volatility_stored(bars, cfg.filters.volatility, model, start,
                                 at=np.array(judged))
    live = _live(cfg, model, trained_until)
    prime_from_history(live, {"X": frame.iloc[:HISTORY]}, spec=None)
    for t in range(HISTORY, BARS):
        live.on_bar("X", float(bars.open[t]), 0, False, (), "unknown")
        window = bars.slice(max(t - WINDOW + 1, 0), t + 1)
        if every_bar:
            live.advance("X", window.close)
        if t not in judged:
            continue
        (p,) = live.predictions("X", window, None)
        last = len(window) - 1
        assert p.known[last] and expected.known[t]
        assert p.value[last] == expected.value[t], t
        assert p.probability[last] == expected.probability[t], t
        assert p.flag[last] == expected.flag[t], t


def test_the_old_rule_from_the_window_start_differs(frame):
    """The check above can fail: running the recursion from the live window's first bar (the
    rule this replaced) gives another forecast than the backtest's for a persistent model
    (a fitted one of this data forgets its start within the window, to the bit)."""
    model = PERSISTENT
    cfg = _cfg()
    bars = Bars.of(frame)
    t = HISTORY + 10
    window = bars.slice(t - WINDOW + 1, t + 1)
    from_window = model.horizon_mean(
        model.next_variances(np.nan_to_num(log_returns(window.close), nan=0.0))[-1:],
        cfg.filters.volatility.forecast_horizon)[0]
    start = first_bar_after(frame.index, _training_end(frame, "inside the history"))
    backtest = volatility_stored(bars, cfg.filters.volatility, model, start,
                                 at=np.array([t]))
    assert np.sqrt(from_window) != backtest.value[t]


def test_an_unprimed_recursion_is_refused_not_guessed(frame, model):
    live = _live(_cfg(), model, None)
    bars = Bars.of(frame).slice(0, WINDOW)
    live.on_bar("X", float(bars.open[-1]), 0, False, (), "unknown")
    with pytest.raises(GarchNotPrimed, match="not started from the warm-up bars"):
        live.predictions("X", bars, None)
