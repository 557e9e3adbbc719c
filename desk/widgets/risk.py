"""Pane 6: exposure, loss and drawdown against their limits, VaR and the kill switch."""

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

    def compose(self):
        yield Static(id="kill-switch")
        yield Static(id="risk-limits")
        yield KeyedTable(COLUMNS, id="exposure-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        risk = self._risk = snapshot.risk
        banner = self.query_one("#kill-switch", Static)
        on = bool(risk and risk.kill_switch)
        reason = f" · {risk.halted_reason}" if risk and risk.halted_reason else ""
        banner.update(("KILL SWITCH ON · no new orders" if on else "Kill switch off") + reason)
        banner.set_class(on, "-on")
        if risk is None:
            self.query_one("#risk-limits", Static).update("No risk figures yet")
            self.query_one(KeyedTable).sync({})
            return
        self.query_one("#risk-limits", Static).update(self._limits(risk))
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
        text.append(f"VaR 95%  {money(risk.var_95):>12}    Gross {money(risk.gross_exposure)}")
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
            ("var 95", f"{risk.var_95:,f}"),
            ("kill switch", "ON" if risk.kill_switch else "off"),
        ]
        return Details("Risk", tuple(rows))
