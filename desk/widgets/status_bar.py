"""The top line: equity, day P&L, approval mode, feed state and the kill switch."""

from __future__ import annotations

from datetime import datetime
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

    def show(self, title: str, snapshot: Snapshot, now: datetime | None = None) -> None:
        """`now` is the wall clock; the snapshot's `market_ts` is market time (a simulated
        feed runs faster than the wall clock). Both are labelled. Segments that do not fit
        the width are left out whole, the quietest first; alerts always stay."""

        def style(name: str):
            return self.get_component_rich_style(f"status--{name}", partial=True)

        # (text, style, priority): 0 always shown, higher numbers give way first.
        segments: list[tuple[str, object, int]] = [(f" {title} ", "bold", 3)]
        if snapshot.engine_stopped:
            segments.append((f" ENGINE STOPPED: {snapshot.engine_stopped} ", style("alert"), 0))
        segments.append((f" Equity {money(snapshot.equity)}", "", 0))
        day_style = style("profit" if snapshot.day_pnl >= 0 else "loss")
        segments.append(("  Day P&L ", "", 0))
        segments.append((signed_money(snapshot.day_pnl), day_style, 0))
        if snapshot.risk is not None and snapshot.risk.kill_switch:
            segments.append(("  KILL SWITCH ON", style("alert"), 0))
        if snapshot.paused:
            segments.append(("  PAUSED", style("alert"), 0))
        segments.append((f"  {snapshot.approval_mode}", "", 1))
        if snapshot.market_ts is not None:
            segments.append((f"  mkt {snapshot.market_ts:%m-%d %H:%M:%S}", style("muted"), 2))
        if now is not None:
            segments.append((f"  wall {now:%H:%M:%S}", style("muted"), 2))
        segments.append((f"  Cash {money(snapshot.cash)}", style("muted"), 4))
        # Before its first layout the bar has no width yet: the screen's is what it gets.
        room = self.size.width or self.app.size.width
        for level in (4, 3, 2, 1):
            if sum(len(t) for t, _, _ in segments) <= room:
                break
            segments = [seg for seg in segments if seg[2] < level]
        if segments and segments[0][2] != 3:  # the title gave way: keep a margin
            segments.insert(0, (" ", "", 0))
        text = Text()
        for chunk, chunk_style, _ in segments:
            text.append(chunk, chunk_style)  # type: ignore[arg-type]
        self.update(text)
