"""The desk's Textual app: renders engine snapshots and sends the trader's decisions back.

The engine runs in its own thread and calls `publish`; everything else happens in the UI
thread. Actions go through `EngineControl`, whose calls are quick and thread-safe, so a key
never waits on the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from desk.messages import SnapshotPublished
from desk.screens.confirm import ConfirmScreen
from desk.screens.main import PANES, MainScreen
from desk.screens.stopped import EngineStoppedScreen
from engine.live.snapshot import EngineControl, Snapshot
from themes import DOMAIN_VARIABLE_DEFAULTS, STYLESHEET, THEMES

CLOCK_TICK_SECONDS = 1.0  # proposal countdowns move once a second
HEALTH_CHECK_SECONDS = 0.5  # a stopped engine shows within a second
# Snapshots may arrive many times a second; the panes redraw at most this often, always
# from the newest one, so a busy feed never queues work in front of a keypress.
RENDER_INTERVAL_SECONDS = 0.25


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class DeskApp(App[None]):
    CSS_PATH = STYLESHEET
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", priority=True, id="desk.quit", tooltip="Quit the desk"),
        Binding(
            "ctrl+k", "toggle_kill_switch", "Kill", priority=True, id="desk.kill_switch",
            tooltip="Turn the kill switch on or off (asks first)",
        ),
    ]

    def __init__(
        self,
        control: EngineControl,
        *,
        theme: str = "desk-dark",
        title: str = "Desk",
        on_crash: Callable[[BaseException], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.control = control
        self.on_crash = on_crash
        self.clock = clock or _wall_clock
        self.title = title
        self.snapshot: Snapshot | None = None
        self._main: MainScreen | None = None
        self._render_pending = False
        self._last_render = 0.0
        for desk_theme in THEMES:
            self.register_theme(desk_theme)
        self.theme = theme

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return DOMAIN_VARIABLE_DEFAULTS

    def get_default_screen(self) -> Screen:
        return self.main

    @property
    def main(self) -> MainScreen:
        if self._main is None:
            self._main = MainScreen()
        return self._main

    def on_mount(self) -> None:
        # The first frame's data: MainScreen renders this once its panes exist.
        self.snapshot = self.control.latest_snapshot()
        self.set_interval(CLOCK_TICK_SECONDS, self._tick)
        self._health = self.set_interval(HEALTH_CHECK_SECONDS, self._check_engine)
        self.theme_changed_signal.subscribe(self, self._restyle)

    # Snapshots ----------------------------------------------------------------------------
    def publish(self, snapshot: Snapshot) -> None:
        """Hand over a new snapshot; safe to call from any thread."""
        self.post_message(SnapshotPublished(snapshot))

    def on_snapshot_published(self, message: SnapshotPublished) -> None:
        if self.snapshot is not None and self.snapshot.engine_stopped:
            return  # the stopped picture stays
        self.snapshot = message.snapshot
        if self._render_pending:
            return  # the pending redraw will show this newer snapshot
        self._render_pending = True
        wait = self._last_render + RENDER_INTERVAL_SECONDS - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._render_newest)
        else:
            self.call_later(self._render_newest)

    def _render_newest(self) -> None:
        self._render_pending = False
        if self.snapshot is not None:
            self.render_snapshot(self.snapshot)

    def render_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._last_render = time.monotonic()
        if self.main.ready:
            self.main.show(self.title, snapshot, self.clock())

    def _check_engine(self) -> None:
        """The engine thread publishes nothing once it has died: ask it, and if it has,
        freeze the last picture with a red line and say why in a modal."""
        reason = self.control.failure()
        if not reason:
            return
        self._health.stop()
        self.render_snapshot(replace(self.snapshot or self.control.latest_snapshot(),
                                     engine_stopped=reason))
        self.push_screen(EngineStoppedScreen(reason))

    def _tick(self) -> None:
        """Once a second: the wall clock in the status line and the proposals' countdown."""
        if self.snapshot is None or not self.main.ready:
            return
        now = self.clock()
        self.main.status_bar.show(self.title, self.snapshot, now)
        if self.snapshot.proposals:
            self.main.signals.show(self.snapshot, now)

    def _restyle(self, _theme: object) -> None:
        for pane in self.main.query("Pane"):
            pane.restyle()  # type: ignore[attr-defined]
        if self.snapshot is not None:
            self.render_snapshot(self.snapshot)

    def after_action(self, reason: str, done: str = "") -> None:
        """Show why an action was refused, if it was (else `done`, a short confirmation),
        and the state it left behind."""
        if reason:
            self.notify(reason, severity="warning")
        elif done:
            self.notify(done, timeout=4)
        # The status line and the pane in front show the effect at once; the rest follows
        # with the next regular redraw.
        self.snapshot = self.control.latest_snapshot()
        if self.main.ready:
            self.main.show_front(self.title, self.snapshot, self.clock())
        self.post_message(SnapshotPublished(self.snapshot))

    # Actions ------------------------------------------------------------------------------
    def action_toggle_kill_switch(self) -> None:
        if isinstance(self.screen, ConfirmScreen):
            return  # already asking
        risk = self.control.latest_snapshot().risk
        turn_on = not (risk is not None and risk.kill_switch)

        def answer(yes: bool | None) -> None:
            if yes:
                self.control.set_kill_switch(turn_on)
                self.after_action("", "Kill switch ON: no new orders" if turn_on
                                  else "Kill switch off: orders allowed again")

        question = (
            "Turn the kill switch ON? No new orders will be sent."
            if turn_on
            else "Turn the kill switch off and allow new orders?"
        )
        self.push_screen(ConfirmScreen(question), answer)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            # Textual's own delivers to a downloads folder that may not exist, and fails
            # without saying where it tried: ours saves here and says where.
            if command.title != "Screenshot":
                yield command
        yield SystemCommand("Screenshot", "Save an SVG picture of the screen in the current "
                            "folder", lambda: self.set_timer(0.1, self.action_save_screenshot))
        main = self.main
        yield SystemCommand("Approve", "Approve the selected proposed order", main.action_approve)
        yield SystemCommand("Approve as DCA", "Approve the selected order, executed as a DCA",
                            main.action_approve_dca)
        yield SystemCommand("Reject", "Reject the selected proposed order", main.action_reject)
        yield SystemCommand("Cancel execution", "Cancel the selected execution", main.action_cancel)
        yield SystemCommand("Kill switch", "Turn the kill switch on or off",
                            self.action_toggle_kill_switch)
        yield SystemCommand("Pause / resume feed", "Pause or resume the feed", main.action_pause)
        yield SystemCommand("Details", "Details of the selected row", main.action_details)
        yield SystemCommand("Keys", "Every key the desk answers to", main.action_help)
        yield SystemCommand("Reset strategy weights", "Every strategy's adaptive weight back "
                            "to base (asks first; journaled)",
                            main.query_one("#pane-8").action_reset_weights)
        yield SystemCommand("Options calculator", "Black-Scholes-Merton price, Greeks and "
                            "implied volatility of an option", self.action_options_calculator)
        for pane in PANES:
            yield SystemCommand(
                f"Go to {pane.title}", f"Show pane {pane.number}",
                lambda number=pane.number: main.action_show_pane(number),
            )

    def action_save_screenshot(self) -> None:
        """An SVG of the screen in the current folder; the notification names the file."""
        from desk.commands.output_paths import OutputPathError, write_atomically

        path = Path.cwd() / f"desk-{_wall_clock():%Y%m%d-%H%M%S}.svg"
        try:
            write_atomically(path, self.export_screenshot(), option="screenshot")
        except OutputPathError as error:
            self.notify(f"Screenshot not saved: {error}", severity="error", timeout=8)
            return
        self.notify(f"Screenshot saved to {path}", title="Screenshot", timeout=8)

    def action_options_calculator(self) -> None:
        from desk.screens.option_calculator import OptionCalculatorScreen

        self.push_screen(OptionCalculatorScreen(today=lambda: self.clock().date()))

    # Crashes ------------------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        # Textual's default report is a traceback with local variables, which may hold keys
        # or account data. Let the owner save state first, then leave with a short message.
        saved = "State was saved."
        if self.on_crash is not None:
            try:
                self.on_crash(error)
            except Exception as hook_error:  # a failing hook must not hide the crash
                saved = f"Saving state also failed ({type(hook_error).__name__})."
        else:
            saved = ""
        self._return_code = 1
        self._exception_event.set()  # stop a test pilot waiting on the closed message queue
        message = (
            f"Desk stopped after an unexpected error: {type(error).__name__}: {error}. "
            f"{saved} The audit log records what happened; restart with `desk` to resume."
        )
        self.panic(Text(message.replace("  ", " ")))
