"""Cancel a running query on the server from another thread (the operator typed again).

The thread that runs the query attaches its session's connection for the duration of the work;
any other thread may call cancel(), which asks PostgreSQL to stop that connection's current
statement. The query then fails with QueryCanceled in its own thread. Outside the attached
window cancel() does nothing, so a pooled connection lent to someone else is never touched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session


class QueryCancelled(Exception):
    """The work was cancelled before its query started."""


class QueryCanceller:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @contextmanager
    def attached(self, session: Session) -> Iterator[None]:
        """While the block runs, cancel() stops the session's statements on the server."""
        dbapi = session.connection().connection.dbapi_connection
        with self._lock:
            self._connection = dbapi
            already = self._cancelled
        if already:
            raise QueryCancelled
        try:
            yield
        finally:
            with self._lock:
                self._connection = None

    def cancel(self) -> None:
        """Stop the attached statement (blocking: sends a cancel request to the server)."""
        with self._lock:
            self._cancelled = True
            if self._connection is not None:
                # psycopg's cancel is thread-safe; it opens a short side connection.
                self._connection.cancel()
