"""Display formatting for money, quantities, percentages and bars.

The snapshot keeps Decimals; these turn them into short, aligned text. Styles are passed
in by the caller (resolved from the theme), so nothing here knows about colours.
"""

from __future__ import annotations

from datetime import timedelta
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
