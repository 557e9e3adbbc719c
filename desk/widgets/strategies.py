"""Pane 8: the strategy lifecycle. One row per strategy: status, base and current weight,
expectancy, profit factor, win rate, Sharpe, trades, attributed P&L and the last change
with its reason. `s` suspends, `u` resumes, `w` resets the weights (each asks first);
`enter` shows the strategy's decomposition by symbol and regime."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from desk.widgets.format import money, percent, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane
from engine.live.snapshot import Snapshot, StrategyView

# Status, weights and P&L are what the pane is read for: they never give way. On a narrow
# screen the last change (long text, in the details too) goes first, then expectancy (money
# per trade, the widest ratio), then the other ratios.
COLUMNS = (
    ("strategy", "Strategy"),
    ("status", "Status"),
    ("base", "Base"),
    ("weight", "Weight"),
    ("expectancy", "Expect.", 4),
    ("pf", "PF", 3),
    ("win", "Win", 2),
    ("sharpe", "Sharpe", 3),
    ("trades", "Trades", 1),
    ("pnl", "P&L"),
    ("change", "Last change", 5),
)
STATUS_STYLES = {"ACTIVE": "profit", "DEGRADED": "alert", "SUSPENDED": "loss",
                 "RETIRED": "muted"}


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def change_text(view: StrategyView) -> str:
    if not view.last_change:
        return "—"
    return f"{view.last_change[:10]} {view.reason}"


def metrics_line(m) -> str:
    """One group of the decomposition in a line: trades, P&L, win rate, PF, Sharpe."""
    parts = [f"{int(m.get('trades', 0))} trades"]
    if m.get("pnl") is not None:
        parts.append(f"P&L {money(_decimal(m['pnl']))}")
    if m.get("win_rate") is not None:
        parts.append(f"win {percent(m['win_rate'])}")
    if m.get("profit_factor") is not None:
        parts.append(f"PF {ratio(m['profit_factor'])}")
    if m.get("sharpe") is not None:
        parts.append(f"Sharpe {ratio(m['sharpe'])}")
    return ", ".join(parts)


def _decimal(value):
    from decimal import Decimal

    return Decimal(str(value))


class StrategiesPane(Pane):
    number = 8
    title = "Strategies"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "suspend", "Suspend", id="strategies.suspend",
                tooltip="Suspend the selected strategy (weight 0; asks first)"),
        Binding("u", "resume", "Resume", id="strategies.resume",
                tooltip="Make the selected strategy ACTIVE again (asks first)"),
        Binding("w", "reset_weights", "Reset weights", id="strategies.reset_weights",
                tooltip="Every strategy's adaptive weight back to base (asks first)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._views: dict[str, StrategyView] = {}

    def compose(self):
        yield KeyedTable(COLUMNS, id="strategies-table")

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        self._views = {v.id: v for v in snapshot.strategies}
        self.query_one(KeyedTable).sync({v.id: self._row(v) for v in snapshot.strategies})

    def _row(self, v: StrategyView) -> tuple:
        pnl_style = self.style_of("profit" if v.pnl > 0 else "loss" if v.pnl < 0 else "muted")
        return (
            v.id,
            Text(v.status, style=self.style_of(STATUS_STYLES.get(v.status, "muted"))),
            right(f"{v.base_weight:.2f}"),
            right(f"{v.weight:.2f}"),
            right("—" if v.expectancy is None else money(_decimal(round(v.expectancy, 2)))),
            right(ratio(v.profit_factor)),
            right("—" if v.win_rate is None else percent(v.win_rate)),
            right(ratio(v.sharpe)),
            right(str(v.trades)),
            right(money(v.pnl), pnl_style),
            change_text(v),
        )

    def selected_strategy(self) -> StrategyView | None:
        return self._views.get(self.query_one(KeyedTable).selected_key or "")

    def selected_details(self) -> Details | None:
        v = self.selected_strategy()
        if v is None:
            return None
        rows = [
            ("status", v.status),
            ("weight", f"{v.weight:.4f} (base {v.base_weight:.2f})"),
            ("attributed", metrics_line({"trades": v.trades, "pnl": v.pnl,
                                         "win_rate": v.win_rate,
                                         "profit_factor": v.profit_factor,
                                         "sharpe": v.sharpe})),
            ("last change", change_text(v)),
        ]
        for symbol, m in v.by_symbol.items():
            extra = f"{m.get('status', '')} weight {float(m.get('weight', 0)):.2f}"
            rows.append((f"symbol {symbol}", f"{extra}; {metrics_line(m)}"))
        for regime, m in v.by_regime.items():
            rows.append((f"regime {regime}", metrics_line(m)))
        return Details(f"Strategy {v.id}: by symbol and regime", tuple(rows))

    # -- keys ------------------------------------------------------------------------------

    def action_suspend(self) -> None:
        self._set_status("SUSPENDED", "suspend", "suspended from the desk")

    def action_resume(self) -> None:
        self._set_status("ACTIVE", "resume", "resumed from the desk")

    def _set_status(self, status: str, verb: str, reason: str) -> None:
        view = self.selected_strategy()
        if view is None:
            self.notify("No strategy is selected", severity="warning")
            return
        if view.status == status:
            self.notify(f"{view.id} is already {status}", severity="warning")
            return
        control = self.app.control  # type: ignore[attr-defined]

        def answer(yes: bool | None) -> None:
            if yes:
                refusal = control.set_strategy_status(view.id, status, reason)
                self.app.after_action(refusal, f"{view.id}: {view.status} -> {status}")  # type: ignore[attr-defined]

        from desk.screens.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(
            f"{verb.capitalize()} {view.id}? It is {view.status} at weight {view.weight:.2f}; "
            f"{status} {'takes weight 0' if status == 'SUSPENDED' else 'restores its weight'}."
        ), answer)

    def action_reset_weights(self) -> None:
        control = self.app.control  # type: ignore[attr-defined]

        def answer(yes: bool | None) -> None:
            if yes:
                self.app.after_action(control.reset_weights(),  # type: ignore[attr-defined]
                                      "Strategy weights reset to base")

        from desk.screens.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(
            "Reset every strategy's adaptive weight to its base weight?"), answer)
