"""The order ticket and `x`: what the trader types reaches the engine as a ticket; a
refusal stays in the ticket with its reasons; and, over the real engine, a denied order
shows the risk gate's reasons while an accepted one fills and is journaled as the user's."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from desk.app import DeskApp
from desk.screens.confirm import ConfirmScreen
from desk.screens.order_ticket import OrderTicketScreen
from engine.live.manual import OrderTicket
from tests.desk.builders import NOW, RecordingControl
from tests.live_engine import live_engine

SIZE = (80, 24)


def make_app(control) -> DeskApp:
    return DeskApp(control, clock=lambda: NOW)


async def _fill_ticket(pilot, amount: str) -> None:
    await pilot.press("o")
    await pilot.pause()
    for key in amount:
        await pilot.press(key)


async def test_o_sends_the_typed_ticket_and_says_it_went():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await _fill_ticket(pilot, "0.05")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, OrderTicketScreen)
        messages = [n.message for n in app._notifications]
    (name, ticket), = control.calls
    assert name == "place_order"
    assert ticket == OrderTicket("BTC/USDT", "buy", Decimal("0.05"))
    assert messages == ["Order manual-0001 sent: 0.05 (fills show in pane 4)"]


async def test_the_ticket_starts_on_the_market_panes_selected_symbol():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m", "down", "down")
        await _fill_ticket(pilot, "3")
        await pilot.press("enter")
    assert control.calls[0][1].symbol == "SOL/USDT"


async def test_a_refusal_stays_in_the_ticket_with_its_reasons():
    control = RecordingControl(refusal="kill switch on: manual kill switch")
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await _fill_ticket(pilot, "1")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicketScreen)
        shown = str(app.screen.query_one("#ticket-reasons").render())
    assert "Refused:" in shown and "kill switch on: manual kill switch" in shown


async def test_a_bad_amount_is_named_and_nothing_is_sent():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await _fill_ticket(pilot, "abc")
        await pilot.press("enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#ticket-reasons").render())
    assert "quantity: not a number: 'abc'" in shown and control.calls == []


async def test_x_closes_the_selected_position_after_asking():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "x")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.startswith("Close long 0.25 BTC/USDT at market")
        await pilot.press("y")
        await pilot.pause()
    (name, ticket), = control.calls
    assert ticket == OrderTicket("BTC/USDT", "sell", Decimal("0.25"), reduce_only=True)


async def test_x_elsewhere_than_positions_asks_for_a_position():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2", "x")
        assert not isinstance(app.screen, ConfirmScreen)
    assert control.calls == []


# -- over the real engine --------------------------------------------------------------------


def _audit(db) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, actor, payload FROM audit_entries ORDER BY seq"
                            ).fetchall()


async def test_end_to_end_a_denied_order_shows_the_gates_reasons(tmp_path):
    engine, _, _ = live_engine(tmp_path)
    engine.set_kill_switch(True)
    app = DeskApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await _fill_ticket(pilot, "0.01")
        await pilot.press("enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#ticket-reasons").render())
    engine.stop()
    assert "kill switch on" in shown
    kinds = [(kind, actor) for kind, actor, _ in _audit(tmp_path / "desk.db")]
    assert ("order.manual", "user") in kinds and ("risk.denied", "engine") in kinds
    assert not any(kind == "order.filled" for kind, _ in kinds)


async def test_end_to_end_an_accepted_order_fills_and_is_journaled_as_the_users(tmp_path):
    engine, _, _ = live_engine(tmp_path)
    app = DeskApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await _fill_ticket(pilot, "0.01")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, OrderTicketScreen)
        for _ in range(3):
            engine.step()  # the paper broker fills at the next bar's open
    held = {p.symbol: p.qty for p in engine.latest_snapshot().positions}
    engine.stop()
    assert held == {"BTC/USDT": Decimal("0.01")}
    entries = _audit(tmp_path / "desk.db")
    manual = [e for e in entries if e[0] == "order.manual"]
    assert len(manual) == 1 and manual[0][1] == "user" and '"strategy":"manual"' in manual[0][2]
    filled = [e for e in entries if e[0] == "order.filled"]
    assert len(filled) == 1 and '"symbol":"BTC/USDT"' in filled[0][2]
