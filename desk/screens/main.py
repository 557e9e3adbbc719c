"""The desk: seven panes, shown as tabs on a small terminal and as a grid on a wide one."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, Tab, Tabs

from desk.screens.confirm import ConfirmScreen
from desk.screens.details import DetailsScreen
from desk.screens.help import HelpScreen
from desk.screens.host import DeskHost
from desk.screens.order_ticket import OrderTicketScreen
from desk.widgets.audit import AuditPane
from desk.widgets.ensemble import EnsemblePane
from desk.widgets.execution import ExecutionPane
from desk.widgets.format import price, quantity
from desk.widgets.history import HistoryPane
from desk.widgets.market import MarketPane
from desk.widgets.order_flow import OrderFlowPane
from desk.widgets.pane import Pane
from desk.widgets.portfolio import PortfolioPane
from desk.widgets.positions import PositionsPane
from desk.widgets.regime import RegimePane
from desk.widgets.risk import RiskPane
from desk.widgets.signals import SignalsPane
from desk.widgets.status_bar import StatusBar
from desk.widgets.strategies import StrategiesPane
from engine.live.manual import OrderTicket, TicketOutcome
from engine.live.snapshot import Snapshot

PANES = (PositionsPane, SignalsPane, EnsemblePane, ExecutionPane, RegimePane, RiskPane, AuditPane,
         StrategiesPane, PortfolioPane, OrderFlowPane, MarketPane, HistoryPane)
WIDE_COLUMNS = 160  # from here on every pane is visible at once
MIN_SIZE = (80, 24)  # below this the desk asks for more room


def _pane_bindings() -> list[Binding]:
    return [
        Binding(
            pane.shortcut(),  # its number (pane 10 is on key 0), or its letter
            f"show_pane({pane.number})",
            "Pane",
            show=False,
            id=f"desk.pane_{pane.number}",
            tooltip=f"{pane.shortcut()} {pane.title}",
        )
        for pane in PANES
    ]


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve", id="desk.approve", tooltip="Approve the proposed order"),
        Binding("d", "approve_dca", "DCA", show=False, id="desk.approve_dca",
                tooltip="Approve the proposed order, executed as a DCA"),
        Binding("r", "reject", "Reject", id="desk.reject", tooltip="Reject the proposed order"),
        Binding("c", "cancel", "Cancel", id="desk.cancel", tooltip="Cancel the execution"),
        Binding("o", "order_ticket", "Order", id="desk.order_ticket",
                tooltip="Order ticket: buy or sell by hand (same risk gate and executor as "
                "the engine's orders)"),
        Binding("x", "close_position", "Close", id="desk.close_position",
                tooltip="Close the selected position at market (asks first)"),
        Binding("enter", "details", "Info", key_display="⏎", id="desk.details",
                tooltip="Details of the selected row"),
        Binding("p", "pause", "Pause", id="desk.pause",
                tooltip="Pause or resume the feed; while paused, proposals' countdowns "
                "stop and nothing expires"),
        # Not in the footer (the tab strip shows the panes): its room goes to o and x.
        Binding("tab", "next_pane", "Pane", key_display="⇥", show=False, id="desk.next_pane",
                tooltip="Next pane"),
        Binding(
            "shift+tab", "previous_pane", "Prev", show=False, id="desk.previous_pane",
            tooltip="Previous pane",
        ),
        *_pane_bindings(),
        Binding("question_mark", "help", "Help", key_display="?", id="desk.help",
                tooltip="This list of keys"),
    ]

    active: reactive[int] = reactive(1, init=False)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        tabs = Tabs(*(Tab(f"{p.shortcut()} {p.title}", id=f"tab-{p.number}") for p in PANES))
        tabs.can_focus = False
        yield tabs
        with Container(id="panes"):
            for pane_class in PANES:
                pane = pane_class()
                pane.set_class(not pane_class.grid, "-extra")
                yield pane
        # The palette key is listed by `?`; the footer needs its width for the desk's keys.
        yield Footer(compact=True, show_command_palette=False)
        yield Static(id="too-small")

    ready = False  # True once the panes exist: snapshots may arrive before that

    def on_mount(self) -> None:
        self.ready = True
        self._layout_for(self.app.size.width, self.app.size.height)
        self.watch_active(1)
        snapshot = self.desk.snapshot or self.desk.control.latest_snapshot()
        self.desk.snapshot = snapshot
        self.show(self.desk.title, snapshot, self.desk.clock())

    @property
    def desk(self) -> DeskHost:
        return self.app  # type: ignore[return-value]

    def pane(self, number: int) -> Pane:
        return self.query_one(f"#pane-{number}", Pane)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def signals(self) -> SignalsPane:
        return self.query_one(SignalsPane)

    @property
    def execution(self) -> ExecutionPane:
        return self.query_one(ExecutionPane)

    def show_front(self, title: str, snapshot: Snapshot, now: datetime) -> None:
        """Only the status line and the active pane: what a keypress must change now."""
        self.query_one(StatusBar).show(title, snapshot, now)
        self.pane(self.active).show(snapshot, now)

    def show(self, title: str, snapshot: Snapshot, now: datetime) -> None:
        self.query_one(StatusBar).show(title, snapshot, now)
        for pane in self.query(Pane):
            pane.show(snapshot, now)

    # Layout -----------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < WIDE_COLUMNS, "-narrow")
        self.set_class(width >= WIDE_COLUMNS, "-wide")
        # Below the smallest size the panes and keys are laid out for, say so instead of
        # letting tabs and keys fall off the edge. Keys still work (q quits).
        cramped = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        self.set_class(cramped, "-cramped")
        if cramped:
            self.query_one("#too-small", Static).update(
                f"Desk needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}; this terminal is "
                f"{width}×{height}.\nMake the window larger, or press q to quit.")

    def watch_active(self, number: int) -> None:
        for pane in self.query(Pane):
            pane.set_class(pane.number == number, "-active")
        self.set_class(not self.pane(number).grid, "-solo")
        self.query_one(Tabs).active = f"tab-{number}"
        target = self.pane(number).focus_target
        if not target.has_focus:
            target.focus()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            self.active = int(event.tab.id.removeprefix("tab-"))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for ancestor in event.widget.ancestors_with_self:
            if isinstance(ancestor, Pane):
                self.active = ancestor.number
                return

    # Actions ----------------------------------------------------------------------------
    def action_show_pane(self, number: int) -> None:
        self.active = number

    def action_next_pane(self) -> None:
        numbers = [pane.number for pane in PANES]  # pane numbers may have gaps
        self.active = numbers[(numbers.index(self.active) + 1) % len(numbers)]

    def action_previous_pane(self) -> None:
        numbers = [pane.number for pane in PANES]
        self.active = numbers[(numbers.index(self.active) - 1) % len(numbers)]

    def action_approve(self) -> None:
        self._decide(approve=True)

    def action_approve_dca(self) -> None:
        self._decide(approve=True, execution="dca")

    def action_reject(self) -> None:
        self._decide(approve=False)

    def _decide(self, approve: bool, execution: str | None = None) -> None:
        proposal = self.signals.selected_proposal()
        if proposal is None:
            self.notify("No proposed order is waiting", severity="warning")
            return
        control = self.desk.control
        order = (f"{proposal.side} {quantity(proposal.qty)} {proposal.symbol} @ "
                 f"{price(proposal.price)}")
        if not approve:
            reason, done = control.reject(proposal.order_id), f"Rejected {order}"
        elif execution is None:
            reason, done = control.approve(proposal.order_id), f"Approved {order}"
        else:
            reason = control.approve(proposal.order_id, execution=execution)
            done = f"Approved {order} as {execution}"
        self.desk.after_action(reason, done)

    def action_cancel(self) -> None:
        if self.active != ExecutionPane.number:
            self.notify("Select an execution in pane 4 first", severity="warning")
            return
        execution = self.execution.selected_execution()
        if execution is None or execution.status != "running":
            self.notify("No running execution is selected", severity="warning")
            return

        def cancel(yes: bool | None) -> None:
            if yes:
                self.desk.after_action(self.desk.control.cancel(execution.id),
                                       f"Cancelled {execution.kind} {execution.side} "
                                       f"{execution.symbol} ({execution.id})")

        question = (
            f"Cancel {execution.kind} {execution.side} {execution.symbol} ({execution.id})?"
            f" {execution.parts_done}/{execution.parts_total} parts done."
        )
        self.app.push_screen(ConfirmScreen(question), cancel)

    def _selected_symbol(self) -> str | None:
        """The symbol under the cursor of the pane in front, if it lists symbols."""
        table = self.pane(self.active).query("KeyedTable").first(None) if \
            self.active in (PositionsPane.number, MarketPane.number) else None
        key = table.selected_key if table is not None else None  # type: ignore[attr-defined]
        return key if key in self.desk.control.latest_snapshot().symbols else None

    def action_order_ticket(self) -> None:
        snapshot = self.desk.control.latest_snapshot()
        if not snapshot.symbols:
            self.notify("No symbols yet: the engine is still warming up", severity="warning")
            return

        def done(outcome: TicketOutcome | None) -> None:
            if outcome is not None:
                self.desk.after_action("", f"Order {outcome.order_id} sent: "
                                           f"{quantity(outcome.qty)} (fills show in pane 4)")

        self.app.push_screen(OrderTicketScreen(snapshot.symbols, self.desk.control.place_order,
                                               symbol=self._selected_symbol()), done)

    def action_close_position(self) -> None:
        symbol = self._selected_symbol() if self.active == PositionsPane.number else None
        snapshot = self.desk.control.latest_snapshot()
        held = {p.symbol: p for p in snapshot.positions if p.qty != 0}
        if symbol not in held:
            self.notify("Select an open position in pane 1 first", severity="warning")
            return
        position = held[symbol]
        side = "sell" if position.qty > 0 else "buy"

        def close(yes: bool | None) -> None:
            if not yes:
                return
            outcome = self.desk.control.place_order(OrderTicket(
                symbol, side, abs(position.qty), reduce_only=True))
            if outcome.accepted:
                self.desk.after_action("", f"Closing {symbol}: {side} "
                                           f"{quantity(abs(position.qty))} at market")
            else:
                self.desk.after_action("Close refused: " + "; ".join(outcome.reasons))

        self.app.push_screen(ConfirmScreen(
            f"Close {position.side} {quantity(abs(position.qty))} {symbol} at market "
            f"(about {price(position.last)})?"), close)

    def action_pause(self) -> None:
        paused = self.desk.control.latest_snapshot().paused
        self.desk.control.set_paused(not paused)
        self.desk.after_action("", "Feed resumed" if paused else
                               "Feed paused: proposals' countdowns stop until you resume")

    def action_details(self) -> None:
        self._open_details(self.pane(self.active))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        for ancestor in event.data_table.ancestors:
            if isinstance(ancestor, Pane):
                self._open_details(ancestor)
                return

    def _open_details(self, pane: Pane) -> None:
        details = pane.selected_details()
        if details is None:
            self.notify(f"Nothing selected in {pane.title}", severity="warning")
        else:
            self.app.push_screen(DetailsScreen(details))

    def action_help(self) -> None:
        bindings = [b for b in (*self.app.BINDINGS, *self.BINDINGS) if isinstance(b, Binding)]
        palette = Binding(self.app.COMMAND_PALETTE_BINDING, "command_palette", "Command palette")
        bindings.append(palette)
        self.app.push_screen(HelpScreen(bindings))
