"""The gate's portfolio and compliance rules: each denies before the broker (a recording
fake observes), carries its checks, and, by property, no order breaking a limit ever
reaches the broker. Trips and resets are journaled the moment they happen."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.risk.compliance import ComplianceRules, hours_windows
from engine.risk.market import ArrayHistory
from engine.trading.journal import MemoryJournal
from engine.trading.portfolio import Portfolio
from engine.trading.risk import GatedBroker, OrderDenied, RiskGate, RiskLimits
from engine.types import Bar, OrderRequest, OrderSide, OrderType
from tests.engine.test_risk import RecordingBroker

SYMBOLS = ("AAA/USD", "BBB/USD", "CCC/USD")
_ids = itertools.count(1)


def market(n=300, corr=0.95, seed=0, vol=0.01, volume=1e6):
    """AAA and BBB correlate by `corr`; CCC is independent. Hourly bars from T0."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0, vol, n)
    noise = rng.normal(0, vol, (3, n))
    r = np.vstack([common, corr * common + np.sqrt(1 - corr**2) * noise[1], noise[2]])
    closes = 100 * np.cumprod(1 + r, axis=1)
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    arrays = {s: {"close": closes[i], "volume": np.full(n, volume)} for i, s in
              enumerate(SYMBOLS)}
    return index, arrays, closes


def desk(limits: RiskLimits, n=300, **market_args):
    index, arrays, closes = market(n, **market_args)
    broker = RecordingBroker()
    portfolio = Portfolio(D("100000"))
    gate = RiskGate(limits)
    gate.attach_market(ArrayHistory(index, arrays))
    now = index[-1].to_pydatetime()
    for i, s in enumerate(SYMBOLS):
        portfolio.mark(s, D(repr(float(closes[i, -1]))))
    return broker, portfolio, gate, GatedBroker(broker, gate, portfolio), now, closes


def order(symbol, side, qty) -> OrderRequest:
    return OrderRequest(symbol, OrderSide(side), D(qty), OrderType.MARKET,
                        client_order_id=f"r{next(_ids)}")


def hold(gated, portfolio, symbol, side, qty, now):
    price = portfolio.last_price(symbol)
    gated.submit(order(symbol, side, qty), price=price, now=now)
    p = float(price)
    gated.on_bar(Bar(symbol, now, p, p, p, p, 1e9))


def denied(gated, broker, o, now, rule):
    before = len(broker.submitted)
    with pytest.raises(OrderDenied) as err:
        gated.submit(o, price=gated.portfolio.last_price(o.symbol), now=now)
    assert rule in err.value.decision.rules
    assert len(broker.submitted) == before  # never reached the broker
    return err.value.decision


LOOSE = dict(max_position_pct=1.0, max_daily_loss_pct=1.0, max_drawdown_pct=1.0,
             min_order_notional=D(0))


def test_a_correlated_entry_in_the_same_direction_is_denied_with_its_values():
    broker, portfolio, gate, gated, now, _ = desk(RiskLimits(**LOOSE, max_correlation=0.7))
    hold(gated, portfolio, "AAA/USD", "buy", "100", now)
    decision = denied(gated, broker, order("BBB/USD", "buy", "50"), now, "max_correlation")
    (check,) = [c for c in decision.checks if c.rule == "max_correlation"]
    assert check.value > 0.9 and check.limit == 0.7 and "AAA/USD" in check.reason
    # An independent asset passes, and so does the correlated one the other way round.
    gated.submit(order("CCC/USD", "buy", "10"), price=portfolio.last_price("CCC/USD"), now=now)
    gated.submit(order("BBB/USD", "sell", "10"), price=portfolio.last_price("BBB/USD"), now=now)


