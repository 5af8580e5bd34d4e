"""The accounting journal: an append-only file of records (one JSON line each) that could
not reach PostgreSQL, fsync'd before their Accounting-Response goes out and replayed in
order when the database is back. Replaying twice is harmless: storing is idempotent.

The journal has a size limit: when full, append refuses (JournalFull) and the server stops
acknowledging, so routers retransmit and fail over instead of records being lost. A record
the database rejects on replay goes to the dead-letter file next to the journal, with the
reason, so it neither blocks the queue nor disappears.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from easyisp_core.services.accounting import AccountingRecord

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEAD_LETTER_SUFFIX = ".dead"


class JournalFull(Exception):
    """The journal reached its size limit; the records were not written."""


class Journal:
    """Blocking file I/O: call it from a worker thread, never on the event loop."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("the journal size limit must be positive")
        self.path = path
        self.max_bytes = max_bytes
        self.dead_letter_path = path.with_name(path.name + DEAD_LETTER_SUFFIX)
        self._size = _drop_torn_tail(path)
        self._pending = self._size > 0
        # Records at the head already committed by a replay that the database cut short:
        # the next attempt (in this process) goes on after them. A new process starts at 0,
        # which is safe because storing is idempotent.
        self.replayed_upto = 0
        self.dead_lettered = 0  # by this process, for the counters

    @property
    def pending(self) -> bool:
        """Whether records wait for replay (new ones must queue behind them)."""
        return self._pending

    @property
    def size(self) -> int:
        return self._size

    def append(self, records: Sequence[AccountingRecord]) -> None:
        """Write and fsync; when this returns the records survive a crash or power cut.
        JournalFull (nothing written) when they would take the journal past its limit."""
        if not records:
            return
        lines = "".join(json.dumps(r.to_json(), separators=(",", ":")) + "\n" for r in records)
        data = lines.encode("utf-8")
        if self._size + len(data) > self.max_bytes:
            raise JournalFull(
                f"the accounting journal {self.path} is full ({self._size} of "
                f"{self.max_bytes} bytes)"
            )
        _append_durably(self.path, data)
        self._size += len(data)
        self._pending = True

    def read(self) -> list[AccountingRecord]:
        """Every complete record in order; a torn last line (a crash mid-write, never
        acknowledged) is skipped."""
        if not self.path.exists():
            return []
        records: list[AccountingRecord] = []
        with self.path.open(encoding="utf-8") as file:
            for line in file:
                if not line.endswith("\n"):
                    break
                records.append(AccountingRecord.from_json(json.loads(line)))
        return records

    def clear(self) -> None:
        """After the replayed records are committed."""
        with self.path.open("w", encoding="utf-8") as file:
            file.flush()
            os.fsync(file.fileno())
        self._size = 0
        self._pending = False
        self.replayed_upto = 0

    def dead_letter(self, record: AccountingRecord, reason: str) -> None:
        """Set a record the database rejects aside (fsync'd) with the reason, for a person."""
        entry = {"reason": reason, "at": datetime.now(UTC).isoformat(), "record": record.to_json()}
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        _append_durably(self.dead_letter_path, line.encode("utf-8"))
        self.dead_lettered += 1

    def dead_letters(self) -> list[tuple[str, AccountingRecord]]:
        """(reason, record) for every record set aside so far."""
        if not self.dead_letter_path.exists():
            return []
        entries = []
        with self.dead_letter_path.open(encoding="utf-8") as file:
            for line in file:
                if line.endswith("\n"):
                    data = json.loads(line)
                    entries.append((data["reason"], AccountingRecord.from_json(data["record"])))
        return entries


def _drop_torn_tail(path: Path) -> int:
    """Cut a half-written last line (a crash mid-append; never acknowledged) so the next
    append starts on a line of its own; the journal's size afterwards."""
    if not path.exists():
        return 0
    with path.open("r+b") as file:
        size = file.seek(0, os.SEEK_END)
        keep = size
        while keep > 0:
            file.seek(max(0, keep - 4096))
            chunk = file.read(keep - max(0, keep - 4096))
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = max(0, keep - 4096) + newline + 1
                break
            keep = max(0, keep - 4096)
        if keep != size:
            file.truncate(keep)
            file.flush()
            os.fsync(file.fileno())
    return keep


def _append_durably(path: Path, data: bytes) -> None:
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    if created:
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a directory; its rename/create is durable enough
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
