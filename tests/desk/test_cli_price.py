"""`desk price option` and `desk price pip` as a user runs them: output, --json, and bad
input as one line with exit code 2 and nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import pytest

from desk.cli import main
from engine.instruments.black_scholes import black_scholes

TEXTBOOK = ["price", "option", "--type", "call", "--spot", "42", "--strike", "40",
            "--expiry", "0.5", "--rate", "0.10", "--vol", "0.20"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_textbook_call_prints_price_and_greeks(capsys):
    code, out, err = run(capsys, *TEXTBOOK)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "call  S 42  K 40  T 0.5000 y  r 10.00%  q 0.00%  vol 20.00%"
    assert lines[1] == "price             4.7594"
    assert lines[2] == "delta             0.7791"
    assert lines[4] == "vega              8.8134 per 1.00   0.0881 per 1%"
    assert lines[5] == "theta            -4.5591 per year   -0.0125 per day"


def test_json_has_the_issues_keys_with_vega_per_one_and_theta_per_year(capsys, tmp_path):
    code, _, _ = run(capsys, *TEXTBOOK, "--type", "put", "--div", "0.01", "--json",
                     "put.json")

    written = json.loads((tmp_path / "put.json").read_text())
    expected = black_scholes(False, 42, 40, 0.5, 0.10, 0.20, 0.01)
    assert code == 0
    assert list(written) == ["price", "delta", "gamma", "vega", "theta", "rho",
                             "implied_vol"]
    for key in ("price", "delta", "gamma", "vega", "theta", "rho"):
        assert written[key] == float(getattr(expected, key))
    assert written["implied_vol"] is None


def test_price_solves_for_implied_vol_and_greeks_follow_it(capsys, tmp_path):
    price = float(black_scholes(True, 42, 40, 0.5, 0.10, 0.35).price)
    argv = [a for a in TEXTBOOK if a not in ("--vol", "0.20")]

    code, out, _ = run(capsys, *argv, "--price", repr(price), "--json", "iv.json")

    written = json.loads((tmp_path / "iv.json").read_text())
    assert code == 0 and "implied vol     35.0000%" in out
    assert written["implied_vol"] == pytest.approx(0.35, abs=1e-12)
    assert written["price"] == pytest.approx(price, abs=1e-12)


def test_an_expiry_date_counts_calendar_days_over_365(capsys, tmp_path):
    expiry = (date.today() + timedelta(days=73)).isoformat()
    argv = [*TEXTBOOK[:9], expiry, *TEXTBOOK[10:], "--json", "d.json"]

    assert run(capsys, *argv)[0] == 0

    written = json.loads((tmp_path / "d.json").read_text())
    assert written["price"] == float(black_scholes(True, 42, 40, 0.2, 0.10, 0.20).price)


@pytest.mark.parametrize(("change", "message"), [
    (("--type", "straddle"), "desk: --type: expected call or put, got 'straddle'"),
    (("--spot", "abc"), "desk: --spot: expected a number > 0, got 'abc'"),
    (("--strike", "-5"), "desk: --strike: expected a number > 0, got '-5'"),
    (("--vol", "nan"), "desk: --vol: expected a number > 0, got 'nan'"),
    (("--expiry", "2001-01-01"), "desk: --expiry 2001-01-01: the date must be after today"),
    (("--expiry", "soon"), "desk: --expiry: expected a date YYYY-MM-DD or years > 0, "
                           "got 'soon'"),
    (("--rate", "5"), "desk: rate must be a yearly rate between -1 and 1 (0.05 = 5 %), "
                      "got 5"),
    (("--price", "45"), "desk: --price 45: price is at or above the no-arbitrage upper "
                        "bound (S e^-qT for a call, K e^-rT for a put)"),
    (("--price", "1.5"), "desk: --price 1.5: price is at or below the no-arbitrage lower "
                         "bound (the discounted intrinsic value)"),
    (("--json", "missing/out.json"), "desk: --json missing/out.json: the folder missing "
                                     "does not exist"),
])
def test_bad_option_input_is_one_line_exit_2_and_writes_nothing(capsys, tmp_path, change,
                                                                 message):
    argv = list(TEXTBOOK)
    option, value = change
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    if option != "--json":
        argv += ["--json", "never.json"]

    code, out, err = run(capsys, *argv)

    assert (code, out, err) == (2, "", message + "\n")
    assert not (tmp_path / "never.json").exists()


def test_missing_options_are_named(capsys):
    no_expiry = run(capsys, "price", "option", "--type", "call", "--spot", "42", "--strike",
                    "40")
    no_vol = run(capsys, *TEXTBOOK[:-2])

    assert no_expiry == (2, "", "desk: --expiry is required\n")
    assert no_vol == (2, "", "desk: --vol is required (or --price to solve for it)\n")


@pytest.mark.parametrize(("argv", "line"), [
    (("--pair", "EUR/USD", "--units", "10000"),
     "EUR/USD  10000 units (0.1 standard lots)  pip 0.0001: 1.00 USD per pip"),
    (("--pair", "USD/JPY", "--units", "10000"),
     "USD/JPY  10000 units (0.1 standard lots)  pip 0.01: 100.00 JPY per pip"),
    (("--pair", "EUR/GBP", "--units", "10000", "--account", "USD", "--rate", "1.27"),
     "EUR/GBP  10000 units (0.1 standard lots)  pip 0.0001: 1.27 USD per pip  "
     "(1.00 GBP at GBP/USD 1.27)"),
    (("--pair", "EUR/USD", "--lots", "2:mini"),
     "EUR/USD  20000 units (0.2 standard lots)  pip 0.0001: 2.00 USD per pip"),
])
def test_pip_values(capsys, argv, line):
    assert run(capsys, "price", "pip", *argv) == (0, line + "\n", "")


@pytest.mark.parametrize(("argv", "message"), [
    (("--pair", "EUR/GBP", "--units", "10000", "--account", "USD"),
     "desk: --rate is required: EUR/GBP in a USD account converts at the GBP/USD rate"),
    (("--pair", "BTC/USD", "--units", "1"), "desk: BTC/USD: BTC is not a known fiat currency"),
    (("--pair", "EUR/USD"), "desk: price pip needs --units or --lots (one of them)"),
    (("--pair", "EUR/USD", "--units", "ten"), "desk: --units: expected a number, got 'ten'"),
    (("--pair", "EUR/USD", "--lots", "1:jumbo"),
     "desk: --lots 1:jumbo: the lot is standard, mini or micro"),
    (("--pair", "EUR/GBP", "--units", "1", "--account", "USD", "--rate", "-1"),
     "desk: GBP/USD rate must be > 0, got -1"),
])
def test_bad_pip_input_is_one_line_exit_2(capsys, argv, message):
    assert run(capsys, "price", "pip", *argv) == (2, "", message + "\n")


def test_the_installed_command_runs_as_a_user_would(tmp_path):
    done = subprocess.run([sys.executable, "-m", "desk.cli", *TEXTBOOK, "--type", "put"],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines()[1] == "price             0.8086"


def test_a_pip_value_loads_no_numpy():
    """Forex arithmetic is Decimal: `desk price pip` answers without loading numpy."""
    code = ("import sys; from desk.cli import main; "
            "main(['price', 'pip', '--pair', 'EUR/USD', '--units', '1']); "
            "print('numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)

    assert done.stdout.splitlines()[-1] == "False"
