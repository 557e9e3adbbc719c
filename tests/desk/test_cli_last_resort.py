"""Whatever a command did not foresee from the database or the file system (a read-only
file, a full disk) ends in one line and exit 1, never a traceback."""

from __future__ import annotations

import sqlite3

import pytest

from desk import cli


@pytest.mark.parametrize("error", [
    sqlite3.OperationalError("attempt to write a readonly database"),
    OSError(28, "No space left on device"),
])
def test_an_unforeseen_store_or_disk_error_is_one_line(monkeypatch, capsys, error):
    import desk.commands.audit as command

    def fail(_args):
        raise error

    monkeypatch.setattr(command, "run", fail)
    assert cli.main(["audit", "pubkey"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("desk: ")
    assert type(error).__name__ in err and "Traceback" not in err
