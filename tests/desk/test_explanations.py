"""`enter` on a proposal opens the engine's explanation; with nothing proposed the Signals
pane says, per symbol, why."""

from __future__ import annotations

from desk.app import DeskApp
from desk.screens.details import DetailsScreen
from tests.desk.builders import NOW, RecordingControl, snapshot


async def test_enter_on_a_proposal_shows_the_engines_explanation_then_its_fields():
    control = RecordingControl()
    app = DeskApp(control, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "down", "enter")
        assert isinstance(app.screen, DetailsScreen)
        details = app.screen.details
    assert control.calls == [("explain", "desk-0008-eth-sell")]
    labels = [label for label, _ in details.rows]
    assert labels[:3] == ["── Ensemble ──", "decision", "  sma_cross"]
    assert "── Risk and compliance (now) ──" in labels and "── Proposal ──" in labels
    assert dict(details.rows)["  max_position"].endswith("headroom 0.2159")


async def test_nothing_proposed_says_why_per_symbol():
    idle = {"BTC/USDT": "already long as the signal says",
            "ETH/USDT": "last order denied: ETH/USDT position would be 12,000.00, above 25%",
            "SOL/USDT": "no signal change (ensemble HOLD)"}
    app = DeskApp(RecordingControl(current=snapshot(proposals=(), idle=idle)),
                  clock=lambda: NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        box = app.main.query_one("#idle-reasons")
        shown, text = box.display, str(box.render())
    assert shown and text.startswith("Nothing proposed:")
    for symbol, reason in idle.items():
        assert f"{symbol}  {reason}" in text


async def test_no_reasons_while_every_symbol_has_an_order_waiting():
    app = DeskApp(RecordingControl(current=snapshot(idle={"BTC/USDT": ""})),
                  clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        shown = app.main.query_one("#idle-reasons").display
    assert not shown
