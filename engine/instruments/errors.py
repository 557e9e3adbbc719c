"""The one error of the instruments package."""

from __future__ import annotations

from engine.errors import DeskError


class InstrumentError(DeskError):
    """An instrument cannot be built or a calculation cannot be done with the inputs given:
    one line naming the symbol or key and what was wrong (exit code 2, bad input)."""

    exit_code = 2


class InstrumentSettingError(InstrumentError):
    """A bad instrument setting: `place` (where the settings came from), `key` (the setting,
    "" for the table as a whole) and `reason` (what was expected, what was found)."""

    def __init__(self, place: str, key: str, reason: str) -> None:
        super().__init__(f"{place}.{key}: {reason}" if key else f"{place}: {reason}")
        self.place, self.key, self.reason = place, key, reason
