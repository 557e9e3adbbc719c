"""Realistic snapshots for the desk's tests, and a recording stand-in for the engine.

Figures are consistent with each other: unrealized P&L = (last - avg) * qty, exposure =
qty * last, gross exposure = the sum of absolute exposures, equity = cash + the book.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from engine.live.snapshot import (
    AuditView,
    ChartMark,
    ClosedTradeView,
    EnsembleView,
    ExecutionView,
    FillView,
    HistoryView,
    MarketView,
    PnlView,
    PositionView,
    ProposalView,
    RegimeView,
    RiskView,
    SignalView,
    Snapshot,
)

NOW = datetime(2024, 3, 15, 14, 30, 0, tzinfo=UTC)
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
STRATEGIES = ("sma_cross", "rsi", "macd")
LAST = {"BTC/USDT": D("68250.50"), "ETH/USDT": D("3712.25"), "SOL/USDT": D("176.40")}
LABELS = ("bull", "bear", "sideways")
TRANSITION = ((0.94, 0.02, 0.04), (0.03, 0.91, 0.06), (0.05, 0.05, 0.90))


def position(symbol: str, qty: str, avg: str, realized: str = "0") -> PositionView:
    quantity, average, last = D(qty), D(avg), LAST[symbol]
    side = "long" if quantity > 0 else "short" if quantity < 0 else "flat"
    return PositionView(
        symbol, side, quantity, average, last, (last - average) * quantity, D(realized)
    )


def positions() -> tuple[PositionView, ...]:
    return (
        position("BTC/USDT", "0.25", "66800.00", "412.30"),
        position("ETH/USDT", "-2.5", "3790.10", "-58.75"),
        position("SOL/USDT", "40", "171.05"),
    )


def signals() -> tuple[SignalView, ...]:
    sides = {
        "BTC/USDT": (("BUY", 0.72), ("BUY", 0.64), ("HOLD", 0.51)),
        "ETH/USDT": (("SELL", 0.81), ("HOLD", 0.40), ("SELL", 0.58)),
        "SOL/USDT": (("HOLD", 0.33), ("BUY", 0.67), ("BUY", 0.70)),
    }
    return tuple(
        SignalView(symbol, strategy, side, confidence, NOW - timedelta(minutes=1))
        for symbol, row in sides.items()
        for strategy, (side, confidence) in zip(STRATEGIES, row, strict=True)
    )


def proposals() -> tuple[ProposalView, ...]:
    return (
        ProposalView(
            "desk-0007-btc-buy", "BTC/USDT", "buy", D("0.05"), D("68250.50"),
            "ensemble BUY 0.68 (2/3 votes), bull regime", NOW - timedelta(seconds=75),
            NOW + timedelta(seconds=225),
        ),
        ProposalView(
            "desk-0008-eth-sell", "ETH/USDT", "sell", D("1.2"), D("3712.25"),
            "ensemble SELL 0.70 (2/3 votes), bear regime", NOW - timedelta(seconds=20),
            NOW + timedelta(seconds=40),
        ),
    )


def ensemble() -> tuple[EnsembleView, ...]:
    weights = {"sma_cross": 0.40, "rsi": 0.35, "macd": 0.25}
    return (
        EnsembleView("BTC/USDT", "BUY", {"buy": 2, "sell": 0, "hold": 1}, weights, 0.68,
                     "weighted_vote", NOW - timedelta(minutes=1)),
        EnsembleView("ETH/USDT", "SELL", {"buy": 0, "sell": 2, "hold": 1}, weights, 0.70,
                     "weighted_vote", NOW - timedelta(minutes=1)),
        EnsembleView("SOL/USDT", "HOLD", {"buy": 2, "sell": 0, "hold": 1}, weights, 0.45,
                     "weighted_vote", NOW - timedelta(minutes=1)),
    )


def executions() -> tuple[ExecutionView, ...]:
    return (
        ExecutionView("twap-0003", "twap", "SOL/USDT", "buy", 3, 6, D("20"), D("40"),
                      D("171.20"), D("171.05"), "running"),
        ExecutionView("mkt-0002", "market", "BTC/USDT", "buy", 1, 1, D("0.25"), D("0.25"),
                      D("66800.00"), D("66790.00"), "done"),
    )


def regimes() -> tuple[RegimeView, ...]:
    figures = {
        "BTC/USDT": ("bull", (0.81, 0.04, 0.15), 37),
        "ETH/USDT": ("bear", (0.10, 0.72, 0.18), 12),
        "SOL/USDT": ("sideways", (0.22, 0.09, 0.69), 5),
    }
    return tuple(
        RegimeView(symbol, label, dict(zip(LABELS, probs, strict=True)), held, LABELS, TRANSITION)
        for symbol, (label, probs, held) in figures.items()
    )


def risk(kill_switch: bool = False) -> RiskView:
    exposure = {p.symbol: p.qty * p.last for p in positions()}
    return RiskView(
        exposure=exposure,
        gross_exposure=sum((abs(v) for v in exposure.values()), D(0)),
        day_pnl=D("-842.15"),
        daily_loss_limit=D("2000"),
        drawdown=0.031,
        max_drawdown=0.10,
        var_95=D("615.40"),
        kill_switch=kill_switch,
        halted_reason="manual" if kill_switch else "",
    )


AUDIT_ENTRIES = (
    ("order.proposed", "engine", {"client_order_id": "desk-0007-btc-buy", "symbol": "BTC/USDT",
                                  "side": "buy", "qty": "0.05", "ref_price": "68250.5",
                                  "reason": "ensemble BUY (regime bull)"}),
    ("risk.kill_switch", "user", {"on": True}),
    ("risk.kill_switch", "user", {"on": False}),
    ("order.approved", "user", {"client_order_id": "desk-0006-sol-buy", "symbol": "SOL/USDT",
                                "side": "buy", "qty": "40", "ref_price": "171.05",
                                "execution": "twap"}),
    ("order.filled", "engine", {"symbol": "SOL/USDT", "side": "buy", "qty": "20",
                                "price": "171.2", "fee": "3.42", "session_id": "twap-0003"}),
    ("feed.paused", "user", {}),
    ("session.cancelled", "user", {"session_id": "twap-0001", "dropped_parts": 3,
                                   "cancelled_children": 1, "filled_qty": "0.1"}),
    ("risk.denied", "engine", {"symbol": "ETH/USDT", "side": "sell", "qty": "3.1",
                               "ref_price": "3712.25",
                               "reasons": ["position 11.5% above max_position_pct 10%"]}),
)


def audit_tail(count: int = 8) -> tuple[AuditView, ...]:
    """Real kinds with their payloads, summaries as the engine writes them, and a hash
    chain (the hashes are stand-ins: the pane shows them, it does not check them)."""
    from engine.live.audit_summary import summarize

    views = []
    previous = "0" * 64
    for i, seq in enumerate(range(1201, 1201 + count)):
        kind, actor, payload = AUDIT_ENTRIES[i % len(AUDIT_ENTRIES)]
        digest = f"{seq:04d}" + "ab" * 30
        views.append(AuditView(
            seq, (NOW - timedelta(seconds=5 * (count - i))).isoformat(timespec="seconds"),
            kind, actor, summarize(kind, payload), dict(payload), previous, digest,
        ))
        previous = digest
    return tuple(views)


def market() -> tuple[MarketView, ...]:
    """The watchlist: a deterministic 120-bar path per symbol ending at LAST, BTC with a
    buy 80 bars ago and a sell 30 bars ago, and the long's stop 1.5% under the last price;
    quotes are the paper broker's (last -/+ 5 bp)."""
    import math

    views = []
    for n, symbol in enumerate(SYMBOLS):
        last = float(LAST[symbol])
        closes = tuple(round(last * (1 + 0.02 * math.sin((i + 7 * n) / 9) - 0.0002 * (119 - i)
                                     - 0.02 * math.sin((119 + 7 * n) / 9)), 2)
                       for i in range(120))
        marks = (ChartMark(40, "buy", closes[40]), ChartMark(90, "sell", closes[90])) \
            if symbol == "BTC/USDT" else ()
        half = LAST[symbol] * D("0.0005")
        views.append(MarketView(
            symbol, LAST[symbol], (0.0123, -0.0081, 0.0342)[n], LAST[symbol] - half,
            LAST[symbol] + half, (1834.2, 52_310.0, 1_204_554.0)[n],
            ("bull", "bear", "sideways")[n], "paper", closes,
            NOW - timedelta(minutes=119), NOW, marks,
            round(last * 0.985, 2) if symbol == "BTC/USDT" else None,
        ))
    return tuple(views)


