"""Router health: the rows the site service polls and what it records (all tenants; the
service's role reads api_password_enc directly, see docs/security.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from easyisp_core.models import Nas
from easyisp_core.models.enums import NasStatus


@dataclass(frozen=True, slots=True)
class PollRow:
    nas_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    ip_address: str
    vpn_ip: str | None
    api_host: str | None
    api_port: int
    api_use_tls: bool
    api_username: str
    api_password_enc: bytes | None
    status: NasStatus
    health_failures: int
    api_tls_fingerprint: str | None


@dataclass(frozen=True, slots=True)
class Figures:
    """What the router said about itself (RouterOS's /system identity and resource)."""

    identity: str
    version: str
    board: str
    uptime: str
    cpu_load: int
    free_memory: int
    total_memory: int
    # The API-SSL certificate's SHA-256 (hex); pinned on the first success (TOFU).
    tls_fingerprint: str | None = None


class RouterHealthRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def poll_rows(
        self, nas_id: uuid.UUID | None = None, tenant_id: uuid.UUID | None = None
    ) -> list[PollRow]:
        """Every router with an API user (of every tenant), or just `nas_id` / `tenant_id`'s."""
        query = select(
            Nas.id,
            Nas.tenant_id,
            Nas.name,
            Nas.ip_address,
            Nas.vpn_ip,
            Nas.api_host,
            Nas.api_port,
            Nas.api_use_tls,
            Nas.api_username,
            Nas.api_password_enc,
            Nas.status,
            Nas.health_failures,
            Nas.api_tls_fingerprint,
        ).where(Nas.api_username.is_not(None), Nas.api_username != "")
        if nas_id is not None:
            query = query.where(Nas.id == nas_id)
        if tenant_id is not None:
            query = query.where(Nas.tenant_id == tenant_id)
        rows = self.session.execute(query.order_by(Nas.name, Nas.id)).all()
        return [
            PollRow(
                nas_id=r.id,
                tenant_id=r.tenant_id,
                name=r.name,
                ip_address=str(r.ip_address),
                vpn_ip=None if r.vpn_ip is None else str(r.vpn_ip),
                api_host=r.api_host,
                api_port=r.api_port,
                api_use_tls=r.api_use_tls,
                api_username=r.api_username,
                api_password_enc=None if r.api_password_enc is None else bytes(r.api_password_enc),
                status=r.status,
                health_failures=r.health_failures,
                api_tls_fingerprint=r.api_tls_fingerprint,
            )
            for r in rows
        ]

    def record_success(
        self, nas_id: uuid.UUID, status: NasStatus, figures: Figures, at: datetime
    ) -> None:
        self.session.execute(
            update(Nas)
            .where(Nas.id == nas_id)
            .values(
                status=status,
                last_seen_at=at,
                routeros_version=figures.version[:40] or None,
                router_identity=figures.identity[:100],
                board_name=figures.board[:100],
                uptime=figures.uptime[:40],
                cpu_load=figures.cpu_load,
                free_memory=figures.free_memory,
                total_memory=figures.total_memory,
                health_checked_at=at,
                health_error=None,
                health_failures=0,
                # Trust on first use: an existing pin is never replaced here (a router with
                # another certificate fails to connect before it gets this far).
                api_tls_fingerprint=func.coalesce(Nas.api_tls_fingerprint, figures.tls_fingerprint),
            )
        )

    def record_failure(
        self, nas_id: uuid.UUID, status: NasStatus, error: str, failures: int, at: datetime
    ) -> None:
        """The figures stay: the console shows the last known ones with the error."""
        self.session.execute(
            update(Nas)
            .where(Nas.id == nas_id)
            .values(
                status=status,
                health_checked_at=at,
                health_error=error[:500],
                health_failures=failures,
            )
        )

    def mark_seen(self, nas_ids: Iterable[uuid.UUID], at: datetime) -> int:
        """The routers sent valid RADIUS traffic at `at`: last_seen_at moves forward, never
        back, and a suspected secret mismatch is cleared (the secret works)."""
        ids: Sequence[uuid.UUID] = list(set(nas_ids))
        if not ids:
            return 0
        result = self.session.execute(
            update(Nas)
            .where(Nas.id.in_(ids))
            .where(
                (Nas.last_seen_at.is_(None))
                | (Nas.last_seen_at < at)
                | (Nas.secret_mismatch_since.is_not(None))
            )
            .values(
                last_seen_at=func.greatest(func.coalesce(Nas.last_seen_at, at), at),
                secret_mismatch_since=None,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def flag_secret_mismatch(self, since: dict[uuid.UUID, datetime]) -> int:
        """These routers sent only requests failing the secret check since the given times;
        an earlier flag keeps its time (the mismatch has lasted since then)."""
        count = 0
        for nas_id, at in since.items():
            result = self.session.execute(
                update(Nas)
                .where(Nas.id == nas_id)
                .where(Nas.secret_mismatch_since.is_(None))
                .values(secret_mismatch_since=at)
            )
            count += int(result.rowcount)  # type: ignore[attr-defined]
        return count
