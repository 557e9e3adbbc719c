"""Pre-trade compliance rules: restricted symbols and trading hours (the position, daily
loss and liquidity rules share the gate's position and equity tracking, see
engine.trading.risk).

Trading hours: each symbol may have windows in its own time zone on chosen weekdays; a
symbol without any window trades 24/7 (crypto). A window [start, end) with end <= start
spans midnight (it belongs to the day it starts on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class HoursWindow:
    symbol: str
    timezone: str
    days: tuple[str, ...]
    start: time
    end: time

    def contains(self, now: datetime) -> bool:
        from zoneinfo import ZoneInfo

        local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(
            ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        today = _DAYS[local.weekday()]
        if self.start < self.end:
            return today in self.days and self.start <= clock < self.end
        yesterday = _DAYS[(local.weekday() - 1) % 7]
        return ((today in self.days and clock >= self.start)
                or (yesterday in self.days and clock < self.end))

    def text(self) -> str:
        return (f"{','.join(self.days)} {self.start:%H:%M}-{self.end:%H:%M} "
                f"{self.timezone}")


@dataclass(frozen=True)
class ComplianceRules:
    """The [compliance] table in force (see desk.toml)."""

    max_position_pct: float = 0.30
    max_daily_loss_pct: float = 0.02
    min_adv: Decimal = Decimal("1000000")
    liquidity_window: int = 20
    restricted: frozenset[str] = frozenset()
    hours: tuple[HoursWindow, ...] = ()
    _by_symbol: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for window in self.hours:
            self._by_symbol.setdefault(window.symbol, []).append(window)

    def windows(self, symbol: str) -> list[HoursWindow]:
        return self._by_symbol.get(symbol, [])

    def in_hours(self, symbol: str, now: datetime) -> tuple[bool, str]:
        """(open, the windows as text; "24/7" when the symbol has none)."""
        windows = self.windows(symbol)
        if not windows:
            return True, "24/7"
        return any(w.contains(now) for w in windows), "; ".join(w.text() for w in windows)


def rules_from_config(cfg) -> ComplianceRules | None:
    """The [compliance] table as rules; None when it is disabled."""
    comp = cfg.compliance
    if not comp.enabled:
        return None
    return ComplianceRules(
        max_position_pct=comp.max_position_pct,
        max_daily_loss_pct=comp.max_daily_loss_pct,
        min_adv=comp.min_adv,
        liquidity_window=comp.liquidity_window,
        restricted=frozenset(comp.restricted_symbols),
        hours=tuple(_window(h) for h in comp.trading_hours),
    )


def _window(entry) -> HoursWindow:
    return HoursWindow(entry.symbol, entry.timezone, tuple(entry.days),
                       _clock(entry.start), _clock(entry.end))


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def hours_windows(entries: Iterable[tuple[str, str, tuple[str, ...], str, str]]
                  ) -> tuple[HoursWindow, ...]:
    """Windows from (symbol, timezone, days, "HH:MM", "HH:MM") tuples (tests, scripts)."""
    return tuple(HoursWindow(s, tz, tuple(d), _clock(a), _clock(b))
                 for s, tz, d, a, b in entries)
