"""Every bad desk.toml stops with one ConfigError line: file, key path, expected, found."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.schema import config_from_dict, load_config
from engine.errors import ConfigError

CASES = [
    # (desk.toml text, the exact message)
    ("[risk]\nmax_position_pct = 1.5\n",
     "[risk] max_position_pct: expected a number in (0, 1], got 1.5"),
    ("[risk]\nmax_postion_pct = 0.2\n",
     "[risk] max_postion_pct: unknown key (did you mean max_position_pct?)"),
    ("[risk]\nmax_position_pct = 0\n",
     "[risk] max_position_pct: expected a number in (0, 1], got 0"),
    ("[risk]\nmax_drawdown_pct = nan\n",
     "[risk] max_drawdown_pct: expected a number in (0, 1], got nan"),
    ("[risk]\nmin_order_notional = \"-1\"\n",
     "[risk] min_order_notional: expected an amount in [0, 10^15], got \"-1\""),
    ("[broker]\nfee = 0.001\n",
     "[broker] fee: expected an amount in [0, 1), got 0.001"
     " (a float: write it as a string, \"0.001\")"),
    ("[broker]\ncash = \"-5\"\n", "[broker] cash: expected an amount in (0, 10^15], got \"-5\""),
    ("[broker]\ncash = \"lots\"\n",
     "[broker] cash: expected an amount in (0, 10^15], got \"lots\""),
    ("[broker]\ncash = \"Infinity\"\n",
     "[broker] cash: expected an amount in (0, 10^15], got \"Infinity\""),
    ("[broker]\ncash = true\n", "[broker] cash: expected an amount in (0, 10^15], got true"),
    ("[broker]\nslippage_bps = \"10000\"\n",
     "[broker] slippage_bps: expected an amount in [0, 10000), got \"10000\""),
    ("[broker]\nmax_volume_fraction = \"0\"\n",
     "[broker] max_volume_fraction: expected an amount in (0, 1], got \"0\""),
    ("[broker]\nkind = \"live\"\n", "[broker] kind: expected \"paper\" or \"ccxt\", got \"live\""),
    ("[broker]\npartial_fills = \"yes\"\n",
     "[broker] partial_fills: expected true or false, got \"yes\""),
    ("[broker]\nkind = \"ccxt\"\n",
     "[broker] exchange: expected a ccxt exchange id when a kind is \"ccxt\", got \"\""),
    ("[engine]\napproval = \"maybe\"\n",
     "[engine] approval: expected \"manual\" or \"auto\", got \"maybe\""),
    ("[engine]\napproval_timeout = 0\n",
     "[engine] approval_timeout: expected an integer in [1, 31_536_000], got 0"),
    ("[engine]\nregime_states = 1\n",
     "[engine] regime_states: expected an integer in [2, 10], got 1"),
    ("[engine]\nsize = \"0.1\"\n", "[engine] size: expected a number in (0, 1], got \"0.1\""),
    ("[feed]\nkind = \"live\"\n",
     "[feed] kind: expected one of \"sim\", \"replay\", \"ccxt\", got \"live\""),
    ("[feed]\nkind = \"replay\"\n",
     "[feed] source: expected a file or \"arch:...\" dataset when kind = \"replay\", got \"\""),
    ("[feed]\nsymbols = []\n",
     "[feed] symbols: expected a non-empty list of distinct \"BASE/QUOTE\" symbols, got []"),
    ("[feed]\nsymbols = [\"BTCUSDT\"]\n",
     "[feed] symbols: expected a non-empty list of distinct \"BASE/QUOTE\" symbols,"
     " got [\"BTCUSDT\"]"),
    ("[feed]\nsymbols = \"BTC/USDT\"\n",
     "[feed] symbols: expected a non-empty list of distinct \"BASE/QUOTE\" symbols,"
     " got \"BTC/USDT\""),
    ("[feed]\nfreq = \"1M\"\n",
     "[feed] freq: expected a fixed bar interval such as \"1min\", \"1h\" or \"1D\","
     " up to a year, got \"1M\""),
    ("[feed]\nfreq = \"0min\"\n",
     "[feed] freq: expected a fixed bar interval such as \"1min\", \"1h\" or \"1D\","
     " up to a year, got \"0min\""),
    ("[feed]\nseed = -1\n", "[feed] seed: expected an integer in [0, 4_294_967_295], got -1"),
    ("[feed]\nhistory_bars = 10.5\n",
     "[feed] history_bars: expected an integer in [1, 10^6], got 10.5"),
    ("[feed]\nhistory_bars = true\n",
     "[feed] history_bars: expected an integer in [1, 10^6], got true"),
    ("[feed]\nspeed = -1\n",
     "[feed] speed: expected 0 (as fast as possible) or a number in [0.001, 10^6], got -1"),
    ("[feed]\nspeed = inf\n",
     "[feed] speed: expected 0 (as fast as possible) or a number in [0.001, 10^6], got inf"),
    ("[store]\npath = 3\n", "[store] path: expected a string, got 3"),
    ("[ensemble]\nmode = \"vote\"\n",
     "[ensemble] mode: expected one of \"majority_vote\", \"weighted_vote\","
     " \"confidence_average\", got \"vote\""),
    ("[ensemble.thresholds]\nconfidence = 1.5\n",
     "[ensemble.thresholds] confidence: expected a number in [0, 1], got 1.5"),
    ("[ensemble.thresholds]\nvote_ratio = 0.0\n",
     "[ensemble.thresholds] vote_ratio: expected a number in (0, 1], got 0.0"),
    ("[ensemble]\nstrategies = []\n",
     "[ensemble] strategies: expected a non-empty array of tables with id and weight, got []"),
    ("[[ensemble.strategies]]\nid = \"smacross\"\nweight = 1.0\n",
     "[[ensemble.strategies]] #1 id: expected a strategy id from [strategies],"
     " got \"smacross\" (did you mean sma_cross?)"),
    ("[[ensemble.strategies]]\nid = \"rsi\"\nweight = 1\n"
     "[[ensemble.strategies]]\nid = \"rsi\"\nweight = 0\n",
     "[[ensemble.strategies]] #2 id: expected each strategy once, got \"rsi\" twice"),
    ("[[ensemble.strategies]]\nid = \"rsi\"\nweight = 0\n",
     "[[ensemble.strategies]] #1 weight: expected a number in (0, 10^6], got 0"),
    ("[[ensemble.strategies]]\nid = \"rsi\"\n", "[[ensemble.strategies]] #1 weight: missing key"),
    ("[[ensemble.strategies]]\nid = \"rsi\"\nweigth = 1.0\n",
     "[[ensemble.strategies]] #1 weigth: unknown key (did you mean weight?)"),
    ("[strategies.rsi]\nperid = 3\n",
     "[strategies.rsi] perid: unknown key (did you mean period?)"),
    ("[strategies.rsii]\nperiod = 3\n",
     "[strategies] rsii: unknown strategy (did you mean rsi?)"),
    ("[strategies.rsi]\nperiod = 14.5\n",
     "[strategies.rsi] period: expected an integer in [1, 100_000], got 14.5"),
    ("[strategies.rsi]\nperiod = 0\n",
     "[strategies.rsi] period: expected an integer in [1, 100_000], got 0"),
    ("[strategies.rsi]\noversold = \"30\"\n",
     "[strategies.rsi] oversold: expected a number in [-10^6, 10^6], got \"30\""),
    ("[strategies]\nrsi = 3\n", "[strategies] rsi: expected a table, got 3"),
    ("[execution]\nmode = \"iceberg\"\n",
     "[execution] mode: expected one of \"market\", \"smart\", \"twap\", \"vwap\", \"dca\","
     " got \"iceberg\""),
    ("[execution]\ncatch_up = \"later\"\n",
     "[execution] catch_up: expected \"skip\" or \"run\", got \"later\""),
    ("[execution.smart]\nfallback_mode = \"limit\"\n",
     "[execution.smart] fallback_mode: expected \"market\", got \"limit\""),
    ("[execution.smart]\nsplit_threshold = 10000.0\n",
     "[execution.smart] split_threshold: expected an amount in (0, 10^15], got 10000.0"
     " (a float: write it as a string, \"10000.0\")"),
    ("[execution.smart]\ndelay_seconds = -1\n",
     "[execution.smart] delay_seconds: expected a number in [0, 31_536_000], got -1"),
    ("[execution.vwap]\nparts = 0\n",
     "[execution.vwap] parts: expected an integer in [1, 1000], got 0"),
    ("[execution.twapp]\nparts = 3\n", "[execution] twapp: unknown key (did you mean twap?)"),
    ("[execution]\ntwap = 3\n", "[execution] twap: expected a table, got 3"),
    ("[audit]\ncheckpoint_every = 0\n",
     "[audit] checkpoint_every: expected an integer in [1, 10^6], got 0"),
    ("[desk]\ntheme = \"solarized\"\n",
     "[desk] theme: expected \"desk-dark\" or \"desk-light\", got \"solarized\""),
    ("[risks]\nmax_position_pct = 0.2\n", "risks: unknown table (did you mean risk?)"),
    ("colour = 1\n", "colour: unknown key"),
    ("risk = 5\n", "risk: expected a table, got 5"),
    # Values the schema used to accept and that crashed later (reliability issue 9).
    ("[broker]\ncash = \"1e400\"\n",
     "[broker] cash: expected an amount in (0, 10^15], got \"1e400\""),
    ("[broker]\ncash = \"1000000000000001\"\n",
     "[broker] cash: expected an amount in (0, 10^15], got \"1000000000000001\""),
    ("[broker]\nfee = \"0.0000000000000000001\"\n",
     "[broker] fee: expected an amount in [0, 1), got \"0.0000000000000000001\""
     " (more than 18 decimal places)"),
    ("[broker]\nstartup_timeout = 0\n",
     "[broker] startup_timeout: expected a number in (0, 86400], got 0"),
    ("[broker]\nstartup_timeout = nan\n",
     "[broker] startup_timeout: expected a number in (0, 86400], got nan"),
    ("[broker]\nexchange = \"Binance!\"\n",
     "[broker] exchange: expected a ccxt exchange id (lower-case letters, digits, _),"
     " got \"Binance!\""),
    ("[engine]\nregime_states = 1000\n",
     "[engine] regime_states: expected an integer in [2, 10], got 1000"),
    ("[engine]\nregime_window = 1\n",
     "[engine] regime_window: expected an integer >= 30 (10 x regime_states), got 1"),
    ("[engine]\nregime_states = 10\nregime_window = 99\n",
     "[engine] regime_window: expected an integer >= 100 (10 x regime_states), got 99"),
    ("[execution.dca]\nparts = 1000000000\n",
     "[execution.dca] parts: expected an integer in [1, 1000], got 1000000000"),
    ("[execution.smart]\nmax_parts = 1001\n",
     "[execution.smart] max_parts: expected an integer in [1, 1000], got 1001"),
    ("[execution.dca]\ninterval_minutes = 1e308\n",
     "[execution.dca] interval_minutes: expected a number in (0, 525_600], got 1e+308"),
    ("[execution.dca]\ninterval_minutes = 1000.0\nparts = 1000\n",
     "[execution.dca] interval_minutes: expected parts x interval_minutes up to a year,"
     " got 1000 x 1000"),
    ("[execution.twap]\nduration_minutes = -inf\n",
     "[execution.twap] duration_minutes: expected a number in (0, 525_600], got -inf"),
    ("[feed]\nfreq = \"999999999D\"\n",
     "[feed] freq: expected a fixed bar interval such as \"1min\", \"1h\" or \"1D\","
     " up to a year, got \"999999999D\""),
    ("[feed]\nfreq = \"1D\"\nhistory_bars = 1000000\n",
     "[feed] history_bars: expected history_bars x freq within 100 years,"
     " got 1000000 x \"1D\""),
    ("[feed]\nspeed = nan\n",
     "[feed] speed: expected 0 (as fast as possible) or a number in [0.001, 10^6], got nan"),
    ("[feed]\nstream_url = \"http://example.com\"\n",
     "[feed] stream_url: expected a \"ws://\" or \"wss://\" URL, got \"http://example.com\""),
    ("[store]\nbusy_timeout_ms = 9999999999\n",
     "[store] busy_timeout_ms: expected an integer in [0, 3_600_000], got 9999999999"),
    ("[audit]\nkey_path = \".\"\n",
     "[audit] key_path: expected a file path, not a directory, got \".\""),
    ("[audit]\nkey_path = \"missing/dir/audit.pem\"\n",
     "[audit] key_path: expected a file path in an existing directory,"
     " got \"missing/dir/audit.pem\""),
    ("[store]\npath = \".\"\n", "[store] path: expected a file path, not a directory, got \".\""),
    ("[strategies.sma_cross]\nfast = 50\n",
     "[strategies.sma_cross]: fast (50) must be less than slow (30)"),
    ("[strategies.rsi]\noversold = 80.0\n",
     "[strategies.rsi]: expected 0 < oversold < overbought < 100, got oversold 80.0"
     " and overbought 70.0"),
    ("[strategies.breakout]\nperiod = 1000000000\n",
     "[strategies.breakout] period: expected an integer in [1, 100_000], got 1000000000"),
    # Malformed TOML: the line number is pulled out of tomllib's message.
    ("[risk]\nmax_position_pct = \n",
     "line 2: malformed TOML: Invalid value (at line 2, column 20)"),
    ("[feed]\nseed = 1\n\n[feed]\n",
     "line 4: malformed TOML: Cannot declare ('feed',) twice (at line 4, column 6)"),
    ("[feed]\nsymbols = [\"BTC/USDT\"\n",
     "line 2: malformed TOML: Unclosed array (at end of document)"),
]


@pytest.mark.parametrize(("text", "message"), CASES, ids=[m for _, m in CASES])
def test_bad_file_gives_one_exact_line(tmp_path, text, message):
    (tmp_path / "desk.toml").write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load_config()

    assert str(error.value) == f"desk.toml: {message}"
    assert error.value.exit_code == 2
    assert "\n" not in str(error.value)


def test_not_utf8_names_the_line(tmp_path):
    (tmp_path / "desk.toml").write_bytes(b"[risk]\n# caf\xe9\n")

    with pytest.raises(ConfigError, match=r"^desk\.toml: line 2: not UTF-8 text$"):
        load_config()


@settings(max_examples=40, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_fraction_accepted_exactly_inside_zero_one(value):
    inside = math.isfinite(value) and 0 < value <= 1
    try:
        cfg = config_from_dict({"risk": {"max_position_pct": value}})
    except ConfigError as error:
        assert not inside
        assert str(error).startswith("<dict>: [risk] max_position_pct: expected a number in (0, 1]")
    else:
        assert inside and cfg.risk.max_position_pct == value


@settings(max_examples=40, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6) | st.text(max_size=6))
def test_fee_accepted_exactly_inside_zero_one_and_read_exactly(value):
    text = str(value)
    try:
        exact = Decimal(text.strip())
        inside = exact.is_finite() and 0 <= exact < 1
    except InvalidOperation:
        inside = False
    try:
        cfg = config_from_dict({"broker": {"fee": text}})
    except ConfigError as error:
        assert not inside
        assert "[broker] fee: expected an amount in [0, 1)" in str(error)
    else:
        assert inside and cfg.broker.fee == Decimal(text.strip())


def test_unknown_strategy_key_is_named_even_in_an_explicit_file(tmp_path):
    path = Path("cfg") / "my.toml"
    (tmp_path / "cfg").mkdir()
    (tmp_path / path).write_text("[strategies.breakout]\nwindow = 3\n")

    with pytest.raises(ConfigError) as error:
        load_config(path)

    assert str(error.value) == f"{path}: [strategies.breakout] window: unknown key"


@settings(max_examples=40, deadline=None)
@given(st.from_regex(r"\A([0-9]{0,3})(ms|s|min|h|D|T|M|ME|W|x)\Z"))
def test_freq_accepted_exactly_when_pandas_reads_a_positive_fixed_step(freq):
    """The validator skips pandas for plain aliases; pandas itself is the judge here,
    with the one-year ceiling on a bar."""
    import pandas as pd
    from pandas.tseries.frequencies import to_offset

    try:
        step = pd.Timedelta(to_offset(freq))
        pandas_ok = pd.Timedelta(0) < step <= pd.Timedelta(days=365)
    except (ValueError, TypeError):
        pandas_ok = False
    try:
        # Few history bars: the 100-year cap on history_bars x freq is not what is tested.
        cfg = config_from_dict({"feed": {"freq": freq, "history_bars": 10}})
    except ConfigError:
        assert not pandas_ok
    else:
        assert pandas_ok and cfg.feed.freq == freq


def test_key_path_in_an_existing_directory_is_accepted_and_nothing_is_created(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "desk.toml").write_text('[audit]\nkey_path = "keys/audit.pem"\n')

    cfg = load_config()

    assert cfg.audit.key_path == "keys/audit.pem"
    assert list((tmp_path / "keys").iterdir()) == []


def test_a_missing_key_directory_is_not_created(tmp_path):
    (tmp_path / "desk.toml").write_text('[audit]\nkey_path = "nowhere/audit.pem"\n')

    with pytest.raises(ConfigError):
        load_config()

    assert not (tmp_path / "nowhere").exists()
