"""Other writers welcome: backtests append to the database a running desk journals to,
and the desk keeps trading, journaling and verifying one chain."""

from __future__ import annotations

import subprocess

from tests.desk.terminal import (
    QUICK_AUTO,
    Terminal,
    audit_kinds,
    desk_command,
    desk_env,
    wait_for,
)


def test_the_desk_keeps_trading_while_backtests_append(tmp_path):
    (tmp_path / "desk.toml").write_text(QUICK_AUTO)
    db = tmp_path / "desk.db"
    env = desk_env(tmp_path)
    desk = desk_command(db)
    terminal = Terminal(desk, env, tmp_path)
    try:
        wait_for(lambda: "order.filled" in audit_kinds(db), 60, "a first fill")
        backtests = [subprocess.Popen(desk + ["--backtest", "--data", "sim:BTC/USDT",
                                              "--bars", "3000"],
                                      env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for backtest in backtests:
            _, err = backtest.communicate(timeout=120)
            assert backtest.returncode == 0, err
        kinds = audit_kinds(db)
        assert kinds.count("backtest.completed") == 2
        after = len(kinds)
        # The desk goes on journaling after the other writers' entries.
        wait_for(lambda: len(audit_kinds(db)) > after + 5 and
                 "order.filled" in audit_kinds(db)[after:], 60, "the desk to keep trading")
        assert terminal.process.poll() is None
        assert "ENGINE STOPPED" not in terminal.screen_text()
        terminal.press("q")
        assert terminal.process.wait(timeout=30) == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    assert audit_kinds(db)[-1] == "engine.stopped"
    verify = subprocess.run(desk + ["audit", "verify"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
