"""The risk gate: hard limits every order passes before it can reach a broker.

Rules (their ids appear in `RiskDecision.rules`, one human reason each in `reasons`; the ids
are stable: the audit's `risk.denied` entries and a backtest's `stats.deny_reasons` key on
them, and scripts read those):

- ``invalid_order``: a non-positive quantity or price.
- ``min_notional``: qty * price below `min_order_notional`.
- ``max_position``: the position the order could leave, assuming every open order in the
  same direction fills too, worth more than `max_position_pct` of equity. An order that
  only reduces a position (never crosses zero) always passes this rule. A position worth
  exactly the limit passes (see "At the limit" below).
- ``max_daily_loss``: equity fell more than `max_daily_loss_pct` below the day's opening
  equity (the first one observed in that UTC day): no new entries for the rest of it.
- ``max_drawdown``: equity fell `max_drawdown_pct` or more below its peak: the kill switch
  trips and stays on until `reset_kill_switch()`.
- ``kill_switch``: switched on by hand (`set_kill_switch(True, reason)`).
- ``reduce_only``: an order marked reduce_only that would open or grow a position.

The halts stop entries only: an order that reduces a position still passes, so a trader can
always get flat. The only way the engine reaches a broker is `GatedBroker`, whose `submit`
asks the gate first and raises `OrderDenied` (with the decision) instead of submitting.

At the limit: the position rule compares ``|position| x price <= max_position_pct x equity``
in exact `Decimal` arithmetic, with the price the order is checked at (its `ref_price`, the
decision's price) and the portfolio's equity at that moment. The trader sizes with the very
same numbers (`Trader._target_qty`): the largest multiple of the venue's quantity step whose
notional is at most `size x equity`. So at `size == max_position_pct` the sized order is at
or below the limit and is never denied by this rule, and one step more is above it and is
denied. There is no tolerance: the two sides agree exactly, and a tolerance of a step
would let that one-step-larger order through. A later check of the same order (a manual
approval minutes later, a later part of a TWAP) judges at the price and equity of its own
moment: if the price rose or fees were paid since, an order sized at the limit may then be
above it and is denied. The limit holds whenever an order leaves, not only when it was sized.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from engine.brokers.base import Broker, BrokerOrder
from engine.trading.portfolio import Portfolio
from engine.types import Bar, Fill, OrderRequest, OrderSide

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The [risk] table of desk.toml."""

    max_position_pct: float = 0.25
    max_daily_loss_pct: float = 0.05
    max_drawdown_pct: float = 0.20
    min_order_notional: Decimal = Decimal("10")

    def __post_init__(self) -> None:
        for name in ("max_position_pct", "max_daily_loss_pct", "max_drawdown_pct"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"risk.{name} must be in (0, 1], got {value}")
        if self.min_order_notional < 0:
            raise ValueError(f"risk.min_order_notional must be >= 0, got {self.min_order_notional}")


@dataclass(frozen=True, slots=True)
class RiskDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # ids of the failing rules, same order as reasons

    @property
    def failures(self) -> tuple[tuple[str, str], ...]:
        """(rule id, reason) for each failing rule."""
        return tuple(zip(self.rules, self.reasons, strict=True))


@dataclass(frozen=True, slots=True)
class RiskState:
    """What the desk's risk pane shows."""

    day_start_equity: Decimal
    day_pnl: Decimal
    daily_loss_limit: Decimal  # money, positive
    day_halted: bool
    peak: Decimal
    drawdown: float  # 0..1 below the peak
    kill_switch: bool
    halted_reason: str


class OrderDenied(Exception):
    """The risk gate refused an order; `decision` says which rules and why."""

    def __init__(self, order: OrderRequest, decision: RiskDecision) -> None:
        super().__init__(f"order {order.client_order_id!r} denied: " + "; ".join(decision.reasons))
        self.order = order
        self.decision = decision


