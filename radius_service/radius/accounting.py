"""The RADIUS accounting listener: recv Accounting-Request → check the client and the
Request Authenticator → store (group commit) → send Accounting-Response.

A reply goes out only after the transaction holding its record has committed (or, with the
database unreachable, after the record is fsync'd to the journal). Requests arriving
together share one transaction; the database work runs in one writer thread, in arrival
order, so it never blocks the event loop and never races itself. Malformed, unknown or
badly signed packets are dropped without a reply and counted (`radius.acct.drop.<reason>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from easyisp_core.services.accounting import AccountingRecord, StatusType, store_records
from easyisp_core.services.radius_auth import NasClient
from radius_service import auth_methods
from radius_service.radius.clients import ClientTable, UnknownSourceLog
from radius_service.radius.codec import DecodeError, RadiusPacket, decode, encode_reply
from radius_service.radius.endpoint import (
    Address,
    RadiusDatagramProtocol,
    ReplyCache,
    RequestKey,
    enlarge_receive_buffer,
)
from radius_service.radius.journal import Journal, JournalFull
from radius_service.radius.listener import (
    CLIENT_REFRESH_INTERVAL,
    UNKNOWN_REFRESH_GAP,
    parse_address,
)
from radius_service.radius.router_seen import SeenRouters

log = logging.getLogger(__name__)

ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
DEFAULT_ACCT_PORT = 1813
DEFAULT_ACCT_ADDR = ("0.0.0.0", DEFAULT_ACCT_PORT)  # noqa: S104 (routers reach us on any address)
# Group commit: after the first record, wait this long for company, and store at most this
# many per transaction. Records arriving while a commit runs join the next one anyway.
BATCH_WAIT_SECONDS = 0.002
BATCH_SIZE = 512
MAX_QUEUED = 8192
_MAX_CACHED_REPLIES = 8192
REPLAY_INTERVAL_SECONDS = 5.0
JOURNALED = "journaled"
_TEXT_LIMIT = 64
_CAUSE_LIMIT = 40
# RFC 2866 §5.10, for causes our dictionary does not name.
TERMINATE_CAUSES = {
    1: "User-Request", 2: "Lost-Carrier", 3: "Lost-Service", 4: "Idle-Timeout",
    5: "Session-Timeout", 6: "Admin-Reset", 7: "Admin-Reboot", 8: "Port-Error",
    9: "NAS-Error", 10: "NAS-Request", 11: "NAS-Reboot", 12: "Port-Unneeded",
    13: "Port-Preempted", 14: "Port-Suspended", 15: "Service-Unavailable", 16: "Callback",
    17: "User-Error", 18: "Host-Request",
}  # fmt: skip
_STATUS_NUMBERS = {
    1: "Start",
    2: "Stop",
    3: "Interim-Update",
    7: "Accounting-On",
    8: "Accounting-Off",
}


class DatabaseDown(Exception):
    """PostgreSQL could not be reached: journal the records instead."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The database refused this record for a reason other than being unreachable."""

    reason: str


@dataclass(frozen=True, slots=True)
class _Stored:
    """What one trip to the writer thread did."""

    outcomes: list[str | Rejected]
    replayed: int = 0
    dead_lettered: int = 0


def acct_address(raw: str | None) -> Address | None:
    """Settings.radius_acct_addr (EASYISP_RADIUS_ACCT_ADDR): HOST:PORT, default 0.0.0.0:1813;
    None when it is "off"."""
    if raw is None or not raw.strip():
        return DEFAULT_ACCT_ADDR
    return parse_address(raw, default_port=DEFAULT_ACCT_PORT)


