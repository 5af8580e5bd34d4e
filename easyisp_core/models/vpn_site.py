"""The site's own WireGuard identity, one row for the whole site (all tenants).

The console on another PC reads it to write router scripts; the site service writes it.
The site's private key is not here: it stays in a file in the service's data directory.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import CIDR
from sqlalchemy.orm import Mapped, mapped_column

from easyisp_core.models.base import Base


class VpnSite(Base):
    __tablename__ = "vpn_site"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("endpoint_port BETWEEN 1 AND 65535", name="endpoint_port_range"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default=text("1"))
    interface_name: Mapped[str] = mapped_column(String(15))
    public_key: Mapped[str] = mapped_column(String(44))
    # Host name or IP address routers dial; v6 routers (no VPN) use it for RADIUS directly.
    endpoint_host: Mapped[str] = mapped_column(String(255))
    endpoint_port: Mapped[int]
    address_range: Mapped[str] = mapped_column(CIDR)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
