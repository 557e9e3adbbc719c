"""Value checks for desk.toml keys.

A check takes the raw TOML value and returns the typed value, or raises `Invalid` saying
what was expected; the caller adds the file, the key path and the value found, so every
configuration error reads the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Check = Callable[[Any], Any]

# Intervals pandas certainly reads as a fixed positive step: accepted without importing
# pandas (~0.3 s), which commands like `desk keys` never otherwise need.
_PLAIN_FREQ = re.compile(r"([1-9][0-9]*)?(ms|s|min|h|D)")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")


class Invalid(Exception):
    """A value does not fit its key: `expected` completes "expected ..., got <value>"."""

    def __init__(self, expected: str, hint: str = "") -> None:
        super().__init__(expected)
        self.expected = expected
        self.hint = hint


def _interval(noun: str, low: Any, high: Any, low_open: bool, high_open: bool) -> str:
    article = "an" if noun[0] in "aeiou" else "a"
    if high is None:
        if low is None:
            return f"{article} {noun}"
        if low == 0 and low_open:
            return f"a positive {noun}"
        return f"{article} {noun} {'>' if low_open else '>='} {low}"
    return f"{article} {noun} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def _inside(value: Any, low: Any, high: Any, low_open: bool, high_open: bool) -> bool:
    if low is not None and not (value > low if low_open else value >= low):
        return False
    return high is None or (value < high if high_open else value <= high)


def text() -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("a string")
        return value

    return check


def boolean() -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("true or false")
        return value

    return check


def integer(minimum: int | None = None) -> Check:
    if minimum == 1:
        expected = "a positive integer"
    elif minimum is None:
        expected = "an integer"
    else:
        expected = f"an integer >= {minimum}"

    def check(value: Any) -> int:
        # bool is an int subclass in Python; `true` is never meant as a count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(expected)
        if minimum is not None and value < minimum:
            raise Invalid(expected)
        return value

    return check


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = True,
    high_open: bool = False,
) -> Check:
    """A float; an int is accepted (TOML users write `speed = 60` as readily as 60.0)."""
    expected = _interval("number", low, high, low_open, high_open)

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(expected)
        value = float(value)
        if not math.isfinite(value) or not _inside(value, low, high, low_open, high_open):
            raise Invalid(expected)
        return value

    return check


def fraction() -> Check:
    return number(0, 1)


def amount(
    low: int | None = None,
    high: int | None = None,
    *,
    low_open: bool = True,
    high_open: bool = False,
) -> Check:
    """Money or a quantity: a Decimal from a string (exact) or an int; floats are refused
    because 0.1 in binary is not 0.1, and these values end up in orders and the journal."""
    expected = _interval("amount", low, high, low_open, high_open)

    def check(value: Any) -> Decimal:
        if isinstance(value, float):
            raise Invalid(expected, f' (a float: write it as a string, "{value}")')
        # Decimal too: programs (tests, recorded configs) may pass exact values directly.
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            raise Invalid(expected)
        try:
            exact = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise Invalid(expected) from None
        if not exact.is_finite() or not _inside(exact, low, high, low_open, high_open):
            raise Invalid(expected)
        return exact

    return check


def choice(*options: str) -> Check:
    quoted = [f'"{option}"' for option in options]
    if len(quoted) == 1:
        expected = quoted[0]
    elif len(quoted) == 2:
        expected = f"{quoted[0]} or {quoted[1]}"
    else:
        expected = "one of " + ", ".join(quoted)

    def check(value: Any) -> str:
        if value not in options or not isinstance(value, str):
            raise Invalid(expected)
        return value

    return check


def symbols() -> Check:
    expected = 'a non-empty list of distinct "BASE/QUOTE" symbols'

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not value:
            raise Invalid(expected)
        if not all(isinstance(item, str) and _SYMBOL.fullmatch(item) for item in value):
            raise Invalid(expected)
        if len(set(value)) != len(value):
            raise Invalid(expected)
        return tuple(value)

    return check


def frequency() -> Check:
    expected = 'a fixed bar interval such as "1min", "1h" or "1D"'

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(expected)
        if _PLAIN_FREQ.fullmatch(value):
            return value
        import pandas as pd
        from pandas.tseries.frequencies import to_offset

        try:
            step = pd.Timedelta(to_offset(value))
        except (ValueError, TypeError):
            raise Invalid(expected) from None
        if step <= pd.Timedelta(0):
            raise Invalid(expected)
        return value

    return check


def like(default: Any) -> Check:
    """Check a strategy parameter against its documented default: same type (an int is
    accepted where the default is a float), counts stay positive when the default is."""
    if isinstance(default, bool):
        return boolean()
    if isinstance(default, int):
        return integer(1 if default > 0 else None)
    if isinstance(default, float):
        return number()
    return text()
