"""Portfolio mode: the periodic check of the one kernel (`[portfolio] enabled = true`).

Both drivers feed it every bar of every asset in time order, through
`engine.trading.kernel.Kernel.rebalance` (the backtest at each bar's close, the live engine
at each step), so the same bars give the same decisions. At each bar it:
1. keeps the closes (the trailing window the scheme reads) and the close-only ADX;
2. every `min_interval_days`: the drawdown controller (from the equity peak) and the hedge
   (ADX of the held assets, the book's daily volatility over 20 days, the drawdown); a
   change of either forces a rebalance (a risk action, not subject to the cost skip);
3. every `period_days`: the scheme's targets re-estimated on the trailing `window`
   (rotation first), causally;
4. the targets after the drawdown scalar and the hedge, within the allocation limits in
   quote currency; then `decide_rebalance` (threshold or periodic, `min_interval_days`,
   the cost-vs-benefit skip).
It returns what to hold and why; the kernel turns that into a basket of orders through the
risk gate, approval and the executor. Every step (targets, rebalance, skip, hedge, drawdown
level) is a journal entry with its trigger, kept in `journal` and handed to the kernel.

While `busy` (a basket still waiting for approval or being executed) nothing is decided:
only the closes, the ADX and the equity path move on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from engine.portfolio.drawdown_control import controller_state, drawdown_from_peak
from engine.portfolio.hedging import MarketConditions, hedge_step
from engine.portfolio.rebalance import decide_rebalance
from engine.portfolio.targets import final_targets, scheme_targets
from engine.portfolio.trend import CloseOnlyADX

VOL_WINDOW_DAYS = 20
ADX_PERIOD = 14
_SLACK_S = 1.0  # a bar stamped a second early still counts as a full interval later


@dataclass(frozen=True)
class RebalancePlan:
    """What the book should hold now (fractions of equity) and the trigger, for the kernel."""

    targets: dict[str, float]
    reason: str
    forced: bool  # a hedge or drawdown step, not a drift or schedule


@dataclass
class PortfolioState:
    """The mode's figures after the last bar, for snapshots and the Portfolio pane."""

    targets: dict[str, float] = field(default_factory=dict)
    current: dict[str, float] = field(default_factory=dict)
    max_drift: float = 0.0
    last_reason: str = ""  # the last decision, acted on or not
    last_rebalance: datetime | None = None
    next_due: datetime | None = None  # periodic mode: the next scheduled rebalance
    hedge_fraction: float = 0.0
    hedge_triggers: tuple[str, ...] = ()
    drawdown: float = 0.0
    drawdown_level: str = "normal"
    drawdown_scalar: float = 1.0
    optimization_note: str = ""
    optimization: dict[str, float] = field(default_factory=dict)


