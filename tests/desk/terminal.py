"""Running the real `desk` command as a user would: on a pseudo-terminal, with its output
drained on a thread, and reading its database from outside."""

from __future__ import annotations

import fcntl
import os
import pty
import sqlite3
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path


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


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def audit_kinds(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return [k for (k,) in conn.execute("SELECT kind FROM audit_entries ORDER BY seq")]
    except sqlite3.OperationalError:
        return []  # the schema is still being created


# A desk that trades within seconds: ten one-minute bars a second, auto approval.
QUICK_AUTO = """
[feed]
speed = 600.0
history_bars = 300

[engine]
approval = "auto"
"""


def desk_env(tmp_path: Path, **extra: str) -> dict:
    """The environment of a `desk` run by a test: its own XDG folders, a real terminal."""
    return dict(os.environ, TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path / "config"),
                XDG_DATA_HOME=str(tmp_path / "data"), **extra)


def desk_command(db: Path) -> list[str]:
    import sys

    return [sys.executable, "-m", "desk.cli", "--db", str(db)]
