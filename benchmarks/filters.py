"""Predictive filters: training, GARCH, live inference and a walk-forward backtest, each
beside a peer measured in the same run on the same data.

    python benchmarks/filters.py [--cv-bars 100000] [--bt-bars 1000000] [--symbols 20]

Targets on a 2-core machine (issue 11):
    LightGBM train + 5-fold CV, 100k bars          <= 30 s
    GARCH(1,1) fit on 10k returns                  within 2x of arch's own fit
    live inference, all filters, 20 symbols        <= 1 ms per symbol per bar
    backtest, filters on, 1M bars, refit every 10k >= 100k bars/s

Peers: lightgbm through scikit-learn's cross_validate on the same matrix and folds; arch's
own fit; LightGBM's predict_proba of the same rows (the model alone, no features); the same
backtest with the filters off.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, turnover_label  # noqa: E402

from engine.config.schema import config_from_dict  # noqa: E402
from engine.data.sources import load_source  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process's threads and of its finished child processes (the
    regime model fits its windows in a process pool, invisible to process_time)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _clock() -> tuple[float, float]:
    return time.perf_counter(), _cpu()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since `start`: on a shared machine the wall time measures mostly
    waiting, so both are printed."""
    return time.perf_counter() - start[0], _cpu() - start[1]


def bench_cv(bars: int) -> None:
    from lightgbm import LGBMClassifier
    from sklearn.model_selection import TimeSeriesSplit, cross_validate

    from engine.signals.filters import classify, target
    from engine.signals.filters.features import Bars, direction_features, finite_rows
    from engine.signals.filters.training import _classifier_cv, regime_probabilities

    cfg = config_from_dict({})
    d = cfg.filters.direction
    frame = load_source("sim:BTC/USDT", bars=bars, seed=7, freq="1min").frames["BTC/USDT"]
    started = _clock()
    b = Bars.of(frame)
    probs = regime_probabilities(b.close, cfg.engine)
    x = direction_features(b, d.lookback, probs)
    y = target.direction_target(b.close, d.horizon, d.dead_band, d.lookback)
    rows = np.flatnonzero(finite_rows(x) & y.known)
    features_s, features_cpu = _since(started)
    started = _clock()
    _classifier_cv(x[rows], y.label[rows], target.CLASSES, target.CLASS_NAMES, "lightgbm", 5,
                   d.horizon, lambda: None)
    classify.fit_classifier("lightgbm", x[rows], y.label[rows], gap=d.horizon)
    ours, ours_cpu = _since(started)
    peer_model = classify.make_classifier("lightgbm")
    assert isinstance(peer_model, LGBMClassifier)
    started = _clock()
    cross_validate(peer_model, x[rows], y.label[rows], scoring=["accuracy", "neg_log_loss"],
                   cv=TimeSeriesSplit(5, gap=d.horizon))
    peer_model.fit(x[rows], y.label[rows])
    peer, peer_cpu = _since(started)
    print(f"LightGBM train + 5-fold CV, {bars:,} bars ({len(rows):,} rows): features and"
          f" regime {features_s:.2f} s ({features_cpu:.2f} s CPU) + CV and final fit"
          f" {ours:.2f} s ({ours_cpu:.2f} s CPU) = {features_s + ours:.2f} s (target <= 30 s);"
          f" sklearn cross_validate peer {peer:.2f} s ({peer_cpu:.2f} s CPU), ratio"
          f" {ours / peer:.2f}x")


def bench_garch() -> None:
    from arch import arch_model

    from engine.signals.filters.garch import SCALE, fit_garch

    frame = load_source("sim:BTC/USDT", bars=10_001, seed=11, freq="1h").frames["BTC/USDT"]
    r = np.diff(np.log(frame["close"].to_numpy()))
    ours = best_of(3, lambda: fit_garch(r))
    peer = best_of(3, lambda: arch_model(r * SCALE, mean="Constant", vol="GARCH", p=1, q=1,
                                         rescale=False).fit(disp="off"))
    print(f"GARCH(1,1) fit on {len(r):,} returns: {ours * 1000:.1f} ms; arch's own fit"
          f" {peer * 1000:.1f} ms, ratio {ours / peer:.2f}x (target <= 2x)")


