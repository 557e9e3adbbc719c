"""A portfolio backtest over many assets: rotation, a scheme's target weights, threshold or
periodic rebalancing, hedging into the quote currency and the drawdown controller, bar by
bar on closing prices.

Conventions:
- Decisions at bar t use closes up to and including t; trades fill at t's close with the
  slippage against the trader (buy at close x (1 + s), sell at close x (1 - s)) and the fee
  on the notional. Spot, long-only: cash never goes below zero (sells first).
- Targets are re-estimated every `period_days` (calendar days) on the trailing `window`
  bars; in periodic mode that is when the book rebalances; in threshold mode the book
  rebalances when its weights drift past a threshold from the current targets.
- Hedging and the drawdown controller are checked every `min_interval_days`; a hedge step
  rebalances at once (it is a risk action, not subject to the cost-vs-benefit skip).
- ADX is Wilder's (14) on closes only (high = low = close, as a prices-only file has no
  range), averaged over the held assets; volatility is the daily standard deviation of
  the book's returns over the last 20 days.
- Every decision (rebalance, skip with its reason, hedge step, drawdown state change) is a
  journal entry with its time and reason.

This loop is the portfolio layer's own; it does not yet send its baskets through the
kernel's risk gate, approval and executors (the live desk does not run portfolio mode yet).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.portfolio.drawdown_control import DrawdownPolicy, controller_state, drawdown_from_peak
from engine.portfolio.hedging import HedgePolicy, MarketConditions, hedge_step
from engine.portfolio.inputs import bars_per_day, periods_per_year
from engine.portfolio.rebalance import RebalancePolicy, decide_rebalance
from engine.portfolio.targets import TargetRules, final_targets, scheme_targets

VOL_WINDOW_DAYS = 20
ADX_PERIOD = 14


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
    # One per order: ts, symbol, side, qty, price (slippage included), fee.
    fills: list[dict[str, Any]] = field(default_factory=list)


def _close_only_adx(closes: np.ndarray) -> np.ndarray:
    from engine.signals.indicators import adx

    return np.column_stack([adx(c, c, c, ADX_PERIOD).adx for c in closes.T])


def run_portfolio_backtest(
    prices: pd.DataFrame, settings: PortfolioBacktestSettings
) -> PortfolioBacktestResult:
    """Run the book over `prices` (closes, one column per asset, checked by the caller)."""
    started = time.perf_counter()
    assets = tuple(str(c) for c in prices.columns)
    closes = prices.to_numpy(dtype=float)
    index = prices.index
    ppy = periods_per_year(index)
    per_day = bars_per_day(index)
    vol_bars = max(int(round(VOL_WINDOW_DAYS * per_day)), 2)
    adx_values = _close_only_adx(closes)
    strength = None
    if settings.rules.rotation_method in ("signal", "both") and settings.signal_members:
        from engine.portfolio.signal_strength import signal_strength

        strength = signal_strength(closes, settings.signal_members, settings.signal_params)
    rules, policy = settings.rules, settings.rebalance
    fee, slip = policy.fee, policy.slippage_bps / 10_000
    first = rules.window  # the first bar with a full trailing window
    if first >= len(closes) - 1:
        from engine.portfolio.errors import PortfolioInputError

        raise PortfolioInputError(
            f"too few rows: {len(closes)} bars, the scheme's window needs {rules.window + 2}")

    qty = np.zeros(len(assets))
    cash = settings.cash
    peak = cash
    hedge_fraction, dd_level, scalar = 0.0, "normal", 1.0
    base: dict[str, float] = {}
    target: dict[str, float] = {}
    cov, chosen = None, ()
    last_refresh = last_rebalance = last_check = last_skip = None
    journal: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    equity_path = np.full(len(closes), np.nan)
    weight_path = np.zeros((len(closes), len(assets)))
    drift_path = np.zeros(len(closes))
    traded = costs = 0.0
    counts = {"rebalances": 0, "skipped": 0, "hedges": 0, "unhedges": 0, "refreshes": 0}
    position = {a: i for i, a in enumerate(assets)}

    def log(t: int, kind: str, **payload: Any) -> None:
        journal.append({"ts": index[t].isoformat(), "kind": kind, **payload})

    for t in range(first, len(closes)):
        price = closes[t]
        now = index[t].to_pydatetime()
        equity = cash + float(qty @ price)
        peak = max(peak, equity)
        equity_path[t] = equity
        current = {a: qty[i] * price[i] / equity for i, a in enumerate(assets) if qty[i] > 0}
        force = None
        # Risk checks: drawdown controller and hedge, at most every min_interval_days.
        if last_check is None or (now - last_check).total_seconds() >= (
                policy.min_interval_days * 86_400 - 1):
            last_check = now
            drawdown = drawdown_from_peak(peak, equity)
            state = controller_state(drawdown, settings.drawdown, dd_level)
            if state.level != dd_level:
                log(t, "drawdown.controller", level=state.level, scalar=state.scalar,
                    drawdown=round(drawdown, 6))
                dd_level, scalar = state.level, state.scalar
                force = f"drawdown controller {state.level} (x{state.scalar:g})"
            held = [position[a] for a in chosen] or list(range(len(assets)))
            adx_now = float(np.nanmean(adx_values[t, held])) if np.isfinite(
                adx_values[t, held]).any() else None
            vol = None
            if t - first >= vol_bars:
                recent = equity_path[t - vol_bars: t + 1]
                vol = float(np.std(recent[1:] / recent[:-1] - 1.0, ddof=1)
                            * math.sqrt(per_day))
            step = hedge_step(hedge_fraction, MarketConditions(adx_now, vol, drawdown),
                              settings.hedge)
            if step.action != "hold":
                counts["hedges" if step.action == "hedge" else "unhedges"] += 1
                log(t, f"hedge.{step.action}", fraction=round(step.fraction, 6),
                    triggers=list(step.triggers))
                hedge_fraction = step.fraction
                force = f"{step.action} to {step.fraction:.0%} in the quote currency" + (
                    f" ({'; '.join(step.triggers)})" if step.triggers else "")
        # Targets: re-estimated every period_days on the trailing window.
        if last_refresh is None or (now - last_refresh).total_seconds() >= (
                policy.period_days * 86_400 - 1):
            last_refresh = now
            signal = None if strength is None else dict(zip(assets, strength[t].tolist(),
                                                             strict=True))
            made = scheme_targets(closes[t - rules.window: t + 1], assets, rules, ppy, signal,
                                  per_day)
            base, chosen, cov = made.weights, made.chosen, made.cov
            counts["refreshes"] += 1
            log(t, "targets", weights={a: round(w, 6) for a, w in base.items()},
                note=made.note)
        target = final_targets(base, scalar, hedge_fraction)
        # Allocation limits in quote currency: no position above the maximum, none opened
        # below the minimum (its weight goes to the quote currency).
        cap, floor = settings.max_position_size / equity, settings.min_position_size / equity
        target = {a: min(w, cap) for a, w in target.items() if w >= floor}
        drift_path[t] = max((abs(current.get(a, 0) - target.get(a, 0))
                             for a in set(current) | set(target)), default=0.0)
        if force is not None:
            act, reason = True, force
        else:
            decision = decide_rebalance(now, last_rebalance, current, target, policy,
                                        equity=equity, cov=cov, assets=chosen or None)
            act, reason = decision.act, decision.reason
            # A skip is journaled (and counted) once per min_interval_days, not every bar
            # the drift stays past its threshold.
            if not act and decision.reason.startswith("skipped") and (
                    last_skip is None or (now - last_skip).total_seconds()
                    >= policy.min_interval_days * 86_400 - 1):
                last_skip = now
                counts["skipped"] += 1
                log(t, "rebalance.skipped", reason=decision.reason)
        if act:
            # Sells first so their cash pays for the buys.
            wanted = np.array([target.get(a, 0.0) for a in assets]) * equity
            delta = wanted / price - qty
            notional = np.abs(delta) * price
            delta[notional < settings.min_position_size] = 0.0
            delta[(wanted == 0) & (qty > 0)] = -qty[(wanted == 0) & (qty > 0)]  # close out
            sells, buys = np.minimum(delta, 0.0), np.maximum(delta, 0.0)
            proceeds = float(-sells @ price) * (1 - slip)
            sell_fee = proceeds * fee
            cash += proceeds - sell_fee
            cost_of_buys = float(buys @ price) * (1 + slip)
            if cost_of_buys * (1 + fee) > cash and cost_of_buys > 0:
                buys *= cash / (cost_of_buys * (1 + fee))  # fees never push cash below 0
                cost_of_buys = float(buys @ price) * (1 + slip)
            buy_fee = cost_of_buys * fee
            cash -= cost_of_buys + buy_fee
            stamp = index[t].isoformat()
            for i in np.flatnonzero(sells + buys):
                side = "buy" if buys[i] > 0 else "sell"
                size = float(buys[i] if buys[i] > 0 else -sells[i])
                fill = price[i] * (1 + slip if side == "buy" else 1 - slip)
                fills.append({"ts": stamp, "symbol": assets[i], "side": side, "qty": size,
                              "price": fill, "fee": size * fill * fee})
            qty = qty + sells + buys
            turnover = float((-sells + buys) @ price)
            traded += turnover
            costs += sell_fee + buy_fee + turnover * slip
            last_rebalance = now
            counts["rebalances"] += 1
            log(t, "rebalance", reason=reason, turnover=round(turnover / equity, 6),
                orders=int(np.count_nonzero(sells + buys)))
        equity_after = cash + float(qty @ price)
        equity_path[t] = equity_after
        weight_path[t] = qty * price / equity_after
    keep = slice(first, len(closes))
    equity = pd.Series(equity_path[keep], index=index[keep], name="equity")
    weights = pd.DataFrame(weight_path[keep], index=index[keep], columns=list(assets))
    elapsed = time.perf_counter() - started
    summary = _summary(equity, weights, traded, costs, counts, ppy)
    return PortfolioBacktestResult(equity, weights, pd.Series(drift_path[keep],
                                   index=index[keep], name="drift"), journal, summary,
                                   {"seconds": elapsed, "bars": len(equity)}, fills)


def _summary(equity: pd.Series, weights: pd.DataFrame, traded: float, costs: float,
             counts: dict[str, int], ppy: float) -> dict[str, Any]:
    from engine.trading.metrics import compute_metrics

    metrics = compute_metrics(equity.to_numpy(), equity.index, [], float(
        (weights.sum(axis=1) > 1e-9).mean()), periods_per_year=ppy)
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
