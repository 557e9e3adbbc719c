"""Backtests on arch:sp500 shared by the lifecycle tests (run once per test process)."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from engine.signals.strategies.base import SignalArrays
from engine.signals.strategies.momentum import Momentum


class InvertedMomentum(Momentum):
    """Momentum with BUY and SELL swapped: a rule that loses when momentum earns."""

    id = "momentum"

    def signals(self, prices):
        s = super().signals(prices)
        return SignalArrays(-s.side, s.confidence)


@lru_cache(maxsize=1)
def sp500_frames():
    from engine.data.sources import load_source

    market = load_source("arch:sp500")
    for symbol, frame in market.frames.items():
        frame.attrs["symbol"] = symbol
    return market.frames


def sp500_spec(overrides: tuple = (), *, inverted: bool = False):
    """The packaged configuration (with `overrides`, a tuple of (table, key, value) nested
    as "a.b") built into a spec; `inverted` swaps momentum for InvertedMomentum."""
    from engine.backtest.job import build_spec, lifecycle_book
    from engine.config.schema import config_from_dict
    from engine.signals.ensemble import EnsembleManager

    data: dict = {}
    for path, key, value in overrides:
        node = data
        for part in path.split("."):
            node = node.setdefault(part, {})
        node[key] = value
    cfg = config_from_dict(data)
    spec = build_spec(cfg)
    if not inverted:
        return spec
    strategies = dict(spec.strategies) | {"momentum": InvertedMomentum()}
    old = spec.ensemble
    base = dict(old.base_weights)
    ensemble = EnsembleManager(old.mode, list(base.items()), old.confidence_threshold,
                               old.vote_ratio, lifecycle=lifecycle_book(cfg, base))
    return dataclasses.replace(spec, strategies=strategies, ensemble=ensemble)


@lru_cache(maxsize=4)
def sp500_result(overrides: tuple = (), inverted: bool = False):
    from engine.backtest.run import run_backtest

    spec = sp500_spec(overrides, inverted=inverted)
    result = run_backtest(sp500_frames(), spec)
    entries = spec.ensemble.lifecycle.log.drain() if spec.ensemble is not None else []
    return spec, result, entries
