"""What the live engine shows the outside world: one immutable snapshot per step.

The engine publishes a fresh `Snapshot` after every step (bar, fill, approval, expiry).
Consumers (the desk's panes) render the newest one and drop older ones, so a burst of
updates coalesces into a single redraw. Everything here is plain data: no engine objects
leak out, and the snapshot is safe to hand to another thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.live.manual import OrderTicket, TicketOutcome
    from engine.live.why import Explanation

from engine.lifecycle.live import StrategyView  # the Strategies pane's row


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    side: str  # "long" | "short" | "flat"
    qty: Decimal  # signed: negative for a short
    avg_price: Decimal
    last: Decimal
    unrealized: Decimal
    realized: Decimal


@dataclass(frozen=True, slots=True)
class SignalView:
    symbol: str
    strategy: str
    side: str  # "BUY" | "SELL" | "HOLD"
    confidence: float
    ts: datetime


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposed order waiting for approval (manual mode)."""

    order_id: str  # the order's client order id
    symbol: str
    side: str  # "buy" | "sell"
    qty: Decimal
    price: Decimal
    reason: str
    created_at: datetime  # wall clock
    expires_at: datetime  # wall clock


@dataclass(frozen=True, slots=True)
class EnsembleView:
    symbol: str
    decision: str  # "BUY" | "SELL" | "HOLD"
    votes: dict[str, int]  # {"buy": n, "sell": n, "hold": n}
    weights: dict[str, float]  # strategy id -> weight
    confidence: float
    mode: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class ExecutionView:
    """An order or multi-part session in progress (or recently finished)."""

    id: str
    kind: str  # "market" | "smart" | "twap" | "vwap" | "dca"
    symbol: str
    side: str
    parts_done: int
    parts_total: int
    filled_qty: Decimal
    total_qty: Decimal
    avg_price: Decimal | None
    arrival_price: Decimal | None
    status: str  # "running" | "done" | "cancelled" | "failed"


@dataclass(frozen=True, slots=True)
class RegimeView:
    symbol: str
    label: str  # "bull" | "bear" | "sideways"
    probabilities: dict[str, float]  # label -> filtered probability
    held_bars: int  # bars the current label has held
    labels: tuple[str, ...]  # row/column order of `transition`
    transition: tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class RiskView:
    exposure: dict[str, Decimal]  # symbol -> signed notional
    gross_exposure: Decimal
    day_pnl: Decimal
    daily_loss_limit: Decimal  # as money, positive
    drawdown: float  # current drawdown from peak, 0..1
    max_drawdown: float  # the limit, 0..1
    var_95: Decimal  # one-bar 95% value at risk of the book, positive money
    kill_switch: bool
    halted_reason: str = ""
    # engine.risk.live_view: the VaR's label and ES, the risk score and its parts, every
    # rule's headroom, the worst stress scenario, the last alert (and how many so far).
    var_label: str = "VaR 95% historical (1 bar)"
    es_95: Decimal = Decimal(0)
    score: float = 0.0
    level: str = "low"  # "low" | "elevated" | "high" | "critical"
    score_parts: tuple = ()  # engine.risk.live_view.ScorePart
    headroom: tuple = ()  # engine.risk.live_view.Headroom
    worst_scenario: str = ""
    alert: str = ""
    alerts: int = 0
    drawdown_controller: str = ""  # [portfolio.drawdown] level and size scalar


@dataclass(frozen=True, slots=True)
class ChartMark:
    """A fill drawn on a symbol's chart: at bar `bar` of `MarketView.closes`."""

    bar: int
    side: str  # "buy" | "sell"
    price: float


@dataclass(frozen=True, slots=True)
class MarketView:
    """One symbol of the watchlist (the Market pane) and what its chart draws."""

    symbol: str
    last: Decimal
    change: float  # fraction since the last close of the UTC day before (else the window's first)
    bid: Decimal | None
    ask: Decimal | None
    day_volume: float  # since 00:00 UTC of the newest bar's day
    regime: str
    quote_source: str  # "exchange": the stream's book; "paper": last -/+ the paper slippage
    closes: tuple[float, ...] = ()  # the chart's bars, oldest first
    first_bar: datetime | None = None
    last_bar: datetime | None = None
    marks: tuple[ChartMark, ...] = ()  # fills within the chart's bars
    stop: float | None = None  # the armed stop level of the position, if any


@dataclass(frozen=True, slots=True)
class FillView:
    ts: datetime
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    order_id: str
    strategy: str  # "manual" for the trader's own orders


@dataclass(frozen=True, slots=True)
class ClosedTradeView:
    symbol: str
    side: str  # "long" | "short"
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    qty: Decimal
    pnl: Decimal  # net of fees
    return_pct: float
    strategy: str


@dataclass(frozen=True, slots=True)
class PnlView:
    """Realized P&L of one period, from the stored fills (survives restarts)."""

    period: str  # "day" | "week" | "month"
    label: str  # "2026-03-02", "2026-W10", "2026-03"
    realized: Decimal  # net of fees
    fees: Decimal
    fills: int


@dataclass(frozen=True, slots=True)
class HistoryView:
    fills: tuple[FillView, ...] = ()  # newest first
    trades: tuple[ClosedTradeView, ...] = ()  # newest first
    pnl: tuple[PnlView, ...] = ()  # newest first within each period
    today_realized: Decimal = Decimal(0)  # the newest bar's UTC day, net of fees
    # Of that, what fills stored before this desk started realized: the risk gate's day
    # P&L starts again at a restart, so the status line adds it back.
    today_before_start: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class AuditView:
    seq: int
    ts: str  # wall clock, when the entry was written
    kind: str
    actor: str
    summary: str
    payload: dict = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True, slots=True)
