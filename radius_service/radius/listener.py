"""The RADIUS authentication listener: asyncio UDP that decodes, checks the client and
dispatches Access-Requests to the auth stage in worker threads.

Nothing a client sends can stop it: every datagram is judged on its own, malformed or
unauthenticated ones are dropped without a reply and counted by reason (counter keys
`radius.auth.drop.<reason>`), and a failing database gives no reply (the NAS retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from easyisp_core.services.radius_auth import NasClient
from radius_service import auth_methods
from radius_service.radius.auth import (
    AccessRequestHandler,
    AuthReply,
    Credentials,
    read_credentials,
)
from radius_service.radius.clients import ClientTable, UnknownSourceLog
from radius_service.radius.codec import (
    ACCESS_ACCEPT,
    ACCESS_REQUEST,
    STATUS_SERVER,
    DecodeError,
    RadiusPacket,
    decode,
)
from radius_service.radius.codec import encode_reply as _encode_reply
from radius_service.radius.endpoint import Address as Address
from radius_service.radius.endpoint import (
    RadiusDatagramProtocol,
    ReplyCache,
    enlarge_receive_buffer,
)
from radius_service.radius.endpoint import RequestKey as RequestKey
from radius_service.radius.router_seen import SeenRouters

log = logging.getLogger(__name__)

DEFAULT_AUTH_PORT = 1812
DEFAULT_AUTH_ADDR = ("0.0.0.0", DEFAULT_AUTH_PORT)  # noqa: S104 (routers reach us on any address)
DISABLED = frozenset({"off", "none", "disabled", "no"})

# Requests decided at once; beyond this new ones are dropped and the NAS retransmits.
MAX_IN_FLIGHT = 256
WORKER_THREADS = 8
# A retransmission (same source, identifier and authenticator) within this window gets the
# reply already sent instead of a second decision (RFC 5080 §2.2.2).
_MAX_CACHED_REPLIES = 4096
CLIENT_REFRESH_INTERVAL = 10.0
UNKNOWN_REFRESH_GAP = 1.0
# How long stop() lets decisions in progress finish and answer.
STOP_GRACE_SECONDS = 10.0


def parse_address(text: str, *, default_port: int = DEFAULT_AUTH_PORT) -> Address | None:
    """HOST:PORT, HOST, :PORT or [IPv6]:PORT; None for "off". ValueError when unreadable."""
    value = text.strip()
    if value.lower() in DISABLED:
        return None
    host, port = value, str(default_port)
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"not an address: {text!r}")
            port = rest[1:]
    elif value.count(":") == 1:
        host, port = value.split(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"not a UDP port: {port!r}")
    return (host or DEFAULT_AUTH_ADDR[0], int(port))


def auth_address(raw: str | None) -> Address | None:
    """Settings.radius_auth_addr (EASYISP_RADIUS_AUTH_ADDR): HOST:PORT, default 0.0.0.0:1812;
    None when it is "off"."""
    if raw is None or not raw.strip():
        return DEFAULT_AUTH_ADDR
    return parse_address(raw)


@dataclass(frozen=True, slots=True)
class _Accepted:
    """A request that passed the listener's checks, waiting for its decision."""

    packet: RadiusPacket
    client: NasClient
    source: Address
    creds: Credentials


