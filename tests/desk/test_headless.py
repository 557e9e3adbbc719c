"""`desk --headless` as a user runs it: the refusal in manual mode, a clean stop on SIGTERM,
the end of a replay, and the one-engine promise end to end: for one data file and one
desk.toml, the fills a headless replay stores are the trades of `desk --backtest --json`.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.desk.terminal import QUICK_AUTO, audit_kinds, desk_command, desk_env, wait_for
from tests.one_engine import assert_same_trades, live_trades


def _desk(tmp_path: Path, *args: str, db: str = "desk.db", **kwargs):
    return subprocess.run([sys.executable, "-m", "desk.cli", "--db", str(tmp_path / db), *args],
                          env=desk_env(tmp_path), cwd=tmp_path, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, **kwargs)


def _start_headless(tmp_path: Path, config: str) -> subprocess.Popen:
    """`desk --headless` on its own database, output captured."""
    (tmp_path / "desk.toml").write_text(config)
    return subprocess.Popen(desk_command(tmp_path / "desk.db") + ["--headless"],
                            env=desk_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def test_headless_refuses_manual_approval_naming_the_key(tmp_path):
    (tmp_path / "desk.toml").write_text('[engine]\napproval = "manual"\n')
    run = _desk(tmp_path, "--headless")
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "[engine] approval" in lines[0] and "auto" in lines[0], lines
    assert not audit_kinds(tmp_path / "desk.db")  # it changed nothing


def test_sigterm_stops_headless_cleanly_and_the_chain_verifies(tmp_path):
    db = tmp_path / "desk.db"
    process = _start_headless(tmp_path, QUICK_AUTO)
    try:
        wait_for(lambda: "order.filled" in audit_kinds(db), 60, "a fill")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "fill " in out and "order " in out and "proposed " in out
    assert out.strip().splitlines()[-1].startswith("headless: stopped by SIGTERM after ")
    kinds = audit_kinds(db)
    assert kinds[-1] == "engine.stopped"
    verify = _desk(tmp_path, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


REPLAY = """
[feed]
kind = "replay"
source = "{source}"
speed = 0
history_bars = {history}

[engine]
approval = "auto"
regime = {regime}

[ensemble]
dynamic_weights = true

[execution]
mode = "{mode}"
"""


@pytest.mark.parametrize(("source", "history", "regime", "mode"), [
    ("arch:sp500", 600, "true", "market"),
    ("arch:sp500", 600, "true", "twap"),
    ("sim:BTC/USDT", 700, "true", "market"),
])
def test_headless_replay_fills_are_the_backtest_trades(tmp_path, source, history, regime,
                                                       mode):
    (tmp_path / "desk.toml").write_text(REPLAY.format(source=source, history=history,
                                                      regime=regime, mode=mode))
    started = time.monotonic()
    live = _desk(tmp_path, "--headless")
    assert live.returncode == 0, live.stderr
    summary = live.stdout.strip().splitlines()[-1]
    assert summary.startswith("headless: end of data after "), summary
    backtest = _desk(tmp_path, "--backtest", "--data", source, "--json", "bt.json",
                     db="backtest.db")
    assert backtest.returncode == 0, backtest.stderr
    result = json.loads((tmp_path / "bt.json").read_text())
    live, still_open = live_trades(tmp_path / "desk.db")
    assert_same_trades(live, still_open, result["trades"])
    assert time.monotonic() - started < 240


def test_headless_reports_its_engine_stopping_in_one_line(tmp_path):
    """Another process holds the write lock past the busy timeout: the engine stops, and
    headless says why in one line on stderr, exit 1, no traceback."""
    db = tmp_path / "desk.db"
    process = _start_headless(tmp_path, "[store]\nbusy_timeout_ms = 200\n" + QUICK_AUTO)
    try:
        wait_for(lambda: "order.filled" in audit_kinds(db), 60, "a fill")
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            wait_for(lambda: process.poll() is not None, 30, "headless to stop")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "the engine stopped: OperationalError: database is locked" \
        in lines[0], err


def test_a_missing_replay_file_is_one_line_and_creates_nothing(tmp_path):
    (tmp_path / "desk.toml").write_text('[feed]\nkind = "replay"\nsource = "nope.csv"\n'
                                        'speed = 0\n\n[engine]\napproval = "auto"\n')
    run = _desk(tmp_path, "--headless")
    assert run.returncode == 2
    assert run.stderr.strip() == "desk: nope.csv: no such file"
    assert not list(tmp_path.glob("desk.db*"))
