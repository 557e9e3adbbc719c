"""Sizing and the position limit agree to the quantity step (risk.py, "At the limit").

An entry the trader sizes at `size == max_position_pct` is never denied by the position
rule, whatever the price, equity, quantity step, fee and slippage; one step more is. The
orders go the whole way a live or backtest order goes: `Kernel` -> `Trader` (sizing, the
gate at proposal) -> `ExecutionManager` (the gate again, per child) -> `PaperBroker`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from types import SimpleNamespace

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from engine.adapters.memory import MemoryExecutionStore
from engine.brokers.paper import PaperBroker
from engine.trading.journal import MemoryJournal
from engine.trading.kernel import Kernel
from engine.trading.risk import RiskLimits
from engine.trading.trader import to_decimal
from engine.types import Bar, OrderRequest, OrderSide, OrderType, Side

SYM = "EUR/USD"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
_ids = itertools.count(1)


class SteppedPaperBroker(PaperBroker):
    """The paper broker with a venue's quantity grid."""

    def __init__(self, step: D | None, fee: D, slippage_bps: D) -> None:
        super().__init__(fee=fee, slippage_bps=slippage_bps)
        self.step = step

    def quantity_step(self, symbol: str) -> D | None:
        return self.step


def build(cash: D, pct: float, step: D | None, fee: D = D(0), slippage_bps: D = D(0),
          allow_short: bool = True, size: float | None = None,
          multiplier: D | None = None) -> tuple[Kernel, Denials]:
    """A kernel whose only binding limit is the position rule, sized at exactly it (or at
    `size`); `multiplier`: the instrument's contract multiplier (None: spot)."""
    spec = SimpleNamespace(
        cash=cash, size=pct if size is None else size, allow_short=allow_short,
        execution=None, stops=False, label="limit",
        multiplier=None if multiplier is None else (lambda symbol: multiplier),
        risk_limits=RiskLimits(max_position_pct=pct, max_daily_loss_pct=1.0,
                               max_drawdown_pct=1.0, min_order_notional=D(0)),
    )
    journal, store = MemoryJournal(), MemoryExecutionStore()
    kernel = Kernel(spec, broker=SteppedPaperBroker(step, fee, slippage_bps), journal=journal,
                    execution_store=store, clock=lambda: T0)
    return kernel, Denials(journal, store)


def bar(ts: datetime, open_: float, close: float) -> Bar:
    return Bar(SYM, ts, open_, max(open_, close), min(open_, close), close, 1e12)


class Denials:
    """Every `risk.denied` audit entry: the trader's (at proposal, in the journal) and the
    executor's (per child order, in the execution store)."""

    def __init__(self, journal: MemoryJournal, store: MemoryExecutionStore) -> None:
        self.journal = journal
        self.store = store

    def __call__(self) -> list[list[str]]:
        payloads = [p for kind, _a, p in self.journal.events if kind == "risk.denied"]
        payloads += [e["payload"] for e in self.store.audit_entries if e["kind"] == "risk.denied"]
        return [p["reasons"] for p in payloads]


def one_more_step(kernel: Kernel, side: OrderSide, price: float, step: D, now: datetime):
    """What the gate says to one more step in the direction of the entry just sent (whose
    unfilled quantity it counts as if it filled)."""
    order = OrderRequest(SYM, side, step, OrderType.MARKET, client_order_id=f"x{next(_ids)}")
    return kernel.broker.check(order, price=to_decimal(price), now=now)


prices = st.one_of(
    st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False),
    # decimal-looking quotes, where equity / price often lands right on a step boundary
    st.decimals(D("0.0001"), D("100000"), places=4).map(float),
).filter(lambda p: p > 0)
cash = st.decimals(D("100"), D("1000000000"), places=2)
pcts = st.sampled_from([0.01, 0.1, 0.25, 1 / 3, 0.3, 0.5, 0.7, 0.999, 1.0])
steps = st.sampled_from([None, D("0.00000001"), D("0.000001"), D("0.001"), D("0.01"),
                         D("0.1"), D("1"), D("5"), D("0.005")])
fees = st.sampled_from([D(0), D("0.0001"), D("0.001"), D("0.0075")])
slippages = st.sampled_from([D(0), D(1), D(5), D("12.5")])


