"""WireGuard peers for routers: allocation, keys, enable/disable, and the site's identity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox
from easyisp_core.errors import Conflict, NotFound
from easyisp_core.models import Nas, VpnPeer
from easyisp_core.models.enums import VpnPeerStatus
from easyisp_core.repositories.integrity import translated_db_errors
from easyisp_core.repositories.vpn import VpnRepository
from easyisp_core.rules.vpn_addresses import DEFAULT_RANGE, first_free_address, parse_range
from easyisp_core.wireguard_keys import generate_key_pair, is_valid_key

# Binds the ciphertext to its column (see crypto.SecretBox).
VPN_PRIVATE_KEY = "vpn.private_key"


@dataclass(frozen=True)
class VpnPeerInfo:
    id: uuid.UUID
    nas_id: uuid.UUID | None
    name: str
    public_key: str
    assigned_ip: str
    status: str

    @classmethod
    def of(cls, peer: VpnPeer) -> VpnPeerInfo:
        return cls(
            peer.id,
            peer.nas_id,
            peer.name,
            peer.public_key,
            str(peer.assigned_ip),
            str(peer.status),
        )


@dataclass(frozen=True)
class VpnSiteInfo:
    interface_name: str
    public_key: str
    endpoint_host: str
    endpoint_port: int
    address_range: str


def read_site(session: Session) -> VpnSiteInfo | None:
    site = VpnRepository(session).site()
    if site is None:
        return None
    return VpnSiteInfo(
        site.interface_name,
        site.public_key,
        site.endpoint_host,
        site.endpoint_port,
        str(site.address_range),
    )


def publish_site(session: Session, site: VpnSiteInfo) -> None:
    """The site service records its public identity so consoles can write router scripts."""
    if not is_valid_key(site.public_key):
        raise ValueError("the site's public key is not a WireGuard key")
    parse_range(site.address_range)
    with translated_db_errors(session):
        VpnRepository(session).save_site(
            interface_name=site.interface_name,
            public_key=site.public_key,
            endpoint_host=site.endpoint_host,
            endpoint_port=site.endpoint_port,
            address_range=site.address_range,
        )


def create_peer_for_nas(session: Session, box: SecretBox, nas: Nas) -> VpnPeerInfo:
    """Give a router its WireGuard address and keys (the private key encrypted at rest).

    The allocation lock is held until the caller's transaction ends, so the caller must
    commit promptly; concurrent callers queue on it instead of colliding.
    """
    repo = VpnRepository(session)
    if repo.peer_for_nas(nas.id) is not None:
        raise Conflict(f"Router {nas.name!r} already has a VPN peer.")
    site = repo.site()
    network = parse_range(str(site.address_range) if site else DEFAULT_RANGE)
    keys = generate_key_pair()
    with translated_db_errors(session):
        repo.lock_address_allocation()
        address = str(first_free_address(network, repo.used_addresses()))
        peer = repo.add_peer(
            VpnPeer(
                tenant_id=nas.tenant_id,
                nas_id=nas.id,
                name=nas.name,
                public_key=keys.public_key,
                private_key_enc=box.encrypt(keys.private_key, VPN_PRIVATE_KEY),
                assigned_ip=address,
            )
        )
        repo.set_nas_vpn_ip(nas.id, address)
    # Written with a plain UPDATE: the loaded router must not keep showing the old value.
    session.expire(nas, ["vpn_ip"])
    return VpnPeerInfo.of(peer)


def set_peer_status(session: Session, peer_id: uuid.UUID, status: VpnPeerStatus) -> VpnPeerInfo:
    """Enable or disable a router's tunnel; the site service leaves DISABLED peers out."""
    with translated_db_errors(session):
        peer = VpnRepository(session).set_peer_status(peer_id, status)
    return VpnPeerInfo.of(peer)


def peer_for_nas(session: Session, nas_id: uuid.UUID) -> VpnPeerInfo | None:
    peer = VpnRepository(session).peer_for_nas(nas_id)
    return None if peer is None else VpnPeerInfo.of(peer)


def reveal_peer_private_key(session: Session, box: SecretBox, peer_id: uuid.UUID) -> str:
    """The router's private key for its onboarding script (permission-checked and audited)."""
    with translated_db_errors(session):
        sealed = VpnRepository(session).peer_private_key(peer_id)
    if sealed is None:
        raise NotFound("This VPN peer has no stored private key.")
    return box.decrypt(sealed, VPN_PRIVATE_KEY)
