"""The live volatility filter carries GARCH's recursion from judgement to judgement: at
each judged bar its forecast is the recursion run from the first judged window over every
return since, whatever the gaps between judgements."""

from __future__ import annotations

import numpy as np

from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.signals.filters.features import Bars, log_returns
from engine.signals.filters.garch import GarchModel
from engine.signals.filters.layer import SignalLayer, StoredModel
from engine.signals.filters.live import LiveFilters

WINDOW = 600


def test_the_carried_recursion_is_the_recursion_over_every_return_since():
    cfg = config_from_dict({"filters": {"enabled": True, "direction": {"enabled": False}}})
    bars = Bars.of(load_source("sim:ETH/USDT", bars=2000, seed=9).frames["ETH/USDT"])
    # A fitted model's shape (percent units); its numbers matter less than the recursion.
    model = GarchModel(mu=0.01, omega=0.02, alpha=0.08, beta=0.9, nu=None, last_sigma2=1.1,
                       last_resid=-0.4, distribution="normal", loglikelihood=0.0)
    layer = SignalLayer(cfg.filters, None, False, 0.1, 0.25, walk_forward=False,
                        stored={"X": {"volatility": StoredModel("v", model)}})
    live = LiveFilters(layer, ["X"])
    returns = np.nan_to_num(log_returns(bars.close), nan=0.0)
    rng = np.random.default_rng(4)
    first = 1000
    judged = sorted({first, *rng.integers(first + 1, len(bars), 60).tolist(), first + 1})
    state = None
    for t in range(first - WINDOW + 1, len(bars)):  # the first bar fed is the window's
        live.on_bar("X", float(bars.open[t]), 0, False, (), "unknown")
        if t not in judged:
            continue
        window = bars.slice(t - WINDOW + 1, t + 1)
        (p,) = [p for p in live.predictions("X", window, None) if p.name == "volatility"]
        if state is None:  # the first judgement runs over its whole window
            first_returns = np.nan_to_num(log_returns(window.close), nan=0.0)
            state, since = float(model.next_variances(first_returns)[-1]), t
        else:
            state, since = model.next_from(state, returns[since + 1:t + 1]), t
        expected = np.sqrt(model.horizon_mean(np.array([state]),
                                              cfg.filters.volatility.forecast_horizon))[0]
        assert p.value[WINDOW - 1] == expected, t
