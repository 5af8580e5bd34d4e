"""The site overview the console's dashboard shows: subscribers, routers, money, service health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.repositories.dashboard import site_counts

DEFAULT_TIMEZONE = "Africa/Nairobi"
# The service beats every 10 s by default; three missed beats means it is gone.
SERVICE_STALE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class SiteOverview:
    tenants: int
    customers: int
    active_customers: int
    routers_online: int
    routers_offline: int
    routers_pending: int
    payments_today_total: Decimal
    payments_today_count: int
    service_running: bool
    service_last_beat_at: datetime | None
    # When the figures were taken, by the database's clock.
    as_of: datetime


def service_is_running(
    last_beat_at: datetime | None, now: datetime, stale_after: timedelta = SERVICE_STALE_AFTER
) -> bool:
    """A site service counts as running while its latest heartbeat is at most `stale_after` old."""
    return last_beat_at is not None and now - last_beat_at <= stale_after


def site_overview(session: Session, *, timezone: str = DEFAULT_TIMEZONE) -> SiteOverview:
    """Figures across all tenants; "payments today" is the calendar day in `timezone`."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed({"timezone": f"unknown time zone {timezone!r}"}) from exc
    counts = site_counts(session, timezone)
    return SiteOverview(
        tenants=counts.tenants,
        customers=counts.customers,
        active_customers=counts.active_customers,
        routers_online=counts.routers_online,
        routers_offline=counts.routers_offline,
        routers_pending=counts.routers_pending,
        payments_today_total=counts.payments_today_total,
        payments_today_count=counts.payments_today_count,
        service_running=service_is_running(counts.latest_heartbeat_at, counts.database_now),
        service_last_beat_at=counts.latest_heartbeat_at,
        as_of=counts.database_now,
    )
