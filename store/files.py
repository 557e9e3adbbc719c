"""Permissions of the database files: private when Desk creates them, a warning otherwise.

The database holds the trade history, the audit log and the vault's ciphertext. Desk
creates the data directory 0700 and the database 0600 itself, before SQLite opens it:
SQLite then gives the WAL and SHM files the database's own permissions. The process umask
is not touched (it is process-wide and the desk has several threads). Files that already
exist are left alone; if other users may read them, one line on stderr says so.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

SIDE_FILES = ("", "-wal", "-shm", "-journal")
_warned: set[str] = set()


def prepare_database_files(file: Path) -> None:
    """Create the directory (0700) and an empty database file (0600) if missing; warn about
    existing database, WAL and SHM files that group or others can read."""
    parent = file.parent
    if not parent.exists():
        parent.mkdir(parents=True, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir -p ignores the mode for parents and applies umask
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        warn_if_readable_by_others(file)
        return
    except OSError:
        return  # e.g. a read-only directory: sqlite3.connect reports it with the path
    os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
    os.close(fd)


def warn_if_readable_by_others(file: Path) -> None:
    for suffix in SIDE_FILES:
        path = Path(f"{file}{suffix}")
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o044 and str(path) not in _warned:
            _warned.add(str(path))  # once per file and process
            print(
                f"desk: warning: {path} is readable by other users (mode {mode:04o}); "
                f"chmod 600 it",
                file=sys.stderr,
            )
