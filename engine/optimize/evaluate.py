"""One trial: one backtest of the one engine, scored by a fitness.

The spec is built by `engine.backtest.job.build_spec` from the configuration and a
`--strategy NAME:key=value,...` text, exactly what `desk --backtest --strategy ...` builds,
and run by `engine.backtest.run.run_backtest`. So the fitness a search reports for a
parameter set is the one a `desk --backtest` rerun of it shows (a test holds them equal).

A walk-forward trial runs on a window of bars [start, end): the frames are cut to the
window and up to `[feed] history_bars` bars before it, which only prime the strategies (as
they do at the start of any backtest), and the metrics are those of the window's bars.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.optimize.fitness import fitness
from engine.optimize.space import strategy_spec


@dataclass(frozen=True)
class Window:
    """Bars [start, end) of the frames (0-based positions)."""

    start: int
    end: int


@dataclass(frozen=True)
class Task:
    """What to evaluate: a parameter set, over the whole data or a window of it."""

    params: Mapping[str, Any]
    window: Window | None = None
    keep_equity: bool = False  # return the equity curve too (walk-forward test windows)


@dataclass
class TrialResult:
    params: dict[str, Any]
    fitness: float
    metrics: dict[str, Any]
    elapsed_s: float
    window: Window | None = None
    equity: Any = field(default=None, repr=False)  # pandas Series, only when asked for
    trades: list[dict[str, float]] | None = None  # pnl and return_pct, with the equity


@dataclass(frozen=True)
class Objective:
    """What a trial is scored by: the strategy, the fitness and its composite weights."""

    strategy: str
    fitness: str
    weights: Mapping[str, float]


class Evaluator:
    """Runs trials in this process over frames loaded once."""

    def __init__(self, frames: Mapping[str, Any], cfg: Any, objective: Objective) -> None:
        self.frames = dict(frames)
        self.cfg = cfg
        self.objective = objective
        self.bars = len(next(iter(self.frames.values())))

    def spec(self, params: Mapping[str, Any]):
        from engine.backtest.job import build_spec

        return build_spec(self.cfg, [strategy_spec(self.objective.strategy, params)])

    def backtest(self, params: Mapping[str, Any], window: Window | None = None):
        """The backtest of `params` (the whole data, or `window` primed on the bars before
        it) and the bar where its window starts within the frames it ran on."""
        from engine.backtest.run import run_backtest

        spec = self.spec(params)
        if window is None:
            return run_backtest(self.frames, spec), 0
        prime = min(spec.warmup, window.start)
        lo = window.start - prime
        frames = {s: f.iloc[lo:window.end] for s, f in self.frames.items()}
        return run_backtest(frames, dataclasses.replace(spec, warmup=prime)), prime

    def evaluate(self, task: Task) -> TrialResult:
        started = time.perf_counter()
        result, prime = self.backtest(task.params, task.window)
        metrics = (result.metrics if task.window is None
                   else window_metrics(result, prime, self.cfg.metrics.risk_free_rate))
        metrics = jsonable(metrics)
        value = fitness(metrics, self.objective.fitness, self.objective.weights)
        equity = trades = None
        if task.keep_equity:
            equity = result.equity.iloc[prime:]
            trades = [{"pnl": float(t.pnl), "return_pct": float(t.return_pct)}
                      for t in result.trades]
        return TrialResult(dict(task.params), value, metrics, time.perf_counter() - started,
                           task.window, equity, trades)


def window_metrics(result, prime: int, risk_free_rate: float) -> dict:
    """Metrics of the bars after the priming ones (the window's own bars). Exposure is the
    share of those bars inside a trade (entry bar included, exit bar not), as the loop
    counts it. `risk_free_rate`: [metrics] risk_free_rate, as the backtest's own metrics."""
    from engine.trading.metrics import compute_metrics

    equity = result.equity.iloc[prime:]
    held = np.zeros(len(equity), dtype=bool)
    index = equity.index
    for trade in result.trades:
        lo = index.searchsorted(_stamp(trade.entry_time, index), side="left")
        hi = index.searchsorted(_stamp(trade.exit_time, index), side="left")
        held[lo:hi] = True
    exposure = float(held.mean()) if len(held) else 0.0
    return compute_metrics(equity.to_numpy(), index, result.trades, exposure,
                           risk_free_rate=risk_free_rate)


def _stamp(moment, index):
    """`moment` comparable with `index` (trades carry UTC datetimes; an index may be naive)."""
    import pandas as pd

    stamp = pd.Timestamp(moment)
    if index.tz is None and stamp.tz is not None:
        return stamp.tz_convert("UTC").tz_localize(None)
    if index.tz is not None and stamp.tz is None:
        return stamp.tz_localize("UTC")
    return stamp


def jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics as JSON data: NaN and infinities become None (as `desk --backtest --json`)."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if isinstance(v, float) and not np.isfinite(v):
            out[k] = None
        elif isinstance(v, Mapping):
            out[k] = jsonable(v)
        elif isinstance(v, np.generic):
            out[k] = v.item()
        else:
            out[k] = v
    return out
