"""Who may log in through RADIUS and with what reply: the pure decision behind Access-Accept.

The server looks the account up (a subscriber by username or MAC, else a voucher by code),
checks the password with radius_service.auth_methods, counts the open sessions, and asks
`authorize()`. Nothing here touches the network or the database, so every rule is tested
directly (tests/data/radius/auth_decisions.json).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from easyisp_core.models.enums import ConnectionType, CustomerStatus, ValidityUnit, VoucherStatus
from easyisp_core.rules.rate_limit import RateLimitSpec, build_rate_limit, split_gigawords
from easyisp_core.rules.validity import add_validity

# RADIUS integers are 32-bit unsigned; a subscription years away still has to fit.
_MAX_UINT32 = (1 << 32) - 1
_RADIUS_SERVICES = frozenset({ConnectionType.PPPOE, ConnectionType.HOTSPOT})
_MAC_HEX = re.compile(r"[0-9A-F]{12}")
# Month names fixed here rather than strftime("%b"), which follows the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# RADIUS Framed-Protocol 1 = PPP; Service-Type 2 = Framed-User (protocols.md §3.3).
_FRAMED_PROTOCOL_PPP = 1
_SERVICE_TYPE_FRAMED_USER = 2


# Enough for the payment page and M-Pesa, not enough to be worth staying expired for.
EXPIRED_POOL_RATE_LIMIT = RateLimitSpec(Decimal("0.256"), Decimal("0.256"))


class RejectReason(enum.StrEnum):
    """Why a login was refused: for logs, counters and the customer's history."""

    UNKNOWN_USER = "unknown user"
    BAD_PASSWORD = "bad password"  # noqa: S105 (a reason label, not a password)
    NOT_RADIUS_CUSTOMER = "not a radius customer"
    WRONG_SERVICE = "wrong service"
    MAC_MISMATCH = "mac mismatch"
    MAC_LOGIN_REFUSED = "mac login refused"
    NO_PACKAGE = "no package"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    DATA_CAP_REACHED = "data cap reached"
    TOO_MANY_SESSIONS = "too many sessions"
    VOUCHER_EXPIRED = "voucher expired"
    VOUCHER_VOIDED = "voucher voided"


class AcceptKind(enum.StrEnum):
    """Which kind of access was granted."""

    SUBSCRIBER = "subscriber"
    # A lapsed PPPoE subscriber let in to reach the payment page only.
    EXPIRED_POOL = "expired pool"
    VOUCHER = "voucher"
    # The voucher's first login: the caller marks it USED and stores `expires_at`.
    VOUCHER_FIRST_USE = "voucher first use"


@dataclass(frozen=True, slots=True)
class PackageView:
    """What a login needs to know about a package."""

    rate_limit: RateLimitSpec
    validity_value: int
    validity_unit: ValidityUnit
    session_time: int | None = None  # seconds; caps each session
    data_cap_bytes: int | None = None
    shared_users: int = 1
    address_pool: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriberView:
    username: str
    status: CustomerStatus
    connection_type: ConnectionType
    expires_at: datetime | None  # None: no expiry (as the dashboard counts it)
    package: PackageView | None
    mac_address: str | None = None  # bound device; logins from any other MAC are refused
    static_ip: str | None = None
    data_used_bytes: int = 0  # used in the current period, to enforce the package's data cap

    def __post_init__(self) -> None:
        _require_aware(self.expires_at, "expires_at")


