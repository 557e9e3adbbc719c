"""Predicting only the bars the layer judges gives, at those bars, exactly what predicting
every bar gives; other bars stay unknown, and a walk-forward window holding no wanted bar
is never fitted."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config.schema import config_from_dict
from engine.data.sources import load_source
from engine.signals.filters import predict
from engine.signals.filters.features import Bars

WINDOWS = {"train_window": 300, "retrain_every": 100}


@pytest.fixture(scope="module")
def bars():
    return Bars.of(load_source("arch:sp500", start="2004-01-01",
                               end="2007-12-31").frames["SP500"])


@pytest.fixture(scope="module")
def cfg():
    return config_from_dict({"filters": {"enabled": True, "walk_forward": True,
                                         "volatility": {"type": "lightgbm"},
                                         "volume": {"type": "lightgbm"}}}).filters


def _wanted(n: int) -> np.ndarray:
    # Bars in some windows only: the windows [500, 600) and [800, 900) hold none.
    rng = np.random.default_rng(3)
    picks = np.concatenate([rng.choice(np.arange(300, 500), 25, replace=False),
                            rng.choice(np.arange(600, 800), 25, replace=False),
                            np.arange(900, n, 7)])
    return np.sort(picks)


def _runs(bars, cfg):
    regime = None
    return {
        "direction": lambda at: predict.direction_walk_forward(bars, cfg.direction, regime,
                                                               **WINDOWS, at=at),
        "volatility regressor": lambda at: predict.volatility_walk_forward(
            bars, cfg.volatility, **WINDOWS, at=at),
        "volatility garch": lambda at: predict.volatility_walk_forward(
            bars, _garch(cfg.volatility), **WINDOWS, at=at),
        "volume classifier": lambda at: predict.volume_walk_forward(bars, cfg.volume, regime,
                                                                    **WINDOWS, at=at),
    }


def _garch(vol_cfg):
    from dataclasses import replace

    return replace(vol_cfg, type="garch")


@pytest.mark.parametrize("which", ["direction", "volatility regressor", "volatility garch",
                                   "volume classifier"])
def test_wanted_bars_predict_as_every_bar_does(bars, cfg, which):
    run = _runs(bars, cfg)[which]
    every, some = run(None), run(_wanted(len(bars)))
    at = _wanted(len(bars))
    assert every.known[at].sum() > 50
    np.testing.assert_array_equal(some.known[at], every.known[at])
    np.testing.assert_array_equal(some.value[at], every.value[at])
    np.testing.assert_array_equal(some.probability[at], every.probability[at])
    np.testing.assert_array_equal(some.flag[at], every.flag[at])
    others = np.ones(len(bars), dtype=bool)
    others[at] = False
    assert not some.known[others].any()
    # windows whose bars hold no wanted bar were skipped, every other one fitted
    assert 500 not in some.fits and 800 not in some.fits
    assert set(some.fits) == set(every.fits) - {500, 800}
