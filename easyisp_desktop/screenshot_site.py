"""What the screenshots need beyond the demo data: router health as the site service would
have written it, the site's VPN identity, and a service answering a Sync preview.

Only the screenshot script uses this (through core repositories, off the window's pages);
the demo itself leaves routers PENDING until a service polls them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.models.enums import NasStatus, ServiceCommandStatus
from easyisp_core.repositories.nas import NasRepository
from easyisp_core.repositories.router_health import Figures, RouterHealthRepository
from easyisp_core.repositories.service_command_queue import ServiceCommandQueue
from easyisp_core.repositories.tenants import TenantRepository
from easyisp_core.services.vpn import VpnSiteInfo, publish_site, read_site
from easyisp_core.wireguard_keys import generate_key_pair

SYNC_PREVIEW = "\n".join(
    (
        "/radius: add address=10.10.0.1 service=ppp,hotspot timeout=3s",
        "/radius incoming: set accept=yes port=3799",
        "/ppp profile: add name=home-10 rate-limit=10M/10M",
        "/ppp profile: set home-5 rate-limit=5M/5M (was 4M/4M)",
        "/ip firewall address-list: add list=expired address=10.20.0.0/16",
        "/ip hotspot walled-garden: add dst-host=*.safaricom.co.ke",
    )
)
BOARDS = ("hAP ac2", "RB4011iGS+", "hEX S", "CCR2004-16G-2S+")


def prepare_router_site(session: Session, tenant: str, routers: Sequence[str]) -> None:
    """Most routers ONLINE with figures, one OFFLINE with its reason, the last PENDING."""
    now = datetime.now(UTC)
    health = RouterHealthRepository(session)
    tenant_id = TenantRepository(session).get_by_name(tenant).id
    nas = NasRepository(session)
    for n, name in enumerate(routers[:-1]):
        nas_id = nas.get_by_name(tenant_id, name).id
        figures = Figures(
            identity=f"router-{n}",
            version="7.15.2 (stable)" if n % 3 else "6.49.10 (long-term)",
            board=BOARDS[n % len(BOARDS)],
            uptime=f"{3 + n}d{n % 24}h{(7 * n) % 60}m",
            cpu_load=(11 * n + 4) % 70,
            free_memory=(90 + 13 * n % 60) * 1024 * 1024,
            total_memory=256 * 1024 * 1024,
        )
        if n == 1:  # answered a while ago, silent since
            health.record_success(nas_id, NasStatus.ONLINE, figures, now - timedelta(minutes=7))
            health.record_failure(
                nas_id, NasStatus.OFFLINE, "unreachable: API timed out after 10 s", 3, now
            )
        else:
            health.record_success(nas_id, NasStatus.ONLINE, figures, now)
    if read_site(session) is None:
        publish_site(
            session,
            VpnSiteInfo("wg-easyisp", generate_key_pair().public_key, "203.0.113.10", 51820,
                        "10.10.0.0/16"),
        )  # fmt: skip


def answer_sync_preview(sessions: sessionmaker[Session], command_id: int) -> None:
    """The site service's answer to a Sync preview (run in a worker)."""
    with session_scope(sessions) as session:
        ServiceCommandQueue(session).finish(
            command_id, ServiceCommandStatus.DONE, result=SYNC_PREVIEW, at=datetime.now(UTC)
        )
