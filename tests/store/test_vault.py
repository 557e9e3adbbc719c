"""The key vault: encryption round trip, one passphrase per vault, tamper detection.

Scrypt at n=2**15 costs ~0.1 s per derivation, so each test does as few as it can.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.db import Store
from store.errors import VaultError
from store.vault import (
    KEY_BYTES,
    NONCE_BYTES,
    SALT_BYTES,
    ApiCredentials,
    NoSuchKeysError,
    Vault,
    _seal,
    _unseal,
)

PASS = "correct horse battery staple"
BINANCE = ApiCredentials("AKIA-binance-key", "s3cr3t-binance-value", None)
KRAKEN = ApiCredentials("kraken-key-123", "kraken-secret-456", "kraken-pass-789")


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.db") as opened:
        yield opened


@pytest.fixture
def vault(store):
    return Vault(store.conn)


@pytest.fixture
def filled(vault):
    """A vault holding binance's keys under PASS (one derivation)."""
    vault.set("binance", PASS, BINANCE)
    return vault


def rows(store) -> list[tuple]:
    return store.conn.execute("SELECT * FROM secrets ORDER BY exchange").fetchall()


def test_round_trip_and_list(filled):
    assert filled.get("binance", PASS) == BINANCE
    assert filled.list() == ["binance"]


def test_entry_decrypts_with_an_independent_scrypt(filled, store):
    """The stored format is exactly the documented one: hashlib's scrypt (OpenSSL) derives
    the same key, AES-GCM with the exchange as associated data opens the JSON object."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    exchange, salt, nonce, ciphertext, created, updated = rows(store)[0]
    key = hashlib.scrypt(
        PASS.encode(), salt=salt, n=2**15, r=8, p=1, dklen=32, maxmem=64 * 1024 * 1024
    )
    plain = json.loads(AESGCM(key).decrypt(nonce, ciphertext, b"binance"))

    assert (len(salt), len(nonce), len(key)) == (SALT_BYTES, NONCE_BYTES, KEY_BYTES) == (16, 12, 32)
    assert plain == {"api_key": BINANCE.api_key, "secret": BINANCE.secret, "password": None}
    assert created == updated and created.endswith("Z")
    assert BINANCE.secret.encode() not in ciphertext


def test_wrong_passphrase_on_get_changes_nothing(filled, store):
    before = rows(store)

    with pytest.raises(VaultError) as error:
        filled.get("binance", "not the passphrase")

    assert str(error.value) == "wrong passphrase for the key vault"
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert rows(store) == before


def test_wrong_passphrase_on_set_changes_nothing(filled, store):
    before = rows(store)

    with pytest.raises(VaultError, match="^wrong passphrase for the key vault$"):
        filled.set("kraken", "another passphrase", KRAKEN)
    with pytest.raises(VaultError, match="^wrong passphrase for the key vault$"):
        filled.verify_passphrase("another passphrase")

    assert rows(store) == before
    assert not store.conn.in_transaction


def test_second_entry_and_replacement_use_fresh_salt_and_nonce(filled, store):
    filled.set("kraken", PASS, KRAKEN)
    first = {row[0]: row for row in rows(store)}
    replacement = ApiCredentials("new-key", "new-secret")
    filled.set("binance", PASS, replacement)
    second = {row[0]: row for row in rows(store)}

    assert filled.get("binance", PASS) == replacement
    assert first["binance"][1] != first["kraken"][1]  # salts differ per entry
    assert second["binance"][1] != first["binance"][1]
    assert second["binance"][2] != first["binance"][2]  # nonce renewed on every encryption
    assert second["binance"][4] == first["binance"][4]  # created_at kept
    assert second["kraken"] == first["kraken"]
    assert filled.list() == ["binance", "kraken"]


def test_tampered_ciphertext_is_refused(filled, store):
    ciphertext = bytearray(rows(store)[0][3])
    ciphertext[5] ^= 0x01
    store.conn.execute("UPDATE secrets SET ciphertext = ?", (bytes(ciphertext),))

    with pytest.raises(VaultError, match="^wrong passphrase for the key vault$"):
        filled.get("binance", PASS)


def test_entry_moved_to_another_exchange_is_refused(filled, store):
    """The exchange name is the associated data: a row renamed does not decrypt."""
    store.conn.execute("UPDATE secrets SET exchange = 'kraken'")

    with pytest.raises(VaultError, match="^wrong passphrase for the key vault$"):
        filled.get("kraken", PASS)


def test_delete_and_missing_entries(filled):
    with pytest.raises(NoSuchKeysError, match="^no keys stored for kraken$"):
        filled.get("kraken", PASS)

    with pytest.raises(VaultError, match="wrong passphrase"):
        filled.delete("binance", "not the passphrase")
    assert filled.list() == ["binance"]  # a wrong passphrase deletes nothing
    assert filled.delete("binance", PASS) is True
    assert filled.delete("binance", PASS) is False
    assert filled.list() == []


def test_a_caller_transaction_is_joined_not_committed(vault, store):
    with pytest.raises(RuntimeError), store.unit_of_work():
        vault.set("binance", PASS, BINANCE)
        raise RuntimeError("the caller's step failed")

    assert vault.list() == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: v.set("", PASS, BINANCE), "exchange name must be"),
        (lambda v: v.set("bin ance", PASS, BINANCE), "exchange name must be"),
        (lambda v: v.set("binance", "", BINANCE), "passphrase must not be empty"),
        (lambda v: v.set("binance", PASS, ApiCredentials("k", "")), "must not be empty"),
        (lambda v: v.get("binance", ""), "passphrase must not be empty"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(vault, call, message):
    with pytest.raises(VaultError, match=message):
        call(vault)
    assert vault.list() == []


def test_repr_and_str_hide_the_values():
    shown = [repr(KRAKEN), str(KRAKEN), f"{KRAKEN}", repr([KRAKEN]), repr(BINANCE)]

    for text in shown:
        for value in (KRAKEN.api_key, KRAKEN.secret, KRAKEN.password, BINANCE.secret):
            assert value not in text
    assert repr(KRAKEN) == "ApiCredentials(api_key='***', secret='***', password='***')"
    assert repr(BINANCE) == "ApiCredentials(api_key='***', secret='***', password=None)"


TEXT = st.text(min_size=1, max_size=40)


@settings(max_examples=30, deadline=None)
@given(key=TEXT, secret=TEXT, password=st.none() | st.text(max_size=20), flip=st.integers(0, 10**6))
def test_seal_round_trips_and_any_flipped_byte_is_detected(key, secret, password, flip):
    """Without Scrypt (a fixed random key) so that many credentials can be tried."""
    aes_key, nonce = os.urandom(32), os.urandom(12)
    credentials = ApiCredentials(key, secret, password)

    sealed = _seal(aes_key, nonce, "binance", credentials)

    assert _unseal(aes_key, nonce, "binance", sealed) == credentials
    damaged = bytearray(sealed)
    damaged[flip % len(damaged)] ^= 1 << (flip % 8)
    with pytest.raises(VaultError):
        _unseal(aes_key, nonce, "binance", bytes(damaged))
    with pytest.raises(VaultError):
        _unseal(aes_key, nonce, "binancf", sealed)
