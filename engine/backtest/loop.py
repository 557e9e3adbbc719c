"""The backtest's event loop: visits only the bars where something happens, in time order.

Events on one bar run in this order: fills at the open, execution parts that fall due,
stops seen during the bar, then the decision taken at the close. Equity between events is
rebuilt at the end from the step changes of cash and quantities.
"""

from __future__ import annotations

import gc
import heapq
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from engine.signals.regime.labels import LABELS
from engine.trading.kernel import Kernel
from engine.trading.stops import StopBook
from engine.trading.trader import to_decimal
from engine.types import Bar, Fill, OrderSide, Side

# Order of events that fall on the same bar: fills at the open come first, then execution
# parts that fall due, then stops seen during the bar, then the decision taken at the close.
FILL, TICK, STOP, DECISION = 0, 1, 2, 3
_TICKS_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SIDES = {int(side): side for side in Side}  # a dict lookup, not an enum call, per vote


class EventLoop:
    """Decides only *when* the kernel is called: every rule is the kernel's."""

    def __init__(self, symbols, index, arrays, plans, kernel: Kernel, clock, spec) -> None:
        self.symbols = symbols
        self.index = index
        self.arrays = arrays
        self.plans = plans
        self.kernel = kernel
        self.trader = kernel.trader
        self.gate = kernel.gate
        self.clock = clock
        self.spec = spec
        self.n = len(index)
        self.times = _LazyTimes(index)
        self.micros = self.times.micros
        self.number = {s: i for i, s in enumerate(symbols)}
        # UTC day number of every bar, for the daily loss rule.
        # int32 holds every day number for millennia, in half the memory of int64.
        self.day_of = (index.asi8 // (86_400 * _TICKS_PER_SECOND[index.dtype.unit])
                       ).astype(np.int32)
        self.heap: list[tuple[int, int, int, int]] = []  # (bar, kind, symbol no, token)
        # Step changes of cash and quantities (bar, value) to rebuild equity at the end.
        self.cash_steps = _Steps(float(spec.cash))
        self.qty_steps = {s: _Steps(0.0) for s in symbols}
        self.qty = {s: 0.0 for s in symbols}
        self.cash = float(spec.cash)
        self.last_risk_bar = 0
        self.fills_due: set[tuple[int, int]] = set()  # (bar, symbol no) with a FILL queued
        self.prepared = -1  # the last bar whose marks and risk path the kernel has seen
        self.decisions: list[dict] = []
        self.exposed = np.zeros(self.n, dtype=bool)

    # -- the loop ----------------------------------------------------------------------

    def run(self, progress) -> None:
        warmup = self.spec.warmup
        for number, symbol in enumerate(self.symbols):
            for t in self.plans[symbol].decision_changes():
                # The warm-up only primes the strategies (as the live history does), and a
                # decision on the last close could never fill.
                if warmup <= t < self.n - 1:
                    self.heap.append((int(t), DECISION, number, 0))
        heapq.heapify(self.heap)
        with _collector_at_rest():
            self._drain(progress)

    def _drain(self, progress) -> None:
        report_every = max(self.n // 100, 1)
        next_report = report_every
        while self.heap:
            t, kind, number, token = heapq.heappop(self.heap)
            symbol = self.symbols[number]
            self.clock.now = self.times[t]
            if kind == FILL:
                self.fills_due.discard((t, number))
                self._fill(symbol, t)
            elif kind == TICK:
                self._prepare(t)
                # Parts of every symbol fall due together; each one sent fills next bar.
                for symbol_sent in {o.symbol for o in self.kernel.parts_due(self.times[t])}:
                    self._push(t + 1, FILL, self.number[symbol_sent])
            elif kind == STOP:
                if self.kernel.stops.take(symbol, token):
                    self._act(symbol, t, self.kernel.stop_hit, symbol, self.clock.now,
                              self.plans[symbol].close[t])
            else:
                self._decide(symbol, t, int(self.plans[symbol].decision[t]))
            if progress and t >= next_report:
                progress(t, self.n)
                next_report = t + report_every
        if progress:
            progress(self.n, self.n)

    def _decide(self, symbol: str, t: int, decision: int) -> None:
        voted = self._record_decision(symbol, t, decision)
        side = Side(decision)
        if not self.kernel.acts_on(symbol, side):
            return  # nothing to do: skip the market-state work below
        plan = self.plans[symbol]
        regime = int(plan.regime[t])
        self._act(symbol, t, self.kernel.decide, symbol, self.clock.now, side, plan.close[t],
                  regime=LABELS[regime] if regime >= 0 else "unknown",
                  size_multiplier=float(plan.size_multiplier[t]),
                  votes=None if voted is None else {
                      sid: voted.weights[sid] for sid in voted.contributors})

    def _act(self, symbol: str, t: int, event, *args, **kwargs) -> None:
        """Run a kernel event that may send orders, at bar t's close."""
        self._prepare(t)
        submitted = self.trader.stats.submitted
        event(*args, **kwargs)
        if self.trader.stats.submitted > submitted:  # something left for the broker
            self._push(t + 1, FILL, self.number[symbol])
            self._schedule_parts(symbol, t)

    def _prepare(self, t: int) -> None:
        """The market state the live engine has at bar t's close: every position marked,
        and the risk gate shown the equity path up to t."""
        if t == self.prepared:
            return
        self.prepared = t
        self._update_risk(t)
        self._mark_all(t)

    def _push(self, t: int, kind: int, number: int, token: int = 0) -> None:
        if t >= self.n:
            return
        if kind == FILL:  # a bar fills a symbol's pending orders once, as live
            if (t, number) in self.fills_due:
                return
            self.fills_due.add((t, number))
        heapq.heappush(self.heap, (t, kind, number, token))

    def _schedule_parts(self, symbol: str, t: int) -> None:
        """Execution parts due after this bar get a TICK at the first bar at or after
        their due time (the first part, due now, went out with the decision)."""
        for due in self.kernel.executor.pending_due(symbol):
            bar = int(np.searchsorted(self.micros, _micros(due), side="left"))
            self._push(max(bar, t + 1), TICK, self.number[symbol])

    def _record_decision(self, symbol: str, t: int, side: int):
        """The ensemble's decision at bar t (its contributors attribute the trade), kept
        for the report; None for a single strategy."""
        ensemble = self.spec.ensemble
        if ensemble is None or len(self.spec.strategies) == 1:
            return None
        regime = int(self.plans[symbol].regime[t])
        plan = self.plans[symbol]
        votes = {
            sid: (_SIDES[held.side[t]], float(held.confidence[t]))
            for sid, held in plan.strategy_stances.items()
        }
        weights = None if plan.weights is None else {
            sid: float(plan.weights[i, t]) for i, sid in enumerate(plan.strategy_stances)}
        decision = ensemble.decide(symbol, self.times[t], votes, weights=weights)
        label = LABELS[regime] if regime >= 0 else "unknown"
        self.decisions.append(decision.to_payload() | {"regime": label}
                              | (plan.verdicts or {}).get(t, {}))
        return decision

    def _fill(self, symbol: str, t: int) -> None:
        a = self.arrays[symbol]
        bar = Bar(symbol, self.clock.now, a["open"][t], a["high"][t], a["low"][t],
                  a["close"][t], a["volume"][t])
        plan = self.plans[symbol]
        # The stop's width as known at the close before the fill (regime multiple x ATR).
        width = plan.stop_atr[t - 1] * plan.atr[t - 1] if t > 0 else np.nan
        fills = self.kernel.open_bar(bar, width)
        if not fills:
            return
        portfolio = self.trader.portfolio
        self.cash = float(portfolio.cash)
        self.cash_steps.add(t, self.cash)
        # Money per unit of price: the quantity times the contract multiplier.
        qty = float(portfolio.qty(symbol) * portfolio.multiplier(symbol))
        self.qty[symbol] = qty
        self.qty_steps[symbol].add(t, qty)
        stop = self.kernel.stops.get(symbol)
        if stop is not None:
            a = self.arrays[symbol]
            hit = StopBook.first_hit(stop, a["low"], a["high"], t)
            if hit is not None:
                heapq.heappush(self.heap, (hit, STOP, self.number[symbol], stop.version))

    def _mark_all(self, t: int) -> None:
        portfolio = self.trader.portfolio
        for symbol in self.symbols:
            if self.qty[symbol] != 0:
                portfolio.mark(symbol, to_decimal(self.arrays[symbol]["close"][t]))

    def _update_risk(self, t: int) -> None:
        """Show the risk gate the equity path since the last event: the bars where the
        running drawdown was deepest and where equity was highest, each day's first and
        worst bar (of the days that could halt), and bar t."""
        start = self.last_risk_bar
        if t < start or self.gate.kill_switch:
            # Once the kill switch is on (a backtest never resets it), the path between
            # events cannot change a verdict: every entry is denied, every exit allowed.
            return
        equity = self._equity_between(start, t + 1)
        if not len(equity):
            return
        points = {0, len(equity) - 1}
        running = np.maximum(np.maximum.accumulate(equity), float(self.gate.peak))
        drawdown = 1.0 - equity / running
        worst = int(np.argmax(drawdown))
        points.add(worst)
        points.add(int(np.argmax(equity[: worst + 1])))
        # The highest bar too: a new peak after the deepest point is the peak every later
        # drawdown is measured from, as live, which sees every bar.
        points.add(int(np.argmax(equity)))
        days = self.day_of[start:t + 1]
        if days[0] != days[-1]:
            starts = np.flatnonzero(days[1:] != days[:-1]) + 1
            bounds = np.concatenate(([0], starts, [len(equity)]))
            last = len(bounds) - 2
            for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
                low = int(lo + np.argmin(equity[lo:hi]))
                # A whole day inside the span that cannot trip a halt changes nothing the
                # gate keeps: the next day opens afresh. (The first day may have opened
                # before the span, and the last one goes on: those are always shown.)
                if 0 < k < last and not self.gate.may_halt_day(equity[lo], equity[low]):
                    continue
                points.add(int(lo))
                points.add(low)
        for p in sorted(points):
            self.gate.on_equity(self.times[start + p], to_decimal(equity[p]))
        self.last_risk_bar = t + 1

    def _equity_between(self, lo: int, hi: int) -> np.ndarray:
        equity = np.full(hi - lo, self.cash)
        for symbol, qty in self.qty.items():
            if qty:
                equity += qty * self.arrays[symbol]["close"][lo:hi]
        return equity

    # -- the end -----------------------------------------------------------------------

    def close_open_positions(self) -> None:
        """Positions still open close at the last bar's close (fee charged, no slippage:
        there is no next bar to fill against)."""
        t = self.n - 1
        portfolio = self.trader.portfolio
        for symbol in self.symbols:
            qty = portfolio.qty(symbol)
            if qty == 0:
                continue
            price = to_decimal(self.arrays[symbol]["close"][t])
            notional = abs(qty) * price * portfolio.multiplier(symbol)
            fee = (notional * self.spec.fee).quantize(Decimal("0.00000001"))
            cid = f"bt-close-{symbol}"
            self.trader.strategy_of[cid] = self.trader.strategy_of.get(cid, self.spec.label)
            fill = Fill(cid, f"{cid}-1", symbol, OrderSide.SELL if qty > 0 else OrderSide.BUY,
                        abs(qty), price, fee, self.times[t])
            self.trader.apply_fill(fill)
            self.cash = float(portfolio.cash)
            self.cash_steps.add(t, self.cash)
            self.qty[symbol] = 0.0
            self.qty_steps[symbol].add(t, 0.0)

    def equity_curve(self):
        import pandas as pd

        equity = self.cash_steps.curve(self.n)  # a fresh array: equity is built in it
        for symbol in self.symbols:
            value = self.qty_steps[symbol].curve(self.n)
            self.exposed |= value != 0
            # In place: a 10M-bar run would otherwise hold two more temporaries of 80 MB.
            value *= self.arrays[symbol]["close"]
            equity += value
        return pd.Series(equity, index=self.index, name="equity")


@contextmanager
def _collector_at_rest() -> Iterator[None]:
    """The loop allocates hundreds of short-lived objects an order, almost none of them in
    reference cycles (refcounting frees them), yet every 700 allocations Python's cyclic
    collector would scan the young ones and, every so often, everything the run holds (the
    data frames, the trades so far). Freezing what exists before the loop and collecting
    the young generation less often saves about a sixth of a high-turnover run; what is
    collectable is still collected, later."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class _LazyTimes:
    """Bar times as datetimes, converted only for the bars the loop visits."""

    def __init__(self, index) -> None:
        unit = _TICKS_PER_SECOND[index.dtype.unit]
        self.micros = index.asi8 * 10**6 // unit if unit <= 10**6 else index.asi8 // (unit
                                                                                     // 10**6)

    def __getitem__(self, t: int) -> datetime:
        return _EPOCH + timedelta(microseconds=int(self.micros[t]))


def _micros(ts: datetime) -> int:
    return (ts - _EPOCH) // timedelta(microseconds=1)


class _Steps:
    """A step function over the bars, from (bar, value) changes in time order (a later
    change at the same bar wins). Packed arrays, not a list of tuples: a high-turnover
    run records two changes an order, and a million orders' tuples took 200 MB."""

    def __init__(self, first: float) -> None:
        self.bars = array("q", [0])
        self.values = array("d", [first])

    def add(self, bar: int, value: float) -> None:
        self.bars.append(bar)
        self.values.append(value)

    def curve(self, n: int) -> np.ndarray:
        bars = np.frombuffer(self.bars, dtype=np.int64)
        # Each value holds from its bar to the next change (a zero-length run when a later
        # change falls on the same bar).
        lengths = np.diff(np.append(bars, n))
        return np.repeat(np.frombuffer(self.values, dtype=np.float64), lengths)
