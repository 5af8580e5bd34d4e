"""Secrets at rest: AES-256-GCM with a site key that lives outside the database.

A stolen database dump alone reveals no RADIUS secret, router password or PPPoE password.
Each ciphertext is bound to its purpose (the associated data), so a value copied from one
column into another does not decrypt.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from easyisp_core.errors import EasyIspError

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretDecryptionFailed(EasyIspError):
    """The ciphertext was made with another site key, or was altered."""


class SecretBox:
    """Encrypts and decrypts short secrets with one site key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the site key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_encoded(cls, encoded: str) -> SecretBox:
        return cls(base64.urlsafe_b64decode(encoded.encode("ascii")))

    def encrypt(self, plaintext: str, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), purpose.encode("utf-8"))
        return _VERSION + nonce + sealed

    def decrypt(self, ciphertext: bytes, purpose: str) -> str:
        if not ciphertext or ciphertext[:1] != _VERSION:
            raise SecretDecryptionFailed("This secret was stored in an unknown format.")
        nonce = ciphertext[1 : 1 + _NONCE_BYTES]
        try:
            plain = self._aead.decrypt(nonce, ciphertext[1 + _NONCE_BYTES :], purpose.encode())
        except InvalidTag as exc:
            raise SecretDecryptionFailed(
                "This secret cannot be decrypted with this site's key (was the site key replaced?)."
            ) from exc
        return plain.decode("utf-8")


def new_site_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def load_or_create_site_key(path: Path) -> str:
    """Read the site key file, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_site_key()
    # O_EXCL: two processes racing to create the key must not each write a different one.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
