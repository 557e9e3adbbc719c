"""The risk score: one number from 0 (nothing at risk) to 100 (every limit reached).

Formula. Six components, each a usage u in [0, 1] (a measured value over its limit, capped
at 1), weighted and summed, times 100:

    component      value                                         limit                 weight
    exposure       gross exposure / equity                       1 (fully invested)      10
    concentration  largest |exposure| / max(gross, equity)       [risk] max_concentration 15
    correlation    highest correlation of two held positions     [risk] max_correlation   15
                   of the same direction (0 with fewer than two)
    volatility     annualized volatility of the book             max_portfolio_volatility 20
    drawdown       drawdown from the equity peak                 [risk] max_drawdown_pct  20
    var            1-day historical VaR 95% of the book / equity [risk] max_daily_loss_pct 20

score = sum(weight x u). A component that cannot be measured (no history yet) counts 0 and
says so. Levels: low below [risk.score] elevated, elevated below high, high below critical,
critical from critical. Entering high or critical (from a lower level) is an alert: a
`risk.alert` audit entry and a desk notification.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.risk.var import var_es

WEIGHTS = (("exposure", 10.0), ("concentration", 15.0), ("correlation", 15.0),
           ("volatility", 20.0), ("drawdown", 20.0), ("var", 20.0))
LEVELS = ("low", "elevated", "high", "critical")


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    value: float | None  # None: not measurable yet
    limit: float
    weight: float

    @property
    def usage(self) -> float:
        if self.value is None or self.limit <= 0:
            return 0.0
        return min(max(self.value / self.limit, 0.0), 1.0)

    @property
    def points(self) -> float:
        return self.weight * self.usage


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: float
    level: str
    components: tuple[Component, ...]

    def as_dict(self) -> dict:
        return {"score": round(self.score, 2), "level": self.level, "components": [
            {"name": c.name, "value": c.value, "limit": c.limit, "weight": c.weight,
             "points": round(c.points, 2)} for c in self.components]}


def level_of(score: float, elevated: float, high: float, critical: float) -> str:
    if score >= critical:
        return "critical"
    if score >= high:
        return "high"
    if score >= elevated:
        return "elevated"
    return "low"


def risk_score(values: dict[str, float | None], limits: dict[str, float],
               thresholds: tuple[float, float, float]) -> RiskScore:
    """`values` and `limits` by component name (see the module doc)."""
    components = tuple(Component(name, values.get(name), limits[name], weight)
                       for name, weight in WEIGHTS)
    score = sum(c.points for c in components)
    return RiskScore(score, level_of(score, *thresholds), components)


@dataclass(frozen=True)
class BookRisk:
    """Everything the Risk pane shows about the book beyond the gate's own state."""

    score: RiskScore
    var_95: float  # money, 1 bar, historical
    es_95: float
    var_label: str
    volatility: float | None
    max_correlation: float | None
    max_concentration: float


def book_risk(exposures: dict[str, float], equity: float, drawdown: float, stats,
              returns: np.ndarray | None, symbols: dict[str, int], cfg_risk) -> BookRisk:
    """The score and the book's VaR from its exposures and the gate's bar statistics
    (`stats`: engine.risk.book_rules.BarStats or None; `returns`: the per-bar returns matrix
    behind it, rows in `symbols` order)."""
    from engine.risk import book_rules

    held = {s: v for s, v in exposures.items() if v}
    gross = sum(abs(v) for v in held.values())
    exposure = gross / equity if equity > 0 else None
    conc = book_rules.largest_concentration(held, equity)
    corr = (0.0 if len(held) < 2 else None if stats is None
            else book_rules.max_same_direction_correlation(stats, held))
    vol = book_rules.portfolio_volatility(stats, held, equity) if stats is not None else None
    var = es = 0.0
    label = "VaR 95% historical (1 bar)"
    if held and returns is not None and returns.shape[1] > 1 and equity > 0:
        rows = [symbols.get(s) for s in held]
        if None not in rows:
            pnl = np.array(list(held.values())) @ returns[rows]
            estimate = var_es(pnl / equity, 0.95, "historical")
            var, es = estimate.var * equity, estimate.es * equity
            label = estimate.label
    var_usage = var / equity if equity > 0 and held else (0.0 if not held else None)
    values = {"exposure": exposure, "concentration": conc, "correlation": corr,
              "volatility": vol if held else 0.0, "drawdown": drawdown, "var": var_usage}
    limits = {"exposure": 1.0, "concentration": cfg_risk.max_concentration,
              "correlation": cfg_risk.max_correlation,
              "volatility": cfg_risk.max_portfolio_volatility or math.inf,
              "drawdown": cfg_risk.max_drawdown_pct, "var": cfg_risk.max_daily_loss_pct}
    score = risk_score(values, limits, (cfg_risk.score.elevated, cfg_risk.score.high,
                                        cfg_risk.score.critical))
    return BookRisk(score, var, es, label, vol, corr, conc)


class RiskMonitor:
    """Remembers the last level; `observe` journals `risk.alert` on entering high or
    critical and returns the alert text for the desk's notification."""

    def __init__(self, journal) -> None:
        self._journal = journal
        self.level = "low"
        self.dd_level = "normal"  # the drawdown controller's level (engine.risk.live_view)
        self.last_alert = ""
        self.alerts = 0

    def observe(self, score: RiskScore) -> str:
        previous, self.level = self.level, score.level
        if LEVELS.index(score.level) <= LEVELS.index(previous) or score.level not in (
                "high", "critical"):
            return ""
        top = max(score.components, key=lambda c: c.points)
        text = (f"risk {score.level}: score {score.score:.0f} (was {previous}); largest part "
                f"{top.name} {top.points:.0f} of {top.weight:.0f}")
        self._journal.event("risk.alert", "engine", score.as_dict() | {
            "previous_level": previous, "message": text})
        self.last_alert = text
        self.alerts += 1
        return text
