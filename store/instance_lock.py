"""One desk per database: an exclusive lock held for the life of the desk.

Other writers (backtests, exports, `keys`, reports) never take it: they share the database
through SQLite's own locking and append to the one audit chain. Two desks on one database
would each trade the same account and recover each other's sessions, so the second one
stops at once and names the holder.

The lock is `flock` on a side file `<db>.lock` holding the holder's PID. The kernel drops
it when the process dies, even by kill -9, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from store.errors import StoreError


class DatabaseInUse(StoreError):
    """Another desk holds this database."""

    exit_code = 1


class InstanceLock:
    """Held from `acquire` until `release` (or the process ends)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db_path: str | os.PathLike[str]) -> InstanceLock:
        db = Path(db_path)
        path = db.with_name(db.name + ".lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StoreError(f"{path}: cannot open the desk's lock file: "
                             f"{error.strerror or error}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"PID {holder}" if holder else "another process"
            raise DatabaseInUse(f"{db}: another desk ({who}) is running on this database; "
                                "stop it first (backtests and exports may run beside it)") \
                from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
