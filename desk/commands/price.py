"""`desk price option ...` and `desk price pip ...`: parse, call one library function, print.

Values are parsed here rather than by argparse so that a bad one stops with one line
naming the option (exit 2), and a --json path is checked before anything is computed.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from desk.option_inputs import OptionInputError
from engine.instruments.errors import InstrumentError

if TYPE_CHECKING:
    from engine.instruments.calculator import OptionInputs

EXIT_OK = 0


def run(args: argparse.Namespace) -> int:
    if args.price_command == "option":
        return _option(args)
    if args.price_command == "pip":
        return _pip(args)
    raise ValueError(f"unknown price command {args.price_command!r}")


# -- option ---------------------------------------------------------------------------------
def _option(args: argparse.Namespace) -> int:
    from engine.instruments.calculator import NoImpliedVolError, price_option

    json_path = None
    if args.json:
        from desk.commands.output_paths import check_output_path

        json_path = check_output_path(args.json, "--json")
    inputs = option_inputs(args, date.today())
    try:
        quote = price_option(inputs)
    except NoImpliedVolError as error:
        raise OptionInputError(f"--price {args.price}: {error.reason.message}") from None
    except InstrumentError as error:
        raise OptionInputError(str(error)) from None
    print(option_text(inputs, quote))
    if json_path is not None:
        from desk.commands.output_paths import write_atomically

        write_atomically(json_path, json.dumps(quote.json_fields(), indent=2) + "\n",
                         option="--json")
    return EXIT_OK


def option_inputs(args: argparse.Namespace, today: date) -> OptionInputs:
    """The parsed options of `desk price option` (one-line errors naming the option)."""
    from desk.option_inputs import FIELDS, parse_option_inputs

    return parse_option_inputs({name: getattr(args, name) for name in FIELDS}, today,
                               label=lambda name: f"--{name}")


def option_text(inputs, quote) -> str:
    """What the terminal shows: the inputs, then one line per figure."""
    kind = "call" if inputs.call else "put"
    head = (f"{kind}  S {inputs.spot:g}  K {inputs.strike:g}  T {inputs.years:.4f} y  "
            f"r {inputs.rate * 100:.2f}%  q {inputs.div * 100:.2f}%  "
            f"vol {quote.vol * 100:.2f}%")
    rows = [head, f"{'price':<12}{quote.price:>12.4f}"]
    if quote.implied_vol is not None:
        rows.append(f"{'implied vol':<12}{quote.implied_vol * 100:>11.4f}%"
                    f"   from price {inputs.price:g}")
    rows += [
        f"{'delta':<12}{quote.delta:>12.4f}",
        f"{'gamma':<12}{quote.gamma:>12.4f}",
        f"{'vega':<12}{quote.vega:>12.4f} per 1.00   {quote.vega_pct:.4f} per 1%",
        f"{'theta':<12}{quote.theta:>12.4f} per year   {quote.theta_day:.4f} per day",
        f"{'rho':<12}{quote.rho:>12.4f} per 1.00   {quote.rho_pct:.4f} per 1%",
    ]
    return "\n".join(rows)


# -- pip ------------------------------------------------------------------------------------
def _pip(args: argparse.Namespace) -> int:
    from engine.instruments.forex import LotSize, lots_for_units, pip_value

    pair = _required(args.pair, "--pair")
    units = _units(args)
    rate = None if args.rate is None else _decimal(args.rate, "--rate")
    try:
        _need_rate(pair, args.account, rate)
        value = pip_value(pair, units, args.account, rate)
    except InstrumentError as error:
        raise OptionInputError(str(error)) from None
    lots = lots_for_units(abs(units), LotSize.STANDARD)
    line = (f"{value.pair}  {_plain(units)} units ({_plain(lots)} standard lots)  "
            f"pip {_plain(value.pip)}: {_money(value.in_account)} {value.account} per pip")
    if value.conversion_pair:
        line += (f"  ({_money(value.in_quote)} {value.pair.split('/')[1]} at "
                 f"{value.conversion_pair} {_plain(value.conversion_rate)})")
    print(line)
    return EXIT_OK


def _need_rate(pair: str, account: str | None, rate: Decimal | None) -> None:
    from engine.instruments.forex import market_pair, split_pair

    base, quote = split_pair(pair)
    if account and account.strip().upper() != quote and rate is None:
        raise OptionInputError(f"--rate is required: {base}/{quote} in a "
                              f"{account.strip().upper()} account converts at the "
                              f"{market_pair(quote, account)} rate")


def _units(args: argparse.Namespace) -> Decimal:
    from engine.instruments.forex import LotSize, units_for_lots

    if (args.units is None) == (args.lots is None):
        raise OptionInputError("price pip needs --units or --lots (one of them)")
    if args.units is not None:
        units = _decimal(args.units, "--units")
    else:
        count, _, size = args.lots.partition(":")
        try:
            lot = LotSize[(size or "standard").strip().upper()]
        except KeyError:
            raise OptionInputError(f"--lots {args.lots}: the lot is standard, mini or "
                                  "micro") from None
        units = units_for_lots(_decimal(count, "--lots"), lot)
    if units == 0:
        raise OptionInputError("--units: a position size must not be 0")
    return units


# -- parsing ----------------------------------------------------------------------------------
def _required(value: str | None, option: str) -> str:
    if value is None:
        raise OptionInputError(f"{option} is required")
    return value


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise OptionInputError(f"{option}: expected a number, got {text!r}") from None
    if not value.is_finite():
        raise OptionInputError(f"{option}: expected a number, got {text!r}")
    return value


def _plain(value: Decimal | None) -> str:
    """A decimal without exponent or trailing zeros: 10000, 0.0001, 1.27."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: Decimal) -> str:
    """Money to the cent, with a thousands separator (a pip of a small position can be
    under a cent: then four places, so it never reads as 0.00)."""
    places = 2 if abs(value) >= Decimal("0.01") or value == 0 else 4
    return f"{value:,.{places}f}"
