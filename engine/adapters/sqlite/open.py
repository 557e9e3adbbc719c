"""Opening what the engine keeps in SQLite: the configured store, the instance lock, the
vault of exchange keys, and an execution store on a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.adapters.sqlite.execution_store import SqliteExecutionStore
from store.db import Store
from store.instance_lock import InstanceLock
from store.paths import default_audit_key_path, default_db_path
from store.vault import Vault


def open_store(cfg: Any) -> Store:
    """The store the configuration names (after --db), with its audit settings."""
    path = Path(cfg.store.path) if cfg.store.path else default_db_path()
    key = Path(cfg.audit.key_path) if cfg.audit.key_path else default_audit_key_path()
    return Store.open(
        path,
        busy_timeout_ms=cfg.store.busy_timeout_ms,
        audit_key_path=key,
        checkpoint_every=cfg.audit.checkpoint_every,
    )


def open_execution_store(path: str | os.PathLike[str]) -> SqliteExecutionStore:
    """An execution store on its own database file (the audit key beside it)."""
    file = Path(path)
    return SqliteExecutionStore(Store.open(file, audit_key_path=file.parent / "audit.pem"))


def acquire_instance_lock(store: Store) -> InstanceLock:
    """The database's instance lock (one desk per database); raises if another desk holds
    it. Release with `.release()`."""
    return InstanceLock.acquire(store.path)


def vault(store: Store) -> Vault:
    """The vault of exchange keys kept in this store."""
    return Vault(store.conn)
