"""The one time zone the console writes times in: the site's (EASYISP_DEFAULT_TIMEZONE,
Africa/Nairobi unless set), never the PC's or the database session's.

Before, the lists used the PC's zone, the Customers list the database session's, and the
dashboard, workspace and receipts Nairobi: on a PC or server kept in UTC the same expiry read
three hours apart between the Customers list and the customer's workspace."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Africa/Nairobi"

_zone = ZoneInfo(DEFAULT_ZONE)


def display_zone() -> ZoneInfo:
    return _zone


def set_display_zone(name: str) -> None:
    """Set once by the main window, from the site's settings (GUI thread only)."""
    global _zone
    _zone = ZoneInfo(name)


def moment(value: datetime | None) -> str:
    """2026-12-06 16:08 in the site's zone; '' for no time."""
    return "" if value is None else value.astimezone(_zone).strftime("%Y-%m-%d %H:%M")
