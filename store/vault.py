"""The key vault: exchange API credentials encrypted at rest in the `secrets` table.

Each entry is AES-256-GCM under a key derived from the vault passphrase with Scrypt and the
entry's own random salt; the exchange name is the associated data, so a ciphertext moved to
another exchange's row does not decrypt. One vault has one passphrase: `set` proves the
passphrase against an existing entry before it writes.

Plaintext credentials live only inside `_seal` and `_unseal` and the returned object, so a
traceback's locals outside those two small frames never show them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from store.canonical import utc_now_iso
from store.errors import VaultError

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12

WRONG_PASSPHRASE = "wrong passphrase for the key vault"
_EXCHANGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class NoSuchKeysError(VaultError):
    """The vault holds no credentials for this exchange."""

    def __init__(self, exchange: str) -> None:
        super().__init__(f"no keys stored for {exchange}")
        self.exchange = exchange


@dataclass(frozen=True, repr=False)
class ApiCredentials:
    """An exchange's API credentials. Printing one never shows the values."""

    api_key: str
    secret: str
    password: str | None = None

    def __repr__(self) -> str:
        password = "None" if self.password is None else "'***'"
        return f"ApiCredentials(api_key='***', secret='***', password={password})"

    __str__ = __repr__


def _derive(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=KEY_BYTES, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8"))


def _seal(key: bytes, nonce: bytes, exchange: str, credentials: ApiCredentials) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    plaintext = json.dumps(
        {
            "api_key": credentials.api_key,
            "secret": credentials.secret,
            "password": credentials.password,
        }
    ).encode("utf-8")
    return AESGCM(key).encrypt(nonce, plaintext, exchange.encode("utf-8"))


def _unseal(key: bytes, nonce: bytes, exchange: str, ciphertext: bytes) -> ApiCredentials:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, exchange.encode("utf-8"))
    except InvalidTag:
        # GCM cannot tell a wrong key from altered bytes; a wrong passphrase is the
        # likely cause. `from None`: the cryptography frames add nothing a user can act on.
        raise VaultError(WRONG_PASSPHRASE) from None
    fields = json.loads(plaintext)
    return ApiCredentials(fields["api_key"], fields["secret"], fields.get("password"))


def check_exchange_name(exchange: str) -> None:
    """VaultError unless `exchange` is a plausible exchange id (checked before prompting)."""
    if not isinstance(exchange, str) or not _EXCHANGE.fullmatch(exchange):
        raise VaultError(
            f"exchange name must be 1-64 letters, digits, '.', '_' or '-', got {exchange!r}"
        )


def _check_passphrase(passphrase: str) -> None:
    if not isinstance(passphrase, str) or not passphrase:
        raise VaultError("the vault passphrase must not be empty")


class Vault:
    """Credentials by exchange name, in the `secrets` table of an open connection.

    Each call is its own transaction, unless the connection is already inside one (a
    caller's unit of work), which it then joins.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def list(self) -> list[str]:
        rows = self._conn.execute("SELECT exchange FROM secrets ORDER BY exchange")
        return [row[0] for row in rows]

    def get(self, exchange: str, passphrase: str) -> ApiCredentials:
        check_exchange_name(exchange)
        _check_passphrase(passphrase)
        row = self._conn.execute(
            "SELECT salt, nonce, ciphertext FROM secrets WHERE exchange = ?", (exchange,)
        ).fetchone()
        if row is None:
            raise NoSuchKeysError(exchange)
        salt, nonce, ciphertext = row
        return _unseal(_derive(passphrase, bytes(salt)), bytes(nonce), exchange, bytes(ciphertext))

    def set(self, exchange: str, passphrase: str, credentials: ApiCredentials) -> None:
        """Store (or replace) an exchange's credentials. VaultError, and nothing written,
        if the vault already holds entries under another passphrase."""
        check_exchange_name(exchange)
        _check_passphrase(passphrase)
        if not credentials.api_key or not credentials.secret:
            raise VaultError("the API key and the secret must not be empty")
        with self._transaction():
            self._prove(passphrase, prefer=exchange)
            salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
            ciphertext = _seal(_derive(passphrase, salt), nonce, exchange, credentials)
            now = utc_now_iso()
            self._conn.execute(
                "INSERT INTO secrets (exchange, salt, nonce, ciphertext, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (exchange) DO UPDATE SET salt = excluded.salt,"
                " nonce = excluded.nonce, ciphertext = excluded.ciphertext,"
                " updated_at = excluded.updated_at",
                (exchange, salt, nonce, ciphertext, now, now),
            )

    def delete(self, exchange: str, passphrase: str) -> bool:
        """Remove an exchange's credentials; False if there were none. The passphrase must
        decrypt the entry first (VaultError, nothing deleted, otherwise): whoever can run
        `desk` but does not know the passphrase cannot destroy keys either."""
        check_exchange_name(exchange)
        _check_passphrase(passphrase)
        with self._transaction():
            row = self._conn.execute(
                "SELECT salt, nonce, ciphertext FROM secrets WHERE exchange = ?", (exchange,)
            ).fetchone()
            if row is None:
                return False
            salt, nonce, ciphertext = row
            _unseal(_derive(passphrase, bytes(salt)), bytes(nonce), exchange, bytes(ciphertext))
            self._conn.execute("DELETE FROM secrets WHERE exchange = ?", (exchange,))
        return True

    def verify_passphrase(self, passphrase: str) -> None:
        """VaultError unless `passphrase` opens the vault (any passphrase opens an empty one):
        lets a caller check it before asking for the credentials themselves."""
        _check_passphrase(passphrase)
        self._prove(passphrase, prefer="")

    def _prove(self, passphrase: str, prefer: str) -> None:
        """Decrypt one existing entry (the one being replaced, if any) with `passphrase`."""
        row = self._conn.execute(
            "SELECT exchange, salt, nonce, ciphertext FROM secrets"
            " ORDER BY exchange = ? DESC, exchange LIMIT 1",
            (prefer,),
        ).fetchone()
        if row is None:
            return  # an empty vault: this passphrase becomes the vault's
        exchange, salt, nonce, ciphertext = row
        _unseal(_derive(passphrase, bytes(salt)), bytes(nonce), exchange, bytes(ciphertext))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._conn.in_transaction:
            yield  # the caller's transaction commits or rolls back our writes with its own
            return
        # IMMEDIATE: the proof and the write happen under one write lock, so no other
        # process can slip an entry with another passphrase in between.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
