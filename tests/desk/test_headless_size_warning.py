"""`desk --headless` starts with the same one-line warning as `desk --backtest` when
`[engine] size` is above `[risk] max_position_pct`: every entry would be denied."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.desk.test_backtest_command import SIZE_WARNING, _bars

CONFIG = """
[feed]
kind = "replay"
source = "bars.csv"
speed = 0
history_bars = 20

[engine]
approval = "auto"
regime = false
{size}

[risk]
max_position_pct = 0.3
"""


def _headless(tmp_path: Path, size: str) -> subprocess.CompletedProcess:
    (tmp_path / "bars.csv").write_text(_bars(60))
    (tmp_path / "desk.toml").write_text(CONFIG.format(size=size))
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "desk.cli", "--db", str(tmp_path / "desk.db"),
                           "--headless"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)


def test_headless_warns_at_start_when_the_size_can_never_trade(tmp_path):
    run = _headless(tmp_path, "size = 0.5")

    assert run.returncode == 0, run.stderr
    assert run.stderr == SIZE_WARNING
    assert run.stdout.strip().splitlines()[-1].startswith("headless: end of data after ")


def test_headless_says_nothing_when_the_size_fits(tmp_path):
    run = _headless(tmp_path, "size = 0.3")

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
