"""How long a purchase lasts, and when a renewal starts."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from easyisp_core.models.enums import ValidityUnit

_FIXED = {
    ValidityUnit.MINUTES: timedelta(minutes=1),
    ValidityUnit.HOURS: timedelta(hours=1),
    ValidityUnit.DAYS: timedelta(days=1),
    ValidityUnit.WEEKS: timedelta(weeks=1),
}


def add_validity(start: datetime, value: int, unit: ValidityUnit, tz: ZoneInfo) -> datetime:
    """start + value units. Months are calendar months in the tenant's zone, clamped to the
    month's last day (Jan 31 + 1 month = Feb 28/29), so "monthly" means the same date."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if value <= 0:
        raise ValueError("validity must be positive")
    if unit in _FIXED:
        return start + _FIXED[unit] * value
    local = start.astimezone(tz)
    month_index = local.month - 1 + value
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(start.tzinfo)


def subtract_validity(end: datetime, value: int, unit: ValidityUnit, tz: ZoneInfo) -> datetime:
    """end - value units, the reverse of add_validity (months clamped the same way)."""
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    if value <= 0:
        raise ValueError("validity must be positive")
    if unit in _FIXED:
        return end - _FIXED[unit] * value
    local = end.astimezone(tz)
    month_index = local.month - 1 - value
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(end.tzinfo)


# A subscription paid years ahead still ends the walk back quickly enough.
_MAX_PERIODS = 10_000


def period_start(
    now: datetime, expires_at: datetime, value: int, unit: ValidityUnit, tz: ZoneInfo
) -> datetime:
    """Where the current billing period began: `expires_at` minus whole validities until the
    start is not after `now` (renewals paid ahead stack whole periods: each has its own data
    cap). For a subscription already expired, the last period."""
    start = expires_at
    for periods in range(1, _MAX_PERIODS + 1):
        # Always counted from expires_at, so month clamping never drifts (31st → 28th …).
        start = subtract_validity(expires_at, value * periods, unit, tz)
        if start <= now:
            break
    return start


def renewal_start(now: datetime, current_expiry: datetime | None) -> datetime:
    """A renewal extends from the later of now and the current expiry: paying early never
    loses the days already paid for, and paying late does not backdate."""
    if current_expiry is None or current_expiry < now:
        return now
    return current_expiry


def validity_seconds_estimate(value: int, unit: ValidityUnit) -> int:
    """Approximate length in seconds (a month counts 30 days); for display and sorting only."""
    if unit is ValidityUnit.MONTHS:
        return value * 30 * 86400
    return int((_FIXED[unit] * value).total_seconds())
