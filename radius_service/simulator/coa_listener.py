"""The simulated router's `/radius incoming` (RFC 5176 on UDP 3799), protocols.md §3.6 and §8.

It keeps the router's active sessions; a Disconnect-Request that names one (User-Name plus
Framed-IP-Address and/or Acct-Session-Id) removes it, answers Disconnect-ACK and then — like
RouterOS — sends that session's Accounting-Stop (Acct-Terminate-Cause Admin-Reset) to the
accounting server. A CoA-Request applies the new Mikrotik-Rate-Limit. Unknown sessions get a
NAK with Error-Cause 503 Session-Context-Not-Found. Badly signed requests are dropped.

Fault injection (`mode`): ANSWER (normal), SILENT (no answer at all), NAK (refuse everything
with `nak_cause`), ACK_NO_STOP (acknowledge and drop the session but never send the Stop);
`lose_replies` drops the next answers after acting (the client's retransmission then gets
the remembered answer, as RFC 5080 duplicate detection gives it).
Runs a blocking socket in a daemon thread; start() returns the bound address.
"""

from __future__ import annotations

import enum
import logging
import socket
import threading
from dataclasses import dataclass, field

from radius_service import auth_methods
from radius_service.radius.codec import DecodeError, RadiusPacket, decode, encode_reply
from radius_service.simulator.nas import NasSimulator

log = logging.getLogger(__name__)

DISCONNECT_REQUEST, DISCONNECT_ACK, DISCONNECT_NAK = 40, 41, 42
COA_REQUEST, COA_ACK, COA_NAK = 43, 44, 45
SESSION_CONTEXT_NOT_FOUND = 503
TERMINATE_ADMIN_RESET = 6


class ListenerMode(enum.StrEnum):
    ANSWER = "answer"
    SILENT = "silent"
    NAK = "nak"
    ACK_NO_STOP = "ack-no-stop"


@dataclass
class ActiveSession:
    """A row of the simulated `/ppp active` (or `/ip hotspot active`)."""

    username: str
    session_id: str
    framed_ip: str | None = None
    rate_limit: str | None = None
    session_time: int = 0
    input_octets: int = 0
    output_octets: int = 0


@dataclass
class CoaListener:
    secret: bytes
    # Sends the Accounting-Start/Stop of this router's sessions; None: no accounting.
    nas: NasSimulator | None = None
    address: tuple[str, int] = ("127.0.0.1", 0)
    mode: ListenerMode = ListenerMode.ANSWER
    nak_cause: int = 506
    # Replies to lose (acted on, answer dropped), as if the network ate them.
    lose_replies: int = 0
    sessions: dict[str, ActiveSession] = field(default_factory=dict)
    # Every correctly signed request that arrived (retransmissions included), in order.
    received: list[RadiusPacket] = field(default_factory=list)
    _sock: socket.socket | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _answered: dict[tuple[tuple[str, int], int, bytes], bytes] = field(
        default_factory=dict, init=False
    )

    def start(self) -> tuple[str, int]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(self.address)
        sock.settimeout(0.2)
        self._sock = sock
        self.address = sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, name="sim-coa", daemon=True)
        self._thread.start()
        return self.address

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if self._thread is not None:
            self._thread.join(timeout=5)
        if sock is not None:
            sock.close()

    def connect(
        self, username: str, session_id: str, framed_ip: str | None = None, *, start: bool = True
    ) -> ActiveSession:
        """A subscriber comes online: listed, and its Accounting-Start sent."""
        session = ActiveSession(username, session_id, framed_ip)
        with self._lock:
            self.sessions[session_id] = session
        if start and self.nas is not None:
            sent = self.nas.account("start", session_id, username, framed_ip=framed_ip)
            if not sent:
                raise RuntimeError("the accounting server did not answer the Start")
        return session

    def _serve(self) -> None:
        while (sock := self._sock) is not None:
            try:
                data, source = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self._handle(sock, data, (str(source[0]), int(source[1])))
            except Exception:
                log.exception("simulated CoA listener could not handle a request")

    def _handle(self, sock: socket.socket, data: bytes, source: tuple[str, int]) -> None:
        try:
            packet = decode(data)
        except DecodeError:
            return
        if packet.code not in (DISCONNECT_REQUEST, COA_REQUEST):
            return
        if not auth_methods.verify_request_authenticator(packet.raw, self.secret):
            return  # RouterOS drops a request signed with another secret
        self.received.append(packet)
        key = (source, packet.identifier, packet.authenticator)
        cached = self._answered.get(key)
        if cached is not None:
            sock.sendto(cached, source)  # a retransmission: the same answer, done once
            return
        if self.mode is ListenerMode.SILENT:
            return
        stopped: ActiveSession | None = None
        if self.mode is ListenerMode.NAK:
            reply = self._nak(packet, self.nak_cause)
        elif packet.code == DISCONNECT_REQUEST:
            stopped = self._remove(packet)
            if stopped is None:
                reply = self._nak(packet, SESSION_CONTEXT_NOT_FOUND)
            else:
                reply = encode_reply(DISCONNECT_ACK, packet, [], self.secret)
        else:
            reply = self._change(packet)
        self._answered[key] = reply
        if self.lose_replies > 0:
            self.lose_replies -= 1
        else:
            sock.sendto(reply, source)
        if stopped is not None and self.mode is ListenerMode.ANSWER and self.nas is not None:
            self.nas.account(
                "stop",
                stopped.session_id,
                stopped.username,
                framed_ip=stopped.framed_ip,
                session_time=stopped.session_time,
                input_octets=stopped.input_octets,
                output_octets=stopped.output_octets,
                terminate_cause=TERMINATE_ADMIN_RESET,
            )

    def _nak(self, packet: RadiusPacket, cause: int) -> bytes:
        code = DISCONNECT_NAK if packet.code == DISCONNECT_REQUEST else COA_NAK
        return encode_reply(code, packet, [("Error-Cause", cause)], self.secret)

    def _find(self, packet: RadiusPacket) -> ActiveSession | None:
        username = packet.text("User-Name")
        session_id = packet.text("Acct-Session-Id")
        framed_ip = packet.text("Framed-IP-Address")
        if username is None or (session_id is None and framed_ip is None):
            return None  # User-Name alone is ambiguous (packetfence #7703)
        for session in self.sessions.values():
            if session.username != username:
                continue
            if session_id is not None and session.session_id != session_id:
                continue
            if framed_ip is not None and session.framed_ip != framed_ip:
                continue
            return session
        return None

    def _remove(self, packet: RadiusPacket) -> ActiveSession | None:
        with self._lock:
            session = self._find(packet)
            if session is not None:
                del self.sessions[session.session_id]
            return session

    def _change(self, packet: RadiusPacket) -> bytes:
        with self._lock:
            session = self._find(packet)
            if session is None:
                return self._nak(packet, SESSION_CONTEXT_NOT_FOUND)
            rate = packet.text("Mikrotik-Rate-Limit")
            if rate is not None:
                session.rate_limit = rate
        return encode_reply(COA_ACK, packet, [], self.secret)
