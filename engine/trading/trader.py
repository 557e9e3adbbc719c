"""The trading core shared by the live engine and the backtest: decision -> orders -> fills.

One `Trader` turns an ensemble decision into orders (sizing), sends every order through
the risk gate, holds it for approval in manual mode, hands it to the executor as a session,
and books the broker's fills into the portfolio and the trades. The kernel builds it, live
and in backtests alike; only the broker, the journal and the approval mode differ.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.execution.session import parse_child_id
from engine.trading.journal import Journal
from engine.trading.risk import GatedBroker, RiskDecision
from engine.trading.trades import TradeTracker
from engine.types import Bar, Fill, OrderRequest, OrderSide, OrderType, Side

if TYPE_CHECKING:
    from engine.execution.manager import ExecutionManager

QTY_STEP = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class TradingRules:
    size: float  # fraction of equity one position takes
    allow_short: bool
    approval: str  # "manual" | "auto"
    approval_timeout: float  # seconds


@dataclass(frozen=True, slots=True)
class Proposal:
    order: OrderRequest
    created_at: datetime  # wall clock
    expires_at: datetime


@dataclass(slots=True)
class RuleDenials:
    """How often one risk rule denied an order, and the first message it gave."""

    count: int
    example: str

    def as_dict(self) -> dict[str, int | str]:
        return {"count": self.count, "example": self.example}


@dataclass
class TraderStats:
    proposed: int = 0
    denied: int = 0
    submitted: int = 0
    filled: int = 0
    # Rule id -> denials. Keyed by rule, not by message: messages carry amounts, so a run
    # with 167 denials by one rule would otherwise list 167 "reasons" seen once each. An
    # order failing two rules counts once in `denied` and once under each rule.
    deny_reasons: dict[str, RuleDenials] = field(default_factory=dict)

    def count_denial(self, decision: RiskDecision) -> None:
        self.denied += 1
        for rule, reason in decision.failures:
            seen = self.deny_reasons.get(rule)
            if seen is None:
                self.deny_reasons[rule] = RuleDenials(1, reason)
            else:
                seen.count += 1

    def deny_summary(self) -> dict[str, dict[str, int | str]]:
        """`{rule_id: {"count": n, "example": "..."}}`, most frequent rule first."""
        ranked = sorted(self.deny_reasons.items(), key=lambda item: -item[1].count)
        return {rule: denials.as_dict() for rule, denials in ranked}


def to_decimal(value: float) -> Decimal:
    """A float price or quantity as the Decimal it prints as (no binary noise)."""
    return Decimal(repr(float(value)))


class Trader:
    """Thread-safe: the desk's approve/reject arrive from the UI thread."""

    def __init__(
        self,
        *,
        broker: GatedBroker,
        journal: Journal,
        rules: TradingRules,
        wall_clock: Callable[[], datetime],
        executor: ExecutionManager,
        id_prefix: str = "o",
        volume_history: Callable[[str], list] | None = None,
    ) -> None:
        # The gated broker is the only way to the market: it checks every order against
        # the risk gate and books fills into the portfolio the gate guards.
        self.broker = broker
        self.gate = broker.gate
        self.portfolio = broker.portfolio
        self.journal = journal
        self.rules = rules
        self._size = to_decimal(rules.size)  # the sizing fraction, as the gate's Decimals
        self.wall_clock = wall_clock
        self.proposals: dict[str, Proposal] = {}
        self.trades = TradeTracker(multiplier=self.portfolio.multiplier)
        self.stats = TraderStats()
        self.strategy_of: dict[str, str] = {}
        # Order / session id -> the votes that opened it (engine.lifecycle.attribution).
        self.attribution_of: dict[str, object] = {}
        # Every approved order becomes an execution session (a market order is a one-part
        # session), persisted and resumable, live and in backtests.
        self.executor = executor
        self.volume_history = volume_history or (lambda symbol: [])
        self._id_prefix = id_prefix
        self._next_id = 0
        self._lock = threading.RLock()

    # -- decisions -------------------------------------------------------------------------

    def on_decision(
        self,
        symbol: str,
        ts: datetime,
        decision: Side,
        price: float,
        *,
        size_multiplier: float = 1.0,
        reason: str = "",
        strategy: str = "",
        close_only: bool = False,
        attribution=None,
    ) -> list[OrderRequest]:
        """Move the position of `symbol` towards what `decision` asks; returns the orders
        proposed. A BUY targets a long of `size` x equity; a SELL closes a long and, if
        shorting is allowed, targets a short of the same size. `close_only` (stops) closes
        without opening the other side."""
        with self._lock:
            current = self.portfolio.qty(symbol)
            if decision == Side.HOLD:
                return []
            if self._in_flight(symbol):
                return []  # one decision per symbol in flight at a time
            ref = to_decimal(price)
            target_abs = self._target_qty(symbol, price, size_multiplier)
            if close_only:
                target = Decimal(0)
            elif decision == Side.BUY:
                target = target_abs
            else:
                target = -target_abs if self.rules.allow_short else Decimal(0)
            if not self.acts_on(symbol, decision):
                return []
            orders = []
            if current != 0 and (target == 0 or (target > 0) != (current > 0)):
                orders.append(self._order(symbol, -current, ref, reason, strategy, True))
                current = Decimal(0)
            delta = target - current
            if delta != 0:
                orders.append(self._order(symbol, delta, ref, reason, strategy, False))
                if attribution is not None:
                    self.attribution_of[orders[-1].client_order_id] = attribution
            for order in orders:
                self._propose(order, ts)
            return orders

    @property
    def id_prefix(self) -> str:
        return self._id_prefix

    def propose_basket(self, orders, ts: datetime) -> list[OrderRequest]:
        """A rebalance basket (engine.portfolio.basket, sells first): each order proposed on
        its own, judged by the gate, then sent (auto) or held for approval (manual)."""
        with self._lock:
            for order in orders:
                self.strategy_of[order.client_order_id] = order.strategy
                self._propose(order, ts)
            return list(orders)

    def basket_pending(self, strategy: str) -> bool:
        """Whether an order of `strategy` still waits for approval or is being executed."""
        with self._lock:
            if any(p.order.strategy == strategy for p in self.proposals.values()):
                return True
            return any(s.status == "running" and self.strategy_of.get(s.id) == strategy
                       for s in self.executor.running_sessions())

    def acts_on(self, symbol: str, decision: Side) -> bool:
        """False when `decision` cannot change the position: already positioned that way
        (hold, don't re-size), or a SELL when flat and shorts are not allowed."""
        current = self.portfolio.qty(symbol)
        if (decision == Side.BUY and current > 0) or (decision == Side.SELL and current < 0):
            return False
        return not (decision == Side.SELL and current == 0 and not self.rules.allow_short)

    def _in_flight(self, symbol: str) -> bool:
        if any(p.order.symbol == symbol for p in self.proposals.values()):
            return True
        return self.executor.running(symbol)

    def _target_qty(self, symbol: str, price: float, size_multiplier: float) -> Decimal:
        """The largest multiple of the quantity step worth at most size x equity at `price`.

        Computed in Decimal from the numbers the risk gate checks the order with (the
        portfolio's equity and the order's `ref_price`, `to_decimal(price)`): a float
        quotient can round up across a step boundary, and then an order sized at exactly
        `max_position_pct` came out a hair above it and was denied (risk.py, "At the
        limit"). Floor division of Decimals is exact.
        """
        equity = self.portfolio.equity
        ref = to_decimal(price)
        if equity <= 0 or ref <= 0:
            return Decimal(0)
        fraction = self._size
        if size_multiplier != 1.0:
            fraction *= to_decimal(size_multiplier)
        if fraction <= 0:
            return Decimal(0)
        step = self.broker.quantity_step(symbol) or QTY_STEP
        # A contract is worth price x multiplier (100 shares an option, 1 spot).
        unit = ref * self.portfolio.multiplier(symbol)
        return (equity * fraction) // (unit * step) * step

    def _forget(self, order_or_session_id: str) -> None:
        self.strategy_of.pop(order_or_session_id, None)
        self.attribution_of.pop(order_or_session_id, None)

    def _order(
        self, symbol: str, signed_qty: Decimal, ref: Decimal, reason: str, strategy: str,
        reduce_only: bool,
    ) -> OrderRequest:
        self._next_id += 1
        client_id = f"{self._id_prefix}-{self._next_id:07d}"
        self.strategy_of[client_id] = strategy
        return OrderRequest(
            symbol=symbol,
            side=OrderSide.BUY if signed_qty > 0 else OrderSide.SELL,
            qty=abs(signed_qty),
            type=OrderType.MARKET,
            reason=reason,
            strategy=strategy,
            client_order_id=client_id,
            ref_price=ref,
            reduce_only=reduce_only,
        )

    def _propose(self, order: OrderRequest, ts: datetime) -> None:
        self.stats.proposed += 1
        verdict = self.broker.check(order, price=order.ref_price, now=ts)
        if verdict.resize_qty is not None:  # [risk] correlation_action = "scale"
            order = replace(order, qty=verdict.resize_qty)
            verdict = self.broker.check(order, price=order.ref_price, now=ts)
        if self.journal.records:
            # The order's row and its audit entry carry every pre-trade check with its values.
            checks = verdict.checks_payload()
            self.journal.order(order, "proposed", ts, checks=checks)
            self.journal.event("order.proposed", "engine",
                               _order_payload(order) | {"checks": checks})
        if not verdict.allowed:
            self._denied(order, verdict, ts)
            return
        if self.rules.approval == "auto":
            # Approved at the moment it was judged, under the same lock: judging it again
            # here could not differ. (An approval by hand comes later and is re-judged.)
            self._execute(order, ts)
            return
        now = self.wall_clock()
        timeout = timedelta(seconds=self.rules.approval_timeout)
        self.proposals[order.client_order_id] = Proposal(order, now, now + timeout)

    def _denied(self, order: OrderRequest, verdict: RiskDecision, ts: datetime) -> None:
        self.stats.count_denial(verdict)
        self._forget(order.client_order_id)
        if not self.journal.records:
            return
        checks = verdict.checks_payload()
        self.journal.order(order, "denied", ts, checks=checks)
        payload = _order_payload(order) | {"reasons": list(verdict.reasons),
                                           "rules": list(verdict.rules), "checks": checks}
        self.journal.event("risk.denied", "engine", payload)

    def _submit(self, order: OrderRequest, ts: datetime, actor: str,
                execution: str | None = None) -> None:
        # The gate judges again at submission (approval may come minutes later); the intent
        # is committed only for an order it lets through, and before the order leaves.
        verdict = self.broker.check(order, price=order.ref_price, now=ts)
        if not verdict.allowed:
            self._denied(order, verdict, ts)
            return
        self._execute(order, ts, execution)

    def _execute(self, order: OrderRequest, ts: datetime, mode: str | None = None) -> None:
        """Hand the order to the executor: its session (schedule and parts) is committed
        before the first child leaves, and each child's intent before it is sent."""
        self.journal.order(order, "executing", ts)
        session = self.executor.start(order, ts, mode=mode, arrival_price=order.ref_price,
                                      volume_history=self.volume_history(order.symbol))
        # From here the session carries the order's strategy and votes; the order's own
        # entries go (every order would otherwise stay in these maps for the whole run).
        self.strategy_of[session.id] = order.strategy
        self.strategy_of.pop(order.client_order_id, None)
        attribution = self.attribution_of.pop(order.client_order_id, None)
        if attribution is not None:
            self.attribution_of[session.id] = attribution
        self.stats.submitted += 1
        self.executor.tick(ts)

    def manual(self, symbol: str, side: OrderSide, qty: Decimal, price: Decimal, ts: datetime,
               *, limit_price: Decimal | None = None, execution: str | None = None,
               reduce_only: bool = False) -> tuple[OrderRequest, RiskDecision | None]:
        """The trader's own order (actor `user`, strategy "manual"): judged by the same gate
        and run by the same executor as the engine's. Returns the order and the gate's
        denial (journaled like any other), or None when it went to the executor."""
        with self._lock:
            signed = qty if side == OrderSide.BUY else -qty
            order = self._order(symbol, signed, price, "manual order", "manual", reduce_only)
            if limit_price is not None:
                order = replace(order, type=OrderType.LIMIT, limit_price=limit_price)
            self.stats.proposed += 1
            self.journal.order(order, "proposed", ts)
            payload = _order_payload(order) | {"execution": execution or "default",
                                               "limit_price": limit_price}
            self.journal.event("order.manual", "user", payload)
            verdict = self.broker.check(order, price=limit_price or price, now=ts)
            if not verdict.allowed:
                self._denied(order, verdict, ts)
                return order, verdict
            self._execute(order, ts, execution)
            return order, None

    # -- approval (manual mode) ------------------------------------------------------------

    def approve(self, client_order_id: str, ts: datetime, execution: str | None = None) -> str:
        """Approve a proposal; `execution` names an executor for this order alone."""
        with self._lock:
            proposal = self.proposals.pop(client_order_id, None)
            if proposal is None:
                return f"no proposed order {client_order_id}"
            self.journal.order(proposal.order, "approved", ts)
            payload = _order_payload(proposal.order)
            if execution is not None:
                payload["execution"] = execution
            self.journal.event("order.approved", "user", payload)
            self._submit(proposal.order, ts, actor="user", execution=execution)
            return ""

    def reject(self, client_order_id: str, ts: datetime) -> str:
        with self._lock:
            proposal = self.proposals.pop(client_order_id, None)
            if proposal is None:
                return f"no proposed order {client_order_id}"
            self.journal.order(proposal.order, "rejected", ts)
            self.journal.event("order.rejected", "user", _order_payload(proposal.order))
            self._forget(client_order_id)
            return ""

    def expire(self, ts: datetime) -> list[OrderRequest]:
        """Expire proposals whose approval time ran out (wall clock)."""
        with self._lock:
            now = self.wall_clock()
            expired = [p for p in self.proposals.values() if p.expires_at <= now]
            for proposal in expired:
                del self.proposals[proposal.order.client_order_id]
                self._forget(proposal.order.client_order_id)
                self.journal.order(proposal.order, "expired", ts)
                self.journal.event("order.expired", "system", _order_payload(proposal.order))
            return [p.order for p in expired]

    # -- market ----------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> list[Fill]:
        """Fill what is pending against this bar, then mark the position at its close."""
        with self._lock:
            fills = self.broker.on_bar(bar)  # booked into the portfolio by the gate
            for fill in fills:
                self._record_fill(fill)
            self.portfolio.mark(bar.symbol, to_decimal(bar.close))
            return fills

    def apply_fill(self, fill: Fill) -> None:
        """Book a fill that did not come through the broker (the backtest's final close)."""
        with self._lock:
            self.portfolio.apply_fill(fill)
            self._record_fill(fill)

    def _record_fill(self, fill: Fill) -> None:
        if self.executor.owns(fill.client_order_id):
            # A session's child: the executor stores it (once per trade id) and audits it.
            self.executor.on_fill(fill)
            self.stats.filled += 1
            session_id = parse_child_id(fill.client_order_id)[0]
            self.trades.on_fill(fill, self.strategy_of.get(session_id, ""),
                                self.attribution_of.get(session_id))
            if self.executor.fully_filled(session_id):  # no fill of it can come any more
                self._forget(session_id)
            if self.journal.records:
                pos = self.portfolio.position(fill.symbol)
                self.journal.position(fill.symbol, pos.qty, pos.avg_price, pos.realized_pnl,
                                      pos.fees)
            return
        # Not a session's child: a fill booked from outside (the backtest's final close).
        if not self.journal.fill(fill):
            return  # already recorded: fills are stored once per trade id
        self.stats.filled += 1
        strategy = self.strategy_of.get(fill.client_order_id, "")
        self.trades.on_fill(fill, strategy, self.attribution_of.get(fill.client_order_id))
        pos = self.portfolio.position(fill.symbol)
        self.journal.position(fill.symbol, pos.qty, pos.avg_price, pos.realized_pnl, pos.fees)
        self.journal.event(
            "order.filled",
            "engine",
            {
                "client_order_id": fill.client_order_id,
                "trade_id": fill.trade_id,
                "symbol": fill.symbol,
                "side": str(fill.side),
                "qty": fill.qty,
                "price": fill.price,
                "fee": fill.fee,
                "ts": fill.ts,
            },
        )


def _order_payload(order: OrderRequest) -> dict:
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": str(order.side),
        "type": str(order.type),
        "qty": order.qty,
        "ref_price": order.ref_price,
        "reason": order.reason,
        "strategy": order.strategy,
    }
