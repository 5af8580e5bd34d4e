"""Router health: which routers the site service polls, with their API credentials, and
what a poll's outcome does to the router's row (rules in rules/router_health)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox, SecretDecryptionFailed
from easyisp_core.models.enums import NasStatus
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.router_health import Figures, PollRow, RouterHealthRepository
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.rules.router_health import api_host, status_after_failure, status_after_success
from easyisp_core.services.nas import NAS_API_PASSWORD
from easyisp_core.services.secrets import read_router_secrets

__all__ = ["Figures", "PollOutcome", "PollTarget"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollTarget:
    """One router to poll. `problem` is set when it cannot be polled at all (its password
    does not decrypt): the poll records it as the failure without connecting."""

    nas_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    host: str
    port: int
    use_tls: bool
    username: str
    password: str = field(repr=False)
    status: NasStatus
    failures: int
    problem: str | None = None
    # The API-SSL certificate pinned for this router (SHA-256 hex), if any.
    tls_fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class PollOutcome:
    before: NasStatus
    after: NasStatus

    @property
    def changed(self) -> bool:
        return self.before is not self.after


def load_poll_targets(
    session: Session, box: SecretBox | Callable[[], SecretBox], nas_id: uuid.UUID | None = None
) -> list[PollTarget]:
    """Every router with an API user, all tenants (the site service's view). `box` may be a
    factory: the site key is then only loaded (or created) once a password needs it."""
    rows = RouterHealthRepository(session).poll_rows(nas_id)
    if callable(box) and any(row.api_password_enc is not None for row in rows):
        box = box()
    return [_target(row, box) for row in rows]


def load_router_api(session: Session, box: SecretBox, tenant: str, name: str) -> PollTarget:
    """One router's API access for an operator (`easyisp nas test`): the password is read
    through easyisp_nas_secrets, which checks nas.secrets.read and audits the read."""
    tenant_id = TenantRepository(session).get_by_name(tenant).id
    nas = NasRepository(session).get_by_name(tenant_id, name)
    password = read_router_secrets(session, box, nas.id).api_password or ""
    return PollTarget(
        nas_id=nas.id,
        tenant_id=nas.tenant_id,
        name=nas.name,
        host=api_host(
            str(nas.ip_address), None if nas.vpn_ip is None else str(nas.vpn_ip), nas.api_host
        ),
        port=nas.api_port,
        use_tls=nas.api_use_tls,
        username=nas.api_username or "",
        password=password,
        status=nas.status,
        failures=nas.health_failures,
        tls_fingerprint=nas.api_tls_fingerprint,
    )


def record_success(
    session: Session, target: PollTarget, figures: Figures, at: datetime
) -> PollOutcome:
    after = status_after_success(target.status)
    RouterHealthRepository(session).record_success(target.nas_id, after, figures, at)
    return PollOutcome(target.status, after)


def record_failure(session: Session, target: PollTarget, error: str, at: datetime) -> PollOutcome:
    failures = target.failures + 1
    after = status_after_failure(target.status, failures)
    RouterHealthRepository(session).record_failure(target.nas_id, after, error, failures, at)
    return PollOutcome(target.status, after)


def mark_routers_seen(session: Session, nas_ids: Iterable[uuid.UUID], at: datetime) -> int:
    """The cheap hook for the RADIUS listeners: these routers sent a packet at `at`."""
    return RouterHealthRepository(session).mark_seen(nas_ids, at)


def flag_secret_mismatch(session: Session, since: dict[uuid.UUID, datetime]) -> int:
    """The RADIUS listeners saw only requests failing the secret check from these routers
    (each since the given time); cleared again by `mark_routers_seen`."""
    return RouterHealthRepository(session).flag_secret_mismatch(since)


@dataclass(frozen=True, slots=True)
class ApiRouter:
    nas_id: uuid.UUID
    name: str
    username: str


def routers_with_api_user(session: Session, tenant: str | None = None) -> list[ApiRouter]:
    """The routers the health poll would reach (all tenants, or one by name)."""
    tenant_id = None if tenant is None else TenantRepository(session).get_by_name(tenant).id
    rows = RouterHealthRepository(session).poll_rows(tenant_id=tenant_id)
    return [ApiRouter(row.nas_id, row.name, row.api_username) for row in rows]


def point_router_api(
    session: Session,
    box: SecretBox,
    nas_id: uuid.UUID,
    *,
    host: str,
    port: int,
    username: str,
    password: str,
) -> None:
    """Aim a router's API at `host:port` with these credentials (the demo's simulators)."""
    nas = NasRepository(session).get(nas_id)
    nas.api_host = host
    nas.api_port = port
    nas.api_use_tls = False
    nas.api_username = username
    nas.api_password_enc = box.encrypt(password, NAS_API_PASSWORD)
    session.flush()


def _target(row: PollRow, box: SecretBox | Callable[[], SecretBox]) -> PollTarget:
    password = ""
    problem = None
    if row.api_password_enc is not None and isinstance(box, SecretBox):
        try:
            password = box.decrypt(row.api_password_enc, NAS_API_PASSWORD)
        except SecretDecryptionFailed:
            log.error("router %s (%s): its API password does not decrypt", row.name, row.nas_id)
            problem = (
                "the stored API password cannot be decrypted with this site's key; "
                "enter the router's API password again"
            )
    return PollTarget(
        nas_id=row.nas_id,
        tenant_id=row.tenant_id,
        name=row.name,
        host=api_host(row.ip_address, row.vpn_ip, row.api_host),
        port=row.api_port,
        use_tls=row.api_use_tls,
        username=row.api_username,
        password=password,
        status=row.status,
        failures=row.health_failures,
        problem=problem,
        tls_fingerprint=row.api_tls_fingerprint,
    )
