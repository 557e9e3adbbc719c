"""The options calculator screen: opened from the command palette, re-priced on every
keystroke, one line naming a bad field, and a picture at 80x24."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Input, Label

from desk.app import DeskApp
from desk.screens.option_calculator import OptionCalculatorScreen
from engine.instruments.black_scholes import black_scholes
from tests.desk.builders import NOW, RecordingControl, snapshot
from themes import DOMAIN_VARIABLE_DEFAULTS, STYLESHEET, THEMES

SIZE = (80, 24)
HULL = {"type": "call", "spot": "42", "strike": "40", "expiry": "0.5", "rate": "0.10",
        "vol": "0.20", "div": "0"}


def desk() -> DeskApp:
    return DeskApp(RecordingControl(current=snapshot()), clock=lambda: NOW)


class CalculatorAlone(App[None]):
    """The calculator with the desk's stylesheet and theme over an empty screen: its
    pictures change when the calculator does, not when a pane behind it does."""

    CSS_PATH = STYLESHEET

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__()
        self.values = values
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "desk-dark"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return DOMAIN_VARIABLE_DEFAULTS

    def on_mount(self) -> None:
        self.push_screen(OptionCalculatorScreen(self.values, today=lambda: NOW.date()))


async def settle(pilot) -> None:
    """Let the pricing worker finish and its answer reach the screen."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def still(pilot) -> None:
    """Settled, with a steady cursor: a blinking one makes two pictures of one state differ."""
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await settle(pilot)


async def replace_text(pilot, screen: OptionCalculatorScreen, field: str, text: str) -> None:
    box = screen.query_one(f"#option-{field}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await settle(pilot)


async def test_the_command_palette_opens_the_calculator_and_escape_closes_it():
    app = desk()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Options calculator")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OptionCalculatorScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OptionCalculatorScreen)


async def test_typing_reprices_to_the_textbook_values():
    app = desk()
    async with app.run_test(size=SIZE) as pilot:
        screen = OptionCalculatorScreen()
        await app.push_screen(screen)
        await settle(pilot)
        for field, text in HULL.items():
            await replace_text(pilot, screen, field, text)
        call = screen.shown.quote
        await replace_text(pilot, screen, "type", "put")
        put = screen.shown.quote

    expected = black_scholes(True, 42, 40, 0.5, 0.10, 0.20)
    assert round(call.price, 2) == 4.76 and round(put.price, 2) == 0.81
    assert (call.price, call.delta, call.vega, call.theta) == (
        float(expected.price), float(expected.delta), float(expected.vega),
        float(expected.theta))


async def test_a_market_price_gives_the_implied_volatility():
    app = desk()
    async with app.run_test(size=SIZE) as pilot:
        screen = OptionCalculatorScreen({**HULL, "vol": ""})
        await app.push_screen(screen)
        await settle(pilot)
        await replace_text(pilot, screen, "price", "4.7594")

        assert screen.shown.quote.implied_vol == pytest.approx(0.20, abs=1e-4)


@pytest.mark.parametrize(("field", "text", "error"), [
    ("spot", "abc", "spot: expected a number > 0, got 'abc'"),
    ("type", "straddle", "type: expected call or put, got 'straddle'"),
    ("price", "45", "price 45: price is at or above the no-arbitrage upper bound "
                    "(S e^-qT for a call, K e^-rT for a put)"),
])
async def test_a_bad_field_is_one_line_naming_it_and_no_numbers(field, text, error):
    app = desk()
    async with app.run_test(size=SIZE) as pilot:
        screen = OptionCalculatorScreen(HULL)
        await app.push_screen(screen)
        await settle(pilot)
        await replace_text(pilot, screen, field, text)

        assert screen.shown.quote is None
        assert str(screen.query_one("#option-error", Label).render()) == error


def test_calculator_snapshot_small_terminal(snap_compare):
    """80x24: the calculator, centred. Inputs on the left (Hull's example: call,
    S 42, K 40, 0.5 years, r 10 %, market price 4.76); on the right price 4.7600, implied
    vol 20.0066 % from 4.76, delta, gamma, vega 8.8148 per 1.00 and 0.0881 per 1 %, theta
    per year and per day, rho, and T in years; the key hint at the bottom."""
    app = CalculatorAlone({**HULL, "vol": "", "price": "4.76"})
    assert snap_compare(app, terminal_size=SIZE, run_before=still)


def test_calculator_snapshot_wide_terminal(snap_compare):
    """160x48: the same dialog, centred and no wider, a put this time (S 42, K 40, 0.5
    years, r 10 %, vol 20 %): price 0.8086, implied vol "—" (no market price), delta
    -0.2209, theta and rho negative."""
    app = CalculatorAlone({**HULL, "type": "put"})
    assert snap_compare(app, terminal_size=(160, 48), run_before=still)
