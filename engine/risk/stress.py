"""Stress scenarios: a shock to every price (or per asset) and a volatility multiple,
applied to a book.

Per scenario (all money in quote currency, losses negative in `pnl`):

- pnl = sum_i exposure_i x shock_i, with shock_i the scenario's per-asset shock if it names
  the asset, else its shock;
- equity after = equity + pnl; drawdown = 1 - equity_after / max(peak, equity) (the book's
  drawdown from its peak once the shock has landed);
- VaR under the scenario: the book after the shock, its per-bar returns over the trailing
  history with each asset's deviations from its mean multiplied by vol_multiplier, the
  historical 95% VaR (engine.risk.var) over one day, in money;
- breaches: the limits the book after the shock would break: the drawdown kill switch, the
  daily-loss halts (the shock taken as one day's loss), positions, concentration and
  volatility (the trailing volatility times vol_multiplier).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.risk.var import var_es


@dataclass(frozen=True)
class Scenario:
    name: str
    shock: float  # price move of every asset, -0.37 = -37%
    vol_multiplier: float
    shocks: Mapping[str, float] = field(default_factory=dict)  # per-asset overrides

    def shock_of(self, symbol: str) -> float:
        return float(self.shocks.get(symbol, self.shock))


BUILT_IN: tuple[Scenario, ...] = (
    Scenario("2008 crisis", -0.37, 2.5),
    Scenario("COVID crash", -0.34, 3.0),
    Scenario("flash crash", -0.10, 5.0),
    Scenario("correction", -0.10, 1.5),
    Scenario("stagflation", -0.15, 1.8),
)


@dataclass(frozen=True)
class Book:
    """What a scenario is applied to."""

    exposures: dict[str, float]  # symbol -> signed notional
    equity: float
    peak: float
    returns: dict[str, np.ndarray] = field(default_factory=dict)  # per-bar, same length
    bars_per_day: float = 1.0
    periods_per_year: float = 252.0


@dataclass(frozen=True)
class Limits:
    max_drawdown_pct: float = 0.20
    max_daily_loss_pct: float = 0.05
    max_position_pct: float = 0.25
    max_concentration: float = 1.0
    max_portfolio_volatility: float | None = None
    compliance_daily_loss_pct: float | None = None
    compliance_position_pct: float | None = None

    @classmethod
    def from_config(cls, cfg) -> Limits:
        risk, comp = cfg.risk, cfg.compliance
        return cls(risk.max_drawdown_pct, risk.max_daily_loss_pct, risk.max_position_pct,
                   risk.max_concentration, risk.max_portfolio_volatility,
                   comp.max_daily_loss_pct if comp.enabled else None,
                   comp.max_position_pct if comp.enabled else None)


@dataclass(frozen=True)
class StressResult:
    scenario: Scenario
    pnl: float
    equity_after: float
    drawdown: float
    var_95_day: float | None
    breaches: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"scenario": self.scenario.name, "shock": self.scenario.shock,
                "vol_multiplier": self.scenario.vol_multiplier,
                "shocks": dict(self.scenario.shocks), "pnl": round(self.pnl, 2),
                "equity_after": round(self.equity_after, 2), "drawdown": self.drawdown,
                "var_95_day": None if self.var_95_day is None else round(self.var_95_day, 2),
                "var_label": "VaR 95% historical (1 day) under the scenario's volatility",
                "breaches": list(self.breaches)}


def scenarios_from_config(cfg) -> tuple[Scenario, ...]:
    """The five built-in scenarios, then [[stress.scenarios]] in file order."""
    custom = tuple(Scenario(s.name, s.shock, s.vol_multiplier, dict(s.shocks))
                   for s in cfg.stress.scenarios)
    return BUILT_IN + custom


def apply(book: Book, scenario: Scenario, limits: Limits) -> StressResult:
    pnl = sum(v * scenario.shock_of(s) for s, v in book.exposures.items())
    after = {s: v * (1 + scenario.shock_of(s)) for s, v in book.exposures.items()}
    equity = book.equity + pnl
    peak = max(book.peak, book.equity)
    drawdown = 1 - equity / peak if peak > 0 else 0.0
    returns = _book_returns(book, after, equity, scenario.vol_multiplier)
    var = None
    if not any(after.values()):
        var = 0.0  # a flat book has nothing at risk
    elif returns is not None and len(returns) > 1:
        estimate = var_es(returns, 0.95, "historical", horizon="day", bars=book.bars_per_day)
        var = estimate.var * max(equity, 0.0)
    breaches = _breaches(book, after, equity, pnl, drawdown, scenario, limits)
    return StressResult(scenario, pnl, equity, drawdown, var, breaches)


def _book_returns(book: Book, after: Mapping[str, float], equity: float,
                  multiplier: float) -> np.ndarray | None:
    held = [s for s, v in after.items() if v]
    if not held:
        return np.zeros(2)
    if any(s not in book.returns for s in held) or equity <= 0:
        return None
    r = np.vstack([book.returns[s] for s in held])
    mean = r.mean(axis=1, keepdims=True)
    r = mean + multiplier * (r - mean)
    w = np.array([after[s] / equity for s in held])
    return w @ r


def _breaches(book: Book, after: Mapping[str, float], equity: float, pnl: float,
              drawdown: float, scenario: Scenario, limits: Limits) -> tuple[str, ...]:
    out = []
    if drawdown >= limits.max_drawdown_pct:
        out.append(f"max_drawdown: {drawdown:.1%} >= {limits.max_drawdown_pct:.0%} "
                   "(kill switch)")
    day_loss = -pnl / book.equity if book.equity > 0 else 0.0
    if day_loss > limits.max_daily_loss_pct:
        out.append(f"max_daily_loss: {day_loss:.1%} > {limits.max_daily_loss_pct:.0%}")
    if limits.compliance_daily_loss_pct is not None and day_loss > \
            limits.compliance_daily_loss_pct:
        out.append(f"compliance_daily_loss: {day_loss:.1%} > "
                   f"{limits.compliance_daily_loss_pct:.0%}")
    gross = sum(abs(v) for v in after.values())
    for symbol, value in sorted(after.items()):
        share = abs(value) / equity if equity > 0 else math.inf
        if share > limits.max_position_pct:
            out.append(f"max_position {symbol}: {share:.1%} > {limits.max_position_pct:.0%}")
        if limits.compliance_position_pct is not None and share > \
                limits.compliance_position_pct:
            out.append(f"compliance_position {symbol}: {share:.1%} > "
                       f"{limits.compliance_position_pct:.0%}")
        base = max(gross, equity)
        conc = abs(value) / base if base > 0 else 1.0
        if conc > limits.max_concentration:
            out.append(f"max_concentration {symbol}: {conc:.1%} > "
                       f"{limits.max_concentration:.0%}")
    if limits.max_portfolio_volatility is not None:
        r = _book_returns(book, after, equity, scenario.vol_multiplier)
        if r is not None and len(r) > 1:
            vol = float(np.std(r, ddof=1)) * math.sqrt(book.periods_per_year)
            if vol > limits.max_portfolio_volatility:
                out.append(f"max_portfolio_volatility: {vol:.1%} > "
                           f"{limits.max_portfolio_volatility:.0%}")
    return tuple(out)


def run_all(book: Book, scenarios: Sequence[Scenario], limits: Limits) -> list[StressResult]:
    return [apply(book, s, limits) for s in scenarios]


def worst(results: Sequence[StressResult]) -> StressResult | None:
    """The scenario with the largest loss (ties: the first)."""
    return min(results, key=lambda r: r.pnl) if results else None
