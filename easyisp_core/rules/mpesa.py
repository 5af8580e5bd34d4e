"""Pure M-Pesa decisions: who may call back, which account a payer typed, phone equality."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable


def source_allowed(address: str | None, allowed: Iterable[str]) -> bool:
    """True when `address` is inside one of the allowed addresses or networks.

    An empty list allows every source: Safaricom publishes no official list (protocols.md
    §1.7), so the path token and the payload checks are the guard until one is configured."""
    networks = [ipaddress.ip_network(entry.strip(), strict=False) for entry in allowed]
    if not networks:
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def normalize_account(raw: str) -> str:
    """What the payer typed as account number, compared case-insensitively without spaces."""
    return "".join(raw.split()).lower()


def same_msisdn(reported: str | None, requested: str) -> bool:
    """Daraja reports the STK payer as a number (2547...); the request stored 2547... too."""
    if reported is None:
        return False
    digits = "".join(ch for ch in reported if ch.isdigit())
    return digits == requested


# Daraja refuses callback URLs that contain these words (protocols.md §1.3), so neither our
# paths nor the random path token may carry them.
DARAJA_REFUSED_URL_WORDS = ("mpesa", "safaricom", "sql", "exec", "cmd", "query")


def daraja_accepts_url(url: str) -> bool:
    lowered = url.lower()
    return not any(word in lowered for word in DARAJA_REFUSED_URL_WORDS)


def new_callback_token() -> str:
    """An unguessable URL path segment (256 bits) that Daraja will accept."""
    while True:
        token = secrets.token_urlsafe(32)
        if daraja_accepts_url(token):
            return token
