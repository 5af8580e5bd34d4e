"""The onboarding script for a new router, as RouterOS script text (pure: data in, text out).

RouterOS v7 gets a WireGuard tunnel to the site, so the router is reachable behind carrier
NAT and RADIUS/API/CoA travel inside the tunnel. RouterOS v6 has no WireGuard: its script
says so at the top and points RADIUS and the API rules at the site's public address.
Every entry the script creates carries `comment=easyisp:<key>`, the same marks router sync
uses, so sync later recognises them and never touches the operator's own entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address

from easyisp_core.onboarding.quoting import quote, value
from easyisp_core.onboarding.secret_check import radius_comment

WG_INTERFACE = "wg-easyisp"
API_GROUP = "easyisp-api"
API_POLICY = "api,read,write,test"
KEEPALIVE = "25s"
INTERIM_UPDATE = "5m"
PPPOE_AUTHENTICATION = "pap,chap,mschap2"


@dataclass(frozen=True, slots=True)
class SiteEndpoint:
    """How routers reach this site: its WireGuard identity and its VPN/public addresses."""

    public_key: str
    endpoint_host: str
    endpoint_port: int
    vpn_address: str  # the site's own address inside the range, e.g. 10.10.0.1
    vpn_prefix: int  # the range's prefix length, e.g. 16
    radius_auth_port: int = 1812
    radius_acct_port: int = 1813


@dataclass(frozen=True, slots=True)
class RouterVpn:
    private_key: str
    address: str  # the router's address inside the range, e.g. 10.10.0.2


@dataclass(frozen=True, slots=True)
class RouterOnboarding:
    name: str
    routeros_major: int  # 6 or 7
    radius_secret: str
    api_username: str
    api_password: str
    vpn: RouterVpn | None  # required for v7, None for v6
    coa_port: int = 3799
    require_message_auth: bool = True


def render_script(router: RouterOnboarding, site: SiteEndpoint) -> str:
    """The whole script, one command per line, ending in a newline."""
    if router.routeros_major == 7:
        if router.vpn is None:
            raise ValueError("a RouterOS v7 router needs its VPN address and key")
        lines = _header_v7(router) + _wireguard(router.vpn, site)
        service_address = site.vpn_address
    elif router.routeros_major == 6:
        lines = _header_v6(router)
        service_address = site.endpoint_host
        try:
            ip_address(service_address)
        except ValueError as exc:
            raise ValueError(
                "RouterOS v6 routers reach the site directly: its endpoint must be an IP "
                f"address, not {service_address!r}"
            ) from exc
    else:
        raise ValueError(f"RouterOS {router.routeros_major} is not supported (6 or 7)")
    lines += _radius(router, site, service_address)
    lines += _api_access(router, service_address)
    lines.append("# Done. The router shows as ONLINE in EasyISP once it reaches the site.")
    return "\n".join(lines) + "\n"


def _header_v7(router: RouterOnboarding) -> list[str]:
    return [
        f"# EasyISP onboarding for router {_comment_text(router.name)} (RouterOS v7)",
        "# Paste into a terminal, or upload the .rsc and run /import file-name=<file>.",
        "# It adds a WireGuard tunnel to the site, the RADIUS client and a restricted API user.",
    ]


def _header_v6(router: RouterOnboarding) -> list[str]:
    return [
        f"# EasyISP onboarding for router {_comment_text(router.name)} (RouterOS v6)",
        "# RouterOS v6 has NO WireGuard: this router gets no VPN tunnel. RADIUS and the API",
        "# use direct addressing, so the site must reach this router's address and this router",
        "# must reach the site's public address. Upgrade to RouterOS v7 for the tunnel.",
    ]


def _comment_text(text: str) -> str:
    # A comment line ends at the newline; keep the name on one line and printable.
    return quote(text)


def _wireguard(vpn: RouterVpn, site: SiteEndpoint) -> list[str]:
    return [
        "/interface wireguard",
        f'add name={WG_INTERFACE} private-key={quote(vpn.private_key)} comment="easyisp:vpn"',
        "/interface wireguard peers",
        f"add interface={WG_INTERFACE} public-key={quote(site.public_key)} "
        f"endpoint-address={value(site.endpoint_host)} endpoint-port={site.endpoint_port} "
        f"allowed-address={site.vpn_address}/32 persistent-keepalive={KEEPALIVE} "
        'comment="easyisp:vpn-site"',
        "/ip address",
        f"add address={vpn.address}/{site.vpn_prefix} interface={WG_INTERFACE} "
        'comment="easyisp:vpn"',
    ]


def _radius(router: RouterOnboarding, site: SiteEndpoint, service_address: str) -> list[str]:
    # The comment carries a check of the secret, so sync can tell the secret is current
    # without reading it (the API user may not: see secret_check.py).
    comment = quote(radius_comment(router.radius_secret, router.api_password))
    lines = [
        "/radius",
        f"add address={service_address} secret={quote(router.radius_secret)} "
        f"service=ppp,hotspot authentication-port={site.radius_auth_port} "
        f"accounting-port={site.radius_acct_port} timeout=3s comment={comment}",
    ]
    if router.routeros_major == 7 and router.require_message_auth:
        # require-message-auth exists from 7.15; older v7 refuses the property, so the
        # script carries on and logs instead of stopping half way.
        lines.append(
            f":do {{ /radius set [find comment={comment}] "
            "require-message-auth=yes-for-request-resp } "
            'on-error={ :log warning "EasyISP: this RouterOS has no require-message-auth" }'
        )
    lines += [
        "/radius incoming",
        f"set accept=yes port={router.coa_port}",
        "/ppp aaa",
        f"set use-radius=yes accounting=yes interim-update={INTERIM_UPDATE}",
        "/ip hotspot profile",
        "set [find] use-radius=yes radius-accounting=yes",
        # PPPoE logins: PAP, CHAP and MS-CHAPv2 are what the site's RADIUS checks.
        "/interface pppoe-server server",
        f"set [find] authentication={PPPOE_AUTHENTICATION}",
    ]
    return lines


def _api_access(router: RouterOnboarding, service_address: str) -> list[str]:
    site_host = f"{service_address}/32" if ":" not in service_address else service_address
    return [
        "/user group",
        f'add name={API_GROUP} policy={API_POLICY} comment="easyisp:api"',
        "/user",
        f"add name={quote(router.api_username)} group={API_GROUP} "
        f"password={quote(router.api_password)} address={site_host} "
        'comment="easyisp:api"',
        "/ip service",
        f"set api address={site_host} disabled=no",
        "/ip firewall filter",
        f"add chain=input protocol=tcp dst-port=8728,8729 src-address={service_address} "
        'action=accept comment="easyisp:api-from-site"',
        f"add chain=input protocol=udp dst-port={router.coa_port} "
        f'src-address={service_address} action=accept comment="easyisp:coa-from-site"',
        'add chain=input protocol=tcp dst-port=8728,8729 action=drop comment="easyisp:api-drop"',
        # Our rules go to the top, ahead of any default "drop not from LAN" rule, in the
        # order router sync keeps them (so its first run has nothing to move).
        'move [find comment="easyisp:api-drop"] destination=0',
        'move [find comment="easyisp:coa-from-site"] destination=0',
        'move [find comment="easyisp:api-from-site"] destination=0',
    ]