def test_correlation_equals_numpy_corrcoef_over_the_window():
    limits = RiskLimits(**LOOSE, max_correlation=0.99, correlation_window=40)
    _broker, portfolio, gate, gated, now, closes = desk(limits)
    hold(gated, portfolio, "AAA/USD", "buy", "100", now)
    decision = gated.check(order("BBB/USD", "buy", "5"), price=portfolio.last_price("BBB/USD"),
                           now=now)
    r = closes[:, -41:]
    r = r[:, 1:] / r[:, :-1] - 1
    (check,) = [c for c in decision.checks if c.rule == "max_correlation"]
    assert check.value == pytest.approx(np.corrcoef(r[0], r[1])[0, 1], rel=1e-12)


def test_scale_shrinks_the_correlated_entry_to_what_the_rule_lets_through():
    limits = RiskLimits(**{**LOOSE, "max_position_pct": 0.5}, max_correlation=0.7,
                        correlation_action="scale")
    broker, portfolio, gate, gated, now, _ = desk(limits)
    hold(gated, portfolio, "AAA/USD", "buy", "100", now)
    price = portfolio.last_price("BBB/USD")
    big = order("BBB/USD", "buy", str((D(40000) / price).quantize(D("1"))))
    decision = gated.check(big, price=price, now=now)
    assert not decision.allowed and decision.resize_qty is not None
    assert decision.resize_qty < big.qty
    smaller = OrderRequest("BBB/USD", OrderSide.BUY, decision.resize_qty, OrderType.MARKET,
                           client_order_id="scaled")
    assert gated.check(smaller, price=price, now=now).allowed


def test_projected_volatility_above_the_limit_is_denied():
    limits = RiskLimits(**LOOSE, max_portfolio_volatility=0.30)
    broker, portfolio, gate, gated, now, closes = desk(limits, vol=0.02)
    # Hourly 2% moves are ~187% a year: a position of 30% of equity is far above 30%.
    qty = str(int(30000 / closes[2, -1]))
    decision = denied(gated, broker, order("CCC/USD", "buy", qty), now,
                      "max_portfolio_volatility")
    (check,) = [c for c in decision.checks if c.rule == "max_portfolio_volatility"]
    r = closes[2, -61:]
    r = r[1:] / r[:-1] - 1
    weight = int(qty) * closes[2, -1] / 100000
    expected = weight * r.std(ddof=1) * np.sqrt(gate._market.periods_per_year)
    assert check.value == pytest.approx(expected, rel=1e-9)


def test_concentration_counts_against_the_larger_of_gross_and_equity():
    limits = RiskLimits(**LOOSE, max_concentration=0.30)
    broker, portfolio, gate, gated, now, closes = desk(limits)
    qty = str(int(40000 / closes[0, -1]))  # 40% of equity in one asset
    decision = denied(gated, broker, order("AAA/USD", "buy", qty), now, "max_concentration")
    assert [c.value for c in decision.checks if c.rule == "max_concentration"][0] \
        == pytest.approx(int(qty) * closes[0, -1] / 100000, rel=1e-6)
    gated.submit(order("AAA/USD", "buy", str(int(20000 / closes[0, -1]))),
                 price=portfolio.last_price("AAA/USD"), now=now)


def test_max_assets_denies_one_symbol_more():
    broker, portfolio, gate, gated, now, _ = desk(RiskLimits(**LOOSE, max_assets=1))
    hold(gated, portfolio, "AAA/USD", "buy", "10", now)
    denied(gated, broker, order("CCC/USD", "buy", "10"), now, "max_assets")
    gated.submit(order("AAA/USD", "buy", "5"), price=portfolio.last_price("AAA/USD"), now=now)


def compliance(**overrides):
    return RiskLimits(**LOOSE, compliance=ComplianceRules(**overrides))


