"""How the workspace writes money, byte counts, durations and the time left."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from easyisp_desktop.framework.display_zone import display_zone, moment

__all__ = ["byte_count", "duration", "kes", "moment", "step_time", "time_left"]


def kes(amount: Decimal | None) -> str:
    """KES 1,500.00 — Decimal all the way, never a float."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}KES {abs(amount).quantize(Decimal('0.01')):,}"


def step_time(iso: str) -> str:
    """A service step's ISO time as the site's time of day (to the second); as written when
    it does not parse."""
    try:
        return datetime.fromisoformat(iso).astimezone(display_zone()).strftime("%H:%M:%S")
    except ValueError:
        return iso


def byte_count(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.2f} TB"


def duration(seconds: int) -> str:
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 24:
        return f"{hours // 24}d {hours % 24}h {minutes}m"
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def time_left(expires_at: datetime | None, now: datetime) -> str:
    if expires_at is None:
        return "no expiry set"
    left = expires_at - now
    if left <= timedelta(0):
        return f"expired {_span(-left)} ago"
    return f"{_span(left)} left"


def _span(delta: timedelta) -> str:
    days = delta.days
    hours = delta.seconds // 3600
    minutes = delta.seconds % 3600 // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
