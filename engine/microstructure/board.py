"""Every symbol's order flow for the live engine: trackers fed from any thread (the engine's
for the simulated market, the websocket thread for an exchange), threshold alerts, and the
plain views the snapshot carries.

Alerts are market data, not decisions: they go to the desk as notifications and are never
journaled. One is raised when a symbol's imbalance confidence crosses `alert_confidence`
(again only after it has fallen below half of it) and when a market maker backs away; at
most one of each kind per symbol per `ALERT_COOLDOWN` of market time, since a maker that
flickers in and out would otherwise bury the desk in notifications.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from engine.data.microstructure import OrderBook, TradePrint
from engine.live.snapshot import FlowAlert, FlowView
from engine.microstructure.hft import KINDS, HftParams, hft_rules
from engine.microstructure.tracker import FlowParams, FlowTracker

KEEP_ALERTS = 50
REARM = 0.5  # an imbalance alert re-arms once confidence falls below half the threshold
ALERT_COOLDOWN = timedelta(hours=1)  # per symbol and kind, in market time


class FlowBoard:
    def __init__(self, symbols: Sequence[str], params: FlowParams, rules: HftParams, *,
                 alert_confidence: float = 0.7, levels: int = 5) -> None:
        self.trackers = {s: FlowTracker(s, params) for s in symbols}
        self.rules = rules
        self.alert_confidence = alert_confidence
        self.levels = levels
        self.lock = threading.Lock()
        self.alerts: deque[FlowAlert] = deque(maxlen=KEEP_ALERTS)
        self._seq = 0
        self._alerted: dict[str, bool] = dict.fromkeys(symbols, False)
        self._last_alert: dict[tuple[str, str], datetime] = {}  # (symbol, kind) -> ts

    def on_event(self, event: OrderBook | TradePrint) -> None:
        """One book update or trade (thread-safe); unknown symbols are ignored."""
        tracker = self.trackers.get(event.symbol)
        if tracker is None:
            return
        with self.lock:
            was_withdrawn = tracker.makers.withdrawn
            tracker.on_event(event)
            self._check(tracker, event.ts, was_withdrawn)

    def on_events(self, events: Iterable[OrderBook | TradePrint]) -> None:
        for event in events:
            self.on_event(event)

    def _check(self, tracker: FlowTracker, ts: datetime, was_withdrawn: bool) -> None:
        symbol = tracker.symbol
        direction, confidence = tracker.pressure()
        if confidence >= self.alert_confidence and not self._alerted[symbol]:
            side = "buy" if direction > 0 else "sell"
            self._alert(ts, symbol, "imbalance",
                        f"{symbol}: {side} pressure, confidence {confidence:.2f}")
            self._alerted[symbol] = True
        elif confidence < REARM * self.alert_confidence:
            self._alerted[symbol] = False  # calm again: the next crossing is news
        if tracker.makers.withdrawn and not was_withdrawn and tracker.updates > 1:
            self._alert(ts, symbol, "withdrawal", f"{symbol}: market maker backing away "
                        "(spread wide or touch thin)")

    def _alert(self, ts: datetime, symbol: str, kind: str, message: str) -> None:
        last = self._last_alert.get((symbol, kind))
        if last is not None and ts - last < ALERT_COOLDOWN:
            return
        self._last_alert[(symbol, kind)] = ts
        self._seq += 1
        self.alerts.append(FlowAlert(self._seq, ts, symbol, kind, message))

    def features(self, symbol: str) -> dict[str, float]:
        """The state the hft strategy reads at a bar's close."""
        with self.lock:
            return self.trackers[symbol].features()

    def views(self) -> tuple[FlowView, ...]:
        with self.lock:
            return tuple(self._view(t) for t in self.trackers.values() if t.updates)

    def recent_alerts(self) -> tuple[FlowAlert, ...]:
        with self.lock:
            return tuple(self.alerts)

    def _view(self, tracker: FlowTracker) -> FlowView:
        imbalance, makers = tracker.readings()
        features = tracker.features()
        side, confidence, kind = hft_rules(features, self.rules)
        book = tracker.book
        assert book is not None  # views are built for trackers that have had an update
        bid, bid_size = book.bids[0]
        ask, ask_size = book.asks[0]
        return FlowView(
            tracker.symbol, book.ts, bid, ask, bid_size, ask_size, imbalance.book,
            imbalance.book_z, imbalance.aggressor, imbalance.buy_volume, imbalance.sell_volume,
            imbalance.ofi, imbalance.ofi_z, imbalance.direction, imbalance.confidence,
            makers.score, makers.withdrawn, makers.refresh_rate,
            {1: "BUY", -1: "SELL"}.get(int(side), "HOLD"), KINDS[int(kind)],
            float(confidence), book.bids[: self.levels], book.asks[: self.levels],
            tracker.updates, tracker.trades)


def board_for(cfg, symbols: Sequence[str]) -> FlowBoard:
    """The board `cfg` describes: [microstructure] and the [strategies.hft] rules."""
    return FlowBoard(symbols, flow_params(cfg), hft_params(cfg),
                     alert_confidence=cfg.microstructure.alert_confidence,
                     levels=cfg.microstructure.depth_levels)


def flow_params(cfg) -> FlowParams:
    m = cfg.microstructure
    return FlowParams(m.window, m.z_window, m.min_periods, m.spread_ratio, m.depth_ratio)


def hft_params(cfg) -> HftParams:
    table = cfg.strategies.get("hft", {})
    return HftParams(**{k: table[k] for k in HftParams.__dataclass_fields__ if k in table})
