"""The STK Push flow of a hotspot purchase: start a push, settle pushes whose callback never
came from STK Push Query, and (when the gateway asks for it) confirm a success callback with
STK Push Query before it is credited.

The database work is in easyisp_core.services.stk_purchase; this module calls Daraja with the
tenant's gateway (credentials decrypted there) and keeps one DarajaClient per Daraja
application so the OAuth token is cached across pushes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.models.enums import GatewayPurpose, MpesaCallbackKind, MpesaCallbackOutcome
from easyisp_core.repositories.hotspot_purchases import HotspotPurchaseRepository
from easyisp_core.repositories.mpesa_callbacks import MpesaCallbackRepository
from easyisp_core.schemas.tenant_config import TenantConfig
from easyisp_core.services.stk_purchase import (
    GatewaySettings,
    PushPlan,
    gateway_settings,
    plan_push,
    record_push,
    settle_from_query,
)
from radius_service.mpesa.client import PRODUCTION_BASE_URL, SANDBOX_BASE_URL, DarajaClient
from radius_service.mpesa.errors import DarajaError
from radius_service.mpesa.results import StkState, TransactionType

log = logging.getLogger(__name__)

T = TypeVar("T")

# Daraja's prompt times out on the phone in about a minute; the portal waits a little longer.
DEFAULT_PENDING_TTL = timedelta(minutes=3)
# Ask STK Push Query about a push that got no callback this long after it was sent.
DEFAULT_QUERY_AFTER = timedelta(seconds=60)
# Pushes older than this are no longer queried (Daraja keeps answering "being processed"
# for pushes it lost; the reconciliation import finds any money among them).
QUERY_WINDOW = timedelta(hours=1)
QUERY_BATCH = 50


@dataclass(frozen=True)
class PushRequest:
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    phone: str
    mac_address: str | None = None
    ip_address: str | None = None
    nas_id: uuid.UUID | None = None
    purpose: GatewayPurpose = GatewayPurpose.HOTSPOT


@dataclass(frozen=True)
class StartedPush:
    pending_id: uuid.UUID
    checkout_request_id: str
    customer_message: str
    amount_text: str
    phone: str


def daraja_base_url(settings: GatewaySettings) -> str:
    """The gateway's Daraja address: its base_url when set (the simulator), else the
    environment's."""
    if settings.config.base_url:
        return settings.config.base_url
    if settings.config.environment == "production":
        return PRODUCTION_BASE_URL
    return SANDBOX_BASE_URL


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StkFlow:
    """Bound to the service's sessions and secret box. `callback_base_url` is the site's
    public address as Daraja sees it (https://pay.example.co.ke); the push's CallBackURL is
    `{callback_base_url}/pay/{token}/stk`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox | Callable[[], SecretBox],
        callback_base_url: str,
        *,
        counters: Counter[str] | None = None,
        pending_ttl: timedelta = DEFAULT_PENDING_TTL,
        query_after: timedelta = DEFAULT_QUERY_AFTER,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.sessions = sessions
        # A callable is asked on first use (the service loads its site key lazily).
        self._box = box
        self.callback_base_url = callback_base_url.rstrip("/")
        self.counters = counters if counters is not None else Counter()
        self.pending_ttl = pending_ttl
        self.query_after = query_after
        self.clock = clock
        self._clients: dict[tuple[str, str], DarajaClient] = {}

    @property
    def box_source(self) -> SecretBox | Callable[[], SecretBox]:
        return self._box

    @property
    def box(self) -> SecretBox:
        return self._box if isinstance(self._box, SecretBox) else self._box()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def client_for(self, settings: GatewaySettings) -> DarajaClient:
        """One client per Daraja application: its token cache serves every push."""
        base_url = daraja_base_url(settings)
        key = (base_url, settings.credentials.consumer_key)
        client = self._clients.get(key)
        if client is None:
            client = DarajaClient(
                base_url, settings.credentials.consumer_key, settings.credentials.consumer_secret
            )
            self._clients[key] = client
        return client

    async def start_push(self, request: PushRequest) -> StartedPush:
        """Plan, push, record. ValidationFailed for bad input and DarajaError when Daraja
        refuses: in both cases nothing is stored."""
        plan = await self._in_transaction(
            lambda session: plan_push(
                session,
                self.box,
                tenant_id=request.tenant_id,
                package_id=request.package_id,
                phone=request.phone,
                mac_address=request.mac_address,
                ip_address=request.ip_address,
                nas_id=request.nas_id,
                purpose=request.purpose,
            )
        )
        accepted = await self._push(plan)
        now = self.clock()
        pending_id = await self._in_transaction(
            lambda session: record_push(
                session,
                plan,
                checkout_request_id=accepted.checkout_request_id,
                merchant_request_id=accepted.merchant_request_id,
                expires_at=now + self.pending_ttl,
                now=now,
            )
        )
        self.counters["mpesa.stk.pushed"] += 1
        return StartedPush(
            pending_id=pending_id,
            checkout_request_id=accepted.checkout_request_id,
            customer_message=accepted.customer_message,
            amount_text=f"KES {plan.amount:,.0f}",
            phone=plan.phone,
        )

    async def _push(self, plan: PushPlan) -> Any:
        settings = plan.gateway
        till = settings.config.till_number
        try:
            return await self.client_for(settings).stk_push(
                shortcode=settings.shortcode,
                passkey=settings.credentials.passkey,
                amount=plan.amount,
                phone=plan.phone,
                callback_url=f"{self.callback_base_url}/pay/{settings.callback_token}/stk",
                account_reference=plan.account_reference,
                description=plan.package_name[:13] or "Hotspot",
                transaction_type=TransactionType.BUY_GOODS if till else TransactionType.PAYBILL,
                party_b=till,
            )
        except DarajaError:
            self.counters["mpesa.stk.push_refused"] += 1
            raise

    async def settle_unanswered(self) -> int:
        """Ask STK Push Query about each push with no callback `query_after` after it was
        sent, and settle the final answers through the callback path. Pushes still waiting
        for the customer, and Daraja errors, are left for the next run. Returns how many
        were settled."""
        now = self.clock()
        pushes = await self._in_transaction(
            lambda session: HotspotPurchaseRepository(session).unanswered(
                now - self.query_after, now - QUERY_WINDOW, QUERY_BATCH
            )
        )
        settled = 0
        for push in pushes:
            try:
                settled += await self._settle_one(push.tenant_id, push.checkout_request_id)
            except DarajaError as exc:
                self.counters["mpesa.stk.query_failed"] += 1
                log.warning("STK query for %s failed: %s", push.checkout_request_id, exc)
            except Exception:
                self.counters["mpesa.stk.query_failed"] += 1
                log.exception("settling STK push %s failed", push.checkout_request_id)
        return settled

    async def _settle_one(self, tenant_id: uuid.UUID, checkout: str) -> int:
        settings = await self._in_transaction(
            lambda session: gateway_settings(
                session,
                self.box,
                HotspotPurchaseRepository(session).gateway_for(tenant_id, GatewayPurpose.HOTSPOT),
            )
        )
        answer = await self.client_for(settings).stk_query(
            shortcode=settings.shortcode,
            passkey=settings.credentials.passkey,
            checkout_request_id=checkout,
        )
        if answer.state is StkState.PENDING:
            return 0
        code = _result_code(answer.result_code)
        now = self.clock()
        processed = await self._in_transaction(
            lambda session: settle_from_query(
                session,
                gateway_id=settings.gateway_id,
                checkout_request_id=checkout,
                result_code=code,
                result_desc=answer.result_desc or "",
                merchant_request_id=answer.merchant_request_id,
                now=now,
            )
        )
        if processed is None:
            return 0
        self.counters["mpesa.stk.settled_by_query"] += 1
        log.info("STK push %s settled by query: %s (%s)", checkout, code, processed.outcome)
        return 1

    async def confirm_callback(self, callback_id: int) -> bool:
        """Before a stored STK success is credited: when its tenant asks for confirmation
        (tenant config mpesa.confirm_with_query),
        ask STK Push Query. True = go on and process it. A query that says it failed keeps
        the callback for review (no credit). When Daraja cannot say (still processing, an
        outage) it is processed all the same: it already matched a push of ours, and money
        taken from a customer must not wait on Daraja's query endpoint."""
        target = await self._in_transaction(
            lambda session: _confirmation_target(session, self.box, callback_id)
        )
        if target is None:
            return True
        settings, checkout = target
        try:
            answer = await self.client_for(settings).stk_query(
                shortcode=settings.shortcode,
                passkey=settings.credentials.passkey,
                checkout_request_id=checkout,
            )
        except DarajaError as exc:
            self.counters["mpesa.stk.confirm_unavailable"] += 1
            log.warning("could not confirm STK callback %d (%s); crediting it", callback_id, exc)
            return True
        if answer.state is not StkState.FAILED:
            return True
        self.counters["mpesa.stk.confirm_refused"] += 1
        reason = f"STK Push Query says {answer.result_code}: {answer.result_desc}"
        now = self.clock()
        await self._in_transaction(
            lambda session: MpesaCallbackRepository(session).set_outcome(
                callback_id, MpesaCallbackOutcome.REVIEW, reason, None, now
            )
        )
        log.warning("STK callback %d kept for review: %s", callback_id, reason)
        return False

    async def in_transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in its own committed transaction on a worker thread."""
        return await self._in_transaction(work)

    async def _in_transaction(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self.sessions) as session:
                return work(session)

        return await asyncio.to_thread(run)


def _confirmation_target(
    session: Session, box: SecretBox, callback_id: int
) -> tuple[GatewaySettings, str] | None:
    """(gateway, CheckoutRequestID) when this callback is an STK success still to be
    processed whose gateway asks for confirmation; None otherwise."""
    callbacks = MpesaCallbackRepository(session)
    row = callbacks.get(callback_id)
    if (
        row is None
        or row.kind is not MpesaCallbackKind.STK
        or row.result_code != 0
        or row.outcome is not MpesaCallbackOutcome.PENDING
        or row.gateway_id is None
        or row.external_id is None
    ):
        return None
    repo = HotspotPurchaseRepository(session)
    if row.tenant_id is None:
        return None
    config = TenantConfig.model_validate(repo.tenant_config(row.tenant_id))
    if not config.mpesa.confirm_with_query:
        return None
    return gateway_settings(session, box, callbacks.gateway(row.gateway_id)), row.external_id


def _result_code(raw: str | None) -> int:
    """The query's ResultCode ("1032") as the callback's number; codes that are not numbers
    (SFC_IC0003) become -1, a failure all the same."""
    try:
        return int(raw or "")
    except ValueError:
        return -1
