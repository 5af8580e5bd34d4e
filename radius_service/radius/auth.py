"""The Access-Request stage: which method, which account, is the password right, and what the
rules decide (rules.radius_auth.authorize), turned into Accept or Reject attributes.

`AccessRequestHandler.handle_from_cache` decides a normal login from the in-memory
subscribers (radius/subscriber_cache.py) with no database round trip, on the event loop;
when it cannot (cache not ready, a voucher, a MAC login, a user who may be at the session
limit, a data-capped package whose remaining bytes come from accounting) `handle` does,
synchronously and in one transaction, in a worker thread.
"""

from __future__ import annotations

import enum
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox, SecretDecryptionFailed
from easyisp_core.models.enums import ConnectionType
from easyisp_core.rules.radius_auth import (
    Accept,
    AcceptKind,
    Decision,
    Reject,
    RequestFacts,
    SubscriberView,
    TenantPolicy,
    authorize,
    classify_service,
    normalize_mac,
    reject_bad_password,
    reject_mac_login,
    reject_unknown_user,
)
from easyisp_core.services.customers import CUSTOMER_PASSWORD
from easyisp_core.services.radius_auth import (
    NasClient,
    SubscriberAccount,
    VoucherAccount,
    find_subscriber,
    find_subscriber_by_mac,
    find_voucher,
    open_sessions,
    redeem_voucher,
    tenant_policy,
    with_data_used,
)
from radius_service import auth_methods
from radius_service.radius.codec import (
    ACCESS_ACCEPT,
    ACCESS_REJECT,
    AttributeValue,
    RadiusPacket,
)
from radius_service.radius.subscriber_cache import SubscriberCache

log = logging.getLogger(__name__)

# RFC 2548: Encryption-Policy 1 = allowed; Encryption-Types 6 = 40- or 128-bit.
_MPPE_POLICY_ALLOWED = 1
_MPPE_TYPES_BOTH = 6
_ENUMS = {
    "Framed-Protocol": {"PPP": 1},
    "Service-Type": {"Login-User": 1, "Framed-User": 2},
}


class Method(enum.StrEnum):
    PAP = "pap"
    CHAP = "chap"
    MSCHAPV2 = "mschapv2"
    MAC = "mac"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class AuthReply:
    """What to send back, and what happened (for counters and logs)."""

    code: int
    attributes: list[tuple[str, AttributeValue]]
    method: Method
    reason: str  # the AcceptKind or RejectReason value
    voucher_first_use: bool = False
    voucher_race_lost: bool = False

    @property
    def accepted(self) -> bool:
        return self.code == ACCESS_ACCEPT


@dataclass(frozen=True, slots=True)
class Credentials:
    method: Method
    username: str
    facts: RequestFacts
    mac: str | None
    user_password: bytes | None = None
    chap_password: bytes | None = None
    chap_challenge: bytes | None = None
    mschap_challenge: bytes | None = None
    mschap2_response: bytes | None = None


def _enum_value(packet: RadiusPacket, name: str) -> int | None:
    value = packet.first(name)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return _ENUMS[name].get(value, 0)
    return None


