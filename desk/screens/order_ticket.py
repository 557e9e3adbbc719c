"""The order ticket (`o`): symbol, side, quantity or notional, market or limit, executor.

Submit (enter or ctrl+s) sends it to the engine, which runs it through the same risk gate
and executor as its own orders. A refusal (a bad field, or the rules that denied it) is
shown in the ticket, which stays open to be corrected; an accepted order closes it and the
caller says so. It fits 80x24.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from engine.live.manual import EXECUTORS, OrderTicket, TicketError, TicketOutcome, parse

Submit = Callable[[OrderTicket], TicketOutcome]


class OrderTicketScreen(ModalScreen[TicketOutcome | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Send", id="ticket.submit"),
        Binding("escape", "close", "Cancel", id="ticket.cancel"),
    ]

    def __init__(self, symbols: Sequence[str], submit: Submit, *, symbol: str | None = None,
                 side: str = "buy") -> None:
        super().__init__()
        self.symbols = list(symbols)
        self.submit = submit
        self.symbol = symbol if symbol in self.symbols else (self.symbols or [""])[0]
        self.side = side

    def compose(self) -> ComposeResult:
        def row(label: str, widget) -> Horizontal:
            return Horizontal(Label(label, classes="ticket-label"), widget, classes="ticket-row")

        with Vertical(id="ticket-dialog", classes="dialog"):
            yield Label("Order ticket", classes="dialog-title")
            yield row("Symbol", Select([(s, s) for s in self.symbols], value=self.symbol,
                                       allow_blank=False, compact=True, id="ticket-symbol"))
            yield row("Side", Select([("buy", "buy"), ("sell", "sell")], value=self.side,
                                     allow_blank=False, compact=True, id="ticket-side"))
            yield row("Size in", Select([("quantity", "quantity"), ("notional (money)",
                                                                    "notional")],
                                        value="quantity", allow_blank=False, compact=True,
                                        id="ticket-size-kind"))
            yield row("Amount", Input(placeholder="e.g. 0.05, or 1000 for a notional",
                                      compact=True, id="ticket-amount"))
            yield row("Type", Select([("market", "market"), ("limit", "limit")],
                                     value="market", allow_blank=False, compact=True,
                                     id="ticket-type"))
            yield row("Limit price", Input(placeholder="limit orders only", compact=True,
                                           id="ticket-limit"))
            yield row("Executor", Select([(e, e) for e in EXECUTORS], value="market",
                                         allow_blank=False, compact=True, id="ticket-executor"))
            yield Static(id="ticket-reasons")
            yield Label("enter send · escape cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#ticket-amount", Input).focus()

    def _value(self, widget_id: str) -> str:
        widget = self.query_one(f"#{widget_id}")
        return str(widget.value)  # type: ignore[attr-defined]

    def ticket(self) -> OrderTicket:
        """The form as a ticket; TicketError names the first bad field."""
        return parse(
            self._value("ticket-symbol"), self._value("ticket-side"),
            self._value("ticket-amount"),
            notional=self._value("ticket-size-kind") == "notional",
            order_type=self._value("ticket-type"), limit_price=self._value("ticket-limit"),
            execution=self._value("ticket-executor"),
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        try:
            outcome = self.submit(self.ticket())
        except TicketError as error:
            outcome = TicketOutcome(False, reasons=(str(error),))
        if outcome.accepted:
            self.dismiss(outcome)
            return
        self.show_reasons(outcome.reasons)

    def show_reasons(self, reasons: Sequence[str]) -> None:
        text = "Refused:\n" + "\n".join(f"• {reason}" for reason in reasons)
        box = self.query_one("#ticket-reasons", Static)
        box.update(text)
        box.add_class("-refused")

    def action_close(self) -> None:
        self.dismiss(None)
