"""The real `desk` command in a pseudo-terminal at 80x24: wait for the panes, approve a
proposed order with `a`, quit with `q`, and find it all in SQLite and a verified chain."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.desk.terminal import Terminal, audit_kinds, wait_for

CONFIG = """
[feed]
speed = 900.0          # 15 one-minute bars a second: a proposal comes within seconds
history_bars = 300

[engine]
approval = "manual"
approval_timeout = 120
"""


def test_desk_in_a_terminal_approves_an_order_and_quits_cleanly(tmp_path):
    (tmp_path / "desk.toml").write_text(CONFIG)
    db = tmp_path / "desk.db"
    env = dict(os.environ, TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"), COLUMNS="80", LINES="24")
    desk = [sys.executable, "-m", "desk.cli", "--db", str(db)]
    terminal = Terminal(desk, env, tmp_path)
    try:
        wait_for(lambda: "Positions" in terminal.screen_text(), 20, "the panes")
        wait_for(lambda: "order.proposed" in audit_kinds(db), 60, "a proposed order")
        terminal.press("2")
        time.sleep(0.5)
        terminal.press("a")
        wait_for(lambda: "order.filled" in audit_kinds(db), 20, "the approved order's fill")
        terminal.press("q")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    kinds = audit_kinds(db)
    assert kinds[:2] == ["config.loaded", "engine.started"]
    assert kinds.index("order.approved") < kinds.index("order.filled")
    assert kinds[-1] == "engine.stopped"
    verify = subprocess.run(desk + ["audit", "verify"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{len(kinds)} entries valid" in verify.stdout
