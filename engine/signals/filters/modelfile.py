"""Model files: written atomically, checked by SHA-256 before they are loaded.

A model is pickled with joblib to a temporary file beside its destination, flushed to
disk and renamed over it, so an interrupted `desk train` leaves no half-written model.
Loading refuses a file whose SHA-256 differs from the one recorded when it was trained
(a pickle runs code when loaded: a changed file must never be unpickled).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from engine.errors import DeskError


class ModelFileError(DeskError):
    """A model file is missing, changed since training, or overlaps the data it judges."""

    exit_code = 2


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model_file(obj: object, path: Path) -> str:
    """Write `obj` to `path` atomically; returns the file's SHA-256."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        digest = sha256_of(Path(temp))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return digest


def load_model_file(path: Path, expected_sha256: str) -> object:
    """The model in `path`, after checking its SHA-256 against the recorded one."""
    import joblib

    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ModelFileError(f"{path}: model file changed since it was trained (SHA-256"
                             f" {actual[:12]}… is not the recorded {expected_sha256[:12]}…);"
                             " refusing to load it")
    with open(path, "rb") as handle:
        return joblib.load(handle)


def check_no_overlap(name: str, trained: tuple[str, str], run: tuple[str, str]) -> None:
    """Refuse a backtest whose range [run] overlaps the model's training range [trained]
    (ISO 8601 times; inclusive)."""
    if trained[0] <= run[1] and run[0] <= trained[1]:
        raise ModelFileError(
            f"model {name}: trained on {trained[0]} .. {trained[1]}, which overlaps the"
            f" backtest's {run[0]} .. {run[1]}; backtest after the training range, or use"
            " --walk-forward-models")
