"""The STK Push password: base64(shortcode + passkey + timestamp), timestamp in Kenya time.

Daraja checks that Password was built from the same Timestamp sent beside it; Kenyan
integrations all stamp it in EAT (UTC+3, no daylight saving), so a fixed offset is exact
and needs no tz database on the installing machine.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

EAT = timezone(timedelta(hours=3), "EAT")
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


def stk_timestamp(now: datetime | None = None) -> str:
    """YYYYMMDDHHmmss in EAT for `now` (an aware datetime; default: the current time)."""
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("stk_timestamp needs an aware datetime (naive times are ambiguous)")
    return moment.astimezone(EAT).strftime(TIMESTAMP_FORMAT)


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """base64 of the plain concatenation, as Daraja's M-Pesa Express docs specify."""
    raw = f"{shortcode}{passkey}{timestamp}".encode("ascii")
    return base64.b64encode(raw).decode("ascii")


def parse_stk_timestamp(value: str) -> datetime:
    """The aware EAT datetime a 14-digit timestamp names; ValueError when it is not one."""
    if len(value) != 14 or not value.isdigit():
        raise ValueError(f"{value!r} is not a YYYYMMDDHHmmss timestamp")
    return datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=EAT)
