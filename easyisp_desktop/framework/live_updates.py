"""Live updates: one background thread LISTENs on PostgreSQL and tells open pages what changed.

The thread owns its own psycopg connection (no table is ever polled) and reconnects when the
connection drops. Notifications carry only ids; pages re-read through their own sessions, so
RLS still decides what they see. Another tenant's notifications are dropped here as well, so
they do not even wake a page.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass

import psycopg
from PySide6.QtCore import QObject, Signal
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

CHANNEL = "easyisp_live"
# How often the listening thread looks up from the socket to see whether it should stop.
POLL_SECONDS = 0.25
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class LiveChange:
    table: str
    op: str
    id: str
    tenant_id: uuid.UUID | None
    customer_id: uuid.UUID | None

    @classmethod
    def parse(cls, payload: str) -> LiveChange | None:
        try:
            data = json.loads(payload)
            return cls(
                str(data["table"]),
                str(data.get("op", "")),
                str(data["id"]),
                _uuid(data.get("tenant_id")),
                _uuid(data.get("customer_id")),
            )
        except (ValueError, KeyError, TypeError):
            return None


def _uuid(value: object) -> uuid.UUID | None:
    return None if value in (None, "") else uuid.UUID(str(value))


def conninfo_of(url: URL) -> str:
    """A libpq URI for psycopg from the console's SQLAlchemy URL (same login, same server)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class LiveUpdates(QObject):
    """Emits `changed(LiveChange)` on the GUI thread for every notification of this tenant.

    `tenant_id` None (a database administrator) hears every tenant."""

    changed = Signal(object)
    # True once listening, False when the connection dropped (it is retried).
    connection_changed = Signal(bool)

    def __init__(
        self, conninfo: str, *, tenant_id: uuid.UUID | None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._conninfo = conninfo
        self.tenant_id = tenant_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.backend_pid: int | None = None
        self.listening = threading.Event()

    @classmethod
    def for_url(
        cls, url: URL, *, tenant_id: uuid.UUID | None, parent: QObject | None = None
    ) -> LiveUpdates:
        return cls(conninfo_of(url), tenant_id=tenant_id, parent=parent)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="easyisp-live-updates", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # The listening thread --------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    failures = 0
                    self.listening.set()
                    self.connection_changed.emit(True)
                    self._listen(conn)
            except psycopg.Error as exc:
                self.listening.clear()
                if self._stop.is_set():
                    break
                self.connection_changed.emit(False)
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning("live updates lost their connection (%s); retrying in %ss", exc, delay)
                self._stop.wait(delay)
        self.listening.clear()

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        while not self._stop.is_set():
            for notify in conn.notifies(timeout=POLL_SECONDS):
                self._deliver(notify.payload)
                if self._stop.is_set():
                    return

    def _deliver(self, payload: str) -> None:
        change = LiveChange.parse(payload)
        if change is None:
            log.warning("ignored a live update notification that is not ours: %r", payload[:200])
            return
        if self.tenant_id is not None and change.tenant_id != self.tenant_id:
            return
        self.changed.emit(change)
