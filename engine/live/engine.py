"""The live driver: the trading kernel called bar by bar as a feed delivers on the wall clock.

The kernel (engine.trading.kernel) decides; this loop only decides when. One step, for the
bars of every symbol: each symbol's state takes its bar (strategies over the window, the
regime tracker, the ensemble), then the kernel's events run in the backtest's order: fills
at the open, the risk path, parts that fall due, stops, decisions. No transaction spans a
step, so every order's intent is committed before the broker hears of it. After each step
the engine publishes an immutable `Snapshot` for the desk.

Threads: `run()` loops on its own thread; the desk calls the control methods (approve,
reject, kill switch, pause) from the UI thread. One re-entrant lock orders them, and the
slow part of a step (strategies over the windows) runs outside it, so a keypress waits at
most for the short trading part of a step.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from engine.adapters.sqlite.history import FillHistory
from engine.adapters.sqlite.history_book import HistoryBook
from engine.adapters.sqlite.journal import StoreJournal
from engine.errors import DeskError, one_line_reason
from engine.lifecycle import live as lifecycle
from engine.live.feeds import Feed
from engine.live.manual import OrderTicket, TicketOutcome
from engine.live.snapshot import Snapshot
from engine.live.state import StepView, SymbolState
from engine.live.view import build_snapshot
from engine.trading.kernel import Kernel
from engine.trading.stops import stop_width
from engine.trading.trader import to_decimal
from engine.types import Bar, Side

MIN_WINDOW = 600  # bars each strategy sees live, at least (the VaR reads 200 returns)


class LiveEngine:
    def __init__(
        self,
        cfg,
        *,
        store,
        feed: Feed,
        broker=None,
        wall_clock: Callable[[], datetime] | None = None,
        market_stream: Callable[[], object] | None = None,
    ) -> None:
        """`market_stream` builds a trade / order-book stream
        (engine.venues.ccxt.market_stream) once the feed's history is in: positions are then
        marked at each trade between bars."""
        from engine.backtest.job import build_spec
        from engine.brokers.paper import PaperBroker

        self.cfg = cfg
        self.store = store
        self.feed = feed
        self.wall_clock = wall_clock or (lambda: datetime.now(UTC))
        spec = build_spec(cfg)
        self.spec = spec
        self.strategies = spec.strategies
        # Long enough that each strategy's latest signal equals its full-history value: a
        # bar older than the window weighs less than float resolution (Strategy.memory).
        self.window = max(MIN_WINDOW, *(s.memory + 1 for s in spec.strategies.values()),
                          self._vwap_lookback_bars(cfg, feed),
                          # the closes a Q-learning policy's market state reads
                          getattr(getattr(spec.ensemble, "policy", None), "lookback", 0))
        self.ensemble = spec.ensemble
        self.journal = StoreJournal(store)
        self.fill_history = FillHistory(store)  # the newest stored fills, for the desk
        self.history_book = HistoryBook(store)  # fills, trades and P&L that survive restarts
        self.broker = broker or PaperBroker(
            fee=cfg.broker.fee, slippage_bps=cfg.broker.slippage_bps,
            partial_fills=cfg.broker.partial_fills,
            max_volume_fraction=cfg.broker.max_volume_fraction,
            multiplier=spec.multiplier,
        )
        started = self.wall_clock()
        self.market_ts: datetime | None = None
        # The one trading kernel the backtest runs too; only the edges are live here.
        self.kernel = Kernel(
            spec, broker=self.broker, journal=self.journal, execution_store=store,
            clock=self.now, wall_clock=self.wall_clock, approval=cfg.engine.approval,
            approval_timeout=float(cfg.engine.approval_timeout),
            id_prefix=f"desk-{started:%Y%m%d%H%M%S}", volume_history=self._volume_history,
            known_fill=self._stored_fill,
        )
        self.portfolio = self.kernel.portfolio
        self.gate = self.kernel.gate
        self.executor = self.kernel.executor
        self.trader = self.kernel.trader
        from engine.signals.filters.live import build_live_filters

        # Filters + quality score after the ensemble (None when [filters] and [quality] are
        # off): the stored models of `desk train`, checked by SHA-256.
        self.filters = build_live_filters(cfg, store, feed.symbols)
        from engine.risk.score import RiskMonitor

        # Entering high or critical risk journals risk.alert (engine.risk.score).
        self.risk_monitor = RiskMonitor(self.journal)
        self.symbols: dict[str, SymbolState] = {}
        self.paused = False
        self._paused_at: datetime | None = None  # wall clock, while paused
        self.lock = threading.RLock()
        self.subscribers: list[Callable[[Snapshot], None]] = []
        self._snapshot: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.verified_seq = 0
        self.chain_ok = True
        self._audit_tail: tuple[int, list] = (-1, [])  # (chain head seq, its newest entries)
        self._market_stream_factory = market_stream
        from engine.microstructure.board import board_for

        self.flow = board_for(cfg, feed.symbols)  # order flow from the book stream
        self.market_stream = None
        self.error: BaseException | None = None
        self.instance_lock = None  # held from build_live until stop(): one desk per database
        self._crash_recorded = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Journal the start, warm up on history and publish the first snapshot."""
        with self.lock:
            self.journal.event("config.loaded", "system",
                               {"source": str(self.cfg.source), "config_hash": self.cfg.hash()})
            self.journal.event("engine.started", "system", {
                "symbols": list(self.feed.symbols), "approval": self.cfg.engine.approval,
                "broker": self.cfg.broker.kind, "feed": self.cfg.feed.kind,
            })
            history = self.feed.history(self.cfg.feed.history_bars)
            for symbol, frame in history.items():
                self.symbols[symbol] = SymbolState.warm_up(
                    symbol, frame, self.strategies, self.ensemble, self.cfg, self.window)
                self.market_ts = frame.index[-1].to_pydatetime()
            if self.filters is not None:
                from engine.signals.filters.live import prime_from_history

                # A stored GARCH model's recursion and the quality score's setup history
                # start from the same bars, as a backtest's do (before lifecycle.start:
                # the shadow trades this replays are history, drained with the warm-up's).
                prime_from_history(self.filters, history, self.spec)
            self._restore_portfolio()
            self._prime_portfolio_mode(history)
            lifecycle.start(self)  # stored weights and statuses outlive a restart
            from engine.risk.market import LiveHistory

            self.gate.attach_market(LiveHistory(self.symbols, self.feed.bar_seconds))
            for symbol, state in self.symbols.items():
                self.portfolio.mark(symbol, to_decimal(state.last_close))
            # Sessions that were running when Desk last stopped (or died) resume now: every
            # in-flight child is looked up at the broker by its client order id first.
            for fill in self.executor.recover(self.now()):
                self.portfolio.apply_fill(fill)
            if self._market_stream_factory is not None:
                self.market_stream = self._market_stream_factory()
                listeners = getattr(self.market_stream, "listeners", None)
                if listeners is not None:
                    listeners.append(self.flow.on_event)
                self.market_stream.start()
            self._publish()

    def _prime_portfolio_mode(self, history) -> None:
        """Portfolio mode reads the history's closes as the backtest's warm-up bars."""
        mode = self.kernel.portfolio_mode
        if mode is None or not history:
            return
        import pandas as pd

        closes = pd.DataFrame({s: f["close"] for s, f in history.items()})
        for ts, row in zip(closes.index, closes.to_numpy().tolist(), strict=True):
            mode.observe(ts.to_pydatetime(), dict(zip(closes.columns, row, strict=True)))

    @staticmethod
    def _vwap_lookback_bars(cfg, feed: Feed) -> int:
        """Bars the VWAP executor's volume profile reads: the window holds them too."""
        bars = cfg.execution.vwap.lookback_minutes * 60 / max(feed.bar_seconds, 1e-9)
        return int(min(bars, 1_000_000)) + 1

    def now(self) -> datetime:
        """The engine's clock: the newest bar's time (schedules run on market time)."""
        return self.market_ts or self.wall_clock()

    def _stored_fill(self, trade_id: str) -> bool:
        from engine.adapters.sqlite.fills import stored_fill

        return stored_fill(self.store, trade_id)

    def _volume_history(self, symbol: str) -> list:
        state = self.symbols[symbol]
        return list(zip(state.times, state.data[:, 4], strict=True))

    def _restore_portfolio(self) -> None:
        """The paper account as the stored fills left it: positions, cash and fees survive
        a restart (or a crash) of the desk."""
        from engine.adapters.sqlite.fills import stored_fills

        for fill in stored_fills(self.store):
            self.portfolio.apply_fill(fill)

    def run_forever(self) -> None:
        """Step on the feed's rhythm until stopped (call on a worker thread)."""
        speed = self.cfg.feed.speed
        interval = self.feed.bar_seconds / speed if speed else 0.0  # 0: as fast as it can
        next_step = time.monotonic() + interval
        try:
            while not self._stop.is_set():
                wait = next_step - time.monotonic()
                if wait > 0:
                    # Wake up often enough for expiries, the countdown of proposals and
                    # marks from the trade stream.
                    self._stop.wait(min(wait, 0.25))
                    self.expire_proposals()
                    self.mark_from_stream()
                    continue
                next_step += interval
                if not self.paused and not self.step():
                    break
        except BaseException as error:  # noqa: BLE001 - recorded, then re-raised to the caller
            self.error = error
            self.record_crash(error)
            raise

    def start_thread(self, target: Callable[[], None] | None = None) -> threading.Thread:
        """Run `target` (default: the loop) on the engine's own thread."""

        def main() -> None:
            try:
                (target or self.run_forever)()
            except BaseException as error:  # noqa: BLE001 - kept for the caller to report
                if self.error is None:
                    self.error = error
                    self.record_crash(error)

        self._thread = threading.Thread(target=main, name="desk-engine", daemon=True)
        self._thread.start()
        return self._thread

    def request_stop(self) -> None:
        """Ask the loop to end after the current step (safe from a signal handler)."""
        self._stop.set()

    def stop(self) -> None:
        """Stop the loop, journal `engine.stopped` and close the store (with a checkpoint)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.feed.close()
        if self.market_stream is not None:
            self.market_stream.close()
        if self.error is not None and not self._crash_recorded:
            self.record_crash(self.error)
        try:
            with self.lock:
                self.journal.event("engine.stopped", "system", {
                    "equity": self.portfolio.equity,
                    "open_proposals": len(self.trader.proposals),
                })
                self.store.close(checkpoint=True)
        except (sqlite3.Error, OSError) as error:  # a full disk, a read-only file
            with contextlib.suppress(Exception):
                self.store.close(checkpoint=False)
            raise DeskError(f"{self.store.path}: the engine stopped, but its last entries "
                            f"could not be written ({one_line_reason(error)})") from None
        finally:
            if self.instance_lock is not None:
                self.instance_lock.release()

    def failure(self) -> str:
        """"" while the engine runs; the one-line reason once its thread ended on an error."""
        error = self.error
        return "" if error is None else one_line_reason(error)

    def record_crash(self, error: BaseException) -> None:
        """Save what we know and leave an audit entry; never the error's local variables."""
        with self.lock:
            try:
                self.journal.event("engine.crashed", "system", {
                    "error": type(error).__name__, "reason": one_line_reason(error),
                    "equity": self.portfolio.equity,
                })
                self._crash_recorded = True
            except Exception:  # noqa: BLE001 - the store itself may be what failed; stop()
                pass  # tries again, once the store may allow it

    # -- one step --------------------------------------------------------------------------

    def step(self) -> bool:
        """One bar for every symbol; False when the feed has ended."""
        bars = self.feed.next_bars()
        if not bars:
            self.expire_proposals()
            return not self.feed.ended
        # A fill at this bar's open arms its stop with what was known at the last close.
        widths = {}
        for symbol in bars:
            state = self.symbols[symbol]
            widths[symbol] = stop_width(state.regime_label, *state.data[:, 1:4].T)
        # Strategies over the windows: engine-thread data only, outside the lock.
        views = {s: self.symbols[s].advance(bar, self._flow_at_close(s))
                 for s, bar in bars.items()}
        # No transaction spans the step: every broker call below (fills, parts, orders)
        # must come after the intent it depends on is committed, and no write lock may be
        # held across the network. Writes that call no broker are batched per symbol.
        with self.lock:
            kernel = self.kernel
            for symbol, bar in bars.items():  # pending orders fill at this bar's open
                kernel.open_bar(bar, widths[symbol])
            self.market_ts = max(bar.ts for bar in bars.values())
            kernel.equity_at(next(iter(bars.values())).ts, self.portfolio.equity)
            kernel.parts_due(self.market_ts)
            # As the backtest orders a bar's events: every stop, then every decision.
            for bar in bars.values():
                kernel.check_stop(bar)
            for symbol, bar in bars.items():
                self._trade_bar(bar, views[symbol])
            # Portfolio mode: the periodic rebalance check at the close, every asset's bar.
            kernel.rebalance(self.market_ts, {s: b.close for s, b in bars.items()})
            self.trader.expire(self.market_ts)
            lifecycle.after_step(self)  # weights.updated / strategy.status_changed entries
            self._publish()
        return True

    def _flow_at_close(self, symbol: str) -> dict[str, float] | None:
        """The bar's own book stream (the simulated market's, a recording's) goes through the
        order-flow trackers first; the features at the bar's close are what the hft strategy
        reads. None while no book has been seen (the strategy then holds)."""
        self.flow.on_events(self.feed.flow_events(symbol))
        if not self.flow.trackers[symbol].updates:
            return None
        return self.flow.features(symbol)

    def _trade_bar(self, bar: Bar, view: StepView) -> None:
        state = self.symbols[bar.symbol]
        judged = None
        if self.filters is not None:
            from engine.signals.filters.live import step

            judged = step(self.filters, bar, state, view)
            if judged is not None:
                self.journal.event("decision.judged", "engine",
                                   {"symbol": bar.symbol, "ts": bar.ts, **judged})
        with self.journal.batch():
            for strategy_id, (side, confidence) in view.new_signals.items():
                self.journal.signal(bar.ts, bar.symbol, strategy_id, side.name, confidence)
            if view.decision is not None:
                self.journal.decision(view.decision.to_payload()
                                      | {"regime": state.regime_label})
        # A decision vetoed by a filter or below [quality] min_score is dropped whole. In
        # portfolio mode the book trades baskets only (the strategies feed its rotation).
        if view.changed and view.side != Side.HOLD and not (judged and judged["dropped"]) \
                and self.kernel.portfolio_mode is None:
            decided = state.decision  # its contributors attribute the trade it opens
            votes = None if decided is None else {
                sid: decided.weights[sid] for sid in decided.contributors}
            orders = self.kernel.decide(bar.symbol, bar.ts, view.side, bar.close,
                                        regime=state.regime_label,
                                        size_multiplier=state.size_multiplier
                                        * (judged["multiplier"] if judged else 1.0),
                                        votes=votes)
            lifecycle.attribute(self, orders, votes, state.regime_label)

    def mark_from_stream(self) -> None:
        """Mark open positions at the latest streamed trade (P&L moves between bars)."""
        if self.market_stream is None:
            return
        with self.lock:
            moved = False
            for symbol in self.symbols:
                trade = self.market_stream.last_trade(symbol)
                if trade is not None and self.portfolio.qty(symbol):
                    self.portfolio.mark(symbol, to_decimal(trade.price))
                    moved = True
            if moved:
                self._publish()

    def expire_proposals(self) -> None:
        with self.lock:
            if self.paused:
                return  # a paused desk's proposals wait: their countdown stops with the feed
            if self.trader.expire(self.market_ts or self.wall_clock()):
                self._publish()

    # -- control (EngineControl) -------------------------------------------------------------

    def approve(self, order_id: str, execution: str | None = None) -> str:
        with self.lock:
            reason = self.trader.approve(order_id, self.market_ts or self.wall_clock(),
                                         execution=execution)
            self._publish()
            return reason

    def reject(self, order_id: str) -> str:
        with self.lock:
            reason = self.trader.reject(order_id, self.market_ts or self.wall_clock())
            self._publish()
            return reason

    def cancel(self, execution_id: str) -> str:
        """Cancel an execution session: its remaining parts are dropped and an open child
        is cancelled at the broker."""
        with self.lock:
            reason = self.executor.cancel(execution_id, self.now(), actor="user")
            self._publish()
            return reason

    def place_order(self, ticket: OrderTicket) -> TicketOutcome:
        """A manual order from the desk's ticket: sized here, then the kernel's trader sends
        it through the same risk gate and executor as the engine's (journaled with actor
        `user`). A refusal names the bad field or every rule that denied it."""
        from engine.live.manual import TicketError, TicketOutcome, quantity
        from engine.types import OrderSide

        with self.lock:
            state = self.symbols.get(ticket.symbol)
            if state is None:
                return TicketOutcome(False, reasons=(
                    f"symbol: {ticket.symbol} is not traded here "
                    f"({', '.join(self.symbols)})",))
            last = to_decimal(state.last_close)
            try:
                qty = quantity(ticket, last, self.kernel.broker.quantity_step(ticket.symbol))
            except TicketError as error:
                return TicketOutcome(False, reasons=(str(error),))
            order, denial = self.trader.manual(
                ticket.symbol, OrderSide(ticket.side), qty, last, self.now(),
                limit_price=ticket.limit_price, execution=ticket.execution,
                reduce_only=ticket.reduce_only)
            self._publish()
            if denial is not None:
                return TicketOutcome(False, order.client_order_id, qty, tuple(denial.reasons))
            return TicketOutcome(True, order.client_order_id, qty)

    def explain(self, order_id: str):
        """Why a waiting proposal (engine.live.why.Explanation), or None if it is gone."""
        from engine.live.why import explain_proposal

        with self.lock:
            return explain_proposal(self, order_id)

    def set_kill_switch(self, on: bool) -> None:
        with self.lock:
            self.gate.set_kill_switch(on, "manual kill switch" if on else "")
            self.journal.event("risk.kill_switch", "user", {"on": on})
            self._publish()

    def reset_weights(self) -> str:
        """Strategy weights back to base (journaled, actor user)."""
        return lifecycle.reset_weights(self)

    def set_strategy_status(self, strategy: str, status: str, reason: str = "") -> str:
        """Force a strategy's lifecycle status (journaled, actor user)."""
        return lifecycle.set_status(self, strategy, status, reason)

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the feed. Proposals' countdowns pause too: on resume each
        expiry moves later by the time spent paused, so none expires while paused."""
        with self.lock:
            now = self.wall_clock()
            if paused and not self.paused:
                self._paused_at = now
            elif not paused and self.paused and self._paused_at is not None:
                held = now - self._paused_at
                proposals = self.trader.proposals
                for order_id, proposal in list(proposals.items()):
                    proposals[order_id] = replace(proposal,
                                                  expires_at=proposal.expires_at + held)
                self._paused_at = None
            self.paused = paused
            self.journal.event("feed.paused" if paused else "feed.resumed", "user", {})
            self._publish()

    def latest_snapshot(self) -> Snapshot:
        """Never waits for the engine: before warm-up ends it is an empty snapshot."""
        snapshot = self._snapshot
        if snapshot is None:
            return Snapshot(market_ts=None, equity=self.cfg.broker.cash, cash=self.cfg.broker.cash,
                            day_pnl=Decimal(0), approval_mode=self.cfg.engine.approval,
                            paused=self.paused, symbols=tuple(self.feed.symbols))
        return snapshot

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self.subscribers.append(callback)

    def _publish(self) -> None:
        self._verify_chain()
        self._snapshot = build_snapshot(self)
        for callback in self.subscribers:
            callback(self._snapshot)

    def _verify_chain(self) -> None:
        """Re-hash the audit entries written since the last check (the Audit pane shows the
        last verified seq)."""
        from engine.adapters.sqlite.audit import verify_since

        result = verify_since(self.store, self.verified_seq)
        self.chain_ok = result.ok
        if result.ok:
            self.verified_seq = result.last_seq

    def audit_tail(self, n: int) -> list:
        """The newest audit entries, read again only when the chain has grown (a snapshot
        is published every step, most of which append nothing)."""
        head = self.store.audit.head[0]
        if self._audit_tail[0] != head:
            self._audit_tail = (head, self.store.audit.tail(n))
        return self._audit_tail[1]
