"""The top line: equity, day P&L, approval mode, feed state and the kill switch."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from desk.widgets.format import money, signed_money
from engine.live.snapshot import Snapshot


class StatusBar(Static):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status--profit",
        "status--loss",
        "status--alert",
        "status--muted",
    }

    def show(self, title: str, snapshot: Snapshot) -> None:
        def style(name: str):
            return self.get_component_rich_style(f"status--{name}", partial=True)

        text = Text()
        text.append(f" {title} ", "bold")
        if snapshot.engine_stopped:
            # First, so that no terminal width hides it.
            text.append(f" ENGINE STOPPED: {snapshot.engine_stopped} ", style("alert"))
        text.append(f" Equity {money(snapshot.equity)}")
        text.append("  Day P&L ")
        day_style = style("profit" if snapshot.day_pnl >= 0 else "loss")
        text.append(signed_money(snapshot.day_pnl), day_style)
        # Alerts come before the quieter figures so that a narrow terminal never hides them.
        if snapshot.risk is not None and snapshot.risk.kill_switch:
            text.append("  KILL SWITCH ON", style("alert"))
        if snapshot.paused:
            text.append("  PAUSED", style("alert"))
        text.append(f"  {snapshot.approval_mode}")
        if snapshot.market_ts is not None:
            text.append(f"  {snapshot.market_ts:%m-%d %H:%M:%S}", style("muted"))
        text.append(f"  Cash {money(snapshot.cash)}", style("muted"))
        self.update(text)
