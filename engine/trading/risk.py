"""The risk gate: hard limits every order passes before it can reach a broker.

Rules (their ids appear in `RiskDecision.rules`, one human reason each in `reasons`; the ids
are stable: the audit's `risk.denied` entries and a backtest's `stats.deny_reasons` key on
them, and scripts read those):

- ``invalid_order``: a non-positive quantity or price.
- ``min_notional``: qty * price below `min_order_notional`.
- ``max_position``: the position the order could leave, assuming every open order in the
  same direction fills too (as `GatedBroker` counts them, without asking the broker: what
  it let through less the fills it booked), worth more than `max_position_pct` of equity.
  An order that only reduces a position (never crosses zero) always passes this rule. A
  position worth exactly the limit passes (see "At the limit" below).
- ``max_daily_loss``: equity fell more than `max_daily_loss_pct` below the day's opening
  equity (the first one observed in that UTC day): no new entries for the rest of it.
- ``max_drawdown``: equity fell `max_drawdown_pct` or more below its peak: the kill switch
  trips and stays on until `reset_kill_switch()`.
- ``kill_switch``: switched on by hand (`set_kill_switch(True, reason)`).
- ``reduce_only``: an order marked reduce_only that would open or grow a position.
- ``max_correlation``: a position opened or grown whose returns correlate above
  `max_correlation` (Pearson, trailing `correlation_window` bars) with a held position of
  the same direction. `correlation_action = "scale"` instead asks for a smaller order,
  (1 - corr) / (1 - max_correlation) of it (`RiskDecision.resize_qty`).
- ``max_portfolio_volatility``: the annualized volatility of the whole book after the order,
  from the trailing covariance, above the limit.
- ``max_concentration``: one asset's share of the book after the order, |exposure| /
  max(gross exposure, equity), above the limit (engine.risk.book_rules says why equity).
- ``max_assets``: an order that would open one symbol more than `max_assets` held.
- Compliance ([compliance], `RiskLimits.compliance`): ``compliance_position`` (position
  worth more than its max_position_pct of equity), ``compliance_daily_loss`` (the day's
  loss beyond its max_daily_loss_pct halts entries for the day), ``liquidity`` (average
  daily quote volume over liquidity_window days below min_adv), ``trading_hours``
  (outside the symbol's windows) and ``restricted_symbol``.

The market rules (correlation, volatility, liquidity) read an attached `MarketHistory`
(engine.risk.market): the backtest attaches its arrays, the live engine its windows, so both
judge an order on the same bars. Without one (a bare gate in a test), those rules record a
check that could not judge and pass. The trailing covariance is computed once per bar and
shared by every order judged at that bar: the hot path stays a few small dot products.

Every check the gate runs is in `RiskDecision.checks` (rule, passed, value, limit): the
trader puts them in the order's `order.proposed` / `risk.denied` audit entry. Automatic
trips are journaled the moment they happen (`risk.tripped`: the drawdown kill switch, the
daily-loss halts) and so are their resets (`risk.reset`: a new UTC day, the kill switch
reset), through the journal the kernel attaches.

The halts stop entries only: an order that reduces a position still passes, so a trader can
always get flat. A halted gate (the kill switch, a daily-loss halt of the risk or compliance
table) does not read the market for an entry it denies anyway: the liquidity rule and the
book rules (concentration, assets, correlation, volatility) are not judged, and the entry's
checks and deny reasons name the halt. Nothing they could say changes the verdict, and after
a kill switch trips every entry signal of a long backtest would otherwise pay for them: most
of such a run's time. The only way the engine reaches a broker is `GatedBroker`, whose `submit`
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
from engine.risk.checks import Check
from engine.risk.compliance import ComplianceRules
from engine.trading.portfolio import Portfolio
from engine.types import Bar, Fill, OrderRequest, OrderSide

_ZERO = Decimal(0)
_QTY_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The [risk] table of desk.toml."""

    max_position_pct: float = 0.25
    max_daily_loss_pct: float = 0.05
    max_drawdown_pct: float = 0.20
    min_order_notional: Decimal = Decimal("10")
    # The portfolio rules are off unless given (desk.toml's defaults turn them on: 0.7,
    # 0.30, 0.30, 10), so a bare gate in a test or a peer benchmark judges as before.
    max_correlation: float = 1.0
    correlation_window: int = 60
    correlation_action: str = "deny"
    max_portfolio_volatility: float | None = None
    max_concentration: float = 1.0
    max_assets: int | None = None
    compliance: ComplianceRules | None = None

    def __post_init__(self) -> None:
        for name in ("max_position_pct", "max_daily_loss_pct", "max_drawdown_pct",
                     "max_correlation", "max_concentration"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"risk.{name} must be in (0, 1], got {value}")
        if self.min_order_notional < 0:
            raise ValueError(f"risk.min_order_notional must be >= 0, got {self.min_order_notional}")
        if self.correlation_action not in ("deny", "scale"):
            raise ValueError(f"risk.correlation_action must be deny or scale, got "
                             f"{self.correlation_action!r}")
        if self.correlation_window < 2:
            raise ValueError(f"risk.correlation_window must be >= 2, got "
                             f"{self.correlation_window}")

    @classmethod
    def from_config(cls, cfg) -> RiskLimits:
        """The [risk] and [compliance] tables of a Config."""
        from engine.risk.compliance import rules_from_config

        risk = cfg.risk
        return cls(
            max_position_pct=risk.max_position_pct, max_daily_loss_pct=risk.max_daily_loss_pct,
            max_drawdown_pct=risk.max_drawdown_pct, min_order_notional=risk.min_order_notional,
            max_correlation=risk.max_correlation, correlation_window=risk.correlation_window,
            correlation_action=risk.correlation_action,
            max_portfolio_volatility=risk.max_portfolio_volatility,
            max_concentration=risk.max_concentration, max_assets=risk.max_assets,
            compliance=rules_from_config(cfg),
        )


