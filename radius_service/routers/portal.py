"""Where the payment portal is, as routers need it: a host name for the hotspot walled garden
and an IPv4 address for the firewall redirect of expired subscribers."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from easyisp_core.errors import ValidationFailed
from easyisp_core.settings import Settings


@dataclass(frozen=True, slots=True)
class PortalTarget:
    host: str
    address: str


def portal_target(settings: Settings) -> PortalTarget:
    url = settings.resolved_portal_url
    if not url:
        raise ValidationFailed(
            {"portal_url": "not set"},
            "The payment portal's address is unknown: set EASYISP_PORTAL_URL "
            "(or EASYISP_VPN_ENDPOINT_HOST, from which it defaults).",
        )
    host = urlsplit(url if "//" in url else f"http://{url}").hostname
    if not host:
        raise ValidationFailed(
            {"portal_url": "no host"}, f"EASYISP_PORTAL_URL has no host name: {url!r}."
        )
    return PortalTarget(host, settings.portal_address or _ipv4_of(host))


def _ipv4_of(host: str) -> str:
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ValidationFailed(
            {"portal_address": "unresolved"},
            f"Cannot resolve the portal host {host!r} ({exc}); set EASYISP_PORTAL_ADDRESS.",
        ) from None
    return str(infos[0][4][0])
