"""Use cases behind disconnecting and re-rating live sessions: which sessions a customer has
open on which router (with the router's CoA secret), the rate limit their package gives now,
and queueing a disconnect for a customer who is online. Never commits.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox, SecretDecryptionFailed
from easyisp_core.models.enums import CustomerStatus, ServiceCommandKind
from easyisp_core.repositories.radius import RadiusRepository
from easyisp_core.repositories.service_command_queue import ServiceCommandQueue
from easyisp_core.rules.rate_limit import build_rate_limit
from easyisp_core.services.nas import NAS_SECRET
from easyisp_core.services.radius_auth import (
    SubscriberAccount,
    find_subscriber,
    package_view,
    tenant_policy,
    with_data_used,
)

log = logging.getLogger(__name__)

STALE_CAUSE = "Stale-Session"


@dataclass(frozen=True, slots=True)
class SessionTarget:
    """An open session and where to send its CoA/Disconnect. `router_ip`/`secret` are None
    when the session has no router (deleted) or the router's secret does not decrypt."""

    id: int
    started_at: datetime
    username: str
    session_id: str
    framed_ip: str | None
    router_ip: str | None
    coa_port: int
    secret: bytes | None
    # The router it is on (None when the router was deleted): for the router API fallback.
    nas_id: uuid.UUID | None = None

    @property
    def label(self) -> str:
        where = self.router_ip or "no router"
        return f"session {self.session_id} of {self.username} on {where}"


def open_session_targets(
    session: Session, box: SecretBox, customer_id: uuid.UUID
) -> list[SessionTarget]:
    targets: list[SessionTarget] = []
    for row in ServiceCommandQueue(session).open_sessions(customer_id):
        secret: bytes | None = None
        if row.secret_enc is not None:
            try:
                secret = box.decrypt(row.secret_enc, NAS_SECRET).encode("utf-8")
            except SecretDecryptionFailed:
                log.error("router %s: its RADIUS secret does not decrypt", row.nas_id)
        targets.append(
            SessionTarget(
                row.id,
                row.started_at,
                row.username,
                row.session_id,
                row.framed_ip,
                row.router_ip,
                row.coa_port or 3799,
                secret,
                row.nas_id,
            )
        )
    return targets


def session_is_open(session: Session, target: SessionTarget) -> bool:
    return ServiceCommandQueue(session).session_is_open(target.id, target.started_at)


def current_rate_limit(
    session: Session, tenant_id: uuid.UUID, customer_id: uuid.UUID, now: datetime
) -> str | None:
    """The Mikrotik-Rate-Limit the customer's package gives (None: no customer or package,
    or a customer not entitled to it now: suspended or expired subscribers online in the
    expired pool keep the pool's limit)."""
    username = ServiceCommandQueue(session).customer_username(customer_id)
    if username is None:
        return None
    row = RadiusRepository(session).subscriber_by_username(tenant_id, username)
    if row is None or row.package is None or row.status is not CustomerStatus.ACTIVE:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return build_rate_limit(package_view(row.package).rate_limit)


def data_cap_used_up(
    session: Session, tenant_id: uuid.UUID, customer_id: uuid.UUID, now: datetime
) -> bool:
    """Whether the customer's package has a data cap and this period's traffic has used it
    up: the reading RADIUS auth makes (with_data_used), which then refuses the login or puts
    it in the expired pool, so the package's full speed must not be pushed to them."""
    username = ServiceCommandQueue(session).customer_username(customer_id)
    account = None if username is None else find_subscriber(session, tenant_id, username)
    if account is None:
        return False
    policy = tenant_policy(session, tenant_id)
    counted = with_data_used(session, tenant_id, account, policy, now)
    assert isinstance(counted, SubscriberAccount)
    package = counted.view.package
    if package is None or package.data_cap_bytes is None:
        return False
    return counted.view.data_used_bytes >= package.data_cap_bytes


def queue_disconnect_if_online(
    session: Session,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    *,
    reason: str,
    requested_by: uuid.UUID | None = None,
) -> int | None:
    """Queue a DISCONNECT when the customer has an open session and none is pending yet;
    the new command's id, or None when nothing needed queueing."""
    queue = ServiceCommandQueue(session)
    if not queue.has_open_session(customer_id):
        return None
    if queue.has_unfinished(customer_id, ServiceCommandKind.DISCONNECT):
        return None
    return queue.enqueue(
        tenant_id,
        ServiceCommandKind.DISCONNECT,
        customer_id=customer_id,
        payload={"reason": reason},
        requested_by=requested_by,
    )


def close_stale_sessions(
    session: Session, *, now: datetime, interim_interval: int, grace: timedelta
) -> int:
    """Close sessions with no accounting for two interim intervals plus `grace` (a router
    that rebooted or lost its link never sends their Stop); how many were closed."""
    silent_since = now - 2 * timedelta(seconds=interim_interval) - grace
    return ServiceCommandQueue(session).close_stale_sessions(
        silent_since=silent_since, cause=STALE_CAUSE
    )


def queue_due_disconnects(session: Session, now: datetime) -> list[int]:
    """Queue a DISCONNECT for every online customer who is expired (by status or because
    `expires_at` has passed) or suspended and has none pending; the new command ids."""
    queue = ServiceCommandQueue(session)
    return [
        queue.enqueue(
            tenant_id,
            ServiceCommandKind.DISCONNECT,
            customer_id=customer_id,
            payload={"reason": reason},
        )
        for tenant_id, customer_id, reason in queue.online_to_cut(now)
    ]


def next_expiry_online(session: Session, now: datetime) -> datetime | None:
    return ServiceCommandQueue(session).next_expiry_online(now)
