"""Pilot tests: the keys reach the engine control, and snapshots reach the panes."""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal

from textual.widgets import DataTable

from desk.app import DeskApp
from desk.messages import SnapshotPublished
from desk.screens.confirm import ConfirmScreen
from desk.screens.details import DetailsScreen
from desk.screens.help import HelpScreen
from desk.screens.main import PANES
from desk.widgets.keyed_table import KeyedTable
from desk.widgets.pane import Pane
from tests.desk.builders import NOW, RecordingControl, position, snapshot

SIZE = (80, 24)


def make_app(control: RecordingControl, **kwargs) -> DeskApp:
    return DeskApp(control, clock=lambda: NOW, **kwargs)


def table(app: DeskApp, table_id: str) -> KeyedTable:
    return app.main.query_one(f"#{table_id}", KeyedTable)


async def test_first_frame_shows_the_latest_snapshot():
    app = make_app(RecordingControl())
    async with app.run_test(size=SIZE):
        positions = table(app, "positions-table")
        assert [str(cell) for cell in positions.get_row("BTC/USDT")[:3]] == [
            "BTC/USDT", "long", "0.25"
        ]
        assert str(positions.get_row("BTC/USDT")[5]) == "+362.62"
        assert table(app, "proposals-table").get_row("desk-0008-eth-sell")[4].plain == "0:40"


async def test_a_approves_the_oldest_proposal_when_none_was_chosen():
    control = RecordingControl()
    async with make_app(control).run_test(size=SIZE) as pilot:
        await pilot.press("a")
    assert control.calls == [("approve", "desk-0007-btc-buy")]


async def test_a_approves_the_proposal_under_the_cursor():
    control = RecordingControl()
    async with make_app(control).run_test(size=SIZE) as pilot:
        await pilot.press("2", "down", "a")
    assert control.calls == [("approve", "desk-0008-eth-sell")]


async def test_r_rejects_and_a_refusal_is_shown():
    control = RecordingControl(refusal="order desk-0007-btc-buy expired")
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
    assert control.calls == [("reject", "desk-0007-btc-buy")]
    assert messages == ["order desk-0007-btc-buy expired"]


async def test_approve_with_no_proposals_calls_nothing():
    control = RecordingControl(current=snapshot(proposals=()))
    async with make_app(control).run_test(size=SIZE) as pilot:
        await pilot.press("a", "r")
    assert control.calls == []


async def test_c_then_y_cancels_the_selected_execution():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "c")
        assert isinstance(app.screen, ConfirmScreen)
        assert "twap-0003" in app.screen.question
        await pilot.press("y")
        assert not isinstance(app.screen, ConfirmScreen)
    assert control.calls == [("cancel", "twap-0003")]


async def test_c_then_n_or_escape_does_not_cancel():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "c", "n", "c", "escape")
        assert not isinstance(app.screen, ConfirmScreen)
    assert control.calls == []


async def test_c_does_not_offer_to_cancel_a_finished_execution():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "down", "c")  # the second row is a finished market order
        assert not isinstance(app.screen, ConfirmScreen)
    assert control.calls == []


async def test_ctrl_k_and_y_turns_the_kill_switch_on_and_the_risk_pane_says_so():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+k")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y", "6")
        banner = app.main.query_one("#kill-switch")
        assert banner.has_class("-on")
        await pilot.press("ctrl+k", "n")
    assert control.calls == [("set_kill_switch", True)]


async def test_p_pauses_then_resumes_the_feed():
    control = RecordingControl()
    async with make_app(control).run_test(size=SIZE) as pilot:
        await pilot.press("p", "p")
    assert control.calls == [("set_paused", True), ("set_paused", False)]


async def test_number_keys_and_tab_move_between_panes():
    app = make_app(RecordingControl())
    async with app.run_test(size=SIZE) as pilot:

        def shown() -> list[int]:
            return [pane.number for pane in app.main.query(Pane) if pane.display]

        assert shown() == [1]
        for number in range(1, 8):
            await pilot.press(str(number))
            assert shown() == [number]
            assert app.focused is app.main.pane(number).focus_target
        await pilot.press("tab")  # on to the pane after 7 in the registry
        assert shown() == [PANES[7].number]
        await pilot.press("1", "shift+tab")  # back round to the last one
        assert shown() == [PANES[-1].number]


async def test_wide_terminal_shows_every_pane():
    app = make_app(RecordingControl())
    async with app.run_test(size=(160, 48)) as pilot:
        # Every grid pane; a pane outside the grid (Market) waits for its key.
        assert all(pane.display and pane.region.width for pane in app.main.query(Pane)
                   if pane.grid)
        assert not app.main.query_one("#pane-11").region.width
        await pilot.resize_terminal(80, 24)
        assert [pane.number for pane in app.main.query(Pane) if pane.display] == [1]


