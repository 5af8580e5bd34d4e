"""SMS sender, every few seconds: claim due outbox rows (sms_logs QUEUED), send each through
its tenant's active gateway, record SENT / retry later / FAILED.

Claiming commits before any gateway call, so two senders (two service instances, or a run
overlapping a slow one) never send a row twice; see easyisp_core/services/sms_outbox.py for
why a row whose sender died mid-send is closed rather than resent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.errors import EasyIspError
from easyisp_core.services.sms_outbox import (
    ClaimedRow,
    GatewaySetup,
    claim_due,
    gateway_setup,
    record_refusal,
    record_sent,
)
from radius_service.sms.factory import build_client
from radius_service.sms.gateway import SendResult, SmsGateway, SmsGatewayError

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0
DEFAULT_BATCH = 50
# Requests in flight at once, across gateways: providers rate-limit bursts.
CONCURRENCY = 4


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SmsSenderJob:
    name = "sms-sender"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box_source: Callable[[], SecretBox],
        counters: Counter[str],
        *,
        interval: float = DEFAULT_INTERVAL,
        batch: int = DEFAULT_BATCH,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._box_source = box_source
        self._counters = counters
        self.interval = interval
        self.batch = batch
        self._clock = clock

    async def run_once(self) -> None:
        await self.send_batch()

    async def send_batch(self) -> int:
        """Send one batch; the number of rows claimed."""
        rows = await asyncio.to_thread(self._claim)
        if not rows:
            return 0
        gateways: dict[uuid.UUID, tuple[GatewaySetup | None, SmsGateway | None, str | None]] = {}
        for tenant_id in {row.tenant_id for row in rows}:
            gateways[tenant_id] = await asyncio.to_thread(self._gateway, tenant_id)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(row: ClaimedRow) -> None:
            setup, client, problem = gateways[row.tenant_id]
            async with limit:
                await self._send(row, setup, client, problem)

        try:
            await asyncio.gather(*(one(row) for row in rows))
        finally:
            for _setup, client, _problem in gateways.values():
                if client is not None:
                    await client.aclose()
        return len(rows)

    def _claim(self) -> list[ClaimedRow]:
        with session_scope(self._sessions) as session:
            return claim_due(session, self._clock(), self.batch)

    def _gateway(
        self, tenant_id: uuid.UUID
    ) -> tuple[GatewaySetup | None, SmsGateway | None, str | None]:
        try:
            with session_scope(self._sessions) as session:
                setup = gateway_setup(session, self._box_source(), tenant_id)
        except (ValidationError, ValueError) as exc:
            return None, None, f"the SMS gateway's settings are unreadable: {exc}"
        if setup is None:
            return None, None, "no active SMS gateway (Settings → SMS gateways)"
        try:
            client = build_client(setup.provider, setup.config, setup.credentials)
        except EasyIspError as exc:
            return setup, None, exc.user_message
        return setup, client, None

    async def _send(
        self,
        row: ClaimedRow,
        setup: GatewaySetup | None,
        client: SmsGateway | None,
        problem: str | None,
    ) -> None:
        if client is None or setup is None:
            await self._refused(row, setup, problem or "no gateway", retryable=False)
            return
        try:
            [result] = await client.send([row.phone], row.message, setup.sender_id)
        except SmsGatewayError as exc:
            await self._refused(row, setup, exc.user_message, retryable=exc.retryable)
            return
        except ValueError as exc:  # our edge refused the number
            await self._refused(row, setup, str(exc), retryable=False)
            return
        await self._record(row, setup, result)

    async def _record(self, row: ClaimedRow, setup: GatewaySetup, result: SendResult) -> None:
        if result.accepted:
            await asyncio.to_thread(self._in_session, record_sent, row, setup, result)
            self._counters["sms.sent"] += 1
            return
        await self._refused(row, setup, result.reason or "refused", retryable=result.retryable)

    async def _refused(
        self, row: ClaimedRow, setup: GatewaySetup | None, reason: str, *, retryable: bool
    ) -> None:
        def work(session: Session) -> bool:
            return record_refusal(
                session, row, setup, reason, retryable=retryable, now=self._clock()
            )

        with_retry = await asyncio.to_thread(self._run, work)
        self._counters["sms.retried" if with_retry else "sms.failed"] += 1
        log.info("SMS %d to %s not sent: %s", row.id, row.phone, reason)

    def _in_session(
        self, record: Callable[..., None], row: ClaimedRow, setup: GatewaySetup, r: SendResult
    ) -> None:
        with session_scope(self._sessions) as session:
            record(session, row, setup, r.message_id, r.cost)

    def _run(self, work: Callable[[Session], bool]) -> bool:
        with session_scope(self._sessions) as session:
            return work(session)
