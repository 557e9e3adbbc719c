"""Walk-forward optimization: search each train window, trade the next test window.

In window i the inner search runs over the train bars only (trials scoped "wfo:i:train").
Its best parameters replace those in force only if their train fitness beats the
incumbent's, on the same train window, by `improvement_threshold` x |incumbent's|; the
first window adopts its best. The parameters in force then run on the test window
("wfo:i:test"), primed on the bars before it like any backtest. The out-of-sample test
windows tile the data; their equity curves are stitched by compounding each window's
per-bar returns from the starting cash, and the stitched curve gets the usual metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.optimize.evaluate import Task, Window
from engine.optimize.ledger import Ledger
from engine.optimize.methods import SearchOutcome
from engine.optimize.methods.walk_forward import Split
from engine.optimize.space import ParamSpace


@dataclass
class WindowReport:
    split: Split
    params: dict[str, Any]
    adopted: bool  # the window's best replaced the parameters in force
    candidate: dict[str, Any]  # the window's best
    candidate_fitness: float
    in_sample: dict[str, Any]  # metrics of the parameters in force, train window
    out_of_sample: dict[str, Any]  # their metrics on the test window
    in_sample_fitness: float
    out_of_sample_fitness: float


@dataclass
class WalkForwardReport:
    windows: list[WindowReport] = field(default_factory=list)
    stitched_metrics: dict[str, Any] = field(default_factory=dict)
    stitched_fitness: float = 0.0
    stitched_equity: Any = None  # pandas Series
    trades: list[dict[str, float]] = field(default_factory=list)  # every test window's


Inner = Callable[[ParamSpace, Any, int], SearchOutcome]  # (space, evaluate, seed)


def walk_forward(space: ParamSpace, ledger: Ledger, splits: list[Split], inner: Inner, *,
                 threshold: float, seed: int, cash: float, fitness_of,
                 risk_free_rate: float) -> WalkForwardReport:
    """`risk_free_rate`: [metrics] risk_free_rate, in the stitched curve's Sharpe and
    Sortino as in every backtest's."""
    report = WalkForwardReport()
    seeds = np.random.SeedSequence(seed).generate_state(len(splits))
    incumbent: dict[str, Any] | None = None
    for i, split in enumerate(splits):
        scope = f"wfo:{i}:train"
        train = Window(split.train_start, split.train_end)
        evaluate = ledger.objective(scope, train)
        outcome = inner(space, evaluate, int(seeds[i]))
        adopted = incumbent is None
        if incumbent is not None:
            held = evaluate([incumbent])[0]
            adopted = outcome.fitness > held + threshold * abs(held)
        if adopted:
            incumbent = dict(outcome.best)
        assert incumbent is not None
        in_sample = ledger.result(incumbent, scope)
        test = ledger.run([Task(incumbent, Window(split.test_start, split.test_end),
                                keep_equity=True)], f"wfo:{i}:test")[0]
        report.windows.append(WindowReport(
            split, dict(incumbent), adopted, dict(outcome.best), outcome.fitness,
            in_sample.metrics, test.metrics, in_sample.fitness, test.fitness))
        report.stitched_equity = _stitch(report.stitched_equity, test.equity, cash)
        report.trades += test.trades or []
    report.stitched_metrics = stitched_metrics(report, risk_free_rate)
    report.stitched_fitness = fitness_of(report.stitched_metrics)
    return report


def _stitch(so_far, window_equity, cash: float):
    """Append a test window's curve, compounded onto the curve so far."""
    import pandas as pd

    values = window_equity.to_numpy(dtype=np.float64)
    growth = values / values[0]
    start = cash if so_far is None else float(so_far.iloc[-1])
    piece = pd.Series(start * growth, index=window_equity.index, name="equity")
    return piece if so_far is None else pd.concat([so_far, piece])


def stitched_metrics(report: WalkForwardReport, risk_free_rate: float) -> dict[str, Any]:
    """Metrics of the stitched out-of-sample curve; trade statistics pool every window's
    trades, exposure is the bar-weighted mean of the windows'; plus its fitness."""
    from engine.optimize.evaluate import jsonable
    from engine.trading.metrics import compute_metrics

    equity = report.stitched_equity
    bars = [w.split.test_end - w.split.test_start for w in report.windows]
    exposure = float(np.average([w.out_of_sample.get("exposure") or 0.0
                                 for w in report.windows], weights=bars))
    return jsonable(compute_metrics(equity.to_numpy(), equity.index, report.trades, exposure,
                                    risk_free_rate=risk_free_rate))
