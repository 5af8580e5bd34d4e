"""One serial command queue per router: a dedicated thread owns the blocking librouteros
connection (RouterOS copes badly with several writers), asyncio code awaits the results.
A broken connection is dropped and reopened on the next command, with exponential backoff."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from radius_service.routers.connection import RouterConnection, RouterEndpoint
from radius_service.routers.errors import (
    RouterConnectionLost,
    RouterTimedOut,
    RouterUnreachable,
)

T = TypeVar("T")
Job = Callable[[RouterConnection], T]


class RouterCommandQueue:
    def __init__(
        self,
        endpoint: RouterEndpoint,
        *,
        connect_attempts: int = 3,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        opener: Callable[[RouterEndpoint], RouterConnection] = RouterConnection.open,
    ) -> None:
        self.endpoint = endpoint
        self._connect_attempts = max(1, connect_attempts)
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._opener = opener
        self._connection: RouterConnection | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"router-{endpoint.name}"
        )
        self.connects = 0  # connections opened, for logs and tests

    async def submit(self, job: Job[T], *, retry_if_dropped: bool = False) -> T:
        """Run `job` on the router's thread after every job queued before it.

        `retry_if_dropped` reruns the job once on a fresh connection when the old one broke
        mid-command; only for jobs that are safe to repeat (reads, idempotent kicks)."""
        future = self._executor.submit(self._run, job, retry_if_dropped)
        return await asyncio.wrap_future(future)

    async def aclose(self) -> None:
        future = self._executor.submit(self._drop_connection)
        await asyncio.wrap_future(future)
        self._executor.shutdown(wait=False)

    def _run(self, job: Job[T], retry_if_dropped: bool) -> T:
        connection = self._connected()
        try:
            return job(connection)
        except RouterConnectionLost:
            self._drop_connection()
            if not retry_if_dropped:
                raise
        except RouterTimedOut:
            # The reply may still arrive later and would be read as the next command's.
            self._drop_connection()
            raise
        return job(self._connected())

    def _connected(self) -> RouterConnection:
        if self._connection is not None:
            return self._connection
        delay = self._backoff_initial
        for attempt in range(self._connect_attempts):
            try:
                self._connection = self._opener(self.endpoint)
            except (RouterUnreachable, RouterTimedOut, RouterConnectionLost):
                if attempt + 1 == self._connect_attempts:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, self._backoff_max)
            else:
                self.connects += 1
                return self._connection
        raise AssertionError("unreachable")  # the loop either returns or raises

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
