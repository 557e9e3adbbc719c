"""The trading kernel: what happens at each event, whoever drives it.

One `Kernel` is built from a `TradingSpec` (strategies, ensemble, regime policy, stops,
sizing, risk limits, executor settings) with only the edges injected: the clock, the
broker, the journal and the execution store. The live engine calls it as bars arrive;
the backtest calls it only at the bars where an event happens. Neither driver decides
anything itself: the events below are the whole trading loop.

    open_bar    pending orders fill at the bar's open; a fill re-arms the symbol's stop
    equity_at   the risk gate sees the book's equity (drawdown, daily loss)
    parts_due   execution parts whose time has come go to the broker
    check_stop  a bar that reaches the stop closes the position (stop_hit)
    decide      the ensemble's new stance becomes orders: sized, gated, approved, executed
    rebalance   portfolio mode: the periodic check's basket, each order gated, approved,
                executed (engine.portfolio.mode)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from engine.brokers.base import Broker
from engine.trading.journal import Journal
from engine.trading.stops import StopBook
from engine.trading.trader import Trader, TradingRules
from engine.types import Bar, Fill, OrderRequest, Side

_QTY_STEP = Decimal("0.00000001")


class Kernel:
    def __init__(
        self,
        spec,  # engine.backtest.run.BacktestSpec: the trading rules built from the configuration
        *,
        broker: Broker,
        journal: Journal,
        execution_store,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], datetime] | None = None,
        approval: str = "auto",
        approval_timeout: float = 0.0,
        id_prefix: str = "o",
        volume_history: Callable[[str], list] | None = None,
        known_fill: Callable[[str], bool] | None = None,
    ) -> None:
        from engine.execution.manager import ExecutionManager
        from engine.trading.portfolio import Portfolio
        from engine.trading.risk import GatedBroker, RiskGate

        self.spec = spec
        self.portfolio = Portfolio(spec.cash, multiplier=getattr(spec, "multiplier", None))
        self.gate = RiskGate(spec.risk_limits)
        self.gate.attach_journal(journal)  # trips and resets are journaled as they happen
        # The gated broker is the only way to the market: every order meets the risk gate,
        # and fills are booked into the portfolio the gate guards.
        self.broker = GatedBroker(broker, self.gate, self.portfolio, known_fill=known_fill)
        # Every order runs as an execution session (a market order is a one-part session),
        # live and in backtests alike.
        self.executor = ExecutionManager(self.broker, execution_store,
                                         spec.execution or _market_execution(), clock=clock)
        self.trader = Trader(
            broker=self.broker, journal=journal, executor=self.executor,
            volume_history=volume_history,
            rules=TradingRules(spec.size, spec.allow_short, approval, approval_timeout),
            wall_clock=wall_clock or clock, id_prefix=id_prefix,
        )
        self.stops = StopBook()
        self.stops_hit = 0
        self.journal = journal
        # Portfolio mode ([portfolio] enabled): the periodic rebalance check; None when off.
        settings = getattr(spec, "portfolio", None)
        self.portfolio_mode = None
        if settings is not None:
            from engine.portfolio.mode import PortfolioMode

            self.portfolio_mode = PortfolioMode(settings)
        self.baskets = 0
        self._portfolio_halted = False

    # -- events ----------------------------------------------------------------------------

    def open_bar(self, bar: Bar, stop_width: float) -> list[Fill]:
        """Fill what is pending at this bar's open and mark the symbol at its close. A fill
        re-arms the stop `stop_width` from its price (regime multiple x ATR at the close
        before the fill; NaN: no stop)."""
        fills = self.trader.on_bar(bar)
        if fills and self.spec.stops:
            position = float(self.portfolio.qty(bar.symbol))
            self.stops.arm(bar.symbol, float(fills[-1].price), position, stop_width)
        return fills

    def equity_at(self, ts: datetime, equity: Decimal) -> None:
        self.gate.on_equity(ts, equity)

    def parts_due(self, now: datetime) -> list[OrderRequest]:
        return self.executor.tick(now)

    def check_stop(self, bar: Bar) -> list[OrderRequest]:
        """Live: does this bar reach the stop? (Backtests find the bar ahead with
        `StopBook.first_hit`, the same comparison, and call `stop_hit` there.)"""
        if self.stops.hit(bar.symbol, bar.low, bar.high):
            return self.stop_hit(bar.symbol, bar.ts, bar.close)
        return []

    def stop_hit(self, symbol: str, ts: datetime, close: float) -> list[OrderRequest]:
        held = self.portfolio.qty(symbol)
        if held == 0:
            return []
        self.stops_hit += 1
        side = Side.SELL if held > 0 else Side.BUY
        return self.trader.on_decision(symbol, ts, side, close, reason="stop",
                                       strategy="stop", close_only=True)

    def decide(self, symbol: str, ts: datetime, side: Side, close: float, *, regime: str,
               size_multiplier: float, votes=None) -> list[OrderRequest]:
        """`votes` (strategy id -> weight of those voting for `side`) attribute the trade
        this opens (engine.lifecycle.attribution); None: wholly the spec's label."""
        from engine.lifecycle.attribution import Attribution

        return self.trader.on_decision(
            symbol, ts, side, close, size_multiplier=size_multiplier,
            reason=f"{self.spec.label} {side.name} (regime {regime})",
            strategy=self.spec.label,
            attribution=Attribution.of(votes or {}, regime),
        )

    def rebalance(self, ts: datetime, closes: dict[str, float]) -> list[OrderRequest]:
        """Portfolio mode's periodic check at the bar's close (`closes`: every asset's, in
        the feed's order). A rebalance becomes one basket of orders (sells first, see
        engine.portfolio.basket), each through the risk gate, approval and the executor."""
        mode = self.portfolio_mode
        if mode is None:
            return []
        from engine.portfolio.basket import rebalance_basket
        from engine.trading.trader import to_decimal

        portfolio = self.portfolio
        equity = float(portfolio.equity)
        current = {}
        for symbol, close in closes.items():
            held = portfolio.qty(symbol)
            if held > 0 and equity > 0:
                current[symbol] = float(held * portfolio.multiplier(symbol)) * close / equity
        logged = len(mode.journal)
        # With the kill switch on the gate would deny every buy of a basket: the book holds
        # (the hard stop above the drawdown controller) until it is reset.
        halted = bool(self.gate.kill_switch)
        if halted != self._portfolio_halted:
            self._portfolio_halted = halted
            mode.journal.append({"ts": ts.isoformat(), "kind": "halted" if halted
                                 else "resumed", "reason": "kill switch"})
        plan = mode.check(ts, closes, equity=equity, current=current,
                          busy=halted or self.trader.basket_pending("portfolio"))
        for entry in mode.journal[logged:]:
            self.journal.event(f"portfolio.{entry['kind']}", "engine", entry)
        if plan is None:
            return []
        # Targets never ask for more than the gate allows one position: the gate stays the
        # judge of every order, but a book that aims past it would be denied every bar.
        cap = float(self.spec.risk_limits.max_position_pct)
        targets = {s: min(w, cap) for s, w in plan.targets.items()}
        settings = mode.settings
        self.baskets += 1
        prices = {s: to_decimal(c) for s, c in closes.items()}
        basket = rebalance_basket(
            basket_id=f"{self.trader.id_prefix}-pf{self.baskets:06d}",
            positions={s: portfolio.qty(s) for s in closes if portfolio.qty(s) != 0},
            prices=prices, cash=portfolio.cash, targets=targets, reason=plan.reason,
            steps={s: self.broker.quantity_step(s) or _QTY_STEP for s in closes},
            min_notional=to_decimal(settings.min_position_size),
            cost_rate=to_decimal(settings.rebalance.fee
                                 + settings.rebalance.slippage_bps / 10_000))
        return self.trader.propose_basket(basket.orders, ts)

    def acts_on(self, symbol: str, side: Side) -> bool:
        """Whether a decision for `side` could change anything: a driver may skip the
        market-state work of one that cannot (already positioned that way, or a SELL when
        flat without shorts). `Trader.on_decision` applies the same rule."""
        return self.trader.acts_on(symbol, side)


def _market_execution():
    """The packaged default [execution] with mode "market", for specs that name none."""
    from dataclasses import replace

    from engine.config.schema import config_from_dict

    return replace(config_from_dict({}).execution, mode="market")
