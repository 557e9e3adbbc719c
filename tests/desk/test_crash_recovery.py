"""SIGKILL in the middle of a DCA session, then a restart: the session resumes, every part
is placed exactly once, every fill is recorded once, and the audit chain verifies.

Both against the paper broker and against a fake exchange in its own process (which, like
a real exchange, survives the desk's death and records every client order id it sees).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path

from tests.desk.terminal import Terminal, audit_kinds, wait_for

DCA = """
[engine]
approval = "auto"
regime = false

# One quick strategy, so that a session starts within seconds.
[ensemble]
enabled = false

[[ensemble.strategies]]
id = "sma_cross"
weight = 1.0

[strategies.sma_cross]
fast = 3
slow = 8

[execution]
mode = "dca"
catch_up = "{catch_up}"

[execution.dca]
interval_minutes = {interval}
parts = 5
"""

PAPER = """
[feed]
speed = 300.0          # five one-minute bars a second
history_bars = 300
""" + DCA.format(interval=10.0, catch_up="skip")

EXCHANGE = """
[feed]
kind = "ccxt"
symbols = ["BTC/USDT"]
speed = 120.0          # poll twice a second; the fake exchange closes a bar every 0.5 s
history_bars = 300

[broker]
kind = "ccxt"
exchange = "binance"
sandbox = false
""" + DCA.format(interval=4.0, catch_up="run")  # the exchange's clock runs on while down


def _rows(db: Path, sql: str, *args) -> list[tuple]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []


def _session_mid_way(db: Path) -> str | None:
    """A running session with at least two parts filled and at least two still pending."""
    rows = _rows(db, "SELECT s.id, SUM(p.status = 'filled'), SUM(p.status = 'pending')"
                     " FROM execution_sessions s JOIN execution_parts p ON p.session_id = s.id"
                     " WHERE s.status = 'running' GROUP BY s.id")
    return next((sid for sid, filled, pending in rows if filled >= 2 and pending >= 2), None)


def _status(db: Path, session_id: str) -> str:
    rows = _rows(db, "SELECT status FROM execution_sessions WHERE id = ?", session_id)
    return rows[0][0] if rows else ""


def _desk(tmp_path: Path, env: dict) -> Terminal:
    return Terminal([sys.executable, "-m", "desk.cli", "--db", str(tmp_path / "desk.db")], env,
                    tmp_path)


def _kill(terminal: Terminal) -> None:
    os.killpg(terminal.process.pid, signal.SIGKILL)
    terminal.process.wait(timeout=10)


def _quit(terminal: Terminal) -> None:
    terminal.press("q")
    assert terminal.process.wait(timeout=30) == 0


def _crash_and_resume(tmp_path: Path, env: dict, *, may_skip: bool) -> str:
    db = tmp_path / "desk.db"
    first = _desk(tmp_path, env)
    try:
        session = wait_for(lambda: _session_mid_way(db), 90, "a DCA session half done")
        _kill(first)
    finally:
        if first.process.poll() is None:
            first.process.kill()
    assert _status(db, session) == "running"
    kinds_at_crash = audit_kinds(db)
    assert "engine.stopped" not in kinds_at_crash  # it really died

    second = _desk(tmp_path, env)
    try:
        wait_for(lambda: _status(db, session) in ("done", "failed", "cancelled"), 120,
                 "the resumed session to finish")
        _quit(second)
    finally:
        if second.process.poll() is None:
            second.process.kill()
    assert _status(db, session) == "done"
    kinds = audit_kinds(db)
    assert kinds[: len(kinds_at_crash)] == kinds_at_crash
    assert "session.resumed" in kinds[len(kinds_at_crash):]
    assert kinds[-1] == "engine.stopped"
    parts = _rows(db, "SELECT part_no, status, qty, filled_qty, attempt FROM execution_parts"
                      " WHERE session_id = ? ORDER BY part_no", session)
    assert [p[0] for p in parts] == [1, 2, 3, 4, 5]
    filled = [p for p in parts if p[1] == "filled"]
    skipped = [p for p in parts if p[1] == "skipped"]
    assert len(filled) + len(skipped) == 5, parts
    assert all(Decimal(qty) == Decimal(done) and attempt == 1
               for _, _, qty, done, attempt in filled), parts
    assert may_skip or not skipped, parts
    children = _rows(db, "SELECT client_order_id FROM orders WHERE session_id = ?", session)
    assert len(children) == len(filled), children  # one child per placed part, none twice
    fills = _rows(db, "SELECT trade_id, client_order_id, qty FROM fills WHERE client_order_id"
                      " LIKE ?", session + "-%")
    assert len({t for t, _, _ in fills}) == len(fills)
    assert {c for _, c, _ in fills} == {c for (c,) in children}
    # Every placed part filled exactly once over: the fills add up to the parts.
    assert sum(Decimal(q) for _, _, q in fills) == sum(Decimal(p[3]) for p in filled)
    verify = subprocess.run([sys.executable, "-m", "desk.cli", "--db", str(db), "audit",
                             "verify"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return session


def exchange_desk_env(tmp_path: Path, rest: str) -> dict:
    """The environment of a desk trading on the fake exchange at `rest`, whose (fake) keys
    are stored in the vault of `tmp_path/desk.db`."""
    urls = {"public": f"{rest}/api/v3", "private": f"{rest}/api/v3", "v1": f"{rest}/api/v1"}
    env = _env(tmp_path, DESK_VAULT_PASSPHRASE="correct horse battery",
               DESK_CCXT_URLS=json.dumps(urls))
    keys = subprocess.run([sys.executable, "-m", "desk.cli", "--db", str(tmp_path / "desk.db"),
                           "keys", "set", "binance"], input="test-key\ntest-secret\n\n",
                          env=env, cwd=tmp_path, capture_output=True, text=True)
    assert keys.returncode == 0, keys.stderr
    return env


def _env(tmp_path: Path, **extra: str) -> dict:
    return dict(os.environ, TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path / "config"),
                XDG_DATA_HOME=str(tmp_path / "data"), **extra)


def test_a_dca_session_survives_sigkill_on_the_paper_broker(tmp_path):
    (tmp_path / "desk.toml").write_text(PAPER)
    # The simulated market restarts at the wall clock, so no part falls due while down.
    _crash_and_resume(tmp_path, _env(tmp_path), may_skip=False)


def test_a_dca_session_survives_sigkill_on_an_exchange(tmp_path, fake_exchange):
    (tmp_path / "desk.toml").write_text(EXCHANGE)
    env = exchange_desk_env(tmp_path, fake_exchange)
    session = _crash_and_resume(tmp_path, env, may_skip=False)
    with urllib.request.urlopen(f"{fake_exchange}/_admin/state") as response:
        state = json.load(response)
    sent = {cid: n for cid, n in state["received"].items() if cid.startswith(session)}
    assert len(sent) == 5 and set(sent.values()) == {1}, sent  # each part reached it once
