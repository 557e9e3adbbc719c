"""Reading an option's inputs from text, for `desk price option` and the options calculator.

One parser for both, so a value means the same thing typed on the command line or in the
desk. Errors are one line naming the field as the caller spells it (`--spot` on the command
line, `spot` in the calculator).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING

from engine.errors import DeskError

if TYPE_CHECKING:  # the calculator loads numpy: `desk price pip` never needs it
    from engine.instruments.calculator import OptionInputs

FIELDS = ("type", "spot", "strike", "expiry", "rate", "vol", "div", "price")


class OptionInputError(DeskError):
    """A missing or malformed option input: one line, exit 2 on the command line."""

    exit_code = 2


def parse_option_inputs(raw: Mapping[str, str | None], today: date,
                        label: Callable[[str], str] = str) -> OptionInputs:
    """`raw` maps FIELDS to text (None or "" when not given). `expiry` is a date YYYY-MM-DD
    (calendar days from `today` / 365) or a number of years; `vol` may be left out when
    `price` is given (the Greeks are then taken at the implied volatility)."""
    from engine.instruments.calculator import OptionInputs, years_until

    def text(name: str) -> str | None:
        value = raw.get(name)
        return value.strip() if value is not None and value.strip() else None

    def required(name: str) -> str:
        value = text(name)
        if value is None:
            raise OptionInputError(f"{label(name)} is required")
        return value

    def number(name: str, positive: bool = False, expected: str = "") -> float:
        value_text = required(name)
        expected = expected or ("a number > 0" if positive else "a number")
        try:
            value = float(value_text)
        except ValueError:
            raise OptionInputError(f"{label(name)}: expected {expected}, "
                                   f"got {value_text!r}") from None
        if not math.isfinite(value) or (positive and value <= 0):
            raise OptionInputError(f"{label(name)}: expected {expected}, got {value_text!r}")
        return value

    kind = required("type").lower()
    if kind not in ("call", "put"):
        raise OptionInputError(f"{label('type')}: expected call or put, got {raw['type']!r}")
    spot = number("spot", positive=True)
    strike = number("strike", positive=True)
    expiry = required("expiry")
    try:
        years = years_until(date.fromisoformat(expiry), today)
    except ValueError:
        years = number("expiry", positive=True, expected="a date YYYY-MM-DD or years > 0")
    else:
        if years <= 0:
            raise OptionInputError(f"{label('expiry')} {expiry}: the date must be after "
                                   "today")
    rate = number("rate")
    if text("vol") is None and text("price") is None:
        raise OptionInputError(f"{label('vol')} is required (or {label('price')} to solve "
                               "for it)")
    return OptionInputs(
        call=kind == "call", spot=spot, strike=strike, years=years, rate=rate,
        vol=None if text("vol") is None else number("vol", positive=True),
        div=0.0 if text("div") is None else number("div"),
        price=None if text("price") is None else number("price", positive=True),
    )
