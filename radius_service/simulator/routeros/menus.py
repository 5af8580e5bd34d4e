"""The RouterOS menus the simulator plays, with the defaults a fresh router shows
(protocols.md §2.5, §5.5). Field lists are a superset; clients must ignore unknown keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ALL_VERBS = frozenset({"print", "add", "set", "remove", "listen"})
READ_ONLY = frozenset({"print", "listen"})
SINGLETON_VERBS = frozenset({"print", "set", "listen"})
# Sessions are made by subscribers, not by the API: they can only be listed and kicked.
SESSION_VERBS = frozenset({"print", "remove", "listen"})
# Physical interfaces exist on the board; they are configured, never added or removed.
PORT_VERBS = frozenset({"print", "set", "listen"})


@dataclass(frozen=True, slots=True)
class MenuSpec:
    path: str
    verbs: frozenset[str] = ALL_VERBS
    singleton: bool = False  # one unnamed row, no .id (identity, resource, aaa …)
    unique: tuple[str, ...] = ()  # fields whose combined value must be unique
    required: tuple[str, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # write-only fields such as passwords
    since_major: int = 6
    extra: tuple[str, ...] = ()  # settable fields a fresh row does not print
    ordered: bool = False  # rule lists where order matters: `add` takes `place-before`

    @property
    def settable(self) -> frozenset[str]:
        """Every property add/set accepts; RouterOS refuses any other name."""
        placing = ("place-before",) if self.ordered else ()
        return frozenset(
            {*self.defaults, *self.required, *self.unique, *self.hidden, *self.extra, *placing}
        )


_OFF = {"disabled": "false", "comment": ""}

MENUS: tuple[MenuSpec, ...] = (
    MenuSpec("/system/identity", SINGLETON_VERBS, singleton=True),
    MenuSpec("/system/resource", READ_ONLY, singleton=True),
    MenuSpec("/system/routerboard", READ_ONLY, singleton=True),
    MenuSpec("/ppp/active", SESSION_VERBS),
    MenuSpec(
        "/interface",
        PORT_VERBS,
        unique=("name",),
        defaults={
            "type": "ether",
            "mtu": "1500",
            "actual-mtu": "1500",
            "l2mtu": "1598",
            "running": "true",
            "rx-byte": "0",
            "tx-byte": "0",
            "link-downs": "0",
            **_OFF,
        },
    ),
    MenuSpec(
        "/interface/pppoe-server/server",
        unique=("service-name",),
        required=("service-name", "interface"),
        defaults={
            "authentication": "pap,chap,mschap1,mschap2",
            "default-profile": "default",
            "one-session-per-host": "false",
            "max-sessions": "unlimited",
            "keepalive-timeout": "10",
            "max-mtu": "auto",
            "max-mru": "auto",
            **_OFF,
        },
    ),
    MenuSpec(
        "/ip/hotspot/user",
        unique=("name",),
        required=("name",),
        defaults={
            "server": "all",
            "profile": "default",
            "password": "",
            "mac-address": "",
            "limit-uptime": "0s",
            "limit-bytes-total": "0",
            **_OFF,
        },
    ),
    MenuSpec(
        "/ppp/profile",
        unique=("name",),
        required=("name",),
        defaults={
            "local-address": "",
            "remote-address": "",
            "rate-limit": "",
            "only-one": "default",
            "use-encryption": "default",
            "address-list": "",
            "dns-server": "",
            "comment": "",
        },
    ),
    MenuSpec("/ppp/aaa", SINGLETON_VERBS, singleton=True),
    MenuSpec(
        "/ppp/secret",
        unique=("name",),
        required=("name",),
        defaults={
            "service": "any",
            "profile": "default",
            "local-address": "",
            "remote-address": "",
            "caller-id": "",
            "routes": "",
            "limit-bytes-in": "0",
            "limit-bytes-out": "0",
            **_OFF,
        },
        extra=("password",),
    ),
    MenuSpec("/ip/hotspot/active", SESSION_VERBS),
    MenuSpec(
        "/ip/hotspot/profile",
        unique=("name",),
        required=("name",),
        defaults={
            "hotspot-address": "",
            "dns-name": "",
            "html-directory": "hotspot",
            "login-by": "cookie,http-chap",
            "use-radius": "false",
            "radius-accounting": "true",
            "radius-interim-update": "received",
            "nas-port-type": "wireless-802.11",
            "radius-mac-format": "XX:XX:XX:XX:XX:XX",
            "mac-auth-mode": "mac-as-username",
            "rate-limit": "",
            "split-user-domain": "false",
        },
    ),
    MenuSpec(
        "/ip/hotspot/user/profile",
        unique=("name",),
        required=("name",),
        defaults={
            "shared-users": "1",
            "rate-limit": "",
            "address-pool": "none",
            "idle-timeout": "none",
            "keepalive-timeout": "2m",
            "status-autorefresh": "1m",
            "add-mac-cookie": "true",
            "mac-cookie-timeout": "3d",
            "transparent-proxy": "false",
            "comment": "",
        },
    ),
    MenuSpec(
        "/ip/hotspot/walled-garden",
        ordered=True,
        defaults={
            "action": "allow",
            "server": "",
            "dst-host": "",
            "dst-port": "",
            "path": "",
            "method": "",
            **_OFF,
        },
    ),
    MenuSpec(
        "/ip/hotspot/walled-garden/ip",
        ordered=True,
        defaults={
            "action": "accept",
            "server": "",
            "dst-address": "",
            "dst-host": "",
            "protocol": "",
            "dst-port": "",
            **_OFF,
        },
    ),
    MenuSpec(
        "/radius",
        required=("address",),
        defaults={
            "service": "",
            "secret": "",
            "authentication-port": "1812",
            "accounting-port": "1813",
            "timeout": "300ms",
            "src-address": "0.0.0.0",  # noqa: S104 - a RouterOS default, not a bind
            "accounting-backup": "false",
            "realm": "",
            "domain": "",
            "called-id": "",
            "protocol": "udp",
            **_OFF,
        },
    ),
    MenuSpec("/radius/incoming", SINGLETON_VERBS, singleton=True),
    MenuSpec(
        "/ip/firewall/address-list",
        unique=("list", "address"),
        required=("list", "address"),
        defaults={"timeout": "", "dynamic": "false", **_OFF},
    ),
    MenuSpec(
        "/ip/firewall/nat",
        ordered=True,
        required=("chain",),
        defaults={
            "action": "accept",
            "src-address": "",
            "dst-address": "",
            "protocol": "",
            "dst-port": "",
            "to-addresses": "",
            "to-ports": "",
            "src-address-list": "",
            "out-interface": "",
            "in-interface": "",
            **_OFF,
        },
    ),
    MenuSpec(
        "/ip/firewall/filter",
        ordered=True,
        required=("chain",),
        defaults={
            "action": "accept",
            "src-address": "",
            "dst-address": "",
            "protocol": "",
            "dst-port": "",
            "src-address-list": "",
            "dst-address-list": "",
            "in-interface": "",
            "out-interface": "",
            **_OFF,
        },
    ),
    MenuSpec(
        "/ip/address",
        required=("address", "interface"),
        defaults={"network": "", "dynamic": "false", "invalid": "false", **_OFF},
    ),
    MenuSpec(
        "/ip/pool",
        unique=("name",),
        required=("name", "ranges"),
        defaults={"next-pool": "none", "comment": ""},
    ),
    MenuSpec(
        "/interface/wireguard",
        unique=("name",),
        required=("name",),
        defaults={"listen-port": "13231", "mtu": "1420", "running": "true", **_OFF},
        since_major=7,
        extra=("private-key",),
    ),
    MenuSpec(
        "/interface/wireguard/peers",
        required=("interface", "public-key"),
        defaults={
            "allowed-address": "",
            "endpoint-address": "",
            "endpoint-port": "0",
            "current-endpoint-address": "",
            "current-endpoint-port": "0",
            "persistent-keepalive": "0s",
            "preshared-key": "",
            "rx": "0",
            "tx": "0",
            "last-handshake": "",
            **_OFF,
        },
        since_major=7,
    ),
    MenuSpec(
        "/user",
        unique=("name",),
        required=("name", "group"),
        defaults={"address": "", "last-logged-in": "", **_OFF},
        hidden=("password",),
    ),
    MenuSpec(
        "/user/group",
        unique=("name",),
        required=("name",),
        defaults={"skin": "default", "comment": ""},
        extra=("policy",),
    ),
)

MENUS_BY_PATH: dict[str, MenuSpec] = {menu.path: menu for menu in MENUS}

FULL_POLICY = (
    "local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,"
    "api,romon,rest-api"
)


def singleton_rows(version: str, identity: str, board: str) -> dict[str, dict[str, str]]:
    """The one row of each singleton menu on a fresh router (uptime is filled in on print)."""
    major = int(version.split(".")[0])
    aaa = {
        "use-radius": "false",
        "accounting": "true",
        "interim-update": "0s",
        "use-circuit-id-in-nas-port-id": "false",
    }
    if major >= 7:
        aaa["enable-ipv6-accounting"] = "false"
    return {
        "/system/identity": {"name": identity},
        "/system/resource": {
            "uptime": "0s",
            "version": f"{version} (stable)",
            "build-time": "2025-01-01 10:00:00",
            "factory-software": "6.44.6",
            "free-memory": "872415232",
            "total-memory": "1073741824",
            "cpu": "ARMv7",
            "cpu-count": "4",
            "cpu-frequency": "1400",
            "cpu-load": "3",
            "free-hdd-space": "437448704",
            "total-hdd-space": "536870912",
            "architecture-name": "arm",
            "board-name": board,
            "platform": "MikroTik",
        },
        "/system/routerboard": {
            "routerboard": "true",
            "board-name": board,
            "model": board,
            "serial-number": "HD1234567AB",
            "firmware-type": "al2",
            "factory-firmware": "6.44.6",
            "current-firmware": version,
            "upgrade-firmware": version,
        },
        "/ppp/aaa": aaa,
        "/radius/incoming": {"accept": "false", "port": "3799"},
    }


def list_rows() -> dict[str, list[dict[str, str]]]:
    """Rows present on a fresh router in list menus (added through the normal add path)."""
    return {
        "/user/group": [
            {
                "name": "read",
                "policy": "local,telnet,ssh,reboot,read,test,winbox,password,web,"
                "sniff,sensitive,api,romon,rest-api",
            },
            {
                "name": "write",
                "policy": "local,telnet,ssh,reboot,read,write,test,winbox,password,"
                "web,sniff,sensitive,api,romon,rest-api",
            },
            {"name": "full", "policy": FULL_POLICY},
        ],
        "/ppp/profile": [
            {"name": "default"},
            {"name": "default-encryption", "use-encryption": "yes"},
        ],
        "/ip/hotspot/profile": [{"name": "default"}],
        "/ip/hotspot/user/profile": [{"name": "default"}],
        "/interface": [
            {
                "name": f"ether{n}",
                "default-name": f"ether{n}",
                "mac-address": f"48:8F:5A:00:00:{n:02X}",
            }
            for n in range(1, 6)
        ],
        "/ip/address": [
            {"address": "192.168.88.1/24", "interface": "ether1", "network": "192.168.88.0"}
        ],
    }
