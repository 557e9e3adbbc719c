"""Pane 4: orders and multi-part sessions, their progress and their slippage."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from rich.text import Text

from desk.widgets.format import bar, bps, price, quantity, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane, describe
from engine.live.snapshot import ExecutionView, Snapshot

# Slippage is the figure a trader checks an execution by: it never gives way; the arrival
# and average prices (in the details) go first.
COLUMNS = (
    ("symbol", "Symbol"),
    ("order", "Order"),
    ("progress", "Parts", 1),
    ("filled", "Filled", 2),
    ("avg", "Avg", 3),
    ("arrival", "Arrival", 4),
    ("slippage", "Slip"),
)


def slippage_bps(execution: ExecutionView) -> Decimal | None:
    """Cost against the arrival price in basis points: positive means worse than arrival."""
    if not execution.avg_price or not execution.arrival_price:
        return None
    move = (execution.avg_price - execution.arrival_price) / execution.arrival_price
    sign = 1 if execution.side.lower() == "buy" else -1
    return sign * move * 10_000


class ExecutionPane(Pane):
    number = 4
    title = "Execution"

    def __init__(self) -> None:
        super().__init__()
        self._executions: dict[str, ExecutionView] = {}

    def compose(self):
        yield KeyedTable(COLUMNS, id="execution-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._executions = {e.id: e for e in snapshot.executions}
        self.query_one(KeyedTable).sync({e.id: self._row(e) for e in snapshot.executions})

    def _row(self, e: ExecutionView) -> tuple:
        done = e.parts_done / e.parts_total if e.parts_total else 0.0
        slip = slippage_bps(e)
        slip_style = self.style_of("loss" if slip and slip > 0 else "profit")
        # A running session shows its progress bar; a finished one says how it ended.
        if e.status == "running":
            progress = Text(f"{bar(done, 4)} {e.parts_done}/{e.parts_total}", self.style_of("bid"))
        else:
            style = self.style_of("loss" if e.status == "failed" else "muted")
            progress = Text(f"{e.status} {e.parts_done}/{e.parts_total}", style)
        return (
            e.symbol,
            f"{e.kind} {e.side}",
            progress,
            right(f"{quantity(e.filled_qty)}/{quantity(e.total_qty)}"),
            right(price(e.avg_price)),
            right(price(e.arrival_price)),
            right("—") if slip is None else right(bps(slip), slip_style),
        )

    def selected_execution(self) -> ExecutionView | None:
        return self._executions.get(self.query_one(KeyedTable).selected_key or "")

    def selected_details(self) -> Details | None:
        execution = self.selected_execution()
        return describe(f"Execution {execution.id}", execution) if execution else None
