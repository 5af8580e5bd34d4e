"""The VPN peers page: the WireGuard tunnels to the routers (read-only list)."""

from __future__ import annotations

from easyisp_desktop.framework.entity_page import DeclaredPage
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "vpn.read"


class VpnPeersPage(DeclaredPage):
    TITLE = "VPN peers"
    LISTING = "vpn_peers"
    NOUNS = ("peer", "peers")
    SORT = "name"
    COLUMNS = (
        Column("name", "Name", sort_key="name"),
        Column("router", "Router", fmt.text),
        Column("assigned_ip", "Address"),
        Column("endpoint", "Endpoint", fmt.text),
        Column("status", "Status", fmt.label),
        Column("last_handshake_at", "Last handshake", fmt.moment),
        Column("rx_bytes", "Received", fmt.volume, alignment=RIGHT),
        Column("tx_bytes", "Sent", fmt.volume, alignment=RIGHT),
    )
