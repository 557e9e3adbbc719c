"""Named errors of the engine. Each carries the exit code the command line returns."""

from __future__ import annotations


class DeskError(Exception):
    """An error the user can act on: printed as one line, no traceback."""

    exit_code = 1


class ConfigError(DeskError):
    """A configuration file is malformed or holds an unknown key or a bad value."""

    exit_code = 2


class DataError(DeskError):
    """Market data could not be loaded: names the file, rows and reason."""

    exit_code = 2


def one_line_reason(error: BaseException, limit: int = 200) -> str:
    """What went wrong, for a status line or a log: the error's class and the first line of
    its message, trimmed. Never a traceback or local variables, which may hold secrets."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
