"""The one error of the instruments package."""

from __future__ import annotations

from engine.errors import DeskError


class InstrumentError(DeskError):
    """An instrument cannot be built or a calculation cannot be done with the inputs given:
    one line naming the symbol or key and what was wrong (exit code 2, bad input)."""

    exit_code = 2