def test_restricted_symbols_trading_hours_and_compliance_position_deny_before_the_broker():
    broker, portfolio, gate, gated, now, closes = desk(compliance(
        restricted=frozenset({"BBB/USD"}),
        hours=hours_windows([("CCC/USD", "America/New_York", ("mon", "tue", "wed", "thu",
                                                               "fri"), "09:30", "16:00")])))
    denied(gated, broker, order("BBB/USD", "buy", "1"), now, "restricted_symbol")
    # `now` is 2024-01-13 11:00 UTC, a Saturday: the exchange is closed.
    assert now.weekday() == 5
    denied(gated, broker, order("CCC/USD", "buy", "1"), now, "trading_hours")
    monday_open = datetime(2024, 1, 8, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert gated.check(order("CCC/USD", "buy", "1"), price=D(100), now=monday_open).allowed
    qty = str(int(31000 / closes[0, -1]))
    denied(gated, broker, order("AAA/USD", "buy", qty), now, "compliance_position")


def test_liquidity_below_min_adv_is_denied_and_the_adv_is_the_daily_mean():
    broker, portfolio, gate, gated, now, closes = desk(
        compliance(min_adv=D("1000000"), liquidity_window=5), volume=100.0)
    decision = denied(gated, broker, order("AAA/USD", "buy", "1"), now, "liquidity")
    (check,) = [c for c in decision.checks if c.rule == "liquidity"]
    index = pd.date_range("2024-01-01", periods=300, freq="h", tz="UTC")
    quote = pd.Series(closes[0] * 100.0, index=index).resample("1D").sum()
    today = now.date()
    complete = quote[quote.index.date < today]
    assert check.value == pytest.approx(complete.iloc[-5:].mean(), abs=0.005)  # to the cent


def test_reducing_orders_pass_even_when_every_entry_rule_would_fail():
    broker, portfolio, gate, gated, now, _ = desk(RiskLimits(**LOOSE, max_assets=1,
                                                             max_correlation=0.5))
    hold(gated, portfolio, "AAA/USD", "buy", "10", now)
    gate.set_kill_switch(True, "test")
    gated.submit(order("AAA/USD", "sell", "10"), price=portfolio.last_price("AAA/USD"),
                 now=now)


def test_a_halted_gate_names_the_halt_and_judges_the_book_rules_again_once_reset():
    limits = RiskLimits(**LOOSE, max_correlation=0.7, max_portfolio_volatility=3.0,
                        max_concentration=0.9, compliance=ComplianceRules(min_adv=1.0))
    broker, portfolio, gate, gated, now, _ = desk(limits)
    hold(gated, portfolio, "AAA/USD", "buy", "100", now)
    book_rules = {"max_concentration", "max_correlation", "max_portfolio_volatility",
                  "liquidity"}
    entry = order("BBB/USD", "buy", "50")
    judged = {c.rule for c in gated.check(entry, price=portfolio.last_price("BBB/USD"),
                                          now=now).checks}
    assert book_rules <= judged
    gate.set_kill_switch(True, "by hand")
    decision = denied(gated, broker, entry, now, "kill_switch")
    # The correlated entry fails max_correlation too, but a halted gate answers with the
    # halt alone: it does not read the market for an entry it denies anyway.
    assert decision.rules == ("kill_switch",)
    assert not book_rules & {c.rule for c in decision.checks}
    # An exit still passes, and once reset the book rules are judged again.
    gated.submit(order("AAA/USD", "sell", "10"), price=portfolio.last_price("AAA/USD"),
                 now=now)
    gate.reset_kill_switch()
    decision = denied(gated, broker, entry, now, "max_correlation")
    assert book_rules <= {c.rule for c in decision.checks}


def test_trips_and_resets_are_journaled_the_moment_they_happen():
    journal = MemoryJournal()
    gate = RiskGate(RiskLimits(max_position_pct=1.0, max_daily_loss_pct=0.05,
                               max_drawdown_pct=0.20,
                               compliance=ComplianceRules(max_daily_loss_pct=0.02)))
    gate.attach_journal(journal)
    t = datetime(2024, 3, 1, 9, tzinfo=UTC)
    gate.on_equity(t, D(100000))
    gate.on_equity(t + timedelta(hours=1), D(98500))
    assert journal.kinds() == []
    gate.on_equity(t + timedelta(hours=2), D(97900))  # -2.1%: the compliance halt
    assert journal.kinds() == ["risk.tripped"]
    assert journal.events[-1][2]["rule"] == "compliance_daily_loss"
    gate.on_equity(t + timedelta(hours=3), D(94000))  # -6%: the risk halt
    assert [e[2]["rule"] for e in journal.events] == ["compliance_daily_loss", "max_daily_loss"]
    gate.on_equity(t + timedelta(days=1), D(95000))  # a new UTC day resets both
    assert [(k, p["rule"]) for k, _a, p in journal.events[2:]] == [
        ("risk.reset", "max_daily_loss"), ("risk.reset", "compliance_daily_loss")]
    gate.on_equity(t + timedelta(days=1, hours=1), D(79000))  # 21% below the 100k peak
    assert [(k, p["rule"]) for k, _a, p in journal.events[4:]] == [
        ("risk.tripped", "max_drawdown"), ("risk.tripped", "max_daily_loss"),
        ("risk.tripped", "compliance_daily_loss")]
    assert journal.events[4][2]["value"] == pytest.approx(0.21)
    gate.reset_kill_switch()
    assert journal.events[-1][0] == "risk.reset" and journal.events[-1][2]["rule"] == \
        "max_drawdown"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    corr_limit=st.floats(0.3, 0.99), vol_limit=st.floats(0.05, 3.0),
    conc_limit=st.floats(0.1, 1.0), max_assets=st.integers(1, 3),
    orders=st.lists(st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["buy", "sell"]),
                              st.integers(1, 400)), min_size=1, max_size=8),
)
def test_no_order_breaking_a_limit_ever_reaches_the_broker(corr_limit, vol_limit, conc_limit,
                                                           max_assets, orders):
    limits = RiskLimits(**LOOSE, max_correlation=corr_limit, max_portfolio_volatility=vol_limit,
                        max_concentration=conc_limit, max_assets=max_assets,
                        correlation_window=60)
    broker, portfolio, gate, gated, now, closes = desk(limits)
    r = closes[:, -61:]
    r = r[:, 1:] / r[:, :-1] - 1
    corr, cov = np.corrcoef(r), np.cov(r)
    ppy = gate._market.periods_per_year
    for symbol, side, qty in orders:
        before = dict(portfolio.exposure())
        o = order(symbol, side, str(qty))
        try:
            gated.submit(o, price=portfolio.last_price(symbol), now=now)
        except OrderDenied:
            continue
        p = float(portfolio.last_price(symbol))
        gated.on_bar(Bar(symbol, now, p, p, p, p, 1e9))
        held_before = float(before.get(symbol, 0))
        after = {s: float(v) for s, v in portfolio.exposure().items()}
        if abs(after.get(symbol, 0.0)) <= abs(held_before):
            continue  # it reduced the position: the entry rules do not apply
        equity = float(portfolio.equity)
        i = SYMBOLS.index(symbol)
        direction = 1 if side == "buy" else -1
        for other, value in before.items():
            if other != symbol and value and (value > 0) == (direction > 0):
                assert corr[i, SYMBOLS.index(other)] <= corr_limit + 1e-12
        w = np.array([after.get(s, 0.0) / equity for s in SYMBOLS])
        assert np.sqrt(w @ cov @ w * ppy) <= vol_limit + 1e-9
        gross = sum(abs(v) for v in after.values())
        assert abs(after[symbol]) / max(gross, equity) <= conc_limit + 1e-9
        assert sum(1 for v in after.values() if v) <= max_assets


