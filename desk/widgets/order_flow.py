"""Pane 10 (key 0): order flow per symbol, from the book stream (engine.microstructure).

Columns: bid, ask, spread (bp of the mid), top-of-book sizes (bid / ask), top-of-book
imbalance and its z-score, aggressor flow over the window (buy minus sell volume as a
share of both), the market-maker presence score ("gone" while the maker has backed away)
and the current HFT signal with its rule. `enter` opens the depth ladder of the selected symbol.

New threshold alerts in the snapshot become desk notifications here, once each: they are
market data, not decisions, so they are never audit entries.
"""

from __future__ import annotations

import math
from datetime import datetime

from rich.text import Text

from desk.widgets.format import price, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane
from engine.live.snapshot import FlowView, Snapshot

# (key, label, priority): on a narrow pane the highest numbers give way first, so quotes,
# imbalance, maker and signal stay at 80 columns; everything shows from 160.
COLUMNS = (
    ("symbol", "Symbol", 0),
    ("bid", "Bid", 0),
    ("ask", "Ask", 0),
    ("spread", "Spread", 3),
    ("sizes", "Size bid/ask", 2),
    ("imbalance", "Imb", 0),
    ("z", "Imb z", 1),
    ("flow", "Aggr", 1),
    ("maker", "Maker", 0),
    ("signal", "HFT", 0),
)
SHORT_KINDS = {"imbalance": "imb", "reversion": "rev", "sustained": "flow", "": ""}


def size(value: float) -> str:
    """A resting or traded size: four significant digits, thousands separated."""
    if not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    places = max(0, 3 - math.floor(math.log10(abs(value))))
    return f"{value:,.{min(places, 8)}f}"


def signed_percent(fraction: float) -> str:
    return "—" if not math.isfinite(fraction) else f"{fraction * 100:+.0f}%"


def z_score(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:+.1f}σ"


def spread_bp(view: FlowView) -> str:
    mid = (view.bid + view.ask) / 2
    return "—" if mid <= 0 else f"{(view.ask - view.bid) / mid * 1e4:.1f} bp"


class OrderFlowPane(Pane):
    number = 10
    title = "Order Flow"

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, FlowView] = {}
        self._alert_seq: int | None = None  # newest alert already notified

    def compose(self):
        yield KeyedTable(COLUMNS, id="order-flow-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._notify_alerts(snapshot)
        self._views = {v.symbol: v for v in snapshot.order_flow}
        bid, ask, muted = self.style_of("bid"), self.style_of("ask"), self.style_of("muted")

        def signed(value: float, text: str) -> Text:
            style = bid if value > 0 else ask if value < 0 else muted
            return right(text, style if math.isfinite(value) else muted)

        rows = {}
        for v in snapshot.order_flow:
            maker = Text("gone", style=self.style_of("alert"), justify="right") if v.withdrawn \
                else right(f"{v.maker_score:.2f}")
            signal_style = {"BUY": bid, "SELL": ask}.get(v.signal, muted)
            signal = v.signal if v.signal == "HOLD" else \
                f"{v.signal} {v.signal_confidence:.2f} {SHORT_KINDS[v.signal_kind]}"
            rows[v.symbol] = (
                v.symbol,
                right(price(v.bid), bid),
                right(price(v.ask), ask),
                right(spread_bp(v)),
                right(f"{size(v.bid_size)} / {size(v.ask_size)}"),
                signed(v.book_imbalance, signed_percent(v.book_imbalance)),
                signed(v.book_z, z_score(v.book_z)),
                signed(v.aggressor, signed_percent(v.aggressor)),
                maker,
                Text(signal, style=signal_style),
            )
        self.query_one(KeyedTable).sync(rows)

    def _notify_alerts(self, snapshot: Snapshot) -> None:
        alerts = snapshot.flow_alerts
        if self._alert_seq is None:  # alerts from before the desk looked are not news
            self._alert_seq = alerts[-1].seq if alerts else 0
            return
        for alert in alerts:
            if alert.seq > self._alert_seq:
                # Market data, not a decision: it goes by quickly.
                self.app.notify(alert.message, title="Order flow", timeout=4,
                                severity="warning" if alert.kind == "withdrawal" else
                                "information")
        if alerts:
            self._alert_seq = max(self._alert_seq, alerts[-1].seq)

    def selected_details(self) -> Details | None:
        key = self.query_one(KeyedTable).selected_key
        view = self._views.get(key or "")
        return depth_ladder(view) if view else None


def depth_ladder(view: FlowView) -> Details:
    """The book of one symbol, asks above bids, best prices meeting at the spread."""
    rows: list[tuple[str, str]] = []
    width = max((len(price(p)) for p, _ in (*view.asks, *view.bids)), default=0)
    for level, (p, q) in reversed(list(enumerate(view.asks, start=1))):
        rows.append((f"ask {level}", f"{price(p):>{width}}  {size(q)}"))
    rows.append(("spread", f"{price(view.ask - view.bid)} ({spread_bp(view)})"))
    for level, (p, q) in enumerate(view.bids, start=1):
        rows.append((f"bid {level}", f"{price(p):>{width}}  {size(q)}"))
    rows += [
        ("imbalance", f"{signed_percent(view.book_imbalance)} ({z_score(view.book_z)})"),
        ("aggressor flow", f"{signed_percent(view.aggressor)}: buy {size(view.buy_volume)}"
                           f" / sell {size(view.sell_volume)} ({z_score(view.ofi_z)} OFI)"),
        ("pressure", f"{'buy' if view.direction > 0 else 'sell' if view.direction < 0 else '—'}"
                     f", confidence {view.confidence:.2f}"),
        ("maker", f"{view.maker_score:.2f}{', backed away' if view.withdrawn else ''}; "
                  f"{view.refresh_rate:.1f} quote refreshes/s"),
        ("HFT signal", view.signal if view.signal == "HOLD" else
         f"{view.signal} {view.signal_confidence:.2f} ({view.signal_kind})"),
        ("stream", f"{view.updates:,} book updates, {view.trades:,} trades"),
    ]
    return Details(f"Depth {view.symbol}", tuple(rows))
