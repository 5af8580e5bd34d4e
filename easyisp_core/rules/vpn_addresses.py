"""Which WireGuard address a new router gets: the lowest free host of the site's range.

The site itself takes the first host; every router gets one /32 (or /128) after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from easyisp_core.errors import Conflict

IpNetwork = IPv4Network | IPv6Network
IpAddress = IPv4Address | IPv6Address

DEFAULT_RANGE = "10.10.0.0/16"


def parse_range(text: str) -> IpNetwork:
    """A configured range such as 10.10.0.0/16; at least four addresses so routers fit."""
    try:
        network = ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a network address with a prefix length") from exc
    if network.num_addresses < 4:
        raise ValueError(f"{text} is too small for a site and its routers")
    return network


def site_address(network: IpNetwork) -> IpAddress:
    return ip_address(network.network_address + 1)


def first_free_address(network: IpNetwork, used: Iterable[str | IpAddress]) -> IpAddress:
    """The lowest host of `network` that is neither the site's nor in `used`."""
    taken = {ip_address(str(a).split("/")[0]) for a in used}
    taken.add(site_address(network))
    for host in network.hosts():
        candidate = ip_address(host)
        if candidate not in taken:
            return candidate
    raise Conflict(f"The VPN range {network} has no free address left; widen it.")
