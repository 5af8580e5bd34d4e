"""RFC 5176 client: Disconnect-Request and CoA-Request to a router's `/radius incoming` port.

send Disconnect-/CoA-Request (Message-Authenticator first, signed over a zero authenticator)
→ wait → retransmit the same bytes (same Identifier and authenticator, RFC 5080 §2.2.1) →
read the ACK/NAK only if it comes from the router, answers our Identifier and carries a
valid Response Authenticator and Message-Authenticator. A NAK's Error-Cause becomes text.

The session is named the way RouterOS finds it in the field (protocols.md §3.6): User-Name,
Acct-Session-Id and Framed-IP-Address, all three when known.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import os
import socket
from dataclasses import dataclass

from radius_service import auth_methods
from radius_service.radius.codec import (
    AttributeValue,
    DecodeError,
    RadiusPacket,
    decode_reply,
    encode_request,
)

DISCONNECT_REQUEST = 40
DISCONNECT_ACK = 41
DISCONNECT_NAK = 42
COA_REQUEST = 43
COA_ACK = 44
COA_NAK = 45
DEFAULT_COA_PORT = 3799
DEFAULT_TIMEOUT = 3.0
DEFAULT_TRIES = 3

# RFC 5176 §3.5 (and 510 from draft-ietf-radext-deprecating-radius), protocols.md §4.1.
ERROR_CAUSES = {
    201: "Residual-Session-Context-Removed",
    202: "Invalid-EAP-Packet",
    401: "Unsupported-Attribute",
    402: "Missing-Attribute",
    403: "NAS-Identification-Mismatch",
    404: "Invalid-Request",
    405: "Unsupported-Service",
    406: "Unsupported-Extension",
    407: "Invalid-Attribute-Value",
    501: "Administratively-Prohibited",
    502: "Request-Not-Routable",
    503: "Session-Context-Not-Found",
    504: "Session-Context-Not-Removable",
    505: "Other-Proxy-Processing-Error",
    506: "Resources-Unavailable",
    507: "Request-Initiated",
    508: "Multiple-Session-Selection-Unsupported",
    510: "Missing-Message-Authenticator",
}
_CAUSE_NUMBERS = {name: number for number, name in ERROR_CAUSES.items()}
# What an operator reads in the customer's history for the common causes.
_CAUSE_EXPLANATIONS = {
    503: "the router has no such session",
    504: "the router cannot remove this session",
    401: "the router does not accept an attribute we sent",
    402: "the router wants an attribute we did not send",
    404: "the router found the request invalid",
    501: "the router refuses CoA/Disconnect (check /radius incoming)",
    506: "the router is out of resources",
    510: "the router requires Message-Authenticator",
}


class Outcome(enum.StrEnum):
    ACK = "ACK"
    NAK = "NAK"
    TIMEOUT = "TIMEOUT"


@dataclass(frozen=True, slots=True)
class SessionRef:
    """Which session on which router: what the last accounting record told us."""

    router_ip: str
    secret: bytes
    username: str
    session_id: str | None = None
    framed_ip: str | None = None
    coa_port: int = DEFAULT_COA_PORT

    def identity(self) -> list[tuple[str, AttributeValue]]:
        attributes: list[tuple[str, AttributeValue]] = [("User-Name", self.username)]
        if self.session_id:
            attributes.append(("Acct-Session-Id", self.session_id))
        if self.framed_ip:
            attributes.append(("Framed-IP-Address", self.framed_ip))
        return attributes


@dataclass(frozen=True, slots=True)
class CoaResult:
    outcome: Outcome
    identifier: int
    tries: int
    error_cause: int | None = None

    @property
    def acked(self) -> bool:
        return self.outcome is Outcome.ACK

    def describe(self) -> str:
        """One line for the customer's history."""
        if self.outcome is Outcome.ACK:
            return "router acknowledged"
        if self.outcome is Outcome.TIMEOUT:
            return f"no answer from the router after {self.tries} tries"
        return f"router refused: {describe_error_cause(self.error_cause)}"


def describe_error_cause(cause: int | None) -> str:
    """Error-Cause (RFC 5176 §3.5) as text: `503 Session-Context-Not-Found (the router ...)`."""
    if cause is None:
        return "no Error-Cause given"
    name = ERROR_CAUSES.get(cause, "unknown cause")
    explanation = _CAUSE_EXPLANATIONS.get(cause)
    return f"{cause} {name}" + (f" ({explanation})" if explanation else "")


