"""Ed25519 signing of audit checkpoints.

The private key is a PKCS8 PEM file created on first use (mode 0600, parent dir 0700). The
public key is published as base64 of its raw 32 bytes. `cryptography` is imported here only,
when a key is first needed, so opening the store stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any

from store.errors import StoreError
from store.paths import default_audit_key_path


class AuditKeyError(StoreError):
    """The audit signing key or a public key given by the user cannot be used."""


class AuditSigner:
    """Signs checkpoints with the key at `key_path` (default: the XDG config location)."""

    def __init__(self, key_path: str | os.PathLike[str] | None = None) -> None:
        self.key_path = Path(key_path) if key_path else default_audit_key_path()
        self._private: Any = None

    def exists(self) -> bool:
        return self.key_path.is_file()

    def _key(self) -> Any:
        if self._private is None:
            self._private = _load_or_create(self.key_path)
        return self._private

    def sign(self, message: str) -> bytes:
        return self._key().sign(message.encode("utf-8"))

    def public_key_raw(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return (
            self._key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key_raw()).decode("ascii")


def _load_or_create(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as error:
            raise AuditKeyError(f"audit key {path}: not an unencrypted PEM private key") from error
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError(f"audit key {path}: not an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written aside then hard-linked into place: the link is atomic and fails if another
    # process created the key meanwhile, so no one ever reads a half-written key file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.link(tmp, path)
    except FileExistsError:
        return _load_or_create(path)
    finally:
        tmp.unlink(missing_ok=True)
    return key


def public_key_from_b64(text: str) -> Any:
    """An Ed25519 public key from base64 of its raw 32 bytes; AuditKeyError if malformed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise AuditKeyError(f"public key {text!r} is not valid base64") from error
    if len(raw) != 32:
        raise AuditKeyError(f"public key must be 32 bytes of base64, got {len(raw)} bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_valid(public_key: Any, message: str, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(signature, message.encode("utf-8"))
    except InvalidSignature:
        return False
    return True
