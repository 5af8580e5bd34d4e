"""LISTEN on a PostgreSQL channel in a thread of its own and call back on every NOTIFY.

psycopg's notifies() blocks, so it runs off the event loop on a dedicated connection (taken
from the engine so it logs in like every other connection, then detached from the pool).
A lost connection is retried; the command worker's periodic poll covers the gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine

log = logging.getLogger(__name__)

COMMANDS_CHANNEL = "easyisp_service_commands"  # migration 0002 NOTIFYs it on insert
_WAIT_SECONDS = 0.5
RECONNECT_SECONDS = 5.0


class NotificationListener:
    def __init__(
        self,
        engine: Engine,
        channel: str,
        on_notify: Callable[[str], None],
        *,
        reconnect_delay: float = RECONNECT_SECONDS,
    ) -> None:
        self._engine = engine
        self._channel = channel
        self._on_notify = on_notify
        self._reconnect_delay = reconnect_delay
        self._stop = threading.Event()
        # Set while LISTEN is active (tests wait for it before inserting).
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=_WAIT_SECONDS * 4 + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:
                self.listening.clear()
                log.warning(
                    "LISTEN %s lost (%s: %s); retrying in %g s",
                    self._channel,
                    type(exc).__name__,
                    exc,
                    self._reconnect_delay,
                )
                self._stop.wait(self._reconnect_delay)

    def _listen(self) -> None:
        fairy = self._engine.raw_connection()
        connection = fairy.dbapi_connection
        fairy.detach()  # a long-lived connection of its own, never returned to the pool
        try:
            if not isinstance(connection, psycopg.Connection):
                raise TypeError("LISTEN needs the psycopg driver")
            connection.autocommit = True
            # The channel is our constant, never input: quoting is not needed but harmless.
            connection.execute(f'LISTEN "{self._channel}"')
            self.listening.set()
            while not self._stop.is_set():
                for notify in connection.notifies(timeout=_WAIT_SECONDS):
                    self._on_notify(notify.payload)
        finally:
            self.listening.clear()
            fairy.close()
