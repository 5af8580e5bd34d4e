"""The site's WireGuard configuration as text: the wg-quick file and the `wg syncconf` form.

Routers are the ones that dial (they sit behind carrier NAT), so the site's peers have no
endpoint and no keepalive; each peer's AllowedIPs is its single address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SitePeer:
    public_key: str
    address: str  # one host address, e.g. 10.10.0.2


@dataclass(frozen=True, slots=True)
class SiteInterface:
    private_key: str
    address: str  # the site's own address with the range's prefix, e.g. 10.10.0.1/16
    listen_port: int


def _host_route(address: str) -> str:
    return f"{address}/128" if ":" in address else f"{address}/32"


def render_wg_quick(interface: SiteInterface, peers: Sequence[SitePeer]) -> str:
    """The wg-quick file (with `Address`, which plain `wg` does not understand)."""
    return _render(interface, peers, wg_quick=True)


def render_wg(interface: SiteInterface, peers: Sequence[SitePeer]) -> str:
    """What `wg syncconf` takes: the same without wg-quick's own keys (as `wg-quick strip`)."""
    return _render(interface, peers, wg_quick=False)


def _render(interface: SiteInterface, peers: Sequence[SitePeer], *, wg_quick: bool) -> str:
    lines = ["# Written by EasyISP from the ACTIVE router peers; edits are overwritten.", ""]
    lines += ["[Interface]", f"PrivateKey = {interface.private_key}"]
    if wg_quick:
        lines.append(f"Address = {interface.address}")
    lines.append(f"ListenPort = {interface.listen_port}")
    for peer in sorted(peers, key=lambda p: p.public_key):
        lines += ["", "[Peer]", f"PublicKey = {peer.public_key}"]
        lines.append(f"AllowedIPs = {_host_route(peer.address)}")
    return "\n".join(lines) + "\n"
