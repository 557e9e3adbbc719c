"""`desk data record` as a user runs it: the simulated market's microstructure to Parquet,
replayable by `desk --backtest --data FILE`; a bad output path stops first, in one line."""

from __future__ import annotations

import subprocess
import sys

from engine.data.sources import load_source
from engine.microstructure.recording import is_recording, load_recording


def desk(*argv: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desk.cli", *argv], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_record_the_simulated_market_and_load_it_back(tmp_path):
    out = tmp_path / "sim.parquet"
    result = desk("data", "record", "--bars", "40", "--symbols", "BTC/USDT,SOL/USDT",
                  "--seed", "3", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("recorded 40 bars x 2 symbols, 1,600 book updates, ")
    assert is_recording(out)
    recording = load_recording(out)
    assert set(recording.frames) == {"BTC/USDT", "SOL/USDT"}
    assert all(len(f) == 40 for f in recording.frames.values())
    market = load_source(str(out))  # what --backtest --data reads
    assert market.recording is not None and list(market.frames) == ["BTC/USDT", "SOL/USDT"]


def test_a_missing_folder_stops_before_recording(tmp_path):
    out = tmp_path / "no-such-folder" / "sim.parquet"
    result = desk("data", "record", "--bars", "5", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"desk: --out {out}: the folder {out.parent} does not exist"]
    assert not out.parent.exists()


def test_stream_needs_a_configured_stream(tmp_path):
    result = desk("data", "record", "--stream", "--seconds", "1", "--out",
                  str(tmp_path / "s.parquet"), cwd=tmp_path)
    assert result.returncode == 1
    assert "needs [feed] stream_url and [broker] exchange" in result.stderr
    assert not (tmp_path / "s.parquet").exists()
