"""The words of the SMS EasyISP sends: short English, one SMS segment (160 characters) when
possible, the ISP's name first so the customer knows who is writing. The payment receipt's
words live in migration 0021 (easyisp_sms_payment_receipt), written at commit by the database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

SEGMENT = 160  # GSM-7 characters in one SMS
BRAND_MAX = 30


def brand_of(display_name: str | None, fallback: str) -> str:
    return ((display_name or "").strip() or fallback)[:BRAND_MAX]


def amount_text(amount: Decimal) -> str:
    """1500.00 -> "1,500"; 49.50 -> "49.50"."""
    return f"{amount:,.2f}".removesuffix(".00")


def expiry_reminder(
    *,
    brand: str,
    expires_local: datetime,
    account: str,
    currency: str,
    price: Decimal | None,
    paybill: str | None,
    support_phone: str | None,
) -> str:
    """E.g. "Acme Net: your internet expires Thu 26 Nov 14:30. Pay KES 1,500 to paybill 600984,
    acc 10023, to stay online. Help: 0700 111 222" — optional parts dropped to fit one SMS."""
    head = f"{brand}: your internet expires {expires_local:%a %d %b %H:%M}."
    if paybill and price is not None:
        amount = f"{currency} {amount_text(price)}"
        pay = f" Pay {amount} to paybill {paybill}, acc {account}, to stay online."
    else:
        pay = f" Renew to stay online (acc {account})."
    help_ = f" Help: {support_phone}" if support_phone else ""
    for parts in ((head, pay, help_), (head, pay), (head,)):
        text = "".join(parts)
        if len(text) <= SEGMENT:
            return text
    return text[:SEGMENT]
