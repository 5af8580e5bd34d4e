"""SQL behind the RADIUS server: its clients (routers), the accounts a login names, and the
voucher first-use update. Rows come back as plain frozen dataclasses, never ORM objects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from easyisp_core.models import Customer, Nas, Package, Tenant, Voucher
from easyisp_core.models import Session as RadiusSession
from easyisp_core.models.enums import ConnectionType, CustomerStatus, ValidityUnit, VoucherStatus


@dataclass(frozen=True, slots=True)
class NasClientRow:
    nas_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    ip_address: str
    secret_enc: bytes
    require_message_authenticator: bool
    vpn_ip: str | None = None


@dataclass(frozen=True, slots=True)
class PackageRow:
    download_speed: Decimal
    upload_speed: Decimal
    burst_download: Decimal | None
    burst_upload: Decimal | None
    burst_threshold_download: Decimal | None
    burst_threshold_upload: Decimal | None
    burst_time: int | None
    priority: int
    validity_value: int
    validity_unit: ValidityUnit
    session_time: int | None
    data_cap_bytes: int | None
    shared_users: int
    address_pool: str | None


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    customer_id: uuid.UUID
    username: str
    password_enc: bytes | None
    status: CustomerStatus
    connection_type: ConnectionType
    expires_at: datetime | None
    mac_address: str | None
    static_ip: str | None
    package: PackageRow | None


@dataclass(frozen=True, slots=True)
class VoucherRow:
    voucher_id: uuid.UUID
    code: str
    status: VoucherStatus
    valid_until: datetime | None
    expires_at: datetime | None
    package: PackageRow


_PACKAGE_COLUMNS = (
    Package.download_speed,
    Package.upload_speed,
    Package.burst_download,
    Package.burst_upload,
    Package.burst_threshold_download,
    Package.burst_threshold_upload,
    Package.burst_time,
    Package.priority,
    Package.validity_value,
    Package.validity_unit,
    Package.session_time,
    Package.data_cap_bytes,
    Package.shared_users,
    Package.address_pool,
)

_SUBSCRIBER_COLUMNS = (
    Customer.id,
    Customer.username,
    Customer.password_enc,
    Customer.status,
    Customer.connection_type,
    Customer.expires_at,
    Customer.mac_address,
    Customer.static_ip,
    Customer.package_id,
)


def _package(values: tuple[Any, ...]) -> PackageRow:
    return PackageRow(*values)


def _subscriber(row: Any) -> SubscriberRow:
    head = tuple(row[: len(_SUBSCRIBER_COLUMNS)])
    package_id = head[-1]
    package = None if package_id is None else _package(tuple(row[len(_SUBSCRIBER_COLUMNS) :]))
    password = head[2]
    return SubscriberRow(
        customer_id=head[0],
        username=head[1],
        password_enc=None if password is None else bytes(password),
        status=head[3],
        connection_type=head[4],
        expires_at=head[5],
        mac_address=None if head[6] is None else str(head[6]),
        static_ip=None if head[7] is None else str(head[7]),
        package=package,
    )


class RadiusRepository:
    """Reads and the one write an Access-Request needs; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def nas_clients(self) -> list[NasClientRow]:
        rows = self.session.execute(
            select(
                Nas.id,
                Nas.tenant_id,
                Nas.name,
                Nas.ip_address,
                Nas.secret_enc,
                Nas.require_message_authenticator,
                Nas.vpn_ip,
            )
        ).all()
        return [
            NasClientRow(
                row[0],
                row[1],
                row[2],
                str(row[3]),
                bytes(row[4]),
                bool(row[5]),
                None if row[6] is None else str(row[6]),
            )
            for row in rows
        ]

    def nas_fingerprint(self) -> tuple[int, datetime | None]:
        """(count, latest updated_at) of the nas table: cheap to poll for changes."""
        row = self.session.execute(select(func.count(), func.max(Nas.updated_at))).one()
        return int(row[0]), row[1]

    def tenant_config(self, tenant_id: uuid.UUID) -> dict[str, Any] | None:
        config = self.session.scalar(select(Tenant.config).where(Tenant.id == tenant_id))
        return None if config is None else dict(config)

    def _subscriber_query(self) -> Any:
        return select(*_SUBSCRIBER_COLUMNS, *_PACKAGE_COLUMNS).outerjoin(
            Package, Package.id == Customer.package_id
        )

    def subscriber_by_username(self, tenant_id: uuid.UUID, username: str) -> SubscriberRow | None:
        row = self.session.execute(
            self._subscriber_query().where(
                Customer.tenant_id == tenant_id, Customer.username == username
            )
        ).first()
        return None if row is None else _subscriber(row)

    def subscribers_by_mac(self, tenant_id: uuid.UUID, mac: str) -> list[SubscriberRow]:
        """Every customer bound to this MAC (the column is not unique; the caller decides)."""
        rows = self.session.execute(
            self._subscriber_query()
            .where(Customer.tenant_id == tenant_id, Customer.mac_address == mac)
            .limit(2)
        ).all()
        return [_subscriber(row) for row in rows]

    def voucher_by_code(self, tenant_id: uuid.UUID, code: str) -> VoucherRow | None:
        row = self.session.execute(
            select(
                Voucher.id,
                Voucher.code,
                Voucher.status,
                Voucher.valid_until,
                Voucher.expires_at,
                *_PACKAGE_COLUMNS,
            )
            .join(Package, Package.id == Voucher.package_id)
            .where(Voucher.tenant_id == tenant_id, Voucher.code == code)
        ).first()
        if row is None:
            return None
        return VoucherRow(row[0], row[1], row[2], row[3], row[4], _package(tuple(row[5:])))

    def open_session_count(
        self, tenant_id: uuid.UUID, username: str, *, now: datetime, stale_after: timedelta
    ) -> int:
        """Sessions of this username still open and heard from within `stale_after`.

        A router that rebooted without sending Stop leaves rows open forever; counting those
        would refuse every reconnect, so silent ones do not count (the accounting slice
        closes them)."""
        last_heard = func.coalesce(RadiusSession.last_update_at, RadiusSession.started_at)
        count = self.session.scalar(
            select(func.count())
            .select_from(RadiusSession)
            .where(
                RadiusSession.tenant_id == tenant_id,
                RadiusSession.username == username,
                RadiusSession.stopped_at.is_(None),
                last_heard > now - stale_after,
            )
        )
        return int(count or 0)

    def data_used(
        self,
        tenant_id: uuid.UUID,
        *,
        since: datetime,
        customer_id: uuid.UUID | None = None,
        username: str | None = None,
    ) -> int:
        """Octets (in + out, gigawords included) of the sessions started since `since`: a
        subscriber's by customer id (a rename keeps its history), a voucher's by its code."""
        used = func.coalesce(func.sum(RadiusSession.input_octets + RadiusSession.output_octets), 0)
        query = select(used).where(
            RadiusSession.tenant_id == tenant_id, RadiusSession.started_at >= since
        )
        if customer_id is not None:
            query = query.where(RadiusSession.customer_id == customer_id)
        else:
            query = query.where(
                RadiusSession.username == username, RadiusSession.customer_id.is_(None)
            )
        return int(self.session.scalar(query) or 0)

    def mark_voucher_used(
        self, voucher_id: uuid.UUID, *, used_at: datetime, expires_at: datetime, mac: str | None
    ) -> bool:
        """AVAILABLE → USED, only if still AVAILABLE: of two racing first logins exactly one
        gets True (the row lock makes the second re-check the condition and match nothing)."""
        result = self.session.execute(
            update(Voucher)
            .where(Voucher.id == voucher_id, Voucher.status == VoucherStatus.AVAILABLE)
            .values(
                status=VoucherStatus.USED, used_at=used_at, expires_at=expires_at, used_by_mac=mac
            )
            .returning(Voucher.id)
        )
        return result.first() is not None

    # --- the fast path's bulk reads (radius_service.radius.subscriber_cache) ---------------

    def subscribers(
        self,
        *,
        tenant_id: uuid.UUID | None = None,
        customer_id: uuid.UUID | None = None,
        package_id: uuid.UUID | None = None,
    ) -> list[tuple[uuid.UUID, SubscriberRow]]:
        """(tenant, row) of every subscriber matching all the filters given (all when none)."""
        query = self._subscriber_query().add_columns(Customer.tenant_id)
        if tenant_id is not None:
            query = query.where(Customer.tenant_id == tenant_id)
        if customer_id is not None:
            query = query.where(Customer.id == customer_id)
        if package_id is not None:
            query = query.where(Customer.package_id == package_id)
        return [(row[-1], _subscriber(row[:-1])) for row in self.session.execute(query)]

    def tenant_configs(
        self, *, tenant_id: uuid.UUID | None = None
    ) -> dict[uuid.UUID, dict[str, Any]]:
        query = select(Tenant.id, Tenant.config)
        if tenant_id is not None:
            query = query.where(Tenant.id == tenant_id)
        rows = self.session.execute(query).all()
        return {row[0]: dict(row[1] or {}) for row in rows}

    def usernames_with_open_sessions(
        self, *, tenant_id: uuid.UUID | None = None
    ) -> set[tuple[uuid.UUID, str]]:
        """(tenant, username) of every session not stopped (stale ones included)."""
        query = (
            select(RadiusSession.tenant_id, RadiusSession.username)
            .where(RadiusSession.stopped_at.is_(None))
            .distinct()
        )
        if tenant_id is not None:
            query = query.where(RadiusSession.tenant_id == tenant_id)
        return {(row[0], row[1]) for row in self.session.execute(query)}


SUBSCRIBER_CHANNEL = "easyisp_subscribers"


class SubscriberChangeFeed:
    """A dedicated connection LISTENing on the channel migrations 0007 and 0017 notify.

    Payloads are {"table", "tenant", "id"} ({"table": "sessions", "tenant", "username"} for
    a session opening; "table": "tenants" when a tenant's config changed); "id" null means
    "reload that tenant's table"."""

    def __init__(self, engine: Engine) -> None:
        raw = engine.raw_connection()
        connection: Any = raw.driver_connection
        raw.detach()  # never handed back to the pool: it stays LISTENing
        self._connection = connection
        try:
            # The pool's connect hooks may have left a transaction open.
            connection.rollback()
            connection.autocommit = True
            connection.execute(f"LISTEN {SUBSCRIBER_CHANNEL}")
        except BaseException:
            connection.close()
            raise

    def changes(self, timeout: float) -> Iterator[dict[str, Any]]:
        """The notifications arriving within `timeout` seconds, as they arrive."""
        for notification in self._connection.notifies(timeout=timeout):
            yield json.loads(notification.payload)

    def close(self) -> None:
        self._connection.close()
