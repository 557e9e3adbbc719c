"""The Risk pane's figures from the live engine: the score and its parts, the book's VaR
(engine.risk.var, the function the backtest summary uses), every rule's headroom and the
worst stress scenario. Called once per published snapshot; the trailing statistics come
from the gate's per-bar cache."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ScorePart:
    name: str
    value: float | None  # None: not measurable yet
    limit: float
    weight: float
    points: float


@dataclass(frozen=True, slots=True)
class Headroom:
    rule: str
    used: float | None  # value / limit (1 = at the limit); None: not measurable
    text: str  # value against limit, formatted


def live_risk(engine) -> dict:
    """Keyword arguments for `RiskView` beyond the gate's own state."""
    from engine.risk.score import book_risk
    from engine.risk.stress import Book, Limits, run_all, scenarios_from_config, worst

    cfg = engine.cfg
    portfolio, gate = engine.portfolio, engine.gate
    now = engine.now()
    exposures = {s: float(v) for s, v in portfolio.exposure().items()}
    equity = float(portfolio.equity)
    stats = gate.bar_stats(now)
    returns = None if stats is None else stats.returns
    symbols = {} if stats is None else stats.symbols
    risk = book_risk(exposures, equity, gate.drawdown, stats, returns, symbols, cfg.risk)
    alert = engine.risk_monitor.observe(risk.score)
    book = Book(exposures, equity, float(gate.peak or equity),
                {s: returns[i] for s, i in symbols.items()} if returns is not None else {},
                1.0, stats.periods_per_year if stats is not None else 252.0)
    scenarios = run_all(book, scenarios_from_config(cfg), Limits.from_config(cfg))
    worst_case = worst(scenarios) if exposures else None
    return {
        "var_95": Decimal(repr(round(risk.var_95, 2))),
        "var_label": risk.var_label,
        "es_95": Decimal(repr(round(risk.es_95, 2))),
        "score": round(risk.score.score, 1),
        "level": risk.score.level,
        "score_parts": tuple(ScorePart(c.name, c.value, c.limit, c.weight, round(c.points, 2))
                             for c in risk.score.components),
        "headroom": _headroom(engine, exposures, equity, risk),
        "worst_scenario": "" if worst_case is None else (
            f"{worst_case.scenario.name}: {worst_case.pnl:,.2f} "
            f"(drawdown {worst_case.drawdown:.1%}"
            + (f"; breaches {', '.join(b.split(':')[0] for b in worst_case.breaches)})"
               if worst_case.breaches else ")")),
        "alert": alert or engine.risk_monitor.last_alert,
        "alerts": engine.risk_monitor.alerts,
        "drawdown_controller": _drawdown_controller(engine),
    }


def _drawdown_controller(engine) -> str:
    """The portfolio issue's drawdown controller at the gate's drawdown ([portfolio.drawdown]
    thresholds), with the level it held at the last snapshot."""
    dd = getattr(getattr(engine.cfg, "portfolio", None), "drawdown", None)
    if dd is None:
        return ""
    from engine.portfolio.drawdown_control import DrawdownPolicy, controller_state

    policy = DrawdownPolicy(dd.warning, dd.critical, dd.warning_scale, dd.critical_scale)
    monitor = engine.risk_monitor
    state = controller_state(engine.gate.drawdown, policy, getattr(monitor, "dd_level",
                                                                   "normal"))
    monitor.dd_level = state.level
    return (f"{state.level}: sizes x{state.scalar:.2f} at drawdown {state.drawdown:.2%} "
            f"(warning {policy.warning:.0%}, critical {policy.critical:.0%})")


def _headroom(engine, exposures: dict[str, float], equity: float, risk) -> tuple[Headroom,
                                                                                  ...]:
    limits = engine.gate.limits
    state = engine.gate.state()
    largest = max((abs(v) for v in exposures.values()), default=0.0)
    position = largest / equity if equity > 0 else None
    loss = float(-state.day_pnl / state.day_start_equity) if state.day_start_equity else 0.0
    rows = [
        ("max_position", position, limits.max_position_pct, "pct"),
        ("max_daily_loss", max(loss, 0.0), limits.max_daily_loss_pct, "pct"),
        ("max_drawdown", state.drawdown, limits.max_drawdown_pct, "pct"),
        ("max_concentration", risk.max_concentration, limits.max_concentration, "pct"),
        ("max_correlation", risk.max_correlation, limits.max_correlation, "num"),
    ]
    if limits.max_portfolio_volatility is not None:
        rows.append(("max_portfolio_volatility", risk.volatility,
                     limits.max_portfolio_volatility, "pct"))
    if limits.max_assets is not None:
        rows.append(("max_assets", float(sum(1 for v in exposures.values() if v)),
                     float(limits.max_assets), "int"))
    comp = limits.compliance
    if comp is not None:
        rows.append(("compliance_position", position, comp.max_position_pct, "pct"))
        rows.append(("compliance_daily_loss", max(loss, 0.0), comp.max_daily_loss_pct, "pct"))
    return tuple(Headroom(rule, None if value is None else value / limit if limit else None,
                          _text(value, limit, kind)) for rule, value, limit, kind in rows)


def _text(value: float | None, limit: float, kind: str) -> str:
    def fmt(x: float) -> str:
        if kind == "pct":
            return f"{x:.2%}"
        if kind == "int":
            return f"{x:.0f}"
        return f"{x:.2f}"

    return f"{'—' if value is None else fmt(value)} of {fmt(limit)}"
