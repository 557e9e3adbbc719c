"""A portfolio backtest over many assets, on the one kernel: rotation, a scheme's target
weights, threshold or periodic rebalancing, hedging into the quote currency and the
drawdown controller are the kernel's portfolio mode (engine.portfolio.mode), driven bar by
bar by engine.backtest.portfolio_loop; every basket order goes through the risk gate,
approval and the executor to the paper broker, as live.

Conventions:
- Decisions at bar t use closes up to and including t; a basket decided at t's close fills
  at the next bar's open (a prices-only file: the next close), with the slippage against
  the trader and the fee on the notional. Spot, long-only: sells come first, buys are
  sized to the cash the sells leave (engine.portfolio.basket), quantities stepped down.
- Targets are re-estimated every `period_days` (calendar days) on the trailing `window`
  bars; in periodic mode that is when the book rebalances; in threshold mode the book
  rebalances when its weights drift past a threshold from the current targets.
- Hedging and the drawdown controller are checked every `min_interval_days`; a hedge step
  rebalances at once (a risk action, not subject to the cost-vs-benefit skip).
- ADX is Wilder's (14) on closes only, averaged over the held assets; volatility is the
  daily standard deviation of the book's returns over the last 20 days.
- Every decision (rebalance, skip with its reason, hedge step, drawdown state change) is a
  journal entry with its time and trigger.
- Turnover is the traded notional at the fill bar's open; costs are fees plus slippage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from engine.portfolio.drawdown_control import DrawdownPolicy
from engine.portfolio.hedging import HedgePolicy
from engine.portfolio.inputs import periods_per_year
from engine.portfolio.rebalance import RebalancePolicy
from engine.portfolio.targets import TargetRules


@dataclass(frozen=True)
class PortfolioBacktestSettings:
    rules: TargetRules
    rebalance: RebalancePolicy
    hedge: HedgePolicy
    drawdown: DrawdownPolicy
    cash: float = 100_000.0
    min_position_size: float = 100.0
    max_position_size: float = 1e15
    # (strategy id, weight) and parameters for rotation by "signal" or "both".
    signal_members: tuple[tuple[str, float], ...] = ()
    signal_params: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class PortfolioBacktestResult:
    equity: pd.Series
    weights: pd.DataFrame  # per bar, per asset, after the bar's trades
    drift: pd.Series  # largest |weight - target| per bar, before the bar's trades
    journal: list[dict[str, Any]]
    summary: dict[str, Any]
    timing: dict[str, float]
    # One per fill: ts, symbol, side, qty, price (slippage included), fee, notional (at
    # the bar's open), slippage (quote currency).
    fills: list[dict[str, Any]] = field(default_factory=list)


def run_portfolio_backtest(
    prices: pd.DataFrame, settings: PortfolioBacktestSettings, *, risk_limits: Any = None,
    execution: Any = None,
) -> PortfolioBacktestResult:
    """Run the book over `prices` (closes, one column per asset, checked by the caller) on
    the kernel. `risk_limits` (engine.trading.risk.RiskLimits) judge every order; None: a
    permissive gate. `execution` ([execution]) runs each order; None: market orders."""
    from engine.backtest.portfolio_loop import run_portfolio_loop
    from engine.portfolio.errors import PortfolioInputError

    started = time.perf_counter()
    first = settings.rules.window  # the first bar with a full trailing window
    if first >= len(prices) - 1:
        raise PortfolioInputError(f"too few rows: {len(prices)} bars, the scheme's window"
                                  f" needs {settings.rules.window + 2}")
    kernel, equity, weights, drift, fills = run_portfolio_loop(
        prices, settings, risk_limits=risk_limits, execution=execution)
    index = prices.index[first:]
    journal = kernel.portfolio_mode.journal
    equity_s = pd.Series(equity[first:], index=index, name="equity")
    weights_df = pd.DataFrame(weights[first:], index=index,
                              columns=[str(c) for c in prices.columns])
    kinds = [e["kind"] for e in journal]
    counts = {"rebalances": kinds.count("rebalance"),
              "skipped": kinds.count("rebalance.skipped"),
              "hedges": kinds.count("hedge.hedge"), "unhedges": kinds.count("hedge.unhedge"),
              "refreshes": kinds.count("targets")}
    traded = sum(f["notional"] for f in fills)
    costs = sum(f["fee"] + f["slippage"] for f in fills)
    summary = _summary(equity_s, weights_df, traded, costs, counts,
                       periods_per_year(prices.index), settings.rules.rf)
    stats = kernel.trader.stats
    summary.update({"orders_proposed": stats.proposed, "orders_denied": stats.denied,
                    "orders_filled": stats.filled, "deny_reasons": stats.deny_summary()})
    elapsed = time.perf_counter() - started
    return PortfolioBacktestResult(equity_s, weights_df,
                                   pd.Series(drift[first:], index=index, name="drift"),
                                   journal, summary, {"seconds": elapsed, "bars": len(index)},
                                   fills)


def _summary(equity: pd.Series, weights: pd.DataFrame, traded: float, costs: float,
             counts: dict[str, int], ppy: float, rf: float) -> dict[str, Any]:
    """`rf`: [metrics] risk_free_rate, in Sharpe and Sortino as in every backtest."""
    from engine.trading.metrics import compute_metrics

    metrics = compute_metrics(equity.to_numpy(), equity.index, [], float(
        (weights.sum(axis=1) > 1e-9).mean()), periods_per_year=ppy, risk_free_rate=rf)
    years = max(len(equity) / ppy, 1e-9)
    mean_equity = float(equity.mean())
    metrics.update({
        "turnover": traded / mean_equity,  # traded notional / average equity
        "turnover_annual": traded / mean_equity / years,
        "costs": costs,
        "rebalances": counts["rebalances"],
        "rebalances_skipped": counts["skipped"],
        "hedges": counts["hedges"],
        "unhedges": counts["unhedges"],
        "target_refreshes": counts["refreshes"],
        "average_holdings": float((weights > 1e-9).sum(axis=1).mean()),
        "average_cash_weight": float((1 - weights.sum(axis=1)).mean()),
    })
    return metrics