def history() -> HistoryView:
    """Fills behind the positions (BTC bought in two parts, SOL by hand, ETH shorted),
    one closed BTC trade, and P&L by period consistent with them."""
    fills = (
        FillView(NOW - timedelta(minutes=5), "SOL/USDT", "buy", D("40"), D("171.05"),
                 D("3.42"), "manual-0001", "manual"),
        FillView(NOW - timedelta(hours=2), "ETH/USDT", "sell", D("2.5"), D("3790.10"),
                 D("4.74"), "S-eth-1", "ensemble"),
        FillView(NOW - timedelta(days=1), "BTC/USDT", "buy", D("0.15"), D("66800.00"),
                 D("5.01"), "S-btc-2", "ensemble"),
        FillView(NOW - timedelta(days=1, hours=3), "BTC/USDT", "buy", D("0.10"),
                 D("66800.00"), D("3.34"), "S-btc-1", "ensemble"),
    )
    trades = (ClosedTradeView("BTC/USDT", "long", NOW - timedelta(days=3), D("64000"),
                              NOW - timedelta(days=2), D("65649.20"), D("0.25"), D("412.30"),
                              2.58, "ensemble"),)
    pnl = (PnlView("day", "2024-03-15", D("-8.16"), D("8.16"), 2),
           PnlView("day", "2024-03-14", D("-8.35"), D("8.35"), 2),
           PnlView("day", "2024-03-13", D("412.30"), D("6.70"), 1),
           PnlView("week", "2024-W11", D("395.79"), D("23.21"), 5),
           PnlView("month", "2024-03", D("395.79"), D("23.21"), 5))
    return HistoryView(fills, trades, pnl, D("-8.16"))


