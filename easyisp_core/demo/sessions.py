"""RADIUS accounting history for demo customers: closed sessions with usage, some still open.

Pure and seeded, like the generator that calls it once per customer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from easyisp_core.demo.catalog import TERMINATE_CAUSES
from easyisp_core.demo.dice import Dice, Weighted
from easyisp_core.demo.names import ROUTER_OUIS
from easyisp_core.demo.rows import SessionRow, TenantContext
from easyisp_core.models.enums import ConnectionType, CustomerStatus

ACTIVE = CustomerStatus.ACTIVE.value
EXPIRED = CustomerStatus.EXPIRED.value
HOTSPOT = ConnectionType.HOTSPOT.value
DHCP = ConnectionType.DHCP.value
DAY = 86_400.0
# Sessions older than this would fall outside the monthly partitions the migration creates.
HISTORY = timedelta(days=300)


class SessionHistory:
    """Sessions of one tenant's customers, drawn from the tenant's Dice."""

    def __init__(self, ctx: TenantContext, dice: Dice) -> None:
        self._dice = dice
        self._tid = ctx.tenant_id
        self._now = ctx.now
        self._oldest_session = ctx.now - HISTORY
        self._code = ctx.tenant.code.lower()
        self._cause = Weighted(dice, TERMINATE_CAUSES, (30, 25, 15, 10, 5, 5, 10))

    def add(
        self,
        out: list[SessionRow],
        cid: str,
        username: str,
        ctype: str,
        status: str,
        down_bps: float,
        nas_id: str,
        created: datetime,
        expires: datetime,
        mac: str | None,
        static_ip: str | None,
    ) -> None:
        """Append a customer's sessions, newest first: active customers have 1-3 (often one
        still open), expired ones up to 2 before their expiry, suspended ones at most 1."""
        d, now = self._dice, self._now
        r = d.random()
        if status == ACTIVE:
            count = 1 + (r < 0.6) + (r < 0.2)
        elif status == EXPIRED:
            count = (r < 0.7) + (r < 0.3)
        else:
            count = int(r < 0.5)
        if not count:
            return
        hotspot = ctype == HOTSPOT
        device = mac or d.mac(d.choice(ROUTER_OUIS))
        code = self._code
        if hotspot:
            service, called, port = "HOTSPOT", f"hotspot-{code}", "bridge-hotspot"
        elif ctype == DHCP:
            service, called, port = "DHCP", f"dhcp-{code}", "ether3-dhcp"
        else:
            service, called, port = "PPPOE", f"pppoe-{code}", f"vlan{100 + d.randrange(20)}"
        end = now if status == ACTIVE else min(now, expires)
        oldest = max(self._oldest_session, created)
        is_open = status == ACTIVE and d.random() < 0.45
        for j in range(count):
            # Hotspot visits last minutes to hours; home routers stay connected for days.
            duration = d.uniform(300, 3 * 3600) if hotspot else 1800 + d.random() ** 2 * 5 * DAY
            if j == 0 and is_open:
                started = now - timedelta(seconds=duration)
                updated = now - timedelta(seconds=d.uniform(0, 300))
                stopped = None
                cause = None
                seconds = int((updated - started).total_seconds())
            else:
                stopped = end - timedelta(seconds=d.uniform(60, 2 * DAY))
                started = stopped - timedelta(seconds=duration)
                updated = stopped
                cause = self._cause()
                seconds = int(duration)
            if started < oldest:
                break
            end = started - timedelta(seconds=d.uniform(30, 6 * 3600))
            if static_ip is not None:
                ip = static_ip
            elif hotspot:
                ip = f"10.5.{50 + d.randrange(8)}.{d.randrange(2, 254)}"
            elif ctype == DHCP:
                ip = f"192.168.{88 + d.randrange(4)}.{d.randrange(2, 254)}"
            else:
                ip = f"172.{16 + d.randrange(16)}.{d.randrange(256)}.{d.randrange(2, 254)}"
            # Download (Acct-Output-Octets) is a small, skewed share of what the plan allows.
            down = int(seconds * down_bps * (0.003 + d.random() ** 2 * 0.15))
            up = int(down * d.uniform(0.04, 0.25))
            out.append(
                SessionRow(
                    started, self._tid, nas_id, cid, username, d.hex(8), d.hex(32), service, ip,
                    device, called, port, up, down, up // 420 + 1, down // 1100 + 1, seconds,
                    updated, stopped, cause,
                )
            )  # fmt: skip