class RadiusAuthServer:
    """Start/stop controller around the UDP endpoint (tests run it on 127.0.0.1:0)."""

    def __init__(
        self,
        address: Address,
        handler: AccessRequestHandler,
        *,
        clients: ClientTable | None = None,
        load_clients: Callable[[], list[NasClient]] | None = None,
        counters: Counter[str] | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        workers: int = WORKER_THREADS,
        refresh_interval: float = CLIENT_REFRESH_INTERVAL,
        reuse_port: bool = False,
        seen: SeenRouters | None = None,
    ) -> None:
        """`reuse_port`: bind with SO_REUSEPORT, so several worker processes share the port
        (the kernel spreads datagrams over them by source address and port). `seen` marks
        the routers that send requests seen (started and stopped here)."""
        self._seen = seen
        self._reuse_port = reuse_port
        self.requested_address = address
        self.address: Address | None = None
        self.clients = clients or ClientTable()
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self._handler = handler
        self._load_clients = load_clients
        self._max_in_flight = max_in_flight
        self._refresh_interval = refresh_interval
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="radius-auth")
        self._transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[RequestKey] = set()
        self._replies = ReplyCache(_MAX_CACHED_REPLIES)
        self._unknown = UnknownSourceLog()
        self._refresher: asyncio.Task[None] | None = None
        self._refresh_soon = asyncio.Event()
        self._refresh_notified = False  # a NOTIFY asked: refresh without the unknown-source gap
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifetime ------------------------------------------------------------------------

    async def start(self) -> Address:
        """Load the clients, bind the socket; returns the bound address."""
        loop = asyncio.get_running_loop()
        if self._load_clients is not None:
            await self.refresh_clients()
        transport, _protocol = await loop.create_datagram_endpoint(
            lambda: RadiusDatagramProtocol(self, "auth"),
            local_addr=self.requested_address,
            reuse_port=self._reuse_port or None,
        )
        self._transport = transport
        self._loop = loop
        enlarge_receive_buffer(transport)
        sockname = transport.get_extra_info("sockname")
        self.address = (str(sockname[0]), int(sockname[1]))
        if self._load_clients is not None:
            self._refresher = asyncio.create_task(self._refresh_forever(), name="radius-clients")
        if self._seen is not None:
            await self._seen.start()
        log.info("RADIUS auth listening on %s:%d (%d clients)", *self.address, len(self.clients))
        return self.address

    async def stop(self) -> None:
        """Stop receiving, let decisions in progress answer, release the threads."""
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._seen is not None:
            await self._seen.stop()
        # Joining the worker threads blocks: not on the event loop.
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)

    def request_client_refresh(self) -> None:
        """Re-read the routers soon (a NOTIFY said the nas table changed); any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._notified_refresh)

    def _notified_refresh(self) -> None:
        self._refresh_notified = True
        self._refresh_soon.set()

    async def refresh_clients(self) -> None:
        assert self._load_clients is not None
        loop = asyncio.get_running_loop()
        clients = await loop.run_in_executor(self._executor, self._load_clients)
        self.clients.replace(clients)

    async def _refresh_forever(self) -> None:
        while True:
            # Early when an unknown source spoke (a router just added in the console), but
            # never more often than every UNKNOWN_REFRESH_GAP seconds, whatever floods us.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._refresh_soon.wait(), self._refresh_interval)
            # A console change (NOTIFY, migration 0017: only the columns the table holds)
            # applies at once, within the one second the console promises.
            unknown = self._refresh_soon.is_set() and not self._refresh_notified
            await asyncio.sleep(UNKNOWN_REFRESH_GAP if unknown else 0)
            self._refresh_soon.clear()
            self._refresh_notified = False
            try:
                await self.refresh_clients()
            except Exception:
                log.warning(
                    "could not refresh the RADIUS clients; keeping the old table", exc_info=True
                )

    # --- per datagram (on the event loop) ------------------------------------------------

    def count(self, what: str) -> None:
        self.counters[f"radius.auth.{what}"] += 1

    def _drop(self, reason: str) -> None:
        self.count("drop")
        self.count("drop." + reason.replace(" ", "_"))

    def _drop_bad_secret(self, client: NasClient) -> None:
        """A Message-Authenticator that does not verify: most likely another secret on the
        router, which SeenRouters flags when nothing valid comes from it."""
        self._drop("bad message authenticator")
        if self._seen is not None:
            self._seen.note_bad_secret(client.nas_id)

    def received(self, data: bytes, source: Address) -> None:
        client = self.clients.lookup(source[0])
        if client is None:
            self._drop("unknown client")
            self._unknown.report(source[0])
            self._refresh_soon.set()
            return
        try:
            packet = decode(data)
        except DecodeError as exc:
            self._drop(exc.reason)
            return
        if packet.code == STATUS_SERVER:
            self._answer_status(packet, client, source)
            return
        if packet.code != ACCESS_REQUEST:
            self._drop("unexpected code")
            return
        if packet.has("Message-Authenticator") and not auth_methods.verify_message_authenticator(
            packet.raw, client.secret
        ):
            self._drop_bad_secret(client)
            return
        refusal = _unauthenticated_refusal(packet, client)
        if refusal is not None:
            self._drop(refusal)
            return
        if self._seen is not None:
            self._seen.note(client.nas_id)
        try:
            creds = read_credentials(packet)
        except ValueError:
            creds = None
        if creds is None:
            self._drop("no user name")
            return
        key: RequestKey = (source[0], source[1], packet.identifier, packet.authenticator)
        cached = self._replies.get(key)
        if cached is not None:
            self.count("duplicate")
            self._send(cached, source)
            return
        if key in self._in_flight:
            self.count("duplicate")
            return
        if len(self._tasks) >= self._max_in_flight:
            self._drop("overloaded")
            return
        self._in_flight.add(key)
        task = asyncio.get_running_loop().create_task(
            self._answer(_Accepted(packet, client, source, creds), key)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, request: _Accepted, key: RequestKey) -> None:
        try:
            creds = request.creds
            loop = asyncio.get_running_loop()
            try:
                # The fast path is a few dozen microseconds of CPU: on the loop, no thread hop.
                fast = self._handler.handle_from_cache(request.packet, request.client, creds)
                if fast is not None:
                    self.count("fast_path")
                reply: AuthReply = (
                    fast
                    if fast is not None
                    else await loop.run_in_executor(
                        self._executor, self._handler.handle, request.packet, request.client, creds
                    )
                )
            except Exception:
                self.count("error")
                log.exception("Access-Request from %s could not be decided", request.client.name)
                return
            raw = _encode_reply(reply.code, request.packet, reply.attributes, request.client.secret)
            # Counted before sending, so whoever gets the reply also sees it counted.
            self.count("accept" if reply.accepted else "reject")
            if reply.voucher_first_use:
                self.count("voucher_first_use")
            if reply.voucher_race_lost:
                self.count("voucher_race_lost")
            self._replies.put(key, raw)
            self._send(raw, request.source)
            log.debug(
                "%s %s for %s via %s (%s)",
                "accept" if reply.accepted else "reject",
                reply.method.value,
                creds.username,
                request.client.name,
                reply.reason,
            )
        finally:
            self._in_flight.discard(key)

    def _answer_status(self, packet: RadiusPacket, client: NasClient, source: Address) -> None:
        """RFC 5997: Status-Server on the auth port is answered with Access-Accept, and only
        when it carries a valid Message-Authenticator (§3)."""
        if not packet.has("Message-Authenticator"):
            self._drop("status server without message authenticator")
            return
        if not auth_methods.verify_message_authenticator(packet.raw, client.secret):
            self._drop_bad_secret(client)
            return
        self.count("status_server")
        if self._seen is not None:
            self._seen.note(client.nas_id)
        reply = _encode_reply(
            ACCESS_ACCEPT, packet, [("Reply-Message", "EasyISP up")], client.secret
        )
        self._send(reply, source)

    def _send(self, raw: bytes, destination: Address) -> None:
        if self._transport is not None:
            self._transport.sendto(raw, destination)


def _unauthenticated_refusal(packet: RadiusPacket, client: NasClient) -> str | None:
    """Why a request must be dropped under RFC 3579 and the Blast-RADIUS rules for lacking a
    Message-Authenticator, or None (one that is present was verified by the caller)."""
    if packet.has("Message-Authenticator"):
        return None
    if client.require_message_authenticator:
        return "missing message authenticator"
    if packet.has("Proxy-State"):
        # Real NASes never send Proxy-State; unauthenticated, it is the Blast-RADIUS vector.
        return "proxy state without message authenticator"
    return None
