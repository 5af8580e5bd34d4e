"""A MikroTik-like NAS for tests and demos: sends Access-Requests the way RouterOS does
(protocols.md §3.3) and checks the reply the way a router does (§8: Response Authenticator,
Message-Authenticator first, MS-CHAP2-Success, MPPE keys); sends Accounting-Requests
(§3.4: Start / Interim-Update / Stop / Accounting-On/Off, 64-bit counters as gigawords).

Blocking UDP with a timeout; run it in threads to drive a server concurrently.
"""

from __future__ import annotations

import enum
import hmac
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from radius_service import auth_methods
from radius_service.radius.codec import (
    ACCESS_ACCEPT,
    ACCESS_REQUEST,
    AttributeValue,
    DecodeError,
    RadiusPacket,
    decode_reply,
    encode_request,
)

DEFAULT_MAC = "AA:BB:CC:DD:EE:FF"
# RFC 2865 enums as RouterOS sends them.
_SERVICE_TYPE_FRAMED_USER = 2
_FRAMED_PROTOCOL_PPP = 1
_NAS_PORT_TYPE_ETHERNET = 15
_NAS_PORT_TYPE_WIRELESS = 19
_ACCOUNTING_REQUEST = 4
_ACCOUNTING_RESPONSE = 5
_WORD = 1 << 32
ACCT_STATUS = {"start": 1, "stop": 2, "interim": 3, "on": 7, "off": 8}


class AuthMethod(enum.StrEnum):
    PAP = "pap"
    CHAP = "chap"
    MSCHAPV2 = "mschapv2"
    MAC = "mac"  # hotspot MAC login: the MAC is the User-Name


class Service(enum.StrEnum):
    PPPOE = "pppoe"
    HOTSPOT = "hotspot"


class ReplyRejected(Exception):
    """The reply failed a check a router makes; the router would ignore it."""


@dataclass(frozen=True, slots=True)
class NasReply:
    code: int
    attributes: dict[str, list[Any]]
    message_authenticator_first: bool
    # MS-CHAPv2 only: whether MS-CHAP2-Success proved the server knows the password, and
    # whether the decrypted MPPE keys are the ones the client derives.
    mschap2_success_valid: bool | None = None
    mppe_keys_valid: bool | None = None

    @property
    def accepted(self) -> bool:
        return self.code == ACCESS_ACCEPT

    def first(self, name: str) -> Any:
        """The first value of an attribute, or None when the reply does not carry it."""
        values = self.attributes.get(name)
        return values[0] if values else None

    def summary(self) -> dict[str, Any]:
        """The reply as printable data (bytes as hex), for the CLI."""
        shown: dict[str, Any] = {"code": "Access-Accept" if self.accepted else "Access-Reject"}
        for name, values in self.attributes.items():
            shown[name] = [v.hex() if isinstance(v, bytes) else v for v in values]
        if self.mschap2_success_valid is not None:
            shown["mschap2_success_valid"] = self.mschap2_success_valid
            shown["mppe_keys_valid"] = self.mppe_keys_valid
        return shown


