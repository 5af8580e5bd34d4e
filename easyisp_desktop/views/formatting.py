"""How the entity pages write values: money, speeds, dates, durations, volumes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from easyisp_desktop.framework.display_zone import moment
from easyisp_desktop.framework.forms import enum_label

__all__ = ["duration", "kes", "label", "mbps", "moment", "text", "volume", "yes_no"]


def kes(amount: Decimal | None) -> str:
    return "" if amount is None else f"KES {amount:,.2f}"


def mbps(speed: Decimal | None) -> str:
    return "" if speed is None else f"{speed.normalize():f} Mbps"


def label(value: Any) -> str:
    """ACTIVE → Active, CUSTOMER_CARE → Customer care."""
    return "" if value is None else enum_label(value)


def yes_no(value: bool | None) -> str:
    return "Yes" if value else "No"


def duration(seconds: int | None) -> str:
    if not seconds:
        return "0m"
    hours, rest = divmod(int(seconds), 3600)
    days, hours = divmod(hours, 24)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def volume(octets: int | None) -> str:
    size = float(octets or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.2f} TB"


def text(value: Any) -> str:
    return "" if value is None else str(value)
