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
from pathlib import Path
from typing import Any

Check = Callable[[Any], Any]

# Intervals pandas certainly reads as a fixed positive step: accepted without importing
# pandas (~0.3 s), which commands like `desk keys` never otherwise need.
_PLAIN_FREQ = re.compile(r"([1-9][0-9]*)?(ms|s|min|h|D)")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
_FREQ_SECONDS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "D": 86400}

# Shared ceilings. Anything longer than a year is a typo, and every later computation
# (timedelta, pandas timestamps, sleep) stays far from overflow under it.
MINUTES_PER_YEAR = 525_600
SECONDS_PER_YEAR = 31_536_000
MAX_PARTS = 1_000  # execution parts: each one is a row, an order and a line in the pane
MAX_MONEY = 10**15  # cash and notionals: beyond any account, and exact in a float
AMOUNT_PLACES = 18  # finer than any venue's step; keeps Decimal arithmetic exact
MAX_PATH = 4096  # PATH_MAX on Linux
MAX_SYMBOLS = 100
# Bars of history reach back at most this far: pandas timestamps end in 1677.
MAX_HISTORY_YEARS = 100


class Invalid(Exception):
    """A value does not fit its key: `expected` completes "expected ..., got <value>"."""

    def __init__(self, expected: str, hint: str = "") -> None:
        super().__init__(expected)
        self.expected = expected
        self.hint = hint


def _bound(value: Any) -> str:
    """A bound as a reader takes it in: 10^15 rather than 1000000000000000."""
    if isinstance(value, int | Decimal) and abs(value) >= 10**6:
        digits = str(abs(int(value)))
        if digits.rstrip("0") == "1":
            return f"{'-' if value < 0 else ''}10^{len(digits) - 1}"
    if isinstance(value, int) and abs(value) >= 10**5:
        return f"{value:_}"  # as TOML lets one write it: 31_536_000
    return str(value)


def _interval(noun: str, low: Any, high: Any, low_open: bool, high_open: bool) -> str:
    article = "an" if noun[0] in "aeiou" else "a"
    if high is None:
        if low is None:
            return f"{article} {noun}"
        if low == 0 and low_open:
            return f"a positive {noun}"
        return f"{article} {noun} {'>' if low_open else '>='} {_bound(low)}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"{article} {noun} in {left}{_bound(low)}, {_bound(high)}{right}"


def _inside(value: Any, low: Any, high: Any, low_open: bool, high_open: bool) -> bool:
    if low is not None and not (value > low if low_open else value >= low):
        return False
    return high is None or (value < high if high_open else value <= high)


