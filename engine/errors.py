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
