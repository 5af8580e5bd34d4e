"""Send queued Transaction Status questions to Daraja (reconciliation of receipts reported to
us that we do not hold). The answers come back to /pay/<token>/status/result (or /timeout)
and are applied by the callback path (easyisp_core.services.mpesa_status)."""

from __future__ import annotations

import logging

from easyisp_core.services.mpesa_status import record_refused
from easyisp_core.services.mpesa_status_send import (
    StatusToSend,
    queued_questions,
    record_sent,
    release,
)
from radius_service.mpesa.errors import DarajaError, DarajaRateLimited, DarajaUnavailable
from radius_service.mpesa.stk_flow import StkFlow

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0


class StatusQueryJob:
    """Every few seconds: send what staff and the portal queued."""

    name = "mpesa-status"

    def __init__(self, flow: StkFlow, interval: float = DEFAULT_INTERVAL) -> None:
        # StkFlow holds the sessions, the site key, the public address and one Daraja
        # client per application (its token cache serves these calls too).
        self._flow = flow
        self.interval = interval

    async def run_once(self) -> None:
        await self.send_queued()

    async def send_queued(self) -> int:
        """Send every queued question; returns how many Daraja accepted. The claim commits
        before Daraja is called, so another site-service instance never sends the same one."""
        flow = self._flow
        now = flow.clock()
        questions = await flow.in_transaction(
            lambda session: queued_questions(session, flow.box, now)
        )
        sent = 0
        for question in questions:
            try:
                sent += await self._send(question)
            except Exception:
                flow.counters["mpesa.status.failed"] += 1
                log.exception("sending Transaction Status for %s failed", question.receipt)
        return sent

    async def _send(self, question: StatusToSend) -> int:
        flow = self._flow
        settings = question.gateway
        base = f"{flow.callback_base_url}/pay/{settings.callback_token}/status"
        till = settings.config.till_number
        try:
            accepted = await flow.client_for(settings).transaction_status(
                initiator=question.initiator_name,
                security_credential=question.security_credential,
                transaction_id=question.receipt,
                party_a=till or settings.shortcode,
                identifier_type="2" if till else "4",
                result_url=f"{base}/result",
                queue_timeout_url=f"{base}/timeout",
                remarks="Reconciliation",
                occasion=question.receipt,
            )
        except (DarajaRateLimited, DarajaUnavailable) as exc:
            # Asking again is safe (a read): handed back to the queue for the next run.
            flow.counters["mpesa.status.deferred"] += 1
            log.warning("Transaction Status for %s deferred: %s", question.receipt, exc)
            await flow.in_transaction(lambda session: release(session, question.query_id))
            return 0
        except DarajaError as exc:
            flow.counters["mpesa.status.refused"] += 1
            now = flow.clock()
            reason = f"M-Pesa refused the question: {exc.user_message}"
            await flow.in_transaction(
                lambda session: record_refused(session, question.query_id, reason, now)
            )
            return 0
        now = flow.clock()
        await flow.in_transaction(
            lambda session: record_sent(
                session,
                question.query_id,
                accepted.originator_conversation_id,
                accepted.conversation_id,
                now,
            )
        )
        flow.counters["mpesa.status.sent"] += 1
        return 1