def bench_live(symbols: int) -> None:
    from engine.signals.filters.features import Bars, direction_features
    from engine.signals.filters.garch import fit_garch
    from engine.signals.filters.layer import SignalLayer, StoredModel
    from engine.signals.filters.live import LiveFilters
    from engine.signals.filters.training import _train_direction

    cfg = config_from_dict({"filters": {"enabled": True}, "quality": {"enabled": True}})
    names = [f"S{i:02d}/USDT" for i in range(symbols)]
    market = load_source("sim:" + ",".join(names), bars=6000, seed=3, freq="1min")
    first = Bars.of(market.frames[names[0]])
    _, direction, _, _ = _train_direction(first.slice(0, 5000), cfg.filters.direction,
                                          "lightgbm", None, 5, lambda: None)
    vol = fit_garch(np.diff(np.log(first.close[:5000])))
    stored = {s: {"direction": StoredModel("d", direction), "volatility": StoredModel("v", vol)}
              for s in names}
    layer = SignalLayer(cfg.filters, cfg.quality, False, 0.1, 0.25, walk_forward=False,
                        stored=stored)
    live = LiveFilters(layer, names)
    windows = {s: Bars.of(market.frames[s]).slice(5400, 6000) for s in names}
    for s in names:  # the desk's start: GARCH's recursion from the bar after its training
        live.prime_garch(s, market.frames[s]["close"].to_numpy()[:6000], 5000)
    weights = {"sma_cross": 1.0, "rsi": 1.0}

    def judge_all():
        for s in names:
            live.on_bar(s, float(windows[s].open[-1]), 1, True, ("sma_cross",), "bull")
            live.judge(s, windows[s], side=1, regime="bull", regime_probs=None,
                       weights=weights, agree=("sma_cross",), size_multiplier=1.0)

    ours = best_of(5, judge_all) / symbols
    rows = np.vstack([direction_features(windows[s], cfg.filters.direction.lookback)[-1:]
                      for s in names])
    booster = direction.booster_
    peer = best_of(5, lambda: [booster.predict(rows[i:i + 1], num_threads=1)
                               for i in range(symbols)]) / symbols
    print(f"live inference, direction + GARCH + volume + quality, {symbols} symbols:"
          f" {ours * 1000:.3f} ms per symbol per bar (target <= 1 ms); LightGBM's booster"
          f" predicting one row {peer * 1000:.3f} ms, ratio {ours / peer:.1f}x")


@contextmanager
def _timed(owner: object, name: str, totals: dict[str, list[float]], key: str):
    """Add the wall and CPU seconds of every call of `owner.name` to totals[key] while the
    block runs: where a backtest's time goes, without changing what it computes."""
    original = getattr(owner, name)
    totals[key] = [0.0, 0.0]

    def wrapper(*args, **kwargs):
        started = _clock()
        try:
            return original(*args, **kwargs)
        finally:
            wall, cpu = _since(started)
            totals[key][0] += wall
            totals[key][1] += cpu

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def bench_backtest(bars: int) -> None:
    from engine.backtest.job import build_spec
    from engine.backtest.run import run_backtest
    from engine.signals.filters.backtest import build_layer
    from engine.signals.filters.layer import SignalLayer
    from engine.signals.regime.policy import RegimePolicy

    market = load_source("sim:BTC/USDT", bars=bars, seed=7, freq="1min")
    cfg = config_from_dict({"filters": {"enabled": True, "walk_forward": True,
                                        "retrain_every": 10_000, "train_window": 10_000}})
    spec = build_spec(cfg)
    on = replace(spec, signal_layer=build_layer(cfg, market.frames, walk_forward=True))
    parts: dict[str, list[float]] = {}
    started = _clock()
    with _timed(SignalLayer, "predictions", parts, "layer"), \
            _timed(RegimePolicy, "run", parts, "regime"):
        with_filters = run_backtest(market.frames, on)
    ours, ours_cpu = _since(started)
    started = _clock()
    without = run_backtest(market.frames, spec)
    peer, peer_cpu = _since(started)
    layer = with_filters.stats["signal_layer"]["BTC/USDT"]
    counts = layer["counts"]
    vetoes = sum(c["veto"] for c in counts.values())
    judged = sum(counts["direction"].values()) if "direction" in counts else 0
    rest = ours - parts["layer"][0] - parts["regime"][0]
    rest_cpu = ours_cpu - parts["layer"][1] - parts["regime"][1]
    print(f"backtest with filters (walk-forward, refit every 10k), {bars:,} bars:"
          f" {ours:.1f} s ({ours_cpu:.1f} s CPU) = {bars / ours:,.0f} bars/s"
          f" (target >= 100k),"
          f" {turnover_label(with_filters.stats['orders_filled'], bars)}, {vetoes:,} vetoes;"
          f" filters off {peer:.1f} s ({peer_cpu:.1f} s CPU) = {bars / peer:,.0f} bars/s"
          f" ({turnover_label(without.stats['orders_filled'], bars)}), ratio"
          f" {ours / peer:.2f}x")
    print(f"  of the filters-on run: filter models {parts['layer'][0]:.1f} s"
          f" ({parts['layer'][1]:.1f} s CPU; {judged:,} judged decisions), regime model"
          f" {parts['regime'][0]:.1f} s ({parts['regime'][1]:.1f} s CPU), the rest"
          f" (strategies, event loop, orders) {rest:.1f} s ({rest_cpu:.1f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cv-bars", type=int, default=100_000)
    parser.add_argument("--bt-bars", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--only", choices=["cv", "garch", "live", "backtest"])
    args = parser.parse_args()
    runs = {"cv": lambda: bench_cv(args.cv_bars), "garch": bench_garch,
            "live": lambda: bench_live(args.symbols),
            "backtest": lambda: bench_backtest(args.bt_bars)}
    for name, run in runs.items():
        if args.only in (None, name):
            run()


if __name__ == "__main__":
    main()
