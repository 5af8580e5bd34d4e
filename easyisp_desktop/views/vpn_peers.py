"""The VPN peers page: the WireGuard tunnels to the routers; enable or disable one with
vpn.write. A peer is created with its router (Routers page → router dialog), not here."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from easyisp_core.models.enums import VpnPeerStatus
from easyisp_core.services.vpn import set_peer_status
from easyisp_desktop.framework.entity_page import DeclaredPage, PageContext
from easyisp_desktop.framework.forms import in_session
from easyisp_desktop.framework.table_model import RIGHT, Column
from easyisp_desktop.views import formatting as fmt

PERMISSION = "vpn.read"
WRITE = "vpn.write"


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

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.add_action("enable", "Enable", lambda: self.set_status(True), permission=WRITE)
        self.add_action("disable", "Disable", lambda: self.set_status(False), permission=WRITE)

    def set_status(self, enabled: bool) -> None:
        row = self.selected_row()
        if row is None:
            return
        status = VpnPeerStatus.ACTIVE if enabled else VpnPeerStatus.DISABLED
        change = in_session(self.context.sessions, lambda s, _v: set_peer_status(s, row.id, status))
        word = "enabled" if enabled else "disabled"
        self.run_command(lambda: change({}), f"VPN peer {row.name} {word}")

    def _update_actions(self, *args: object) -> None:
        super()._update_actions(*args)
        row = self.selected_row()
        if row is not None and "enable" in self.actions_by_key:
            self.actions_by_key["enable"].button.setEnabled(row.status != VpnPeerStatus.ACTIVE)
            self.actions_by_key["disable"].button.setEnabled(row.status == VpnPeerStatus.ACTIVE)
