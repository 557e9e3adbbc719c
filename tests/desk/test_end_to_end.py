"""The real `desk` command in a pseudo-terminal at 80x24: wait for the panes, approve a
proposed order with `a`, quit with `q`, and find it all in SQLite and a verified chain."""

from __future__ import annotations

import fcntl
import os
import pty
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

CONFIG = """
[feed]
speed = 900.0          # 15 one-minute bars a second: a proposal comes within seconds
history_bars = 300

[engine]
approval = "manual"
approval_timeout = 120
"""


class Terminal:
    """A child process on a pty whose output is drained on a thread (so it never blocks)."""

    def __init__(self, args: list[str], env: dict, cwd: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                                        env=env, cwd=cwd, start_new_session=True)
        os.close(slave)
        self.master = master
        self.output = bytearray()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def screen_text(self) -> str:
        return self.output.decode("utf-8", "replace")


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _kinds(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return [k for (k,) in conn.execute("SELECT kind FROM audit_entries ORDER BY seq")]
    except sqlite3.OperationalError:
        return []  # the schema is still being created


def test_desk_in_a_terminal_approves_an_order_and_quits_cleanly(tmp_path):
    (tmp_path / "desk.toml").write_text(CONFIG)
    db = tmp_path / "desk.db"
    env = dict(os.environ, TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), COLUMNS="80", LINES="24")
    desk = [sys.executable, "-m", "desk.cli", "--db", str(db)]
    terminal = Terminal(desk, env, tmp_path)
    try:
        _wait(lambda: "Positions" in terminal.screen_text(), 20, "the panes")
        _wait(lambda: "order.proposed" in _kinds(db), 60, "a proposed order")
        terminal.press("2")
        time.sleep(0.5)
        terminal.press("a")
        _wait(lambda: "order.filled" in _kinds(db), 20, "the approved order's fill")
        terminal.press("q")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    kinds = _kinds(db)
    assert kinds[:2] == ["config.loaded", "engine.started"]
    assert kinds.index("order.approved") < kinds.index("order.filled")
    assert kinds[-1] == "engine.stopped"
    verify = subprocess.run(desk + ["audit", "verify"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{len(kinds)} entries valid" in verify.stdout