def _error_cause(packet: RadiusPacket) -> int | None:
    value = packet.first("Error-Cause")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return _CAUSE_NUMBERS.get(value)
    return None


class _ReplyProtocol(asyncio.DatagramProtocol):
    """Collects datagrams from one router address for one outstanding request."""

    def __init__(self, router: tuple[str, int]) -> None:
        self.router = router
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        # Anything not from the router's address and port is not an answer (RFC 5176 §3).
        if (_canonical(str(addr[0])), int(addr[1])) == self.router:
            self.replies.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: the router is not listening; the timeout reports it.
        pass


def _canonical(address: str) -> str:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class CoaClient:
    """Sends one request at a time per call; calls may run concurrently (each has its own
    socket, so Identifiers never collide)."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        tries: int = DEFAULT_TRIES,
        require_message_authenticator: bool = False,
    ) -> None:
        if timeout <= 0 or tries < 1:
            raise ValueError("timeout must be positive and tries at least 1")
        self.timeout = timeout
        self.tries = tries
        # RouterOS 7.15+ signs its replies; older ones may not, so absence is allowed unless
        # asked, but a Message-Authenticator that is present must always be valid.
        self.require_message_authenticator = require_message_authenticator

    async def disconnect(self, session: SessionRef) -> CoaResult:
        return await self._send(DISCONNECT_REQUEST, session, session.identity())

    async def change_rate_limit(self, session: SessionRef, rate_limit: str) -> CoaResult:
        attributes = [*session.identity(), ("Mikrotik-Rate-Limit", rate_limit)]
        return await self._send(COA_REQUEST, session, attributes)

    async def _send(
        self, code: int, session: SessionRef, attributes: list[tuple[str, AttributeValue]]
    ) -> CoaResult:
        identifier = os.urandom(1)[0]
        raw = build_request(code, identifier, attributes, session.secret)
        router = (_canonical(session.router_ip), session.coa_port)
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in router[0] else socket.AF_INET
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _ReplyProtocol(router), family=family
        )
        try:
            for attempt in range(1, self.tries + 1):
                transport.sendto(raw, router)
                reply = await self._await_reply(protocol, raw, session.secret)
                if reply is not None:
                    return _result(code, reply, identifier, attempt)
            return CoaResult(Outcome.TIMEOUT, identifier, self.tries)
        finally:
            transport.close()

    async def _await_reply(
        self, protocol: _ReplyProtocol, request: bytes, secret: bytes
    ) -> RadiusPacket | None:
        """The first valid reply within the timeout; forged or stray datagrams are ignored."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return None
            try:
                datagram = await asyncio.wait_for(protocol.replies.get(), remaining)
            except TimeoutError:
                return None
            packet = check_reply(
                datagram, request, secret, require_ma=self.require_message_authenticator
            )
            if packet is not None:
                return packet


def build_request(
    code: int, identifier: int, attributes: list[tuple[str, AttributeValue]], secret: bytes
) -> bytes:
    """A signed Disconnect-/CoA-Request: Message-Authenticator first, then `attributes`."""
    unsigned = encode_request(code, identifier, bytes(16), attributes, secret)
    return auth_methods.sign_request(unsigned, secret)


def check_reply(
    datagram: bytes, request: bytes, secret: bytes, *, require_ma: bool = False
) -> RadiusPacket | None:
    """The reply if it answers `request` and is correctly signed, else None."""
    try:
        packet = decode_reply(datagram, request[4:20], secret)
    except DecodeError:
        return None
    if packet.identifier != request[1] or packet.code not in _REPLY_CODES[request[0]]:
        return None
    if require_ma and not packet.has("Message-Authenticator"):
        return None
    return packet


_REPLY_CODES = {
    DISCONNECT_REQUEST: (DISCONNECT_ACK, DISCONNECT_NAK),
    COA_REQUEST: (COA_ACK, COA_NAK),
}


def _result(code: int, reply: RadiusPacket, identifier: int, tries: int) -> CoaResult:
    if reply.code == _REPLY_CODES[code][0]:
        return CoaResult(Outcome.ACK, identifier, tries)
    return CoaResult(Outcome.NAK, identifier, tries, _error_cause(reply))
