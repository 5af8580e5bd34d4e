"""Payment upkeep, every 30 s: process callbacks stored but never processed (the process
stopped between storing and applying), expire unanswered STK pushes (purged after the
retention period), and auto-renew expired customers whose wallet covers their package."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.services.mpesa_callbacks import process
from easyisp_core.services.mpesa_upkeep import (
    expire_pending,
    purge_expired_pending,
    renew_due,
    unprocessed_callbacks,
)

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0
# A callback younger than this is still being processed by its own request.
DEFAULT_GRACE = 30.0
DEFAULT_RETENTION = timedelta(days=30)


class PaymentUpkeepJob:
    name = "payments"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        counters: Counter[str],
        interval: float = DEFAULT_INTERVAL,
        grace: float = DEFAULT_GRACE,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        self._sessions = sessions
        self._counters = counters
        self.interval = interval
        self.grace = grace
        self.retention = retention

    async def run_once(self) -> None:
        await asyncio.to_thread(self._run)

    def _run(self) -> None:
        now = datetime.now(UTC)
        with session_scope(self._sessions) as session:
            ids = unprocessed_callbacks(session, now, self.grace)
        for callback_id in ids:
            # One transaction each: one bad callback does not hold back the others.
            try:
                with session_scope(self._sessions) as session:
                    process(session, callback_id, now)
                self._counters["mpesa.swept"] += 1
            except Exception:
                self._counters["mpesa.process_failures"] += 1
                log.exception("M-Pesa callback %d still fails to process", callback_id)
        with session_scope(self._sessions) as session:
            self._counters["mpesa.pending_expired"] += expire_pending(session, now)
        with session_scope(self._sessions) as session:
            self._counters["mpesa.pending_purged"] += purge_expired_pending(
                session, now, self.retention
            )
        with session_scope(self._sessions) as session:
            self._counters["wallet.auto_renewed"] += len(renew_due(session, now))
