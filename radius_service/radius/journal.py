"""The accounting journal: an append-only file of records (one JSON line each) that could
not reach PostgreSQL, fsync'd before their Accounting-Response goes out and replayed in
order when the database is back. Replaying twice is harmless: storing is idempotent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from easyisp_core.services.accounting import AccountingRecord


class Journal:
    """Blocking file I/O: call it from a worker thread, never on the event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending = path.exists() and path.stat().st_size > 0

    @property
    def pending(self) -> bool:
        """Whether records wait for replay (new ones must queue behind them)."""
        return self._pending

    def append(self, records: Sequence[AccountingRecord]) -> None:
        """Write and fsync; when this returns the records survive a crash or power cut."""
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(r.to_json(), separators=(",", ":")) + "\n" for r in records)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(lines)
            file.flush()
            os.fsync(file.fileno())
        if created:
            _fsync_directory(self.path.parent)
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
        self._pending = False


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a directory; its rename/create is durable enough
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