@dataclass(frozen=True, slots=True)
class RiskDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # ids of the failing rules, same order as reasons
    checks: tuple[Check, ...] = ()  # every check run, passed or failed, with its values
    # correlation_action = "scale": the largest quantity the correlation rule lets through
    resize_qty: Decimal | None = None

    def checks_payload(self) -> list[dict]:
        """The checks as audit payload: [{rule, passed, value, limit[, reason]}]."""
        return [check.as_dict() for check in self.checks]

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
        # The day's P&L below which its halts trip (-pct x the opening equity), set as the
        # day opens: every observation compares with it.
        self._day_floor = _ZERO
        self._comp_floor = _ZERO
        self._last_equity: Decimal | None = None
        self._seen: tuple[datetime, Decimal] | None = None  # on_equity's last observation
        self._peak = _ZERO
        self._day_halted = ""  # reason, "" when not halted
        self._compliance_halted = ""  # the compliance daily-loss halt, "" when not halted
        self._kill_rule = ""  # "max_drawdown" or "kill_switch", "" when off
        self._kill_reason = ""
        comp = limits.compliance
        self._comp_position = Decimal(str(comp.max_position_pct)) if comp else None
        self._comp_loss = Decimal(str(comp.max_daily_loss_pct)) if comp else None
        self._journal = None  # engine.trading.journal.Journal, attached by the kernel
        self._exposure: Callable[[], dict[str, Decimal]] | None = None
        self._market = None  # engine.risk.market.MarketHistory, attached by the driver
        self._rows: dict[str, int] = {}  # the market's symbol -> row of its statistics
        self._iso_of: tuple[datetime | None, str] = (None, "")  # see `_iso`
        self._stats_key: int | None = None
        self._stats = None  # engine.risk.book_rules.BarStats of bar `_stats_key`
        # The last verdict and everything it was judged from (see `check`).
        self._memo_key: tuple | None = None
        self._memo: RiskDecision | None = None

    def attach_journal(self, journal) -> None:
        """Where trips and resets are journaled the moment they happen."""
        self._journal = journal

    def attach_market(self, market) -> None:
        """The trailing market history the correlation, volatility and liquidity rules
        read (engine.risk.market.ArrayHistory / LiveHistory)."""
        from engine.risk.market import symbols_index

        with self._lock:
            self._market = market
            self._rows = symbols_index(market.symbols)  # a history's symbols are fixed
            self._stats_key = None
            self._stats = None
            self._memo_key = None

    def _journal_event(self, kind: str, payload: dict) -> None:
        if self._journal is not None:
            self._journal.event(kind, "engine", payload)

    # -- equity tracking -------------------------------------------------------------------

    def on_equity(self, ts: datetime, equity: Decimal) -> None:
        """Observe the account's equity at `ts` (called every step, and by `check`)."""
        with self._lock:
            # The same observation again (an order is checked up to three times at one
            # instant) changes nothing: every step below is idempotent on a repeat.
            if self._seen == (ts, equity):
                return
            self._seen = (ts, equity)
            day = (ts if ts.tzinfo is UTC else _utc(ts)).date()
            if self._day is None or day > self._day:
                # The day's first observation is its opening equity. (Not the last one of
                # the day before: callers may sample equity sparsely, e.g. a backtest that
                # reports only each day's first and worst bar.)
                for rule, halted in (("max_daily_loss", self._day_halted),
                                     ("compliance_daily_loss", self._compliance_halted)):
                    if halted:
                        self._journal_event("risk.reset", {
                            "rule": rule, "reason": f"a new UTC day, {day.isoformat()}",
                            "ts": _utc(ts).isoformat(), "equity": equity})
                self._day_start = equity
                self._day_floor = -self._daily_loss_pct * equity
                if self._comp_loss is not None:
                    self._comp_floor = -self._comp_loss * equity
                self._day = day
                self._day_halted = ""
                self._compliance_halted = ""
            self._last_equity = equity
            if equity > self._peak:
                self._peak = equity
            # At the peak the drawdown is exactly 0, below any limit (all are > 0): the
            # division is done only below it.
            if (not self._kill_rule and equity < self._peak and self._peak > 0
                    and (dd := self._drawdown()) >= self._drawdown_pct):
                self._kill_rule = "max_drawdown"
                self._kill_reason = (
                    f"drawdown {dd:.2%} from peak {self._peak} reached the "
                    f"{self.limits.max_drawdown_pct:.2%} limit: kill switch on"
                )
                self._trip("max_drawdown", self._kill_reason, ts, equity,
                           value=float(dd), limit=self.limits.max_drawdown_pct)
            if self._day_start > 0 and not (self._day_halted and self._compliance_halted):
                self._check_day_loss(ts, equity)

    def _check_day_loss(self, ts: datetime, equity: Decimal) -> None:
        pnl = equity - self._day_start
        if not self._day_halted and pnl < self._day_floor:
            self._day_halted = (
                f"day P&L {pnl:.2f} below -{self.limits.max_daily_loss_pct:.2%} "
                f"of the day's opening equity {self._day_start:.2f}: entries halted "
                f"until {self._day.isoformat()} ends (UTC)"
            )
            self._trip("max_daily_loss", self._day_halted, ts, equity,
                       value=float(pnl / self._day_start),
                       limit=-self.limits.max_daily_loss_pct)
        comp = self.limits.compliance
        if comp is not None and not self._compliance_halted and pnl < self._comp_floor:
            self._compliance_halted = (
                f"day P&L {pnl:.2f} below the compliance limit -{comp.max_daily_loss_pct:.2%}"
                f" of the day's opening equity {self._day_start:.2f}: entries halted until "
                f"{self._day.isoformat()} ends (UTC)"
            )
            self._trip("compliance_daily_loss", self._compliance_halted, ts, equity,
                       value=float(pnl / self._day_start), limit=-comp.max_daily_loss_pct)

    def _trip(self, rule: str, reason: str, ts: datetime, equity: Decimal, *, value: float,
              limit: float) -> None:
        self._journal_event("risk.tripped", {
            "rule": rule, "reason": reason, "ts": _utc(ts).isoformat(), "equity": equity,
            "peak": self._peak, "day_start_equity": self._day_start, "value": value,
            "limit": limit})

    def may_halt_day(self, opening: float, lowest: float) -> bool:
        """Whether a UTC day that opened at equity `opening` and fell no lower than `lowest`
        could trip a daily-loss halt (the gate's or compliance's). Errs towards yes near
        the limit: a driver may skip showing the gate a day only when this says no."""
        if opening <= 0:
            return True
        pct = self.limits.max_daily_loss_pct
        if self.limits.compliance is not None:
            pct = min(pct, self.limits.compliance.max_daily_loss_pct)
        return lowest - opening <= -pct * opening * (1 - 1e-9)

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
                self._memo_key = None  # the reason is in the verdict
            else:
                self.reset_kill_switch()

    def reset_kill_switch(self) -> None:
        """Switch off, and measure drawdown afresh from the current equity (otherwise the
        same drawdown would trip it again on the next step). The reset of an automatic trip
        is journaled (`risk.reset`); the desk journals its own manual switch."""
        with self._lock:
            if self._kill_rule == "max_drawdown":
                self._journal_event("risk.reset", {
                    "rule": "max_drawdown", "reason": "kill switch reset",
                    "equity": self._last_equity, "peak": self._peak})
            self._kill_rule = ""
            self._kill_reason = ""
            self._memo_key = None
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
        return self._kill_reason or self._day_halted or self._compliance_halted

    def state(self) -> RiskState:
        with self._lock:
            return RiskState(
                day_start_equity=self._day_start,
                day_pnl=self.day_pnl,
                daily_loss_limit=self._daily_loss_pct * self._day_start,
                day_halted=bool(self._day_halted or self._compliance_halted),
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
        with self._lock:
            # An order is judged up to three times at one instant: when proposed, before its
            # intent is committed and at submission. A verdict is a pure function of the
            # order, the price, the moment, the book (its version counts every fill and
            # mark), the open orders and the gate's own state, so when none of them moved
            # the last verdict is the verdict: every rule still judged every order once.
            # (The market's newest bar is in the key too: live windows move on their own.)
            market = None if self._market is None else self._market.bar_at(now)
            key = (order.symbol, order.side, order.qty, order.reduce_only, order.limit_price,
                   price, now, pending_buy, pending_sell, id(portfolio), portfolio.version,
                   market, self._day, self._day_start, self._last_equity, self._peak,
                   self._day_halted, self._compliance_halted, self._kill_rule)
            if key == self._memo_key:
                return self._memo
            decision = self._judge(order, price, portfolio, now, equity, pending_buy,
                                   pending_sell)
            self._memo_key, self._memo = key, decision
            return decision

    def _judge(self, order: OrderRequest, price: Decimal | None, portfolio: Portfolio,
               now: datetime, equity: Decimal, pending_buy: Decimal,
               pending_sell: Decimal) -> RiskDecision:
        checks: list[Check] = []
        if price is None:
            price = order.limit_price or portfolio.last_price(order.symbol)
        if price is None:
            checks.append(Check("invalid_order", False, None, None,
                                f"no price known for {order.symbol}"))
            return _decision(checks)
        if order.qty <= 0 or price <= 0:
            checks.append(Check("invalid_order", False, str(order.qty), None,
                                f"qty {order.qty} and price {price} must be > 0"))
            return _decision(checks)
        q = portfolio.qty(order.symbol)
        # Money per unit of quantity: price x the contract multiplier (1 for spot, so the
        # limit stays exact there; 100 for an option of 100 shares).
        unit = price * portfolio.multiplier(order.symbol)
        if order.side == OrderSide.BUY:
            worst = q + pending_buy + order.qty
            reduces = q < 0 and worst <= 0
        else:
            worst = q - pending_sell - order.qty
            reduces = q > 0 and worst >= 0
        notional = order.qty * unit
        limit = self.limits.min_order_notional
        checks.append(Check("min_notional", notional >= limit, notional, limit,
                            "" if notional >= limit else
                            f"notional {notional:.2f} below the minimum {limit}"))
        if reduces:
            # A reducing order always passes the entry rules: a trader can always get flat.
            return _decision(checks)
        if order.reduce_only:
            checks.append(Check("reduce_only", False, None, None,
                                "reduce-only order would open or grow a position"))
        cap = self._position_pct * equity
        worst_notional = abs(worst) * unit
        # Exactly at the cap passes: the trader sizes to it (module doc, "At the limit").
        ok = equity > 0 and worst_notional <= cap
        checks.append(Check(
            "max_position", ok, _fraction(worst_notional, equity), self.limits.max_position_pct,
            "" if ok else
            f"{order.symbol} position would be {_money(worst_notional, cap)}, above "
            f"{self.limits.max_position_pct:.2%} of equity ({_money(cap, worst_notional)})"))
        with self._lock:
            checks.append(Check("kill_switch" if self._kill_rule != "max_drawdown"
                                else "max_drawdown", not self._kill_rule, self.drawdown,
                                self.limits.max_drawdown_pct, self._kill_reason))
            checks.append(Check("max_daily_loss", not self._day_halted,
                                _fraction(self.day_pnl, self._day_start),
                                -self.limits.max_daily_loss_pct, self._day_halted))
            halted = bool(self._kill_rule or self._day_halted or self._compliance_halted)
            if self.limits.compliance is not None:
                self._compliance_checks(order, worst_notional, equity, now, checks,
                                        read_market=not halted)
            # Module doc: a halted gate does not judge the book rules.
            resize = None if halted else self._book_checks(order, worst, unit, equity, now,
                                                           checks)
        decision = _decision(checks)
        if resize is not None and not decision.allowed and decision.rules == (
                "max_correlation",):
            if resize > 0 and resize * unit >= self.limits.min_order_notional:
                return RiskDecision(False, decision.reasons, decision.rules, decision.checks,
                                    resize_qty=resize)
        return decision

    def _compliance_checks(self, order: OrderRequest, worst_notional: Decimal,
                           equity: Decimal, now: datetime, checks: list[Check], *,
                           read_market: bool = True) -> None:
        """`read_market` False (a halted gate, module doc): the liquidity rule is not
        judged."""
        comp = self.limits.compliance
        symbol = order.symbol
        restricted = symbol in comp.restricted
        checks.append(Check("restricted_symbol", not restricted, symbol, None,
                            f"{symbol} is a restricted symbol" if restricted else ""))
        cap = self._comp_position * equity
        ok = equity > 0 and worst_notional <= cap
        checks.append(Check(
            "compliance_position", ok, _fraction(worst_notional, equity), comp.max_position_pct,
            "" if ok else f"{symbol} position would be {worst_notional:.2f}, above the "
            f"compliance limit of {comp.max_position_pct:.2%} of equity ({cap:.2f})"))
        checks.append(Check("compliance_daily_loss", not self._compliance_halted,
                            _fraction(self.day_pnl, self._day_start), -comp.max_daily_loss_pct,
                            self._compliance_halted))
        open_now, hours = comp.in_hours(symbol, now)
        checks.append(Check("trading_hours", open_now, self._iso(now), hours,
                            "" if open_now else f"{symbol} is outside its trading hours "
                            f"({hours})"))
        if not read_market:
            return
        adv = None if self._market is None or symbol not in self._market.symbols else (
            self._market.adv(symbol, now, comp.liquidity_window))
        if adv is None:
            checks.append(Check("liquidity", True, None, comp.min_adv,
                                f"no volume history for {symbol}: not judged"))
        else:
            ok = adv >= comp.min_adv
            checks.append(Check("liquidity", ok, round(adv, 2), comp.min_adv,
                                "" if ok else f"{symbol} average daily quote volume "
                                f"{adv:,.0f} over {comp.liquidity_window} days is below "
                                f"{comp.min_adv:,}"))

    def _iso(self, now: datetime) -> str:
        """`now` in UTC as ISO text, kept for the instant: an order is judged up to three
        times at one."""
        if now is not self._iso_of[0]:
            self._iso_of = (now, _utc(now).isoformat())
        return self._iso_of[1]

    def _book_checks(self, order: OrderRequest, worst: Decimal, unit: Decimal,
                     equity: Decimal, now: datetime, checks: list[Check]) -> Decimal | None:
        """Correlation, volatility, concentration and asset count of the book after the
        order (`unit`: money per unit of quantity); returns the quantity the correlation
        rule would let through when it scales.

        Scaling holds the new position to (1 - corr) / (1 - max_correlation) of the position
        limit: a resized order then passes the same check (it is judged again)."""
        from engine.risk import book_rules as rules

        signed_after = worst * unit
        limits = self.limits
        exposures = {s: float(v) for s, v in self._portfolio_exposure.items()}
        symbol = order.symbol
        exposures[symbol] = float(signed_after)
        eq = float(equity)
        share = rules.concentration(exposures, symbol, eq)
        ok = share <= limits.max_concentration
        checks.append(Check("max_concentration", ok, share, limits.max_concentration,
                            "" if ok else f"{symbol} would be {share:.2%} of the book, above "
                            f"the {limits.max_concentration:.2%} concentration limit"))
        if limits.max_assets is not None:
            held = sum(1 for v in exposures.values() if v != 0)
            ok = held <= limits.max_assets
            checks.append(Check("max_assets", ok, held, limits.max_assets,
                                "" if ok else f"{held} assets would be held, above the "
                                f"limit of {limits.max_assets}"))
        wants_corr = limits.max_correlation < 1
        wants_vol = limits.max_portfolio_volatility is not None
        if not (wants_corr or wants_vol):
            return None
        stats = self._bar_stats(now)
        resize = None
        if wants_corr:
            direction = 1 if order.side == OrderSide.BUY else -1
            worst = None if stats is None else rules.worst_correlation(
                stats, symbol, direction, exposures)
            if worst is None:
                checks.append(Check("max_correlation", True, None, limits.max_correlation,
                                    "" if stats is not None else "no return history: not judged"))
            else:
                corr, other = worst
                ok = corr <= limits.max_correlation
                note = ""
                if not ok and limits.correlation_action == "scale":
                    factor = rules.correlation_scale(corr, limits.max_correlation)
                    allowed = Decimal(repr(factor)) * self._position_pct * equity
                    excess = abs(signed_after) - allowed
                    ok = excess <= 0
                    note = f"; scaled: position held to {allowed:.2f} ({factor:.0%} of the limit)"
                    if not ok:
                        resize = (order.qty - excess / unit).quantize(
                            _QTY_QUANTUM, rounding="ROUND_DOWN")
                checks.append(Check(
                    "max_correlation", ok, corr, limits.max_correlation,
                    f"{symbol} correlates {corr:.2f} with {other} held in the same direction,"
                    f" above {limits.max_correlation:.2f}{note}"
                    if corr > limits.max_correlation else ""))
        if wants_vol:
            vol = None if stats is None else rules.portfolio_volatility(stats, exposures, eq)
            cap = limits.max_portfolio_volatility
            if vol is None:
                checks.append(Check("max_portfolio_volatility", True, None, cap,
                                    "no return history: not judged"))
            else:
                ok = vol <= cap
                checks.append(Check(
                    "max_portfolio_volatility", ok, vol, cap,
                    "" if ok else f"the book's volatility would be {vol:.2%} a year, above "
                    f"{cap:.2%}"))
        return resize

    @property
    def _portfolio_exposure(self) -> dict[str, Decimal]:
        return self._exposure() if self._exposure is not None else {}

    def watch(self, exposure: Callable[[], dict[str, Decimal]]) -> None:
        """The exposure (symbol -> signed notional) of the book the portfolio rules judge:
        the guarded portfolio's `exposure` (GatedBroker attaches it)."""
        self._exposure = exposure

    def _bar_stats(self, now: datetime):
        """The trailing covariance at `now`'s bar: computed once per bar, shared by every
        order judged at it."""
        market = self._market
        if market is None:
            return None
        key = market.bar_at(now)
        if key != self._stats_key:
            from engine.risk import book_rules
            from engine.risk.market import returns_of

            closes = market.closes(now, self.limits.correlation_window)
            self._stats = book_rules.bar_stats(self._rows, returns_of(closes),
                                               market.periods_per_year)
            self._stats_key = key
        return self._stats

    def bar_stats(self, now: datetime):
        """The trailing statistics the gate judges with at `now` (for the risk score)."""
        with self._lock:
            return self._bar_stats(now)


def _fraction(value: Decimal, base: Decimal) -> float | None:
    return float(value / base) if base else None


def _decision(checks: list[Check]) -> RiskDecision:
    failed = [c for c in checks if not c.passed]
    return RiskDecision(
        allowed=not failed,
        reasons=tuple(c.reason for c in failed),
        rules=tuple(c.rule for c in failed),
        checks=tuple(checks),
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
        gate.watch(portfolio.exposure)  # the book the portfolio rules judge
        # A venue may deliver a fill again (after a restart it replays an order's trades):
        # a fill is booked once per trade id, checked against this process and, through
        # `known_fill`, against what an earlier process stored.
        self._known_fill = known_fill
        # Client order id -> trade ids booked. A broker that never replays fills cannot
        # deliver a closed order's trade again, so those ids are forgotten as its orders
        # close: a million-order backtest does not keep a million ids.
        self._booked: dict[str, set[str]] = {}
        # The orders this gate let through that may still fill: symbol -> client order id
        # -> [side, quantity not yet booked]. The gate counts them as pending (they could
        # all fill) from what it saw itself, accepted orders less the fills it booked,
        # never by asking the broker: a venue's lookup is a network call per open order,
        # and a check (three an order) must neither wait on nor fail with the network.
        # Whoever asks the broker for an order through the gate (`fetch_order`: unknown
        # outcomes, recovery) brings the venue's word in; a cancel it confirms ends it.
        self._open: dict[str, dict[str, list]] = {}

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
        self._open.setdefault(order.symbol, {})[order.client_order_id] = [order.side, order.qty]
        return broker_id

    def cancel(self, client_order_id: str) -> bool:
        cancelled = self._broker.cancel(client_order_id)
        if cancelled:
            self._ended(client_order_id)
        return cancelled

    def quantity_step(self, symbol: str) -> Decimal | None:
        return self._broker.quantity_step(symbol)

    def fetch_order(self, client_order_id: str) -> BrokerOrder | None:
        found = self._broker.fetch_order(client_order_id)
        if found is not None and found.is_open:
            # Open at the venue (an unknown outcome that was accepted, an order recovered):
            # pending for what it has left.
            orders = self._open.setdefault(found.symbol, {})
            orders[client_order_id] = [found.side, found.remaining]
        else:
            self._ended(client_order_id)
        return found

    def on_bar(self, bar: Bar) -> list[Fill]:
        """Fills since the last bar, already booked into the portfolio."""
        fresh = []
        done = []
        for fill in self._broker.on_bar(bar):
            booked = self._booked.setdefault(fill.client_order_id, set())
            if fill.trade_id in booked or (
                self._known_fill is not None and self._known_fill(fill.trade_id)
            ):
                continue
            booked.add(fill.trade_id)
            self._portfolio.apply_fill(fill)
            fresh.append(fill)
            pending = self._open.get(fill.symbol, {}).get(fill.client_order_id)
            if pending is not None:
                pending[1] -= fill.qty
                if pending[1] <= 0:
                    done.append(fill.client_order_id)
        # After the whole batch: a trade delivered twice within it is still caught above.
        for client_order_id in done:
            self._ended(client_order_id)
        return fresh

    @property
    def replays_fills(self) -> bool:
        return self._broker.replays_fills

    def _pending(self, symbol: str) -> tuple[Decimal, Decimal]:
        buy = sell = _ZERO
        for side, remaining in self._open.get(symbol, {}).values():
            if side == OrderSide.BUY:
                buy += remaining
            else:
                sell += remaining
        return buy, sell

    def _ended(self, client_order_id: str) -> None:
        """The order can fill no more: it stops counting as pending. A broker that never
        replays fills cannot deliver its trades again, so their ids are forgotten too."""
        for orders in self._open.values():
            if orders.pop(client_order_id, None) is not None:
                break
        if not self._broker.replays_fills:
            self._booked.pop(client_order_id, None)
