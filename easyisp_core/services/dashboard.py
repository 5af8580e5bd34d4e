"""The console's dashboard: the site at a glance, each part only for the staff who may see it.

One call reads everything the dashboard shows. Which parts are filled follows the login's
permissions (a part it may not see is None, never zero): row-level security would hide the
rows anyway, but "KES 0.00" for someone who may not see money would be a lie.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.repositories import dashboard as figures
from easyisp_core.services.identity import SessionIdentity, current_identity

DEFAULT_TIMEZONE = "Africa/Nairobi"
# The service beats every 10 s by default; three missed beats means it is gone.
SERVICE_STALE_AFTER = timedelta(seconds=30)
EXPIRING_WITHIN = timedelta(hours=24)
EXPIRING_SHOWN = 8
OFFLINE_SHOWN = 6
REVENUE_DAYS = 14


@dataclass(frozen=True)
class ExpiringCustomer:
    id: uuid.UUID
    full_name: str
    username: str
    phone: str | None
    package: str | None
    expires_at: datetime


@dataclass(frozen=True)
class CustomerFigures:
    active: int
    expired: int
    suspended: int
    # How many run out within EXPIRING_WITHIN; `expiring` lists the soonest of them.
    expiring_count: int
    expiring: tuple[ExpiringCustomer, ...]

    @property
    def total(self) -> int:
        return self.active + self.expired + self.suspended


@dataclass(frozen=True)
class OfflineRouter:
    id: uuid.UUID
    name: str
    problem: str | None
    last_seen_at: datetime | None


@dataclass(frozen=True)
class RouterFigures:
    online: int
    offline: int
    pending: int
    offline_routers: tuple[OfflineRouter, ...]


@dataclass(frozen=True)
class DayRevenue:
    day: date
    total: Decimal


@dataclass(frozen=True)
class RevenueFigures:
    today: Decimal
    today_count: int
    month: Decimal
    # The last REVENUE_DAYS days, oldest first, today last; a day without payments is 0.
    days: tuple[DayRevenue, ...]


@dataclass(frozen=True)
class MpesaWaiting:
    suspense: int  # paybill payments naming no customer
    review: int  # callbacks kept for a person to look at


@dataclass(frozen=True)
class DashboardFigures:
    as_of: datetime  # by the database's clock
    today: date  # in the site's time zone
    service_running: bool
    service_last_beat_at: datetime | None
    online_now: int | None  # sessions.read
    customers: CustomerFigures | None  # customers.read
    routers: RouterFigures | None  # nas.read
    revenue: RevenueFigures | None  # payments.read
    mpesa: MpesaWaiting | None  # payments.read


def service_is_running(
    last_beat_at: datetime | None, now: datetime, stale_after: timedelta = SERVICE_STALE_AFTER
) -> bool:
    """A site service counts as running while its latest heartbeat is at most `stale_after` old."""
    return last_beat_at is not None and now - last_beat_at <= stale_after


def revenue_figures(
    totals: Iterable[figures.DayTotal], today: date, days: int = REVENUE_DAYS
) -> RevenueFigures:
    """Today, this month and the last `days` days from per-day totals (missing days are 0)."""
    by_day = {t.day: t for t in totals}
    zero = Decimal("0.00")
    todays = by_day.get(today)
    month = sum(
        (t.total for t in by_day.values() if (t.day.year, t.day.month) == (today.year, today.month)
         and t.day <= today),
        zero,
    )  # fmt: skip
    series = tuple(
        DayRevenue(d, by_day[d].total if d in by_day else zero)
        for d in (today - timedelta(days=n) for n in range(days - 1, -1, -1))
    )
    return RevenueFigures(
        today=todays.total if todays else zero,
        today_count=todays.count if todays else 0,
        month=month,
        days=series,
    )


def _scope(identity: SessionIdentity) -> uuid.UUID | None:
    """The tenant every row will be of (None: RLS lets this login see several, or all)."""
    return None if identity.may("tenants.manage") else identity.tenant_id


def dashboard_figures(
    session: Session,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    identity: SessionIdentity | None = None,
) -> DashboardFigures:
    """Everything the dashboard shows, as this login may see it. `identity` defaults to the
    session's own login (asked of the database, so a part is never shown on a stale belief)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed({"timezone": f"unknown time zone {timezone!r}"}) from exc
    who = identity if identity is not None else current_identity(session)
    tenant = _scope(who)
    clock = figures.clock(session, timezone)

    customers = None
    if who.may("customers.read"):
        counts = figures.customer_counts(session, EXPIRING_WITHIN)
        soonest = figures.expiring_customers(session, tenant, EXPIRING_WITHIN, EXPIRING_SHOWN)
        customers = CustomerFigures(
            active=counts.active,
            expired=counts.expired,
            suspended=counts.suspended,
            expiring_count=counts.expiring,
            expiring=tuple(
                ExpiringCustomer(r.id, r.full_name, r.username, r.phone, r.package, r.expires_at)
                for r in soonest
            ),
        )
    routers = None
    if who.may("nas.read"):
        nas = figures.router_counts(session, tenant)
        down = figures.offline_routers(session, tenant, OFFLINE_SHOWN)
        routers = RouterFigures(
            online=nas.online,
            offline=nas.offline,
            pending=nas.pending,
            offline_routers=tuple(
                OfflineRouter(r.id, r.name, r.problem, r.last_seen_at) for r in down
            ),
        )
    revenue = mpesa = None
    if who.may("payments.read"):
        # Far enough back for both the chart and the month so far: one statement.
        since = min(clock.today.replace(day=1), clock.today - timedelta(days=REVENUE_DAYS - 1))
        revenue = revenue_figures(
            figures.daily_revenue(session, tenant, timezone, since), clock.today
        )
        mpesa = MpesaWaiting(*figures.mpesa_waiting(session, tenant))
    return DashboardFigures(
        as_of=clock.now,
        today=clock.today,
        service_running=service_is_running(clock.latest_heartbeat_at, clock.now),
        service_last_beat_at=clock.latest_heartbeat_at,
        online_now=(figures.open_sessions(session) if who.may("sessions.read") else None),
        customers=customers,
        routers=routers,
        revenue=revenue,
        mpesa=mpesa,
    )