class RiskGate:
    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self._position_pct = Decimal(str(limits.max_position_pct))
        self._daily_loss_pct = Decimal(str(limits.max_daily_loss_pct))
        self._drawdown_pct = Decimal(str(limits.max_drawdown_pct))
        # The desk flips the kill switch from its own thread while the engine checks orders.
        self._lock = threading.RLock()
        self._day: date | None = None
        self._day_start = _ZERO
        self._last_equity: Decimal | None = None
        self._peak = _ZERO
        self._day_halted = ""  # reason, "" when not halted
        self._kill_rule = ""  # "max_drawdown" or "kill_switch", "" when off
        self._kill_reason = ""

    # -- equity tracking -------------------------------------------------------------------

    def on_equity(self, ts: datetime, equity: Decimal) -> None:
        """Observe the account's equity at `ts` (called every step, and by `check`)."""
        day = _utc(ts).date()
        with self._lock:
            if self._day is None or day > self._day:
                # The day's first observation is its opening equity. (Not the last one of
                # the day before: callers may sample equity sparsely, e.g. a backtest that
                # reports only each day's first and worst bar.)
                self._day_start = equity
                self._day = day
                self._day_halted = ""
            self._last_equity = equity
            self._peak = max(self._peak, equity)
            dd = self._drawdown()
            if not self._kill_rule and self._peak > 0 and dd >= self._drawdown_pct:
                self._kill_rule = "max_drawdown"
                self._kill_reason = (
                    f"drawdown {dd:.2%} from peak {self._peak} reached the "
                    f"{self.limits.max_drawdown_pct:.2%} limit: kill switch on"
                )
            loss_limit = self._daily_loss_pct * self._day_start
            if not self._day_halted and self._day_start > 0 and self.day_pnl < -loss_limit:
                self._day_halted = (
                    f"day P&L {self.day_pnl:.2f} below -{self.limits.max_daily_loss_pct:.2%} "
                    f"of the day's opening equity {self._day_start:.2f}: entries halted "
                    f"until {self._day.isoformat()} ends (UTC)"
                )

    def _drawdown(self) -> Decimal:
        if self._peak <= 0 or self._last_equity is None:
            return _ZERO
        return 1 - self._last_equity / self._peak

    # -- kill switch -----------------------------------------------------------------------

    def set_kill_switch(self, on: bool, reason: str = "manual") -> None:
        with self._lock:
            if on:
                self._kill_rule = "kill_switch"
                self._kill_reason = f"kill switch on: {reason}"
            else:
                self.reset_kill_switch()

    def reset_kill_switch(self) -> None:
        """Switch off, and measure drawdown afresh from the current equity (otherwise the
        same drawdown would trip it again on the next step)."""
        with self._lock:
            self._kill_rule = ""
            self._kill_reason = ""
            if self._last_equity is not None:
                self._peak = self._last_equity

    # -- state for the desk ----------------------------------------------------------------

    @property
    def day_pnl(self) -> Decimal:
        return _ZERO if self._last_equity is None else self._last_equity - self._day_start

    @property
    def drawdown(self) -> float:
        return float(self._drawdown())

    @property
    def peak(self) -> Decimal:
        return self._peak

    @property
    def kill_switch(self) -> bool:
        return bool(self._kill_rule)

    @property
    def halted_reason(self) -> str:
        return self._kill_reason or self._day_halted

    def state(self) -> RiskState:
        with self._lock:
            return RiskState(
                day_start_equity=self._day_start,
                day_pnl=self.day_pnl,
                daily_loss_limit=self._daily_loss_pct * self._day_start,
                day_halted=bool(self._day_halted),
                peak=self._peak,
                drawdown=self.drawdown,
                kill_switch=self.kill_switch,
                halted_reason=self.halted_reason,
            )

    # -- the check -------------------------------------------------------------------------

    def check(
        self,
        order: OrderRequest,
        price: Decimal | None,
        portfolio: Portfolio,
        now: datetime,
        pending_buy: Decimal = _ZERO,
        pending_sell: Decimal = _ZERO,
    ) -> RiskDecision:
        """Judge `order` at `price` against every rule. `pending_buy` / `pending_sell` are
        the unfilled quantities of this symbol's open orders, counted as if they fill.
        Without a price, the order's limit price or else the symbol's last mark is used;
        with none of them the order is denied (it cannot be sized against equity)."""
        equity = portfolio.equity
        self.on_equity(now, equity)
        failed: list[tuple[str, str]] = []
        if price is None:
            price = order.limit_price or portfolio.last_price(order.symbol)
        if price is None:
            failed.append(("invalid_order", f"no price known for {order.symbol}"))
            return _decision(failed)
        if order.qty <= 0 or price <= 0:
            failed.append(("invalid_order", f"qty {order.qty} and price {price} must be > 0"))
            return _decision(failed)
        q = portfolio.position(order.symbol).qty
        if order.side == OrderSide.BUY:
            worst = q + pending_buy + order.qty
            reduces = q < 0 and worst <= 0
        else:
            worst = q - pending_sell - order.qty
            reduces = q > 0 and worst >= 0
        notional = order.qty * price
        if notional < self.limits.min_order_notional:
            failed.append((
                "min_notional",
                f"notional {notional:.2f} below the minimum {self.limits.min_order_notional}",
            ))
        if not reduces:
            if order.reduce_only:
                failed.append(("reduce_only", "reduce-only order would open or grow a position"))
            cap = self._position_pct * equity
            worst_notional = abs(worst) * price
            # Exactly at the cap passes: the trader sizes to it (module doc, "At the limit").
            if equity <= 0 or worst_notional > cap:
                failed.append((
                    "max_position",
                    f"{order.symbol} position would be {_money(worst_notional, cap)}, above "
                    f"{self.limits.max_position_pct:.2%} of equity ({_money(cap, worst_notional)})",
                ))
            with self._lock:
                if self._kill_rule:
                    failed.append((self._kill_rule, self._kill_reason))
                if self._day_halted:
                    failed.append(("max_daily_loss", self._day_halted))
        return _decision(failed)