async def test_question_mark_lists_every_key():
    app = make_app(RecordingControl())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        described = {binding.key for binding in app.screen.bindings}
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
    expected = {"a", "r", "c", "enter", "p", "tab", "shift+tab", "question_mark", "q", "ctrl+k"}
    assert expected | {str(n) for n in range(1, 8)} | {"ctrl+p"} <= described


async def test_enter_opens_the_details_of_the_selected_row():
    app = make_app(RecordingControl())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "enter")
        assert isinstance(app.screen, DetailsScreen)
        rows = dict(app.screen.details.rows)
        assert rows["id"] == "twap-0003"
        assert rows["arrival price"] == "171.05"
        await pilot.press("escape", "7", "enter")
        assert dict(app.screen.details.rows)["seq"] == "1208"  # the tail is followed


async def test_publish_from_another_thread_updates_the_panes():
    control = RecordingControl()
    app = make_app(control)
    posted: list[SnapshotPublished] = []

    def hook(message) -> None:
        if isinstance(message, SnapshotPublished):
            posted.append(message)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        newer = snapshot(positions=(position("BTC/USDT", "0.5", "66800.00"),))
        thread = threading.Thread(target=app.publish, args=(newer,))
        thread.start()
        thread.join()
        await pilot.pause()
        positions = table(app, "positions-table")
        assert positions.row_count == 1
        assert str(positions.get_row("BTC/USDT")[2]) == "0.5"
    assert posted and posted[-1].snapshot is newer


async def test_auto_approval_mode_is_labelled():
    control = RecordingControl(current=snapshot(approval_mode="auto"))
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        caption = app.main.query_one("#proposals-caption")
        assert "AUTO" in str(caption.render())
        assert caption.has_class("-auto")


async def test_q_quits():
    app = make_app(RecordingControl())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_themes_resolve_the_domain_colours_and_a_switch_recolours_cells():
    app = make_app(RecordingControl())
    async with app.run_test(size=SIZE) as pilot:
        cell = table(app, "positions-table").get_row("BTC/USDT")[5]
        dark = cell.style.color
        app.theme = "desk-light"
        await pilot.pause()
        light = table(app, "positions-table").get_row("BTC/USDT")[5].style.color
        assert {"profit", "loss", "bid", "ask"} <= set(app.theme_variables)
        assert app.theme_variables["profit"] == "#1B7F3B"
    assert dark is not None and light is not None and dark != light


async def test_a_crash_calls_the_hook_and_exits_without_a_traceback(capsys):
    class Exploding(RecordingControl):
        def approve(self, order_id: str) -> str:
            secret = "api-key-123"  # a local a default traceback would print
            raise RuntimeError(f"engine gone ({len(secret)})")

    crashes: list[BaseException] = []
    app = make_app(Exploding(), on_crash=crashes.append)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await pilot.pause()
    assert [type(e) for e in crashes] == [RuntimeError]
    assert app.return_code == 1
    printed = capsys.readouterr().err
    assert "Desk stopped after an unexpected error: RuntimeError: engine gone" in printed
    assert "api-key-123" not in printed and "Traceback" not in printed


async def test_rows_update_in_place_and_the_cursor_stays():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down")
        positions = table(app, "positions-table")
        moved = replace(control.current.positions[0], last=Decimal("70000"))
        app.publish(snapshot(positions=(moved, *control.current.positions[1:])))
        await pilot.pause()
        assert positions.cursor_row == 2
        assert str(positions.get_row("BTC/USDT")[4]) == "70,000.00"
        assert isinstance(positions, DataTable)


async def test_the_command_palette_offers_the_desk_actions():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        commands = {c.title: c.callback for c in app.get_system_commands(app.screen)}
        assert {"Approve", "Reject", "Cancel execution", "Kill switch", "Pause / resume feed",
                "Details", "Keys", "Go to Risk"} <= set(commands)
        commands["Approve"]()
        commands["Go to Risk"]()
        await pilot.pause()
        assert app.main.active == 6
    assert control.calls == [("approve", "desk-0007-btc-buy")]


async def test_a_dead_engine_shows_within_a_second_and_q_still_quits():
    control = RecordingControl()
    app = make_app(control)
    async with app.run_test(size=SIZE) as pilot:
        control.stopped = "StoreError: desk.db: database or disk is full"
        await pilot.pause(1.0)
        from desk.screens.stopped import EngineStoppedScreen

        assert isinstance(app.screen, EngineStoppedScreen)
        assert "database or disk is full" in str(app.screen.query_one("#stopped-reason").render())
        status = str(app.main.query_one("#status-bar").render())
        assert "ENGINE STOPPED: StoreError" in status
        # A snapshot arriving late must not bring back a live-looking picture.
        app.post_message(SnapshotPublished(control.current))
        await pilot.pause(0.3)
        assert app.snapshot is not None and app.snapshot.engine_stopped
        await pilot.press("escape")
        await pilot.press("7")
        await pilot.pause(0.3)
        chain = str(app.main.query_one("#chain-status").render())
        assert "NOT CHECKED" in chain and "OK" not in chain
        await pilot.press("q")
    assert app.return_code in (0, None)
