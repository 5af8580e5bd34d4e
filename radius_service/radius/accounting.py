"""The RADIUS accounting listener: recv Accounting-Request → check the client and the
Request Authenticator → store (group commit) → send Accounting-Response.

A reply goes out only after the transaction holding its record has committed (or, with the
database unreachable, after the record is fsync'd to the journal). Requests arriving
together share one transaction. Several writers (each a task on the loop and a thread for
the SQL) commit at once, so one batch's round trips overlap another's; each owns a hash
share of (router, Acct-Session-Id), so one session's records are stored in arrival order.
An Accounting-On/Off is a barrier: every record received before it is stored first, and
none after it until it is. Malformed, unknown or badly signed packets are dropped without a
reply and counted (`radius.acct.drop.<reason>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from easyisp_core.services.accounting import AccountingRecord, StatusType
from easyisp_core.services.radius_auth import NasClient
from radius_service.radius.acct_codec import (
    AcctRequest,
    accounting_response,
    decode_accounting,
    verify_request,
)
from radius_service.radius.acct_record import UnusableRecord, read_record
from radius_service.radius.acct_store import JOURNALED, DurableStore, Rejected, Stored
from radius_service.radius.clients import ClientTable, UnknownSourceLog
from radius_service.radius.codec import DecodeError
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
# Writers committing at once (each with its own connection). More overlap their round trips
# but split the load into smaller batches, and a batch has a fixed cost (~2 ms of CPU): on
# the 2-core reference machine one writer did best (compare.py at c=16: 2,115 and 2,182
# records/s against 1,448, 1,072 and 714 with two; bench/radius/README.md).
# EASYISP_RADIUS_ACCT_WRITERS sets it for a machine with more cores.
DEFAULT_WRITERS = 1
MAX_QUEUED = 8192
# For the writers' connections: the batch statements take arrays, so PostgreSQL's "auto"
# plan cache re-plans the write (over every sessions partition) for each batch, which cost
# more than executing it; a generic plan is as good for any batch.
ACCOUNTING_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan"}
_MAX_CACHED_REPLIES = 8192
REPLAY_INTERVAL_SECONDS = 5.0
_BARRIERS = (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF)

__all__ = [
    "ACCOUNTING_SERVER_SETTINGS",
    "JOURNALED",
    "RadiusAccountingServer",
    "acct_address",
    "shard_of",
]


def acct_address(raw: str | None) -> Address | None:
    """Settings.radius_acct_addr (EASYISP_RADIUS_ACCT_ADDR): HOST:PORT, default 0.0.0.0:1813;
    None when it is "off"."""
    if raw is None or not raw.strip():
        return DEFAULT_ACCT_ADDR
    return parse_address(raw, default_port=DEFAULT_ACCT_PORT)


def shard_of(record: AccountingRecord, writers: int) -> int:
    """The writer that owns this record's (router, Acct-Session-Id): always the same one, so
    a session's records are stored in the order they arrived."""
    if writers == 1:
        return 0
    key = record.nas_id.bytes + record.session_id.encode("utf-8", "surrogateescape")
    return zlib.crc32(key) % writers


@dataclass(frozen=True, slots=True)
class _Pending:
    record: AccountingRecord
    request: AcctRequest
    client: NasClient
    source: Address
    key: RequestKey


@dataclass(frozen=True, slots=True)
class _Drained:
    """Put behind a writer's queue: resolved once everything before it is stored."""

    done: asyncio.Future[None]