@settings(max_examples=150, deadline=None)
@given(cash=cash, pct=pcts, step=steps, price=prices)
# The issue's case: 100% of equity, where the float sizing came out a hair above the cap.
@example(cash=D("10000000"), pct=1.0, step=None, price=1.41102)
@example(cash=D("10000000"), pct=1.0, step=None, price=0.81719)
def test_an_entry_sized_at_the_limit_from_flat_passes_and_one_step_more_is_denied(
    cash, pct, step, price
):
    kernel, denials = build(cash, pct, step)

    orders = kernel.decide(SYM, T0, Side.BUY, price, regime="", size_multiplier=1.0)

    assert denials() == []
    grid = step or D("0.00000001")
    if orders:
        (entry,) = orders
        assert entry.qty % grid == 0
        assert entry.qty * entry.ref_price <= D(str(pct)) * cash  # at or below the limit
        assert kernel.trader.stats.submitted == 1
        # It reached the broker: the next bar fills it in full.
        kernel.open_bar(bar(T0 + HOUR, price, price), stop_width=float("nan"))
        assert kernel.portfolio.position(SYM).qty == entry.qty
    # Nothing sized (a step costs more than the limit) or the entry sent: one step more is
    # above the limit either way.
    verdict = one_more_step(kernel, OrderSide.BUY, price, grid, T0)
    assert "max_position" in verdict.rules


@settings(max_examples=100, deadline=None)
@given(cash=cash, pct=pcts, step=steps, price=prices,
       multiplier=st.sampled_from([D(100), D(50), D(1000), D("0.1")]))
def test_contracts_sized_at_the_limit_pass_and_one_more_step_is_denied(
    cash, pct, step, price, multiplier
):
    """Options and futures: sizing and the gate both value qty x price x multiplier."""
    kernel, denials = build(cash, pct, step, multiplier=multiplier)

    orders = kernel.decide(SYM, T0, Side.BUY, price, regime="", size_multiplier=1.0)

    assert denials() == []
    grid = step or D("0.00000001")
    if orders:
        (entry,) = orders
        assert entry.qty * entry.ref_price * multiplier <= D(str(pct)) * cash
        kernel.open_bar(bar(T0 + HOUR, price, price), stop_width=float("nan"))
        assert kernel.portfolio.qty(SYM) == entry.qty
    verdict = one_more_step(kernel, OrderSide.BUY, price, grid, T0)
    assert "max_position" in verdict.rules


@settings(max_examples=150, deadline=None)
@given(cash=cash, pct=pcts, step=steps, fee=fees, slippage=slippages,
       entry=prices, drift=st.floats(0.5, 2.0), flip=st.floats(0.5, 2.0))
def test_a_reversal_sized_at_the_limit_after_fees_and_slippage_passes(
    cash, pct, step, fee, slippage, entry, drift, flip
):
    """Fees and slippage paid on the way in leave equity at an untidy amount; the flip to a
    short is sized from that equity at the decision's price and is checked with the same
    two numbers, so it passes; one step more does not."""
    kernel, denials = build(cash, pct, step, fee, slippage)
    kernel.decide(SYM, T0, Side.BUY, entry, regime="", size_multiplier=1.0)
    # The entry fills at the next open (slippage and fee), the book is marked at the close.
    t1 = T0 + HOUR
    kernel.open_bar(bar(t1, entry * drift, entry * drift * flip), stop_width=float("nan"))
    close = entry * drift * flip
    held = kernel.portfolio.position(SYM).qty

    orders = kernel.decide(SYM, t1, Side.SELL, close, regime="", size_multiplier=1.0)

    assert denials() == []
    grid = step or D("0.00000001")
    equity = kernel.portfolio.equity
    shorts = [o for o in orders if not o.reduce_only]
    event("long closed and short opened" if held and shorts else
          "short from flat" if shorts else "nothing sized")
    if held:
        assert orders[0].reduce_only and orders[0].qty == held
    for short in shorts:
        assert short.qty * short.ref_price <= D(str(pct)) * equity
    assert "max_position" in one_more_step(kernel, OrderSide.SELL, close, grid, t1).rules


@settings(max_examples=60, deadline=None)
@given(cash=cash, pct=pcts, step=steps, price=prices,
       multiplier=st.sampled_from([0.5, 0.75, 0.9]))
def test_a_size_scaled_below_the_limit_is_never_denied(cash, pct, step, price, multiplier):
    kernel, denials = build(cash, pct, step)
    kernel.decide(SYM, T0, Side.BUY, price, regime="", size_multiplier=multiplier)
    assert denials() == []


def test_the_issues_case_one_hundred_percent_of_ten_million_is_allowed():
    """10,000,000 at 100% of equity at 1.41102: float sizing gave 7087071.76368868, worth
    10,000,000.0000000x, and the gate denied it. Now the whole equity goes in to the paper
    broker's 1e-8 grid: the last step that still fits."""
    kernel, denials = build(D("10000000"), 1.0, None)

    (entry,) = kernel.decide(SYM, T0, Side.BUY, 1.41102, regime="", size_multiplier=1.0)

    assert denials() == []
    assert entry.qty == D("7087071.76368867")
    assert entry.qty * D("1.41102") <= D("10000000") < (entry.qty + D("1e-8")) * D("1.41102")
