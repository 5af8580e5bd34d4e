"""What a router's configuration should hold, built from the database's view of it.

Menu paths are API paths (`/ppp/profile`). Every list entry we own is keyed: its comment is
`easyisp:<key>`, the mark the onboarding script uses too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from easyisp_core.onboarding.script import PPPOE_AUTHENTICATION
from easyisp_core.onboarding.secret_check import secret_check
from easyisp_core.rules.rate_limit import RateLimitSpec, build_rate_limit

# Hosts the hotspot must let an unpaid client reach to pay with M-Pesa.
MPESA_HOSTS = ("safaricom.co.ke", "*.safaricom.co.ke", "mpesa.safaricom.co.ke")
COMMENT_PREFIX = "easyisp:"


@dataclass(frozen=True, slots=True)
class PackageProfile:
    """One package as a router profile: PPPOE → /ppp/profile, HOTSPOT → hotspot user profile."""

    name: str
    kind: str  # "PPPOE" or "HOTSPOT"
    rate_limit: str
    address_pool: str | None = None
    shared_users: int = 1

    @classmethod
    def of(
        cls,
        name: str,
        kind: str,
        spec: RateLimitSpec,
        address_pool: str | None = None,
        shared_users: int = 1,
    ) -> PackageProfile:
        return cls(name, kind, build_rate_limit(spec), address_pool, shared_users)


@dataclass(frozen=True, slots=True)
class RouterDesiredState:
    service_address: str  # the site as the router sees it (VPN address, or public for v6)
    radius_secret: str
    portal_host: str
    portal_address: str
    packages: tuple[PackageProfile, ...] = ()
    coa_port: int = 3799
    expired_address_list: str = "easyisp-expired"
    # The pool RADIUS names (Framed-Pool) for expired PPPoE subscribers, when the tenant lets
    # them in; None: no pool (expired subscribers are rejected instead).
    expired_pool: str | None = "expired"
    expired_pool_ranges: str = "172.30.0.2-172.30.255.254"
    payment_hosts: tuple[str, ...] = MPESA_HOSTS
    interim_update: str = "5m"
    # Keys the secret check kept in the /radius entry's comment (see secret_check.py): the
    # router's API password, which RouterOS never prints.
    secret_check_key: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class OwnedEntry:
    """A list entry we own, found by its `easyisp:<key>` comment."""

    path: str
    key: str
    params: dict[str, str] = field(default_factory=dict)
    # For entries holding a secret the router will not print: a check of it, kept in the
    # comment after the key, so a secret changed in the database is noticed.
    check: str | None = None

    @property
    def comment(self) -> str:
        suffix = f" secret-check={self.check}" if self.check else ""
        return COMMENT_PREFIX + self.key + suffix


@dataclass(frozen=True, slots=True)
class MenuSettings:
    """A single-value menu (`/ppp/aaa`), or, with `every_entry`, a property every entry of a
    list must have (hotspot server profiles must use RADIUS, whoever made them)."""

    path: str
    params: dict[str, str]
    every_entry: bool = False


DesiredItem = OwnedEntry | MenuSettings

# List menus whose stale `easyisp:` entries sync removes. Nothing outside these is pruned.
PRUNED_PATHS = (
    "/radius",
    "/ip/pool",
    "/ppp/profile",
    "/ip/hotspot/user/profile",
    "/ip/firewall/filter",
    "/ip/firewall/nat",
    "/ip/hotspot/walled-garden",
    "/ip/hotspot/walled-garden/ip",
)


# Rule lists where order decides: an entry we add goes before the next of ours already there
# (re-adding `api-from-site` after `api-drop` would lock the site out of the router).
ORDERED_PATHS = ("/ip/firewall/filter", "/ip/firewall/nat")


def desired_items(state: RouterDesiredState) -> list[DesiredItem]:
    site = state.service_address
    expired = state.expired_address_list
    items: list[DesiredItem] = [
        OwnedEntry(
            "/radius",
            "radius",
            {"address": site, "secret": state.radius_secret, "service": "ppp,hotspot",
             "timeout": "3s"},
            secret_check(state.radius_secret, state.secret_check_key),
        ),
        MenuSettings("/radius/incoming", {"accept": "yes", "port": str(state.coa_port)}),
        MenuSettings(
            "/ppp/aaa",
            {"use-radius": "yes", "accounting": "yes", "interim-update": state.interim_update},
        ),
        MenuSettings(
            "/ip/hotspot/profile", {"use-radius": "yes", "radius-accounting": "yes"}, True
        ),
        # Our RADIUS server does PAP, CHAP and MS-CHAPv2, not MS-CHAPv1 (RouterOS offers all
        # four by default): a PPPoE client talked into MS-CHAPv1 could never log in.
        MenuSettings(
            "/interface/pppoe-server/server", {"authentication": PPPOE_AUTHENTICATION}, True
        ),
    ]  # fmt: skip
    if state.expired_pool is not None:
        # RADIUS answers an expired PPPoE subscriber with Framed-Pool=<this>: without the
        # pool on the router the subscriber gets no address and never sees the payment page.
        items.append(
            OwnedEntry(
                "/ip/pool",
                "expired-pool",
                {"name": state.expired_pool, "ranges": state.expired_pool_ranges},
            )
        )
    for package in state.packages:
        items.append(_package_entry(package))
    items += [
        OwnedEntry("/ip/firewall/filter", "api-from-site",
                   {"chain": "input", "protocol": "tcp", "dst-port": "8728,8729",
                    "src-address": site, "action": "accept"}),
        OwnedEntry("/ip/firewall/filter", "coa-from-site",
                   {"chain": "input", "protocol": "udp", "dst-port": str(state.coa_port),
                    "src-address": site, "action": "accept"}),
        OwnedEntry("/ip/firewall/filter", "api-drop",
                   {"chain": "input", "protocol": "tcp", "dst-port": "8728,8729",
                    "action": "drop"}),
        OwnedEntry("/ip/firewall/filter", "expired-allow-dns",
                   {"chain": "forward", "src-address-list": expired, "protocol": "udp",
                    "dst-port": "53", "action": "accept"}),
        OwnedEntry("/ip/firewall/filter", "expired-allow-portal",
                   {"chain": "forward", "src-address-list": expired,
                    "dst-address": state.portal_address, "action": "accept"}),
        OwnedEntry("/ip/firewall/filter", "expired-drop",
                   {"chain": "forward", "src-address-list": expired, "action": "drop"}),
        OwnedEntry("/ip/firewall/nat", "expired-redirect",
                   {"chain": "dstnat", "src-address-list": expired, "protocol": "tcp",
                    "dst-port": "80", "action": "dst-nat",
                    "to-addresses": state.portal_address, "to-ports": "80"}),
        # Expired-pool addresses are ours, not the ISP's: nothing else routes them back,
        # so their way to the portal (over the tunnel or the WAN) is masqueraded.
        OwnedEntry("/ip/firewall/nat", "expired-masquerade",
                   {"chain": "srcnat", "src-address-list": expired,
                    "dst-address": state.portal_address, "action": "masquerade"}),
        OwnedEntry("/ip/hotspot/walled-garden/ip", "walled-garden-ip:portal",
                   {"dst-address": state.portal_address, "action": "accept"}),
    ]  # fmt: skip
    for host in (state.portal_host, *state.payment_hosts):
        items.append(
            OwnedEntry(
                "/ip/hotspot/walled-garden",
                f"walled-garden:{host}",
                {"dst-host": host, "action": "allow"},
            )
        )
    return items


def _package_entry(package: PackageProfile) -> OwnedEntry:
    if package.kind == "PPPOE":
        params = {"name": package.name, "rate-limit": package.rate_limit}
        if package.address_pool:
            params["remote-address"] = package.address_pool
        # MS-CHAPv1 is refused at the PPPoE server (`authentication`), not in the profile.
        return OwnedEntry("/ppp/profile", f"ppp-profile:{package.name}", params)
    if package.kind == "HOTSPOT":
        params = {
            "name": package.name,
            "rate-limit": package.rate_limit,
            "shared-users": str(package.shared_users),
        }
        if package.address_pool:
            params["address-pool"] = package.address_pool
        return OwnedEntry("/ip/hotspot/user/profile", f"hotspot-profile:{package.name}", params)
    raise ValueError(f"unknown package kind {package.kind!r}")
