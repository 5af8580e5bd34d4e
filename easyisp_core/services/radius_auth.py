"""Use cases behind an Access-Request: the RADIUS clients with their secrets, the account a login
names (as the views rules.radius_auth decides on), the tenant's policy, voucher redemption.

Every function takes the caller's session and never commits: the server opens one transaction
per request, so a voucher is only marked USED together with the Accept that spends it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox, SecretDecryptionFailed
from easyisp_core.repositories.radius import (
    PackageRow,
    RadiusRepository,
    SubscriberRow,
    VoucherRow,
)
from easyisp_core.rules.radius_auth import PackageView, SubscriberView, TenantPolicy, VoucherView
from easyisp_core.rules.rate_limit import RateLimitSpec
from easyisp_core.rules.validity import period_start
from easyisp_core.schemas.tenant_config import ExpiredPolicy, TenantConfig
from easyisp_core.services.nas import NAS_SECRET

log = logging.getLogger(__name__)

# Sessions silent for longer than this do not count against the simultaneous-use limit.
DEFAULT_INTERIM_INTERVAL = 300
STALE_GRACE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class NasClient:
    """A router allowed to talk to the RADIUS server, with its shared secret in clear."""

    nas_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    ip_address: str
    secret: bytes
    require_message_authenticator: bool
    # A router onboarded over WireGuard sends RADIUS from its tunnel address, and is sent
    # CoA there: it is known by both.
    vpn_ip: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriberAccount:
    customer_id: uuid.UUID
    password_enc: bytes | None
    view: SubscriberView


@dataclass(frozen=True, slots=True)
class VoucherAccount:
    voucher_id: uuid.UUID
    view: VoucherView


def load_nas_clients(session: Session, box: SecretBox) -> list[NasClient]:
    """Every router with a readable secret; one whose secret does not decrypt (another site
    key) is left out and logged, so it is dropped like an unknown client."""
    clients: list[NasClient] = []
    for row in RadiusRepository(session).nas_clients():
        try:
            secret = box.decrypt(row.secret_enc, NAS_SECRET)
        except SecretDecryptionFailed:
            log.error("router %s (%s): its RADIUS secret does not decrypt", row.name, row.nas_id)
            continue
        clients.append(
            NasClient(
                row.nas_id,
                row.tenant_id,
                row.name,
                row.ip_address,
                secret.encode("utf-8"),
                row.require_message_authenticator,
                row.vpn_ip,
            )
        )
    return clients


def tenant_policy(session: Session, tenant_id: uuid.UUID) -> TenantPolicy:
    return _policy(tenant_id, RadiusRepository(session).tenant_config(tenant_id) or {})


def tenant_expired_settings(session: Session, tenant_id: uuid.UUID) -> ExpiredPolicy:
    """The tenant's expired-subscriber settings as router sync needs them (defaults when the
    stored configuration does not validate, as for RADIUS)."""
    try:
        config = TenantConfig.model_validate(
            RadiusRepository(session).tenant_config(tenant_id) or {}
        )
    except ValidationError:
        config = TenantConfig()
    return config.expired


def tenant_policies(
    session: Session, *, tenant_id: uuid.UUID | None = None
) -> dict[uuid.UUID, TenantPolicy]:
    """Every tenant's RADIUS policy, or only `tenant_id`'s (the fast path keeps them in
    memory); a tenant that does not exist is absent."""
    configs = RadiusRepository(session).tenant_configs(tenant_id=tenant_id)
    return {tenant: _policy(tenant, raw) for tenant, raw in configs.items()}


def _policy(tenant_id: uuid.UUID, raw: dict[str, Any]) -> TenantPolicy:
    try:
        config = TenantConfig.model_validate(raw)
    except ValidationError:
        # The console validates before saving; a bad row must not lock every subscriber out.
        log.error("tenant %s: invalid config, using the defaults for RADIUS", tenant_id)
        config = TenantConfig()
    return policy_from_config(config)


def policy_from_config(
    config: TenantConfig, *, interim_interval: int = DEFAULT_INTERIM_INTERVAL
) -> TenantPolicy:
    """TenantConfig.expired names its fields for the console; TenantPolicy for the rules."""
    return TenantPolicy(
        accept_expired_into_pool=config.expired.accept_into_expired_pool,
        expired_address_list=config.expired.expired_address_list,
        expired_pool=config.expired.expired_pool_name,
        interim_interval=interim_interval,
        timezone=ZoneInfo(config.timezone),
    )


def package_view(row: PackageRow) -> PackageView:
    return PackageView(
        rate_limit=RateLimitSpec(
            download_mbps=row.download_speed,
            upload_mbps=row.upload_speed,
            burst_download_mbps=row.burst_download,
            burst_upload_mbps=row.burst_upload,
            burst_threshold_download_mbps=row.burst_threshold_download,
            burst_threshold_upload_mbps=row.burst_threshold_upload,
            burst_time_seconds=row.burst_time,
            priority=row.priority,
        ),
        validity_value=row.validity_value,
        validity_unit=row.validity_unit,
        session_time=row.session_time,
        data_cap_bytes=row.data_cap_bytes,
        shared_users=row.shared_users,
        address_pool=row.address_pool,
    )


def _subscriber_account(
    row: SubscriberRow, packages: dict[PackageRow, PackageView] | None = None
) -> SubscriberAccount:
    package: PackageView | None = None
    if row.package is not None:
        if packages is None:
            package = package_view(row.package)
        else:  # a bulk load: one view per package, shared by its subscribers
            package = packages.get(row.package)
            if package is None:
                package = packages[row.package] = package_view(row.package)
    view = SubscriberView(
        username=row.username,
        status=row.status,
        connection_type=row.connection_type,
        expires_at=row.expires_at,
        package=package,
        mac_address=row.mac_address,
        static_ip=row.static_ip,
    )
    return SubscriberAccount(row.customer_id, row.password_enc, view)


def _voucher_account(row: VoucherRow) -> VoucherAccount:
    view = VoucherView(
        code=row.code,
        status=row.status,
        package=package_view(row.package),
        valid_until=row.valid_until,
        expires_at=row.expires_at,
    )
    return VoucherAccount(row.voucher_id, view)


def _storable(name: str) -> bool:
    # PostgreSQL text cannot hold a NUL byte, so no account has such a name, and asking the
    # database for one fails ("text fields cannot contain NUL") instead of finding nobody.
    return "\x00" not in name


def find_subscriber(
    session: Session, tenant_id: uuid.UUID, username: str
) -> SubscriberAccount | None:
    if not _storable(username):
        return None
    row = RadiusRepository(session).subscriber_by_username(tenant_id, username)
    return None if row is None else _subscriber_account(row)


def load_subscribers(
    session: Session,
    *,
    tenant_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    package_id: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID, SubscriberAccount]]:
    """(tenant, account) of the subscribers matching the filters (all when none)."""
    rows = RadiusRepository(session).subscribers(
        tenant_id=tenant_id, customer_id=customer_id, package_id=package_id
    )
    packages: dict[PackageRow, PackageView] = {}
    return [(tenant, _subscriber_account(row, packages)) for tenant, row in rows]


def usernames_online(
    session: Session, *, tenant_id: uuid.UUID | None = None
) -> set[tuple[uuid.UUID, str]]:
    """(tenant, username) with a session not stopped: who may be at a session limit."""
    return RadiusRepository(session).usernames_with_open_sessions(tenant_id=tenant_id)


def find_subscriber_by_mac(
    session: Session, tenant_id: uuid.UUID, mac: str
) -> SubscriberAccount | None:
    """The one customer bound to `mac`; None when none is, or when several are (a MAC login
    cannot tell them apart, so it must not pick one)."""
    rows = RadiusRepository(session).subscribers_by_mac(tenant_id, mac)
    return _subscriber_account(rows[0]) if len(rows) == 1 else None


def find_voucher(session: Session, tenant_id: uuid.UUID, code: str) -> VoucherAccount | None:
    if not _storable(code):
        return None
    row = RadiusRepository(session).voucher_by_code(tenant_id, code)
    return None if row is None else _voucher_account(row)


def open_sessions(
    session: Session, tenant_id: uuid.UUID, username: str, policy: TenantPolicy, now: datetime
) -> int:
    stale_after = timedelta(seconds=2 * policy.interim_interval) + STALE_GRACE
    return RadiusRepository(session).open_session_count(
        tenant_id, username, now=now, stale_after=stale_after
    )


def with_data_used(
    session: Session,
    tenant_id: uuid.UUID,
    account: SubscriberAccount | VoucherAccount,
    policy: TenantPolicy,
    now: datetime,
) -> SubscriberAccount | VoucherAccount:
    """The account with this period's traffic filled in when its package has a data cap
    (the rules then send what is left as Mikrotik-Total-Limit, or refuse at 0); unchanged
    otherwise. The period is the one of the subscription (or voucher) that contains now;
    an unused voucher has used nothing."""
    view = account.view
    package = view.package
    if package is None or package.data_cap_bytes is None or view.expires_at is None:
        return account
    since = period_start(
        now, view.expires_at, package.validity_value, package.validity_unit, policy.timezone
    )
    repository = RadiusRepository(session)
    if isinstance(account, SubscriberAccount):
        used = repository.data_used(tenant_id, since=since, customer_id=account.customer_id)
        return replace(account, view=replace(account.view, data_used_bytes=used))
    used = repository.data_used(tenant_id, since=since, username=account.view.code)
    return replace(account, view=replace(account.view, data_used_bytes=used))


def redeem_voucher(
    session: Session,
    voucher_id: uuid.UUID,
    *,
    used_at: datetime,
    expires_at: datetime,
    mac: str | None,
) -> bool:
    """Mark the voucher USED from now; False when another login got there first."""
    return RadiusRepository(session).mark_voucher_used(
        voucher_id, used_at=used_at, expires_at=expires_at, mac=mac
    )