def text(max_length: int = 256) -> Check:
    """A string of at most `max_length` characters, without NUL (which no file name,
    URL or id may hold, and which some C layers would silently cut at)."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("a string")
        if len(value) > max_length:
            raise Invalid(f"a string of at most {max_length} characters")
        if "\0" in value:
            raise Invalid("a string without NUL characters")
        return value

    return check


def pattern(regex: str, expected: str) -> Check:
    """A string that is empty or matches `regex` in full (ids, URLs)."""
    compiled = re.compile(regex)
    base = text()

    def check(value: Any) -> str:
        value = base(value)
        if value and not compiled.fullmatch(value):
            raise Invalid(expected)
        return value

    return check


def path(*, parent_must_exist: bool = False) -> Check:
    """A file path, empty meaning "the default location". Never an existing directory;
    with `parent_must_exist`, its directory must already exist (Desk never creates one
    for a file the user named, e.g. a signing key)."""
    base = text(MAX_PATH)

    def check(value: Any) -> str:
        value = base(value)
        if not value:
            return value
        file = Path(value)
        try:
            if file.is_dir():
                raise Invalid("a file path, not a directory")
            if parent_must_exist and not file.parent.is_dir():
                raise Invalid("a file path in an existing directory")
        except OSError:  # a name too long for the filesystem, a loop of symlinks
            raise Invalid("a usable file path") from None
        return value

    return check


def boolean() -> Check:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("true or false")
        return value

    return check


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    if maximum is not None:
        expected = _interval("integer", minimum, maximum, False, False)
    elif minimum == 1:
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
        if maximum is not None and value > maximum:
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
        if _decimal_places(exact) > AMOUNT_PLACES:
            raise Invalid(expected, f" (more than {AMOUNT_PLACES} decimal places)")
        return exact

    return check


def _decimal_places(exact: Decimal) -> int:
    """Digits after the point that matter ("0.50" has 1); read from the digits, not by
    arithmetic, so no context can round or trap whatever the exponent."""
    sign, digits, exponent = exact.as_tuple()
    assert isinstance(exponent, int)  # finite: checked by the caller
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


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
        if len(value) > MAX_SYMBOLS:
            raise Invalid(f"{expected}, at most {MAX_SYMBOLS}")
        if not all(
            isinstance(item, str) and len(item) <= 64 and _SYMBOL.fullmatch(item)
            for item in value
        ):
            raise Invalid(expected)
        if len(set(value)) != len(value):
            raise Invalid(expected)
        return tuple(value)

    return check


def symbol() -> Check:
    expected = 'a "BASE/QUOTE" symbol'

    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > 64 or not _SYMBOL.fullmatch(value):
            raise Invalid(expected)
        return value

    return check


def symbol_list() -> Check:
    """A list of distinct symbols, possibly empty (restricted symbols)."""
    one = symbol()
    expected = 'a list of distinct "BASE/QUOTE" symbols'

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or len(value) > MAX_SYMBOLS * 10:
            raise Invalid(expected)
        try:
            items = tuple(one(item) for item in value)
        except Invalid:
            raise Invalid(expected) from None
        if len(set(items)) != len(items):
            raise Invalid(expected)
        return items

    return check


def symbol_numbers(low: float, high: float) -> Check:
    """A table of symbol -> number in [low, high] (per-asset shocks)."""
    one, num = symbol(), number(low, high, low_open=False)
    expected = f'a table of "BASE/QUOTE" = number in [{_bound(low)}, {_bound(high)}]'

    def check(value: Any) -> dict[str, float]:
        if not isinstance(value, dict) or len(value) > MAX_SYMBOLS * 10:
            raise Invalid(expected)
        try:
            return {one(k): num(v) for k, v in value.items()}
        except Invalid:
            raise Invalid(expected) from None

    return check


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekdays() -> Check:
    expected = 'a non-empty list of distinct days from "mon" ... "sun"'

    def check(value: Any) -> tuple[str, ...]:
        if (not isinstance(value, list | tuple) or not value
                or not all(isinstance(d, str) and d in WEEKDAYS for d in value)
                or len(set(value)) != len(value)):
            raise Invalid(expected)
        return tuple(value)

    return check


_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def clock_time() -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not _CLOCK.fullmatch(value):
            raise Invalid('a time of day "HH:MM" (00:00 to 23:59)')
        return value

    return check


def timezone() -> Check:
    """An IANA time zone name ("America/New_York", "UTC"), read by zoneinfo."""

    def check(value: Any) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if not isinstance(value, str) or not 0 < len(value) <= 64 or ".." in value:
            raise Invalid('an IANA time zone such as "UTC" or "America/New_York"')
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid('an IANA time zone such as "UTC" or "America/New_York"') from None
        return value

    return check


def bar_seconds(value: str) -> float | None:
    """Seconds in one bar of `value`, or None if it is not a fixed interval. Plain aliases
    are read without pandas (~0.3 s to import), which `desk keys` never otherwise needs."""
    plain = _PLAIN_FREQ.fullmatch(value)
    if plain:
        return int(plain.group(1) or 1) * _FREQ_SECONDS[plain.group(2)]
    import pandas as pd
    from pandas.tseries.frequencies import to_offset

    try:
        return pd.Timedelta(to_offset(value)).total_seconds()
    except (ValueError, TypeError, OverflowError):  # pandas' OutOfBounds* are ValueErrors
        return None


def frequency() -> Check:
    expected = 'a fixed bar interval such as "1min", "1h" or "1D", up to a year'

    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > 32:
            raise Invalid(expected)
        seconds = bar_seconds(value)
        if seconds is None or not 0 < seconds <= SECONDS_PER_YEAR:
            raise Invalid(expected)
        return value

    return check


# Strategy parameters: a window of 100,000 bars is over a year of minute bars, and no
# level or threshold of ours is meaningful beyond a million.
MAX_WINDOW = 100_000
MAX_LEVEL = 10**6


def like(default: Any) -> Check:
    """Check a strategy parameter against its documented default: same type (an int is
    accepted where the default is a float), counts stay positive when the default is.
    The strategy's own rules (fast < slow, levels in order) are checked afterwards."""
    if isinstance(default, bool):
        return boolean()
    if isinstance(default, int):
        if default > 0:
            return integer(1, MAX_WINDOW)
        return integer(-MAX_WINDOW, MAX_WINDOW)
    if isinstance(default, float):
        return number(-MAX_LEVEL, MAX_LEVEL, low_open=False)
    return text()


def speed() -> Check:
    """[feed] speed: 0 (as fast as possible), or 0.001 to 1,000,000."""
    paced = number(0.001, 1_000_000, low_open=False)

    def check(value: Any) -> float:
        if not isinstance(value, bool) and isinstance(value, int | float) and value == 0:
            return 0.0
        try:
            return paced(value)
        except Invalid:
            raise Invalid("0 (as fast as possible) or a number in [0.001, 10^6]")\
                from None

    return check
