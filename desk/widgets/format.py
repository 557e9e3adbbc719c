"""Display formatting for money, quantities, percentages and bars.

The snapshot keeps Decimals; these turn them into short, aligned text. Styles are passed
in by the caller (resolved from the theme), so nothing here knows about colours.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal

from rich.style import Style
from rich.text import Text

_BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,.{places}f}"


def signed_money(value: Decimal, places: int = 2) -> str:
    return f"{value:+,.{places}f}"


def quantity(value: Decimal) -> str:
    # Crypto quantities need up to 8 places; trailing zeros are noise.
    text = f"{value:,.8f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def price(value: Decimal | float | None) -> str:
    """A price to the precision its size needs: cents from 1 up, four significant digits
    below (0.5000, 0.00002340), never more than 8 places. The snapshot carries no tick
    size, so the size of the price stands in for the instrument's precision."""
    if value is None:
        return "—"
    return f"{value:,.{price_places(value)}f}"


def price_places(value: Decimal | float) -> int:
    size = abs(float(value))
    if size >= 1 or size == 0 or not math.isfinite(size):
        return 2
    return min(8, max(2, 3 - math.floor(math.log10(size))))


def bps(value: Decimal | float | None, places: int = 1) -> str:
    """Basis points, signed: +1.5 bp is a cost on a buy filled above arrival."""
    if value is None:
        return "—"
    return f"{value:+,.{places}f} bp"


def percent(fraction: float, places: int = 1) -> str:
    return f"{fraction * 100:.{places}f}%"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of `width` cells filled to `fraction` (clamped to 0..1)."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    text = "█" * full + (_BAR_EIGHTHS[rest] if rest else "")
    return text.ljust(width)


def time_left(remaining: timedelta) -> str:
    seconds = int(remaining.total_seconds())
    if seconds <= 0:
        return "expired"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}"


def pnl_text(value: Decimal, profit: Style, loss: Style, places: int = 2) -> Text:
    """Signed money coloured by sign; zero stays unstyled."""
    style = profit if value > 0 else loss if value < 0 else Style()
    return Text(signed_money(value, places), style=style, justify="right")


def right(text: str, style: Style | str = "") -> Text:
    return Text(text, style=style, justify="right")


# Field names say what a number is; details dialogs format each value by its name.
_PRICE_WORDS = ("price", "avg", "last", "arrival", "bid", "ask", "stop", "open", "high",
                "low", "close")
_MONEY_WORDS = ("pnl", "realized", "unrealized", "equity", "cash", "exposure", "fee",
                "notional", "limit", "var", "loss")
_QTY_WORDS = ("qty", "quantity", "filled", "size")
_FRACTION_WORDS = ("drawdown", "share", "pct", "fraction")


def field_value(name: str, value: object) -> str:
    """One value of a details dialog, formatted by what its field name says it is: prices
    to their precision, money to the cent, quantities without trailing zeros, fractions as
    %, slippage in bp; never a float's or Decimal's full binary noise."""
    words = name.lower().replace(" ", "_")
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dict):
        return ", ".join(f"{k} {field_value(str(k), v)}" for k, v in value.items()) or "—"
    if isinstance(value, tuple | list):
        return "; ".join(field_value(name, v) for v in value) or "—"
    if not isinstance(value, Decimal | float | int):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and not any(
            word in words for word in _PRICE_WORDS + _MONEY_WORDS):
        return f"{value:,}"
    if "bps" in words or "slippage" in words:
        return bps(value)
    if any(word in words for word in _FRACTION_WORDS):
        return percent(float(value), 2)
    if any(word in words for word in _QTY_WORDS):
        return quantity(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if any(word in words for word in _MONEY_WORDS):
        return money(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if any(word in words for word in _PRICE_WORDS):
        return price(value)
    # Confidences, probabilities, weights: plain numbers, four places at most.
    text = f"{float(value):,.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
