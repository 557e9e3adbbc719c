"""`desk optimize` as a user runs it: one-line errors, list and show, Ctrl-C keeps trials."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

from desk.cli import main

SIM = ["--data", "sim:BTC/USDT", "--bars", "1200", "--seed", "3"]
SEARCH = ["--strategy", "sma_cross", "--param", "fast=3:20", "--param", "slow=21:60"]


def test_bad_input_is_one_line_and_stores_nothing(tmp_path, capsys):
    db = tmp_path / "desk.db"
    cases = [
        (["--param", "fats=3:20", "--method", "random"], "--param fats=3:20: sma_cross has no"),
        (["--param", "fast=3:20", "--method", "random", "--json",
          str(tmp_path / "missing" / "o.json")], "--json"),
        (["--param", "fast=3:20", "--method", "grid", "--report", str(tmp_path)],
         "is a folder"),
        (["--param", "fast=3:20", "--method", "random", "--trials", "0"],
         "--trials: expected an integer >= 1, got 0"),
        (["--param", "fast=3:20", "--method", "random", "--workers", "-1"],
         "--workers: expected an integer >= 0, got -1"),
    ]
    for extra, expected in cases:
        code = main(["optimize", "--db", str(db), *SIM, "--strategy", "sma_cross", *extra])
        err = capsys.readouterr().err
        assert code == 2
        assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM optimization_runs").fetchone()[0] == 0


def test_list_and_show_read_the_stored_run(tmp_path, capsys):
    db = str(tmp_path / "desk.db")
    assert main(["optimize", "--db", db, *SIM, *SEARCH, "--method", "random", "--trials", "4",
                 "--workers", "1", "--json", str(tmp_path / "run.json")]) == 0
    capsys.readouterr()
    assert main(["optimize", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert "random" in listed and "finished" in listed
    assert main(["optimize", "show", "1", "--db", db, "--json",
                 str(tmp_path / "show.json")]) == 0
    ran = json.loads((tmp_path / "run.json").read_text())
    shown = json.loads((tmp_path / "show.json").read_text())
    assert shown["best"] == ran["best"]

    def rows(trials):
        return sorted(json.dumps({k: t[k] for k in ("scope", "params", "fitness", "metrics")},
                                 sort_keys=True) for t in trials)

    assert rows(shown["trials"]) == rows(ran["trials"])


def test_ctrl_c_keeps_finished_trials_and_resume_completes(tmp_path):
    db = tmp_path / "desk.db"
    argv = [sys.executable, "-m", "desk.cli", "optimize", "--db", str(db), *SIM, *SEARCH,
            "--method", "random", "--trials", "200", "--workers", "2"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    stored = 0
    deadline = time.monotonic() + 120
    while stored < 8 and time.monotonic() < deadline:
        time.sleep(0.5)
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    stored = conn.execute("SELECT COUNT(*) FROM optimization_trials"
                                          ).fetchone()[0]
            except sqlite3.OperationalError:
                pass  # the tables are being created
    assert stored >= 8, "no trials were stored in time"
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err.strip().startswith("desk: interrupted:") and err.strip().count("\n") == 0
    with sqlite3.connect(db) as conn:
        status = conn.execute("SELECT status FROM optimization_runs").fetchone()[0]
        kept = conn.execute("SELECT COUNT(*) FROM optimization_trials").fetchone()[0]
    assert status == "interrupted" and kept >= stored
    assert main(["optimize", "--db", str(db), "--resume", "1", "--workers", "1",
                 "--json", str(tmp_path / "resumed.json")]) == 0
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    assert resumed["timing"]["trials_reused"] >= kept
    assert resumed["status"] == "finished"


def test_the_progress_bar_shows_best_fitness_and_trials_per_second():
    import io

    from rich.console import Console

    from desk.commands.optimize import _Progress
    from engine.optimize.ledger import LedgerStats

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    bar = _Progress(console)
    stats = LedgerStats(done=10, reused=1, best=0.4321, started=time.perf_counter() - 5,
                        expected=40)
    bar(stats)
    bar.close()
    shown = console.file.getvalue()
    assert "11/40" in shown and "best 0.4321" in shown and "trials/s" in shown
    piped = Console(file=io.StringIO())  # not a terminal: nothing drawn
    _Progress(piped)(stats)
    assert piped.file.getvalue() == ""