def read_credentials(packet: RadiusPacket) -> Credentials | None:
    """The login the request asks for; None when it has no User-Name (nothing to look up)."""
    username = packet.text("User-Name")
    if not username:
        return None
    # No account name holds NUL (PostgreSQL text cannot): read it as the unknown name it is,
    # not as a lookup the database refuses with an error.
    username = username.replace("\x00", "\ufffd")
    service = classify_service(
        _enum_value(packet, "Framed-Protocol"), _enum_value(packet, "Service-Type")
    )
    calling = packet.text("Calling-Station-Id")
    mac = normalize_mac(calling)
    # RouterOS MAC login sends the client's MAC as the User-Name (radius-mac-format).
    is_mac_login = (
        service is ConnectionType.HOTSPOT and mac is not None and normalize_mac(username) == mac
    )
    facts = RequestFacts(service, calling_station_id=calling, is_mac_login=is_mac_login)
    if is_mac_login:
        return Credentials(Method.MAC, username, facts, mac)
    mschap2 = packet.octets("MS-CHAP2-Response")
    challenge = packet.octets("MS-CHAP-Challenge")
    if mschap2 is not None and challenge is not None:
        return Credentials(
            Method.MSCHAPV2,
            username,
            facts,
            mac,
            mschap_challenge=challenge,
            mschap2_response=mschap2,
        )
    chap = packet.octets("CHAP-Password")
    if chap is not None:
        challenge = auth_methods.chap_challenge(
            packet.octets("CHAP-Challenge"), packet.authenticator
        )
        return Credentials(
            Method.CHAP, username, facts, mac, chap_password=chap, chap_challenge=challenge
        )
    hidden = packet.octets("User-Password")
    if hidden is not None:
        return Credentials(Method.PAP, username, facts, mac, user_password=hidden)
    return Credentials(Method.NONE, username, facts, mac)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AccessRequestHandler:
    """Decides one Access-Request against the database (one transaction per request)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox,
        *,
        clock: Callable[[], datetime] = _utcnow,
        random_bytes: Callable[[int], bytes] = os.urandom,
        cache: SubscriberCache | None = None,
    ) -> None:
        self._cache = cache
        self._sessions = sessions
        self._box = box
        self._clock = clock
        self._random = random_bytes

    def handle_from_cache(
        self, packet: RadiusPacket, client: NasClient, creds: Credentials
    ) -> AuthReply | None:
        """The decision from the in-memory subscribers, without the database; None when the
        cache cannot decide (not loaded, listener down, a voucher or unknown name, a MAC
        login, a user who may be at the session limit, or a data-capped package) and
        handle() must."""
        cache = self._cache
        if cache is None or creds.method is Method.MAC:
            return None
        tenant = client.tenant_id
        answer = cache.subscriber(tenant, creds.username)
        policy = cache.policy(tenant)
        if answer.account is None or policy is None:
            return None
        account = answer.account
        if cache.may_be_online(tenant, account.view.username):
            return None  # the open-session count needs the database
        package = account.view.package
        if package is not None and package.data_cap_bytes is not None:
            return None  # what is left of the cap comes from accounting, in the database
        verified = self._verify(creds, packet, client, self._passwords(account))
        if verified is False:
            return self._reply(reject_bad_password(), packet, client, creds)
        mschap = None if verified is True else verified
        decision = authorize(
            account.view, creds.facts, policy=policy, now=self._clock(), open_sessions=0
        )
        return self._reply(decision, packet, client, creds, mschap=mschap)

    def handle(self, packet: RadiusPacket, client: NasClient, creds: Credentials) -> AuthReply:
        with self._sessions.begin() as session:
            return self._decide(session, packet, client, creds)

    def _decide(
        self, session: Session, packet: RadiusPacket, client: NasClient, creds: Credentials
    ) -> AuthReply:
        tenant = client.tenant_id
        policy = tenant_policy(session, tenant)
        now = self._clock()
        account: SubscriberAccount | VoucherAccount | None
        if creds.method is Method.MAC:
            assert creds.mac is not None
            account = find_subscriber_by_mac(session, tenant, creds.mac)
        else:
            account = find_subscriber(session, tenant, creds.username)
            if account is None:
                account = find_voucher(session, tenant, creds.username)
        if account is None:
            unknown = reject_mac_login() if creds.method is Method.MAC else reject_unknown_user()
            return self._reply(unknown, packet, client, creds)

        mschap_result: auth_methods.MsChap2Result | None = None
        if creds.method is not Method.MAC:
            candidates = self._passwords(account)
            verified = self._verify(creds, packet, client, candidates)
            if verified is False:
                return self._reply(reject_bad_password(), packet, client, creds)
            if verified is not True:
                mschap_result = verified

        decision = self._authorize(session, tenant, account, creds, policy, now)
        race_lost = False
        if isinstance(decision, Accept) and decision.first_use:
            assert isinstance(account, VoucherAccount)
            assert decision.expires_at is not None
            won = redeem_voucher(
                session,
                account.voucher_id,
                used_at=now,
                expires_at=decision.expires_at,
                mac=creds.mac,
            )
            if not won:
                # Another first login spent it a moment ago: decide again as a used voucher.
                race_lost = True
                fresh = find_voucher(session, tenant, creds.username)
                decision = (
                    reject_unknown_user()
                    if fresh is None
                    else self._authorize(session, tenant, fresh, creds, policy, now)
                )
                if isinstance(decision, Accept) and decision.first_use:
                    decision = reject_unknown_user()  # cannot happen after a lost race
        return self._reply(
            decision, packet, client, creds, mschap=mschap_result, race_lost=race_lost
        )

    def _authorize(
        self,
        session: Session,
        tenant_id: uuid.UUID,
        account: SubscriberAccount | VoucherAccount,
        creds: Credentials,
        policy: TenantPolicy,
        now: datetime,
    ) -> Decision:
        account = with_data_used(session, tenant_id, account, policy, now)
        view = account.view
        name = view.username if isinstance(view, SubscriberView) else view.code
        cache = self._cache
        generation = 0 if cache is None else cache.online_generation()
        count = open_sessions(session, tenant_id, name, policy, now)
        if cache is not None and count == 0:
            cache.saw_no_sessions(tenant_id, name, generation)
        return authorize(view, creds.facts, policy=policy, now=now, open_sessions=count)

    def _passwords(self, account: SubscriberAccount | VoucherAccount) -> list[bytes]:
        """The cleartext passwords this account accepts."""
        if isinstance(account, VoucherAccount):
            # Hotspot login pages send the code as the password, or leave it empty.
            return [account.view.code.encode("utf-8"), b""]
        if account.password_enc is None:
            return []
        try:
            return [self._box.decrypt(account.password_enc, CUSTOMER_PASSWORD).encode("utf-8")]
        except SecretDecryptionFailed:
            log.error("customer %s: the stored password does not decrypt", account.customer_id)
            return []

    def _verify(
        self,
        creds: Credentials,
        packet: RadiusPacket,
        client: NasClient,
        candidates: list[bytes],
    ) -> bool | auth_methods.MsChap2Result:
        """True (or the MS-CHAPv2 result) when one candidate password matches."""
        for password in candidates:
            if creds.method is Method.PAP and creds.user_password is not None:
                if auth_methods.verify_pap(
                    creds.user_password, client.secret, packet.authenticator, password
                ):
                    return True
            elif creds.method is Method.CHAP and creds.chap_password is not None:
                assert creds.chap_challenge is not None
                if auth_methods.verify_chap(creds.chap_password, password, creds.chap_challenge):
                    return True
            elif creds.method is Method.MSCHAPV2 and creds.mschap2_response is not None:
                assert creds.mschap_challenge is not None
                result = auth_methods.verify_mschapv2(
                    creds.username,
                    password.decode("utf-8"),
                    creds.mschap_challenge,
                    creds.mschap2_response,
                )
                if result is not None:
                    return result
        return False

    def _reply(
        self,
        decision: Decision,
        packet: RadiusPacket,
        client: NasClient,
        creds: Credentials,
        *,
        mschap: auth_methods.MsChap2Result | None = None,
        race_lost: bool = False,
    ) -> AuthReply:
        if isinstance(decision, Reject):
            attributes: list[tuple[str, AttributeValue]] = [
                ("Reply-Message", decision.reply_message)
            ]
            if creds.method is Method.MSCHAPV2 and creds.mschap2_response:
                error = auth_methods.mschap_error(creds.mschap2_response[0], self._random(16))
                attributes.append(("MS-CHAP-Error", error))
            return AuthReply(
                ACCESS_REJECT,
                attributes,
                creds.method,
                decision.reason.value,
                voucher_race_lost=race_lost,
            )
        spec = replace(decision.reply, class_token=_class_token())
        attributes = list(spec.attributes().items())
        if mschap is not None:
            send_key, recv_key = auth_methods.mppe_key_attributes(
                mschap.send_key,
                mschap.recv_key,
                client.secret,
                packet.authenticator,
                self._random(2),
            )
            attributes += [
                ("MS-CHAP2-Success", mschap.success),
                ("MS-MPPE-Encryption-Policy", _MPPE_POLICY_ALLOWED),
                ("MS-MPPE-Encryption-Types", _MPPE_TYPES_BOTH),
                ("MS-MPPE-Send-Key", send_key),
                ("MS-MPPE-Recv-Key", recv_key),
            ]
        return AuthReply(
            ACCESS_ACCEPT,
            attributes,
            creds.method,
            decision.kind.value,
            voucher_first_use=decision.kind is AcceptKind.VOUCHER_FIRST_USE,
            voucher_race_lost=race_lost,
        )


def _class_token() -> bytes:
    """The Class we hand out; the router echoes it in accounting for this session."""
    return f"easyisp:{uuid.uuid4().hex}".encode("ascii")
