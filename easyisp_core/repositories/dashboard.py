"""Site-wide figures for the console's dashboard, read in one round trip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func, literal, or_, select
from sqlalchemy.orm import Session

from easyisp_core.models import Customer, Nas, Payment, ServiceHeartbeat, Tenant
from easyisp_core.models.enums import CustomerStatus, NasStatus, PaymentStatus


@dataclass(frozen=True)
class SiteCounts:
    tenants: int
    customers: int
    active_customers: int
    routers_online: int
    routers_offline: int
    routers_pending: int
    payments_today_total: Decimal
    payments_today_count: int
    latest_heartbeat_at: datetime | None
    # The database's clock: what heartbeat ages and "today" are measured against.
    database_now: datetime


def site_counts(session: Session, timezone: str) -> SiteCounts:
    """Counts across every tenant. "Today" is the calendar day in `timezone` (an IANA name).

    A customer is active when their status is ACTIVE and their time has not run out: the
    status is flipped by a periodic job, and the dashboard must not lag behind it."""
    now = func.now()
    day_start = func.date_trunc("day", now, literal(timezone))
    day_end = day_start + literal(timedelta(days=1))

    def count(*where: ColumnElement[bool], entity: type = Customer) -> ColumnElement[int]:
        return select(func.count()).select_from(entity).where(*where).scalar_subquery()

    def routers(status: NasStatus) -> ColumnElement[int]:
        return count(Nas.status == status, entity=Nas)

    paid_today = (
        Payment.status == PaymentStatus.COMPLETED,
        Payment.paid_at >= day_start,
        Payment.paid_at < day_end,
    )
    row = session.execute(
        select(
            count(entity=Tenant).label("tenants"),
            count().label("customers"),
            count(
                Customer.status == CustomerStatus.ACTIVE,
                or_(Customer.expires_at.is_(None), Customer.expires_at > now),
            ).label("active_customers"),
            routers(NasStatus.ONLINE).label("routers_online"),
            routers(NasStatus.OFFLINE).label("routers_offline"),
            routers(NasStatus.PENDING).label("routers_pending"),
            select(func.coalesce(func.sum(Payment.amount), 0))
            .where(*paid_today)
            .scalar_subquery()
            .label("payments_today_total"),
            count(*paid_today, entity=Payment).label("payments_today_count"),
            select(func.max(ServiceHeartbeat.last_beat_at))
            .scalar_subquery()
            .label("latest_heartbeat_at"),
            now.label("database_now"),
        )
    ).one()
    return SiteCounts(
        tenants=int(row.tenants),
        customers=int(row.customers),
        active_customers=int(row.active_customers),
        routers_online=int(row.routers_online),
        routers_offline=int(row.routers_offline),
        routers_pending=int(row.routers_pending),
        payments_today_total=Decimal(row.payments_today_total),
        payments_today_count=int(row.payments_today_count),
        latest_heartbeat_at=row.latest_heartbeat_at,
        database_now=row.database_now,
    )
