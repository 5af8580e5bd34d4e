"""RADIUS traffic as a sign of life: the listeners note every router that sent an
authenticated packet, and this marks them seen (`nas.last_seen_at`) in the background.

`note()` is a dictionary look-up on the event loop, so it never slows a reply; a router is
written at most once per `every` seconds (one UPDATE for all routers noted meanwhile), in a
worker thread. Each auth worker process keeps its own (it has its own database pool), so a
router is written at most once per interval per process, still a handful of rows a minute;
the UPDATE only moves last_seen_at forward, so the order of writers does not matter.

It also watches for a router whose RADIUS secret is not ours (someone typed over it on the
router): the listeners report each request dropped for a bad Message-Authenticator (or, on
accounting, a bad Request Authenticator) with `note_bad_secret()`. Every `every` seconds a
router with such drops and no valid request in that interval is flagged in the database
(`nas.secret_mismatch_since`); its next valid request clears the flag (with last_seen_at).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from easyisp_core.services.router_health import flag_secret_mismatch, mark_routers_seen

log = logging.getLogger(__name__)

DEFAULT_EVERY = 30.0


class SeenRouters:
    def __init__(
        self,
        sessions: Callable[[], Session],
        *,
        every: float = DEFAULT_EVERY,
        counters: Counter[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._every = every
        self._clock = clock
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self._noted_at: dict[uuid.UUID, float] = {}
        self._pending: set[uuid.UUID] = set()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._judge_task: asyncio.Task[None] | None = None
        # This interval's routers with a valid request, and those with a drop for a wrong
        # secret (when the first one came).
        self._valid: set[uuid.UUID] = set()
        self._bad_since: dict[uuid.UUID, datetime] = {}
        self._flagged: set[uuid.UUID] = set()

    def note(self, nas_id: uuid.UUID) -> None:
        """A packet from this router passed the listener's checks (on the event loop)."""
        self._valid.add(nas_id)
        now = self._clock()
        last = self._noted_at.get(nas_id)
        # A router flagged here is written at once: its flag clears on the first valid one.
        if last is not None and now - last < self._every and nas_id not in self._flagged:
            return
        self._flagged.discard(nas_id)
        self._noted_at[nas_id] = now
        self._pending.add(nas_id)
        if self._wake is not None:
            self._wake.set()

    def note_bad_secret(self, nas_id: uuid.UUID) -> None:
        """A request from this known router failed the secret check (on the event loop)."""
        self.counters["radius.bad_secret"] += 1
        if nas_id not in self._bad_since:
            self._bad_since[nas_id] = datetime.now(UTC)

    async def start(self) -> None:
        self._wake = asyncio.Event()
        if self._pending:
            self._wake.set()
        self._task = asyncio.create_task(self._flush_forever(), name="radius-routers-seen")
        self._judge_task = asyncio.create_task(self._judge_forever(), name="radius-bad-secrets")

    async def stop(self) -> None:
        """Write what is still pending, then stop."""
        for task in (self._task, self._judge_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._judge_task = None
        await self.flush()
        await self.judge()

    async def judge(self) -> None:
        """End an interval: flag the routers that sent only requests failing the secret check.
        (A valid request's clearing rides on the last_seen_at write, see `flush`.)"""
        bad, valid = self._bad_since, self._valid
        self._bad_since, self._valid = {}, set()
        suspects = {nas_id: at for nas_id, at in bad.items() if nas_id not in valid}
        if not suspects:
            return
        try:
            await asyncio.to_thread(self._store_suspects, suspects)
        except Exception as exc:
            self.counters["radius.bad_secret.failures"] += 1
            log.warning("could not flag %d router(s) for their secret: %s", len(suspects), exc)
        else:
            self._flagged.update(suspects)
            log.warning(
                "RADIUS secret mismatch suspected for %d router(s): requests fail the "
                "authenticator check",
                len(suspects),
            )

    async def _judge_forever(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self.judge()

    def _store_suspects(self, suspects: dict[uuid.UUID, datetime]) -> None:
        with self._sessions() as session, session.begin():
            flag_secret_mismatch(session, suspects)

    async def flush(self) -> None:
        batch, self._pending = self._pending, set()
        if not batch:
            return
        try:
            await asyncio.to_thread(self._store, batch)
        except Exception as exc:
            # Not worth a retry loop: the router's next packet notes it again.
            for nas_id in batch:
                self._noted_at.pop(nas_id, None)
            self.counters["radius.routers_seen.failures"] += 1
            log.warning("could not mark %d router(s) seen: %s", len(batch), exc)
        else:
            self.counters["radius.routers_seen.writes"] += 1

    async def _flush_forever(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    def _store(self, nas_ids: set[uuid.UUID]) -> None:
        with self._sessions() as session, session.begin():
            mark_routers_seen(session, nas_ids, datetime.now(UTC))
