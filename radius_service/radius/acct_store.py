"""Storing accounting batches durably: one transaction per batch in PostgreSQL, or, with the
database unreachable, an fsync'd append to the journal, which is replayed in order before
anything newer is stored. Called from the accounting writer threads (several at once: the
journal is guarded by one lock, so appends and the replay never interleave).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from easyisp_core.services.accounting import AccountingRecord, store_records
from radius_service.radius.journal import Journal

log = logging.getLogger(__name__)

JOURNALED = "journaled"


class DatabaseDown(Exception):
    """PostgreSQL could not be reached: journal the records instead."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The database refused this record for a reason other than being unreachable."""

    reason: str


@dataclass(frozen=True, slots=True)
class Stored:
    """What one trip to a writer thread did."""

    outcomes: list[str | Rejected]
    replayed: int = 0
    dead_lettered: int = 0


class DurableStore:
    """Blocking: call it from writer threads, never on the event loop."""

    def __init__(
        self, sessions: Callable[[], Session], journal: Journal | None, batch_size: int
    ) -> None:
        self._sessions = sessions
        self.journal = journal
        self._batch_size = batch_size
        # Held for every journal read, append and replay: two writers must not replay the
        # same backlog at once, nor append while another clears the file.
        self._journal_lock = threading.Lock()

    def store_durably(self, records: list[AccountingRecord]) -> Stored:
        """Outcome per record (Rejected: this one cannot be stored), after replaying the
        journal. Raises when neither the database nor the journal took the records
        (JournalFull when the journal is at its limit)."""
        journal = self.journal
        if journal is None:
            return Stored(self._store(records))
        replayed = 0
        dead_before = journal.dead_lettered
        try:
            if journal.pending:
                with self._journal_lock:
                    # Records journaled before these (by any writer) go in first. Checked
                    # again under the lock: another writer may have replayed them meanwhile.
                    if journal.pending:
                        replayed = self._replay(journal)
            outcomes = self._store(records) if records else []
        except DatabaseDown:
            if records:
                log.warning("database unreachable; journaling %d accounting records", len(records))
            with self._journal_lock:
                journal.append(records)
            outcomes = [JOURNALED] * len(records)
        return Stored(outcomes, replayed, journal.dead_lettered - dead_before)

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
        for attempt in range(2):
            try:
                with self._sessions() as session, session.begin():
                    return list(store_records(session, records))
            except (OperationalError, InterfaceError) as exc:
                # A pooled connection the server dropped (a restart, an idle timeout) is
                # found only on use when the pool does not ping each checkout: try once more
                # on a fresh one. A refused connect is not "invalidated": journal at once.
                # Storing again is harmless if the lost connection did commit.
                if attempt == 0 and exc.connection_invalidated:
                    continue
                raise DatabaseDown(str(exc)) from exc
        raise AssertionError("unreachable")


def _reason(exc: BaseException) -> str:
    """The first line of the error, short enough for the dead-letter file."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return f"{type(orig or exc).__name__}: {text[0] if text else ''}"[:300]
