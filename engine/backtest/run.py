"""The backtest: the trading core replayed over history on a simulated clock.

Signals are computed vectorized once per symbol (`engine.signals.pipeline`); the event loop
(`engine.backtest.loop`) then visits only the bars where something happens — a decision
changes, an order waits for its fill, a stop is hit — in time order, and asks the same
`Trader` the live engine uses.
Equity between those bars is filled in by array operations at the end.

Timing convention: a decision on bar t's close fills at bar t+1's open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from engine.backtest.execution import QualityTally, executor_store
from engine.backtest.loop import EventLoop
from engine.risk.market import ArrayHistory
from engine.signals.pipeline import SymbolPlan, plan_symbol
from engine.signals.regime.labels import LABELS
from engine.signals.regime.policy import DEFAULT_REFIT_EVERY
from engine.trading.journal import MemoryJournal
from engine.trading.kernel import Kernel
from engine.trading.trades import Trade


@dataclass(frozen=True)
class BacktestSpec:
    strategies: Mapping[str, object]  # id -> Strategy
    ensemble: object | None  # EnsembleManager, or None for one strategy
    cash: Decimal
    fee: Decimal
    slippage_bps: Decimal
    size: float
    allow_short: bool
    risk_limits: object  # engine.trading.risk.RiskLimits
    regime: bool = True
    regime_window: int = 500
    regime_states: int = 3
    regime_refit_every: int = DEFAULT_REFIT_EVERY  # bars between regime fits
    stops: bool = True
    label: str = "ensemble"
    execution: object | None = None  # ExecutionConfig: how every order is executed (a
    # market order is a one-part session), on the simulated clock
    warmup: int = 0  # bars that only prime the strategies, as the live history does
    risk_free_rate: float = 0.02  # [metrics] risk_free_rate: annual, in Sharpe and Sortino
    # symbol -> contract multiplier (engine.instruments.Instruments.multiplier); None: all 1
    multiplier: Callable[[str], Decimal] | None = None
    signal_layer: object | None = None  # filters + quality (engine.signals.filters.layer)
    # engine.portfolio.backtest.PortfolioBacktestSettings: portfolio mode's periodic
    # rebalance check runs in the kernel ([portfolio] enabled); None: off.
    portfolio: object | None = None


@dataclass
class BacktestResult:
    label: str
    metrics: dict
    trades: list[Trade]
    equity: object  # pandas.Series
    timing: dict
    decisions: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    regimes: dict = field(default_factory=dict)


class _Clock:
    """The simulated clock: the time of the bar being processed."""

    def __init__(self) -> None:
        self.now = datetime(1970, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def run_backtest(
    frames: Mapping[str, object],
    spec: BacktestSpec,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Run `spec` over `frames` (symbol -> OHLCV DataFrame, sharing one index)."""
    from engine.brokers.paper import PaperBroker

    started = time.perf_counter()
    symbols = list(frames)
    index = frames[symbols[0]].index
    n = len(index)
    arrays = {s: _ohlcv(frames[s]) for s in symbols}
    plans = {
        s: plan_symbol(
            frames[s],
            spec.strategies,
            spec.ensemble,
            regime_window=spec.regime_window if spec.regime else None,
            regime_states=spec.regime_states,
            regime_refit_every=spec.regime_refit_every,
            layer=spec.signal_layer,
            symbol=s,
        )
        for s in symbols
    }
    clock = _Clock()
    with executor_store(spec) as store:
        broker = PaperBroker(fee=spec.fee, slippage_bps=spec.slippage_bps,
                             multiplier=spec.multiplier, keep_done=False)
        kernel = Kernel(spec, broker=broker,
                        journal=MemoryJournal(keep_events=False), execution_store=store,
                        clock=clock, id_prefix="bt")
        # The gate's market rules (correlation, volatility, liquidity) read the same bars
        # the live desk would have seen at each order's time.
        loop = EventLoop(symbols, index, arrays, plans, kernel, clock, spec)
        kernel.gate.attach_market(ArrayHistory(index, arrays, micros=loop.micros,
                                               days=loop.day_of))
        tally = QualityTally(kernel.executor, frames)
        loop.run(progress)
        loop.close_open_positions()
        execution = tally.summary()
    trader = kernel.trader
    from engine.trading.metrics import compute_metrics

    equity = loop.equity_curve()
    exposure = float(np.mean(loop.exposed)) if n else 0.0
    trades = trader.trades.closed
    metrics = compute_metrics(equity.to_numpy(), equity.index, trades, exposure,
                              risk_free_rate=spec.risk_free_rate)
    run_s = time.perf_counter() - started  # engine time: everything but loading the data
    return BacktestResult(
        label=spec.label,
        metrics=metrics,
        trades=trades,
        equity=equity,
        timing={"run_s": run_s, "bars": n * len(symbols),
                "bars_per_s": (n * len(symbols)) / run_s if run_s > 0 else float("inf")},
        decisions=loop.decisions,
        stats={
            "orders_proposed": trader.stats.proposed,
            "orders_denied": trader.stats.denied,
            "orders_filled": trader.stats.filled,
            # rule id -> {"count", "example"}: one entry per rule, not per message text
            "deny_reasons": trader.stats.deny_summary(),
            "stops_hit": kernel.stops_hit,
            "execution": execution,
            "signal_layer": _signal_layer_summary(plans, index),
        },
        regimes={s: _regime_summary(plans[s]) for s in symbols},
    )


def _signal_layer_summary(plans, index) -> dict:
    """Per symbol: each filter's veto / pass counts, and the verdicts and quality score of
    every decision the ensemble made (dropped ones too), keyed by bar time."""
    from engine.signals.filters.summary import layer_summary

    return layer_summary(plans, index)


def _ohlcv(frame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in
            ("open", "high", "low", "close", "volume")}


def _regime_summary(plan: SymbolPlan) -> dict:
    known = plan.regime[plan.regime >= 0]
    if not len(known):
        return {}
    counts = np.bincount(known, minlength=len(LABELS))
    return {label: float(counts[i] / len(known)) for i, label in enumerate(LABELS)}
