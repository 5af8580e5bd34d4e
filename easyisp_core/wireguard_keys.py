"""WireGuard keys: X25519 pairs written as wg(8) writes them (base64 with padding, 44 chars)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

KEY_BYTES = 32
KEY_CHARS = 44


@dataclass(frozen=True, slots=True)
class WireGuardKeyPair:
    private_key: str
    public_key: str

    def __repr__(self) -> str:
        # A private key must never end up in a log line by accident.
        return f"WireGuardKeyPair(public_key={self.public_key!r})"


def _decode(key: str) -> bytes:
    if len(key) != KEY_CHARS:
        raise ValueError(f"a WireGuard key is {KEY_CHARS} base64 characters")
    try:
        raw = base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("a WireGuard key must be standard base64") from exc
    if len(raw) != KEY_BYTES:
        raise ValueError(f"a WireGuard key holds {KEY_BYTES} bytes")
    return raw


def public_key_of(private_key: str) -> str:
    """The public key for a base64 private key (the library clamps, as `wg pubkey` does)."""
    private = X25519PrivateKey.from_private_bytes(_decode(private_key))
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def generate_key_pair() -> WireGuardKeyPair:
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    # Clamp as `wg genkey` does, so the stored key is byte-identical to what wg would show.
    clamped = bytearray(raw)
    clamped[0] &= 248
    clamped[31] = (clamped[31] & 127) | 64
    private_b64 = base64.b64encode(bytes(clamped)).decode("ascii")
    return WireGuardKeyPair(private_b64, public_key_of(private_b64))


def is_valid_key(key: str) -> bool:
    try:
        _decode(key)
    except ValueError:
        return False
    return True