def test_every_proposal_and_denial_audit_entry_carries_each_check_with_its_values():
    from engine.types import Side
    from tests.engine.test_risk_at_the_limit import SYM, T0, build

    kernel, _ = build(D("100000"), 0.3, None, size=0.2)
    kernel.decide(SYM, T0, Side.BUY, 100.0, regime="", size_multiplier=1.0)
    kernel.gate.set_kill_switch(True, "by hand")
    kernel.decide("GBP/USD", T0, Side.BUY, 100.0, regime="", size_multiplier=1.0)
    events = kernel.trader.journal.events
    proposed = [p for kind, _a, p in events if kind == "order.proposed"]
    assert len(proposed) == 2
    first = {c["rule"]: c for c in proposed[0]["checks"]}
    assert first["max_position"] == {"rule": "max_position", "passed": True,
                                     "value": 0.2, "limit": 0.3}
    assert first["min_notional"]["passed"] and first["kill_switch"]["passed"]
    (denial,) = [p for kind, _a, p in events if kind == "risk.denied"]
    checks = {c["rule"]: c for c in denial["checks"]}
    assert checks["kill_switch"]["passed"] is False
    assert checks["kill_switch"]["reason"] == "kill switch on: by hand"
    assert checks["max_position"]["passed"] is True


def test_the_compliance_daily_loss_halt_denies_entries_before_the_broker():
    broker, portfolio, gate, gated, now, _ = desk(compliance(max_daily_loss_pct=0.02))
    gate.on_equity(now - timedelta(minutes=5), D(100000))
    gate.on_equity(now - timedelta(minutes=1), D(97500))
    decision = denied(gated, broker, order("AAA/USD", "buy", "1"), now,
                      "compliance_daily_loss")
    assert "compliance limit -2.00%" in decision.reasons[-1]


