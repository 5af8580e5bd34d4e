"""A simulated router's subscribers for the live demo (`easyisp simulate site`): it logs them
in over RADIUS (PAP), sends their Accounting-Start and periodic Interim-Updates with growing
counters, lists them in its API simulator's /ppp/active, and answers the service's
Disconnect/CoA like RouterOS (coa_listener), dropping the /ppp/active row with the session.

Blocking UDP in one daemon thread per router; `start()` returns how many came online.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field

from radius_service.simulator.coa_listener import CoaListener
from radius_service.simulator.nas import DEFAULT_MAC, NasSimulator
from radius_service.simulator.routeros.sessions import add_ppp_session
from radius_service.simulator.routeros.state import RouterState

log = logging.getLogger(__name__)

# How often the /ppp/active list catches up with a disconnect (not a wire timing).
_SYNC_SECONDS = 0.5
_STOP_TIMEOUT = 0.5
_TERMINATE_ADMIN_REBOOT = 7


@dataclass(frozen=True, slots=True)
class Subscriber:
    username: str
    password: str = field(repr=False)
    mac_address: str | None = None


@dataclass
class LiveRouter:
    name: str
    state: RouterState
    source_ip: str
    secret: bytes = field(repr=False)
    auth_server: tuple[str, int]
    acct_server: tuple[str, int]
    coa_port: int = 3799
    interim_seconds: float = 60.0
    # Counters grow by this many bytes a second, times the session's number (1, 2, …).
    bytes_per_second: int = 40_000
    listener: CoaListener | None = field(default=None, init=False)
    _rows: dict[str, str] = field(default_factory=dict, init=False)  # session id → .id
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def _nas(self, server: tuple[str, int], mac: str | None = None) -> NasSimulator:
        return NasSimulator(
            server,
            self.secret,
            nas_identifier=self.name,
            calling_station_id=mac or DEFAULT_MAC,
            source_ip=self.source_ip,
            retries=2,
        )

    def listen(self) -> int:
        """Start the CoA listener on source_ip (coa_port, 0 = any free one); its port."""
        self.listener = CoaListener(
            self.secret, nas=self._nas(self.acct_server), address=(self.source_ip, self.coa_port)
        )
        self.coa_port = self.listener.start()[1]
        return self.coa_port

    def start(self, subscribers: list[Subscriber], attempts: int = 5) -> int:
        """Log the subscribers in, start their accounting and the interim updates; how many
        came online. `attempts`: the service may not know this router's address yet."""
        if self.listener is None:
            self.listen()
        online = 0
        for number, subscriber in enumerate(subscribers, start=1):
            if self._bring_online(number, subscriber, attempts):
                online += 1
        self._thread = threading.Thread(target=self._run, name=f"live-{self.name}", daemon=True)
        self._thread.start()
        return online

    def stop(self) -> None:
        """Stop answering, then end the sessions as a router shutting down does (Stop with
        Admin-Reboot), so the next run finds the subscribers offline. The service may be
        gone already: one short try each."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.listener is None:
            return
        self.listener.stop()
        nas = self.listener.nas
        if nas is None:
            return
        for session in list(self.listener.sessions.values()):
            packet = nas.accounting_packet(
                "stop",
                session.session_id,
                session.username,
                framed_ip=session.framed_ip,
                session_time=session.session_time,
                input_octets=session.input_octets,
                output_octets=session.output_octets,
                terminate_cause=_TERMINATE_ADMIN_REBOOT,
            )
            try:
                nas.send_accounting(packet, timeout=_STOP_TIMEOUT)
            except OSError:
                return

    def _bring_online(self, number: int, subscriber: Subscriber, attempts: int) -> bool:
        assert self.listener is not None
        nas = self._nas(self.auth_server, subscriber.mac_address)
        reply = None
        for _attempt in range(attempts):
            reply = nas.login(subscriber.username, subscriber.password)
            if reply is not None:
                break
        if reply is None or not reply.accepted:
            why = "no answer" if reply is None else reply.first("Reply-Message") or "rejected"
            log.warning("%s: %s not logged in (%s)", self.name, subscriber.username, why)
            return False
        framed = reply.first("Framed-IP-Address")
        framed_ip = str(framed) if framed else f"10.20.{number // 250}.{number % 250 + 2}"
        session_id = f"{secrets.randbits(32):08X}"
        self.listener.connect(subscriber.username, session_id, framed_ip)
        self._rows[session_id] = add_ppp_session(
            self.state, subscriber.username, number=number, address=framed_ip
        )
        return True

    def _run(self) -> None:
        waited = 0.0
        while not self._stop.wait(_SYNC_SECONDS):
            self._drop_ended_rows()
            waited += _SYNC_SECONDS
            if waited >= self.interim_seconds:
                waited = 0.0
                try:
                    self._send_interims()
                except OSError:
                    log.exception("%s: interim update failed", self.name)

    def _drop_ended_rows(self) -> None:
        assert self.listener is not None
        for session_id in list(self._rows):
            if session_id not in self.listener.sessions:
                row_id = self._rows.pop(session_id)
                self.state.execute("/ppp/active/remove", {".id": row_id})

    def _send_interims(self) -> None:
        assert self.listener is not None
        for number, session in enumerate(list(self.listener.sessions.values()), start=1):
            session.session_time += int(self.interim_seconds)
            grown = int(self.interim_seconds * self.bytes_per_second) * number
            session.input_octets += grown
            session.output_octets += grown * 8  # downloads outweigh uploads
            if self.listener.nas is not None:
                self.listener.nas.account(
                    "interim",
                    session.session_id,
                    session.username,
                    framed_ip=session.framed_ip,
                    session_time=session.session_time,
                    input_octets=session.input_octets,
                    output_octets=session.output_octets,
                )