def _decision(failed: list[tuple[str, str]]) -> RiskDecision:
    return RiskDecision(
        allowed=not failed,
        reasons=tuple(r for _, r in failed),
        rules=tuple(rule for rule, _ in failed),
    )


def _money(value: Decimal, other: Decimal) -> str:
    """`value` to the cent, or in full when the cents would read the same as `other`
    (a position a fraction of a cent above the cap must not print as equal to it)."""
    cents = f"{value:.2f}"
    return cents if cents != f"{other:.2f}" else f"{value.normalize():f}"


def _utc(ts: datetime) -> datetime:
    # Naive timestamps are taken as UTC, the engine's convention.
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


class GatedBroker:
    """The engine's only handle on a broker: every submit passes the risk gate first.

    It also books the broker's fills into the portfolio, so the gate always judges the
    position it guards (the engine must not apply these fills a second time).
    """

    def __init__(
        self, broker: Broker, gate: RiskGate, portfolio: Portfolio, *,
        known_fill: Callable[[str], bool] | None = None,
    ) -> None:
        self._broker = broker
        self._gate = gate
        self._portfolio = portfolio
        # A venue may deliver a fill again (after a restart it replays an order's trades):
        # a fill is booked once per trade id, checked against this process and, through
        # `known_fill`, against what an earlier process stored.
        self._known_fill = known_fill
        self._booked: set[str] = set()
        self._open: dict[str, str] = {}  # client order id -> symbol, for open orders

    @property
    def gate(self) -> RiskGate:
        return self._gate

    @property
    def portfolio(self) -> Portfolio:
        return self._portfolio

    def check(self, order: OrderRequest, *, price: Decimal | None, now: datetime) -> RiskDecision:
        """What `submit` would decide now, without submitting (for previews)."""
        buy, sell = self._pending(order.symbol)
        return self._gate.check(order, price, self._portfolio, now, buy, sell)

    def submit(self, order: OrderRequest, *, price: Decimal | None, now: datetime) -> str:
        """Check, then submit; returns the broker order id or raises `OrderDenied`.
        Broker errors (duplicate id, invalid order) propagate unchanged."""
        decision = self.check(order, price=price, now=now)
        if not decision.allowed:
            raise OrderDenied(order, decision)
        broker_id = self._broker.submit(order)
        self._open[order.client_order_id] = order.symbol
        return broker_id

    def cancel(self, client_order_id: str) -> bool:
        return self._broker.cancel(client_order_id)

    def quantity_step(self, symbol: str) -> Decimal | None:
        return self._broker.quantity_step(symbol)

    def fetch_order(self, client_order_id: str) -> BrokerOrder | None:
        return self._broker.fetch_order(client_order_id)

    def on_bar(self, bar: Bar) -> list[Fill]:
        """Fills since the last bar, already booked into the portfolio."""
        fresh = []
        for fill in self._broker.on_bar(bar):
            if fill.trade_id in self._booked or (
                self._known_fill is not None and self._known_fill(fill.trade_id)
            ):
                continue
            self._booked.add(fill.trade_id)
            self._portfolio.apply_fill(fill)
            fresh.append(fill)
        return fresh

    @property
    def replays_fills(self) -> bool:
        return self._broker.replays_fills

    def _pending(self, symbol: str) -> tuple[Decimal, Decimal]:
        buy = sell = _ZERO
        for cid, sym in list(self._open.items()):
            o = self._broker.fetch_order(cid)
            if o is None or not o.is_open:
                del self._open[cid]
                continue
            if sym != symbol:
                continue
            if o.side == OrderSide.BUY:
                buy += o.remaining
            else:
                sell += o.remaining
        return buy, sell
