"""The captive portal's routes, served by the site service's HTTP app.

MikroTik's hotspot login page (docs/captive-portal.md) sends the device to
  GET  /portal/{tenant}?mac=…&ip=…&login=<link-login-only>&dst=<link-orig>
  POST /portal/{tenant}/buy            package + phone → STK push → the waiting page
  GET  /portal/{tenant}/wait/{id}      polls the status endpoint, then logs in at the router
  GET  /portal/{tenant}/status/{id}    {"state", "message", "login"?} (small JSON)
  POST /portal/{tenant}/paid           "I have already paid": receipt (or phone) → login
The voucher form posts straight to the router's login URL.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import session_scope
from easyisp_core.errors import ValidationFailed
from easyisp_core.models.enums import HotspotPaymentStatus
from easyisp_core.rules.hotspot_login import HotspotLogin, ReceiptRefusal
from easyisp_core.services.mpesa_status import ask_for_device
from easyisp_core.services.stk_purchase import (
    PortalShop,
    PurchaseStatus,
    login_after_purchase,
    login_by_receipt,
    portal_shop,
    purchase_status,
)
from radius_service.http.portal.attempts import AttemptLimiter
from radius_service.http.portal.pages import (
    PortalContext,
    login_page,
    not_found_page,
    shop_page,
    wait_page,
)
from radius_service.http.portal.refusals import refusal
from radius_service.http.portal.texts import texts
from radius_service.mpesa.errors import DarajaError
from radius_service.mpesa.stk_flow import PushRequest, StkFlow

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_FORM_BYTES = 8 * 1024
# Daraja's "timed out" answers: the customer never answered the prompt.
TIMEOUT_CODES = frozenset({1037, 1019})
CANCELLED_CODE = 1032


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PortalEndpoints:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        box: SecretBox | Callable[[], SecretBox],
        flow: StkFlow,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.sessions = sessions
        self._box = box
        self.flow = flow
        self.clock = clock
        self.attempts = AttemptLimiter()

    @property
    def box(self) -> SecretBox:
        return self._box if isinstance(self._box, SecretBox) else self._box()

    def routes(self) -> list[Route]:
        return [
            Route("/portal/{tenant}", self.shop, methods=["GET"]),
            Route("/portal/{tenant}/buy", self.buy, methods=["POST"]),
            Route("/portal/{tenant}/wait/{pending}", self.wait, methods=["GET"]),
            Route("/portal/{tenant}/status/{pending}", self.status, methods=["GET"]),
            Route("/portal/{tenant}/paid", self.paid, methods=["POST"]),
        ]

    async def shop(self, request: Request) -> Response:
        ctx = PortalContext.of(request.path_params["tenant"], dict(request.query_params))
        found = await self._shop(ctx)
        if found is None:
            return HTMLResponse(not_found_page(ctx), status_code=404)
        return HTMLResponse(shop_page(ctx, found))

    async def buy(self, request: Request) -> Response:
        form = await _form(request)
        ctx = PortalContext.of(request.path_params["tenant"], form)
        found = await self._shop(ctx)
        if found is None:
            return HTMLResponse(not_found_page(ctx), status_code=404)
        t = texts(ctx.lang)
        package = _uuid(form.get("package"))
        if package is None:
            return HTMLResponse(shop_page(ctx, found, t["bad_package"]), status_code=400)
        try:
            started = await self.flow.start_push(
                PushRequest(
                    found.tenant_id, package, form.get("phone", ""), ctx.mac or None, ctx.ip or None
                )
            )
        except (ValidationFailed, DarajaError) as exc:
            key, status = refusal(exc)
            if isinstance(exc, DarajaError):
                log.warning("portal STK push for %s refused: %s", ctx.tenant, exc)
            return HTMLResponse(shop_page(ctx, found, t[key]), status_code=status)
        url = f"/portal/{ctx.tenant}/wait/{started.pending_id}?{ctx.query()}"
        return RedirectResponse(url, status_code=303)

    async def wait(self, request: Request) -> Response:
        ctx = PortalContext.of(request.path_params["tenant"], dict(request.query_params))
        found = await self._shop(ctx)
        pending = _uuid(request.path_params["pending"])
        if found is None or pending is None:
            return HTMLResponse(not_found_page(ctx), status_code=404)
        tenant_id = found.tenant_id
        state = await self._in_transaction(
            lambda session: purchase_status(session, tenant_id, pending)
        )
        if state is None:
            return HTMLResponse(not_found_page(ctx), status_code=404)
        status_url = f"/portal/{ctx.tenant}/status/{pending}?{urlencode({'lang': ctx.lang})}"
        message = _status_body(state, None, ctx.lang)["message"]
        return HTMLResponse(wait_page(ctx, found, status_url, message))

    async def status(self, request: Request) -> Response:
        ctx = PortalContext.of(request.path_params["tenant"], dict(request.query_params))
        found = await self._shop(ctx)
        pending = _uuid(request.path_params["pending"])
        if found is None or pending is None:
            return JSONResponse({"state": "unknown"}, status_code=404)
        tenant_id = found.tenant_id

        def read(session: Session) -> tuple[PurchaseStatus | None, HotspotLogin | None]:
            state = purchase_status(session, tenant_id, pending)
            login = None
            if state is not None and state.status is HotspotPaymentStatus.COMPLETED:
                login = login_after_purchase(session, self.box, tenant_id, pending)
            return state, login

        state, login = await self._in_transaction(read)
        if state is None:
            return JSONResponse({"state": "unknown"}, status_code=404)
        return JSONResponse(
            _status_body(state, login, ctx.lang), headers={"Cache-Control": "no-store"}
        )

    async def paid(self, request: Request) -> Response:
        form = await _form(request)
        ctx = PortalContext.of(request.path_params["tenant"], form)
        found = await self._shop(ctx)
        if found is None:
            return HTMLResponse(not_found_page(ctx), status_code=404)
        t = texts(ctx.lang)
        address = request.client.host if request.client else "-"
        if self.attempts.blocked(address, ctx.mac):
            return HTMLResponse(shop_page(ctx, found, t["too_many"]), status_code=429)
        tenant_id, receipt, now = found.tenant_id, form.get("receipt", ""), self.clock()
        outcome = await self._in_transaction(
            lambda session: login_by_receipt(session, tenant_id, receipt, ctx.mac or None, now)
        )
        if isinstance(outcome, ReceiptRefusal):
            unknown = outcome in (ReceiptRefusal.NOT_FOUND, ReceiptRefusal.NO_PHONE_PAYMENT)
            if unknown:
                # Still a guess: asking M-Pesa does not lift the limit on codes tried.
                self.attempts.failed(address, ctx.mac)
            if outcome is ReceiptRefusal.NOT_FOUND and await self._ask_mpesa(
                ctx, tenant_id, receipt
            ):
                return HTMLResponse(shop_page(ctx, found, t["checking"]), status_code=202)
            status = 404 if unknown else 403
            return HTMLResponse(shop_page(ctx, found, t[outcome.value]), status_code=status)
        return HTMLResponse(login_page(ctx, found, outcome, t["paid"]))

    async def _ask_mpesa(self, ctx: PortalContext, tenant_id: uuid.UUID, receipt: str) -> bool:
        """A receipt we do not hold, typed on a device bound to an account: M-Pesa may have
        taken the money while its confirmation never reached us. Ask (Transaction Status);
        the answer credits that account once. False when nothing could be asked."""
        question = await self._in_transaction(
            lambda session: ask_for_device(
                session, tenant_id=tenant_id, device_mac=ctx.mac or None, receipt=receipt
            )
        )
        return question is not None

    async def _shop(self, ctx: PortalContext) -> PortalShop | None:
        return await self._in_transaction(lambda session: portal_shop(session, ctx.tenant))

    async def _in_transaction(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self.sessions) as session:
                return work(session)

        return await asyncio.to_thread(run)


def _status_body(state: PurchaseStatus, login: HotspotLogin | None, lang: str) -> dict[str, Any]:
    t = texts(lang)
    if state.status is HotspotPaymentStatus.PENDING:
        return {"state": "waiting", "message": t["waiting"].format(amount=_kes(state.amount))}
    if state.status is HotspotPaymentStatus.COMPLETED:
        if login is None:
            return {"state": "paid", "message": t["paid_no_login"]}
        return {
            "state": "paid",
            "message": t["paid"],
            "login": {"username": login.username, "password": login.password},
        }
    if state.status is HotspotPaymentStatus.EXPIRED or state.result_code in TIMEOUT_CODES:
        return {"state": "timeout", "message": t["timeout"]}
    if state.result_code == CANCELLED_CODE:
        return {"state": "cancelled", "message": t["cancelled"]}
    reason = state.result_description or str(state.result_code)
    return {"state": "failed", "message": t["failed"].format(reason=reason)}


def _kes(amount: Decimal) -> str:
    return f"KES {amount:,.0f}"


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (the portal's only kind), limited in size."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            return {}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None
