"""Pane 6: the risk score and its parts, exposure, loss and drawdown against their limits,
every rule's headroom, VaR (labelled with its method, level and horizon), the worst stress
scenario and the kill switch. Entering high or critical risk raises a notification."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from desk.widgets.format import bar, money, percent, right, signed_money
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane
from engine.live.snapshot import RiskView, Snapshot

COLUMNS = (("symbol", "Symbol"), ("exposure", "Exposure"), ("share", "Share of gross"))


class RiskPane(Pane):
    number = 6
    title = "Risk"

    def __init__(self) -> None:
        super().__init__()
        self._risk: RiskView | None = None
        self._alerts_seen = 0

    def compose(self):
        yield Static(id="kill-switch")
        yield Static(id="risk-limits")
        yield KeyedTable(COLUMNS, id="exposure-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        risk = self._risk = snapshot.risk
        banner = self.query_one("#kill-switch", Static)
        on = bool(risk and risk.kill_switch)
        reason = f" · {risk.halted_reason}" if risk and risk.halted_reason else ""
        book = snapshot.portfolio  # portfolio mode: the drawdown controller acts before the
        if book is not None:  # kill switch's hard stop
            reason += (f" · drawdown controller {book.drawdown_level}"
                       f" x{book.drawdown_scalar:g} ({percent(book.drawdown)} from peak)")
        banner.update(("KILL SWITCH ON · no new orders" if on else "Kill switch off") + reason)
        banner.set_class(on, "-on")
        if risk is None:
            self.query_one("#risk-limits", Static).update("No risk figures yet")
            self.query_one(KeyedTable).sync({})
            return
        self.query_one("#risk-limits", Static).update(self._limits(risk))
        if risk.alerts > self._alerts_seen:
            if self._alerts_seen or risk.level in ("high", "critical"):
                self.app.notify(risk.alert, title="Risk", severity="warning")
            self._alerts_seen = risk.alerts
        gross = risk.gross_exposure or 1
        self.query_one(KeyedTable).sync(
            {
                symbol: (
                    symbol,
                    right(signed_money(value), self.style_of("bid" if value > 0 else "ask")),
                    f"{bar(float(abs(value) / gross), 10)} {percent(float(abs(value) / gross))}",
                )
                for symbol, value in sorted(risk.exposure.items())
            }
        )

    def _limits(self, risk: RiskView) -> Text:
        loss_used = float(-risk.day_pnl / risk.daily_loss_limit) if risk.daily_loss_limit else 0.0
        dd_used = risk.drawdown / risk.max_drawdown if risk.max_drawdown else 0.0
        day_style = self.style_of("profit" if risk.day_pnl >= 0 else "loss")
        loss_used = max(loss_used, 0.0)
        text = Text()
        text.append("Day P&L  ").append(f"{signed_money(risk.day_pnl):>12}", day_style)
        text.append(f" of -{money(risk.daily_loss_limit):<10} ")
        text.append(f"{bar(loss_used, 12)} {percent(loss_used):>6}\n", self._usage_style(loss_used))
        text.append(f"Drawdown {percent(risk.drawdown):>12} of {percent(risk.max_drawdown):<11} ")
        text.append(f"{bar(dd_used, 12)} {percent(dd_used):>6}\n", self._usage_style(dd_used))
        text.append(f"{risk.var_label}  {money(risk.var_95)} · ES {money(risk.es_95)}    "
                    f"Gross {money(risk.gross_exposure)}\n")
        level_style = self.style_of("loss" if risk.level in ("high", "critical") else "muted")
        text.append(f"Risk score {risk.score:5.1f} / 100  ")
        text.append(f"{risk.level.upper()}\n", level_style)
        parts = "  ".join(f"{p.name} {p.points:.0f}/{p.weight:.0f}" for p in risk.score_parts)
        if parts:
            text.append(f"  {parts}\n", self.style_of("muted"))
        for room in risk.headroom:
            used = room.used if room.used is not None else 0.0
            text.append(f"  {room.rule:<26} {room.text:<22} ")
            text.append(f"{bar(min(max(used, 0.0), 1.0), 10)}\n", self._usage_style(used))
        if risk.drawdown_controller:
            text.append(f"Drawdown controller  {risk.drawdown_controller}\n")
        if risk.worst_scenario:
            text.append(f"Worst stress  {risk.worst_scenario}")
        return text

    def _usage_style(self, used: float):
        return self.style_of("loss" if used >= 0.8 else "muted")

    def selected_details(self) -> Details | None:
        risk = self._risk
        if risk is None:
            return None
        key = self.query_one(KeyedTable).selected_key
        rows = [("symbol", key or "—")]
        if key in risk.exposure:
            share = abs(risk.exposure[key]) / (risk.gross_exposure or 1)
            rows += [("exposure", f"{risk.exposure[key]:,f}"), ("share of gross", percent(share))]
        rows += [
            ("day pnl", f"{risk.day_pnl:,f}"),
            ("daily loss limit", f"{risk.daily_loss_limit:,f}"),
            ("drawdown", percent(risk.drawdown, 2)),
            ("max drawdown", percent(risk.max_drawdown, 2)),
            (risk.var_label.lower(), f"{risk.var_95:,f}"),
            ("es 95", f"{risk.es_95:,f}"),
            ("risk score", f"{risk.score:.1f} ({risk.level})"),
            *((f"score: {p.name}", f"{p.points:.1f} of {p.weight:.0f}")
              for p in risk.score_parts),
            *((f"headroom: {r.rule}", r.text) for r in risk.headroom),
            ("worst stress", risk.worst_scenario or "—"),
            ("kill switch", "ON" if risk.kill_switch else "off"),
        ]
        return Details("Risk", tuple(rows))
