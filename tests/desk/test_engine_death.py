"""An engine that stops says so: another process holds the database's write lock longer
than the desk will wait, the engine's next write fails, and within a second or two the
desk shows a red line and a modal with the one-line reason; `q` exits 1 with one line,
`engine.crashed` is journaled once the store allows it, and the chain verifies."""

from __future__ import annotations

import sqlite3
import subprocess
import time

from tests.desk.terminal import (
    QUICK_AUTO,
    Terminal,
    audit_kinds,
    desk_command,
    desk_env,
    wait_for,
)

# The write lock is given up on after 0.2 s, so a lock held from outside stops the engine.
CONFIG = "[store]\nbusy_timeout_ms = 200\n" + QUICK_AUTO


def test_a_dead_engine_shows_at_once_and_q_exits_with_one_line(tmp_path):
    (tmp_path / "desk.toml").write_text(CONFIG)
    db = tmp_path / "desk.db"
    env = desk_env(tmp_path)
    desk = desk_command(db)
    terminal = Terminal(desk, env, tmp_path)
    try:
        wait_for(lambda: "order.filled" in audit_kinds(db), 60, "a first fill")
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # no other writer gets in
        try:
            started = time.monotonic()
            wait_for(lambda: "ENGINE STOPPED" in terminal.screen_text(), 10, "the red line")
            shown_after = time.monotonic() - started
            screen = terminal.screen_text()
            assert "database is locked" in screen
            assert "The engine stopped" in screen  # the modal
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        terminal.press("q")
        assert terminal.process.wait(timeout=30) == 1
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    assert shown_after < 5  # the step waits 0.2 s for the lock, the desk asks twice a second
    assert "Traceback" not in terminal.screen_text()
    kinds = audit_kinds(db)
    assert "engine.crashed" in kinds and kinds[-1] == "engine.stopped"
    verify = subprocess.run(desk + ["audit", "verify"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
