"""The gate remembers its last verdict (risk.py, `RiskGate.check`): an order judged again
at the same instant, with nothing moved, gets the same verdict without the rules running
twice. Whatever moved in between (a fill, a mark, the kill switch, a new day, a deep
drawdown, the open orders), the remembered verdict must equal the one the rules give now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.risk.compliance import ComplianceRules
from engine.trading.portfolio import Portfolio
from engine.trading.risk import RiskGate, RiskLimits
from engine.types import Fill, OrderRequest, OrderSide, OrderType

SYM, OTHER = "BTC/USDT", "ETH/USDT"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)

moves = st.lists(st.one_of(
    st.tuples(st.just("fill"), st.sampled_from([SYM, OTHER]), st.sampled_from(["buy", "sell"]),
              st.decimals(D("0.01"), D("3"), places=2)),
    st.tuples(st.just("mark"), st.sampled_from([SYM, OTHER]),
              st.decimals(D("50"), D("150"), places=1)),
    st.tuples(st.just("kill"), st.booleans()),
    st.tuples(st.just("later"), st.sampled_from([0, 1, 30, 60 * 24])),  # minutes
    st.tuples(st.just("pending"), st.decimals(D("0"), D("2"), places=1)),
    st.tuples(st.just("check"), st.sampled_from(["buy", "sell"]),
              st.decimals(D("0.1"), D("5"), places=1), st.booleans()),
), min_size=1, max_size=25)


def _order(side: str, qty: D, reduce_only: bool) -> OrderRequest:
    return OrderRequest(symbol=SYM, side=OrderSide(side), qty=qty, type=OrderType.MARKET,
                        reason="t", strategy="t", client_order_id="o-1",
                        ref_price=D(100), reduce_only=reduce_only)


@settings(max_examples=150, deadline=None)
@given(moves, st.booleans())
def test_a_remembered_verdict_equals_the_rules_now(steps, compliance) -> None:
    limits = RiskLimits(max_position_pct=0.5, max_daily_loss_pct=0.05, max_drawdown_pct=0.2,
                        min_order_notional=D(10), max_concentration=0.6,
                        compliance=ComplianceRules() if compliance else None)
    gate, book = RiskGate(limits), Portfolio(D(1000))
    gate.watch(book.exposure)
    now, pending, trade = T0, D(0), 0
    order = _order("buy", D(1), False)
    for step in steps:
        kind = step[0]
        if kind == "fill":
            _, symbol, side, qty = step
            trade += 1
            book.apply_fill(Fill(f"c{trade}", f"t{trade}", symbol, OrderSide(side), qty,
                                 book.last_price(symbol) or D(100), D(0), now))
        elif kind == "mark":
            book.mark(step[1], step[2])
        elif kind == "kill":
            gate.set_kill_switch(step[1], "test")
        elif kind == "later":
            now += timedelta(minutes=step[1])
        elif kind == "pending":
            pending = step[1]
        else:
            order = _order(step[1], step[2], step[3])
        price = book.last_price(SYM) or D(100)
        verdict = gate.check(order, price, book, now, pending_buy=pending)
        again = gate.check(order, price, book, now, pending_buy=pending)
        fresh = gate._judge(order, price, book, now, book.equity, pending, D(0))
        assert again is verdict  # nothing moved: remembered
        assert verdict == fresh


class _Events:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def event(self, kind, actor, payload) -> None:
        self.events.append((kind, actor, tuple(sorted(payload.items()))))


observations = st.lists(st.tuples(st.sampled_from([0, 1, 2, 60 * 24, 60 * 25]),
                                  st.decimals(D("700"), D("1300"), places=0),
                                  st.integers(0, 2)), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(observations, st.booleans())
def test_an_equity_observation_seen_again_changes_nothing(seen, compliance) -> None:
    """`on_equity` returns at once on the observation it saw last (a check at the same
    instant repeats it): the gate's state and journal equal those of the run without the
    repeats, through halts, new days and kill-switch trips."""
    def run(repeat: bool):
        limits = RiskLimits(max_position_pct=0.5, max_daily_loss_pct=0.05,
                            max_drawdown_pct=0.2, min_order_notional=D(10),
                            compliance=ComplianceRules() if compliance else None)
        journal = _Events()
        gate = RiskGate(limits)
        gate.attach_journal(journal)
        for minutes, equity, repeats in seen:
            ts = T0 + timedelta(minutes=minutes)
            if not repeat:
                gate._seen = None  # the reference: every observation runs every step
            for _ in range(1 + (repeats if repeat else 0)):
                gate.on_equity(ts, equity)
        return journal.events, gate.state(), gate.peak, gate.day_pnl
    assert run(True) == run(False)
