"""The real `desk` in a pseudo-terminal at 80x24: open the order ticket with `o`, buy
0.01 BTC/USDT, see it fill (the only fill: engine proposals wait for approval), quit, and
find the order journaled as the user's in a chain that verifies."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time

from tests.desk.terminal import Terminal, audit_kinds, desk_command, desk_env, wait_for

CONFIG = """
[feed]
speed = 600.0
history_bars = 300

[engine]
approval = "manual"
approval_timeout = 600
"""


def _entries(db, kind: str) -> list[tuple[str, dict]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return [(actor, json.loads(payload)) for actor, payload in conn.execute(
                "SELECT actor, payload FROM audit_entries WHERE kind = ? ORDER BY seq",
                (kind,))]
    except sqlite3.OperationalError:
        return []


def test_open_the_ticket_buy_and_see_it_fill(tmp_path):
    (tmp_path / "desk.toml").write_text(CONFIG)
    db = tmp_path / "desk.db"
    env = desk_env(tmp_path, COLUMNS="80", LINES="24")
    terminal = Terminal(desk_command(db), env, tmp_path)
    try:
        wait_for(lambda: "Positions" in terminal.screen_text(), 30, "the panes")
        wait_for(lambda: "engine.started" in audit_kinds(db), 30, "the engine")
        terminal.press("o")
        wait_for(lambda: "Order ticket" in terminal.screen_text(), 10, "the ticket")
        terminal.press("0.01")
        time.sleep(0.3)
        terminal.press("\r")
        manual = wait_for(lambda: _entries(db, "order.manual"), 20, "the manual order")
        fills = wait_for(lambda: _entries(db, "order.filled"), 30, "its fill")
        terminal.press("q")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    (actor, order), = manual
    assert actor == "user" and order["symbol"] == "BTC/USDT" and order["side"] == "buy"
    assert order["qty"] == "0.01" or float(order["qty"]) == 0.01
    assert fills[0][1]["symbol"] == "BTC/USDT" and float(fills[0][1]["qty"]) == 0.01
    verify = subprocess.run(desk_command(db) + ["audit", "verify"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
