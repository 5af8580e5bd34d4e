"""WireGuard peers and the site's VPN identity."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from easyisp_core.errors import NotFound, PermissionDenied
from easyisp_core.models import VpnPeer, VpnSite
from easyisp_core.models.enums import VpnPeerStatus

# One transaction-level advisory lock serialises address allocation site-wide: two staff
# adding routers at once take turns, and the second sees the first's committed address.
ADDRESS_ALLOCATION_LOCK = 0x4541_5359_5650_4E01  # "EASYVPN" + 1


class VpnRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # Allocation --------------------------------------------------------------------------

    def lock_address_allocation(self) -> None:
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADDRESS_ALLOCATION_LOCK}
        )

    def used_addresses(self) -> list[str]:
        """Every tenant's router addresses (a definer function: RLS hides other tenants)."""
        rows = self.session.execute(text("SELECT easyisp_vpn_used_addresses()")).scalars()
        return [str(a) for a in rows]

    # Peers ---------------------------------------------------------------------------------

    def add_peer(self, peer: VpnPeer) -> VpnPeer:
        self.session.add(peer)
        self.session.flush()
        return peer

    def peer_for_nas(self, nas_id: uuid.UUID) -> VpnPeer | None:
        return self.session.scalar(select(VpnPeer).where(VpnPeer.nas_id == nas_id))

    def get_peer(self, peer_id: uuid.UUID) -> VpnPeer:
        peer = self.session.get(VpnPeer, peer_id)
        if peer is None:
            raise NotFound("No such VPN peer.")
        return peer

    # Plain UPDATEs: the ORM's onupdate would also SET updated_at, a column staff may not
    # update (a trigger stamps it), so ORM flushes of these rows fail under staff logins.

    def set_nas_vpn_ip(self, nas_id: uuid.UUID, address: str) -> None:
        self.session.execute(
            text("UPDATE nas SET vpn_ip = :ip WHERE id = :id"), {"ip": address, "id": nas_id}
        )

    def set_peer_status(self, peer_id: uuid.UUID, status: VpnPeerStatus) -> VpnPeer:
        result = self.session.execute(
            text("UPDATE vpn_peers SET status = CAST(:s AS vpn_peer_status) WHERE id = :id"),
            {"s": status.value, "id": peer_id},
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            # Row-level security hides a peer from an UPDATE without an error.
            raise PermissionDenied(
                "You do not have permission to change this VPN peer, or it was deleted meanwhile."
            )
        peer = self.get_peer(peer_id)
        self.session.refresh(peer)
        return peer

    def peer_private_key(self, peer_id: uuid.UUID) -> bytes | None:
        value = self.session.execute(
            text("SELECT easyisp_vpn_peer_private_key(:p)"), {"p": peer_id}
        ).scalar_one()
        return None if value is None else bytes(value)

    def active_peers(self) -> Sequence[tuple[str, str]]:
        """(public key, address) of every ACTIVE peer, all tenants (the site service)."""
        rows = self.session.execute(
            select(VpnPeer.public_key, VpnPeer.assigned_ip)
            .where(VpnPeer.status == VpnPeerStatus.ACTIVE)
            .order_by(VpnPeer.assigned_ip)
        ).all()
        return [(r.public_key, str(r.assigned_ip)) for r in rows]

    def record_peer_stats(
        self, public_key: str, last_handshake_at: datetime | None, rx_bytes: int, tx_bytes: int
    ) -> int:
        result = self.session.execute(
            text(
                "UPDATE vpn_peers SET last_handshake_at = :at, rx_bytes = :rx, tx_bytes = :tx "
                "WHERE public_key = :key"
            ),
            {"at": last_handshake_at, "rx": rx_bytes, "tx": tx_bytes, "key": public_key},
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # The site ------------------------------------------------------------------------------

    def site(self) -> VpnSite | None:
        return self.session.get(VpnSite, 1)

    def save_site(
        self,
        *,
        interface_name: str,
        public_key: str,
        endpoint_host: str,
        endpoint_port: int,
        address_range: str,
    ) -> None:
        values = {
            "interface_name": interface_name,
            "public_key": public_key,
            "endpoint_host": endpoint_host,
            "endpoint_port": endpoint_port,
            "address_range": address_range,
        }
        statement = insert(VpnSite).values(id=1, **values)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[VpnSite.id], set_={**values, "updated_at": text("now()")}
            )
        )
        self.session.expire_all()