class UnusableRecord(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _number(packet: RadiusPacket, name: str) -> int:
    value = packet.first(name)
    return value if isinstance(value, int) and value > 0 else 0


def _text(packet: RadiusPacket, name: str, limit: int = _TEXT_LIMIT) -> str | None:
    value = packet.text(name)
    return None if value is None else value[:limit]


def read_record(packet: RadiusPacket, client: NasClient, received_at: datetime) -> AccountingRecord:
    """The record an Accounting-Request carries; UnusableRecord when it cannot be stored."""
    raw_status = packet.first("Acct-Status-Type")
    name = _STATUS_NUMBERS.get(raw_status, "") if isinstance(raw_status, int) else raw_status
    try:
        status = StatusType(str(name))
    except ValueError:
        raise UnusableRecord("unsupported status type") from None
    session_id = _text(packet, "Acct-Session-Id") or ""
    if not session_id and status not in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
        raise UnusableRecord("no session id")
    framed_ip = packet.text("Framed-IP-Address")
    if framed_ip is not None:
        try:
            framed_ip = str(ipaddress.ip_address(framed_ip))
        except ValueError:
            framed_ip = None
    cause = packet.first("Acct-Terminate-Cause")
    if isinstance(cause, int):
        cause = TERMINATE_CAUSES.get(cause, str(cause))
    class_value = packet.octets("Class")
    framed = packet.first("Framed-Protocol")
    service = packet.first("Service-Type")
    ppp = framed in ("PPP", 1) or service in ("Framed-User", 2)
    return AccountingRecord(
        tenant_id=client.tenant_id,
        nas_id=client.nas_id,
        status=status,
        received_at=received_at,
        session_id=session_id,
        username=_text(packet, "User-Name") or "",
        delay=_number(packet, "Acct-Delay-Time"),
        session_time=_number(packet, "Acct-Session-Time"),
        input_octets=(_number(packet, "Acct-Input-Gigawords") << 32)
        + _number(packet, "Acct-Input-Octets"),
        output_octets=(_number(packet, "Acct-Output-Gigawords") << 32)
        + _number(packet, "Acct-Output-Octets"),
        input_packets=_number(packet, "Acct-Input-Packets"),
        output_packets=_number(packet, "Acct-Output-Packets"),
        framed_ip=framed_ip,
        calling_station_id=_text(packet, "Calling-Station-Id"),
        called_station_id=_text(packet, "Called-Station-Id"),
        nas_port_id=_text(packet, "NAS-Port-Id"),
        service_type="PPPOE" if ppp else "HOTSPOT",
        terminate_cause=None if cause is None else str(cause)[:_CAUSE_LIMIT],
        class_value=None
        if class_value is None
        else class_value.decode("utf-8", "replace")[:_TEXT_LIMIT],
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    record: AccountingRecord
    packet: RadiusPacket
    client: NasClient
    source: Address
    key: RequestKey


class RadiusAccountingServer:
    """Start/stop controller around the accounting endpoint (tests run it on 127.0.0.1:0)."""

    def __init__(
        self,
        address: Address,
        sessions: Callable[[], Session],
        *,
        clients: ClientTable | None = None,
        load_clients: Callable[[], list[NasClient]] | None = None,
        counters: Counter[str] | None = None,
        journal: Journal | None = None,
        require_message_authenticator: bool = False,
        batch_size: int = BATCH_SIZE,
        batch_wait: float = BATCH_WAIT_SECONDS,
        refresh_interval: float = CLIENT_REFRESH_INTERVAL,
        replay_interval: float = REPLAY_INTERVAL_SECONDS,
        seen: SeenRouters | None = None,
    ) -> None:
        """`seen`: marks the routers that send accounting seen (started and stopped here)."""
        self._seen = seen
        self.requested_address = address
        self._replay_interval = replay_interval
        self.address: Address | None = None
        self.clients = clients or ClientTable()
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self.journal = journal
        self._sessions = sessions
        self._load_clients = load_clients
        self._require_ma = require_message_authenticator
        self._batch_size = batch_size
        self._batch_wait = batch_wait
        self._refresh_interval = refresh_interval
        # One writer thread: batches commit in arrival order and never contend.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="radius-acct-db")
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="radius-acct-clients")
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._transport: asyncio.DatagramTransport | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._refresh_soon = asyncio.Event()
        self._in_flight: set[RequestKey] = set()
        self._replies = ReplyCache(_MAX_CACHED_REPLIES)
        self._unknown = UnknownSourceLog()
        self._closing = False
        self._journal_full = False

    # --- lifetime ------------------------------------------------------------------------

    async def start(self) -> Address:
        loop = asyncio.get_running_loop()
        if self._load_clients is not None:
            await self.refresh_clients()
        transport, _protocol = await loop.create_datagram_endpoint(
            lambda: RadiusDatagramProtocol(self, "accounting"), local_addr=self.requested_address
        )
        self._transport = transport
        enlarge_receive_buffer(transport)
        sockname = transport.get_extra_info("sockname")
        self.address = (str(sockname[0]), int(sockname[1]))
        self._writer_task = asyncio.create_task(self._write_forever(), name="radius-acct-writer")
        if self._seen is not None:
            await self._seen.start()
        if self._load_clients is not None:
            self._refresher = asyncio.create_task(self._refresh_forever(), name="acct-clients")
        log.info("RADIUS accounting listening on %s:%d", *self.address)
        return self.address

    async def stop(self) -> None:
        """Stop accepting; store and answer everything already accepted; release threads."""
        self._closing = True
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        if self._writer_task is not None:
            self._queue.put_nowait(None)
            await asyncio.gather(self._writer_task, return_exceptions=True)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._seen is not None:
            await self._seen.stop()
        await asyncio.to_thread(self._writer.shutdown, wait=True)
        await asyncio.to_thread(self._loader.shutdown, wait=True, cancel_futures=True)

    async def refresh_clients(self) -> None:
        assert self._load_clients is not None
        loop = asyncio.get_running_loop()
        self.clients.replace(await loop.run_in_executor(self._loader, self._load_clients))

    async def _refresh_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._refresh_soon.wait(), self._refresh_interval)
            await asyncio.sleep(UNKNOWN_REFRESH_GAP if self._refresh_soon.is_set() else 0)
            self._refresh_soon.clear()
            try:
                await self.refresh_clients()
            except Exception:
                log.warning("could not refresh the accounting clients", exc_info=True)

    # --- per datagram (on the event loop) ------------------------------------------------

    def count(self, what: str, n: int = 1) -> None:
        self.counters[f"radius.acct.{what}"] += n

    def _drop(self, reason: str) -> None:
        self.count("drop")
        self.count("drop." + reason.replace(" ", "_"))

    def received(self, data: bytes, source: Address) -> None:
        if self._closing:
            return  # the NAS retransmits to whoever serves next
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
        if packet.code != ACCOUNTING_REQUEST:
            self._drop("unexpected code")
            return
        if not packet.has("Message-Authenticator") and self._require_ma:
            self._drop("missing message authenticator")
            return
        # RFC 2866 §3 (and RFC 3579 §3.2 for a Message-Authenticator, when present).
        if not auth_methods.verify_request_authenticator(packet.raw, client.secret):
            self._drop("bad authenticator")
            return
        if self._seen is not None:
            self._seen.note(client.nas_id)
        key: RequestKey = (source[0], source[1], packet.identifier, packet.authenticator)
        cached = self._replies.get(key)
        if cached is not None:
            self.count("duplicate")
            self._send(cached, source)
            return
        if key in self._in_flight:
            self.count("duplicate")
            return
        try:
            record = read_record(packet, client, datetime.now(UTC))
        except UnusableRecord as exc:
            self._drop(exc.reason)
            return
        if self._queue.qsize() >= MAX_QUEUED:
            self._drop("overloaded")
            return
        self.count("request")
        self._in_flight.add(key)
        self._queue.put_nowait(_Pending(record, packet, client, source, key))

    # --- group commit (writer task on the loop, SQL in the writer thread) ----------------

    async def _write_forever(self) -> None:
        while True:
            # With records waiting in the journal, wake up now and then to replay them even
            # when no router sends anything (the console should not wait for the next packet).
            waiting = self.journal is not None and self.journal.pending
            try:
                first = await asyncio.wait_for(
                    self._queue.get(), self._replay_interval if waiting else None
                )
            except TimeoutError:
                await self._commit([])
                continue
            if first is None:
                return
            batch = [first]
            finished = self._take(batch)
            if not finished and len(batch) < self._batch_size and self._batch_wait > 0:
                await asyncio.sleep(self._batch_wait)
                finished = self._take(batch)
            await self._commit(batch)
            if finished:
                return

    def _take(self, batch: list[_Pending]) -> bool:
        """Move queued records into the batch; True when the stop marker was reached."""
        while len(batch) < self._batch_size:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return False
            if item is None:
                return True
            batch.append(item)
        return False

    async def _commit(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        records = [pending.record for pending in batch]
        try:
            try:
                stored = await loop.run_in_executor(self._writer, self._store_durably, records)
            except JournalFull as exc:
                # No reply: the NAS retransmits, then fails over to its next server. Losing
                # acknowledged records would be worse than not acknowledging.
                self.count("journal_full", len(batch))
                if not self._journal_full:
                    self._journal_full = True
                    log.critical("%s; NOT acknowledging accounting until PostgreSQL is back", exc)
                return
            except Exception:
                # No reply: the NAS retransmits and the record comes back.
                self.count("error", len(batch))
                log.exception("%d accounting records could not be stored", len(batch))
                return
            self._journal_full = False
            if batch:
                self.count("batch")
            if stored.replayed:
                self.count("replayed", stored.replayed)
            if stored.dead_lettered:
                self.count("dead_letter", stored.dead_lettered)
            for pending, outcome in zip(batch, stored.outcomes, strict=True):
                if isinstance(outcome, Rejected):
                    self.count("error")
                    continue
                self.count(outcome)
                raw = encode_reply(ACCOUNTING_RESPONSE, pending.packet, [], pending.client.secret)
                self._replies.put(pending.key, raw)
                self._send(raw, pending.source)
        finally:
            for pending in batch:
                self._in_flight.discard(pending.key)

    # --- in the writer thread ------------------------------------------------------------

    def _store_durably(self, records: list[AccountingRecord]) -> _Stored:
        """Outcome per record (Rejected: this one cannot be stored), after replaying the
        journal. Raises when neither the database nor the journal took the records
        (JournalFull when the journal is at its limit)."""
        journal = self.journal
        if journal is None:
            return _Stored(self._store(records))
        replayed = 0
        dead_before = journal.dead_lettered
        try:
            if journal.pending:
                replayed = self._replay(journal)
            outcomes = self._store(records) if records else []
        except DatabaseDown:
            if records:
                log.warning("database unreachable; journaling %d accounting records", len(records))
            journal.append(records)
            outcomes = [JOURNALED] * len(records)
        return _Stored(outcomes, replayed, journal.dead_lettered - dead_before)

    def _replay(self, journal: Journal) -> int:
        """Store the journal in order, a batch per transaction, then empty it; how many
        records it held. DatabaseDown part way leaves the file whole; the next attempt goes on
        after the committed part (a new process stores it again, which changes nothing)."""
        backlog = journal.read()
        first = journal.replayed_upto
        for start in range(first, len(backlog), self._batch_size):
            chunk = backlog[start : start + self._batch_size]
            for record, outcome in zip(chunk, self._store(chunk), strict=True):
                if isinstance(outcome, Rejected):
                    # Not the connection: retrying will not help and must not block the
                    # queue behind it. Set it aside with the reason for a person.
                    journal.dead_letter(record, outcome.reason)
                    log.error(
                        "journaled accounting record for session %r rejected by the database"
                        " (%s); moved to %s",
                        record.session_id,
                        outcome.reason,
                        journal.dead_letter_path,
                    )
            journal.replayed_upto = start + len(chunk)
        journal.clear()
        log.info("replayed %d journaled accounting records", len(backlog) - first)
        return len(backlog)  # counted once, when the whole journal is in

    def _store(self, records: Sequence[AccountingRecord]) -> list[str | Rejected]:
        try:
            return [str(o) for o in self._transaction(records)]
        except DatabaseDown:
            raise
        except Exception as exc:
            if len(records) == 1:
                log.exception("accounting record for %s cannot be stored", records[0].session_id)
                return [Rejected(_reason(exc))]
        # One bad record must not sink its batch: store them one by one.
        results: list[str | Rejected] = []
        for record in records:
            results.extend(self._store([record]))
        return results

    def _transaction(self, records: Sequence[AccountingRecord]) -> list[object]:
        try:
            with self._sessions() as session, session.begin():
                return list(store_records(session, records))
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseDown(str(exc)) from exc

    # --- replies -------------------------------------------------------------------------

    def _send(self, raw: bytes, destination: Address) -> None:
        if self._transport is not None:
            self._transport.sendto(raw, destination)


def _reason(exc: BaseException) -> str:
    """The first line of the error, short enough for the dead-letter file."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return f"{type(orig or exc).__name__}: {text[0] if text else ''}"[:300]
