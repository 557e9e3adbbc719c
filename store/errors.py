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


class ForgedChainError(StoreError):
    """The database's audit chain no longer holds the head the key holder last signed, or
    does not extend it with valid hashes: it was rewritten, truncated or replaced. Desk
    refuses to sign (or journal) anything on top of it. `seq` and `hash` are the signed
    head; `reason` says what the database holds instead."""

    exit_code = 1

    def __init__(self, message: str, *, seq: int = 0, hash_: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.seq = seq
        self.hash = hash_
        self.reason = reason