def test_backtest_and_live_histories_read_the_same_closes_at_the_same_bar():
    from types import SimpleNamespace

    from engine.risk.market import LiveHistory

    index, arrays, closes = market(200)
    t = 150
    states = {s: SimpleNamespace(
        times=list(index[: t + 1].to_pydatetime()),
        data=np.column_stack([np.zeros(t + 1)] * 3 + [closes[i, : t + 1],
                                                       arrays[s]["volume"][: t + 1]]))
        for i, s in enumerate(SYMBOLS)}
    live = LiveHistory(states, bar_seconds=3600)
    backtest = ArrayHistory(index, arrays)
    now = index[t].to_pydatetime()
    np.testing.assert_array_equal(live.closes(now, 60), backtest.closes(now, 60))
    assert live.adv("AAA/USD", now, 3) == pytest.approx(backtest.adv("AAA/USD", now, 3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position_pct=st.floats(0.05, 1.0), restricted=st.sets(st.sampled_from(SYMBOLS)),
    min_adv=st.sampled_from([D(0), D("1000000"), D("100000000000")]),
    orders=st.lists(st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["buy", "sell"]),
                              st.integers(1, 600)), min_size=1, max_size=8),
)
def test_no_order_breaking_a_compliance_rule_ever_reaches_the_broker(position_pct, restricted,
                                                                     min_adv, orders):
    rules = ComplianceRules(max_position_pct=position_pct, restricted=frozenset(restricted),
                            min_adv=min_adv, liquidity_window=5)
    broker, portfolio, gate, gated, now, closes = desk(RiskLimits(**LOOSE, compliance=rules))
    for symbol, side, qty in orders:
        before = float(portfolio.exposure().get(symbol, 0))
        reached = len(broker.submitted)
        try:
            gated.submit(order(symbol, side, str(qty)), price=portfolio.last_price(symbol),
                         now=now)
        except OrderDenied:
            assert len(broker.submitted) == reached
            continue
        p = float(portfolio.last_price(symbol))
        gated.on_bar(Bar(symbol, now, p, p, p, p, 1e9))
        after = float(portfolio.exposure().get(symbol, 0))
        if abs(after) <= abs(before):
            continue  # it reduced the position: compliance never blocks getting flat
        assert symbol not in restricted
        assert abs(after) / float(portfolio.equity) <= position_pct + 1e-9
        assert gate._market.adv(symbol, now, 5) >= min_adv
