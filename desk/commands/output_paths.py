"""Output paths of every command (`--json`, `--report`, `--out`): checked before the work
starts, written atomically when it ends.

One rule for folders, the same everywhere: Desk creates no missing parent folder. A typo in
a folder name should stop a command with one line, not scatter new folders about.

`check_output_path` raises `OutputPathError` (exit 2, one line naming the option, the path
and the reason) for a missing folder, a path that is a folder, a parent that is a file, and
a folder or file this process cannot write. It tests writability by creating (and removing)
a probe file, because `os.access` answers "yes" to root even on read-only file systems.

`write_atomically` writes a temp file in the target's own folder and renames it over the
target, so a reader, a crash or a kill sees the old file or the whole new one; the temp
file is removed on any failure.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from engine.errors import DeskError


class OutputPathError(DeskError):
    """An output path that cannot be written: names the option, the path and the reason."""

    exit_code = 2

    def __init__(self, option: str, path: str | os.PathLike[str], reason: str) -> None:
        label = f"{option} {path}" if option else str(path)
        super().__init__(f"{label}: {reason}")
        self.option, self.path, self.reason = option, Path(path), reason


def check_output_path(path: str | os.PathLike[str], option: str = "") -> Path:
    """The path, once it is known that a file can be written there; else OutputPathError.

    `option` (e.g. "--report") is named in the message so the user knows which argument to
    fix. An existing file is fine (it will be replaced); nothing is created or changed."""
    target = Path(path)
    if str(path) == "" or target.name in ("", ".", ".."):
        raise OutputPathError(option, path, "not a file name")
    if target.is_dir():
        raise OutputPathError(option, path, "is a folder, not a file")
    folder = target.parent
    if not folder.exists():
        raise OutputPathError(option, path, f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputPathError(option, path, f"{folder} is a file, not a folder")
    if target.exists() and not target.is_file():
        raise OutputPathError(option, path, "is not a regular file")
    reason = _unwritable(target)
    if reason:
        raise OutputPathError(option, path, reason)
    return target


def write_atomically(
    path: str | os.PathLike[str],
    content: str | bytes | Callable[[IO], object],
    *,
    option: str = "",
) -> Path:
    """Replace `path` with `content` (text is UTF-8; a callable is given the open binary or
    text handle: text when `content` is str or a callable, binary when bytes).

    The temp file is created in the same folder with the process umask's permissions, so
    the result has the permissions a plain `open(path, "w")` would give it."""
    target = Path(path)
    binary = isinstance(content, bytes)
    fd, tmp = _create_temp(target, option)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {
            "encoding": "utf-8", "newline": ""})) as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputPathError(option, path, _os_reason(error)) from None
        raise
    return target


def _create_temp(target: Path, option: str) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(100):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{attempt}.part")
        try:
            return os.open(tmp, flags, 0o666), str(tmp)
        except FileExistsError:
            continue
        except OSError as error:
            raise OutputPathError(option, target, _os_reason(error)) from None
    raise OutputPathError(option, target, "cannot create a temporary file beside it")


def _unwritable(target: Path) -> str | None:
    """Why a file cannot be written at `target` by temp file + rename, or None."""
    if target.exists():
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_APPEND))  # never truncates
        except OSError as error:
            return _os_reason(error)
    try:
        fd, probe = _create_temp(target, "")
    except OutputPathError as error:
        return error.reason
    os.close(fd)
    Path(probe).unlink(missing_ok=True)
    return None


def _os_reason(error: OSError) -> str:
    """A short reason in words, never a Python repr."""
    if error.errno in (errno.EACCES, errno.EPERM):
        return "not writable (permission denied)"
    if error.errno == errno.EROFS:
        return "not writable (read-only file system)"
    if error.errno == errno.ENOSPC:
        return "no space left on the device"
    if error.errno == errno.EISDIR:
        return "is a folder, not a file"
    if error.errno == errno.ENOENT:
        return "the folder does not exist"
    return error.strerror or type(error).__name__
