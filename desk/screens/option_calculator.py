"""The options calculator: what `desk price option` does, interactively (command palette).

Every keystroke re-prices: the inputs are read with the same parser as the command line,
priced in a worker thread (the first use loads SciPy), and the newest answer is shown. A
bad field shows one line naming it instead of numbers; a market price outside the
no-arbitrage bounds says which bound, never an implied volatility.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from typing import ClassVar

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from desk.option_inputs import FIELDS, parse_option_inputs
from engine.errors import DeskError
from engine.instruments.calculator import OptionInputs, OptionQuote, price_option

DEFAULTS: Mapping[str, str] = {
    "type": "call", "spot": "100", "strike": "100", "expiry": "0.25", "rate": "0.05",
    "vol": "0.20", "div": "0", "price": "",
}
LABELS: Mapping[str, str] = {
    "type": "type", "spot": "spot", "strike": "strike", "expiry": "expiry", "rate": "rate",
    "vol": "vol", "div": "div yield", "price": "price",
}
PLACEHOLDERS: Mapping[str, str] = {
    "type": "call | put", "expiry": "date or years", "rate": "e.g. 0.05",
    "vol": "e.g. 0.20", "price": "solves IV",
}


@dataclass(frozen=True, slots=True)
class Answer:
    asked: int  # which request this answers: only the newest is shown
    inputs: OptionInputs | None
    quote: OptionQuote | None
    error: str


def results_table(inputs: OptionInputs, quote: OptionQuote) -> Table:
    """Price and Greeks, each Greek in both units (vega and rho per 1.00 and per 1 %, theta
    per year and per calendar day); the implied volatility when a price was given."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    for _ in range(2):
        table.add_column(justify="right", no_wrap=True)
    table.add_column(style="dim", no_wrap=True)
    table.add_row("price", f"{quote.price:,.4f}", "", "")
    implied = "—" if quote.implied_vol is None else f"{quote.implied_vol * 100:.4f}%"
    table.add_row("implied vol", implied, "", "" if inputs.price is None else
                  f"from {inputs.price:g}")
    table.add_row("delta", f"{quote.delta:.4f}", "", "")
    table.add_row("gamma", f"{quote.gamma:.6f}", "", "")
    table.add_row("vega", f"{quote.vega:,.4f}", f"{quote.vega_pct:,.4f}", "/1.00  /1%")
    table.add_row("theta", f"{quote.theta:,.4f}", f"{quote.theta_day:,.4f}", "/year  /day")
    table.add_row("rho", f"{quote.rho:,.4f}", f"{quote.rho_pct:,.4f}", "/1.00  /1%")
    table.add_row("", "", "", "")
    table.add_row("T", f"{inputs.years:.4f}", "", "years (days/365)")
    return table


class OptionCalculatorScreen(ModalScreen[None]):
    """Black-Scholes-Merton price, Greeks and implied volatility of one European option."""

    CSS_PATH = str(files("themes") / "option_calculator.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="options.close"),
    ]

    def __init__(self, values: Mapping[str, str] | None = None,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__()
        self.values = {**DEFAULTS, **(values or {})}
        self.today = today
        self._asked = 0
        self.shown: Answer | None = None  # the answer on screen (tests read it)

    def compose(self) -> ComposeResult:
        with Vertical(id="option-dialog", classes="dialog"):
            yield Label("Options calculator · Black-Scholes-Merton", classes="dialog-title")
            with Horizontal(id="option-body"):
                with Grid(id="option-inputs"):
                    for name in FIELDS:
                        yield Label(LABELS[name], classes="option-label")
                        yield Input(self.values[name], placeholder=PLACEHOLDERS.get(name, ""),
                                    id=f"option-{name}", compact=True)
                yield Static(id="option-results")
            yield Label("", id="option-error")
            yield Label("tab next field · escape close · rates continuous, vol annualized",
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self._reprice()

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._reprice()

    def _reprice(self) -> None:
        self._asked += 1
        raw = {name: self.query_one(f"#option-{name}", Input).value for name in FIELDS}
        self._price(self._asked, raw, self.today())

    @work(thread=True, exit_on_error=False, group="option-calculator",
          description="pricing an option")
    def _price(self, asked: int, raw: dict[str, str], today: date) -> None:
        try:
            inputs = parse_option_inputs(raw, today)
            answer = Answer(asked, inputs, price_option(inputs), "")
        except DeskError as error:
            answer = Answer(asked, None, None, str(error))
        self.app.call_from_thread(self._show, answer)

    def _show(self, answer: Answer) -> None:
        if answer.asked != self._asked or not self.is_attached:
            return  # a newer keystroke is being priced
        self.shown = answer
        results = self.query_one("#option-results", Static)
        error = self.query_one("#option-error", Label)
        if answer.inputs is None or answer.quote is None:
            results.update("")
            error.update(answer.error)
            return
        error.update("")
        results.update(results_table(answer.inputs, answer.quote))

    def action_close(self) -> None:
        self.dismiss(None)