@dataclass
class NasSimulator:
    server: tuple[str, int]
    secret: bytes
    nas_identifier: str = "sim-router"
    calling_station_id: str = DEFAULT_MAC
    message_authenticator: bool = True
    timeout: float = 2.0  # per attempt
    retries: int = 0
    nas_port: int = 0x81F00014 & 0xFFFFFF
    # The address the requests come from (the router's address in the nas table).
    source_ip: str | None = None
    _sent: int = field(default=0, init=False)

    def request_attributes(
        self, username: str, service: Service
    ) -> list[tuple[str, AttributeValue]]:
        """The identity attributes RouterOS puts in every Access-Request (protocols.md §3.3)."""
        attributes: list[tuple[str, AttributeValue]] = [("User-Name", username)]
        if service is Service.PPPOE:
            attributes += [
                ("Service-Type", _SERVICE_TYPE_FRAMED_USER),
                ("Framed-Protocol", _FRAMED_PROTOCOL_PPP),
                ("NAS-Port-Type", _NAS_PORT_TYPE_ETHERNET),
                ("NAS-Port-Id", "ether2"),
                ("Called-Station-Id", "pppoe-service"),
            ]
        else:
            attributes += [
                ("NAS-Port-Type", _NAS_PORT_TYPE_WIRELESS),
                ("NAS-Port-Id", "bridge-hotspot"),
                ("Called-Station-Id", "hotspot1"),
                ("Framed-IP-Address", "10.5.50.10"),
            ]
        attributes += [
            ("NAS-Identifier", self.nas_identifier),
            ("NAS-IP-Address", "127.0.0.1"),
            ("NAS-Port", self.nas_port),
            ("Calling-Station-Id", self.calling_station_id),
            ("Acct-Session-Id", f"{self.nas_port:08x}"),
        ]
        return attributes

    def login(
        self,
        username: str,
        password: str = "",
        *,
        method: AuthMethod | str = AuthMethod.PAP,
        service: Service | str | None = None,
    ) -> NasReply | None:
        """Send one Access-Request; the checked reply, or None when none came in time."""
        method = AuthMethod(method)
        if service is None:
            service = Service.HOTSPOT if method is AuthMethod.MAC else Service.PPPOE
        service = Service(service)
        authenticator = os.urandom(16)
        identifier = self._next_identifier()
        attributes = self.request_attributes(username, service)
        secret_password = password.encode("utf-8")
        mschap: tuple[bytes, bytes, bytes, int] | None = None
        if method is AuthMethod.PAP or method is AuthMethod.MAC:
            hidden = auth_methods.hide_password(secret_password, self.secret, authenticator)
            attributes.insert(1, ("User-Password", hidden))
        elif method is AuthMethod.CHAP:
            challenge = os.urandom(16)
            ident = identifier
            attributes.insert(
                1, ("CHAP-Password", auth_methods.chap_password(ident, secret_password, challenge))
            )
            attributes.insert(2, ("CHAP-Challenge", challenge))
        else:
            auth_challenge, peer_challenge = os.urandom(16), os.urandom(16)
            password_hash = auth_methods.nt_password_hash(password)
            nt_response = auth_methods.generate_nt_response(
                auth_challenge, peer_challenge, username, password_hash
            )
            ident = identifier
            response = auth_methods.MsChap2Response(ident, 0, peer_challenge, nt_response)
            attributes.insert(1, ("MS-CHAP-Challenge", auth_challenge))
            attributes.insert(2, ("MS-CHAP2-Response", response.encode()))
            mschap = (auth_challenge, peer_challenge, nt_response, ident)
        raw = encode_request(
            ACCESS_REQUEST,
            identifier,
            authenticator,
            attributes,
            self.secret,
            message_authenticator=self.message_authenticator,
        )
        datagram = self.send_raw(raw)
        if datagram is None:
            return None
        return self.check_reply(datagram, authenticator, username, password, mschap)

    def send_raw(self, raw: bytes, *, timeout: float | None = None) -> bytes | None:
        """Send a datagram from a fresh port and wait for one reply (None on timeout)."""
        family = socket.AF_INET6 if ":" in self.server[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(self.timeout if timeout is None else timeout)
            if self.source_ip is not None:
                sock.bind((self.source_ip, 0))
            # Like a router: the same packet again (same identifier and authenticator).
            for _attempt in range(1 + self.retries):
                sock.sendto(raw, self.server)
                try:
                    data, _addr = sock.recvfrom(8192)
                except TimeoutError:
                    continue
                return data
            return None

    def check_reply(
        self,
        datagram: bytes,
        request_authenticator: bytes,
        username: str,
        password: str,
        mschap: tuple[bytes, bytes, bytes, int] | None = None,
    ) -> NasReply:
        try:
            packet = decode_reply(datagram, request_authenticator, self.secret)
        except DecodeError as exc:
            raise ReplyRejected(exc.reason) from exc
        if not packet.has("Message-Authenticator"):
            raise ReplyRejected("the reply has no Message-Authenticator")
        first = packet.raw[20] == auth_methods.MESSAGE_AUTHENTICATOR
        success_valid: bool | None = None
        keys_valid: bool | None = None
        if mschap is not None and packet.code == ACCESS_ACCEPT:
            auth_challenge, peer_challenge, nt_response, ident = mschap
            password_hash = auth_methods.nt_password_hash(password)
            expected = auth_methods.mschap2_success(
                ident,
                auth_methods.authenticator_response(
                    password_hash, nt_response, peer_challenge, auth_challenge, username
                ),
            )
            success_valid = hmac.compare_digest(packet.octets("MS-CHAP2-Success") or b"", expected)
            send_key, recv_key = auth_methods.mppe_nas_keys(password_hash, nt_response)
            try:
                got_send = auth_methods.decrypt_mppe_key(
                    packet.octets("MS-MPPE-Send-Key") or b"", self.secret, request_authenticator
                )
                got_recv = auth_methods.decrypt_mppe_key(
                    packet.octets("MS-MPPE-Recv-Key") or b"", self.secret, request_authenticator
                )
                keys_valid = got_send == send_key and got_recv == recv_key
            except ValueError:
                keys_valid = False
        return NasReply(packet.code, packet.attributes, first, success_valid, keys_valid)

    def accounting_packet(
        self,
        status: str,
        session_id: str = "",
        username: str = "",
        *,
        session_time: int = 0,
        input_octets: int = 0,
        output_octets: int = 0,
        input_packets: int = 0,
        output_packets: int = 0,
        delay: int = 0,
        framed_ip: str | None = None,
        terminate_cause: int | None = None,
        class_value: bytes | None = None,
        service: Service | str = Service.PPPOE,
    ) -> bytes:
        """A signed Accounting-Request (`status`: start, interim, stop, on, off); send it with
        send_accounting, as often as a retransmitting router would."""
        attributes: list[tuple[str, AttributeValue]] = [("Acct-Status-Type", ACCT_STATUS[status])]
        if status in ("on", "off"):
            attributes += [("NAS-Identifier", self.nas_identifier), ("NAS-IP-Address", "127.0.0.1")]
        else:
            attributes += self.request_attributes(username, Service(service))
            attributes = [(k, v) for k, v in attributes if k != "Acct-Session-Id"]
            attributes += [("Acct-Session-Id", session_id), ("Acct-Authentic", 1)]
            if framed_ip is not None:
                attributes = [(k, v) for k, v in attributes if k != "Framed-IP-Address"]
                attributes.append(("Framed-IP-Address", framed_ip))
            if class_value is not None:
                attributes.append(("Class", class_value))
            if status != "start":
                attributes += [
                    ("Acct-Session-Time", session_time),
                    ("Acct-Input-Octets", input_octets % _WORD),
                    ("Acct-Input-Gigawords", input_octets // _WORD),
                    ("Acct-Input-Packets", input_packets),
                    ("Acct-Output-Octets", output_octets % _WORD),
                    ("Acct-Output-Gigawords", output_octets // _WORD),
                    ("Acct-Output-Packets", output_packets),
                ]
            if status == "stop" and terminate_cause is not None:
                attributes.append(("Acct-Terminate-Cause", terminate_cause))
        attributes.append(("Acct-Delay-Time", delay))
        unsigned = encode_request(
            _ACCOUNTING_REQUEST,
            self._next_identifier(),
            bytes(16),
            attributes,
            self.secret,
            message_authenticator=self.message_authenticator,
        )
        return auth_methods.sign_request(unsigned, self.secret)

    def send_accounting(self, raw: bytes, *, timeout: float | None = None) -> bool:
        """Send an Accounting-Request; True when a correctly signed Accounting-Response came."""
        datagram = self.send_raw(raw, timeout=timeout)
        if datagram is None:
            return False
        reply = self.check_accounting_reply(datagram, raw)
        return reply.code == _ACCOUNTING_RESPONSE

    def check_accounting_reply(self, datagram: bytes, request: bytes) -> RadiusPacket:
        try:
            return decode_reply(datagram, request[4:20], self.secret)
        except DecodeError as exc:
            raise ReplyRejected(exc.reason) from exc

    def account(self, status: str, session_id: str = "", username: str = "", **kw: Any) -> bool:
        """Build and send one Accounting-Request (see accounting_packet)."""
        return self.send_accounting(self.accounting_packet(status, session_id, username, **kw))

    def _next_identifier(self) -> int:
        self._sent += 1
        return self._sent % 256
