"""Stress scenarios (P&L, drawdown, VaR under the scenario, breaches) and the risk score
(formula, levels, alerts on entering high or critical)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config.schema import config_from_dict
from engine.risk.score import RiskMonitor, book_risk, level_of, risk_score
from engine.risk.stress import BUILT_IN, Book, Limits, Scenario, apply, scenarios_from_config
from engine.risk.var import var_es
from engine.trading.journal import MemoryJournal


def test_the_five_named_scenarios_are_built_in_with_the_documents_numbers():
    assert [(s.name, s.shock, s.vol_multiplier) for s in BUILT_IN] == [
        ("2008 crisis", -0.37, 2.5), ("COVID crash", -0.34, 3.0), ("flash crash", -0.10, 5.0),
        ("correction", -0.10, 1.5), ("stagflation", -0.15, 1.8)]


def test_custom_scenarios_with_per_asset_shocks_come_after_the_built_in_ones():
    cfg = config_from_dict({"stress": {"scenarios": [
        {"name": "crypto winter", "shock": -0.2, "vol_multiplier": 2.0,
         "shocks": {"BTC/USDT": -0.5}}]}})
    scenarios = scenarios_from_config(cfg)
    assert len(scenarios) == 6 and scenarios[-1].name == "crypto winter"
    assert scenarios[-1].shock_of("BTC/USDT") == -0.5
    assert scenarios[-1].shock_of("ETH/USDT") == -0.2


def test_scenario_pnl_drawdown_var_and_breaches_by_hand():
    rng = np.random.default_rng(0)
    returns = {"A/USD": rng.normal(0, 0.01, 400), "B/USD": rng.normal(0, 0.02, 400)}
    book = Book({"A/USD": 20_000.0, "B/USD": -10_000.0}, equity=100_000.0, peak=110_000.0,
                returns=returns, bars_per_day=1.0)
    scenario = Scenario("mixed", -0.30, 2.0, {"B/USD": -0.50})
    result = apply(book, scenario, Limits(max_drawdown_pct=0.09, max_daily_loss_pct=0.05,
                                          max_position_pct=0.25))
    pnl = 20_000 * -0.30 + -10_000 * -0.50  # the short gains
    assert result.pnl == pytest.approx(pnl)
    assert result.equity_after == pytest.approx(100_000 + pnl)
    assert result.drawdown == pytest.approx(1 - (100_000 + pnl) / 110_000)
    after = {"A/USD": 14_000.0, "B/USD": -5_000.0}
    r = np.vstack([returns["A/USD"], returns["B/USD"]])
    mean = r.mean(axis=1, keepdims=True)
    book_r = np.array([after["A/USD"], after["B/USD"]]) / result.equity_after @ (
        mean + 2.0 * (r - mean))
    assert result.var_95_day == pytest.approx(
        var_es(book_r, 0.95).var * result.equity_after, rel=1e-12)
    assert any(b.startswith("max_drawdown") for b in result.breaches)
    assert not any(b.startswith("max_daily_loss") for b in result.breaches)  # a 1% loss


def test_a_crash_breaches_the_daily_loss_and_the_kill_switch():
    book = Book({"A/USD": 25_000.0}, 100_000.0, 100_000.0, {"A/USD": np.zeros(10)})
    result = apply(book, BUILT_IN[0], Limits(compliance_daily_loss_pct=0.02))
    assert result.pnl == pytest.approx(-9_250.0)
    rules = [b.split(":")[0] for b in result.breaches]
    assert "max_daily_loss" in rules and "compliance_daily_loss" in rules
    assert "max_drawdown" not in rules  # 9.25% < 20%


def test_score_formula_levels_and_parts_add_up():
    limits = {"exposure": 1.0, "concentration": 0.3, "correlation": 0.7, "volatility": 0.3,
              "drawdown": 0.2, "var": 0.05}
    values = {"exposure": 0.5, "concentration": 0.15, "correlation": 0.7, "volatility": 0.6,
              "drawdown": 0.05, "var": None}
    score = risk_score(values, limits, (25, 50, 75))
    expected = 10 * 0.5 + 15 * 0.5 + 15 * 1.0 + 20 * 1.0 + 20 * 0.25 + 0
    assert score.score == pytest.approx(expected)
    assert sum(c.points for c in score.components) == pytest.approx(score.score)
    assert score.score == 52.5 and score.level == "high"
    assert [level_of(x, 25, 50, 75) for x in (0, 24.9, 25, 50, 74.9, 75, 100)] == [
        "low", "low", "elevated", "high", "high", "critical", "critical"]


def test_book_risk_of_a_flat_book_is_zero_and_a_full_book_scores_its_parts():
    cfg = config_from_dict({})
    flat = book_risk({}, 100_000.0, 0.0, None, None, {}, cfg.risk)
    assert flat.score.score == 0 and flat.var_95 == 0
    from engine.risk.book_rules import bar_stats

    r = np.random.default_rng(1).normal(0, 0.01, (2, 200))
    stats = bar_stats({"A/USD": 0, "B/USD": 1}, r, 252.0)
    full = book_risk({"A/USD": 30_000.0, "B/USD": 30_000.0}, 100_000.0, 0.1, stats, r,
                     {"A/USD": 0, "B/USD": 1}, cfg.risk)
    pnl = np.array([30_000.0, 30_000.0]) @ r
    assert full.var_95 == pytest.approx(var_es(pnl / 100_000, 0.95).var * 100_000)
    parts = {c.name: c for c in full.score.components}
    assert parts["drawdown"].usage == pytest.approx(0.5)
    assert parts["exposure"].usage == pytest.approx(0.6)
    assert parts["concentration"].usage == pytest.approx(1.0)  # 30% of the book = the limit


def test_entering_high_or_critical_raises_one_alert_with_an_audit_entry():
    journal = MemoryJournal()
    monitor = RiskMonitor(journal)
    limits = {"exposure": 1.0, "concentration": 1.0, "correlation": 1.0, "volatility": 1.0,
              "drawdown": 1.0, "var": 1.0}

    def at(x):
        return risk_score(dict.fromkeys(limits, x), limits, (25, 50, 75))

    assert monitor.observe(at(0.3)) == ""  # elevated: no alert
    assert "risk high" in monitor.observe(at(0.6))
    assert monitor.observe(at(0.6)) == ""  # staying high: no second alert
    assert "risk critical" in monitor.observe(at(0.9))
    assert monitor.observe(at(0.1)) == ""
    assert "risk critical" in monitor.observe(at(0.9))  # from low straight to critical
    assert journal.kinds() == ["risk.alert"] * 3
    assert journal.events[0][2]["previous_level"] == "elevated"
