"""Numbers of the `desk portfolio` flags, parsed here so a bad one is one line (exit 2)."""

from __future__ import annotations

import math

from engine.portfolio.errors import PortfolioInputError


def number(text: str | None, flag: str, *, low: float | None = None,
           high: float | None = None) -> float | None:
    """A finite float within [low, high]; None stays None."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PortfolioInputError(f"{flag}: expected a number, got {text}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise PortfolioInputError(f"{flag}: expected a number in [{low:g}, {high:g}], got {text}")
    return value


def count(text: str | None, flag: str, *, low: int = 1, high: int = 10**9) -> int | None:
    """A whole number within [low, high]; None stays None."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise PortfolioInputError(f"{flag}: expected a whole number, got {text}") from None
    if not low <= value <= high:
        raise PortfolioInputError(f"{flag}: expected a whole number in [{low}, {high}], got {text}")
    return value