class FlowAlert:
    seq: int  # increasing: the desk notifies each one once
    ts: datetime  # market time of the event that raised it
    symbol: str
    kind: str  # "imbalance" | "withdrawal"
    message: str


@dataclass(frozen=True, slots=True)
class FlowView:
    """One symbol's order flow as the desk shows it (plain floats; NaN = not known yet)."""

    symbol: str
    ts: datetime | None
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    book_imbalance: float
    book_z: float
    aggressor: float  # aggressor volume imbalance of the window, [-1, 1]
    buy_volume: float
    sell_volume: float
    ofi: float
    ofi_z: float
    direction: int
    confidence: float
    maker_score: float
    withdrawn: bool
    refresh_rate: float
    signal: str  # "BUY" | "SELL" | "HOLD": the HFT rules on the current state
    signal_kind: str  # "imbalance" | "reversion" | "sustained" | ""
    signal_confidence: float
    bids: tuple[tuple[float, float], ...]  # depth ladder, best first
    asks: tuple[tuple[float, float], ...]
    updates: int
    trades: int



@dataclass(frozen=True, slots=True)
class PortfolioRowView:
    """One asset of the portfolio book: weights are fractions of equity."""

    asset: str
    target: float
    current: float
    drift: float  # current - target


@dataclass(frozen=True, slots=True)
class PortfolioView:
    """Portfolio mode's state (engine.portfolio.mode) for pane 9 and the Risk pane."""

    rows: tuple[PortfolioRowView, ...]
    scheme: str
    mode: str  # "threshold" | "periodic"
    next_rebalance: str  # the due time, or the distance to the threshold, in words
    last_reason: str  # the last decision, acted on or not
    last_rebalance: datetime | None
    hedge_fraction: float  # of equity held in the quote currency by the hedge
    hedge_triggers: tuple[str, ...]
    drawdown: float  # from the equity peak
    drawdown_level: str  # "normal" | "warning" | "critical"
    drawdown_scalar: float
    optimization_note: str
    optimization: dict[str, float]  # expected_return, volatility, sharpe, invested
    basket: tuple[ProposalView, ...] = ()  # the proposed rebalance orders (manual mode)


@dataclass(frozen=True, slots=True)
class Snapshot:
    market_ts: datetime | None  # time of the newest bar
    equity: Decimal
    cash: Decimal
    day_pnl: Decimal
    approval_mode: str  # "manual" | "auto"
    paused: bool
    symbols: tuple[str, ...]
    last_prices: dict[str, Decimal] = field(default_factory=dict)
    quotes: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # bid, ask
    positions: tuple[PositionView, ...] = ()
    signals: tuple[SignalView, ...] = ()
    proposals: tuple[ProposalView, ...] = ()
    ensemble: tuple[EnsembleView, ...] = ()
    executions: tuple[ExecutionView, ...] = ()
    regimes: tuple[RegimeView, ...] = ()
    risk: RiskView | None = None
    audit_tail: tuple[AuditView, ...] = ()  # newest last, at most ~50
    market: tuple[MarketView, ...] = ()  # the watchlist, one per symbol
    history: HistoryView = field(default_factory=HistoryView)  # from the stored fills
    # Symbol -> why nothing is proposed for it now (engine.live.why); "" while one waits.
    idle: dict[str, str] = field(default_factory=dict)
    # Symbol -> its last judged decision in a few words (engine.live.why); empty without
    # [filters] or [quality].
    judged: dict[str, str] = field(default_factory=dict)
    order_flow: tuple[FlowView, ...] = ()  # symbols with a book stream (engine.microstructure)
    flow_alerts: tuple[FlowAlert, ...] = ()  # newest last: notifications, never audit entries
    strategies: tuple[StrategyView, ...] = ()  # lifecycle rows (engine.lifecycle.live)
    portfolio: PortfolioView | None = None  # portfolio mode ([portfolio] enabled)
    chain_verified_seq: int = 0
    chain_ok: bool = True
    # Why the engine stopped, in one line; "" while it runs. Once set, nothing in the
    # snapshot moves any more and the chain is no longer being verified.
    engine_stopped: str = ""


class EngineControl(Protocol):
    """What the desk may ask of the running engine. Every call is thread-safe and returns
    quickly; its effect shows in the next snapshot. Methods returning str return "" on
    success, else a one-line reason shown to the user."""

    def approve(self, order_id: str, execution: str | None = None) -> str: ...
    # `execution`: run the order with this executor ("dca", "twap", ...) instead of the
    # configured [execution] mode.

    def reject(self, order_id: str) -> str: ...

    def cancel(self, execution_id: str) -> str: ...

    def place_order(self, ticket: OrderTicket) -> TicketOutcome: ...

    def explain(self, order_id: str) -> Explanation | None: ...
    # Why this proposal: votes, weights, regime, size, filters, every risk rule now.
    # A manual order (the desk's ticket, `x` on a position): the same gate and executor
    # as the engine's orders, journaled with actor `user`.

    def set_kill_switch(self, on: bool) -> None: ...

    def set_paused(self, paused: bool) -> None: ...

    def reset_weights(self) -> str: ...
    # Strategy weights back to base (journaled, actor user).

    def set_strategy_status(self, strategy: str, status: str, reason: str = "") -> str: ...
    # Force a strategy's lifecycle status (ACTIVE ... RETIRED; journaled, actor user).

    def latest_snapshot(self) -> Snapshot: ...

    def failure(self) -> str: ...
    # "" while the engine runs; once its thread has ended on an error, the one-line reason
    # (no local variables, no secrets).
