"""`desk data fetch` run as a user would, against the fake exchange through DESK_CCXT_URLS."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from desk.commands.data import default_out
from engine.data.sources import load_source
from tests.fakes.exchange import FakeExchange

HISTORY = 600


@pytest.fixture
def fake():
    with FakeExchange(["BTC/USDT"], history=HISTORY, ws_port=None) as fake:
        yield fake


def desk(fake, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ) | {"DESK_CCXT_URLS": json.dumps(fake.ccxt_urls())}
    return subprocess.run([sys.executable, "-m", "desk.cli", "data", "fetch", *argv],
                          capture_output=True, text=True, env=env, timeout=60,
                          start_new_session=True)


def test_fetch_writes_the_default_file_then_resumes_it(fake, tmp_path):
    first = desk(fake, "binance", "BTC/USDT", "1m", "--since", "2026-01-01")
    fake.advance(3)
    second = desk(fake, "binance", "BTC/USDT", "1m", "--since", "2026-01-01")

    out = tmp_path / "binance_BTC-USDT_1m.parquet"
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == (f"fetched {HISTORY - 1} candles; {HISTORY - 1} in file "
                            "(2026-01-01 00:00 to 2026-01-01 09:58 UTC) -> "
                            "binance_BTC-USDT_1m.parquet\n")
    assert second.stdout.startswith(f"fetched 3 candles; {HISTORY + 2} in file ")
    frame = load_source(str(out)).frames["BINANCE_BTC-USDT_1M"]
    assert len(frame) == HISTORY + 2 and frame.index.is_unique
    assert frame.index[-1] == pd.Timestamp("2026-01-01 10:01", tz="UTC")


def test_out_option_and_a_named_error_for_an_unknown_symbol(fake, tmp_path):
    (tmp_path / "d").mkdir()  # no output folder is ever created (tests/desk/test_output_paths)
    ok = desk(fake, "binance", "BTC/USDT", "1h", "--since", "2026-01-01", "--out", "d/b.pq")
    bad = desk(fake, "binance", "DOGE/USDT", "1h", "--out", "x.parquet")
    nope = desk(fake, "nosuchexchange", "BTC/USDT", "1h")

    assert ok.returncode == 0 and ok.stdout.endswith(" -> d/b.pq\n")
    assert len(pd.read_parquet(tmp_path / "d" / "b.pq")) == HISTORY // 60 - 1  # hour 9 forms
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == "desk: binance: unknown symbol 'DOGE/USDT'\n"
    assert nope.stderr == "desk: unknown exchange 'nosuchexchange' (not a ccxt exchange id)\n"
    assert not (tmp_path / "x.parquet").exists()


def test_default_out_names_base_quote_and_settle():
    assert str(default_out("Binance", "btc/usdt", "4h")) == "binance_BTC-USDT_4h.parquet"
    assert str(default_out("bybit", "BTC/USDT:USDT", "1m")) == "bybit_BTC-USDT-USDT_1m.parquet"
