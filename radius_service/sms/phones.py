"""Phone numbers at the SMS edge: E.164 (+2547…) inside, each provider's own form outside."""

from __future__ import annotations

from easyisp_core.rules.phones import normalize_ke_phone


def to_e164(raw: str) -> str:
    """0712 345 678 / 254712345678 / +254712345678 -> +254712345678; ValueError otherwise."""
    return "+" + normalize_ke_phone(raw)


def to_msisdn(e164: str) -> str:
    """+254712345678 -> 254712345678 (Advanta, Celcom, Onfon)."""
    return normalize_ke_phone(e164)
