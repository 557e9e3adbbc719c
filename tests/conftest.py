"""Shared fixtures: every test gets its own XDG directories so nothing touches the home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("DESK_VAULT_PASSPHRASE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