@dataclass(slots=True)
class _Writer:
    """One writer: its queue (records of its share, in arrival order) and its SQL thread."""

    index: int
    executor: ThreadPoolExecutor
    queue: asyncio.Queue[_Pending | _Drained | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    # Adaptive group commit: the last batch's size, and while gathering a batch, how many
    # more queued records end the wait (`company` resolves then).
    expected: int = BATCH_SIZE
    wanted: int = 0
    company: asyncio.Future[None] | None = None


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
        writers: int = DEFAULT_WRITERS,
        refresh_interval: float = CLIENT_REFRESH_INTERVAL,
        replay_interval: float = REPLAY_INTERVAL_SECONDS,
        seen: SeenRouters | None = None,
    ) -> None:
        """`seen`: marks the routers that send accounting seen (started and stopped here).
        `sessions` must give each writer its own connection (a pool of at least `writers`)."""
        if writers < 1:
            raise ValueError("at least one accounting writer")
        self._seen = seen
        self.requested_address = address
        self._replay_interval = replay_interval
        self.address: Address | None = None
        self.clients = clients or ClientTable()
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self.journal = journal
        self.store = DurableStore(sessions, journal, batch_size)
        self._load_clients = load_clients
        self._require_ma = require_message_authenticator
        self._batch_size = batch_size
        self._batch_wait = batch_wait
        self._refresh_interval = refresh_interval
        self._writers = [
            _Writer(n, ThreadPoolExecutor(1, thread_name_prefix=f"radius-acct-db{n}"))
            for n in range(writers)
        ]
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="radius-acct-clients")
        self._queued = 0
        # While an Accounting-On/Off waits for the writers to drain, everything received
        # after it is held here, in order (None: no barrier).
        self._held: list[_Pending] | None = None
        self._barrier_task: asyncio.Task[None] | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._refresh_soon = asyncio.Event()
        self._in_flight: set[RequestKey] = set()
        self._replies = ReplyCache(_MAX_CACHED_REPLIES)
        self._unknown = UnknownSourceLog()
        self._closing = False
        self._journal_full = False

    @property
    def writers(self) -> int:
        return len(self._writers)

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
        for writer in self._writers:
            writer.task = asyncio.create_task(
                self._write_forever(writer), name=f"radius-acct-writer-{writer.index}"
            )
        if self._seen is not None:
            await self._seen.start()
        if self._load_clients is not None:
            self._refresher = asyncio.create_task(self._refresh_forever(), name="acct-clients")
        log.info(
            "RADIUS accounting listening on %s:%d (%d writers)", *self.address, len(self._writers)
        )
        return self.address

    async def stop(self) -> None:
        """Stop accepting; store and answer everything already accepted; release threads."""
        self._closing = True
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        while self._barrier_task is not None:  # a barrier releases what it held, in order
            await asyncio.gather(self._barrier_task, return_exceptions=True)
        for writer in self._writers:
            if writer.task is not None:
                writer.queue.put_nowait(None)
        await asyncio.gather(
            *(w.task for w in self._writers if w.task is not None), return_exceptions=True
        )
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._seen is not None:
            await self._seen.stop()
        for writer in self._writers:
            await asyncio.to_thread(writer.executor.shutdown, wait=True)
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
            request = decode_accounting(data)
        except DecodeError as exc:
            self._drop(exc.reason)
            return
        if request.code != ACCOUNTING_REQUEST:
            self._drop("unexpected code")
            return
        if not request.has_message_authenticator and self._require_ma:
            self._drop("missing message authenticator")
            return
        # RFC 2866 §3 (and RFC 3579 §3.2 for a Message-Authenticator, when present).
        if not verify_request(request, client.secret):
            self._drop("bad authenticator")
            if self._seen is not None:
                self._seen.note_bad_secret(client.nas_id)  # probably a different secret
            return
        if self._seen is not None:
            self._seen.note(client.nas_id)
        key: RequestKey = (source[0], source[1], request.identifier, request.authenticator)
        cached = self._replies.get(key)
        if cached is not None:
            self.count("duplicate")
            self._send(cached, source)
            return
        if key in self._in_flight:
            self.count("duplicate")
            return
        try:
            record = read_record(request, client, datetime.now(UTC))
        except UnusableRecord as exc:
            self._drop(exc.reason)
            return
        if self._queued >= MAX_QUEUED:
            self._drop("overloaded")
            return
        self.count("request")
        self._in_flight.add(key)
        self._queued += 1
        self._route(_Pending(record, request, client, source, key))

    # --- routing: a session to its writer, Accounting-On/Off as a barrier -----------------

    def _route(self, pending: _Pending) -> None:
        if self._held is not None:
            self._held.append(pending)
        elif pending.record.status in _BARRIERS:
            self._held = []
            self._barrier_task = asyncio.get_running_loop().create_task(
                self._barrier(pending), name="radius-acct-barrier"
            )
        else:
            writer = self._writers[shard_of(pending.record, len(self._writers))]
            writer.queue.put_nowait(pending)
            company = writer.company
            full = company is not None and writer.queue.qsize() >= writer.wanted
            if full and company is not None and not company.done():
                company.set_result(None)

    async def _barrier(self, pending: _Pending) -> None:
        """Accounting-On/Off closes every open session of its router, so it must see every
        record received before it stored, and none received after it: wait until each
        writer has stored what it holds, store it alone, then release what came meanwhile
        (which may hold the next barrier: it starts in turn)."""
        loop = asyncio.get_running_loop()
        drained = [loop.create_future() for _ in self._writers]
        for writer, done in zip(self._writers, drained, strict=True):
            writer.queue.put_nowait(_Drained(done))
        await asyncio.gather(*drained)
        await self._commit(self._writers[0], [pending])
        held, self._held, self._barrier_task = self._held or [], None, None
        for n, item in enumerate(held):
            self._route(item)
            if self._held is not None:  # that one was another barrier: it holds the rest
                self._held.extend(held[n + 1 :])
                break

    # --- group commit (writer tasks on the loop, SQL in their threads) -------------------

    async def _write_forever(self, writer: _Writer) -> None:
        # Writer 0 also replays the journal now and then when no router sends anything
        # (the console should not wait for the next packet); it wakes up to look even when
        # the journal was empty, since another writer may have journaled meanwhile.
        journal = self.journal if writer.index == 0 else None
        while True:
            try:
                first = await asyncio.wait_for(
                    writer.queue.get(), self._replay_interval if journal is not None else None
                )
            except TimeoutError:
                if journal is not None and journal.pending:
                    await self._commit(writer, [])
                continue
            if first is None:
                return
            if isinstance(first, _Drained):
                first.done.set_result(None)
                continue
            batch = [first]
            ended = self._take(writer, batch)
            if ended is None and len(batch) < min(writer.expected, self._batch_size):
                await self._gather_company(writer, batch)
                ended = self._take(writer, batch)
            writer.expected = len(batch)
            await self._commit(writer, batch)
            if isinstance(ended, _Drained):
                ended.done.set_result(None)
            elif ended is not None:
                return

    async def _gather_company(self, writer: _Writer, batch: list[_Pending]) -> None:
        """Wait up to batch_wait for more records to share the transaction, but only until
        as many are queued as the last batch held: routers answered together come back
        together, and waiting past that would only idle (adaptive group commit)."""
        if self._batch_wait <= 0:
            return
        writer.wanted = writer.expected - len(batch)
        writer.company = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(writer.company, self._batch_wait)
        except TimeoutError:
            pass
        finally:
            writer.company = None

    def _take(self, writer: _Writer, batch: list[_Pending]) -> _Drained | bool | None:
        """Move queued records into the batch; what ended it early (a drain marker, or True
        for the stop marker), else None."""
        while len(batch) < self._batch_size:
            try:
                item = writer.queue.get_nowait()
            except asyncio.QueueEmpty:
                return None
            if item is None:
                return True
            if isinstance(item, _Drained):
                return item
            batch.append(item)
        return None

    async def _commit(self, writer: _Writer, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        records = [pending.record for pending in batch]
        try:
            try:
                stored = await loop.run_in_executor(
                    writer.executor, self.store.store_durably, records
                )
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
            self._answer(batch, stored)
        finally:
            self._queued -= len(batch)
            for pending in batch:
                self._in_flight.discard(pending.key)

    def _answer(self, batch: list[_Pending], stored: Stored) -> None:
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
            raw = accounting_response(pending.request, pending.client.secret)
            self._replies.put(pending.key, raw)
            self._send(raw, pending.source)

    def _store_durably(self, records: list[AccountingRecord]) -> Stored:
        """The store step alone, in the caller's thread (tests drive it without a loop)."""
        return self.store.store_durably(records)

    # --- replies -------------------------------------------------------------------------

    def _send(self, raw: bytes, destination: Address) -> None:
        if self._transport is not None:
            self._transport.sendto(raw, destination)