@dataclass(frozen=True, slots=True)
class VoucherView:
    code: str
    status: VoucherStatus
    package: PackageView
    valid_until: datetime | None = None  # an unused voucher cannot be redeemed after this
    expires_at: datetime | None = None  # set on first use
    data_used_bytes: int = 0

    def __post_init__(self) -> None:
        _require_aware(self.valid_until, "valid_until")
        _require_aware(self.expires_at, "expires_at")


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the Access-Request says about the login, already decoded."""

    service: ConnectionType  # PPPOE or HOTSPOT only
    calling_station_id: str | None = None  # the client's MAC
    is_mac_login: bool = False  # hotspot MAC authentication: the username is the MAC

    def __post_init__(self) -> None:
        if self.service not in _RADIUS_SERVICES:
            raise ValueError("a RADIUS login is either PPPOE or HOTSPOT")
        if self.is_mac_login and self.service is not ConnectionType.HOTSPOT:
            raise ValueError("MAC login exists on the hotspot only")


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    accept_expired_into_pool: bool = True
    expired_address_list: str = "easyisp-expired"
    expired_pool: str = "expired"
    interim_interval: int = 300
    # Short, so a subscriber who pays is back on their package within minutes.
    expired_session_timeout: int = 300
    expired_rate_limit: RateLimitSpec = EXPIRED_POOL_RATE_LIMIT
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Africa/Nairobi"))

    def __post_init__(self) -> None:
        if self.interim_interval <= 0 or self.expired_session_timeout <= 0:
            raise ValueError("intervals must be positive")


@dataclass(frozen=True, slots=True)
class ReplySpec:
    """The Access-Accept's attributes, before encoding."""

    rate_limit: str | None = None
    session_timeout: int | None = None
    acct_interim_interval: int | None = None
    framed_ip: str | None = None
    framed_pool: str | None = None
    total_limit: int | None = None
    total_limit_gigawords: int | None = None
    address_list: str | None = None
    # Filled in by the server (dataclasses.replace) with its accounting-correlation token.
    class_token: bytes | None = None

    def attributes(self) -> dict[str, str | int | bytes]:
        """The reply by RADIUS dictionary name (resources/radius), leaving out unset ones."""
        named: dict[str, str | int | bytes | None] = {
            "Mikrotik-Rate-Limit": self.rate_limit,
            "Session-Timeout": self.session_timeout,
            "Acct-Interim-Interval": self.acct_interim_interval,
            "Framed-IP-Address": self.framed_ip,
            "Framed-Pool": self.framed_pool,
            "Mikrotik-Total-Limit": self.total_limit,
            "Mikrotik-Total-Limit-Gigawords": self.total_limit_gigawords,
            "Mikrotik-Address-List": self.address_list,
            "Class": self.class_token,
        }
        return {name: value for name, value in named.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Accept:
    reply: ReplySpec
    kind: AcceptKind
    # When this access ends (subscription or voucher expiry); None when it does not.
    expires_at: datetime | None = None
    first_use: bool = False

    def attributes(self) -> dict[str, str | int | bytes]:
        return self.reply.attributes()


@dataclass(frozen=True, slots=True)
class Reject:
    reason: RejectReason
    reply_message: str  # shown to the subscriber (hotspot login page, PPPoE client log)

    def attributes(self) -> dict[str, str | int | bytes]:
        return {"Reply-Message": self.reply_message}


Decision = Accept | Reject


def authorize(
    account: SubscriberView | VoucherView | None,
    request: RequestFacts,
    *,
    policy: TenantPolicy,
    now: datetime,
    open_sessions: int,
) -> Decision:
    """Accept or reject a login whose credentials have already been checked.

    `account` is None when neither a subscriber nor a voucher matched. `open_sessions`
    counts this account's sessions still open in accounting; closing stale ones (a NAS that
    rebooted without sending Stop) is the caller's job, or a reconnect would be refused.
    """
    _require_aware(now, "now")
    if open_sessions < 0:
        raise ValueError("open_sessions cannot be negative")
    if account is None:
        return reject_unknown_user()
    if isinstance(account, VoucherView):
        return _authorize_voucher(account, request, policy, now, open_sessions)
    return _authorize_subscriber(account, request, policy, now, open_sessions)


def reject_unknown_user() -> Reject:
    # Same words as a wrong password, so the reply does not reveal which usernames exist.
    return Reject(RejectReason.UNKNOWN_USER, "Wrong username or password.")


def reject_bad_password() -> Reject:
    """For the server when PAP/CHAP/MS-CHAPv2 verification fails."""
    return Reject(RejectReason.BAD_PASSWORD, "Wrong username or password.")


def reject_mac_login() -> Reject:
    """For the server when no subscriber is bound to the MAC a MAC login names: the hotspot
    page then asks for a username and password (a MAC is not a secret worth hiding)."""
    return _mac_login_refused()


def classify_service(framed_protocol: int | None, service_type: int | None) -> ConnectionType:
    """PPPOE when the request is for a PPP link, else HOTSPOT: RouterOS sends
    Framed-Protocol = PPP and Service-Type = Framed-User for PPP only (protocols.md §3.3)."""
    if framed_protocol == _FRAMED_PROTOCOL_PPP or service_type == _SERVICE_TYPE_FRAMED_USER:
        return ConnectionType.PPPOE
    return ConnectionType.HOTSPOT


def normalize_mac(value: str | None) -> str | None:
    """AA:BB:CC:DD:EE:FF from the usual spellings (colons, dashes, dots, none; any case);
    None for anything that is not a MAC, so a garbled Calling-Station-Id never matches."""
    if value is None:
        return None
    digits = re.sub(r"[:\-.]", "", value.strip()).upper()
    if not _MAC_HEX.fullmatch(digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _authorize_subscriber(
    subscriber: SubscriberView,
    request: RequestFacts,
    policy: TenantPolicy,
    now: datetime,
    open_sessions: int,
) -> Decision:
    if subscriber.connection_type not in _RADIUS_SERVICES:
        # DHCP and static customers are let in by the router's own configuration.
        return Reject(
            RejectReason.NOT_RADIUS_CUSTOMER,
            "This account is not set up for PPPoE or hotspot login. Please contact your provider.",
        )
    if subscriber.connection_type is not request.service:
        return _wrong_service(subscriber.connection_type)

    mac_refusal = _check_mac(subscriber.mac_address, request)
    if mac_refusal is not None:
        return mac_refusal

    package = subscriber.package
    lapse = _lapse(subscriber, now)
    if lapse is None and package is None:
        return Reject(
            RejectReason.NO_PACKAGE,
            "This account has no internet package. Please contact your provider.",
        )
    remaining_data = _remaining_data(package, subscriber.data_used_bytes)
    if lapse is None and remaining_data == 0:
        lapse = RejectReason.DATA_CAP_REACHED

    # Only PPPoE has an expired pool: the router redirects it to the payment page. A hotspot
    # subscriber is already on the login page, which is where they pay.
    into_pool = request.service is ConnectionType.PPPOE and policy.accept_expired_into_pool
    if lapse is not None and not into_pool:
        return _lapse_reject(lapse, subscriber.expires_at, policy.timezone)

    shared_users = package.shared_users if package is not None else 1
    if open_sessions >= shared_users:
        return _too_many_sessions(shared_users)

    if lapse is not None:
        return Accept(
            ReplySpec(
                rate_limit=build_rate_limit(policy.expired_rate_limit),
                session_timeout=policy.expired_session_timeout,
                acct_interim_interval=policy.interim_interval,
                # A static IP would bypass the pool the router redirects by source address.
                framed_pool=policy.expired_pool,
                address_list=policy.expired_address_list,
            ),
            AcceptKind.EXPIRED_POOL,
        )

    assert package is not None  # a missing package returned NO_PACKAGE above
    # A customer's static IP is their PPPoE link address; on the hotspot Framed-IP-Address
    # would instead re-address the client through NAT, which is not what the operator set.
    framed_ip = subscriber.static_ip if request.service is ConnectionType.PPPOE else None
    return Accept(
        _package_reply(
            package, subscriber.expires_at, remaining_data, now, policy, framed_ip=framed_ip
        ),
        AcceptKind.SUBSCRIBER,
        expires_at=subscriber.expires_at,
    )


def _authorize_voucher(
    voucher: VoucherView,
    request: RequestFacts,
    policy: TenantPolicy,
    now: datetime,
    open_sessions: int,
) -> Decision:
    if request.service is not ConnectionType.HOTSPOT:
        return Reject(RejectReason.WRONG_SERVICE, "Vouchers can only be used on the hotspot.")
    if request.is_mac_login:
        # A voucher code is typed in; it is never a device's MAC.
        return _mac_login_refused()

    package = voucher.package
    first_use = voucher.status is VoucherStatus.AVAILABLE
    if voucher.status is VoucherStatus.EXPIRED:
        return Reject(RejectReason.VOUCHER_EXPIRED, "This voucher has expired.")
    if voucher.status is VoucherStatus.VOIDED:
        # A lost or stolen card the ISP cancelled: whoever holds it should ask the ISP.
        return Reject(
            RejectReason.VOUCHER_VOIDED,
            "This voucher has been cancelled by your provider; please contact them.",
        )
    if first_use:
        if voucher.valid_until is not None and voucher.valid_until <= now:
            return Reject(
                RejectReason.VOUCHER_EXPIRED,
                "This voucher can no longer be used; it was valid until "
                f"{_when(voucher.valid_until, policy.timezone)}.",
            )
        expires_at = add_validity(
            now, package.validity_value, package.validity_unit, policy.timezone
        )
    elif voucher.expires_at is None:
        # Every used voucher gets its expiry on first use; without one the time left is
        # unknown, so refuse rather than grant unlimited access.
        return Reject(RejectReason.VOUCHER_EXPIRED, "This voucher has expired.")
    elif voucher.expires_at <= now:
        return Reject(
            RejectReason.VOUCHER_EXPIRED,
            f"This voucher expired on {_when(voucher.expires_at, policy.timezone)}.",
        )
    else:
        expires_at = voucher.expires_at

    remaining_data = _remaining_data(package, voucher.data_used_bytes)
    if remaining_data == 0:
        return _lapse_reject(RejectReason.DATA_CAP_REACHED, expires_at, policy.timezone)
    if open_sessions >= package.shared_users:
        return _too_many_sessions(package.shared_users)

    return Accept(
        _package_reply(package, expires_at, remaining_data, now, policy, framed_ip=None),
        AcceptKind.VOUCHER_FIRST_USE if first_use else AcceptKind.VOUCHER,
        expires_at=expires_at,
        first_use=first_use,
    )


def _package_reply(
    package: PackageView,
    expires_at: datetime | None,
    remaining_data: int | None,
    now: datetime,
    policy: TenantPolicy,
    *,
    framed_ip: str | None,
) -> ReplySpec:
    total_limit: int | None = None
    gigawords: int | None = None
    if remaining_data is not None:
        # Both halves always go out, so "exactly 4 GiB" (low word 0) is never read as "no cap".
        total_limit, gigawords = split_gigawords(remaining_data)
    return ReplySpec(
        rate_limit=build_rate_limit(package.rate_limit),
        session_timeout=_session_timeout(expires_at, package.session_time, now),
        acct_interim_interval=policy.interim_interval,
        framed_ip=framed_ip,
        # Framed-IP-Address wins on the router anyway; sending only one keeps the reply clear.
        framed_pool=package.address_pool if framed_ip is None else None,
        total_limit=total_limit,
        total_limit_gigawords=gigawords,
    )


def _session_timeout(
    expires_at: datetime | None, session_time: int | None, now: datetime
) -> int | None:
    """The smaller of the time left and the package's per-session cap, in whole seconds.

    The time left is rounded up: a Session-Timeout of 0 would mean "no limit" to some NASes,
    and the expiry sweep catches the last fraction of a second anyway.
    """
    limits: list[int] = []
    if expires_at is not None:
        limits.append(_ceil_seconds(expires_at - now))
    if session_time is not None:
        limits.append(session_time)
    if not limits:
        return None
    return max(1, min(min(limits), _MAX_UINT32))


def _ceil_seconds(delta: timedelta) -> int:
    # Integer arithmetic: total_seconds() is a float and can round 0.999999 up or down.
    return delta.days * 86400 + delta.seconds + (1 if delta.microseconds else 0)


def _remaining_data(package: PackageView | None, used_bytes: int) -> int | None:
    """Bytes left under the package's data cap (0 when used up); None when uncapped."""
    if package is None or package.data_cap_bytes is None:
        return None
    return max(0, package.data_cap_bytes - max(0, used_bytes))


def _lapse(subscriber: SubscriberView, now: datetime) -> RejectReason | None:
    if subscriber.status is CustomerStatus.SUSPENDED:
        return RejectReason.SUSPENDED
    if subscriber.status is CustomerStatus.EXPIRED:
        return RejectReason.EXPIRED
    if subscriber.expires_at is not None and subscriber.expires_at <= now:
        return RejectReason.EXPIRED
    return None


def _lapse_reject(reason: RejectReason, expires_at: datetime | None, tz: ZoneInfo) -> Reject:
    if reason is RejectReason.SUSPENDED:
        return Reject(reason, "Your account is suspended. Please contact your provider.")
    if reason is RejectReason.DATA_CAP_REACHED:
        return Reject(
            reason, "You have used all the data in your package. Pay via M-Pesa to get more."
        )
    if expires_at is None:
        return Reject(reason, "Your package has expired. Pay via M-Pesa to reconnect.")
    return Reject(
        reason, f"Your package expired on {_when(expires_at, tz)}. Pay via M-Pesa to reconnect."
    )


def _check_mac(bound_mac: str | None, request: RequestFacts) -> Reject | None:
    bound = normalize_mac(bound_mac)
    calling = normalize_mac(request.calling_station_id)
    if request.is_mac_login and (bound is None or calling != bound):
        # MAC login has no password: the bound MAC is the only credential.
        return _mac_login_refused()
    if bound is not None and calling != bound:
        # A missing Calling-Station-Id cannot prove the device either, so it is refused too.
        return Reject(
            RejectReason.MAC_MISMATCH,
            "This account is locked to another device. Please contact your provider.",
        )
    return None


def _mac_login_refused() -> Reject:
    return Reject(
        RejectReason.MAC_LOGIN_REFUSED,
        "This device is not registered for automatic login. "
        "Log in with your username and password.",
    )


def _wrong_service(connection_type: ConnectionType) -> Reject:
    if connection_type is ConnectionType.PPPOE:
        message = "This is a PPPoE account; it cannot log in on the hotspot."
    else:
        message = "This is a hotspot account; it cannot be used for PPPoE."
    return Reject(RejectReason.WRONG_SERVICE, message)


def _too_many_sessions(shared_users: int) -> Reject:
    if shared_users == 1:
        message = "This account is already in use on another device."
    else:
        message = f"This account is already in use on {shared_users} devices, the most allowed."
    return Reject(RejectReason.TOO_MANY_SESSIONS, message)


def _when(moment: datetime, tz: ZoneInfo) -> str:
    """A moment as the subscriber's clock shows it, e.g. "24 Nov at 14:05"."""
    local = moment.astimezone(tz)
    return f"{local.day} {_MONTHS[local.month - 1]} at {local:%H:%M}"


def _require_aware(moment: datetime | None, name: str) -> None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
