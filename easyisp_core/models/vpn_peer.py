"""WireGuard peers for reaching routers behind carrier NAT."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base, TenantScoped, Timestamps, UUIDPk, pg_enum
from easyisp_core.models.enums import VpnPeerStatus


class VpnPeer(TenantScoped, Timestamps, Base):
    __tablename__ = "vpn_peers"
    __table_args__ = (
        UniqueConstraint("public_key"),
        # Addresses come from one site-wide range; two routers never share one.
        UniqueConstraint("assigned_ip"),
        UniqueConstraint("nas_id"),
        Index("ix_vpn_peers_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[UUIDPk]
    nas_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nas.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str] = mapped_column(String(44))
    # The seed's privateKey, encrypted with the site key.
    private_key_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_raiseload=True
    )
    preshared_key_enc: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_raiseload=True
    )
    assigned_ip: Mapped[str] = mapped_column(INET)
    endpoint: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[VpnPeerStatus] = mapped_column(
        pg_enum(VpnPeerStatus, "vpn_peer_status"), server_default=VpnPeerStatus.ACTIVE.value
    )
    last_handshake_at: Mapped[datetime | None]
    rx_bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    tx_bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
