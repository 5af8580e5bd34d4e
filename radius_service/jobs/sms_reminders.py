"""Expiry reminders, every 5 minutes: queue "your internet expires soon" SMS for the sender."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.services.sms_reminders import queue_expiry_reminders

DEFAULT_INTERVAL = 300.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SmsReminderJob:
    name = "sms-reminders"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        counters: Counter[str],
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._counters = counters
        self.interval = interval
        self._clock = clock

    async def run_once(self) -> None:
        await self.queue_due()

    async def queue_due(self) -> int:
        return await asyncio.to_thread(self._queue)

    def _queue(self) -> int:
        with session_scope(self._sessions) as session:
            queued = queue_expiry_reminders(session, self._clock())
        self._counters["sms.reminders_queued"] += queued
        return queued
