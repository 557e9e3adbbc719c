"""Named errors of the store. Each carries the exit code the command line returns."""

from __future__ import annotations


class StoreError(Exception):
    """An error the user can act on: printed as one line, no traceback."""

    exit_code = 1


class SchemaTooNewError(StoreError):
    """The database was written by a newer Desk than this one."""

    exit_code = 2


class VaultError(StoreError):
    """The key vault could not be opened or changed (e.g. a wrong passphrase)."""

    exit_code = 1
