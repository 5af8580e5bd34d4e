"""Staff passwords: checked by PostgreSQL (SCRAM-SHA-256); we only ever send a verifier.

The verifier is what PostgreSQL stores for a SCRAM password. Computing it here means the
plain password never travels to the server, so it cannot land in server logs or
pg_stat_activity when a role is created or its password changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRAM_ITERATIONS = 4096  # PostgreSQL's default scram_iterations
MIN_LENGTH = 10
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def scram_verifier(password: str, *, iterations: int = SCRAM_ITERATIONS) -> str:
    """SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (RFC 5802/7677)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def password_problem(password: str) -> str | None:
    """Why a new staff password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if password.isdigit() or password.isalpha():
        return "mix letters with digits or symbols"
    return None


def generate_password(length: int = 14) -> str:
    """A password staff can type: no look-alike characters, always letters and digits."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate
