"""Pane 9: portfolio mode. One row per asset: target and current weight (fractions of
equity, in %) and the drift between them; above it the book's state in two lines: the
scheme and the next rebalance (due time or distance to the threshold), the hedge and the
drawdown controller, the last optimization's figures. In manual approval mode the proposed
rebalance basket is listed below: `a` approves the whole basket, `y` the selected order
alone (the screen's `a` in the Signals pane approves single orders too)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from desk.widgets.format import percent, price, quantity, right
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Details, Pane
from engine.live.snapshot import PortfolioView, ProposalView, Snapshot

COLUMNS = (
    ("asset", "Asset"),
    ("target", "Target"),
    ("current", "Current"),
    ("drift", "Drift"),
)
BASKET_COLUMNS = (
    ("side", "Side"),
    ("qty", "Qty"),
    ("symbol", "Symbol"),
    ("price", "Ref price"),
    ("order", "Order", 1),
)
LEVEL_STYLES = {"normal": "profit", "warning": "alert", "critical": "loss"}


def signed_percent(fraction: float) -> str:
    return ("+" if fraction > 0 else "") + percent(fraction, 2)


def state_lines(view: PortfolioView) -> tuple[str, str, str]:
    """The three header lines: schedule, risk state, last optimization."""
    hedge = (f"hedge {percent(view.hedge_fraction, 0)} in quote"
             + (f" ({'; '.join(view.hedge_triggers)})" if view.hedge_triggers else "")
             if view.hedge_fraction > 0 else "hedge off")
    figures = view.optimization
    optimized = (f"{view.scheme}: return {percent(figures['expected_return'])}, "
                 f"vol {percent(figures['volatility'])}, Sharpe {figures['sharpe']:.2f}"
                 if figures else f"{view.scheme}: not yet estimated")
    return (f"{view.mode} · next: {view.next_rebalance}",
            f"{hedge} · drawdown {percent(view.drawdown)} {view.drawdown_level}"
            f" x{view.drawdown_scalar:g}",
            optimized)


class PortfolioPane(Pane):
    number = 9
    title = "Portfolio"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve_basket", "Approve basket", id="portfolio.approve_basket",
                tooltip="Approve every order of the proposed rebalance basket"),
        Binding("y", "approve_order", "Approve order", id="portfolio.approve_order",
                tooltip="Approve the selected basket order alone"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._view: PortfolioView | None = None

    def compose(self):
        yield Static(id="portfolio-state")
        yield KeyedTable(COLUMNS, id="portfolio-table")
        yield KeyedTable(BASKET_COLUMNS, id="portfolio-basket")

    @property
    def focus_target(self) -> Widget:
        basket = self.query_one("#portfolio-basket", KeyedTable)
        return basket if self._view is not None and self._view.basket else self.query_one(
            "#portfolio-table", KeyedTable)

    def show(self, snapshot: Snapshot, now: datetime) -> None:
        view = self._view = snapshot.portfolio
        state = self.query_one("#portfolio-state", Static)
        table = self.query_one("#portfolio-table", KeyedTable)
        basket = self.query_one("#portfolio-basket", KeyedTable)
        if view is None:
            state.update(Text("Portfolio mode is off ([portfolio] enabled = false)",
                              style=self.style_of("muted")))
            table.sync({})
            basket.sync({})
            basket.display = False
            return
        lines = state_lines(view)
        text = Text("\n".join(lines[:1]) + "\n")
        text.append(lines[1] + "\n", style=self.style_of(
            LEVEL_STYLES.get(view.drawdown_level, "muted")))
        text.append(lines[2], style=self.style_of("muted"))
        state.update(text)
        table.sync({r.asset: (r.asset, right(percent(r.target, 2)),
                              right(percent(r.current, 2)),
                              right(signed_percent(r.drift), self.style_of(
                                  "alert" if abs(r.drift) >= 0.05 else "muted")))
                    for r in view.rows})
        basket.display = bool(view.basket)
        basket.sync({p.order_id: self._basket_row(p) for p in view.basket})

    def _basket_row(self, p: ProposalView) -> tuple:
        side_style = self.style_of("bid" if p.side == "buy" else "ask")
        return (Text(p.side.upper(), style=side_style), right(quantity(p.qty)), p.symbol,
                right(price(p.price)), p.order_id)

    def selected_details(self) -> Details | None:
        view = self._view
        if view is None:
            return None
        rows = [("schedule", state_lines(view)[0]), ("risk", state_lines(view)[1]),
                ("optimization", view.optimization_note or "—"),
                ("last decision", view.last_reason or "—")]
        rows += [(f"basket {p.symbol}", f"{p.side} {quantity(p.qty)} ({p.reason})")
                 for p in view.basket]
        return Details("Portfolio", tuple(rows))

    # -- keys ------------------------------------------------------------------------------

    def action_approve_basket(self) -> None:
        view = self._view
        if view is None or not view.basket:
            self.notify("No rebalance basket is waiting", severity="warning")
            return
        control = self.app.control  # type: ignore[attr-defined]
        # Sells first, as the basket lists them: their proceeds pay for the buys.
        refusals = [r for r in (control.approve(p.order_id) for p in view.basket) if r]
        self.app.after_action("; ".join(refusals),  # type: ignore[attr-defined]
                              f"Approved the rebalance basket ({len(view.basket)} orders)")

    def action_approve_order(self) -> None:
        view = self._view
        key = self.query_one("#portfolio-basket", KeyedTable).selected_key
        chosen = next((p for p in (view.basket if view else ()) if p.order_id == key), None)
        if chosen is None:
            self.notify("Select a basket order first", severity="warning")
            return
        reason = self.app.control.approve(chosen.order_id)  # type: ignore[attr-defined]
        self.app.after_action(reason, f"Approved {chosen.side} {quantity(chosen.qty)} "  # type: ignore[attr-defined]
                              f"{chosen.symbol}")