class PortfolioMode:
    def __init__(self, settings) -> None:
        """`settings` is an `engine.portfolio.backtest.PortfolioBacktestSettings`."""
        self.settings = settings
        self.assets: tuple[str, ...] = ()
        self.journal: list[dict[str, Any]] = []
        self.state = PortfolioState()
        self._times: list[datetime] = []
        self._closes: list[np.ndarray] = []
        self._equity: list[float] = []
        self._adx: CloseOnlyADX | None = None
        self._ppy = self._per_day = None
        self._peak = 0.0
        self._base: dict[str, float] = {}
        self._chosen: tuple[str, ...] = ()
        self._cov = None
        self._last_refresh = self._last_check = self._last_skip = None
        self._last_rebalance = None

    # -- feeding -------------------------------------------------------------------------

    def observe(self, ts: datetime, closes: Mapping[str, float]) -> np.ndarray:
        """Take one bar's closes (history or live); returns them in `assets` order."""
        if not self.assets:
            self.assets = tuple(closes)
            self._adx = CloseOnlyADX(len(self.assets), ADX_PERIOD)
        row = np.array([float(closes.get(a, math.nan)) for a in self.assets])
        self._times.append(ts)
        self._closes.append(row)
        if self.settings.hedge.enabled:  # only the hedge reads the ADX
            self._adx.update(row)
        # The trailing window is all a check reads: keep a bounded history.
        keep = self._history_needed()
        if len(self._closes) > 2 * keep:
            del self._closes[:-keep]
            del self._times[:-keep]
        return row

    def _history_needed(self) -> int:
        rules = self.settings.rules
        return max(rules.window, rules.lookback) + 2 + self._signal_bars()

    def _signal_bars(self) -> int:
        return 1000 if self.settings.rules.rotation_method in ("signal", "both") else 0

    @property
    def ready(self) -> bool:
        """Whether the trailing window is full (the first bar a check can decide on)."""
        return len(self._closes) > self.settings.rules.window

    # -- the check -----------------------------------------------------------------------

    def check(self, ts: datetime, closes: Mapping[str, float], *, equity: float,
              current: Mapping[str, float], busy: bool = False) -> RebalancePlan | None:
        """One bar at its close: `equity` and `current` weights (fractions of equity) are the
        book's before this bar's trades."""
        self.observe(ts, closes)
        self._equity.append(equity)
        del self._equity[:-(self._vol_bars() + 2)]
        self._peak = max(self._peak, equity)
        state = self.state
        state.current = {a: w for a, w in current.items() if w > 0}
        if not self.ready or equity <= 0:
            return None
        if self._ppy is None:
            self._infer_calendar()
        if busy:
            return None
        settings, policy = self.settings, self.settings.rebalance
        force = self._risk_check(ts, equity)
        if _elapsed(self._last_refresh, ts, policy.period_days):
            self._refresh(ts)
        target = final_targets(self._base, state.drawdown_scalar, state.hedge_fraction)
        # Allocation limits in quote currency: none above the maximum, none opened below
        # the minimum (its weight stays in the quote currency).
        cap = settings.max_position_size / equity
        floor = settings.min_position_size / equity
        target = {a: min(w, cap) for a, w in target.items() if w >= floor}
        state.targets = target
        gaps = [abs(current.get(a, 0.0) - target.get(a, 0.0))
                for a in set(state.current) | set(target)]
        state.max_drift = max(gaps, default=0.0)
        if force is not None:
            return self._act(ts, target, force, forced=True)
        decision = decide_rebalance(ts, self._last_rebalance, state.current, target, policy,
                                    equity=equity, cov=self._cov, assets=self._chosen or None)
        state.last_reason = decision.reason
        if decision.act:
            return self._act(ts, target, decision.reason, forced=False)
        if decision.reason.startswith("skipped") and _elapsed(self._last_skip, ts,
                                                              policy.min_interval_days):
            # Journaled once per min interval, not every bar the drift stays past it.
            self._last_skip = ts
            self._log(ts, "rebalance.skipped", reason=decision.reason,
                      cost=round(decision.cost, 2),
                      benefit=None if decision.benefit is None else round(decision.benefit, 2))
        return None

    def _act(self, ts: datetime, target: dict[str, float], reason: str, *, forced: bool
             ) -> RebalancePlan:
        self._last_rebalance = ts
        self.state.last_rebalance = ts
        self.state.last_reason = reason
        if self.settings.rebalance.mode == "periodic":
            from datetime import timedelta

            self.state.next_due = ts + timedelta(days=self.settings.rebalance.period_days)
        self._log(ts, "rebalance", reason=reason,
                  targets={a: round(w, 6) for a, w in target.items()},
                  max_drift=round(self.state.max_drift, 6))
        return RebalancePlan(dict(target), reason, forced)

    def _risk_check(self, ts: datetime, equity: float) -> str | None:
        """The drawdown controller and the hedge, every `min_interval_days`; the reason
        for a forced rebalance when either changes."""
        settings, state = self.settings, self.state
        if not _elapsed(self._last_check, ts, settings.rebalance.min_interval_days):
            return None
        self._last_check = ts
        force = None
        drawdown = drawdown_from_peak(self._peak, equity)
        state.drawdown = drawdown
        level = controller_state(drawdown, settings.drawdown, state.drawdown_level)
        if level.level != state.drawdown_level:
            self._log(ts, "drawdown.controller", level=level.level, scalar=level.scalar,
                      drawdown=round(drawdown, 6))
            state.drawdown_level, state.drawdown_scalar = level.level, level.scalar
            force = f"drawdown controller {level.level} (x{level.scalar:g})"
        step = hedge_step(state.hedge_fraction,
                          MarketConditions(self._held_adx(), self._book_volatility(),
                                           drawdown), settings.hedge)
        if step.action != "hold":
            self._log(ts, f"hedge.{step.action}", fraction=round(step.fraction, 6),
                      triggers=list(step.triggers))
            state.hedge_fraction = step.fraction
            state.hedge_triggers = step.triggers
            force = f"{step.action} to {step.fraction:.0%} in the quote currency" + (
                f" ({'; '.join(step.triggers)})" if step.triggers else "")
        return force

    def _held_adx(self) -> float | None:
        position = {a: i for i, a in enumerate(self.assets)}
        held = [position[a] for a in self._chosen] or list(range(len(self.assets)))
        values = self._adx.value[held]
        return float(np.nanmean(values)) if np.isfinite(values).any() else None

    def _vol_bars(self) -> int:
        return max(int(round(VOL_WINDOW_DAYS * (self._per_day or 1.0))), 2)

    def _book_volatility(self) -> float | None:
        """Daily standard deviation of the book's returns over the last 20 days."""
        bars = self._vol_bars()
        if len(self._equity) <= bars:
            return None
        recent = np.array(self._equity[-(bars + 1):])
        return float(np.std(recent[1:] / recent[:-1] - 1.0, ddof=1)
                     * math.sqrt(self._per_day))

    def _refresh(self, ts: datetime) -> None:
        rules = self.settings.rules
        self._last_refresh = ts
        closes = np.vstack(self._closes[-(rules.window + 1):])
        made = scheme_targets(closes, self.assets, rules, self._ppy, self._signal(),
                              self._per_day)
        self._base, self._chosen, self._cov = made.weights, made.chosen, made.cov
        self.state.optimization_note = made.note
        self.state.optimization = _figures(made, closes, self.assets, self._ppy, rules.rf)
        self._log(ts, "targets", weights={a: round(w, 6) for a, w in made.weights.items()},
                  note=made.note)

    def _signal(self) -> dict[str, float] | None:
        settings = self.settings
        if settings.rules.rotation_method not in ("signal", "both") or not (
                settings.signal_members):
            return None
        from engine.portfolio.signal_strength import signal_strength

        strength = signal_strength(np.vstack(self._closes), settings.signal_members,
                                   settings.signal_params)
        return dict(zip(self.assets, strength[-1].tolist(), strict=True))

    def _infer_calendar(self) -> None:
        import pandas as pd

        from engine.portfolio.inputs import bars_per_day, periods_per_year

        index = pd.DatetimeIndex(self._times)
        self._ppy, self._per_day = periods_per_year(index), bars_per_day(index)

    def _log(self, ts: datetime, kind: str, **payload: Any) -> None:
        self.journal.append({"ts": ts.isoformat(), "kind": kind, **payload})


def _elapsed(last: datetime | None, now: datetime, days: float) -> bool:
    return last is None or (now - last).total_seconds() >= days * 86_400 - _SLACK_S


def _figures(made, closes: np.ndarray, assets: tuple[str, ...], ppy: float, rf: float
             ) -> dict[str, float]:
    """Expected return, volatility and Sharpe of the base targets on their window
    (annualized, simple returns; the quote currency's share earns nothing)."""
    if not made.weights:
        return {}
    columns = [assets.index(a) for a in made.chosen]
    window = closes[:, columns]
    returns = window[1:] / window[:-1] - 1.0
    w = np.array([made.weights[a] for a in made.chosen])
    mean = float(returns.mean(axis=0) @ w * ppy)
    vol = float(math.sqrt(max(w @ made.cov @ w, 0.0))) if made.cov is not None else math.nan
    sharpe = (mean - rf) / vol if vol > 0 else math.nan
    return {"expected_return": mean, "volatility": vol, "sharpe": sharpe,
            "invested": float(w.sum())}
