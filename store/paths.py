"""Where Desk keeps its files, following the XDG base directory specification."""

from __future__ import annotations

import os
from pathlib import Path


def config_home() -> Path:
    """$XDG_CONFIG_HOME/desk (default ~/.config/desk)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "desk"


def data_home() -> Path:
    """$XDG_DATA_HOME/desk (default ~/.local/share/desk)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "desk"


def default_db_path() -> Path:
    return data_home() / "desk.db"


def default_audit_key_path() -> Path:
    return config_home() / "audit_ed25519.pem"
