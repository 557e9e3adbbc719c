"""The trader counts risk denials by rule id, keeps the first message of each rule as its
example, and journals `risk.denied` with both the messages and the rule ids."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from engine.trading.risk import RiskDecision
from engine.trading.trader import RuleDenials, TraderStats
from engine.types import Side
from tests.engine.test_risk_at_the_limit import SYM, T0, build


def test_denials_by_one_rule_are_one_entry_with_a_count_and_the_first_message():
    kernel, _ = build(D("100000"), 0.3, None, size=0.5)

    for i, price in enumerate((100.0, 101.0, 102.5)):
        kernel.decide(SYM, T0 + timedelta(hours=i), Side.BUY, price, regime="",
                      size_multiplier=1.0)

    stats = kernel.trader.stats
    assert stats.denied == 3 and stats.submitted == 0
    assert stats.deny_summary() == {"max_position": {
        "count": 3,
        "example": "EUR/USD position would be 50000.00, above 30.00% of equity (30000.00)",
    }}
    events = [p for kind, _a, p in kernel.trader.journal.events if kind == "risk.denied"]
    assert len(events) == 3
    for payload in events:
        assert payload["rules"] == ["max_position"]
        assert len(payload["reasons"]) == 1 and "above 30.00% of equity" in payload["reasons"][0]


def test_an_order_failing_two_rules_counts_once_as_denied_and_once_under_each_rule():
    kernel, _ = build(D("100000"), 0.3, None, size=0.5)
    kernel.gate.set_kill_switch(True, "by hand")

    kernel.decide(SYM, T0, Side.BUY, 100.0, regime="", size_multiplier=1.0)

    stats = kernel.trader.stats
    assert stats.denied == 1
    assert stats.deny_summary() == {
        "max_position": {"count": 1, "example": "EUR/USD position would be 50000.00, above "
                                                "30.00% of equity (30000.00)"},
        "kill_switch": {"count": 1, "example": "kill switch on: by hand"},
    }
    (payload,) = [p for kind, _a, p in kernel.trader.journal.events if kind == "risk.denied"]
    assert payload["rules"] == ["max_position", "kill_switch"]
    assert payload["reasons"] == ["EUR/USD position would be 50000.00, above 30.00% of equity"
                                  " (30000.00)", "kill switch on: by hand"]


def test_the_summary_ranks_rules_by_count_and_keeps_the_first_example():
    stats = TraderStats()
    stats.count_denial(RiskDecision(False, ("day loss 1",), ("max_daily_loss",)))
    for n in range(3):
        stats.count_denial(RiskDecision(False, (f"too big {n}",), ("max_position",)))
    stats.count_denial(RiskDecision(False, ("day loss 2",), ("max_daily_loss",)))

    assert stats.denied == 5
    assert stats.deny_reasons == {"max_daily_loss": RuleDenials(2, "day loss 1"),
                                  "max_position": RuleDenials(3, "too big 0")}
    assert list(stats.deny_summary()) == ["max_position", "max_daily_loss"]

