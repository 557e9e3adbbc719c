"""kill -9 while the exchange holds its answer to an order: the window between the intent
and the outcome.

The fake exchange (its own process, like a real venue that outlives the desk) creates the
order and fills it, then holds the HTTP answer for a minute. Read from outside while it
holds it, the database already has the order row and its `order.submitted` entry, and no
write lock is held (another writer gets in at once). After kill -9 and a restart with the
fault cleared, recovery finds the order by its client id and books its fill exactly once.

Three windows: a new DCA session's first child, a later part of a running session, and a
single market order under auto approval.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from tests.desk.terminal import audit_kinds, wait_for
from tests.desk.test_crash_recovery import (
    EXCHANGE,
    _desk,
    _kill,
    _quit,
    _rows,
    exchange_desk_env,
)

MARKET = EXCHANGE.replace('mode = "dca"', 'mode = "market"')


def _admin(rest: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{rest}/_admin/{path}", data=data,
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def _held_order(rest: str, known: set[str]) -> str | None:
    """A client order id the exchange received beyond `known` (its answer is held)."""
    received = _admin(rest, "state")["received"]
    return next((cid for cid in received if cid not in known), None)


def _write_lock_free(db: Path) -> bool:
    """Another writer gets SQLite's write lock at once while the broker call is open."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def _first_part_filled(db: Path) -> str | None:
    rows = _rows(db, "SELECT s.id FROM execution_sessions s JOIN execution_parts p"
                     " ON p.session_id = s.id WHERE s.status = 'running'"
                     " GROUP BY s.id HAVING SUM(p.status = 'filled') = 1"
                     " AND SUM(p.status = 'pending') >= 2")
    return rows[0][0] if rows else None


@pytest.mark.parametrize("window", ["first child", "later part", "market order"])
def test_kill_while_the_exchange_holds_the_answer_loses_nothing(tmp_path, fake_exchange,
                                                               window):
    exchange = fake_exchange
    (tmp_path / "desk.toml").write_text(MARKET if window == "market order" else EXCHANGE)
    db = tmp_path / "desk.db"
    env = exchange_desk_env(tmp_path, exchange)
    stall = {"accept_then_timeout": 1, "stall_s": 60.0}
    if window != "later part":
        _admin(exchange, "faults", stall)

    first = _desk(tmp_path, env)
    try:
        known: set[str] = set()
        if window == "later part":
            session = wait_for(lambda: _first_part_filled(db), 90, "a session's first fill")
            known = set(_admin(exchange, "state")["received"])
            _admin(exchange, "faults", stall)
        cid = wait_for(lambda: _held_order(exchange, known), 90, "an order the exchange holds")
        # The exchange created (and filled) the order and has not answered yet.
        intent = _rows(db, "SELECT status FROM orders WHERE client_order_id = ?", cid)
        assert intent == [("submitted",)], intent
        assert "order.submitted" in audit_kinds(db)
        assert _write_lock_free(db)
        _kill(first)
    finally:
        if first.process.poll() is None:
            first.process.kill()
    assert not _rows(db, "SELECT 1 FROM fills WHERE client_order_id = ?", cid)
    if window == "later part":
        assert cid.startswith(session)
    _admin(exchange, "faults", {"accept_then_timeout": 0, "stall_s": 2.0})

    second = _desk(tmp_path, env)
    try:
        wait_for(lambda: _rows(db, "SELECT 1 FROM fills WHERE client_order_id = ?", cid), 60,
                 "the held order's fill to be booked after the restart")
        _quit(second)
    finally:
        if second.process.poll() is None:
            second.process.kill()
    fills = _rows(db, "SELECT trade_id, qty FROM fills WHERE client_order_id = ?", cid)
    qty = _rows(db, "SELECT qty FROM orders WHERE client_order_id = ?", cid)[0][0]
    assert len({t for t, _ in fills}) == len(fills)  # once per trade id
    assert sum(Decimal(q) for _, q in fills) == Decimal(qty)  # all of it, once
    assert _admin(exchange, "state")["received"][cid] == 1  # never sent twice
    verify = subprocess.run([sys.executable, "-m", "desk.cli", "--db", str(db), "audit",
                             "verify"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
