"""`desk keys set|list|delete`: exchange API keys in the encrypted vault.

Values are read from the terminal without echo; when stdin is not a terminal (a script, a
test) they are read line by line from stdin instead, because getpass would open /dev/tty
behind the caller's back. Nothing secret is ever printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.config.schema import Config, apply_cli_overrides, load_config
from engine.errors import DeskError

if TYPE_CHECKING:
    from store.vault import Vault

PASSPHRASE_ENV = "DESK_VAULT_PASSPHRASE"


def _ask(prompt: str) -> str:
    if sys.stdin.isatty():
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise DeskError(f"no input for {prompt.strip().rstrip(':')}") from None
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    sys.stderr.write("\n")  # the typed line is not echoed: end the prompt's line ourselves
    if not line:
        raise DeskError(f"no input for {prompt.strip().rstrip(':')}")
    return line.rstrip("\r\n")


def _passphrase(confirm: bool) -> str:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    passphrase = _ask("Vault passphrase: ")
    if not passphrase:
        raise DeskError("the vault passphrase must not be empty")
    if confirm and _ask("Repeat the vault passphrase: ") != passphrase:
        raise DeskError("the passphrases do not match")
    return passphrase


def db_path(args: argparse.Namespace, cfg: Config) -> Path:
    """--db, else [store] path, else the XDG default."""
    if getattr(args, "db", None):
        return Path(args.db)
    if cfg.store.path:
        return Path(cfg.store.path)
    from store.paths import default_db_path

    return default_db_path()


def _set(vault: Vault, exchange: str) -> int:
    from store.vault import ApiCredentials, check_exchange_name

    check_exchange_name(exchange)
    # The passphrase is asked and proved first: a typo must not waste the typed keys.
    passphrase = _passphrase(confirm=not vault.list())
    vault.verify_passphrase(passphrase)
    api_key = _ask(f"API key for {exchange}: ")
    secret = _ask(f"API secret for {exchange}: ")
    password = _ask(f"API password for {exchange} (empty for none): ") or None
    if not api_key or not secret:
        raise DeskError("the API key and the secret must not be empty")
    vault.set(exchange, passphrase, ApiCredentials(api_key, secret, password))
    print(f"stored keys for {exchange}")
    return 0


def _list(path: Path, busy_timeout_ms: int) -> int:
    """Names only, over a read-only connection: listing never migrates, signs or writes."""
    import sqlite3

    from store.db import open_read_only
    from store.errors import StoreError
    from store.vault import Vault

    conn = open_read_only(path, busy_timeout_ms)
    try:
        names = Vault(conn).list()
    except sqlite3.Error as error:
        raise StoreError(f"{path}: cannot read the key vault: {error}") from error
    finally:
        conn.close()
    print("\n".join(names) if names else "no keys stored")
    return 0


def _delete(vault: Vault, exchange: str) -> int:
    from store.vault import check_exchange_name

    check_exchange_name(exchange)
    if exchange not in vault.list():
        raise DeskError(f"no keys stored for {exchange}")
    # Proved against the entry itself before anything is deleted.
    if not vault.delete(exchange, _passphrase(confirm=False)):
        raise DeskError(f"no keys stored for {exchange}")
    print(f"deleted keys for {exchange}")
    return 0


def run(args: argparse.Namespace) -> int:
    # The configuration comes first: a bad desk.toml stops here, before any prompt.
    cfg = apply_cli_overrides(load_config(args.config), args)
    path = db_path(args, cfg)
    if args.keys_command in ("list", "delete") and not path.exists():
        # Reading or deleting never creates a database.
        if args.keys_command == "list":
            print("no keys stored")
            return 0
        raise DeskError(f"no keys stored for {args.exchange}")
    if args.keys_command == "list":
        return _list(path, cfg.store.busy_timeout_ms)
    from store.db import Store
    from store.vault import Vault

    store = Store.open(
        path,
        busy_timeout_ms=cfg.store.busy_timeout_ms,
        audit_key_path=cfg.audit.key_path or None,
        checkpoint_every=cfg.audit.checkpoint_every,
    )
    # keys set|delete touch the vault only: they append no audit entry, so closing the
    # store signs nothing (Store.close signs only heads this store extended).
    with store:
        vault = Vault(store.conn)
        if args.keys_command == "set":
            return _set(vault, args.exchange)
        if args.keys_command == "delete":
            return _delete(vault, args.exchange)
    raise DeskError(f"unknown keys action: {args.keys_command}")
