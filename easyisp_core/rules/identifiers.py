"""Human-facing identifiers: account numbers, invoice numbers, voucher codes, usernames."""

from __future__ import annotations

import re
import secrets
import unicodedata

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
VOUCHER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def account_number(sequence: int) -> str:
    """ACC000123: what subscribers type as the paybill account."""
    return f"ACC{sequence:06d}"


def invoice_number(year: int, sequence: int) -> str:
    return f"INV-{year}{sequence:05d}"


def voucher_code(length: int = 8, prefix: str = "") -> str:
    body = "".join(secrets.choice(VOUCHER_ALPHABET) for _ in range(length))
    return f"{prefix}{body}"


def username_from_name(full_name: str, suffix: int | None = None) -> str:
    """'Wanjiku Kamau' -> 'wanjiku.kamau' (ASCII, lower case), with an optional number."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    parts = re.findall(r"[a-z0-9]+", ascii_name.lower())
    base = ".".join(parts[:2]) or "user"
    base = base[:56]
    return f"{base}{suffix}" if suffix is not None else base


def tenant_slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:62]
    if len(slug) < 2:
        raise ValueError(f"cannot make a tenant name from {name!r}")
    return slug