def snapshot(**changes) -> Snapshot:
    book = sum((p.qty * p.last for p in positions()), D(0))
    cash = D("74980.22")
    base = Snapshot(
        market_ts=NOW - timedelta(seconds=30),
        equity=cash + book,
        cash=cash,
        day_pnl=D("-842.15"),
        approval_mode="manual",
        paused=False,
        symbols=SYMBOLS,
        last_prices=dict(LAST),
        positions=positions(),
        signals=signals(),
        proposals=proposals(),
        ensemble=ensemble(),
        executions=executions(),
        regimes=regimes(),
        risk=risk(),
        audit_tail=audit_tail(),
        market=market(),
        idle={"BTC/USDT": "", "ETH/USDT": "", "SOL/USDT": "already long as the signal says"},
        history=history(),
        chain_verified_seq=1208,
        chain_ok=True,
    )
    return replace(base, **changes)


@dataclass
class RecordingControl:
    """An EngineControl that records every call and applies pause/kill to its snapshot."""

    current: Snapshot = field(default_factory=snapshot)
    calls: list[tuple[str, object]] = field(default_factory=list)
    refusal: str = ""
    stopped: str = ""  # what failure() answers: set it to play a dead engine
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, name: str, *arguments: object) -> None:
        with self.lock:
            self.calls.append((name, *arguments))

    def approve(self, order_id: str, execution: str | None = None) -> str:
        if execution is None:
            self._record("approve", order_id)
        else:
            self._record("approve", order_id, execution)
        return self.refusal

    def reject(self, order_id: str) -> str:
        self._record("reject", order_id)
        return self.refusal

    def cancel(self, execution_id: str) -> str:
        self._record("cancel", execution_id)
        return self.refusal

    def place_order(self, ticket):
        """Records the ticket; `refusal` refuses it with that one reason."""
        from engine.live.manual import TicketOutcome

        self._record("place_order", ticket)
        if self.refusal:
            return TicketOutcome(False, "manual-0001", ticket.amount, (self.refusal,))
        return TicketOutcome(True, "manual-0001", ticket.amount)

    def explain(self, order_id: str):
        """A short explanation naming the proposal (the real one: engine.live.why)."""
        from engine.live.why import Explanation

        self._record("explain", order_id)
        return Explanation(f"Why {order_id}", (
            ("§ Ensemble", ""), ("decision", "BUY at confidence 0.68 (weighted_vote)"),
            ("  sma_cross", "weight 0.40 · votes BUY (0.72)"),
            ("§ Risk and compliance (now)", "passes every rule"),
            ("  max_position", "ok · 0.0341 of limit 0.25 · headroom 0.2159")))

    def set_kill_switch(self, on: bool) -> None:
        self._record("set_kill_switch", on)
        assert self.current.risk is not None
        self.current = replace(self.current, risk=replace(self.current.risk, kill_switch=on))

    def set_paused(self, paused: bool) -> None:
        self._record("set_paused", paused)
        self.current = replace(self.current, paused=paused)

    def latest_snapshot(self) -> Snapshot:
        return self.current

    def failure(self) -> str:
        return self.stopped
